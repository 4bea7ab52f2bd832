//! The answering user agent: a [`TransactionUser`] that takes every call it
//! is offered, for load and interoperability tests (SIPp's `uac` scenario
//! against it, or our own [`uac`](super::uac)).
//!
//! An INVITE gets 180 Ringing and then (at once, or after
//! [`UasConfig::ring_time`]) 200 OK with a To tag, a Contact naming the
//! listener the INVITE came in on and a fixed SDP answer (PCMU on the local
//! address; no media flows). The UAS-side [`Dialog`] is created with the
//! 180 and confirmed with the 200. Then:
//!
//! - the ACK of the 2xx (an [`Ack`](TransactionEvent::Ack), or a
//!   [`StrayAck`](TransactionEvent::StrayAck) naming a known dialog)
//!   confirms the call;
//! - a BYE in a known dialog, checked by the dialog (CSeq order), gets 200
//!   and completes the call; a BYE for a dialog we do not hold gets 481;
//! - a CANCEL while ringing gets the INVITE a 487;
//! - a re-INVITE gets 200 with the same SDP; OPTIONS gets 200;
//! - a 2xx that no ACK ever acknowledges (Timer L) fails the call, unless
//!   the caller's BYE already showed that the 2xx arrived.
//!
//! [`UasStats`] counts all of it. With [`UasConfig::stop_after`] the agent
//! reports itself finished once that many calls completed and every
//! transaction has ended (so late retransmissions were still answered).

use crate::runtime::sip_core::{SipContext, TransactionUser, reason_phrase};
use bytes::Bytes;
use rand::RngCore;
use sbc_core::sip::dialog::{Dialog, DialogError, DialogId};
use sbc_core::sip::headers::HeaderAccess;
use sbc_core::sip::request::{LocalVia, Tag};
use sbc_core::sip::response::response_to;
use sbc_core::sip::transaction::{
    Peer, TransactionEvent, TransactionId, TransactionLayer, Transport,
};
use sbc_core::sip::validate::{UasPolicy, check_as_uas};
use sbc_core::sip::{HeaderName, Message, Method};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// The methods this agent serves; others get 405 (or 501).
const METHODS: [Method; 5] = [
    Method::Invite,
    Method::Ack,
    Method::Bye,
    Method::Cancel,
    Method::Options,
];

/// The `Allow` header value matching [`METHODS`].
const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS";

/// Media for the calls an agent answers (the demo PBX's echo and tone).
/// Without it the answer names [`UasConfig::media_port`] and nothing
/// listens there.
pub trait CallMedia: Send + std::fmt::Debug {
    /// A call to `user` with SDP `offer` arrived on a listener at
    /// `local_ip`: the SDP answer, or the status that refuses the call.
    fn start(
        &mut self,
        call: &DialogId,
        user: &str,
        offer: &[u8],
        local_ip: IpAddr,
    ) -> Result<Bytes, u16>;

    /// The call ended (BYE, CANCEL, failure).
    fn stop(&mut self, call: &DialogId);
}

/// How the agent answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UasConfig {
    /// The user part of the Contact it puts on its answers.
    pub contact_user: String,
    /// The `Server` header value.
    pub user_agent: String,
    /// How long it rings before the 200; zero answers at once (the 180 and
    /// the 200 go out together).
    pub ring_time: Duration,
    /// The RTP port its SDP answer names (nothing listens there).
    pub media_port: u16,
    /// Finish after this many completed calls, once no transaction is left.
    pub stop_after: Option<u64>,
}

impl Default for UasConfig {
    fn default() -> Self {
        UasConfig {
            contact_user: "uas".to_owned(),
            user_agent: concat!("sbc-gateway-uas/", env!("CARGO_PKG_VERSION")).to_owned(),
            ring_time: Duration::ZERO,
            media_port: 49170,
            stop_after: None,
        }
    }
}

