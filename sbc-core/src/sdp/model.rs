//! The session-description model (RFC 8866 §5): session-level fields, media
//! sections and attributes, owned and editable. Lines SDP defines but a
//! gateway never reads (`i=`, `u=`, `e=`, `p=`, `r=`, `z=`, `k=`) are kept as
//! written so that printing gives them back.

use std::net::IpAddr;

/// A whole session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`
    pub origin: Origin,
    /// `s=`; `-` when there is nothing to say.
    pub session_name: String,
    /// `i=`
    pub info: Option<String>,
    /// `u=`
    pub uri: Option<String>,
    /// `e=` lines.
    pub emails: Vec<String>,
    /// `p=` lines.
    pub phones: Vec<String>,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` lines, each with its `r=` lines.
    pub timings: Vec<Timing>,
    /// `z=`
    pub zone: Option<String>,
    /// Session-level `k=` (obsolete, kept verbatim).
    pub key: Option<String>,
    /// Session-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
    /// The media sections, in order.
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// A description with the given origin, `s=-`, `t=0 0` and nothing else.
    pub fn new(origin: Origin) -> Self {
        SessionDescription {
            origin,
            session_name: "-".into(),
            info: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            timings: vec![Timing::default()],
            zone: None,
            key: None,
            attributes: Vec::new(),
            media: Vec::new(),
        }
    }
}

/// The `o=` line: `username sess-id sess-version nettype addrtype address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The user name; `-` when there is none.
    pub username: String,
    /// The session id, digits (kept as text: some peers exceed 64 bits).
    pub session_id: String,
    /// The session version, digits.
    pub session_version: String,
    /// Network type and address of the originator.
    pub address: Connection,
}

/// A `c=` line (and the address part of `o=` and `a=rtcp`):
/// `nettype addrtype address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The network type, `IN` in practice.
    pub net_type: String,
    /// The address type.
    pub addr_type: AddrType,
    /// The address as written: an IP address, a host name, or a multicast
    /// address with `/ttl` and `/count`.
    pub address: String,
}

impl Connection {
    /// `IN IP4 a.b.c.d` or `IN IP6 …` for an IP address.
    pub fn ip(ip: IpAddr) -> Self {
        Connection {
            net_type: "IN".into(),
            addr_type: match ip {
                IpAddr::V4(_) => AddrType::Ip4,
                IpAddr::V6(_) => AddrType::Ip6,
            },
            address: ip.to_string(),
        }
    }

    /// The address as an IP address, if it is one (multicast suffixes and
    /// host names give `None`).
    pub fn ip_addr(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }

    /// Whether this is the RFC 2543 hold address `0.0.0.0` (or `::`).
    pub fn is_unspecified(&self) -> bool {
        self.ip_addr().is_some_and(|ip| ip.is_unspecified())
    }
}

/// The address type of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrType {
    /// `IP4`
    Ip4,
    /// `IP6`
    Ip6,
    /// Any other token, as written.
    Other(String),
}

impl AddrType {
    /// Reads an address-type token (`IP4` and `IP6` case-insensitively).
    pub fn from_token(s: &str) -> Self {
        if s.eq_ignore_ascii_case("IP4") {
            AddrType::Ip4
        } else if s.eq_ignore_ascii_case("IP6") {
            AddrType::Ip6
        } else {
            AddrType::Other(s.to_owned())
        }
    }

    /// The token as printed.
    pub fn as_str(&self) -> &str {
        match self {
            AddrType::Ip4 => "IP4",
            AddrType::Ip6 => "IP6",
            AddrType::Other(s) => s,
        }
    }
}

/// A `b=` line: `bwtype:bandwidth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// `AS`, `CT`, `TIAS`…
    pub bw_type: String,
    /// The figure, in the unit the type implies.
    pub bandwidth: u64,
}

/// A `t=` line and the `r=` lines after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timing {
    /// Start time (NTP seconds), 0 for unbounded.
    pub start: u64,
    /// Stop time (NTP seconds), 0 for unbounded.
    pub stop: u64,
    /// `r=` lines, verbatim.
    pub repeats: Vec<String>,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// `audio`, `video`, `application`, `text`, `message`…
    pub media: String,
    /// The transport port; 0 rejects or disables the stream.
    pub port: u16,
    /// The `/number` of ports, if written.
    pub num_ports: Option<u16>,
    /// `RTP/AVP`, `UDP/TLS/RTP/SAVPF`…
    pub proto: String,
    /// The formats: RTP payload types for RTP profiles.
    pub formats: Vec<String>,
    /// `i=`
    pub info: Option<String>,
    /// Media-level `c=`.
    pub connection: Option<Connection>,
    /// Media-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// Media-level `k=`, verbatim.
    pub key: Option<String>,
    /// Media-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    /// A section with the given media, port, protocol and formats, and
    /// nothing else.
    pub fn new(media: &str, port: u16, proto: &str, formats: Vec<String>) -> Self {
        MediaDescription {
            media: media.into(),
            port,
            num_ports: None,
            proto: proto.into(),
            formats,
            info: None,
            connection: None,
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        }
    }
}

/// An `a=` line: `name` or `name:value`, kept verbatim. Its `Debug` hides
/// the SDES keys of an `a=crypto` line (`inline:…`); `Display` (the wire
/// form) does not.
#[derive(Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute name.
    pub name: String,
    /// The value after the first `:`, if there is one.
    pub value: Option<String>,
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = match &self.value {
            Some(v) if self.name.eq_ignore_ascii_case("crypto") => Some(redact_inline_keys(v)),
            v => v.clone(),
        };
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("value", &value)
            .finish()
    }
}

/// `v` with the key of every `inline:<key>` replaced by `..`.
fn redact_inline_keys(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(i) = rest.to_ascii_lowercase().find("inline:") {
        let key_start = i + "inline:".len();
        out.push_str(&rest[..key_start]);
        out.push_str("..");
        rest = &rest[key_start..];
        let key_end = rest.find(['|', ';', ' ', '\t']).unwrap_or(rest.len());
        rest = &rest[key_end..];
    }
    out.push_str(rest);
    out
}

impl Attribute {
    /// A property attribute (`a=rtcp-mux`).
    pub fn flag(name: &str) -> Self {
        Attribute {
            name: name.into(),
            value: None,
        }
    }

    /// A value attribute (`a=mid:0`).
    pub fn new(name: &str, value: impl ToString) -> Self {
        Attribute {
            name: name.into(),
            value: Some(value.to_string()),
        }
    }
}
