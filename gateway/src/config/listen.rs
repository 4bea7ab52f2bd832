//! SIP listener addresses: `TRANSPORT:IP:PORT`, e.g. `udp:0.0.0.0:5060` or `tls:[::1]:5061`.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// The transport of a SIP listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SipTransport {
    /// SIP over UDP (RFC 3261 §18).
    Udp,
    /// SIP over TCP.
    Tcp,
    /// SIP over TLS over TCP (the `sips:` transport).
    Tls,
}

impl SipTransport {
    /// The lower-case name used in `sip.listen` and in `;transport=` parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            SipTransport::Udp => "udp",
            SipTransport::Tcp => "tcp",
            SipTransport::Tls => "tls",
        }
    }

    /// Whether the transport runs over a TCP connection.
    pub fn is_stream(self) -> bool {
        !matches!(self, SipTransport::Udp)
    }
}

impl fmt::Display for SipTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One SIP listener: a transport and the local address it binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SipListen {
    /// UDP, TCP or TLS.
    pub transport: SipTransport,
    /// The local address to bind.
    pub addr: SocketAddr,
}

/// A `sip.listen` entry that is not `TRANSPORT:IP:PORT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not TRANSPORT:IP:PORT")]
pub struct ParseListenError;

impl FromStr for SipListen {
    type Err = ParseListenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (transport, addr) = s.trim().split_once(':').ok_or(ParseListenError)?;
        let transport = match transport.to_ascii_lowercase().as_str() {
            "udp" => SipTransport::Udp,
            "tcp" => SipTransport::Tcp,
            "tls" => SipTransport::Tls,
            _ => return Err(ParseListenError),
        };
        let addr = addr.parse().map_err(|_| ParseListenError)?;
        Ok(SipListen { transport, addr })
    }
}

impl fmt::Display for SipListen {
    /// The `sip.listen` form, which parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.transport, self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v4_v6_and_every_transport() {
        let cases = [
            ("udp:0.0.0.0:5060", SipTransport::Udp, "0.0.0.0:5060"),
            ("TCP:127.0.0.1:5070", SipTransport::Tcp, "127.0.0.1:5070"),
            ("tls:[::1]:5061", SipTransport::Tls, "[::1]:5061"),
        ];
        for (text, transport, addr) in cases {
            let listen: SipListen = text.parse().expect(text);
            assert_eq!(listen.transport, transport);
            assert_eq!(listen.addr, addr.parse::<SocketAddr>().expect(addr));
            assert_eq!(listen.to_string().parse::<SipListen>(), Ok(listen));
        }
    }

    #[test]
    fn rejects_malformed_entries() {
        for text in [
            "",
            "udp",
            "udp:",
            "sctp:0.0.0.0:5060",
            "udp:0.0.0.0",
            "udp:::1:5060",
            "udp:localhost:5060",
            "0.0.0.0:5060",
            "udp:0.0.0.0:70000",
        ] {
            assert_eq!(text.parse::<SipListen>(), Err(ParseListenError), "{text}");
        }
    }
}
