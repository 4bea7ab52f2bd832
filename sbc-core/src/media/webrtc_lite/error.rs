//! Errors of the browser leg's transport: setting a DTLS endpoint up
//! ([`DtlsSetupError`]) and why a handshake failed ([`DtlsFailure`]).

use thiserror::Error;

use crate::sdp::HashFunction;

/// A DTLS identity or endpoint could not be made. Nothing here comes from
/// the network but the peer's fingerprint function.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DtlsSetupError {
    /// Generating the key pair and certificate failed.
    #[error("the DTLS certificate could not be generated")]
    CertificateGeneration,
    /// The certificate is empty or its private key does not parse.
    #[error("the DTLS certificate or its private key is unusable")]
    BadCertificate,
    /// dimpl refused the configuration (its crypto provider self-test).
    #[error("the DTLS configuration was refused")]
    Config,
    /// The peer's SDP fingerprint uses a hash function that cannot be
    /// checked (RFC 8122 §5 lets it; browsers use SHA-256): the SDP is to
    /// be refused (488).
    #[error("the peer's fingerprint uses {}, which cannot be checked", .0.as_str())]
    UnsupportedFingerprint(HashFunction),
}

/// What in the DTLS exchange went wrong, as dimpl reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtlsFault {
    /// A message out of place or malformed beyond recovery.
    UnexpectedMessage,
    /// A signature, MAC or key exchange failed.
    Crypto,
    /// The peer's certificate could not be used.
    Certificate,
    /// A security requirement was not met (no extended master secret, no
    /// common cipher suite or group).
    SecurityPolicy,
    /// A queue limit was reached (a peer flooding handshake records).
    QueueFull,
    /// The peer tried to renegotiate.
    Renegotiation,
    /// The connection was already closed.
    Closed,
    /// Anything else dimpl reports.
    Other,
}

impl From<&dimpl::Error> for DtlsFault {
    fn from(e: &dimpl::Error) -> Self {
        use dimpl::Error as E;
        match e {
            E::UnexpectedMessage(_) | E::IncompleteServerHello | E::TooManyClientHelloFragments => {
                DtlsFault::UnexpectedMessage
            }
            E::CryptoError(_) => DtlsFault::Crypto,
            E::CertificateError(_) => DtlsFault::Certificate,
            E::SecurityError(_) => DtlsFault::SecurityPolicy,
            E::ReceiveQueueFull | E::TransmitQueueFull | E::TransmitHistoryFull => {
                DtlsFault::QueueFull
            }
            E::RenegotiationAttempt => DtlsFault::Renegotiation,
            E::ConnectionClosed => DtlsFault::Closed,
            _ => DtlsFault::Other,
        }
    }
}

/// Why a DTLS endpoint gave up. Every failure is final: the leg is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DtlsFailure {
    /// The peer's certificate does not hash to the fingerprint of its SDP
    /// (RFC 8122 §5): someone else is at the other end.
    #[error("the peer's certificate does not match its SDP fingerprint")]
    FingerprintMismatch,
    /// The handshake completed without the peer's certificate having been
    /// checked.
    #[error("the handshake completed without a peer certificate")]
    NoPeerCertificate,
    /// The handshake completed without `use_srtp` (RFC 5764 §4.1): the peer
    /// is not doing DTLS-SRTP.
    #[error("the peer negotiated no SRTP protection profile")]
    NoSrtpProfile,
    /// The handshake did not complete in time (flights unanswered).
    #[error("the DTLS handshake timed out")]
    HandshakeTimeout,
    /// The peer closed (close_notify) before the handshake completed.
    #[error("the peer closed DTLS during the handshake")]
    ClosedDuringHandshake,
    /// dimpl refused the exchange.
    #[error("the DTLS exchange failed: {0:?}")]
    Protocol(DtlsFault),
}

impl From<&dimpl::Error> for DtlsFailure {
    fn from(e: &dimpl::Error) -> Self {
        match e {
            dimpl::Error::Timeout(_) => DtlsFailure::HandshakeTimeout,
            e => DtlsFailure::Protocol(e.into()),
        }
    }
}
