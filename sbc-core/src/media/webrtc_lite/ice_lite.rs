//! [`IceLite`]: the ICE-lite responder of one browser leg (RFC 8445 §2.5,
//! §7.3; STUN RFC 5389 §10.1.2 short-term credentials).
//!
//! An ICE-lite agent gathers one host candidate, sends no checks and is
//! always the controlled agent; it answers the browser's Binding requests
//! and learns from them:
//!
//! - a request whose USERNAME is `<our ufrag>:<their ufrag>` and whose
//!   MESSAGE-INTEGRITY verifies with our password gets a success response
//!   (XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT), and its source
//!   address has proved itself: [`IceEvent::PeerAddress`] once per address,
//!   for latching and the demux;
//! - with USE-CANDIDATE it nominates that address: [`IceEvent::Nominated`];
//!   media goes to the latest nominated address ([`IceLite::selected`]);
//! - it refreshes consent (RFC 7675) when it comes from the selected address,
//!   or from any address before one is selected; 30 s without one and the
//!   leg is dead ([`IceEvent::ConsentExpired`]).
//!
//! What fails gets what RFC 5389 says: no USERNAME or MESSAGE-INTEGRITY, no
//! PRIORITY, another method: 400; a USERNAME that is not ours or an
//! integrity that does not verify: 401 (neither with MESSAGE-INTEGRITY);
//! unknown comprehension-required attributes: 420 with UNKNOWN-ATTRIBUTES;
//! a peer that also claims the controlled role: 487 (a lite agent cannot
//! take the controlling one; a check with neither ICE-CONTROLLING nor
//! ICE-CONTROLLED is taken as the controlling agent's). Datagrams that are not well-formed STUN, lack
//! a valid FINGERPRINT (RFC 8445 §7.1 makes it mandatory), or are not
//! requests are dropped without an answer.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::RngCore;
// No peer address goes into a log line: the redaction wrapper is the
// gateway's (`gateway::redact`); the ufrag names the leg.
use tracing::{debug, trace, warn};

use super::consent::ConsentTimer;
use super::stun::message::Message;
use super::stun::writer::MessageWriter;
use super::stun::{BINDING, Class, looks_like_stun};

/// How many proven peer addresses a responder remembers; the oldest that is
/// not the selected one is forgotten first.
const MAX_PEERS: usize = 8;
/// Room for a success response over IPv6: header, XOR-MAPPED-ADDRESS,
/// MESSAGE-INTEGRITY, FINGERPRINT.
const RESPONSE_CAPACITY: usize = 20 + 24 + 24 + 8;

/// The ICE credentials of one side (RFC 8445 §5.3): `ufrag` names the leg in
/// every check's USERNAME, `pwd` keys MESSAGE-INTEGRITY. `Debug` hides the
/// password.
#[derive(Clone, PartialEq, Eq)]
pub struct IceCredentials {
    /// The username fragment (`a=ice-ufrag`).
    pub ufrag: String,
    /// The password (`a=ice-pwd`).
    pub pwd: String,
}

impl IceCredentials {
    /// Fresh credentials from `rng`: a 16-character ufrag and a
    /// 32-character password of letters and digits (RFC 8445 §5.3 asks for
    /// at least 24 and 128 random bits; these carry 95 and 190).
    pub fn random(rng: &mut impl RngCore) -> Self {
        Self {
            ufrag: ice_chars(rng, 16),
            pwd: ice_chars(rng, 32),
        }
    }
}

impl fmt::Debug for IceCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IceCredentials")
            .field("ufrag", &self.ufrag)
            .finish_non_exhaustive()
    }
}

/// `n` ICE characters (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/"); ours are
/// letters and digits only.
fn ice_chars(rng: &mut impl RngCore, n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| char::from(ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()]))
        .collect()
}

/// What the responder reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceEvent {
    /// An authenticated check came from this address, the first from it:
    /// the browser holds it, so DTLS, SRTP and SRTCP from it may be
    /// accepted (the demux may route this 5-tuple to the leg).
    PeerAddress(SocketAddr),
    /// The browser nominated the pair to this address (USE-CANDIDATE):
    /// media goes there from now on.
    Nominated(SocketAddr),
    /// No valid check for the consent timeout: the browser is gone. The
    /// responder answers nothing more.
    ConsentExpired,
}

/// A STUN response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StunTransmit {
    /// The local address the request came to.
    pub source: SocketAddr,
    /// The address the request came from.
    pub destination: SocketAddr,
    /// The response.
    pub contents: Vec<u8>,
}

/// Why a STUN datagram was dropped without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dropped {
    /// Not well-formed STUN (header or attributes).
    Malformed,
    /// No FINGERPRINT, or one that does not match.
    Fingerprint,
    /// An indication or a response: an ICE-lite agent sends no requests.
    NotARequest,
    /// Consent expired; the responder is done.
    Expired,
}

