//! Which headers a browser may add to the INVITE it causes. The `headers`
//! of a `call` request pass only when their name matches the allow-list
//! (`b2bua.header_allow`, default `X-*`) and is not one of the headers the
//! gateway itself owns (Via, From, To, Call-ID, CSeq, Contact, routing,
//! body and authentication headers: those are never taken from a browser,
//! whatever the list says). A name or value that is not valid SIP (a name
//! that is not a token, a value with CR, LF or another control character)
//! is an error, not a silent drop: the request is refused as malformed.

use crate::sip::HeaderName;
use crate::sip::scan::is_token;

/// Most headers one request may carry.
const MAX_HEADERS: usize = 32;
/// Longest header name.
const MAX_NAME: usize = 64;
/// Longest header value.
const MAX_VALUE: usize = 1024;

/// Headers the gateway writes itself and never takes from a browser.
const OWNED: &[HeaderName] = &[
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::Contact,
    HeaderName::MaxForwards,
    HeaderName::Route,
    HeaderName::RecordRoute,
    HeaderName::ContentLength,
    HeaderName::ContentType,
    HeaderName::ContentEncoding,
    HeaderName::Authorization,
    HeaderName::ProxyAuthorization,
    HeaderName::Require,
    HeaderName::ProxyRequire,
    HeaderName::Supported,
    HeaderName::Allow,
];

/// Why a browser's headers were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// More headers than the limit.
    #[error("at most {MAX_HEADERS} headers")]
    TooMany,
    /// A name that is not a SIP token, or too long.
    #[error("invalid header name {0:?}")]
    Name(String),
    /// A value with a control character, or too long.
    #[error("invalid value of header {0}")]
    Value(String),
    /// An allow-list pattern that is not a header name or `Prefix*`.
    #[error("invalid header pattern {0:?}")]
    Pattern(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// A whole name, lower case.
    Exact(String),
    /// A name prefix, lower case (`X-*` is `x-`).
    Prefix(String),
}

/// The allow-list of browser-supplied headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderPolicy {
    patterns: Vec<Pattern>,
}

impl Default for HeaderPolicy {
    /// `X-*`.
    fn default() -> Self {
        HeaderPolicy {
            patterns: vec![Pattern::Prefix("x-".into())],
        }
    }
}

/// What the policy made of a browser's headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filtered {
    /// The headers to add to the request, as given.
    pub kept: Vec<(String, String)>,
    /// The names left out (not on the list, or owned by the gateway).
    pub dropped: Vec<String>,
}

impl HeaderPolicy {
    /// A policy from patterns such as `X-*`, `User-to-User`, `P-Asserted-*`
    /// (case-insensitive; `*` only at the end). An empty list lets nothing
    /// through.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, HeaderError> {
        let patterns = patterns
            .iter()
            .map(|p| {
                let p = p.as_ref();
                let (name, prefix) = match p.strip_suffix('*') {
                    Some(name) => (name, true),
                    None => (p, false),
                };
                let valid =
                    (prefix || !name.is_empty()) && name.bytes().all(|b| is_token(b) && b != b'*');
                if !valid {
                    return Err(HeaderError::Pattern(p.to_owned()));
                }
                let name = name.to_ascii_lowercase();
                Ok(if prefix {
                    Pattern::Prefix(name)
                } else {
                    Pattern::Exact(name)
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(HeaderPolicy { patterns })
    }

    /// Checks every header and keeps those the list allows.
    pub fn filter<'a>(
        &self,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Filtered, HeaderError> {
        let mut out = Filtered::default();
        for (i, (name, value)) in headers.into_iter().enumerate() {
            if i >= MAX_HEADERS {
                return Err(HeaderError::TooMany);
            }
            if name.is_empty() || name.len() > MAX_NAME || !name.bytes().all(is_token) {
                return Err(HeaderError::Name(name.chars().take(MAX_NAME).collect()));
            }
            let value_ok =
                value.len() <= MAX_VALUE && value.chars().all(|c| c == '\t' || !c.is_control());
            if !value_ok {
                return Err(HeaderError::Value(name.to_owned()));
            }
            if self.allows(name) {
                out.kept.push((name.to_owned(), value.trim().to_owned()));
            } else {
                out.dropped.push(name.to_owned());
            }
        }
        Ok(out)
    }

    /// Whether `name` may pass: on the list and not owned by the gateway.
    pub fn allows(&self, name: &str) -> bool {
        let known = HeaderName::parse(name.as_bytes());
        if OWNED.contains(&known) {
            return false;
        }
        let lower = name.to_ascii_lowercase();
        self.patterns.iter().any(|p| match p {
            Pattern::Exact(n) => *n == lower,
            Pattern::Prefix(n) => lower.starts_with(n.as_str()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_headers_pass_by_default_and_others_are_dropped() {
        let f = HeaderPolicy::default()
            .filter([
                ("X-Foo", "bar"),
                ("x-lower", " v "),
                ("Subject", "hi"),
                ("Via", "SIP/2.0/UDP evil"),
            ])
            .unwrap();
        assert_eq!(
            f.kept,
            vec![
                ("X-Foo".into(), "bar".into()),
                ("x-lower".into(), "v".into())
            ]
        );
        assert_eq!(f.dropped, vec!["Subject".to_owned(), "Via".to_owned()]);
    }

    #[test]
    fn owned_headers_never_pass_even_when_listed() {
        let p = HeaderPolicy::new(&["*"]).unwrap();
        for owned in [
            "Via",
            "call-id",
            "i",
            "Contact",
            "m",
            "Route",
            "Content-Length",
            "l",
        ] {
            assert!(!p.allows(owned), "{owned}");
        }
        assert!(p.allows("Subject"));
        let exact = HeaderPolicy::new(&["User-to-User"]).unwrap();
        assert!(exact.allows("user-to-user"));
        assert!(!exact.allows("User-to-User-2"));
        assert!(!HeaderPolicy::new::<&str>(&[]).unwrap().allows("X-Foo"));
    }

    #[test]
    fn malformed_names_values_and_patterns_are_errors() {
        let p = HeaderPolicy::default();
        assert!(matches!(
            p.filter([("X Foo", "v")]),
            Err(HeaderError::Name(_))
        ));
        assert!(matches!(p.filter([("", "v")]), Err(HeaderError::Name(_))));
        assert!(matches!(
            p.filter([("X-A:", "v")]),
            Err(HeaderError::Name(_))
        ));
        for value in ["a\r\nVia: x", "a\nb", "a\0"] {
            assert!(matches!(
                p.filter([("X-A", value)]),
                Err(HeaderError::Value(_))
            ));
        }
        let long = "v".repeat(MAX_VALUE + 1);
        assert!(matches!(
            p.filter([("X-A", long.as_str())]),
            Err(HeaderError::Value(_))
        ));
        let many: Vec<(&str, &str)> = (0..=MAX_HEADERS).map(|_| ("X-A", "v")).collect();
        assert_eq!(p.filter(many), Err(HeaderError::TooMany));
        for bad in ["", "X Y*", "a*b"] {
            assert!(HeaderPolicy::new(&[bad]).is_err(), "{bad:?}");
        }
    }
}
