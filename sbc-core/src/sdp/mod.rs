//! SDP (RFC 8866, offer/answer RFC 3264): the session-description model with
//! its parser and printer, typed views of the attributes a gateway reads
//! (RTP, ICE, DTLS, SDES), codec and payload-type mapping, and the
//! translation between the browser's WebRTC SDP and the PBX's RTP/AVP SDP.
//!
//! Unlike SIP messages, a session description is parsed once per offer or
//! answer and then edited, so the model is owned (`String`s), not a view over
//! the received bytes. Attributes are kept verbatim and in order; typed
//! accessors ([`MediaDescription::rtpmaps`], [`MediaDescription::candidates`],
//! …) parse them on demand, skipping any a peer wrote malformed.

pub mod candidate;
pub mod codec;
pub mod crypto;
pub mod direction;
pub mod dtls;
pub mod error;
pub mod model;
pub mod parse;
pub mod rtp_attrs;
pub mod translate;

mod access;
mod print;

pub use candidate::{Candidate, CandidateType};
pub use codec::{Codec, CodecPolicy, PayloadFormat, PayloadMap};
pub use crypto::Crypto;
pub use direction::Direction;
pub use dtls::{Fingerprint, HashFunction, Setup};
pub use error::ParseError;
pub use model::{
    AddrType, Attribute, Bandwidth, Connection, MediaDescription, Origin, SessionDescription,
    Timing,
};
pub use parse::Limits;
pub use rtp_attrs::{Extmap, Fmtp, Group, Msid, Rtcp, RtcpFb, Rtpmap, Ssrc, SsrcGroup};
pub use translate::TranslateError;

#[cfg(test)]
pub(crate) mod tests;