/// What [`IceLite::handle_input`] did with a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckOutcome {
    /// Not STUN (RFC 7983: the first byte is not 0–3): DTLS, SRTP or SRTCP.
    NotStun,
    /// An authenticated Binding request, answered with a success response.
    Answered,
    /// Answered with an error response of this code (400, 401, 420, 487).
    Refused(u16),
    /// STUN dropped without an answer.
    Dropped(Dropped),
}

/// The ICE-lite responder of one leg. Sans-IO: datagrams and `now` in;
/// responses, events and the consent deadline out.
pub struct IceLite {
    local: IceCredentials,
    /// The browser's ufrag, once its SDP told it (an offer we answer, or the
    /// answer to ours); checks may come before the answer does.
    remote_ufrag: Option<String>,
    consent: ConsentTimer,
    alive: bool,
    peers: Vec<SocketAddr>,
    selected: Option<SocketAddr>,
    transmits: VecDeque<StunTransmit>,
    events: VecDeque<IceEvent>,
}

impl fmt::Debug for IceLite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IceLite")
            .field("local_ufrag", &self.local.ufrag)
            .field("remote_ufrag", &self.remote_ufrag)
            .field("alive", &self.alive)
            .field("selected", &self.selected)
            .finish_non_exhaustive()
    }
}

