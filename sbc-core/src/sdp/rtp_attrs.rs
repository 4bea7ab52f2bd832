//! Typed values of the RTP attributes: `rtpmap`, `fmtp` (RFC 8866 §6.6,
//! §6.15), `rtcp` (RFC 3605), `rtcp-fb` (RFC 4585), `extmap` (RFC 8285),
//! `ssrc` and `ssrc-group` (RFC 5576), `msid` (RFC 8830) and `group`
//! (RFC 5888). Each parses from the attribute value and prints back to it.

use super::direction::Direction;
use super::model::{AddrType, Connection};
use super::parse::number;
use std::fmt;

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap {
    /// The payload type.
    pub payload_type: u8,
    /// The encoding name, as written.
    pub encoding: String,
    /// The RTP clock rate.
    pub clock_rate: u32,
    /// The channel count (audio), if written.
    pub channels: Option<u16>,
}

impl Rtpmap {
    /// Parses an `rtpmap` value.
    pub fn parse(v: &str) -> Option<Self> {
        let (pt, rest) = v.split_once(' ')?;
        let mut parts = rest.trim().split('/');
        let encoding = parts.next().filter(|e| !e.is_empty())?;
        let clock_rate = number(parts.next()?)?;
        let channels = match parts.next() {
            Some(c) => Some(number(c)?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Rtpmap {
            payload_type: payload_type(pt)?,
            encoding: encoding.into(),
            clock_rate,
            channels,
        })
    }
}

impl fmt::Display for Rtpmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        match self.channels {
            Some(c) => write!(f, "/{c}"),
            None => Ok(()),
        }
    }
}

/// An RTP payload type: 0..=127.
fn payload_type(s: &str) -> Option<u8> {
    number::<u8>(s).filter(|pt| *pt < 128)
}

/// `a=fmtp:<pt> <format parameters>`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// The payload type.
    pub payload_type: u8,
    /// The parameters, verbatim.
    pub params: String,
}

impl Fmtp {
    /// Parses an `fmtp` value.
    pub fn parse(v: &str) -> Option<Self> {
        let (pt, params) = v.split_once(' ')?;
        Some(Fmtp {
            payload_type: payload_type(pt)?,
            params: params.trim().into(),
        })
    }

    /// The `key=value` pairs of `;`-separated parameters (a bare `key` gives
    /// an empty value, as `0-15` for telephone-event does).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => (p, ""),
            })
    }
}

impl fmt::Display for Fmtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.payload_type, self.params)
    }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtcp {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, if other than the connection address.
    pub connection: Option<Connection>,
}

impl Rtcp {
    /// Parses an `rtcp` value.
    pub fn parse(v: &str) -> Option<Self> {
        let mut it = v.split_ascii_whitespace();
        let port = number(it.next()?)?;
        let connection = match (it.next(), it.next(), it.next(), it.next()) {
            (None, ..) => None,
            (Some(net), Some(at), Some(address), None) => Some(Connection {
                net_type: net.into(),
                addr_type: AddrType::from_token(at),
                address: address.into(),
            }),
            _ => return None,
        };
        Some(Rtcp { port, connection })
    }
}

impl fmt::Display for Rtcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.port)?;
        match &self.connection {
            Some(c) => write!(f, " {c}"),
            None => Ok(()),
        }
    }
}

/// `a=rtcp-fb:<pt or *> <type> [<parameter>]` (RFC 4585 §4.2)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcpFb {
    /// The payload type; `None` for `*` (all).
    pub payload_type: Option<u8>,
    /// `nack`, `ccm`, `transport-cc`, `goog-remb`…
    pub kind: String,
    /// The rest (`pli`, `fir`…), if any.
    pub param: Option<String>,
}

impl RtcpFb {
    /// Parses an `rtcp-fb` value.
    pub fn parse(v: &str) -> Option<Self> {
        let (pt, rest) = v.split_once(' ')?;
        let rest = rest.trim();
        let (kind, param) = match rest.split_once(' ') {
            Some((k, p)) => (k, Some(p.trim().to_owned())),
            None => (rest, None),
        };
        if kind.is_empty() {
            return None;
        }
        Some(RtcpFb {
            payload_type: if pt == "*" {
                None
            } else {
                Some(payload_type(pt)?)
            },
            kind: kind.into(),
            param,
        })
    }
}

impl fmt::Display for RtcpFb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload_type {
            Some(pt) => write!(f, "{pt} {}", self.kind)?,
            None => write!(f, "* {}", self.kind)?,
        }
        match &self.param {
            Some(p) => write!(f, " {p}"),
            None => Ok(()),
        }
    }
}

