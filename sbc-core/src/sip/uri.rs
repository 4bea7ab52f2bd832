//! URIs as SIP carries them (RFC 3261 §19.1, RFC 3966 for `tel:`): a
//! zero-copy view over the URI text with its user, host (IPv6 references
//! included), port, parameters and headers. Other schemes are kept opaque.

use super::error::Error;
use super::scan::{HOSTNAME, URI_HEADER, URI_PARAM, URI_PASSWORD, URI_USER, escapes_valid};
use memchr::memchr;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The scheme of a URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme<'a> {
    /// `sip:`
    Sip,
    /// `sips:`
    Sips,
    /// `tel:`
    Tel,
    /// Any other scheme; the rest of the URI is opaque.
    Other(&'a [u8]),
}

/// The host part of a SIP URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A domain name, as written.
    Domain(&'a [u8]),
    /// A dotted IPv4 address.
    V4(Ipv4Addr),
    /// A bracketed IPv6 reference.
    V6(Ipv6Addr),
}

impl Host<'_> {
    /// Parses `hostname / IPv4address / "[" IPv6address "]"`.
    pub fn parse(s: &[u8]) -> Result<Host<'_>, Error> {
        if let Some(inner) = s.strip_prefix(b"[") {
            let inner = inner.strip_suffix(b"]").ok_or(Error::Uri)?;
            let text = std::str::from_utf8(inner).map_err(|_| Error::Uri)?;
            return text.parse().map(Host::V6).map_err(|_| Error::Uri);
        }
        if s.is_empty() || s.len() > 255 {
            return Err(Error::Uri);
        }
        if s.iter().all(|b| b.is_ascii_digit() || *b == b'.')
            && let Ok(ip) = std::str::from_utf8(s).map_err(|_| Error::Uri)?.parse()
        {
            return Ok(Host::V4(ip));
        }
        let valid = s.iter().all(|&b| HOSTNAME[b as usize]);
        if !valid || s[0] == b'.' || s[0] == b'-' {
            return Err(Error::Uri);
        }
        Ok(Host::Domain(s))
    }
}

impl std::fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(&String::from_utf8_lossy(d)),
            Host::V4(ip) => write!(f, "{ip}"),
            Host::V6(ip) => write!(f, "[{ip}]"),
        }
    }
}

/// A parsed URI. Every part borrows from the text it was parsed from; escapes
/// (`%HH`) are left in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uri<'a> {
    /// The scheme.
    pub scheme: Scheme<'a>,
    /// The user part (for `tel:`, the number), escaped form.
    pub user: Option<&'a [u8]>,
    /// The password, if the userinfo carries one.
    pub password: Option<&'a [u8]>,
    /// The host; `None` for `tel:` and opaque schemes.
    pub host: Option<Host<'a>>,
    /// The port, if given.
    pub port: Option<u16>,
    params: &'a [u8],
    headers: Option<&'a [u8]>,
    raw: &'a [u8],
}

