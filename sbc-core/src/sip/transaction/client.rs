//! The client transactions: INVITE (RFC 3261 §17.1.1 with the Accepted
//! state of RFC 6026) and non-INVITE (§17.1.2). Each sends its request,
//! retransmits it over unreliable transports, hands responses to the TU and
//! ends on its timers; the INVITE one also ACKs non-2xx final responses.

use super::TransactionEvent;
use super::TransactionState;
use super::common::{Common, Ctx};
use super::requests::{build_ack, build_cancel};
use super::timer::Timer;
use crate::sip::message::Message;
use bytes::Bytes;
use std::time::Duration;

/// INVITE client states; Completed holds the ACK it resends.
#[derive(Debug)]
enum InviteState {
    Calling,
    Proceeding,
    Completed { ack: Option<Bytes> },
    Accepted,
    Terminated,
}

/// An INVITE client transaction.
#[derive(Debug)]
pub(crate) struct InviteClient {
    pub(crate) common: Common,
    state: InviteState,
    request: Message,
    printed: Bytes,
    interval_a: Duration,
    /// A CANCEL was sent (by the TU, or by the layer on Timer C).
    cancelled: bool,
}

impl InviteClient {
    /// Sends `request` and arms Timers A and B.
    pub(crate) fn start(mut common: Common, request: Message, ctx: &mut Ctx<'_>) -> InviteClient {
        let printed = request.to_bytes();
        common.send(printed.clone(), ctx);
        let interval_a = common.arm(Timer::A, ctx).unwrap_or_default();
        common.arm(Timer::B, ctx);
        InviteClient {
            common,
            state: InviteState::Calling,
            request,
            printed,
            interval_a,
            cancelled: false,
        }
    }

    pub(crate) fn state(&self) -> TransactionState {
        match self.state {
            InviteState::Calling => TransactionState::Calling,
            InviteState::Proceeding => TransactionState::Proceeding,
            InviteState::Completed { .. } => TransactionState::Completed,
            InviteState::Accepted => TransactionState::Accepted,
            InviteState::Terminated => TransactionState::Terminated,
        }
    }

    /// A response matched this transaction.
    pub(crate) fn on_response(&mut self, response: Message, ctx: &mut Ctx<'_>) {
        let id = self.common.id;
        let code = response.status().unwrap_or_default();
        match (&self.state, code) {
            (InviteState::Calling | InviteState::Proceeding, 100..=199) => {
                self.common.timers.stop(Timer::A);
                if !self.cancelled {
                    self.common.timers.stop(Timer::B);
                    self.common.arm(Timer::C, ctx);
                }
                self.enter(InviteState::Proceeding);
                ctx.event(TransactionEvent::Response { id, response });
            }
            (InviteState::Calling | InviteState::Proceeding, 200..=299) => {
                self.common.timers.clear();
                self.common.arm(Timer::M, ctx);
                self.enter(InviteState::Accepted);
                ctx.event(TransactionEvent::Response { id, response });
            }
            (InviteState::Calling | InviteState::Proceeding, _) => {
                let ack = match build_ack(&self.request, &response) {
                    Ok(ack) => Some(ack.to_bytes()),
                    Err(e) => {
                        tracing::warn!(%id, error = %e, "cannot build the ACK");
                        None
                    }
                };
                if let Some(ack) = &ack {
                    self.common.send(ack.clone(), ctx);
                }
                self.common.timers.clear();
                self.common.arm(Timer::D, ctx);
                self.enter(InviteState::Completed { ack });
                ctx.event(TransactionEvent::Response { id, response });
            }
            (InviteState::Completed { ack: Some(ack) }, 300..) => {
                self.common.resend(ack.clone(), ctx);
            }
            (InviteState::Accepted, 200..=299) => {
                ctx.event(TransactionEvent::Response { id, response });
            }
            _ => tracing::trace!(%id, code, "response absorbed"),
        }
    }

