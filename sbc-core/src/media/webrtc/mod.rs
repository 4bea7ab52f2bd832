//! The browser's media leg: one [`WebRtcLeg`] per browser peer connection,
//! answering the browser's offer as an ICE-lite endpoint with DTLS-SRTP,
//! rtcp-mux and BUNDLE, and relaying raw RTP packets in and out.
//!
//! All legs share one UDP port (`media.webrtc_port`); the [`Demux`] routes
//! each received datagram to its leg, by ICE username for the first STUN
//! checks and by 5-tuple once the browser proved its address.
//!
//! The leg is sans-IO like everything in this crate:
//!
//! ```text
//! let (mut leg, answer) = WebRtcLeg::accept_offer(now, &config, &offer, &mut rng)?;
//! demux.insert_leg(id, leg.local_ufrag());
//! loop {
//!     match leg.poll_output() {
//!         Output::Transmit(t) => socket.send_to(&t.contents, t.destination),
//!         Output::Event(Event::PeerAddress(a)) => demux.learn(id, a, local),
//!         Output::Event(e) => react(e),
//!         Output::Timeout(at) => { wait for a datagram or `at`; break }
//!     }
//! }
//! // datagram: if demux.route(from, to, &buf) == Some(id) { leg.handle_input(now, from, to, &buf) }
//! // timer:    leg.handle_timeout(now)
//! ```
//!
//! The leg is built from the str0m-free transport parts of
//! [`super::webrtc_lite`] (the ICE-lite responder, DTLS on dimpl) and the
//! SRTP contexts of [`super::srtp`]; its SDP is written by `sdp`. str0m is
//! left only as the browser of the tests. Why: `docs/decisions.md`.

pub mod demux;
mod error;
mod leg;
mod sdp;

pub use super::srtp::SrtpProfile;
pub use demux::{Demux, DemuxStats, LegId, stun_username};
pub use error::WebRtcError;
pub use leg::{DisconnectReason, Event, Output, RtpPacket, Transmit, WebRtcConfig, WebRtcLeg};

#[cfg(test)]
mod tests;