impl<'a> Uri<'a> {
    /// Parses a URI. Fails on any character the grammar does not allow
    /// there, white space included.
    pub fn parse(raw: &'a [u8]) -> Result<Uri<'a>, Error> {
        let colon = memchr(b':', raw).ok_or(Error::Uri)?;
        let scheme_text = &raw[..colon];
        let valid_scheme = scheme_text.first().is_some_and(u8::is_ascii_alphabetic)
            && scheme_text
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !valid_scheme {
            return Err(Error::Uri);
        }
        let rest = &raw[colon + 1..];
        let scheme = if scheme_text.eq_ignore_ascii_case(b"sip") {
            Scheme::Sip
        } else if scheme_text.eq_ignore_ascii_case(b"sips") {
            Scheme::Sips
        } else if scheme_text.eq_ignore_ascii_case(b"tel") {
            Scheme::Tel
        } else {
            Scheme::Other(scheme_text)
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => Self::parse_sip(scheme, rest, raw),
            Scheme::Tel => Self::parse_tel(rest, raw),
            Scheme::Other(_) => {
                let opaque_ok = !rest.is_empty()
                    && rest
                        .iter()
                        .all(|&b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"'));
                if !opaque_ok {
                    return Err(Error::Uri);
                }
                Ok(Uri {
                    scheme,
                    user: None,
                    password: None,
                    host: None,
                    port: None,
                    params: b"",
                    headers: None,
                    raw,
                })
            }
        }
    }

    fn parse_sip(scheme: Scheme<'a>, rest: &'a [u8], raw: &'a [u8]) -> Result<Uri<'a>, Error> {
        let (userinfo, hostpart) = match memchr(b'@', rest) {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => {
                let (user, password) = match memchr(b':', ui) {
                    Some(c) => (&ui[..c], Some(&ui[c + 1..])),
                    None => (ui, None),
                };
                let user_ok = !user.is_empty()
                    && user.iter().all(|&b| URI_USER[b as usize])
                    && escapes_valid(user);
                let password_ok = password.is_none_or(|p| {
                    p.iter().all(|&b| URI_PASSWORD[b as usize]) && escapes_valid(p)
                });
                if !user_ok || !password_ok {
                    return Err(Error::Uri);
                }
                (Some(user), password)
            }
        };
        let (before_headers, headers) = match memchr(b'?', hostpart) {
            Some(q) => (&hostpart[..q], Some(&hostpart[q + 1..])),
            None => (hostpart, None),
        };
        let (hostport, params) = match memchr(b';', before_headers) {
            Some(s) => (&before_headers[..s], &before_headers[s + 1..]),
            None => (before_headers, &b""[..]),
        };
        let (host_text, port) = split_host_port(hostport)?;
        let host = Host::parse(host_text)?;
        if !params.is_empty() || before_headers.contains(&b';') {
            validate_uri_params(params)?;
        }
        if let Some(h) = headers {
            validate_uri_headers(h)?;
        }
        Ok(Uri {
            scheme,
            user,
            password,
            host: Some(host),
            port,
            params,
            headers,
            raw,
        })
    }

    fn parse_tel(rest: &'a [u8], raw: &'a [u8]) -> Result<Uri<'a>, Error> {
        let (number, params) = match rest.iter().position(|&b| b == b';') {
            Some(s) => (&rest[..s], &rest[s + 1..]),
            None => (rest, &b""[..]),
        };
        let number_ok = !number.is_empty()
            && number.iter().all(|&b| {
                b.is_ascii_hexdigit() || matches!(b, b'+' | b'-' | b'.' | b'(' | b')' | b'*' | b'#')
            });
        if !number_ok {
            return Err(Error::Uri);
        }
        if !params.is_empty() {
            validate_uri_params(params)?;
        }
        Ok(Uri {
            scheme: Scheme::Tel,
            user: Some(number),
            password: None,
            host: None,
            port: None,
            params,
            headers: None,
            raw,
        })
    }

    /// The URI text exactly as parsed.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// Iterates `(name, value)` over the URI parameters (`;lr`, `;transport=tcp`).
    pub fn params(&self) -> impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)> + 'a {
        let params = self.params;
        params
            .split(|&b| b == b';')
            .filter(move |_| !params.is_empty())
            .map(|p| match p.iter().position(|&b| b == b'=') {
                Some(e) => (&p[..e], Some(&p[e + 1..])),
                None => (p, None),
            })
    }

    /// Looks a URI parameter up by name, ignoring case. `Some(None)` for a
    /// parameter without a value (`;lr`).
    pub fn param(&self, name: &str) -> Option<Option<&'a [u8]>> {
        self.params()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The URI headers (`?name=value&…`), if any.
    pub fn headers(&self) -> Option<&'a [u8]> {
        self.headers
    }

    /// True for `sip:` and `sips:` URIs.
    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }
}

