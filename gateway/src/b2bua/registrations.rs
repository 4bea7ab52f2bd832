//! [`Registrations`]: the browser users' registrations at the PBX
//! ([`sbc_core::b2bua::Registration`]), owned by the SIP core task like
//! the call legs; their events go to the owning session on a channel.

use super::sip_calls::{CallKey, SipCallEvent, SipCalls};
use crate::runtime::sip_core::SipContext;
use bytes::Bytes;
use sbc_core::b2bua::{LegConfig, Registration, RegistrationConfig, RegistrationEvent, SipLeg};
use sbc_core::sip::Message;
use sbc_core::sip::headers::NameAddr;
use sbc_core::sip::request::LocalVia;
use sbc_core::sip::transaction::{Peer, TransactionEvent, TransactionId};
use std::collections::HashMap;
use std::fmt;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;
use tracing::debug;

/// Names one registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegKey(pub u64);

impl fmt::Display for RegKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// An event of one registration, for its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegEvent {
    /// The registration.
    pub key: RegKey,
    /// What happened.
    pub event: RegNotice,
}

/// What a registration's owner hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegNotice {
    /// The registration's state changed.
    State(RegistrationEvent),
    /// The PBX calls the registered user: the SIP leg `call` holds the
    /// INVITE open until the owner answers or rejects it.
    Incoming(IncomingCall),
}

/// A call from the PBX to a registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingCall {
    /// Its SIP leg (events go to the owner's call channel).
    pub call: CallKey,
    /// The caller's URI, as the From header says (no parameters).
    pub from: String,
    /// The caller's display name, if any.
    pub display: Option<String>,
    /// The registered user called.
    pub to: String,
    /// The PBX's SDP offer; `None` for an INVITE without one (a late
    /// offer: the gateway offers in its 200, the PBX answers in its ACK).
    pub sdp: Option<Bytes>,
}

/// Where a registration's events go: its own, and those of the calls to it.
#[derive(Clone)]
pub struct RegOwner {
    /// Registration events and incoming calls.
    pub events: UnboundedSender<RegEvent>,
    /// The SIP events of calls to the user.
    pub calls: UnboundedSender<SipCallEvent>,
}

/// A registration to make.
#[derive(Debug, Clone)]
pub struct Register {
    /// The registrar.
    pub registrar: Peer,
    /// The user.
    pub user: String,
    /// The domain (`host[:port]`).
    pub domain: String,
    /// The password, for digest challenges.
    pub password: Option<String>,
    /// Expiry asked for, seconds.
    pub expires: u32,
    /// `User-Agent`.
    pub user_agent: String,
}

struct Entry {
    reg: Registration,
    owner: RegOwner,
    user: String,
    contact: String,
    via: LocalVia,
}

/// The registrations; see the module docs.
#[derive(Default)]
pub struct Registrations {
    next: u64,
    regs: HashMap<RegKey, Entry>,
    by_transaction: HashMap<TransactionId, RegKey>,
}

impl Registrations {
    /// How many are alive.
    pub fn len(&self) -> usize {
        self.regs.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.regs.is_empty()
    }

    /// Sends the first REGISTER of a new registration.
    pub fn start(
        &mut self,
        now: Instant,
        r: Register,
        owner: RegOwner,
        sip: &mut SipContext<'_>,
    ) -> Result<RegKey, String> {
        let hop = r.registrar;
        let local = sip
            .local_addr(hop.transport, hop.addr)
            .ok_or_else(|| format!("no {} listener", hop.transport.as_str()))?;
        let via = LocalVia::new(hop.transport, &local.to_string()).map_err(|e| e.to_string())?;
        self.next += 1;
        let key = RegKey(self.next);
        let transport = hop.transport.as_str().to_ascii_lowercase();
        let contact = format!("<sip:{key}@{local};transport={transport}>");
        let config = RegistrationConfig {
            registrar: hop,
            request_uri: format!("sip:{}", r.domain),
            aor: format!("<sip:{}@{}>", r.user, r.domain),
            contact: contact.clone(),
            via: via.clone(),
            user_agent: r.user_agent,
            credentials: r.password.map(|p| (r.user.clone(), p)),
            expires: r.expires,
        };
        let reg = Registration::start(now, config, sip.layer, sip.rng)?;
        let entry = Entry {
            reg,
            owner,
            user: r.user,
            contact,
            via,
        };
        self.regs.insert(key, entry);
        self.settle(key);
        debug!(registration = %key, "REGISTER sent");
        Ok(key)
    }

    /// Removes registration `key`'s binding.
    pub fn unregister(&mut self, now: Instant, key: RegKey, sip: &mut SipContext<'_>) {
        if let Some(e) = self.regs.get_mut(&key) {
            e.reg.unregister(now, sip.layer, sip.rng);
            self.settle(key);
        }
    }

