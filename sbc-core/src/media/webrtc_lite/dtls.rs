//! [`DtlsEndpoint`]: DTLS-SRTP (RFC 5763, RFC 5764) for one browser leg, on
//! dimpl's sans-IO DTLS 1.2.
//!
//! The endpoint runs the handshake as the DTLS server (our SDP said
//! `setup:passive`: the gateway answered a browser's `actpass` offer) or the
//! client (`setup:active`), presents the process's certificate
//! ([`super::DtlsIdentity`]), checks the peer's certificate against the
//! `a=fingerprint` of the peer's SDP, and hands out the SRTP keys of the
//! negotiated profile ([`SrtpKeys`]) only when that check passed:
//!
//! ```text
//! let mut dtls = DtlsEndpoint::new(now, &identity, DtlsRole::Server, their_fingerprint)?;
//! // datagram from the ICE-proved peer, first byte 20..=63 (RFC 7983):
//! dtls.handle_input(now, &datagram);
//! while let Some(record) = dtls.poll_transmit() { send to the selected address }
//! while let Some(event) = dtls.poll_event() {
//!     match event {
//!         DtlsEvent::Connected(keys) => set up SRTP with keys,
//!         DtlsEvent::Failed(why) | .. => the leg is dead,
//!     }
//! }
//! // at dtls.poll_timeout(): dtls.handle_timeout(now) (flight retransmissions)
//! ```
//!
//! dimpl negotiates `use_srtp` itself: as a client it offers
//! SRTP_AEAD_AES_256_GCM, SRTP_AEAD_AES_128_GCM, SRTP_AES128_CM_SHA1_80 in
//! that order; as a DTLS 1.2 server it picks the first of that same list the
//! client offers. Neither order can be configured in dimpl 0.9.
//!
//! After the handshake DTLS carries nothing a WebRTC audio leg uses (no data
//! channels) but the retransmission of our last flight, should the peer
//! not have received it, and close_notify. Once the peer has proved it holds
//! the keys (its first SRTP or SRTCP packet authenticated),
//! [`DtlsEndpoint::release_handshake`] drops dimpl's state (about 9 KB per
//! call, `docs/benchmarks.md`); DTLS records are then ignored, so a
//! close_notify goes unnoticed and the leg ends by consent or signalling.

use std::collections::VecDeque;
use std::time::Instant;

use dimpl::{Dtls, Output};
use tracing::{debug, trace, warn};

use crate::sdp::{Fingerprint, Setup};

use super::error::{DtlsFailure, DtlsSetupError};
use super::fingerprint;
use super::identity::DtlsIdentity;
use super::srtp_keys::{DtlsSrtpProfile, SrtpKeys};

/// The poll buffer: above dimpl's default MTU (1150), so a record fits at
/// the first try; [`Output::BufferTooSmall`] grows it otherwise.
const POLL_BUF: usize = 1500;

/// Which end of the DTLS handshake we are (RFC 5763 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsRole {
    /// We accept the handshake: our SDP says `setup:passive`.
    Server,
    /// We start it: our SDP says `setup:active`.
    Client,
}

impl DtlsRole {
    /// The role our own `a=setup` gives us; `None` for `actpass` (an offer
    /// not answered yet) and `holdconn`.
    pub fn from_local_setup(setup: Setup) -> Option<Self> {
        match setup {
            Setup::Passive => Some(Self::Server),
            Setup::Active => Some(Self::Client),
            Setup::ActPass | Setup::HoldConn => None,
        }
    }
}

/// What the endpoint reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtlsEvent {
    /// The handshake completed, the peer's certificate matched its SDP
    /// fingerprint, and these are the SRTP keys of the negotiated profile.
    Connected(SrtpKeys),
    /// The handshake failed; the endpoint is done.
    Failed(DtlsFailure),
    /// The peer closed DTLS (close_notify) after the handshake.
    ClosedByPeer,
}

enum State {
    /// The handshake runs.
    Handshaking(Box<Dtls>),
    /// Keys handed out; dimpl kept for retransmissions and close_notify
    /// until [`DtlsEndpoint::release_handshake`].
    Connected(Option<Box<Dtls>>),
    /// Failed or closed.
    Done,
}

/// What one drain of dimpl's outputs found that changes the state.
enum Verdict {
    Continue,
    Fail(DtlsFailure),
    ClosedByPeer,
}

/// One DTLS-SRTP association. Sans-IO: datagrams and `now` in; records,
/// events and the next retransmission deadline out.
pub struct DtlsEndpoint {
    state: State,
    facts: Facts,
    transmits: VecDeque<Vec<u8>>,
    events: VecDeque<DtlsEvent>,
}