/// Splits `host[:port]`, the host possibly a bracketed IPv6 reference.
pub(crate) fn split_host_port(s: &[u8]) -> Result<(&[u8], Option<u16>), Error> {
    let (host, port_text) = if s.first() == Some(&b'[') {
        let close = s.iter().position(|&b| b == b']').ok_or(Error::Uri)?;
        let after = &s[close + 1..];
        match after {
            [] => (&s[..=close], None),
            [b':', port @ ..] => (&s[..=close], Some(port)),
            _ => return Err(Error::Uri),
        }
    } else {
        match s.iter().position(|&b| b == b':') {
            Some(c) => (&s[..c], Some(&s[c + 1..])),
            None => (s, None),
        }
    };
    let port = match port_text {
        None => None,
        Some(p) => {
            let n = super::scan::parse_u64(p).ok_or(Error::Uri)?;
            Some(u16::try_from(n).map_err(|_| Error::Uri)?)
        }
    };
    Ok((host, port))
}

fn validate_uri_params(params: &[u8]) -> Result<(), Error> {
    for p in params.split(|&b| b == b';') {
        let (name, value) = match p.iter().position(|&b| b == b'=') {
            Some(e) => (&p[..e], Some(&p[e + 1..])),
            None => (p, None),
        };
        let name_ok =
            !name.is_empty() && name.iter().all(|&b| URI_PARAM[b as usize]) && escapes_valid(name);
        let value_ok = value.is_none_or(|v| {
            !v.is_empty() && v.iter().all(|&b| URI_PARAM[b as usize]) && escapes_valid(v)
        });
        if !name_ok || !value_ok {
            return Err(Error::Uri);
        }
    }
    Ok(())
}

fn validate_uri_headers(headers: &[u8]) -> Result<(), Error> {
    let hchar = |b: u8| URI_HEADER[b as usize];
    for h in headers.split(|&b| b == b'&') {
        let e = h.iter().position(|&b| b == b'=').ok_or(Error::Uri)?;
        let (name, value) = (&h[..e], &h[e + 1..]);
        if name.is_empty()
            || !name.iter().all(|&b| hchar(b))
            || !value.iter().all(|&b| hchar(b))
            || !escapes_valid(h)
        {
            return Err(Error::Uri);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_parts() {
        let u =
            Uri::parse(b"sip:alice:secret@[2001:db8::1]:5070;transport=tcp;lr?subject=x").unwrap();
        assert_eq!(u.scheme, Scheme::Sip);
        assert_eq!(u.user, Some(&b"alice"[..]));
        assert_eq!(u.password, Some(&b"secret"[..]));
        assert_eq!(u.host, Some(Host::V6("2001:db8::1".parse().unwrap())));
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.param("TRANSPORT"), Some(Some(&b"tcp"[..])));
        assert_eq!(u.param("lr"), Some(None));
        assert_eq!(u.headers(), Some(&b"subject=x"[..]));
    }

    #[test]
    fn user_with_semicolon_and_escapes() {
        let u = Uri::parse(b"sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user, Some(&b"user;par=u%40example.net"[..]));
        assert_eq!(u.host, Some(Host::Domain(b"example.com")));
        assert!(Uri::parse(b"sip:sips%3Auser%40example.com@example.net").is_ok());
    }

    #[test]
    fn tel_and_opaque() {
        let t = Uri::parse(b"tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(t.scheme, Scheme::Tel);
        assert_eq!(t.user, Some(&b"+1-201-555-0123"[..]));
        let o = Uri::parse(b"soap.beep://192.0.2.103:3002").unwrap();
        assert_eq!(o.scheme, Scheme::Other(b"soap.beep"));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b"<sip:a@b>"[..],
            b"sip:a@b c",
            b"sip:",
            b"sip:a@",
            b"sip:a@b:99999",
            b"sip:a@b;",
            b"sip:a%4@b",
            b"sip:a@[::1",
            b":x",
        ] {
            assert!(Uri::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
