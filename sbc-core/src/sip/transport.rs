//! The transports SIP runs over, as Via names them and as the transaction
//! layer treats them (reliable or not).

use std::fmt;

/// A transport named in a Via.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// UDP (RFC 3261).
    Udp,
    /// TCP (RFC 3261).
    Tcp,
    /// TLS over TCP (RFC 3261).
    Tls,
    /// SCTP (RFC 4168).
    Sctp,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket (RFC 7118).
    Wss,
}

impl Transport {
    /// The token as a Via writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Sctp => "SCTP",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    /// Reads a Via transport token, ignoring case; `None` for others.
    pub fn from_bytes(token: &[u8]) -> Option<Transport> {
        [
            Transport::Udp,
            Transport::Tcp,
            Transport::Tls,
            Transport::Sctp,
            Transport::Ws,
            Transport::Wss,
        ]
        .into_iter()
        .find(|t| t.as_str().as_bytes().eq_ignore_ascii_case(token))
    }

    /// True for every transport but UDP: no retransmissions, and the
    /// absorbing timers D, I, J and K are zero.
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// True for the transports that encrypt (TLS, WSS): what a dialog's
    /// secure flag requires (RFC 3261 §12.1.1).
    pub fn is_secure(self) -> bool {
        matches!(self, Transport::Tls | Transport::Wss)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