    /// A timer of this transaction fired. Returns a CANCEL for the layer to
    /// send when Timer C gave up on a transaction stuck in Proceeding.
    pub(crate) fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<'_>) -> Option<Message> {
        match (&self.state, timer) {
            (InviteState::Calling, Timer::A) => {
                self.common.resend(self.printed.clone(), ctx);
                self.interval_a = Timer::A.backoff(self.interval_a, ctx.config);
                self.common.arm_in(Timer::A, self.interval_a, ctx);
            }
            (InviteState::Calling | InviteState::Proceeding, Timer::B) => {
                ctx.event(TransactionEvent::Timeout { id: self.common.id });
                self.terminate();
            }
            (InviteState::Proceeding, Timer::C) => {
                tracing::debug!(id = %self.common.id, "Timer C: cancelling the INVITE");
                self.on_cancel_sent(ctx);
                return build_cancel(&self.request).ok();
            }
            (InviteState::Completed { .. }, Timer::D) | (InviteState::Accepted, Timer::M) => {
                self.terminate();
            }
            _ => {}
        }
        None
    }

    /// A CANCEL for this INVITE went out: Timer C no longer applies, and
    /// the transaction waits at most 64·T1 more for a final response
    /// (RFC 3261 §9.1), which is Timer B's duration.
    pub(crate) fn on_cancel_sent(&mut self, ctx: &mut Ctx<'_>) {
        if self.cancelled {
            return;
        }
        self.cancelled = true;
        self.common.timers.stop(Timer::C);
        if matches!(self.state, InviteState::Proceeding) {
            self.common.arm(Timer::B, ctx);
        }
    }

    /// The runtime could not send to the peer.
    pub(crate) fn on_transport_error(&mut self, ctx: &mut Ctx<'_>) {
        if !matches!(self.state, InviteState::Terminated) {
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
        tracing::debug!(id = %self.common.id, ?from, to = ?self.state(), "INVITE client");
    }
}

/// Non-INVITE client states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NonInviteState {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// A non-INVITE client transaction.
#[derive(Debug)]
pub(crate) struct NonInviteClient {
    pub(crate) common: Common,
    state: NonInviteState,
    printed: Bytes,
    interval_e: Duration,
}

impl NonInviteClient {
    /// Sends `request` and arms Timers E and F.
    pub(crate) fn start(
        mut common: Common,
        request: &Message,
        ctx: &mut Ctx<'_>,
    ) -> NonInviteClient {
        let printed = request.to_bytes();
        common.send(printed.clone(), ctx);
        let interval_e = common.arm(Timer::E, ctx).unwrap_or_default();
        common.arm(Timer::F, ctx);
        NonInviteClient {
            common,
            state: NonInviteState::Trying,
            printed,
            interval_e,
        }
    }

    pub(crate) fn state(&self) -> TransactionState {
        match self.state {
            NonInviteState::Trying => TransactionState::Trying,
            NonInviteState::Proceeding => TransactionState::Proceeding,
            NonInviteState::Completed => TransactionState::Completed,
            NonInviteState::Terminated => TransactionState::Terminated,
        }
    }

    /// A response matched this transaction.
    pub(crate) fn on_response(&mut self, response: Message, ctx: &mut Ctx<'_>) {
        let id = self.common.id;
        let code = response.status().unwrap_or_default();
        match (self.state, code) {
            (NonInviteState::Trying | NonInviteState::Proceeding, 100..=199) => {
                self.enter(NonInviteState::Proceeding);
                ctx.event(TransactionEvent::Response { id, response });
            }
            (NonInviteState::Trying | NonInviteState::Proceeding, _) => {
                self.common.timers.clear();
                self.common.arm(Timer::K, ctx);
                self.enter(NonInviteState::Completed);
                ctx.event(TransactionEvent::Response { id, response });
            }
            _ => tracing::trace!(%id, code, "response absorbed"),
        }
    }

    /// A timer of this transaction fired.
    pub(crate) fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<'_>) {
        match (self.state, timer) {
            (NonInviteState::Trying | NonInviteState::Proceeding, Timer::E) => {
                self.common.resend(self.printed.clone(), ctx);
                self.interval_e = if self.state == NonInviteState::Trying {
                    Timer::E.backoff(self.interval_e, ctx.config)
                } else {
                    Timer::E.backoff(ctx.config.t2, ctx.config)
                };
                self.common.arm_in(Timer::E, self.interval_e, ctx);
            }
            (NonInviteState::Trying | NonInviteState::Proceeding, Timer::F) => {
                ctx.event(TransactionEvent::Timeout { id: self.common.id });
                self.terminate();
            }
            (NonInviteState::Completed, Timer::K) => self.terminate(),
            _ => {}
        }
    }

    /// The runtime could not send to the peer.
    pub(crate) fn on_transport_error(&mut self, ctx: &mut Ctx<'_>) {
        if self.state != NonInviteState::Terminated {
            ctx.event(TransactionEvent::TransportError { id: self.common.id });
            self.terminate();
        }
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.state == NonInviteState::Terminated
    }

    fn terminate(&mut self) {
        self.common.timers.clear();
        self.enter(NonInviteState::Terminated);
    }

    fn enter(&mut self, state: NonInviteState) {
        let from = self.state();
        self.state = state;
        tracing::debug!(id = %self.common.id, ?from, to = ?self.state(), "non-INVITE client");
    }
}
