//! The server transactions: INVITE (RFC 3261 §17.2.1 with the Accepted
//! state of RFC 6026) and non-INVITE (§17.2.2). Each absorbs retransmitted
//! requests by resending its last response, sends what the TU answers to
//! the peer the request came from, and ends on its timers. The INVITE one
//! answers 100 Trying at once, retransmits its final response over
//! unreliable transports until the ACK arrives (a 2xx too, on the TU's
//! behalf, RFC 3261 §13.3.1.4) and reports a CANCEL to the TU.

use super::TransactionEvent;
use super::TransactionState;
use super::common::{Common, Ctx};
use super::error::Error;
use super::timer::Timer;
use crate::sip::headers::HeaderAccess;
use crate::sip::message::Message;
use crate::sip::response::response_to;
use bytes::Bytes;
use std::time::Duration;

/// INVITE server states, each holding the response it resends.
#[derive(Debug)]
enum InviteState {
    Proceeding { provisional: Bytes },
    Completed { response: Bytes },
    Confirmed,
    Accepted { response: Bytes, acked: bool },
    Terminated,
}

/// The status code of a response the TU hands in, checked.
fn status(response: &Message) -> Result<u16, Error> {
    match response.status() {
        None => Err(Error::NotAResponse),
        Some(code @ 100..=699) => Ok(code),
        Some(code) => Err(Error::StatusCode(code)),
    }
}

/// An INVITE server transaction.
#[derive(Debug)]
pub(crate) struct InviteServer {
    pub(crate) common: Common,
    state: InviteState,
    interval_g: Duration,
    /// The To tag of the last response sent with one, for the 200 to a
    /// CANCEL (RFC 3261 §9.2).
    to_tag: Option<Bytes>,
    cancelled: bool,
}

impl InviteServer {
    /// Answers `request` with 100 Trying and enters Proceeding.
    pub(crate) fn start(common: Common, request: &Message, ctx: &mut Ctx<'_>) -> InviteServer {
        let provisional = response_to(request, 100, "Trying", None).to_bytes();
        common.send(provisional.clone(), ctx);
        InviteServer {
            common,
            state: InviteState::Proceeding { provisional },
            interval_g: Duration::ZERO,
            to_tag: None,
            cancelled: false,
        }
    }

    pub(crate) fn state(&self) -> TransactionState {
        match self.state {
            InviteState::Proceeding { .. } => TransactionState::Proceeding,
            InviteState::Completed { .. } => TransactionState::Completed,
            InviteState::Confirmed => TransactionState::Confirmed,
            InviteState::Accepted { .. } => TransactionState::Accepted,
            InviteState::Terminated => TransactionState::Terminated,
        }
    }

    /// The To tag of the responses sent so far, if any carried one.
    pub(crate) fn to_tag(&self) -> Option<&Bytes> {
        self.to_tag.as_ref()
    }

    /// The INVITE came again: resend the last response.
    pub(crate) fn on_retransmission(&mut self, ctx: &mut Ctx<'_>) {
        match &self.state {
            InviteState::Proceeding { provisional: r }
            | InviteState::Completed { response: r }
            | InviteState::Accepted { response: r, .. } => self.common.resend(r.clone(), ctx),
            InviteState::Confirmed | InviteState::Terminated => {}
        }
    }

    /// An ACK matched this transaction. Returns true when it acknowledges a
    /// 2xx, which the TU must see.
    pub(crate) fn on_ack(&mut self, ctx: &mut Ctx<'_>) -> bool {
        match &mut self.state {
            InviteState::Completed { .. } => {
                self.common.timers.stop(Timer::G);
                self.common.timers.stop(Timer::H);
                self.common.arm(Timer::I, ctx);
                self.enter(InviteState::Confirmed);
                false
            }
            InviteState::Accepted { acked, .. } => {
                *acked = true;
                self.common.timers.stop(Timer::G);
                true
            }
            _ => false,
        }
    }

    /// A CANCEL matched this transaction; the layer answers the CANCEL.
    pub(crate) fn on_cancel(&mut self, cancel: Message, ctx: &mut Ctx<'_>) {
        if matches!(self.state, InviteState::Proceeding { .. }) && !self.cancelled {
            self.cancelled = true;
            ctx.event(TransactionEvent::Cancelled {
                id: self.common.id,
                cancel,
            });
        }
    }

    /// The TU answers the INVITE.
    pub(crate) fn send_response(
        &mut self,
        response: Message,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        let code = status(&response)?;
        let wrong_state = Error::WrongState {
            id: self.common.id,
            state: self.state(),
            code,
        };
        let tag = response
            .header_to()
            .ok()
            .and_then(|to| to.tag().map(Bytes::copy_from_slice));
        let printed = response.to_bytes();
        match (&mut self.state, code) {
            (InviteState::Proceeding { provisional }, 100..=199) => {
                *provisional = printed.clone();
            }
            (InviteState::Proceeding { .. }, 200..=299) => {
                self.start_retransmitting(ctx);
                self.common.arm(Timer::L, ctx);
                self.enter(InviteState::Accepted {
                    response: printed.clone(),
                    acked: false,
                });
            }
            (InviteState::Proceeding { .. }, _) => {
                self.start_retransmitting(ctx);
                self.common.arm(Timer::H, ctx);
                self.enter(InviteState::Completed {
                    response: printed.clone(),
                });
            }
            (InviteState::Accepted { response, .. }, 200..=299) => {
                *response = printed.clone();
            }
            _ => return Err(wrong_state),
        }
        if tag.is_some() {
            self.to_tag = tag;
        }
        self.common.send(printed, ctx);
        Ok(())
    }