impl IceLite {
    /// A responder with our credentials `local`, the browser's ufrag if
    /// known, and a consent timer of `consent_timeout` (RFC 7675: 30 s,
    /// [`super::CONSENT_TIMEOUT`]) that starts at `now`.
    pub fn new(
        now: Instant,
        local: IceCredentials,
        remote_ufrag: Option<String>,
        consent_timeout: Duration,
    ) -> Self {
        Self {
            local,
            remote_ufrag,
            consent: ConsentTimer::new(now, consent_timeout),
            alive: true,
            peers: Vec::new(),
            selected: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Our ufrag: the first half of every check's USERNAME, which the demux
    /// routes on.
    pub fn local_ufrag(&self) -> &str {
        &self.local.ufrag
    }

    /// Our credentials (`a=ice-ufrag`, `a=ice-pwd` of our SDP).
    pub fn local_credentials(&self) -> &IceCredentials {
        &self.local
    }

    /// The browser's ufrag, once its SDP told it.
    pub fn remote_ufrag(&self) -> Option<&str> {
        self.remote_ufrag.as_deref()
    }

    /// The browser's ufrag arrived (its SDP answer to our offer).
    pub fn set_remote_ufrag(&mut self, ufrag: String) {
        self.remote_ufrag = Some(ufrag);
    }

    /// An ICE restart (RFC 8445 §9): checks are verified against the new
    /// credentials from now on. The selected address and consent stay until
    /// the browser nominates anew.
    pub fn restart(&mut self, local: IceCredentials, remote_ufrag: Option<String>) {
        debug!(old = %self.local.ufrag, new = %local.ufrag, "ice-lite: restart");
        self.local = local;
        self.remote_ufrag = remote_ufrag;
    }

    /// Counts consent from `now`, as if a check had just come: for a leg
    /// that offered, whose browser starts checking only once its user
    /// answers and its SDP answer is made.
    pub fn restart_consent(&mut self, now: Instant) {
        if self.alive {
            self.consent = ConsentTimer::new(now, self.consent.timeout());
        }
    }

    /// The address media goes to: the latest nominated one.
    pub fn selected(&self) -> Option<SocketAddr> {
        self.selected
    }

    /// Whether `addr` proved itself with an authenticated check.
    pub fn is_peer(&self, addr: SocketAddr) -> bool {
        self.peers.contains(&addr)
    }

    /// Whether consent holds (no [`IceEvent::ConsentExpired`] yet).
    pub fn is_alive(&self) -> bool {
        self.alive
    }

    /// A datagram arrived from `from` to the local address `to`. A STUN
    /// Binding request is verified and answered (drain
    /// [`Self::poll_transmit`]); anything that is not STUN is left to the
    /// caller ([`CheckOutcome::NotStun`]).
    pub fn handle_input(
        &mut self,
        now: Instant,
        from: SocketAddr,
        to: SocketAddr,
        datagram: &[u8],
    ) -> CheckOutcome {
        if !looks_like_stun(datagram) {
            return CheckOutcome::NotStun;
        }
        if !self.alive {
            return CheckOutcome::Dropped(Dropped::Expired);
        }
        let outcome = self.check(now, from, to, datagram);
        trace!(ufrag = %self.local.ufrag, ?outcome, "ice-lite: STUN");
        outcome
    }

    fn check(
        &mut self,
        now: Instant,
        from: SocketAddr,
        to: SocketAddr,
        datagram: &[u8],
    ) -> CheckOutcome {
        let Ok(msg) = Message::parse(datagram) else {
            return CheckOutcome::Dropped(Dropped::Malformed);
        };
        if msg.class != Class::Request {
            return CheckOutcome::Dropped(Dropped::NotARequest);
        }
        let Ok(attrs) = msg.attributes() else {
            return CheckOutcome::Dropped(Dropped::Malformed);
        };
        if !msg.fingerprint_ok(&attrs) {
            return CheckOutcome::Dropped(Dropped::Fingerprint);
        }
        let refuse = |this: &mut Self, code, authenticated: bool, unknown: &[u16]| {
            this.send_error(&msg, from, to, code, authenticated, unknown);
            CheckOutcome::Refused(code)
        };
        // RFC 5389 §10.1.2: authentication before anything else.
        let Some(username) = attrs.username.filter(|_| attrs.has_integrity()) else {
            return refuse(self, 400, false, &[]);
        };
        if !self.username_is_ours(username) {
            return refuse(self, 401, false, &[]);
        }
        if !msg.integrity_ok(&attrs, self.local.pwd.as_bytes()) {
            // Not `warn`: anyone who knows the ufrag can send these, as often
            // as they like.
            debug!(ufrag = %self.local.ufrag, "ice-lite: a check failed MESSAGE-INTEGRITY");
            return refuse(self, 401, false, &[]);
        }
        // RFC 5389 §7.3.1, then the ICE rules (RFC 8445 §7.3.1).
        if !attrs.unknown.is_empty() {
            return refuse(self, 420, true, &attrs.unknown);
        }
        if msg.method != BINDING || attrs.priority.is_none() {
            return refuse(self, 400, true, &[]);
        }
        if attrs.ice_controlled.is_some() {
            return refuse(self, 487, true, &[]);
        }
        self.accept(now, from, attrs.use_candidate);
        let mut w = MessageWriter::new(
            Class::SuccessResponse,
            BINDING,
            &msg.transaction_id,
            RESPONSE_CAPACITY,
        );
        w.xor_mapped_address(from);
        w.message_integrity(self.local.pwd.as_bytes());
        self.transmits.push_back(StunTransmit {
            source: to,
            destination: from,
            contents: w.fingerprint(),
        });
        CheckOutcome::Answered
    }

    /// `<our ufrag>:<their ufrag>`, theirs checked once known.
    fn username_is_ours(&self, username: &[u8]) -> bool {
        let Some((local, remote)) = std::str::from_utf8(username)
            .ok()
            .and_then(|u| u.split_once(':'))
        else {
            return false;
        };
        local == self.local.ufrag && self.remote_ufrag.as_deref().is_none_or(|r| r == remote)
    }

    /// An authenticated check from `from`: learn the address, the
    /// nomination, and refresh consent.
    fn accept(&mut self, now: Instant, from: SocketAddr, use_candidate: bool) {
        if !self.peers.contains(&from) {
            if self.peers.len() == MAX_PEERS
                && let Some(i) = self.peers.iter().position(|p| Some(*p) != self.selected)
            {
                self.peers.remove(i);
            }
            self.peers.push(from);
            debug!(ufrag = %self.local.ufrag, "ice-lite: a peer address proved itself");
            self.events.push_back(IceEvent::PeerAddress(from));
        }
        if use_candidate && self.selected != Some(from) {
            debug!(ufrag = %self.local.ufrag, "ice-lite: a pair was nominated");
            self.selected = Some(from);
            self.events.push_back(IceEvent::Nominated(from));
        }
        if self.selected.is_none_or(|s| s == from) {
            self.consent.refresh(now);
        }
    }

    fn send_error(
        &mut self,
        msg: &Message<'_>,
        from: SocketAddr,
        to: SocketAddr,
        code: u16,
        authenticated: bool,
        unknown: &[u16],
    ) {
        let reason = match code {
            400 => "Bad Request",
            401 => "Unauthorized",
            420 => "Unknown Attribute",
            _ => "Role Conflict",
        };
        let mut w = MessageWriter::new(Class::ErrorResponse, msg.method, &msg.transaction_id, 96);
        w.error_code(code, reason);
        if !unknown.is_empty() {
            w.unknown_attributes(unknown);
        }
        if authenticated {
            w.message_integrity(self.local.pwd.as_bytes());
        }
        self.transmits.push_back(StunTransmit {
            source: to,
            destination: from,
            contents: w.fingerprint(),
        });
    }

    /// The next response to send.
    pub fn poll_transmit(&mut self) -> Option<StunTransmit> {
        let t = self.transmits.pop_front();
        if self.transmits.is_empty() {
            // Give the queue's memory back: a leg holds one response at a
            // time, every few seconds.
            self.transmits = VecDeque::new();
        }
        t
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<IceEvent> {
        let e = self.events.pop_front();
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        e
    }

    /// When consent expires unless a check comes first; `None` once it has.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.alive.then(|| self.consent.deadline())
    }

    /// The deadline of [`Self::poll_timeout`] passed (or not yet).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.alive && self.consent.expired(now) {
            warn!(ufrag = %self.local.ufrag, "ice-lite: consent expired");
            self.alive = false;
            self.events.push_back(IceEvent::ConsentExpired);
        }
    }
}