/// What the endpoint knows of its handshake, apart from dimpl's state.
struct Facts {
    role: DtlsRole,
    remote_fingerprint: Fingerprint,
    /// The peer's certificate matched `remote_fingerprint`.
    peer_verified: bool,
    /// dimpl reported the handshake complete.
    connected: bool,
    /// Keys exported from a verified peer, until handed out.
    keys: Option<SrtpKeys>,
    /// dimpl's next deadline.
    timeout: Option<Instant>,
    /// The latest time given: dimpl wants it never to go back.
    last_now: Instant,
}

impl std::fmt::Debug for DtlsEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Handshaking(_) => "handshaking",
            State::Connected(Some(_)) => "connected",
            State::Connected(None) => "connected, handshake released",
            State::Done => "done",
        };
        f.debug_struct("DtlsEndpoint")
            .field("role", &self.facts.role)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl DtlsEndpoint {
    /// An endpoint in `role` presenting `identity`'s certificate, which
    /// accepts only a peer whose certificate hashes to `remote_fingerprint`
    /// (the peer's SDP `a=fingerprint`). A client queues its ClientHello at
    /// once (drain [`Self::poll_transmit`]).
    pub fn new(
        now: Instant,
        identity: &DtlsIdentity,
        role: DtlsRole,
        remote_fingerprint: Fingerprint,
    ) -> Result<Self, DtlsSetupError> {
        if !fingerprint::supported(&remote_fingerprint.hash) {
            return Err(DtlsSetupError::UnsupportedFingerprint(
                remote_fingerprint.hash,
            ));
        }
        // The identity parsed the key: dimpl's `expect` on it cannot fire.
        let mut dtls = Box::new(Dtls::new_12(identity.config(), identity.certificate(), now));
        if role == DtlsRole::Client {
            dtls.set_active(true);
        }
        let mut endpoint = Self {
            state: State::Handshaking(dtls),
            facts: Facts {
                role,
                remote_fingerprint,
                peer_verified: false,
                connected: false,
                keys: None,
                timeout: None,
                last_now: now,
            },
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        endpoint.step(now, None);
        Ok(endpoint)
    }

    /// Our role.
    pub fn role(&self) -> DtlsRole {
        self.facts.role
    }

    /// Whether the handshake completed and the endpoint has not failed or
    /// closed since.
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected(_))
    }

    /// Whether the handshake failed or DTLS closed.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// A DTLS datagram (first byte 20..=63, RFC 7983) from the peer. Give
    /// only datagrams from an address that passed ICE.
    pub fn handle_input(&mut self, now: Instant, datagram: &[u8]) {
        if matches!(self.state, State::Connected(None)) {
            trace!(
                len = datagram.len(),
                "dtls: record after the handshake was released, ignored"
            );
            return;
        }
        self.step(now, Some(datagram));
    }

    /// The deadline of [`Self::poll_timeout`] passed (or not yet).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.step(now, None);
    }

    /// The next record to send to the peer's selected address.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let t = self.transmits.pop_front();
        if self.transmits.is_empty() {
            self.transmits = VecDeque::new();
        }
        t
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DtlsEvent> {
        let e = self.events.pop_front();
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        e
    }

    /// When to call [`Self::handle_timeout`]: the next flight
    /// retransmission or the handshake deadline. `None` once there is
    /// nothing left to time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Handshaking(_) | State::Connected(Some(_)) => self.facts.timeout,
            State::Connected(None) | State::Done => None,
        }
    }

    /// Drops dimpl's handshake state once the peer has proved it holds the
    /// keys (its first SRTP or SRTCP packet authenticated with
    /// [`SrtpKeys::remote`]): from then on it never needs our last flight
    /// again. DTLS records are ignored afterwards, close_notify included.
    pub fn release_handshake(&mut self) {
        if let State::Connected(dtls @ Some(_)) = &mut self.state {
            *dtls = None;
            self.facts.timeout = None;
            debug!(role = ?self.facts.role, "dtls: handshake state released");
        }
    }

    /// Sends close_notify (if connected and not released) and ends the
    /// endpoint; drain [`Self::poll_transmit`] for the alert.
    pub fn close(&mut self) {
        if let State::Handshaking(dtls) | State::Connected(Some(dtls)) = &mut self.state
            && dtls.close().is_ok()
        {
            // Only the alert matters now; whatever else dimpl says is moot.
            let _ = drain(dtls, &mut self.facts, &mut self.transmits);
        }
        self.state = State::Done;
    }

    /// Feeds dimpl the time (it must hear of every new instant before a
    /// packet) and the datagram, then drains it and settles the state.
    fn step(&mut self, now: Instant, datagram: Option<&[u8]>) {
        let (State::Handshaking(dtls) | State::Connected(Some(dtls))) = &mut self.state else {
            return;
        };
        let now = now.max(self.facts.last_now);
        self.facts.last_now = now;
        let fed = dtls
            .handle_timeout(now)
            .and_then(|()| datagram.map_or(Ok(()), |d| dtls.handle_packet(d)));
        let verdict = match fed {
            Err(e) => {
                debug!(role = ?self.facts.role, error = %e, "dtls: dimpl gave up");
                Verdict::Fail(DtlsFailure::from(&e))
            }
            Ok(()) => drain(dtls, &mut self.facts, &mut self.transmits),
        };
        match verdict {
            Verdict::Fail(why) => self.fail(why),
            Verdict::ClosedByPeer => self.closed_by_peer(),
            Verdict::Continue => self.settle(),
        }
    }

    /// Moves to `Connected` once dimpl is connected with keys from a
    /// verified peer, or fails when it connected without one of them.
    fn settle(&mut self) {
        if !self.facts.connected || !matches!(self.state, State::Handshaking(_)) {
            return;
        }
        let why = if !self.facts.peer_verified {
            DtlsFailure::NoPeerCertificate
        } else if let Some(keys) = self.facts.keys.take() {
            let State::Handshaking(dtls) = std::mem::replace(&mut self.state, State::Done) else {
                return;
            };
            debug!(role = ?self.facts.role, profile = %keys.profile(), "dtls: connected");
            self.state = State::Connected(Some(dtls));
            self.events.push_back(DtlsEvent::Connected(keys));
            return;
        } else {
            DtlsFailure::NoSrtpProfile
        };
        self.fail(why);
    }

    fn fail(&mut self, why: DtlsFailure) {
        if matches!(self.state, State::Done) {
            return;
        }
        warn!(role = ?self.facts.role, %why, "dtls: failed");
        // A failure after the handshake (dimpl refusing a later record) ends
        // DTLS too; the keys already handed out stay valid for SRTP, but the
        // leg should treat the peer as gone.
        self.state = State::Done;
        self.facts.keys = None;
        self.facts.timeout = None;
        self.transmits = VecDeque::new();
        self.events.push_back(DtlsEvent::Failed(why));
    }

    fn closed_by_peer(&mut self) {
        let during_handshake = matches!(self.state, State::Handshaking(_));
        if during_handshake {
            self.fail(DtlsFailure::ClosedDuringHandshake);
            return;
        }
        debug!(role = ?self.facts.role, "dtls: closed by the peer");
        self.state = State::Done;
        self.facts.timeout = None;
        self.events.push_back(DtlsEvent::ClosedByPeer);
    }
}

