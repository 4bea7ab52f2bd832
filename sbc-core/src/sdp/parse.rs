//! The parser: text to [`SessionDescription`]. Lenient where real browsers
//! and PBXs are (CRLF or bare LF, blank lines, trailing white space, a
//! missing `s=` or `t=`, any attribute), strict where a wrong guess would
//! hurt (a missing or wrong `v=`, a missing `o=`, a malformed `o=`, `c=`,
//! `b=`, `t=` or `m=` line, a port out of range, unknown line types), and
//! bounded by [`Limits`]. It never panics.

use super::error::ParseError;
use super::model::{
    AddrType, Attribute, Bandwidth, Connection, MediaDescription, Origin, SessionDescription,
    Timing,
};
use std::str::FromStr;

/// Bounds on what the parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest description, in bytes.
    pub max_size: usize,
    /// Most non-blank lines.
    pub max_lines: usize,
    /// Most `m=` sections.
    pub max_media: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_size: 65_535,
            max_lines: 1024,
            max_media: 32,
        }
    }
}

impl FromStr for SessionDescription {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        SessionDescription::parse(s.as_bytes(), &Limits::default())
    }
}

impl SessionDescription {
    /// Parses a session description. Bytes that are not UTF-8 are replaced
    /// (U+FFFD): SDP is UTF-8 unless `a=charset` says otherwise, and no field
    /// a gateway reads is outside ASCII.
    pub fn parse(input: &[u8], limits: &Limits) -> Result<Self, ParseError> {
        if input.len() > limits.max_size {
            return Err(ParseError::TooLarge {
                limit: limits.max_size,
            });
        }
        let text = String::from_utf8_lossy(input);
        let mut lines = text
            .split('\n')
            .enumerate()
            .map(|(n, l)| (n + 1, l.trim_end_matches([' ', '\t', '\r'])))
            .filter(|(_, l)| !l.is_empty());

        match lines.next() {
            Some((_, "v=0")) => {}
            Some((_, l)) if l.starts_with("v=") => return Err(ParseError::Version),
            _ => return Err(ParseError::MissingVersion),
        }
        let mut b = Builder::default();
        for (count, (n, l)) in lines.enumerate() {
            if count + 2 > limits.max_lines {
                return Err(ParseError::TooManyLines {
                    limit: limits.max_lines,
                });
            }
            let bytes = l.as_bytes();
            if bytes.len() < 2 || bytes[1] != b'=' || !bytes[0].is_ascii_lowercase() {
                return Err(ParseError::Line { line: n });
            }
            let value = &l[2..];
            if bytes[0] == b'm' && b.media.len() == limits.max_media {
                return Err(ParseError::TooManyMedia {
                    limit: limits.max_media,
                });
            }
            b.line(n, bytes[0], value)?;
        }
        b.finish()
    }
}

#[derive(Default)]
struct Builder {
    origin: Option<Origin>,
    name: Option<String>,
    session: Option<SessionDescription>,
    media: Vec<MediaDescription>,
}

impl Builder {
    fn line(&mut self, n: usize, kind: u8, value: &str) -> Result<(), ParseError> {
        if kind == b'm' {
            self.media.push(media_line(n, value)?);
            return Ok(());
        }
        if let Some(m) = self.media.last_mut() {
            return media_field(m, n, kind, value);
        }
        match kind {
            b'o' if self.origin.is_some() => Err(dup(n, "o=")),
            b'o' => {
                self.origin = Some(origin(n, value)?);
                Ok(())
            }
            b's' if self.name.is_some() => Err(dup(n, "s=")),
            b's' => {
                self.name = Some(value.to_owned());
                Ok(())
            }
            _ => session_field(self.session_mut(), n, kind, value),
        }
    }

    /// The session fields other than `o=` and `s=`, collected on a
    /// placeholder origin until `o=` is known.
    fn session_mut(&mut self) -> &mut SessionDescription {
        self.session.get_or_insert_with(|| {
            let mut s = SessionDescription::new(Origin {
                username: String::new(),
                session_id: String::new(),
                session_version: String::new(),
                address: Connection::ip(std::net::Ipv4Addr::UNSPECIFIED.into()),
            });
            s.timings.clear();
            s
        })
    }

    fn finish(mut self) -> Result<SessionDescription, ParseError> {
        let origin = self.origin.take().ok_or(ParseError::MissingOrigin)?;
        let name = self.name.take().unwrap_or_else(|| "-".into());
        let media = std::mem::take(&mut self.media);
        let mut s = self.session_mut().clone();
        s.origin = origin;
        s.session_name = name;
        if s.timings.is_empty() {
            s.timings.push(Timing::default());
        }
        s.media = media;
        Ok(s)
    }
}

fn dup(line: usize, field: &'static str) -> ParseError {
    ParseError::Duplicate { line, field }
}

fn bad(line: usize, field: &'static str) -> ParseError {
    ParseError::Field { line, field }
}