/// What happened to the calls offered so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UasStats {
    /// Dialog-creating INVITEs received (retransmissions excluded).
    pub invites: u64,
    /// Calls answered with 200.
    pub answered: u64,
    /// Calls whose 200 was acknowledged.
    pub acked: u64,
    /// Calls ended by the caller's BYE after the 200.
    pub completed: u64,
    /// Calls cancelled while ringing (CANCEL, or a BYE in the early dialog).
    pub cancelled: u64,
    /// Calls lost: the 200 was never acknowledged nor followed by a BYE
    /// (Timer L), or the transport to the caller failed.
    pub failed: u64,
    /// The transaction layer's retransmission counter, as of the agent's
    /// last event or timer.
    pub retransmissions: u64,
}

/// One call: its dialog and what its answers carry.
#[derive(Debug)]
struct Call {
    dialog: Dialog,
    /// The name-addr of our Contact.
    contact: Bytes,
    /// The SDP answer, the same for every (re-)INVITE of the call.
    sdp: Bytes,
    /// The ACK of the first 200 arrived.
    acked: bool,
}

/// Where an INVITE server transaction of ours stands.
#[derive(Debug)]
enum Stage {
    /// Ringing; the request is kept to build the final response.
    Ringing(Message),
    /// Answered with 200.
    Answered,
    /// Answered with 3xx–6xx.
    Refused,
}

/// An INVITE server transaction and the dialog it belongs to.
#[derive(Debug)]
struct InviteTx {
    dialog: DialogId,
    stage: Stage,
    /// The INVITE that created the dialog, not a re-INVITE.
    initial: bool,
}

/// Answers every call; see the [module docs](self).
#[derive(Debug)]
pub struct AnsweringUas {
    config: UasConfig,
    policy: UasPolicy,
    stats: UasStats,
    calls: HashMap<DialogId, Call>,
    invites: HashMap<TransactionId, InviteTx>,
    /// Answer deadlines, in order (the ring time is the same for all).
    ringing: VecDeque<(Instant, TransactionId)>,
    /// Live transactions in the layer, as of the last event or timer.
    active_transactions: usize,
    media: Option<Box<dyn CallMedia>>,
}

/// What the agent needs from its surroundings: the layer, randomness, and
/// the local address a peer reaches us at (the runtime's listeners, or a
/// fixed address in tests).
struct Io<'a> {
    layer: &'a mut TransactionLayer,
    rng: &'a mut dyn RngCore,
    local_addr: &'a dyn Fn(Transport, SocketAddr) -> Option<SocketAddr>,
}

impl AnsweringUas {
    /// An agent answering as `config` says.
    pub fn new(config: UasConfig) -> AnsweringUas {
        AnsweringUas {
            config,
            policy: UasPolicy {
                methods: METHODS.to_vec(),
                ..UasPolicy::default()
            },
            stats: UasStats::default(),
            calls: HashMap::new(),
            invites: HashMap::new(),
            ringing: VecDeque::new(),
            active_transactions: 0,
            media: None,
        }
    }

    /// An agent whose calls get their media (and their SDP answers) from
    /// `media`.
    pub fn with_media(config: UasConfig, media: Box<dyn CallMedia>) -> AnsweringUas {
        AnsweringUas {
            media: Some(media),
            ..AnsweringUas::new(config)
        }
    }

    /// Forgets a call and stops its media; false if it was unknown.
    fn end_call(&mut self, dialog: &DialogId) -> bool {
        let known = self.calls.remove(dialog).is_some();
        if let (true, Some(media)) = (known, &mut self.media) {
            media.stop(dialog);
        }
        known
    }

    /// The counters so far.
    pub fn stats(&self) -> UasStats {
        self.stats
    }

