//! The SIP leg of a call: the gateway as UAC toward the PBX for a call the
//! browser places ([`SipLeg::start`]), or as UAS for a call the PBX places
//! to a registered browser ([`SipLeg::incoming`], in `sip_leg/incoming.rs`). Driven
//! with a [`TransactionLayer`] and `now`; once answered both directions
//! behave alike.
//!
//! ```text
//! start ──INVITE──▶ Calling ──1xx──▶ Proceeding ──2xx──▶ Confirmed ──BYE──▶ Terminating ──▶ Ended
//!                     │ hangup before a 1xx: CANCEL waits for one  │ BYE from the PBX ──────────▶ Ended
//!                     └ 401/407: the same INVITE with credentials  └ re-INVITE: answered, `Updated`
//!            hangup in Calling/Proceeding ──CANCEL──▶ Cancelling ──487──▶ Ended
//! ```
//!
//! The leg builds every request itself (its own Call-ID, tags, Via and
//! Contact), answers the PBX's in-dialog requests (BYE, re-INVITE, UPDATE,
//! INFO, OPTIONS), ACKs every 2xx (retransmissions too) and reports what
//! the signaling layer needs as [`LegEvent`]s. The transactions it starts
//! are handed out by [`SipLeg::take_transactions`] so the driver can
//! route their events back; in-dialog requests are routed by Call-ID.
//!
//! Beside this file: `interface.rs` (the configuration, events and
//! errors), `incoming.rs` (the UAS half), `reinvite.rs` (hold, refreshes
//! and the PBX's re-offers), `session_timer.rs` (RFC 4028) and
//! `message_parts.rs` (reading bodies and reason phrases).

use crate::sdp::Direction;
use crate::sip::dialog::Dialog;
use crate::sip::digest::DigestClient;
use crate::sip::headers::HeaderAccess;
use crate::sip::request::{RequestBuilder, cancel_for, next_attempt};
use crate::sip::response::{reason_phrase, response_to};
use crate::sip::transaction::{TransactionId, TransactionLayer};
use crate::sip::{HeaderName, Message, Method};
use bytes::Bytes;
use rand::RngCore;
use session_timer::{Refresher, SessionTimer, session_expires};
use std::collections::VecDeque;
use std::time::Instant;

/// Challenges answered per call before the call fails.
const MAX_CHALLENGES: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// INVITE sent, no provisional response yet; `cancel` once the browser
    /// hung up (a CANCEL waits for a provisional, RFC 3261 §9.1).
    Calling { cancel: bool },
    /// A provisional response arrived.
    Proceeding,
    /// CANCEL sent; the INVITE's final response is awaited.
    Cancelling,
    /// The 2xx was ACKed.
    Confirmed,
    /// BYE sent.
    Terminating,
    /// An INVITE from the PBX waits for the browser (provisional
    /// responses may have gone out); `answered` once the 2xx is sent and
    /// its ACK is awaited (`bye` when the browser hung up meanwhile).
    Offered { answered: bool, bye: bool },
    /// Over.
    Ended,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Calling { .. } => "calling",
            State::Proceeding => "ringing",
            State::Cancelling => "being cancelled",
            State::Confirmed => "answered",
            State::Terminating => "ending",
            State::Offered { .. } => "offered",
            State::Ended => "over",
        }
    }
}

/// The SIP leg of one browser-placed call; see the module docs.
#[derive(Debug)]
pub struct SipLeg {
    config: LegConfig,
    state: State,
    invite: Message,
    invite_tx: TransactionId,
    /// The description the gateway offered (answers to re-offers start
    /// from it).
    local_sdp: Bytes,
    local_version: u64,
    local_direction: Direction,
    early_answer: bool,
    dialog: Option<Dialog>,
    ack: Option<Message>,
    /// The gateway's re-INVITE in progress and the hold state it asks for.
    reinvite: Option<(TransactionId, Reinvite)>,
    /// The ACK of the last re-INVITE's 2xx, for its retransmissions.
    reinvite_ack: Option<Message>,
    /// The session timer, when one was negotiated.
    timer: Option<SessionTimer>,
    /// Whether the gateway is the dialog's UAC (a call it placed).
    uac: bool,
    /// How the call ends once the gateway's BYE is answered.
    bye_cause: EndCause,
    /// The gateway's REFER, until it is answered.
    refer_tx: Option<TransactionId>,
    auth: Option<DigestClient>,
    challenges: u8,
    new_transactions: Vec<TransactionId>,
    events: VecDeque<LegEvent>,
}

