//! The sans-IO transaction layer: owns every transaction, matches what the
//! transport received to them (RFC 3261 §17.1.3, §17.2.3), answers CANCEL
//! itself (§9.2), keeps one table of deadlines for all their timers, and
//! queues transmits and events for the runtime and the TU to poll.

use super::client::{InviteClient, NonInviteClient};
use super::common::{Common, Ctx, Output};
use super::error::Error;
use super::key::{AckKey, ClientKey, ServerKey, TransactionId};
use super::machine::Machine;
use super::server::{InviteServer, NonInviteServer};
use super::timer::{Timer, TimerConfig};
use super::{Peer, TransactionEvent, TransactionKind, TransactionState, Transmit};
use crate::sip::headers::HeaderAccess;
use crate::sip::message::Message;
use crate::sip::method::Method;
use crate::sip::request::Branch;
use crate::sip::response::response_to;
use rand::RngCore;
use rand::distr::{Alphanumeric, Distribution};
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

/// Length of the To tag the layer puts on the responses it sends itself
/// (to a CANCEL) when the TU has not chosen one yet.
const TAG_CHARS: usize = 10;

/// How a transaction is found again.
#[derive(Debug)]
enum Key {
    Client(ClientKey),
    Server(ServerKey),
}

#[derive(Debug)]
struct Entry {
    machine: Machine,
    key: Key,
    /// INVITE server: finds it from the ACK of its 2xx while Accepted.
    ack_key: Option<AckKey>,
    /// Started by the layer itself (a CANCEL it sends or answers): the TU
    /// hears nothing of it.
    internal: bool,
}

/// Owns every SIP transaction of one endpoint; see the [module
/// docs](super) for how the runtime and the TU drive it.
pub struct TransactionLayer {
    config: TimerConfig,
    rng: Box<dyn RngCore + Send>,
    next_id: u64,
    transactions: HashMap<TransactionId, Entry>,
    client_index: HashMap<ClientKey, TransactionId>,
    server_index: HashMap<ServerKey, TransactionId>,
    ack_index: HashMap<AckKey, TransactionId>,
    deadlines: BTreeSet<(Instant, TransactionId, Timer)>,
    out: Output,
}

impl std::fmt::Debug for TransactionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionLayer")
            .field("config", &self.config)
            .field("active", &self.transactions.len())
            .field("next_deadline", &self.poll_timeout())
            .finish_non_exhaustive()
    }
}

impl TransactionLayer {
    /// A layer with these timers, drawing the tags of the responses it
    /// sends itself (and [`TransactionLayer::new_branch`]) from `rng`.
    pub fn new(config: TimerConfig, rng: impl RngCore + Send + 'static) -> TransactionLayer {
        TransactionLayer {
            config,
            rng: Box::new(rng),
            next_id: 0,
            transactions: HashMap::new(),
            client_index: HashMap::new(),
            server_index: HashMap::new(),
            ack_index: HashMap::new(),
            deadlines: BTreeSet::new(),
            out: Output::default(),
        }
    }

    /// The timer configuration.
    pub fn config(&self) -> &TimerConfig {
        &self.config
    }

    /// A fresh branch from the layer's RNG, for a TU without its own.
    pub fn new_branch(&mut self) -> Branch {
        Branch::random(&mut *self.rng)
    }

    /// Number of live transactions.
    pub fn active_count(&self) -> usize {
        self.transactions.len()
    }

    /// Retransmissions sent so far (requests, responses and ACKs sent again),
    /// for metrics.
    pub fn retransmissions(&self) -> u64 {
        self.out.retransmissions
    }

    /// The state of a live transaction.
    pub fn state(&self, id: TransactionId) -> Option<TransactionState> {
        self.transactions.get(&id).map(|e| e.machine.state())
    }

    /// Which state machine a live transaction runs.
    pub fn kind(&self, id: TransactionId) -> Option<TransactionKind> {
        self.transactions.get(&id).map(|e| e.machine.kind())
    }

