//! Errors of the SIP message layer, each saying what went wrong and which
//! response (if any) it earns on the wire.

/// Why a SIP message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The message is larger than [`Limits::max_message_size`](super::Limits).
    #[error("message larger than {limit} bytes")]
    TooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// More header lines than [`Limits::max_headers`](super::Limits).
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The limit in force.
        limit: usize,
    },
    /// The buffer ends before the header section (or body) does.
    #[error("incomplete message")]
    Incomplete,
    /// The request or status line is malformed.
    #[error("malformed start line")]
    StartLine,
    /// A well-formed request line names a SIP version other than 2.0.
    #[error("unsupported SIP version")]
    Version,
    /// A status code outside 100..=699.
    #[error("status code out of range")]
    StatusCode,
    /// A header line that is not `name: value`.
    #[error("malformed header line")]
    HeaderLine,
    /// A header whose value breaks its grammar.
    #[error("malformed {0} header")]
    Header(&'static str),
    /// A URI that breaks its grammar.
    #[error("malformed URI")]
    Uri,
    /// A header every request must carry is missing.
    #[error("missing mandatory {0} header")]
    Missing(&'static str),
    /// A header allowed once appears more than once.
    #[error("{0} header appears more than once")]
    Duplicate(&'static str),
    /// The CSeq method differs from the request method.
    #[error("CSeq method does not match the request method")]
    CSeqMismatch,
    /// Content-Length is malformed or disagrees with the bytes received.
    #[error("Content-Length disagrees with the message")]
    ContentLength,
    /// A datagram shorter than its Content-Length says (RFC 3261 §18.3:
    /// discarded on UDP).
    #[error("datagram shorter than its Content-Length")]
    Truncated,
    /// A Request-URI carrying URI headers (`?name=value`).
    #[error("Request-URI carries URI headers")]
    RequestUriHeaders,
}

impl Error {
    /// The response a request earns for this error; `None` where the message
    /// must be dropped silently instead.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Incomplete | Error::Truncated => None,
            Error::TooLarge { .. } => Some(513),
            Error::Version => Some(505),
            _ => Some(400),
        }
    }
}