    /// Calls in progress (ringing, answered, or confirmed).
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    fn handle_event(&mut self, now: Instant, event: TransactionEvent, io: &mut Io<'_>) {
        match event {
            TransactionEvent::NewRequest { id, request, from } => {
                self.on_request(now, id, &request, from, io);
            }
            TransactionEvent::Ack { id, request, .. } => self.on_ack(Some(id), &request),
            TransactionEvent::StrayAck { request, .. } => self.on_ack(None, &request),
            TransactionEvent::Cancelled { id, .. } => self.on_cancel(now, id, io),
            TransactionEvent::Timeout { id } => self.on_timeout(id),
            TransactionEvent::TransportError { id } => self.on_transport_error(id),
            TransactionEvent::Terminated { id } => {
                self.invites.remove(&id);
            }
            _ => {}
        }
        self.record(io.layer);
    }

    fn record(&mut self, layer: &TransactionLayer) {
        self.stats.retransmissions = layer.retransmissions();
        self.active_transactions = layer.active_count();
    }

    fn on_request(
        &mut self,
        now: Instant,
        id: TransactionId,
        request: &Message,
        from: Peer,
        io: &mut Io<'_>,
    ) {
        if let Err(rejection) = check_as_uas(request, &self.policy) {
            let mut response = self.response(request, rejection.code, None, io);
            if rejection.code == 405 {
                response.headers.push(HeaderName::Allow, ALLOW);
            }
            if !rejection.unsupported.is_empty() {
                response
                    .headers
                    .push(HeaderName::Unsupported, rejection.unsupported.join(", "));
            }
            self.send(now, id, response, io);
            return;
        }
        let in_dialog = request.header_to().is_ok_and(|to| to.tag().is_some());
        match (request.method(), in_dialog) {
            (Some(Method::Invite), false) => self.on_invite(now, id, request, from, io),
            (Some(Method::Invite), true) => self.on_reinvite(now, id, request, io),
            (Some(Method::Bye), _) => self.on_bye(now, id, request, io),
            (Some(Method::Options), _) => {
                let mut ok = self.response(request, 200, None, io);
                ok.headers.push(HeaderName::Allow, ALLOW);
                ok.headers.push(HeaderName::Accept, "application/sdp");
                self.send(now, id, ok, io);
            }
            _ => {
                let mut refused = self.response(request, 405, None, io);
                refused.headers.push(HeaderName::Allow, ALLOW);
                self.send(now, id, refused, io);
            }
        }
    }

    /// A dialog-creating INVITE: 180 with a fresh tag, then the 200.
    fn on_invite(
        &mut self,
        now: Instant,
        id: TransactionId,
        request: &Message,
        from: Peer,
        io: &mut Io<'_>,
    ) {
        self.stats.invites += 1;
        let Some(local) = (io.local_addr)(from.transport, from.addr) else {
            warn!(transport = %from.transport, "no listener to name in Contact");
            let refused = self.response(request, 500, None, io);
            self.send(now, id, refused, io);
            return;
        };
        let tag = Tag::random(&mut *io.rng);
        let contact = Bytes::from(format!(
            "<sip:{}@{local};transport={}>",
            self.config.contact_user,
            from.transport.as_str().to_ascii_lowercase()
        ));
        let dialog = LocalVia::new(from.transport, &local.to_string())
            .map_err(DialogError::from)
            .and_then(|via| Dialog::from_uas_request(request, tag, contact.clone(), via));
        let dialog = match dialog {
            Ok(d) => d,
            Err(e) => {
                debug!(error = %e, "INVITE refused: no dialog");
                let refused = self.response(request, e.status(), None, io);
                self.send(now, id, refused, io);
                return;
            }
        };
        let dialog_id = dialog.id().clone();
        let mut ringing = self.response(request, 180, Some(&dialog_id), io);
        ringing.headers.push(HeaderName::Contact, contact.clone());
        if !self.send(now, id, ringing, io) {
            return;
        }
        let sdp = match &mut self.media {
            None => sdp_answer(local.ip(), self.config.media_port, io.rng.next_u32()),
            Some(media) => {
                let user = request
                    .request_uri()
                    .and_then(|u| sbc_core::sip::Uri::parse(u).ok())
                    .and_then(|u| u.user)
                    .map(|u| String::from_utf8_lossy(u).into_owned())
                    .unwrap_or_default();
                match media.start(&dialog_id, &user, &request.body, local.ip()) {
                    Ok(sdp) => sdp,
                    Err(code) => {
                        let tx = InviteTx {
                            dialog: dialog_id,
                            stage: Stage::Ringing(request.clone()),
                            initial: true,
                        };
                        self.invites.insert(id, tx);
                        self.refuse(now, id, code, io);
                        return;
                    }
                }
            }
        };
        self.calls.insert(
            dialog_id.clone(),
            Call {
                dialog,
                contact,
                sdp,
                acked: false,
            },
        );
        self.invites.insert(
            id,
            InviteTx {
                dialog: dialog_id,
                stage: Stage::Ringing(request.clone()),
                initial: true,
            },
        );
        if self.config.ring_time.is_zero() {
            self.answer(now, id, io);
        } else {
            self.ringing.push_back((now + self.config.ring_time, id));
        }
    }