fn session_field(
    s: &mut SessionDescription,
    n: usize,
    kind: u8,
    value: &str,
) -> Result<(), ParseError> {
    match kind {
        b'i' => return set_once(&mut s.info, n, "i=", value),
        b'u' => return set_once(&mut s.uri, n, "u=", value),
        b'z' => return set_once(&mut s.zone, n, "z=", value),
        b'k' => return set_once(&mut s.key, n, "k=", value),
        b'e' => s.emails.push(value.to_owned()),
        b'p' => s.phones.push(value.to_owned()),
        b'c' if s.connection.is_some() => return Err(dup(n, "c=")),
        b'c' => s.connection = Some(connection(n, value)?),
        b'b' => s.bandwidths.push(bandwidth(n, value)?),
        b't' => s.timings.push(timing(n, value)?),
        b'r' => match s.timings.last_mut() {
            Some(t) => t.repeats.push(value.to_owned()),
            None => return Err(bad(n, "r= before t=")),
        },
        b'a' => s.attributes.push(attribute(n, value)?),
        b'v' => return Err(dup(n, "v=")),
        _ => return Err(ParseError::Line { line: n }),
    }
    Ok(())
}

fn media_field(
    m: &mut MediaDescription,
    n: usize,
    kind: u8,
    value: &str,
) -> Result<(), ParseError> {
    match kind {
        b'i' => return set_once(&mut m.info, n, "i=", value),
        b'k' => return set_once(&mut m.key, n, "k=", value),
        b'c' if m.connection.is_some() => return Err(dup(n, "c=")),
        b'c' => m.connection = Some(connection(n, value)?),
        b'b' => m.bandwidths.push(bandwidth(n, value)?),
        b'a' => m.attributes.push(attribute(n, value)?),
        _ => return Err(ParseError::Line { line: n }),
    }
    Ok(())
}

fn set_once(
    slot: &mut Option<String>,
    n: usize,
    field: &'static str,
    value: &str,
) -> Result<(), ParseError> {
    if slot.is_some() {
        return Err(dup(n, field));
    }
    *slot = Some(value.to_owned());
    Ok(())
}

fn fields<const N: usize>(value: &str) -> Option<[&str; N]> {
    let mut it = value.split_ascii_whitespace();
    let out = std::array::from_fn(|_| it.next().unwrap_or(""));
    (it.next().is_none() && out.iter().all(|f| !f.is_empty())).then_some(out)
}

fn origin(n: usize, value: &str) -> Result<Origin, ParseError> {
    let [user, id, version, net, addr_type, address] = fields(value).ok_or(bad(n, "o="))?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(id) || !digits(version) {
        return Err(bad(n, "o="));
    }
    Ok(Origin {
        username: user.into(),
        session_id: id.into(),
        session_version: version.into(),
        address: Connection {
            net_type: net.into(),
            addr_type: AddrType::from_token(addr_type),
            address: address.into(),
        },
    })
}

fn connection(n: usize, value: &str) -> Result<Connection, ParseError> {
    let [net, addr_type, address] = fields(value).ok_or(bad(n, "c="))?;
    Ok(Connection {
        net_type: net.into(),
        addr_type: AddrType::from_token(addr_type),
        address: address.into(),
    })
}

fn bandwidth(n: usize, value: &str) -> Result<Bandwidth, ParseError> {
    let (bw_type, figure) = value.split_once(':').ok_or(bad(n, "b="))?;
    let bw_type = bw_type.trim();
    if bw_type.is_empty() || bw_type.contains(char::is_whitespace) {
        return Err(bad(n, "b="));
    }
    Ok(Bandwidth {
        bw_type: bw_type.into(),
        bandwidth: number(figure.trim()).ok_or(bad(n, "b="))?,
    })
}

fn timing(n: usize, value: &str) -> Result<Timing, ParseError> {
    let [start, stop] = fields(value).ok_or(bad(n, "t="))?;
    Ok(Timing {
        start: number(start).ok_or(bad(n, "t="))?,
        stop: number(stop).ok_or(bad(n, "t="))?,
        repeats: Vec::new(),
    })
}

/// Digits only (no sign, no spaces), fitting the type.
pub(crate) fn number<T: FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn media_line(n: usize, value: &str) -> Result<MediaDescription, ParseError> {
    let mut it = value.split_ascii_whitespace();
    let media = it.next().ok_or(bad(n, "m="))?;
    let port = it.next().ok_or(bad(n, "m="))?;
    let proto = it.next().ok_or(bad(n, "m="))?;
    let formats: Vec<String> = it.map(str::to_owned).collect();
    if formats.is_empty() {
        return Err(bad(n, "m="));
    }
    let (port, num_ports) = match port.split_once('/') {
        Some((p, count)) => (p, Some(number(count).ok_or(bad(n, "port"))?)),
        None => (port, None),
    };
    let mut m = MediaDescription::new(media, number(port).ok_or(bad(n, "port"))?, proto, formats);
    m.num_ports = num_ports;
    Ok(m)
}

fn attribute(n: usize, value: &str) -> Result<Attribute, ParseError> {
    let (name, value) = match value.split_once(':') {
        Some((name, v)) => (name, Some(v.to_owned())),
        None => (value, None),
    };
    if name.is_empty() {
        return Err(bad(n, "a="));
    }
    Ok(Attribute {
        name: name.to_owned(),
        value,
    })
}
