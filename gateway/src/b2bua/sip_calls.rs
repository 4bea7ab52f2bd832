//! [`SipCalls`]: every SIP leg of the gateway's calls, owned by the SIP
//! core task (see [`crate::runtime::sip_core`]). Signaling sessions reach
//! it through the core's [`SipHandle`](crate::runtime::sip_core::SipHandle);
//! what the legs report goes back to each call's owner on a channel.

use crate::runtime::sip_core::SipContext;
use bytes::Bytes;
use sbc_core::b2bua::{LegConfig, LegError, LegEvent, SipLeg};
use sbc_core::sip::headers::HeaderAccess;
use sbc_core::sip::request::LocalVia;
use sbc_core::sip::transaction::{Peer, TransactionEvent, TransactionId};
use std::collections::HashMap;
use std::fmt;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;
use tracing::debug;

/// Names one SIP leg inside the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallKey(pub u64);

impl fmt::Display for CallKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// An event of one SIP leg, for the call's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipCallEvent {
    /// The leg.
    pub key: CallKey,
    /// What happened.
    pub event: LegEvent,
}

/// A call to place toward the PBX.
#[derive(Debug, Clone)]
pub struct PlaceCall {
    /// The next hop.
    pub next_hop: Peer,
    /// The Request-URI (and To).
    pub request_uri: String,
    /// The user part of From.
    pub from_user: String,
    /// Headers the policy let through.
    pub extra_headers: Vec<(String, String)>,
    /// Digest credentials for the PBX's challenges.
    pub credentials: Option<(String, String)>,
    /// `User-Agent`.
    pub user_agent: String,
    /// The PBX offer.
    pub sdp: Bytes,
}

struct Entry {
    leg: SipLeg,
    events: UnboundedSender<SipCallEvent>,
}

/// The SIP legs; see the module docs.
#[derive(Default)]
pub struct SipCalls {
    next: u64,
    calls: HashMap<CallKey, Entry>,
    by_transaction: HashMap<TransactionId, CallKey>,
    by_call_id: HashMap<Bytes, CallKey>,
}

impl SipCalls {
    /// How many legs are alive.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether no leg is alive.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Sends the INVITE of a new leg; its events go to `events`.
    pub fn place(
        &mut self,
        now: Instant,
        call: PlaceCall,
        events: UnboundedSender<SipCallEvent>,
        sip: &mut SipContext<'_>,
    ) -> Result<CallKey, LegError> {
        let hop = call.next_hop;
        let local = sip
            .local_addr(hop.transport, hop.addr)
            .ok_or_else(|| LegError::Invite(format!("no {} listener", hop.transport.as_str())))?;
        let via = LocalVia::new(hop.transport, &local.to_string())
            .map_err(|e| LegError::Invite(e.to_string()))?;
        self.next += 1;
        let key = CallKey(self.next);
        let transport = hop.transport.as_str().to_ascii_lowercase();
        let config = LegConfig {
            next_hop: hop,
            request_uri: call.request_uri,
            from: format!("<sip:{}@{}>", call.from_user, local.ip()),
            contact: format!("<sip:gw{}@{local};transport={transport}>", key.0),
            via,
            user_agent: call.user_agent,
            extra_headers: call.extra_headers,
            credentials: call.credentials,
        };
        let leg = SipLeg::start(now, config, call.sdp, sip.layer, sip.rng)?;
        self.by_call_id
            .insert(Bytes::copy_from_slice(leg.call_id()), key);
        self.calls.insert(key, Entry { leg, events });
        self.settle(key);
        debug!(call = %key, "SIP leg: INVITE sent");
        Ok(key)
    }

    /// Takes a leg made elsewhere (a call from the PBX); its events go to
    /// `events`.
    pub fn adopt(&mut self, leg: SipLeg, events: UnboundedSender<SipCallEvent>) -> CallKey {
        self.next += 1;
        let key = CallKey(self.next);
        self.by_call_id
            .insert(Bytes::copy_from_slice(leg.call_id()), key);
        // Timer L (no ACK for our 2xx) comes on the INVITE's transaction.
        self.by_transaction.insert(leg.invite_transaction(), key);
        self.calls.insert(key, Entry { leg, events });
        self.settle(key);
        key
    }

    /// Runs `f` on leg `key` (answering, rejecting, ringing a call from
    /// the PBX) and settles it.
    pub fn with_leg<T>(
        &mut self,
        key: CallKey,
        f: impl FnOnce(&mut SipLeg) -> Result<T, LegError>,
    ) -> Result<T, LegError> {
        let e = self.calls.get_mut(&key).ok_or(LegError::State("over"))?;
        let r = f(&mut e.leg);
        self.settle(key);
        r
    }

    /// Ends leg `key` (CANCEL or BYE, as its state asks).
    pub fn hangup(&mut self, now: Instant, key: CallKey, sip: &mut SipContext<'_>) {
        if let Some(e) = self.calls.get_mut(&key) {
            e.leg.hangup(now, sip.layer, sip.rng);
            self.settle(key);
        }
    }

