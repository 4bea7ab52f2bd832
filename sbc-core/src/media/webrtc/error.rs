//! Errors of the WebRTC leg.

use thiserror::Error;

/// Why a WebRTC leg could not be set up or could not send.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WebRtcError {
    /// The browser's SDP offer does not parse.
    #[error("the browser's SDP offer does not parse: {0}")]
    OfferSyntax(String),
    /// The offer parses but cannot be answered (no usable audio, no DTLS
    /// fingerprint, conflicting attributes).
    #[error("the browser's SDP offer cannot be answered: {0}")]
    OfferRejected(String),
    /// The browser's answer to the gateway's offer cannot be used.
    #[error("the browser's SDP answer cannot be used: {0}")]
    AnswerRejected(String),
    /// An answer came, and no offer of the gateway's was waiting for one.
    #[error("no offer of the gateway's is waiting for an answer")]
    NoPendingOffer,
    /// The offer has no audio m-line.
    #[error("the browser's SDP offer has no audio m-line")]
    NoAudio,
    /// An RTP packet was given to a leg that cannot send yet (not connected)
    /// or any more (disconnected).
    #[error("the leg is not connected")]
    NotConnected,
    /// The payload type is not one the browser accepted in the answer.
    #[error("payload type {0} was not negotiated with the browser")]
    UnknownPayloadType(u8),
    /// SRTP refused to protect the packet (a malformed header, e.g. an RTCP
    /// compound shorter than its header).
    #[error("the packet could not be sent: {0}")]
    Send(String),
}