    /// The next instant [`TransactionLayer::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|&(at, _, _)| at)
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.transmits.pop_front()
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.out.events.pop_front()
    }

    /// Fires every timer due at `now`. A timer armed for `now` while these
    /// fire waits for the next call (so a zero interval cannot spin).
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due = Vec::new();
        while let Some(&first) = self.deadlines.first() {
            if first.0 > now {
                break;
            }
            self.deadlines.pop_first();
            due.push(first);
        }
        for (at, id, timer) in due {
            let cancel = self.drive(now, id, |m, ctx| {
                if m.common().timers.get(timer) != Some(at) {
                    return None;
                }
                m.common_mut().timers.stop(timer);
                tracing::trace!(%id, %timer, "fired");
                m.on_timer(timer, ctx)
            });
            if let Some(Some(cancel)) = cancel {
                let peer = self.peer_of(id);
                self.send_internal_cancel(now, cancel, peer);
            }
        }
    }

    /// Takes one message the transport received from `from`.
    pub fn handle_message(&mut self, now: Instant, message: Message, from: Peer) {
        if message.is_request() {
            self.handle_request(now, message, from);
        } else {
            self.handle_response(now, message, from);
        }
        self.handle_timeout(now);
    }

    /// The runtime could not send to `peer` (ICMP unreachable, connection
    /// refused or closed): every transaction with that peer ends with
    /// [`TransactionEvent::TransportError`].
    pub fn handle_transport_error(&mut self, now: Instant, peer: Peer) {
        let mut ids: Vec<_> = self
            .transactions
            .iter()
            .filter(|(_, e)| e.machine.common().peer == peer)
            .map(|(&id, _)| id)
            .collect();
        ids.sort_unstable();
        for id in ids {
            self.drive(now, id, |m, ctx| m.on_transport_error(ctx));
        }
    }

    /// Starts a client transaction sending `request` to `to`. Its top Via
    /// must carry an RFC 3261 branch ([`Branch::random`]) unique to it. A
    /// CANCEL starts its own transaction and bounds the wait of the INVITE
    /// it cancels to 64·T1 (RFC 3261 §9.1).
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Message,
        to: Peer,
    ) -> Result<TransactionId, Error> {
        let id = self.start_client(now, request, to, false)?;
        self.handle_timeout(now);
        Ok(id)
    }

    /// Sends the TU's `response` on server transaction `id`, to the peer the
    /// request came from.
    pub fn send_response(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Message,
    ) -> Result<(), Error> {
        let entry = self
            .transactions
            .get(&id)
            .ok_or(Error::UnknownTransaction(id))?;
        if matches!(entry.key, Key::Client(_)) {
            return Err(Error::NotAServerTransaction(id));
        }
        let result = self
            .drive(now, id, |m, ctx| match m {
                Machine::InviteServer(s) => s.send_response(response, ctx),
                Machine::NonInviteServer(s) => s.send_response(response, ctx),
                _ => Err(Error::NotAServerTransaction(id)),
            })
            .unwrap_or(Err(Error::UnknownTransaction(id)));
        self.handle_timeout(now);
        result
    }

    /// Sends `message` outside any transaction: the ACK of a 2xx, a
    /// response to a request no transaction will take.
    pub fn send_stateless(&mut self, to: Peer, message: &Message) {
        self.out.transmits.push_back(Transmit {
            to,
            message: message.to_bytes(),
        });
    }

    fn mint(&mut self) -> TransactionId {
        self.next_id = self.next_id.wrapping_add(1);
        TransactionId::new(self.next_id)
    }

    fn peer_of(&self, id: TransactionId) -> Option<Peer> {
        self.transactions.get(&id).map(|e| e.machine.common().peer)
    }

    fn ctx(&mut self, now: Instant) -> Ctx<'_> {
        Ctx {
            now,
            config: &self.config,
            out: &mut self.out,
        }
    }

    /// Runs `f` on transaction `id`, then brings the deadline table, the
    /// 2xx-ACK index and the TU's event queue in line with what it did, and
    /// reaps the transaction if it terminated.
    fn drive<R>(
        &mut self,
        now: Instant,
        id: TransactionId,
        f: impl FnOnce(&mut Machine, &mut Ctx<'_>) -> R,
    ) -> Option<R> {
        let entry = self.transactions.get_mut(&id)?;
        for (timer, at) in entry.machine.common().timers.iter() {
            self.deadlines.remove(&(at, id, timer));
        }
        let events_before = self.out.events.len();
        let mut ctx = Ctx {
            now,
            config: &self.config,
            out: &mut self.out,
        };
        let result = f(&mut entry.machine, &mut ctx);
        if entry.internal {
            self.out.events.truncate(events_before);
        }
        for (timer, at) in entry.machine.common().timers.iter() {
            self.deadlines.insert((at, id, timer));
        }
        if entry.machine.state() == TransactionState::Accepted
            && let (Machine::InviteServer(_), Some(key)) = (&entry.machine, &entry.ack_key)
            && self.ack_index.get(key) != Some(&id)
        {
            self.ack_index.insert(key.clone(), id);
        }
        if entry.machine.is_terminated() {
            self.reap(id);
        }
        Some(result)
    }

    /// Registers a new transaction.
    fn insert(&mut self, id: TransactionId, entry: Entry) {
        for (timer, at) in entry.machine.common().timers.iter() {
            self.deadlines.insert((at, id, timer));
        }
        match &entry.key {
            Key::Client(k) => self.client_index.insert(k.clone(), id),
            Key::Server(k) => self.server_index.insert(k.clone(), id),
        };
        self.transactions.insert(id, entry);
    }

    /// Forgets a terminated transaction.
    fn reap(&mut self, id: TransactionId) {
        let Some(entry) = self.transactions.remove(&id) else {
            return;
        };
        for (timer, at) in entry.machine.common().timers.iter() {
            self.deadlines.remove(&(at, id, timer));
        }
        match &entry.key {
            Key::Client(k) if self.client_index.get(k) == Some(&id) => {
                self.client_index.remove(k);
            }
            Key::Server(k) if self.server_index.get(k) == Some(&id) => {
                self.server_index.remove(k);
            }
            _ => {}
        }
        if let Some(k) = &entry.ack_key
            && self.ack_index.get(k) == Some(&id)
        {
            self.ack_index.remove(k);
        }
        tracing::debug!(%id, "transaction terminated");
        if !entry.internal {
            self.out
                .events
                .push_back(TransactionEvent::Terminated { id });
        }
    }

    fn start_client(
        &mut self,
        now: Instant,
        request: Message,
        to: Peer,
        internal: bool,
    ) -> Result<TransactionId, Error> {
        let method = request.method().ok_or(Error::NotARequest)?.clone();
        if method == Method::Ack {
            return Err(Error::AckIsStateless);
        }
        let key = ClientKey::from_request(&request)?;
        if let Some(&existing) = self.client_index.get(&key) {
            return Err(Error::Duplicate(existing));
        }
        // The ACK and CANCEL the transaction may derive need the CSeq.
        request.cseq()?;
        let id = self.mint();
        let common = Common::new(id, to);
        let mut ctx = self.ctx(now);
        let machine = if method == Method::Invite {
            Machine::InviteClient(InviteClient::start(common, request, &mut ctx))
        } else {
            Machine::NonInviteClient(NonInviteClient::start(common, &request, &mut ctx))
        };
        tracing::debug!(%id, %method, internal, "client transaction started");
        let cancelled = self
            .client_index
            .get(&key.with_method(Method::Invite))
            .copied();
        self.insert(
            id,
            Entry {
                machine,
                key: Key::Client(key),
                ack_key: None,
                internal,
            },
        );
        if let (Method::Cancel, Some(invite)) = (&method, cancelled) {
            self.drive(now, invite, |m, ctx| {
                if let Machine::InviteClient(c) = m {
                    c.on_cancel_sent(ctx);
                }
            });
        }
        Ok(id)
    }

    /// Timer C gave up on INVITE `cancel` belongs to: CANCEL it on its own
    /// behalf, unless the TU has already.
    fn send_internal_cancel(&mut self, now: Instant, cancel: Message, peer: Option<Peer>) {
        let Some(peer) = peer else { return };
        match self.start_client(now, cancel, peer, true) {
            Ok(id) => tracing::debug!(%id, "CANCEL sent on Timer C"),
            Err(Error::Duplicate(_)) => {}
            Err(e) => tracing::warn!(error = %e, "cannot CANCEL on Timer C"),
        }
    }

    fn handle_response(&mut self, now: Instant, response: Message, from: Peer) {
        let id = ClientKey::from_response(&response)
            .ok()
            .and_then(|k| self.client_index.get(&k).copied());
        let Some(id) = id else {
            tracing::trace!(transport = %from.transport, "stray response");
            self.out
                .events
                .push_back(TransactionEvent::StrayResponse { response, from });
            return;
        };
        self.drive(now, id, |m, ctx| match m {
            Machine::InviteClient(c) => c.on_response(response, ctx),
            Machine::NonInviteClient(c) => c.on_response(response, ctx),
            Machine::InviteServer(_) | Machine::NonInviteServer(_) => {}
        });
    }

    fn handle_request(&mut self, now: Instant, request: Message, from: Peer) {
        let key = match ServerKey::from_request(&request) {
            Ok(key) => key,
            Err(e) => {
                tracing::warn!(transport = %from.transport, error = %e, "request dropped: no transaction key");
                return;
            }
        };
        let method = request.method().cloned().unwrap_or(Method::Ack);
        if method == Method::Ack {
            self.handle_ack(now, request, from, &key);
            return;
        }
        if let Some(&id) = self.server_index.get(&key) {
            tracing::trace!(%id, "request retransmission");
            self.drive(now, id, |m, ctx| m.on_retransmission(ctx));
            return;
        }
        if method == Method::Cancel {
            self.handle_cancel(now, request, from, key);
            return;
        }
        let id = self.mint();
        let common = Common::new(id, from);
        let (machine, ack_key) = if method == Method::Invite {
            let ack_key = AckKey::from_request(&request).ok();
            let mut ctx = self.ctx(now);
            let machine = InviteServer::start(common, &request, &mut ctx);
            (Machine::InviteServer(machine), ack_key)
        } else {
            (
                Machine::NonInviteServer(NonInviteServer::start(common)),
                None,
            )
        };
        tracing::debug!(%id, %method, "server transaction started");
        self.insert(
            id,
            Entry {
                machine,
                key: Key::Server(key),
                ack_key,
                internal: false,
            },
        );
        self.out
            .events
            .push_back(TransactionEvent::NewRequest { id, request, from });
    }

    /// An ACK: for a non-2xx it belongs to the INVITE server transaction
    /// (same branch); for a 2xx it has a branch of its own and is matched by
    /// Call-ID, CSeq number and From tag. Either way the TU sees every ACK
    /// of a 2xx.
    fn handle_ack(&mut self, now: Instant, ack: Message, from: Peer, key: &ServerKey) {
        let by_branch = self.server_index.get(key).copied();
        let by_dialog = || {
            AckKey::from_request(&ack)
                .ok()
                .and_then(|k| self.ack_index.get(&k).copied())
        };
        let Some(id) = by_branch.or_else(by_dialog) else {
            self.out
                .events
                .push_back(TransactionEvent::StrayAck { request: ack, from });
            return;
        };
        let for_2xx = self.drive(now, id, |m, ctx| match m {
            Machine::InviteServer(s) => s.on_ack(ctx),
            _ => false,
        });
        if for_2xx == Some(true) {
            self.out.events.push_back(TransactionEvent::Ack {
                id,
                request: ack,
                from,
            });
        }
    }

    /// Answers a new CANCEL itself (RFC 3261 §9.2): 200 when it matches an
    /// INVITE server transaction, which learns it was cancelled, else 481.
    /// The answer is sent on a server transaction of the CANCEL's own, so
    /// retransmitted CANCELs get it again.
    fn handle_cancel(&mut self, now: Instant, cancel: Message, from: Peer, key: ServerKey) {
        let invite = self
            .server_index
            .get(&key.with_method(Method::Invite))
            .copied();
        let known_tag = invite.and_then(|iid| match self.transactions.get(&iid) {
            Some(Entry {
                machine: Machine::InviteServer(s),
                ..
            }) => s.to_tag().map(|t| String::from_utf8_lossy(t).into_owned()),
            _ => None,
        });
        let tag = known_tag.unwrap_or_else(|| self.random_tag());
        let response = match invite {
            Some(_) => response_to(&cancel, 200, "OK", Some(&tag)),
            None => response_to(&cancel, 481, "Call/Transaction Does Not Exist", Some(&tag)),
        };
        let id = self.mint();
        let machine = Machine::NonInviteServer(NonInviteServer::start(Common::new(id, from)));
        self.insert(
            id,
            Entry {
                machine,
                key: Key::Server(key),
                ack_key: None,
                internal: true,
            },
        );
        self.drive(now, id, |m, ctx| match m {
            Machine::NonInviteServer(s) => s.send_response(response, ctx),
            _ => Ok(()),
        });
        if let Some(iid) = invite {
            self.drive(now, iid, |m, ctx| {
                if let Machine::InviteServer(s) = m {
                    s.on_cancel(cancel, ctx);
                }
            });
        }
    }

    fn random_tag(&mut self) -> String {
        (0..TAG_CHARS)
            .map(|_| char::from(Alphanumeric.sample(&mut *self.rng)))
            .collect()
    }
}