    /// Sends the 200 of a ringing INVITE transaction and confirms its dialog.
    fn answer(&mut self, now: Instant, id: TransactionId, io: &mut Io<'_>) {
        let Some(tx) = self.invites.get_mut(&id) else {
            return;
        };
        let Stage::Ringing(request) = std::mem::replace(&mut tx.stage, Stage::Answered) else {
            return;
        };
        let dialog_id = tx.dialog.clone();
        let Some(call) = self.calls.get(&dialog_id) else {
            return;
        };
        let ok = self.ok_with_sdp(&request, call, io);
        if self.send(now, id, ok, io) {
            if let Some(call) = self.calls.get_mut(&dialog_id) {
                call.dialog.confirm();
            }
            self.stats.answered += 1;
            info!(call = %dialog_id.local_tag, "answered");
        } else {
            self.fail_call(&dialog_id);
        }
    }

    /// A re-INVITE: 200 with the call's SDP, once the dialog accepts it.
    fn on_reinvite(&mut self, now: Instant, id: TransactionId, request: &Message, io: &mut Io<'_>) {
        let Some(dialog_id) = known_dialog(&self.calls, request) else {
            let refused = self.response(request, 481, None, io);
            self.send(now, id, refused, io);
            return;
        };
        let pending = self
            .invites
            .values()
            .any(|tx| tx.dialog == dialog_id && matches!(tx.stage, Stage::Ringing(_)));
        let call = self
            .calls
            .get_mut(&dialog_id)
            .expect("known_dialog found it");
        let verdict = if pending {
            // RFC 3261 §14.2: an INVITE while one is unanswered gets 500.
            Err(500)
        } else {
            call.dialog.handle_request(request).map_err(|e| e.status())
        };
        let response = match verdict {
            Ok(()) => self.ok_with_sdp(request, &self.calls[&dialog_id], io),
            Err(code) => {
                let mut refused = self.response(request, code, Some(&dialog_id), io);
                if pending {
                    refused.headers.push(HeaderName::RetryAfter, "1");
                }
                refused
            }
        };
        let answered = response.status() == Some(200);
        if self.send(now, id, response, io) && answered {
            self.invites.insert(
                id,
                InviteTx {
                    dialog: dialog_id,
                    stage: Stage::Answered,
                    initial: false,
                },
            );
        }
    }