    /// Holds (or resumes) leg `key` with a re-INVITE.
    pub fn set_hold(
        &mut self,
        now: Instant,
        key: CallKey,
        held: bool,
        sip: &mut SipContext<'_>,
    ) -> Result<(), LegError> {
        let e = self.calls.get_mut(&key).ok_or(LegError::State("over"))?;
        let r = e.leg.set_hold(now, held, sip.layer, sip.rng);
        self.settle(key);
        r
    }

    /// Sends a DTMF key as SIP INFO on leg `key`.
    pub fn send_dtmf_info(
        &mut self,
        now: Instant,
        key: CallKey,
        digit: char,
        duration_ms: u32,
        sip: &mut SipContext<'_>,
    ) -> Result<(), LegError> {
        let e = self.calls.get_mut(&key).ok_or(LegError::State("over"))?;
        let r = e
            .leg
            .send_dtmf_info(now, digit, duration_ms, sip.layer, sip.rng);
        self.settle(key);
        r
    }

    /// The earliest session-timer deadline of any leg.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.calls
            .values()
            .filter_map(|e| e.leg.poll_timeout())
            .min()
    }

    /// Runs the legs' due session timers (refreshes, expiries).
    pub fn handle_timeout(&mut self, now: Instant, sip: &mut SipContext<'_>) {
        let due: Vec<CallKey> = self
            .calls
            .iter()
            .filter(|(_, e)| e.leg.poll_timeout().is_some_and(|t| t <= now))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            if let Some(e) = self.calls.get_mut(&key) {
                e.leg.handle_timeout(now, sip.layer, sip.rng);
            }
            self.settle(key);
        }
    }

    /// Takes a transaction event if it belongs to a leg; gives it back
    /// otherwise.
    pub fn on_event(
        &mut self,
        now: Instant,
        event: TransactionEvent,
        sip: &mut SipContext<'_>,
    ) -> Option<TransactionEvent> {
        let (layer, rng) = (&mut *sip.layer, &mut *sip.rng);
        let key = match &event {
            TransactionEvent::Response { id, .. }
            | TransactionEvent::Timeout { id }
            | TransactionEvent::TransportError { id } => self.by_transaction.get(id).copied(),
            TransactionEvent::Terminated { id } => {
                self.by_transaction.remove(id);
                return None;
            }
            TransactionEvent::NewRequest { request, .. }
            | TransactionEvent::StrayAck { request, .. }
            | TransactionEvent::Ack { request, .. } => self.key_of(request),
            TransactionEvent::Cancelled { cancel, .. } => self.key_of(cancel),
            TransactionEvent::StrayResponse { response, .. } => self.key_of(response),
            _ => None,
        };
        let Some(key) = key else {
            return Some(event);
        };
        let Some(entry) = self.calls.get_mut(&key) else {
            return Some(event);
        };
        let leg = &mut entry.leg;
        match event {
            TransactionEvent::Response { id, response } => {
                leg.on_response(now, id, &response, layer, rng)
            }
            TransactionEvent::Timeout { id } => leg.on_timeout(now, id, layer),
            TransactionEvent::TransportError { id } => leg.on_transport_error(now, id, layer),
            TransactionEvent::NewRequest { id, request, .. } => {
                leg.on_request(now, id, &request, layer)
            }
            TransactionEvent::StrayResponse { response, .. } => {
                leg.on_stray_response(&response, layer)
            }
            TransactionEvent::Ack { request, .. } | TransactionEvent::StrayAck { request, .. } => {
                leg.on_ack(now, &request, layer, rng)
            }
            TransactionEvent::Cancelled { .. } => leg.on_cancelled(now, layer),
            _ => {}
        }
        self.settle(key);
        None
    }

    fn key_of(&self, m: &sbc_core::sip::Message) -> Option<CallKey> {
        let call_id = m.call_id().ok()?;
        self.by_call_id.get(call_id).copied()
    }

    /// Records the leg's new transactions, hands its events on, and
    /// forgets it once it is over.
    fn settle(&mut self, key: CallKey) {
        let Some(entry) = self.calls.get_mut(&key) else {
            return;
        };
        for id in entry.leg.take_transactions() {
            self.by_transaction.insert(id, key);
        }
        while let Some(event) = entry.leg.poll_event() {
            let _ = entry.events.send(SipCallEvent { key, event });
        }
        if entry.leg.is_ended() {
            let call_id = Bytes::copy_from_slice(entry.leg.call_id());
            self.calls.remove(&key);
            self.by_call_id.remove(&call_id);
            // Transactions still running (a BYE's, a CANCEL's) find no
            // leg and are left to finish on their own.
            self.by_transaction.retain(|_, k| *k != key);
            debug!(call = %key, "SIP leg over");
        }
    }
}
