//! The one redaction wrapper: phone numbers, SIP URIs and IP addresses of
//! peers pass through [`Redacted`] on their way into a log line.
//!
//! A process-wide switch, set once at start from `log.redact` (on unless
//! turned off), chooses between a masked form that keeps just enough to tell
//! values apart (scheme, last two characters of a user part, last octet of an
//! IPv4 address) and the plain value, for debugging. The gateway's own
//! configured addresses are not subscriber data and are logged plain.
//!
//! ```
//! use gateway::redact::{mask, Redacted};
//! assert_eq!(mask("sip:alice@192.0.2.12:5060;transport=tcp"), "sip:***ce@x.x.x.12:5060");
//! tracing::info!(peer = %Redacted("198.51.100.7:5060"), "request");
//! ```

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns masking on or off for the whole process; called once at start.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether [`Redacted`] currently masks.
pub fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A value that is masked in logs while redaction is on (see [`mask`]).
///
/// `Debug` prints the same as `Display`, so `?field` and `%field` agree.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Redacted<T>(pub T);

impl<T: fmt::Display> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_enabled() {
            f.write_str(&mask(&self.0.to_string()))
        } else {
            self.0.fmt(f)
        }
    }
}

impl<T: fmt::Display> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The masked form of `text`, whatever the switch says:
///
/// - IP address: `x.x.x.12`, `x::1`; socket address: the same plus the port;
/// - `sip:`/`sips:` URI: scheme, masked user, masked host, port; parameters and
///   headers dropped; `tel:` URI: scheme and masked number;
/// - name-addr (`"Alice" <sip:…>`): display name masked, URI as above;
/// - anything else (a phone number, a host name): `***` and the last two characters.
pub fn mask(text: &str) -> String {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return mask_ip(ip);
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return mask_socket_addr(addr);
    }
    if let Some(masked) = mask_name_addr(text) {
        return masked;
    }
    if let Some((scheme, rest)) = text.split_once(':') {
        match scheme.to_ascii_lowercase().as_str() {
            scheme @ ("sip" | "sips") => return format!("{scheme}:{}", mask_sip_body(rest)),
            "tel" => return format!("tel:{}", keep_tail(until_any(rest, ";?"))),
            _ => {}
        }
    }
    keep_tail(text)
}

fn mask_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => format!("x.x.x.{}", ip.octets()[3]),
        IpAddr::V6(ip) => format!("x::{:x}", ip.segments()[7]),
    }
}

fn mask_socket_addr(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(_) => format!("{}:{}", mask_ip(addr.ip()), addr.port()),
        IpAddr::V6(_) => format!("[{}]:{}", mask_ip(addr.ip()), addr.port()),
    }
}

/// `"Name" <URI>` or `<URI>`, with anything after `>` (such as `;tag=`) dropped.
fn mask_name_addr(text: &str) -> Option<String> {
    let open = text.find('<')?;
    let close = open + text[open..].find('>')?;
    let name = if text[..open].trim().is_empty() {
        ""
    } else {
        "\"***\" "
    };
    Some(format!("{name}<{}>", mask(&text[open + 1..close])))
}

/// `user:password@host:port;params?headers` after `sip:`.
fn mask_sip_body(body: &str) -> String {
    let (user, hostport) = match body.split_once('@') {
        Some((userinfo, hostport)) => (Some(until_any(userinfo, ":;")), hostport),
        None => (None, body),
    };
    let hostport = until_any(hostport, ";?");
    let (host, port) = split_port(hostport);
    let host = match host.trim_start_matches('[').trim_end_matches(']').parse() {
        Ok(ip @ IpAddr::V6(_)) => format!("[{}]", mask_ip(ip)),
        Ok(ip) => mask_ip(ip),
        Err(_) => match host.rsplit_once('.') {
            Some((_, tld)) if !tld.is_empty() => format!("***.{tld}"),
            _ => "***".to_owned(),
        },
    };
    let mut out = String::new();
    if let Some(user) = user {
        out.push_str(&keep_tail(user));
        out.push('@');
    }
    out.push_str(&host);
    if let Some(port) = port {
        out.push(':');
        out.push_str(port);
    }
    out
}