/// `a=extmap:<id>[/<direction>] <uri> [<extension attributes>]` (RFC 8285)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extmap {
    /// The local identifier, 1..=255 (1..=14 for one-byte headers).
    pub id: u8,
    /// The direction, if written.
    pub direction: Option<Direction>,
    /// The extension URI.
    pub uri: String,
    /// Extension attributes, verbatim.
    pub attributes: Option<String>,
}

impl Extmap {
    /// Parses an `extmap` value.
    pub fn parse(v: &str) -> Option<Self> {
        let mut it = v.splitn(3, ' ');
        let head = it.next()?;
        let (id, direction) = match head.split_once('/') {
            Some((id, d)) => (id, Some(Direction::from_name(d)?)),
            None => (head, None),
        };
        let uri = it.next().filter(|u| !u.is_empty())?;
        Some(Extmap {
            id: number(id).filter(|id| *id != 0)?,
            direction,
            uri: uri.into(),
            attributes: it.next().map(|a| a.trim().to_owned()),
        })
    }
}

impl fmt::Display for Extmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(d) = self.direction {
            write!(f, "/{d}")?;
        }
        write!(f, " {}", self.uri)?;
        match &self.attributes {
            Some(a) => write!(f, " {a}"),
            None => Ok(()),
        }
    }
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576 §4.1)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssrc {
    /// The SSRC.
    pub ssrc: u32,
    /// The source attribute name (`cname`, `msid`…).
    pub attribute: String,
    /// Its value, if any.
    pub value: Option<String>,
}

impl Ssrc {
    /// Parses an `ssrc` value.
    pub fn parse(v: &str) -> Option<Self> {
        let (ssrc, rest) = v.split_once(' ')?;
        let (attribute, value) = match rest.split_once(':') {
            Some((a, v)) => (a, Some(v.to_owned())),
            None => (rest, None),
        };
        if attribute.is_empty() {
            return None;
        }
        Some(Ssrc {
            ssrc: number(ssrc)?,
            attribute: attribute.into(),
            value,
        })
    }
}

impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ssrc, self.attribute)?;
        match &self.value {
            Some(v) => write!(f, ":{v}"),
            None => Ok(()),
        }
    }
}

/// `a=ssrc-group:<semantics> <ssrc>…` (RFC 5576 §4.2)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsrcGroup {
    /// `FID`, `SIM`, `FEC`…
    pub semantics: String,
    /// The SSRCs, in order.
    pub ssrcs: Vec<u32>,
}

impl SsrcGroup {
    /// Parses an `ssrc-group` value.
    pub fn parse(v: &str) -> Option<Self> {
        let mut it = v.split_ascii_whitespace();
        let semantics = it.next()?.to_owned();
        let ssrcs = it.map(number).collect::<Option<Vec<u32>>>()?;
        Some(SsrcGroup { semantics, ssrcs })
    }
}

impl fmt::Display for SsrcGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantics)?;
        self.ssrcs.iter().try_for_each(|s| write!(f, " {s}"))
    }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msid {
    /// The MediaStream id (`-` for none).
    pub stream: String,
    /// The track id ("appdata"), if written.
    pub track: Option<String>,
}

impl Msid {
    /// Parses an `msid` value.
    pub fn parse(v: &str) -> Option<Self> {
        let mut it = v.split_ascii_whitespace();
        let stream = it.next()?.to_owned();
        let track = it.next().map(str::to_owned);
        it.next().is_none().then_some(Msid { stream, track })
    }
}

impl fmt::Display for Msid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stream)?;
        match &self.track {
            Some(t) => write!(f, " {t}"),
            None => Ok(()),
        }
    }
}

/// `a=group:<semantics> <mid>…` (RFC 5888; `BUNDLE` per RFC 9143)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `BUNDLE`, `LS`…
    pub semantics: String,
    /// The identification tags (`a=mid` values), in order.
    pub mids: Vec<String>,
}

impl Group {
    /// Parses a `group` value.
    pub fn parse(v: &str) -> Option<Self> {
        let mut it = v.split_ascii_whitespace();
        let semantics = it.next()?.to_owned();
        Some(Group {
            semantics,
            mids: it.map(str::to_owned).collect(),
        })
    }

    /// Whether this is a `BUNDLE` group.
    pub fn is_bundle(&self) -> bool {
        self.semantics.eq_ignore_ascii_case("BUNDLE")
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantics)?;
        self.mids.iter().try_for_each(|m| write!(f, " {m}"))
    }
}
