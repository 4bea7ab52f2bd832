//! What is checked right after parsing, before a message reaches the
//! transaction layer: the mandatory headers, headers allowed only once, the
//! grammar of every header an SBC reads, CSeq against the method (RFC 3261
//! §8.2, RFC 4475 §3.1.2); and, for requests a user agent of ours serves,
//! the UAS checks of RFC 3261 §8.2.2–§8.2.3 (416, 420, 415, 406, 483, 501).

use super::error::Error;
use super::header_name::HeaderName;
use super::headers::{HeaderAccess, MediaType};
use super::message::{Message, StartLine};
use super::method::Method;
use super::scan::{CommaSplit, trim};
use super::uri::{Scheme, Uri};

/// Refuses a second line of any header that may appear only once.
fn check_duplicates(m: &Message) -> Result<(), Error> {
    let mut seen: u64 = 0;
    for h in m.headers.iter() {
        if !h.name.is_single() {
            continue;
        }
        let bit = 1u64.checked_shl(h.name as u32).unwrap_or(0);
        if seen & bit != 0 {
            return Err(Error::Duplicate(h.name.as_str()));
        }
        seen |= bit;
    }
    Ok(())
}

/// Checks the headers common to requests and responses.
fn check_common(m: &Message) -> Result<(), Error> {
    check_duplicates(m)?;
    m.header_to()?;
    m.header_from()?;
    m.call_id()?;
    m.top_via()?;
    for via in m.vias() {
        via?;
    }
    if !m.is_wildcard_contact() {
        for c in m.contacts() {
            c?;
        }
    }
    for r in m.routes().chain(m.record_routes()) {
        r?;
    }
    m.max_forwards()?;
    m.content_length()?;
    m.content_type()?;
    m.expires()?;
    for name in [
        HeaderName::Require,
        HeaderName::ProxyRequire,
        HeaderName::Supported,
        HeaderName::Unsupported,
    ] {
        for tag in m.option_tags(name) {
            tag?;
        }
    }
    if let Some(date) = m.header(HeaderName::Date) {
        // SIP-date is an RFC 1123 date, always in GMT (RFC 3261 §20.17).
        if !trim(date).ends_with(b" GMT") {
            return Err(Error::Header("Date"));
        }
    }
    Ok(())
}

/// Validates a received request. The error's [`Error::status`] is the
/// response to send; a request whose Via cannot be read gets none (there is
/// nowhere to send it) and the caller drops it.
pub fn validate_request(m: &Message) -> Result<(), Error> {
    let StartLine::Request { method, uri } = &m.start else {
        return Err(Error::StartLine);
    };
    let uri = Uri::parse(uri).map_err(|_| Error::StartLine)?;
    if uri.is_sip() && uri.headers().is_some() {
        return Err(Error::RequestUriHeaders);
    }
    check_common(m)?;
    let cseq = m.cseq()?;
    if &cseq.method != method && !(method == &Method::Ack && cseq.method == Method::Invite) {
        return Err(Error::CSeqMismatch);
    }
    Ok(())
}

/// Validates a received response; any error means the response is dropped.
pub fn validate_response(m: &Message) -> Result<(), Error> {
    if !m.is_request() {
        check_common(m)?;
        m.cseq()?;
        Ok(())
    } else {
        Err(Error::StartLine)
    }
}

/// A response a user agent sends instead of processing a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The status code.
    pub code: u16,
    /// The reason phrase.
    pub reason: &'static str,
    /// For 420: the option tags that are not supported (the `Unsupported`
    /// header); for 405: nothing (the caller adds `Allow`).
    pub unsupported: Vec<String>,
}

impl Rejection {
    fn new(code: u16, reason: &'static str) -> Self {
        Rejection {
            code,
            reason,
            unsupported: Vec::new(),
        }
    }
}