/// Splits `host:port`, `[v6]:port`, `host` or `[v6]` into host and port.
fn split_port(hostport: &str) -> (&str, Option<&str>) {
    let after_host = hostport.rfind(']').map_or(0, |i| i + 1);
    match hostport[after_host..].rfind(':') {
        Some(i) => {
            let colon = after_host + i;
            let port = &hostport[colon + 1..];
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                (&hostport[..colon], Some(port))
            } else {
                (hostport, None)
            }
        }
        None => (hostport, None),
    }
}

fn until_any<'a>(text: &'a str, stops: &str) -> &'a str {
    text.find(|c| stops.contains(c))
        .map_or(text, |i| &text[..i])
}

/// `***` and the last two characters, or just `***` for four characters or fewer.
fn keep_tail(text: &str) -> String {
    let count = text.chars().count();
    if count <= 4 {
        return "***".to_owned();
    }
    let tail: String = text.chars().skip(count - 2).collect();
    format!("***{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_ip_and_socket_addresses() {
        assert_eq!(mask("192.0.2.12"), "x.x.x.12");
        assert_eq!(mask("2001:db8::7:1f"), "x::1f");
        assert_eq!(mask("198.51.100.7:5060"), "x.x.x.7:5060");
        assert_eq!(mask("[2001:db8::1]:5061"), "[x::1]:5061");
    }

    #[test]
    fn masks_sip_and_tel_uris() {
        let cases = [
            ("sip:alice@example.com", "sip:***ce@***.com"),
            (
                "SIPS:+4915112345678@192.0.2.12:5061",
                "sips:***78@x.x.x.12:5061",
            ),
            (
                "sip:bob:hunter2@[2001:db8::5]:5060;transport=tcp",
                "sip:***@[x::5]:5060",
            ),
            (
                "sip:carol;user=phone@pbx.example.org?subject=x",
                "sip:***ol@***.org",
            ),
            ("sip:10.0.0.5:5060;transport=udp", "sip:x.x.x.5:5060"),
            ("sip:pbx", "sip:***"),
            ("tel:+4915112345678;phone-context=x", "tel:***78"),
        ];
        for (plain, masked) in cases {
            assert_eq!(mask(plain), masked, "{plain}");
        }
    }

    #[test]
    fn masks_name_addr_and_bare_values() {
        assert_eq!(
            mask("\"Alice Liddell\" <sip:alice@example.com>;tag=1928301774"),
            "\"***\" <sip:***ce@***.com>"
        );
        assert_eq!(mask("<sip:600@127.0.0.1>"), "<sip:***@x.x.x.1>");
        assert_eq!(mask("+4915112345678"), "***78");
        assert_eq!(mask("1234"), "***");
        assert_eq!(mask(""), "***");
        assert_eq!(mask("pbx.internal.example"), "***le");
    }

    #[test]
    fn masked_form_never_contains_the_user_or_host() {
        let plain = "sip:alice.secret@pbx.internal.example:5060";
        let masked = mask(plain);
        for part in ["alice", "secret", "pbx", "internal"] {
            assert!(!masked.contains(part), "{masked} leaks {part}");
        }
    }

    #[test]
    fn the_switch_chooses_masked_or_plain() {
        // The only test that touches the process-wide switch.
        let value = Redacted("192.0.2.12");
        set_enabled(true);
        assert_eq!(value.to_string(), "x.x.x.12");
        assert_eq!(format!("{value:?}"), "x.x.x.12");
        set_enabled(false);
        assert_eq!(value.to_string(), "192.0.2.12");
        set_enabled(true);
        assert!(is_enabled());
    }
}
