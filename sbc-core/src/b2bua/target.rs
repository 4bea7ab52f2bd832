//! Where a browser's call goes. The `to` of a `call` request is a number
//! (`600`, `+4930123`), a user (`alice`), `user@host`, or a `sip:`/`sips:`
//! URI; [`PbxTarget::request_uri`] makes the INVITE's Request-URI of it.
//! The next hop is always the configured PBX: a browser cannot steer the
//! gateway's SIP traffic anywhere else.

use crate::sip::transport::Transport;
use crate::sip::uri::{Scheme, Uri};
use std::fmt;

/// Longest `to` accepted.
const MAX_TARGET: usize = 256;

/// Why a `to` or a PBX URI cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// `to` is empty or longer than the limit.
    #[error("the target must be 1 to {MAX_TARGET} characters")]
    Length,
    /// `to` is neither a number, a user nor a SIP URI.
    #[error("not a number, a user or a SIP URI")]
    Syntax,
    /// The PBX URI is not a `sip:`/`sips:` URI with a host.
    #[error("the PBX URI must be a sip: or sips: URI with a host")]
    PbxUri,
}

/// The configured PBX (`pbx.uri`): host, port and transport of the next
/// hop, and the domain of the Request-URIs made for dialled numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxTarget {
    host: String,
    port: Option<u16>,
    transport: Transport,
    secure: bool,
}

impl PbxTarget {
    /// Reads `pbx.uri`, e.g. `sip:10.0.0.5:5060;transport=tcp`. The
    /// transport is the URI's `transport` parameter, TLS for `sips:`, and
    /// UDP otherwise.
    pub fn parse(uri: &str) -> Result<Self, RouteError> {
        let parsed = Uri::parse(uri.trim().as_bytes()).map_err(|_| RouteError::PbxUri)?;
        let secure = match parsed.scheme {
            Scheme::Sip => false,
            Scheme::Sips => true,
            _ => return Err(RouteError::PbxUri),
        };
        let host = parsed.host.ok_or(RouteError::PbxUri)?.to_string();
        let named = parsed
            .param("transport")
            .flatten()
            .map(|t| String::from_utf8_lossy(t).to_ascii_lowercase());
        let transport = match (named.as_deref(), secure) {
            (_, true) | (Some("tls"), _) => Transport::Tls,
            (Some("tcp"), false) => Transport::Tcp,
            (None | Some("udp"), false) => Transport::Udp,
            _ => return Err(RouteError::PbxUri),
        };
        Ok(PbxTarget {
            host,
            port: parsed.port,
            transport,
            secure,
        })
    }

    /// The PBX host (a name or an address literal, IPv6 in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: the URI's, else 5061 for TLS and 5060 otherwise.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.transport {
            Transport::Tls => 5061,
            _ => 5060,
        })
    }

    /// The transport toward the PBX.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The Request-URI for `to`: a SIP URI as given (without URI headers,
    /// which could smuggle header fields into the request); `user@host` as
    /// that user at that host; anything else as a user at the PBX. A
    /// number's `#` is escaped; white space, quotes, angle brackets and
    /// control characters are refused.
    pub fn request_uri(&self, to: &str) -> Result<String, RouteError> {
        if to.is_empty() || to.len() > MAX_TARGET {
            return Err(RouteError::Length);
        }
        let lower = to.get(..5).unwrap_or(to).to_ascii_lowercase();
        if lower.starts_with("sip:") || lower.starts_with("sips:") {
            let uri = Uri::parse(to.as_bytes()).map_err(|_| RouteError::Syntax)?;
            if uri.host.is_none() || uri.headers().is_some() {
                return Err(RouteError::Syntax);
            }
            return Ok(to.to_owned());
        }
        let (user, host) = match to.split_once('@') {
            Some((user, host)) => (user, Some(host)),
            None => (to, None),
        };
        let user = escape_user(user)?;
        let scheme = if self.secure { "sips" } else { "sip" };
        let uri = match host {
            Some(host) => format!("{scheme}:{user}@{host}"),
            None => format!("{scheme}:{user}@{self}"),
        };
        // The host part of `user@host` must parse too.
        Uri::parse(uri.as_bytes())
            .ok()
            .filter(|u| u.host.is_some() && u.headers().is_none())
            .ok_or(RouteError::Syntax)?;
        Ok(uri)
    }
}

impl fmt::Display for PbxTarget {
    /// `host[:port]`, as in the configured URI.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// The user part of a Request-URI: RFC 3261's unreserved and
/// user-unreserved characters as they are, `#` escaped, anything else
/// refused.
fn escape_user(user: &str) -> Result<String, RouteError> {
    if user.is_empty() {
        return Err(RouteError::Syntax);
    }
    let mut out = String::with_capacity(user.len() + 4);
    for c in user.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => out.push(c),
            '-' | '_' | '.' | '!' | '~' | '*' | '\'' | '(' | ')' => out.push(c),
            '&' | '=' | '+' | '$' | ',' | ';' | '?' | '/' => out.push(c),
            '#' => out.push_str("%23"),
            _ => return Err(RouteError::Syntax),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pbx() -> PbxTarget {
        PbxTarget::parse("sip:10.0.0.5:5070;transport=tcp").unwrap()
    }

    #[test]
    fn the_pbx_uri_gives_host_port_and_transport() {
        let p = pbx();
        assert_eq!(
            (p.host(), p.port(), p.transport()),
            ("10.0.0.5", 5070, Transport::Tcp)
        );
        let udp = PbxTarget::parse("sip:pbx.example.com").unwrap();
        assert_eq!((udp.port(), udp.transport()), (5060, Transport::Udp));
        let tls = PbxTarget::parse("sips:pbx.example.com").unwrap();
        assert_eq!((tls.port(), tls.transport()), (5061, Transport::Tls));
        for bad in [
            "http://pbx",
            "sip:",
            "tel:+123",
            "sip:pbx;transport=sctp",
            "",
        ] {
            assert_eq!(PbxTarget::parse(bad), Err(RouteError::PbxUri), "{bad}");
        }
    }

    #[test]
    fn numbers_and_users_go_to_the_pbx() {
        let p = pbx();
        assert_eq!(p.request_uri("600").unwrap(), "sip:600@10.0.0.5:5070");
        assert_eq!(
            p.request_uri("+4930123").unwrap(),
            "sip:+4930123@10.0.0.5:5070"
        );
        assert_eq!(p.request_uri("*97#").unwrap(), "sip:*97%23@10.0.0.5:5070");
        assert_eq!(
            p.request_uri("alice@example.com").unwrap(),
            "sip:alice@example.com"
        );
        assert_eq!(
            p.request_uri("sip:bob@example.com;user=phone").unwrap(),
            "sip:bob@example.com;user=phone"
        );
    }

    #[test]
    fn targets_that_could_inject_or_mislead_are_refused() {
        let p = pbx();
        for bad in [
            "",
            "6 00",
            "600\r\nVia: x",
            "<sip:600@x>",
            "\"600\"",
            "sip:600@x?Route=%3Csip:evil%3E",
            "sip:",
            "a@",
            "@host",
            "a@b@c",
        ] {
            assert!(p.request_uri(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(p.request_uri(&"1".repeat(300)), Err(RouteError::Length));
    }
}