/// Polls dimpl until it returns its next timeout, collecting records and
/// acting on its events.
fn drain(dtls: &mut Dtls, facts: &mut Facts, transmits: &mut VecDeque<Vec<u8>>) -> Verdict {
    let mut buf = vec![0; POLL_BUF];
    loop {
        match dtls.poll_output(&mut buf) {
            Output::Packet(record) => transmits.push_back(record.to_vec()),
            Output::BufferTooSmall { needed } => buf.resize(needed, 0),
            Output::Timeout(at) => {
                facts.timeout = Some(at);
                return Verdict::Continue;
            }
            Output::PeerCert(der) => {
                if !fingerprint::matches(&facts.remote_fingerprint, der) {
                    return Verdict::Fail(DtlsFailure::FingerprintMismatch);
                }
                facts.peer_verified = true;
            }
            Output::Connected => facts.connected = true,
            Output::KeyingMaterial(material, profile) => {
                if !facts.peer_verified {
                    return Verdict::Fail(DtlsFailure::NoPeerCertificate);
                }
                let keys = DtlsSrtpProfile::from_dimpl(profile)
                    .and_then(|profile| SrtpKeys::split(&material, profile, facts.role));
                match keys {
                    Some(k) => facts.keys = Some(k),
                    None => return Verdict::Fail(DtlsFailure::NoSrtpProfile),
                }
            }
            Output::ApplicationData(data) => {
                trace!(
                    len = data.len(),
                    "dtls: application data ignored (no data channels)"
                );
            }
            Output::CloseNotify => return Verdict::ClosedByPeer,
            _ => {}
        }
    }
}