    /// A BYE: 200 when the dialog accepts it, which ends the call.
    fn on_bye(&mut self, now: Instant, id: TransactionId, request: &Message, io: &mut Io<'_>) {
        let verdict = match known_dialog(&self.calls, request) {
            None => Err(481),
            Some(dialog_id) => {
                let call = self
                    .calls
                    .get_mut(&dialog_id)
                    .expect("known_dialog found it");
                call.dialog
                    .handle_request(request)
                    .map(|()| dialog_id)
                    .map_err(|e| e.status())
            }
        };
        let dialog_id = match verdict {
            Ok(dialog_id) => dialog_id,
            Err(code) => {
                debug!(code, "BYE refused");
                let refused = self.response(request, code, None, io);
                self.send(now, id, refused, io);
                return;
            }
        };
        let ok = self.response(request, 200, Some(&dialog_id), io);
        self.send(now, id, ok, io);
        self.end_call(&dialog_id);
        let ringing = self
            .invites
            .iter()
            .find(|(_, tx)| tx.dialog == dialog_id && matches!(tx.stage, Stage::Ringing(_)))
            .map(|(&tx, _)| tx);
        match ringing {
            // RFC 3261 §15.1.2: a BYE in the early dialog ends the INVITE
            // with 487.
            Some(invite) => {
                self.refuse_ringing(now, invite, io);
                self.stats.cancelled += 1;
                info!(call = %dialog_id.local_tag, "ended while ringing");
            }
            None => {
                self.stats.completed += 1;
                info!(call = %dialog_id.local_tag, "completed");
            }
        }
    }

    /// The ACK of a 2xx, matched to its transaction by the layer (`tx`) or
    /// only by its dialog.
    fn on_ack(&mut self, tx: Option<TransactionId>, ack: &Message) {
        let initial = tx
            .and_then(|id| self.invites.get(&id))
            .is_none_or(|invite| invite.initial);
        let Some(dialog_id) = known_dialog(&self.calls, ack) else {
            debug!("ACK outside any call");
            return;
        };
        let call = self
            .calls
            .get_mut(&dialog_id)
            .expect("known_dialog found it");
        if initial && !call.acked && call.dialog.handle_request(ack).is_ok() {
            call.acked = true;
            self.stats.acked += 1;
            debug!(call = %dialog_id.local_tag, "confirmed by ACK");
        }
    }

    fn on_cancel(&mut self, now: Instant, id: TransactionId, io: &mut Io<'_>) {
        let Some(tx) = self.invites.get(&id) else {
            return;
        };
        if !matches!(tx.stage, Stage::Ringing(_)) {
            return;
        }
        let dialog_id = tx.dialog.clone();
        self.refuse_ringing(now, id, io);
        self.end_call(&dialog_id);
        self.stats.cancelled += 1;
        info!(call = %dialog_id.local_tag, "cancelled");
    }

    /// Ends a ringing INVITE with 487.
    fn refuse_ringing(&mut self, now: Instant, id: TransactionId, io: &mut Io<'_>) {
        self.refuse(now, id, 487, io);
    }

    /// Ends a ringing INVITE with `code`.
    fn refuse(&mut self, now: Instant, id: TransactionId, code: u16, io: &mut Io<'_>) {
        self.ringing.retain(|&(_, tx)| tx != id);
        let Some(tx) = self.invites.get_mut(&id) else {
            return;
        };
        let Stage::Ringing(request) = std::mem::replace(&mut tx.stage, Stage::Refused) else {
            return;
        };
        let dialog_id = tx.dialog.clone();
        let terminated = self.response(&request, code, Some(&dialog_id), io);
        self.send(now, id, terminated, io);
    }

    /// Timer L (no ACK for the 2xx) or Timer H (none for a 487).
    fn on_timeout(&mut self, id: TransactionId) {
        let Some(tx) = self.invites.remove(&id) else {
            return;
        };
        match tx.stage {
            Stage::Answered if self.calls.contains_key(&tx.dialog) => {
                warn!(call = %tx.dialog.local_tag, "no ACK for the 200");
                self.fail_call(&tx.dialog);
            }
            // The BYE came, so the 2xx got there: only the ACK was lost.
            Stage::Answered => {
                debug!(call = %tx.dialog.local_tag, "no ACK for the 200 of an ended call");
            }
            Stage::Refused => debug!(call = %tx.dialog.local_tag, "no ACK for the 487"),
            Stage::Ringing(_) => {}
        }
    }

    fn on_transport_error(&mut self, id: TransactionId) {
        let Some(tx) = self.invites.remove(&id) else {
            return;
        };
        warn!(call = %tx.dialog.local_tag, "transport to the caller failed");
        self.ringing.retain(|&(_, t)| t != id);
        self.fail_call(&tx.dialog);
    }