    /// The earliest refresh.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.regs
            .values()
            .filter_map(|e| e.reg.poll_timeout())
            .min()
    }

    /// Refreshes what is due.
    pub fn handle_timeout(&mut self, now: Instant, sip: &mut SipContext<'_>) {
        let due: Vec<RegKey> = self
            .regs
            .iter()
            .filter(|(_, e)| e.reg.poll_timeout().is_some_and(|t| t <= now))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            if let Some(e) = self.regs.get_mut(&key) {
                e.reg.handle_timeout(now, sip.layer, sip.rng);
            }
            self.settle(key);
        }
    }

    /// Takes a transaction event of a registration; gives others back.
    pub fn on_event(
        &mut self,
        now: Instant,
        event: TransactionEvent,
        sip: &mut SipContext<'_>,
    ) -> Option<TransactionEvent> {
        let key = match &event {
            TransactionEvent::Response { id, .. }
            | TransactionEvent::Timeout { id }
            | TransactionEvent::TransportError { id } => self.by_transaction.get(id).copied(),
            TransactionEvent::Terminated { id } => {
                // The calls' table may know it too.
                self.by_transaction.remove(id);
                return Some(event);
            }
            _ => None,
        };
        let Some(entry) = key.and_then(|k| self.regs.get_mut(&k)) else {
            return Some(event);
        };
        match event {
            TransactionEvent::Response { id, response } => entry
                .reg
                .on_response(now, id, &response, sip.layer, sip.rng),
            TransactionEvent::Timeout { id } => entry.reg.on_failure(id, 408),
            TransactionEvent::TransportError { id } => entry.reg.on_failure(id, 503),
            _ => {}
        }
        if let Some(key) = key {
            self.settle(key);
        }
        None
    }

    /// An INVITE from `from` to one of the registrations' Contacts
    /// (`sip:r<N>@…`): its SIP leg goes into `calls` and the owner hears of
    /// it. `Err` is the status to refuse it with (404: no such
    /// registration).
    pub fn incoming(
        &mut self,
        tx: TransactionId,
        invite: &Message,
        from: Peer,
        calls: &mut SipCalls,
        user_agent: &str,
        sip: &mut SipContext<'_>,
    ) -> Result<(), u16> {
        let key = invite
            .request_uri()
            .and_then(|u| sbc_core::sip::Uri::parse(u).ok())
            .and_then(|u| u.user)
            .and_then(|u| std::str::from_utf8(u).ok()?.strip_prefix('r')?.parse().ok())
            .map(RegKey)
            .ok_or(404u16)?;
        let entry = self.regs.get(&key).ok_or(404u16)?;
        let config = LegConfig {
            next_hop: from,
            request_uri: String::new(),
            from: String::new(),
            contact: entry.contact.clone(),
            via: entry.via.clone(),
            user_agent: user_agent.to_owned(),
            extra_headers: Vec::new(),
            credentials: None,
        };
        let leg = SipLeg::incoming(tx, invite, config, sip.rng)?;
        let sdp = leg.remote_offer();
        let (from, display) = caller(invite);
        let call = calls.adopt(leg, entry.owner.calls.clone());
        let event = RegNotice::Incoming(IncomingCall {
            call,
            from,
            display,
            to: entry.user.clone(),
            sdp,
        });
        let _ = entry.owner.events.send(RegEvent { key, event });
        debug!(registration = %key, call = %call, "call from the PBX");
        Ok(())
    }

    fn settle(&mut self, key: RegKey) {
        let Some(entry) = self.regs.get_mut(&key) else {
            return;
        };
        for id in entry.reg.take_transactions() {
            self.by_transaction.insert(id, key);
        }
        while let Some(event) = entry.reg.poll_event() {
            let event = RegNotice::State(event);
            let _ = entry.owner.events.send(RegEvent { key, event });
        }
        if entry.reg.is_done() {
            self.regs.remove(&key);
            self.by_transaction.retain(|_, k| *k != key);
            debug!(registration = %key, "registration over");
        }
    }
}

/// The caller's URI (without parameters) and display name, from From.
fn caller(invite: &Message) -> (String, Option<String>) {
    let Some(value) = invite.headers.get(sbc_core::sip::HeaderName::From) else {
        return (String::new(), None);
    };
    match NameAddr::parse(value, "From") {
        Ok(from) => {
            let uri = String::from_utf8_lossy(from.uri.as_bytes());
            let uri = uri.split([';', '?']).next().unwrap_or_default().to_owned();
            let display = from
                .display
                .map(|d| {
                    String::from_utf8_lossy(d)
                        .trim_matches('"')
                        .trim()
                        .to_owned()
                })
                .filter(|d| !d.is_empty());
            (uri, display)
        }
        Err(_) => (String::new(), None),
    }
}
