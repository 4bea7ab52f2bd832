//! [`Registrations`]: the browser users' registrations at the PBX
//! ([`sbc_core::b2bua::Registration`]), owned by the SIP core task like
//! the call legs; their events go to the owning session on a channel.

use crate::runtime::sip_core::SipContext;
use sbc_core::b2bua::{Registration, RegistrationConfig, RegistrationEvent};
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
    pub event: RegistrationEvent,
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
    events: UnboundedSender<RegEvent>,
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
        events: UnboundedSender<RegEvent>,
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
        let config = RegistrationConfig {
            registrar: hop,
            request_uri: format!("sip:{}", r.domain),
            aor: format!("<sip:{}@{}>", r.user, r.domain),
            contact: format!("<sip:{key}@{local};transport={transport}>"),
            via,
            user_agent: r.user_agent,
            credentials: r.password.map(|p| (r.user.clone(), p)),
            expires: r.expires,
        };
        let reg = Registration::start(now, config, sip.layer, sip.rng)?;
        self.regs.insert(key, Entry { reg, events });
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

    fn settle(&mut self, key: RegKey) {
        let Some(entry) = self.regs.get_mut(&key) else {
            return;
        };
        for id in entry.reg.take_transactions() {
            self.by_transaction.insert(id, key);
        }
        while let Some(event) = entry.reg.poll_event() {
            let _ = entry.events.send(RegEvent { key, event });
        }
        if entry.reg.is_done() {
            self.regs.remove(&key);
            self.by_transaction.retain(|_, k| *k != key);
            debug!(registration = %key, "registration over");
        }
    }
}
