//! Media: the SIP side's RTP leg, the relay between the browser leg and the
//! PBX leg, and the RTP/RTCP packet formats and statistics they share. All
//! sans-IO: packets and `now` come in, rewritten packets, reports, events and
//! deadlines go out; the gateway runtime owns the sockets.
//!
//! - [`rtp`]: zero-copy RTP header view, in-place rewriting, RTP/RTCP demux.
//! - [`rtcp`]: compound RTCP parsing and SR/RR building, RTT from LSR/DLSR.
//! - [`stats`]: per-stream receive statistics (RFC 3550 A.1, A.3, A.8).
//! - [`emodel`]: MOS estimate from the simplified ITU-T G.107 E-model.
//! - [`dtmf`]: RFC 4733 telephone-events, decoded and generated.
//! - [`srtp`]: SRTP/SRTCP: AES-CM (RFC 3711, SDES toward the PBX) and
//!   AEAD-AES-GCM (RFC 7714, DTLS-SRTP toward the browser).
//! - [`rtp_leg`]: symmetric latching without RTP bleed, media timeout.
//! - [`bridge`]: the per-call relay: PT/SSRC/seq/ts rewriting, DTMF, RTCP.
//! - [`webrtc`]: the browser's leg (its SDP, ICE-lite, DTLS-SRTP, RTP in
//!   and out) and the demultiplexer of the one UDP port all browser legs
//!   share.
//! - [`webrtc_lite`]: the leg's transport parts: the ICE-lite responder
//!   and DTLS-SRTP on dimpl.

pub mod bridge;
pub mod dtmf;
pub mod emodel;
pub mod rtcp;
pub mod rtp;
pub mod rtp_leg;
pub mod srtp;
pub mod stats;
pub mod webrtc;
pub mod webrtc_lite;

#[cfg(test)]
mod e2e_tests;
#[cfg(test)]
mod scenario_tests;
#[cfg(test)]
mod test_browser;