impl SipLeg {
    /// Sends the INVITE carrying `sdp` (the PBX offer).
    pub fn start(
        now: Instant,
        config: LegConfig,
        sdp: Bytes,
        layer: &mut TransactionLayer,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<Self, LegError> {
        let mut builder = RequestBuilder::new(
            Method::Invite,
            config.request_uri.clone(),
            config.from.clone(),
            format!("<{}>", config.request_uri),
            config.via.clone(),
        )
        .contact(config.contact.clone())
        .user_agent(config.user_agent.clone())
        .supported("replaces, timer")
        .header(
            HeaderName::SessionExpires,
            session_timer::REQUESTED_INTERVAL.to_string(),
        )
        .header(HeaderName::MinSe, session_timer::MIN_INTERVAL.to_string())
        .header(HeaderName::Allow, Method::ALLOWED);
        for (name, value) in &config.extra_headers {
            builder = builder.header_raw(name.clone(), value.clone());
        }
        let invite = builder
            .body("application/sdp", sdp.clone())
            .build(rng)
            .map_err(|e| LegError::Invite(e.to_string()))?
            .into_message();
        let invite_tx = layer
            .send_request(now, invite.clone(), config.next_hop)
            .map_err(|e| LegError::Invite(e.to_string()))?;
        Ok(SipLeg {
            config,
            state: State::Calling { cancel: false },
            invite,
            invite_tx,
            local_version: sdp_version(&sdp).unwrap_or(1),
            local_sdp: sdp,
            local_direction: Direction::SendRecv,
            early_answer: false,
            dialog: None,
            ack: None,
            reinvite: None,
            reinvite_ack: None,
            timer: None,
            uac: true,
            bye_cause: EndCause::LocalHangup,
            refer_tx: None,
            auth: None,
            challenges: 0,
            new_transactions: vec![invite_tx],
            events: VecDeque::new(),
        })
    }

    /// The Call-ID of the leg's dialog (in-dialog requests are routed by it).
    pub fn call_id(&self) -> &[u8] {
        self.invite.call_id().unwrap_or_default()
    }

    /// The INVITE's transaction (client for a placed call, server for a
    /// call from the PBX).
    pub fn invite_transaction(&self) -> TransactionId {
        self.invite_tx
    }

    /// Whether the leg is over.
    pub fn is_ended(&self) -> bool {
        self.state == State::Ended
    }

    /// Whether the call was answered and not yet ended.
    pub fn is_confirmed(&self) -> bool {
        self.state == State::Confirmed
    }

    /// The transactions started since the last call, for the driver's map
    /// from transaction to call.
    pub fn take_transactions(&mut self) -> Vec<TransactionId> {
        std::mem::take(&mut self.new_transactions)
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<LegEvent> {
        self.events.pop_front()
    }

    /// Ends the call from the gateway's side, whatever its state: CANCEL
    /// before an answer (deferred until a provisional response arrived),
    /// BYE after. Nothing happens once it is ending or over.
    pub fn hangup(&mut self, now: Instant, layer: &mut TransactionLayer, rng: &mut dyn RngCore) {
        match self.state {
            State::Calling { .. } => self.state = State::Calling { cancel: true },
            State::Proceeding => self.send_cancel(now, layer),
            State::Confirmed => self.send_bye(now, layer, rng),
            State::Offered {
                answered: false, ..
            } => self.reject(now, 486, layer),
            State::Offered {
                answered: true,
                bye: _,
            } => {
                // RFC 3261 §15: the callee's BYE waits for the ACK.
                self.state = State::Offered {
                    answered: true,
                    bye: true,
                };
            }
            State::Cancelling | State::Terminating | State::Ended => {}
        }
    }

    /// Asks the PBX to transfer the call to `target` (a blind transfer: a
    /// REFER with `Refer-To: <target>`). [`LegEvent::TransferAccepted`] or
    /// [`LegEvent::TransferFailed`] answer it; NOTIFYs report progress.
    pub fn transfer(
        &mut self,
        now: Instant,
        target: &str,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) -> Result<(), LegError> {
        if self.state != State::Confirmed {
            return Err(LegError::State(self.state.name()));
        }
        let dialog = self.dialog.as_mut().ok_or(LegError::State("unanswered"))?;
        let mut refer = dialog
            .request(Method::Refer, rng)
            .map_err(|e| LegError::Send(format!("REFER: {e}")))?;
        refer
            .headers
            .push(HeaderName::ReferTo, format!("<{target}>"));
        let id = layer
            .send_request(now, refer, self.config.next_hop)
            .map_err(|e| LegError::Send(format!("REFER: {e}")))?;
        self.refer_tx = Some(id);
        self.new_transactions.push(id);
        Ok(())
    }

    /// Sends `digit` as SIP INFO (`application/dtmf-relay`), for a PBX that
    /// offered no telephone-event.
    pub fn send_dtmf_info(
        &mut self,
        now: Instant,
        digit: char,
        duration_ms: u32,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) -> Result<(), LegError> {
        if self.state != State::Confirmed {
            return Err(LegError::State(self.state.name()));
        }
        let dialog = self.dialog.as_mut().ok_or(LegError::State("unanswered"))?;
        let mut info = dialog
            .request(Method::Info, rng)
            .map_err(|e| LegError::Send(format!("INFO: {e}")))?;
        info.set_body(
            Some("application/dtmf-relay"),
            format!("Signal={digit}\r\nDuration={duration_ms}\r\n"),
        );
        let id = layer
            .send_request(now, info, self.config.next_hop)
            .map_err(|e| LegError::Send(format!("INFO: {e}")))?;
        self.new_transactions.push(id);
        Ok(())
    }

    /// A response on one of the leg's client transactions.
    pub fn on_response(
        &mut self,
        now: Instant,
        tx: TransactionId,
        response: &Message,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) {
        let (Some(status), Ok(cseq)) = (response.status(), response.cseq()) else {
            return;
        };
        match cseq.method {
            Method::Invite if tx == self.invite_tx => {
                self.on_invite_response(now, status, response, layer, rng);
            }
            Method::Invite if self.reinvite.is_some_and(|(id, _)| id == tx) => {
                self.on_reinvite_response(now, status, response, layer, rng);
            }
            // A re-INVITE's 2xx again (its transaction is in Accepted).
            Method::Invite => self.on_stray_response(response, layer),
            Method::Bye if status >= 200 => self.end(self.bye_cause.clone()),
            Method::Refer if Some(tx) == self.refer_tx && status >= 200 => {
                self.refer_tx = None;
                self.events.push_back(if status < 300 {
                    LegEvent::TransferAccepted
                } else {
                    LegEvent::TransferFailed { status }
                });
            }
            _ => {}
        }
    }

    /// A 2xx that matched no transaction (a retransmission after the
    /// INVITE transaction ended): ACKed again.
    pub fn on_stray_response(&mut self, response: &Message, layer: &mut TransactionLayer) {
        let is_invite_2xx = response.status().is_some_and(|s| (200..300).contains(&s))
            && response.cseq().is_ok_and(|c| c.method == Method::Invite);
        if !is_invite_2xx {
            return;
        }
        let seq = response.cseq().map(|c| c.seq).ok();
        let ack_seq = |ack: &Message| ack.cseq().map(|c| c.seq).ok();
        let ack = [&self.ack, &self.reinvite_ack]
            .into_iter()
            .flatten()
            .find(|ack| ack_seq(ack) == seq);
        if let Some(ack) = ack {
            layer.send_stateless(self.config.next_hop, ack);
        }
    }

    /// A transaction of the leg timed out.
    pub fn on_timeout(&mut self, now: Instant, tx: TransactionId, layer: &mut TransactionLayer) {
        self.on_failure(now, tx, EndCause::Timeout, layer);
    }

    /// A transaction of the leg could not reach the PBX.
    pub fn on_transport_error(
        &mut self,
        now: Instant,
        tx: TransactionId,
        layer: &mut TransactionLayer,
    ) {
        self.on_failure(now, tx, EndCause::Unreachable, layer);
    }

    /// A request from the PBX in the leg's dialog (matched by Call-ID),
    /// on server transaction `tx`.
    pub fn on_request(
        &mut self,
        now: Instant,
        tx: TransactionId,
        request: &Message,
        layer: &mut TransactionLayer,
    ) {
        let Some(method) = request.method().cloned() else {
            return;
        };
        let in_dialog = match self.dialog.as_mut() {
            Some(d) => d.handle_request(request).map_err(|e| e.status()),
            None => Err(481),
        };
        if let Err(code) = in_dialog {
            self.respond(now, tx, request, code, None, layer);
            return;
        }
        match method {
            Method::Bye => {
                self.respond(now, tx, request, 200, None, layer);
                self.end(EndCause::RemoteHangup);
            }
            Method::Invite | Method::Update => self.on_reoffer(now, tx, request, layer),
            Method::Info => {
                let code = match dtmf_of_info(request) {
                    Some((digit, duration_ms)) => {
                        self.events
                            .push_back(LegEvent::DtmfInfo { digit, duration_ms });
                        200
                    }
                    None if request.body.is_empty() => 200,
                    None => 415,
                };
                self.respond(now, tx, request, code, None, layer);
            }
            Method::Notify => {
                // The progress of a transfer we asked for (RFC 3515 §2.4.5):
                // the status line of a message/sipfrag body.
                let refer = request
                    .headers
                    .get(HeaderName::Event)
                    .is_some_and(|e| e.starts_with(b"refer"));
                if let (true, Some(status)) = (refer, sipfrag_status(&request.body)) {
                    self.events.push_back(LegEvent::TransferProgress { status });
                }
                self.respond(now, tx, request, 200, None, layer);
            }
            Method::Options => self.respond(now, tx, request, 200, None, layer),
            _ => self.respond(now, tx, request, 405, None, layer),
        }
    }

    fn on_invite_response(
        &mut self,
        now: Instant,
        status: u16,
        response: &Message,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) {
        match status {
            100 => {}
            101..=199 => self.on_provisional(now, status, response, layer),
            200..=299 => self.on_2xx(now, response, layer, rng),
            401 | 407
                if matches!(
                    self.state,
                    State::Calling { cancel: false } | State::Proceeding
                ) =>
            {
                if let Err(cause) = self.answer_challenge(now, response, layer, rng) {
                    self.end(cause);
                }
            }
            _ if self.state == State::Cancelling || status == 487 => {
                self.end(EndCause::LocalHangup);
            }
            _ => self.end(EndCause::Rejected {
                status,
                reason: reason_of(response),
            }),
        }
    }

    fn on_provisional(
        &mut self,
        now: Instant,
        status: u16,
        response: &Message,
        layer: &mut TransactionLayer,
    ) {
        match self.state {
            State::Calling { cancel: true } => self.send_cancel(now, layer),
            State::Calling { cancel: false } | State::Proceeding => {
                self.state = State::Proceeding;
                let sdp = sdp_body(response);
                if sdp.is_some() {
                    self.early_answer = true;
                }
                self.events.push_back(LegEvent::Progress { status, sdp });
            }
            _ => {}
        }
    }

    fn on_2xx(
        &mut self,
        now: Instant,
        response: &Message,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) {
        if let Some(ack) = &self.ack {
            // A retransmitted 2xx (or a fork's): ACK it again.
            layer.send_stateless(self.config.next_hop, ack);
            return;
        }
        let dialog = Dialog::from_uac_response(&self.invite, response);
        let acked = dialog.and_then(|d| d.ack_for_2xx(response, rng).map(|ack| (d, ack)));
        let (dialog, ack) = match acked {
            Ok(found) => found,
            Err(e) => return self.end(EndCause::Protocol(format!("unusable 2xx: {e}"))),
        };
        layer.send_stateless(self.config.next_hop, &ack);
        self.ack = Some(ack);
        self.dialog = Some(dialog);
        let cancelled = matches!(
            self.state,
            State::Cancelling | State::Calling { cancel: true }
        );
        self.state = State::Confirmed;
        if cancelled {
            // The answer crossed the CANCEL: the call ends with a BYE.
            self.send_bye(now, layer, rng);
            return;
        }
        // RFC 4028: a 2xx without Session-Expires means no session timer;
        // without a refresher parameter, the UAC (the gateway) refreshes.
        self.timer = session_expires(response).map(|(interval, uac_refreshes)| {
            let refresher = match uac_refreshes {
                Some(false) => Refresher::Them,
                _ => Refresher::Us,
            };
            SessionTimer::new(now, interval, refresher)
        });
        let sdp = sdp_body(response).filter(|_| !self.early_answer);
        let sdp = match sdp {
            Some(sdp) => Some(sdp),
            None if self.early_answer => None,
            None => {
                self.bye_cause = EndCause::Protocol("2xx without SDP".into());
                self.send_bye(now, layer, rng);
                return;
            }
        };
        self.events.push_back(LegEvent::Answered { sdp });
    }

    fn answer_challenge(
        &mut self,
        now: Instant,
        response: &Message,
        layer: &mut TransactionLayer,
        rng: &mut dyn RngCore,
    ) -> Result<(), EndCause> {
        let rejected = || EndCause::Rejected {
            status: response.status().unwrap_or(401),
            reason: reason_of(response),
        };
        let Some((user, password)) = self.config.credentials.clone() else {
            return Err(rejected());
        };
        if self.challenges >= MAX_CHALLENGES {
            return Err(rejected());
        }
        self.challenges += 1;
        let client = self
            .auth
            .get_or_insert_with(|| DigestClient::new(user, password));
        let credentials = client
            .respond_to(response, "INVITE", &self.config.request_uri, rng)
            .map_err(|_| rejected())?;
        let mut next = next_attempt(&self.invite, rng).map_err(|_| rejected())?;
        for header in credentials {
            next.headers.push(header.name, header.value);
        }
        let tx = layer
            .send_request(now, next.clone(), self.config.next_hop)
            .map_err(|_| EndCause::Unreachable)?;
        self.invite = next;
        self.invite_tx = tx;
        self.new_transactions.push(tx);
        Ok(())
    }

    fn on_failure(
        &mut self,
        now: Instant,
        tx: TransactionId,
        cause: EndCause,
        layer: &mut TransactionLayer,
    ) {
        if let Some((id, why)) = self.reinvite
            && id == tx
        {
            self.reinvite_failed(now, why, 408);
            return;
        }
        if self.refer_tx == Some(tx) {
            self.refer_tx = None;
            self.events
                .push_back(LegEvent::TransferFailed { status: 408 });
            return;
        }
        match self.state {
            State::Ended => {}
            // A lost in-dialog request other than BYE (an INFO, say) does
            // not end a call that still has media.
            State::Confirmed if tx != self.invite_tx => {}
            State::Terminating => self.end(self.bye_cause.clone()),
            State::Cancelling => self.end(EndCause::LocalHangup),
            _ => {
                let _ = (now, layer);
                self.end(cause);
            }
        }
    }

    fn respond(
        &mut self,
        now: Instant,
        tx: TransactionId,
        request: &Message,
        code: u16,
        sdp: Option<Bytes>,
        layer: &mut TransactionLayer,
    ) {
        let local_tag = self
            .dialog
            .as_ref()
            .map(|d| String::from_utf8_lossy(d.id().local_tag.as_bytes()).into_owned());
        let mut response = response_to(request, code, reason_phrase(code), local_tag.as_deref());
        let refreshes = matches!(request.method(), Some(Method::Invite | Method::Update));
        if code == 200 && request.method() == Some(&Method::Invite) {
            response
                .headers
                .push(HeaderName::Contact, self.config.contact.clone());
        }
        if let (200, true, Some(t)) = (code, refreshes, &self.timer) {
            response
                .headers
                .push(HeaderName::SessionExpires, t.header_value(self.uac));
            response.headers.push(HeaderName::Require, "timer");
        }
        if code == 405 {
            response.headers.push(HeaderName::Allow, Method::ALLOWED);
        }
        if let Some(sdp) = sdp {
            response.set_body(Some("application/sdp"), sdp);
        }
        let _ = layer.send_response(now, tx, response);
    }

    fn send_cancel(&mut self, now: Instant, layer: &mut TransactionLayer) {
        match cancel_for(&self.invite)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                layer
                    .send_request(now, c, self.config.next_hop)
                    .map_err(|e| e.to_string())
            }) {
            Ok(id) => {
                self.new_transactions.push(id);
                self.state = State::Cancelling;
            }
            Err(_) => self.end(EndCause::LocalHangup),
        }
    }

    fn send_bye(&mut self, now: Instant, layer: &mut TransactionLayer, rng: &mut dyn RngCore) {
        let sent = self
            .dialog
            .as_mut()
            .map(|d| d.request(Method::Bye, rng).map_err(|e| e.to_string()))
            .unwrap_or_else(|| Err("no dialog".into()))
            .and_then(|bye| {
                layer
                    .send_request(now, bye, self.config.next_hop)
                    .map_err(|e| e.to_string())
            });
        match sent {
            Ok(id) => {
                self.new_transactions.push(id);
                self.state = State::Terminating;
            }
            Err(_) => self.end(self.bye_cause.clone()),
        }
    }

    fn end(&mut self, cause: EndCause) {
        if self.state != State::Ended {
            self.state = State::Ended;
            self.events.push_back(LegEvent::Ended(cause));
        }
    }
}

mod incoming;
mod interface;
mod message_parts;
mod reinvite;
pub mod session_timer;

pub use interface::{EndCause, LegConfig, LegError, LegEvent};
use message_parts::{dtmf_of_info, reason_of, sdp_body, sdp_version, sipfrag_status};
use reinvite::Reinvite;

#[cfg(test)]
mod incoming_tests;
#[cfg(test)]
mod tests;
