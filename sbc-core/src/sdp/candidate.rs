//! ICE candidates as SDP carries them (RFC 8839 §5.1):
//! `foundation component transport priority address port typ type
//! [raddr a rport p] *(name value)`.

use super::parse::number;
use std::fmt;
use std::net::IpAddr;

/// The candidate type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateType {
    /// `host`
    Host,
    /// `srflx`
    ServerReflexive,
    /// `prflx`
    PeerReflexive,
    /// `relay`
    Relay,
    /// Another token, as written.
    Other(String),
}

impl CandidateType {
    fn from_token(s: &str) -> Self {
        match s {
            "host" => CandidateType::Host,
            "srflx" => CandidateType::ServerReflexive,
            "prflx" => CandidateType::PeerReflexive,
            "relay" => CandidateType::Relay,
            other => CandidateType::Other(other.into()),
        }
    }

    /// The token as printed.
    pub fn as_str(&self) -> &str {
        match self {
            CandidateType::Host => "host",
            CandidateType::ServerReflexive => "srflx",
            CandidateType::PeerReflexive => "prflx",
            CandidateType::Relay => "relay",
            CandidateType::Other(s) => s,
        }
    }
}

/// One `a=candidate:` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// 1 to 32 ice-chars.
    pub foundation: String,
    /// 1 for RTP, 2 for RTCP.
    pub component: u16,
    /// `UDP` or `TCP` as written (case-insensitive on reading).
    pub transport: String,
    /// The priority.
    pub priority: u32,
    /// The connection address: an IP address or an FQDN (mDNS `….local`).
    pub address: String,
    /// The port.
    pub port: u16,
    /// The type.
    pub typ: CandidateType,
    /// `raddr`, if given.
    pub related_address: Option<String>,
    /// `rport`, if given.
    pub related_port: Option<u16>,
    /// Further `name value` pairs (`generation 0`, `network-id 1`, `tcptype
    /// passive`…), in order.
    pub extensions: Vec<(String, String)>,
}

impl Candidate {
    /// A host candidate on `ip:port`, UDP, component 1, with the highest
    /// type preference (RFC 8445 §5.1.2.1: 126 for host, local preference
    /// 65535).
    pub fn host(foundation: &str, ip: IpAddr, port: u16) -> Self {
        Candidate {
            foundation: foundation.into(),
            component: 1,
            transport: "UDP".into(),
            priority: (126 << 24) | (65535 << 8) | 255,
            address: ip.to_string(),
            port,
            typ: CandidateType::Host,
            related_address: None,
            related_port: None,
            extensions: Vec::new(),
        }
    }

    /// Parses a `candidate` value (an optional leading `candidate:`, as the
    /// trickle JSON form carries, is accepted).
    pub fn parse(v: &str) -> Option<Self> {
        let v = v.strip_prefix("candidate:").unwrap_or(v);
        let mut it = v.split_ascii_whitespace();
        let foundation = it.next().filter(|f| f.len() <= 32)?.to_owned();
        let component = number(it.next()?).filter(|c| (1..=256).contains(c))?;
        let transport = it.next()?.to_owned();
        let priority = number(it.next()?)?;
        let address = it.next()?.to_owned();
        let port = number(it.next()?)?;
        if it.next()? != "typ" {
            return None;
        }
        let typ = CandidateType::from_token(it.next()?);
        let mut c = Candidate {
            foundation,
            component,
            transport,
            priority,
            address,
            port,
            typ,
            related_address: None,
            related_port: None,
            extensions: Vec::new(),
        };
        while let Some(name) = it.next() {
            let value = it.next()?;
            match name {
                "raddr" if c.related_address.is_none() => c.related_address = Some(value.into()),
                "rport" if c.related_port.is_none() => c.related_port = Some(number(value)?),
                _ => c.extensions.push((name.into(), value.into())),
            }
        }
        Some(c)
    }

    /// The address as an IP address; `None` for an FQDN (mDNS).
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }

    /// Whether the transport is UDP.
    pub fn is_udp(&self) -> bool {
        self.transport.eq_ignore_ascii_case("udp")
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            self.transport,
            self.priority,
            self.address,
            self.port,
            self.typ.as_str()
        )?;
        if let Some(a) = &self.related_address {
            write!(f, " raddr {a}")?;
        }
        if let Some(p) = self.related_port {
            write!(f, " rport {p}")?;
        }
        self.extensions
            .iter()
            .try_for_each(|(n, v)| write!(f, " {n} {v}"))
    }
}