    fn start_retransmitting(&mut self, ctx: &mut Ctx<'_>) {
        self.interval_g = self.common.arm(Timer::G, ctx).unwrap_or_default();
    }

    /// A timer of this transaction fired.
    pub(crate) fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<'_>) {
        match (&self.state, timer) {
            (InviteState::Completed { response }, Timer::G)
            | (
                InviteState::Accepted {
                    response,
                    acked: false,
                },
                Timer::G,
            ) => {
                self.common.resend(response.clone(), ctx);
                self.interval_g = Timer::G.backoff(self.interval_g, ctx.config);
                self.common.arm_in(Timer::G, self.interval_g, ctx);
            }
            (InviteState::Completed { .. }, Timer::H)
            | (InviteState::Accepted { acked: false, .. }, Timer::L) => {
                ctx.event(TransactionEvent::Timeout { id: self.common.id });
                self.terminate();
            }
            (InviteState::Confirmed, Timer::I) | (InviteState::Accepted { .. }, Timer::L) => {
                self.terminate();
            }
            _ => {}
        }
    }

    /// The runtime could not send to the peer.
    pub(crate) fn on_transport_error(&mut self, ctx: &mut Ctx<'_>) {
        if !self.is_terminated() {
            ctx.event(TransactionEvent::TransportError { id: self.common.id });
            self.terminate();
        }
    }

    pub(crate) fn is_terminated(&self) -> bool {
        matches!(self.state, InviteState::Terminated)
    }

    fn terminate(&mut self) {
        self.common.timers.clear();
        self.enter(InviteState::Terminated);
    }

    fn enter(&mut self, state: InviteState) {
        let from = self.state();
        self.state = state;
        tracing::debug!(id = %self.common.id, ?from, to = ?self.state(), "INVITE server");
    }
}

/// Non-INVITE server states, each holding the response it resends.
#[derive(Debug)]
enum NonInviteState {
    Trying,
    Proceeding { provisional: Bytes },
    Completed { response: Bytes },
    Terminated,
}

/// A non-INVITE server transaction.
#[derive(Debug)]
pub(crate) struct NonInviteServer {
    pub(crate) common: Common,
    state: NonInviteState,
}

impl NonInviteServer {
    /// Enters Trying; nothing is sent until the TU answers.
    pub(crate) fn start(common: Common) -> NonInviteServer {
        NonInviteServer {
            common,
            state: NonInviteState::Trying,
        }
    }

    pub(crate) fn state(&self) -> TransactionState {
        match self.state {
            NonInviteState::Trying => TransactionState::Trying,
            NonInviteState::Proceeding { .. } => TransactionState::Proceeding,
            NonInviteState::Completed { .. } => TransactionState::Completed,
            NonInviteState::Terminated => TransactionState::Terminated,
        }
    }

    /// The request came again: resend the last response, if any.
    pub(crate) fn on_retransmission(&mut self, ctx: &mut Ctx<'_>) {
        match &self.state {
            NonInviteState::Proceeding { provisional: r }
            | NonInviteState::Completed { response: r } => {
                self.common.resend(r.clone(), ctx);
            }
            NonInviteState::Trying | NonInviteState::Terminated => {}
        }
    }

    /// The TU answers the request.
    pub(crate) fn send_response(
        &mut self,
        response: Message,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Error> {
        let code = status(&response)?;
        let printed = response.to_bytes();
        match (&self.state, code) {
            (NonInviteState::Trying | NonInviteState::Proceeding { .. }, 100..=199) => {
                self.enter(NonInviteState::Proceeding {
                    provisional: printed.clone(),
                });
            }
            (NonInviteState::Trying | NonInviteState::Proceeding { .. }, _) => {
                self.common.arm(Timer::J, ctx);
                self.enter(NonInviteState::Completed {
                    response: printed.clone(),
                });
            }
            _ => {
                return Err(Error::WrongState {
                    id: self.common.id,
                    state: self.state(),
                    code,
                });
            }
        }
        self.common.send(printed, ctx);
        Ok(())
    }

    /// A timer of this transaction fired.
    pub(crate) fn on_timer(&mut self, timer: Timer) {
        if let (NonInviteState::Completed { .. }, Timer::J) = (&self.state, timer) {
            self.terminate();
        }
    }

    /// The runtime could not send to the peer.
    pub(crate) fn on_transport_error(&mut self, ctx: &mut Ctx<'_>) {
        if !self.is_terminated() {
            ctx.event(TransactionEvent::TransportError { id: self.common.id });
            self.terminate();
        }
    }

    pub(crate) fn is_terminated(&self) -> bool {
        matches!(self.state, NonInviteState::Terminated)
    }

    fn terminate(&mut self) {
        self.common.timers.clear();
        self.enter(NonInviteState::Terminated);
    }

    fn enter(&mut self, state: NonInviteState) {
        let from = self.state();
        self.state = state;
        tracing::debug!(id = %self.common.id, ?from, to = ?self.state(), "non-INVITE server");
    }
}
