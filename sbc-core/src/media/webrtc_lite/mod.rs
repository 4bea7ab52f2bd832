//! The transport of the browser leg ([`super::webrtc::WebRtcLeg`]),
//! sans-IO: an ICE-lite responder ([`IceLite`]) and DTLS-SRTP on dimpl
//! ([`DtlsEndpoint`]), with the SRTP keys DTLS exports ([`SrtpKeys`]).
//!
//! One UDP port carries all browser legs; RFC 7983 splits what arrives by
//! its first byte: STUN (0–3) goes to the responder, DTLS (20–63) to the
//! endpoint, but only from an address the responder saw prove itself, and
//! SRTP/SRTCP (128–191) to the SRTP contexts keyed with what DTLS exported:
//!
//! ```text
//! let creds = IceCredentials::random(&mut rng);          // our a=ice-ufrag / a=ice-pwd
//! let mut ice = IceLite::new(now, creds, Some(their_ufrag), CONSENT_TIMEOUT);
//! let mut dtls = DtlsEndpoint::new(now, &identity, DtlsRole::Server, their_fingerprint)?;
//! // a datagram from `from` to `to`:
//! match ice.handle_input(now, from, to, &datagram) {
//!     CheckOutcome::NotStun if is_dtls(&datagram) && ice.is_peer(from) => dtls.handle_input(now, &datagram),
//!     CheckOutcome::NotStun => srtp or drop,
//!     _ => {}                                              // STUN: answered or dropped
//! }
//! while let Some(t) = ice.poll_transmit() { socket.send_to(&t.contents, t.destination) }
//! while let Some(r) = dtls.poll_transmit() { socket.send_to(&r, ice.selected()) }
//! while let Some(e) = ice.poll_event() { PeerAddress → demux.learn, ConsentExpired → end }
//! while let Some(e) = dtls.poll_event() { Connected(keys) → SRTP contexts, Failed → end }
//! // timer: min(ice.poll_timeout(), dtls.poll_timeout()) → handle_timeout(now) on both
//! ```
//!
//! - [`stun`]: the STUN wire format the responder needs (RFC 5389).
//! - [`IceLite`]: Binding requests answered and verified, peer addresses,
//!   nominations, consent freshness (RFC 8445 §2.5, RFC 7675).
//! - [`DtlsEndpoint`] with [`DtlsIdentity`]: the handshake in either role,
//!   the peer's certificate checked against its SDP fingerprint, and the
//!   SRTP keys ([`SrtpKeys`], RFC 5764 §4.2) of the negotiated profile.

mod consent;
mod dtls;
mod error;
mod fingerprint;
mod ice_lite;
mod identity;
mod srtp_keys;
pub mod stun;

pub use consent::CONSENT_TIMEOUT;
pub use dtls::{DtlsEndpoint, DtlsEvent, DtlsRole};
pub use error::{DtlsFailure, DtlsFault, DtlsSetupError};
pub use fingerprint::{matches as fingerprint_matches, sha256_of as sha256_fingerprint};
pub use ice_lite::{CheckOutcome, Dropped, IceCredentials, IceEvent, IceLite, StunTransmit};
pub use identity::DtlsIdentity;
pub use srtp_keys::{DtlsSrtpProfile, SrtpKeys, SrtpMasterKey};
pub use stun::{looks_like_stun, stun_username};

/// Whether `datagram` is DTLS by its first byte (RFC 7983 §7: 20–63).
pub fn looks_like_dtls(datagram: &[u8]) -> bool {
    matches!(datagram.first(), Some(20..=63))
}

#[cfg(test)]
pub(crate) mod tests;