    fn fail_call(&mut self, dialog: &DialogId) {
        if self.end_call(dialog) {
            self.stats.failed += 1;
        }
    }

    /// A response to `request`, with our tag in To (the dialog's, or a
    /// fresh one) and our `Server`.
    fn response(
        &self,
        request: &Message,
        code: u16,
        dialog: Option<&DialogId>,
        io: &mut Io<'_>,
    ) -> Message {
        let tag = match dialog {
            Some(d) => d.local_tag.clone(),
            None => Tag::random(&mut *io.rng),
        };
        let tag = String::from_utf8_lossy(tag.as_bytes());
        let mut response = response_to(request, code, reason_phrase(code), Some(&tag));
        response
            .headers
            .push(HeaderName::Server, self.config.user_agent.clone());
        response
    }

    /// The 200 to an INVITE of `call`: Contact and the SDP answer.
    fn ok_with_sdp(&self, request: &Message, call: &Call, io: &mut Io<'_>) -> Message {
        let mut ok = self.response(request, 200, Some(call.dialog.id()), io);
        ok.headers.push(HeaderName::Contact, call.contact.clone());
        ok.headers.push(HeaderName::Allow, ALLOW);
        ok.set_body(Some("application/sdp"), call.sdp.clone());
        ok
    }

    /// Hands a response to the layer; false (logged) when it refuses it.
    fn send(&self, now: Instant, id: TransactionId, response: Message, io: &mut Io<'_>) -> bool {
        match io.layer.send_response(now, id, response) {
            Ok(()) => true,
            Err(e) => {
                warn!(%id, error = %e, "response not sent");
                false
            }
        }
    }

    fn handle_due(&mut self, now: Instant, io: &mut Io<'_>) {
        while let Some(&(at, id)) = self.ringing.front() {
            if at > now {
                break;
            }
            self.ringing.pop_front();
            self.answer(now, id, io);
        }
        self.record(io.layer);
    }
}

impl TransactionUser for AnsweringUas {
    fn on_event(&mut self, now: Instant, event: TransactionEvent, sip: &mut SipContext<'_>) {
        let transports = sip.transports;
        let local_addr =
            |t: Transport, peer: SocketAddr| transports.listener_for(t, peer).map(|l| l.addr);
        let mut io = Io {
            layer: sip.layer,
            rng: sip.rng,
            local_addr: &local_addr,
        };
        self.handle_event(now, event, &mut io);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.ringing.front().map(|&(at, _)| at)
    }

    fn handle_timeout(&mut self, now: Instant, sip: &mut SipContext<'_>) {
        let transports = sip.transports;
        let local_addr =
            |t: Transport, peer: SocketAddr| transports.listener_for(t, peer).map(|l| l.addr);
        let mut io = Io {
            layer: sip.layer,
            rng: sip.rng,
            local_addr: &local_addr,
        };
        self.handle_due(now, &mut io);
    }

    fn is_finished(&self) -> bool {
        self.config
            .stop_after
            .is_some_and(|n| self.stats.completed >= n && self.active_transactions == 0)
    }
}

/// The dialog of ours `request` names, if we hold it.
fn known_dialog(calls: &HashMap<DialogId, Call>, request: &Message) -> Option<DialogId> {
    let id = DialogId::for_incoming_request(request).ok()??;
    calls.contains_key(&id).then_some(id)
}

/// A minimal SDP answer (RFC 3264): one PCMU audio stream at `ip`:`port`.
fn sdp_answer(ip: IpAddr, port: u16, session: u32) -> Bytes {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    Bytes::from(format!(
        "v=0\r\n\
         o=- {session} 1 IN {family} {ip}\r\n\
         s=-\r\n\
         c=IN {family} {ip}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=sendrecv\r\n"
    ))
}

#[cfg(test)]
mod tests;