/// What a user agent of ours serves, for [`check_as_uas`].
#[derive(Debug, Clone)]
pub struct UasPolicy {
    /// Methods implemented; others get 405 (known methods) or 501.
    pub methods: Vec<Method>,
    /// Option tags this UA supports (for `Require`).
    pub supported: Vec<&'static str>,
    /// Body types understood, as `(type, subtype)`.
    pub body_types: Vec<(&'static str, &'static str)>,
    /// Whether this UA challenges every request (then credentials in a
    /// scheme other than Digest earn a 401 too).
    pub requires_auth: bool,
}

impl Default for UasPolicy {
    fn default() -> Self {
        UasPolicy {
            methods: vec![
                Method::Invite,
                Method::Ack,
                Method::Bye,
                Method::Cancel,
                Method::Options,
                Method::Prack,
                Method::Update,
                Method::Info,
                Method::Refer,
                Method::Notify,
            ],
            supported: vec!["timer", "replaces", "100rel", "path", "outbound"],
            body_types: vec![("application", "sdp"), ("application", "dtmf-relay")],
            requires_auth: false,
        }
    }
}

/// The UAS checks of RFC 3261 §8.2 in their order: method (405/501), URI
/// scheme (416), Max-Forwards for what would be forwarded (483), extensions
/// required (420), body type (415), acceptable answer type (406),
/// credentials (401). Run it after [`validate_request`].
pub fn check_as_uas(m: &Message, policy: &UasPolicy) -> Result<(), Rejection> {
    let StartLine::Request { method, uri } = &m.start else {
        return Ok(());
    };
    if !policy.methods.contains(method) {
        return Err(match method {
            Method::Extension(_) => Rejection::new(501, "Not Implemented"),
            _ => Rejection::new(405, "Method Not Allowed"),
        });
    }
    let scheme_ok = Uri::parse(uri)
        .map(|u| matches!(u.scheme, Scheme::Sip | Scheme::Sips | Scheme::Tel))
        .unwrap_or(false);
    if !scheme_ok {
        return Err(Rejection::new(416, "Unsupported URI Scheme"));
    }
    if m.max_forwards().ok().flatten() == Some(0) && method != &Method::Options {
        return Err(Rejection::new(483, "Too Many Hops"));
    }
    if method != &Method::Ack && method != &Method::Cancel {
        let unsupported: Vec<String> = m
            .option_tags(HeaderName::Require)
            .filter_map(Result::ok)
            .filter(|t| {
                !policy
                    .supported
                    .iter()
                    .any(|s| s.as_bytes().eq_ignore_ascii_case(t))
            })
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .collect();
        if !unsupported.is_empty() {
            return Err(Rejection {
                unsupported,
                ..Rejection::new(420, "Bad Extension")
            });
        }
    }
    if !m.body.is_empty() {
        let understood = m
            .content_type()
            .ok()
            .flatten()
            .is_some_and(|ct| policy.body_types.iter().any(|(k, s)| ct.is(k, s)));
        if !understood {
            return Err(Rejection::new(415, "Unsupported Media Type"));
        }
    }
    if matches!(method, Method::Invite | Method::Options) && m.header(HeaderName::Accept).is_some()
    {
        let accepts_sdp = m
            .header_values(HeaderName::Accept)
            .flat_map(CommaSplit::new)
            .filter_map(|t| MediaType::parse(t).ok())
            .any(|t| t.is("application", "sdp"));
        if !accepts_sdp {
            return Err(Rejection::new(406, "Not Acceptable"));
        }
    }
    let foreign_credentials = m
        .header_values(HeaderName::Authorization)
        .chain(m.header_values(HeaderName::ProxyAuthorization))
        .any(|v| {
            !trim(v)
                .get(..7)
                .is_some_and(|s| s.eq_ignore_ascii_case(b"Digest "))
        });
    if foreign_credentials
        || (policy.requires_auth && m.header(HeaderName::Authorization).is_none())
    {
        return Err(Rejection::new(401, "Unauthorized"));
    }
    Ok(())
}

/// RFC 3261 §8.1.3.3: a UAC discards a response carrying more than one Via
/// value, since it cannot be meant for it (RFC 4475 `bcast`).
pub fn is_for_uac(m: &Message) -> bool {
    m.header_elements(HeaderName::Via).count() == 1
}
