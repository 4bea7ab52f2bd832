//! The values of the four authentication headers: `WWW-Authenticate` and
//! `Proxy-Authenticate` ([`Challenge`]), `Authorization` and
//! `Proxy-Authorization` ([`Credentials`]), as RFC 3261 §25.1 and RFC 7235
//! §2.1 write them: an auth-scheme followed by comma-separated
//! `name = (token / quoted-string)` parameters (or, for schemes such as
//! `Bearer`, a single token68).
//!
//! Parsing is zero-copy: the views borrow the header value and unquote a
//! parameter only when it is looked up, allocating only when the quoted string
//! holds an escape or a folded line. [`AuthHeaderWriter`] builds new values.
//! This module knows nothing of Digest itself; see [`super::digest`].
//!
//! Unlike most headers, these four are never combined into one comma-separated
//! line (RFC 3261 §7.3.1): every header line carries exactly one challenge or
//! one set of credentials.

use std::borrow::Cow;
use std::fmt;

use smallvec::SmallVec;

use super::header_name::HeaderName;
use super::scan::{Cursor, is_token_str, trim};

/// More parameters than any scheme defines; a value with more is refused so
/// that parsing stays linear in practice.
pub const MAX_PARAMS: usize = 32;

/// Why an authentication header value was refused, or could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthHeaderError {
    /// The value is empty or white space only.
    #[error("empty authentication header value")]
    Empty,
    /// The value does not start with an auth-scheme token followed by white
    /// space or the end of the value.
    #[error("malformed authentication scheme")]
    Scheme,
    /// A parameter that is not `token LWS "=" LWS (token / quoted-string)`,
    /// or a missing comma between two; `at` is the byte offset in the trimmed
    /// value.
    #[error("malformed auth-param at byte {at}")]
    Param {
        /// Byte offset of the offending parameter.
        at: usize,
    },
    /// A quoted string that is not UTF-8 or escapes a non-ASCII byte.
    #[error("quoted-string at byte {at} is not valid text")]
    Text {
        /// Byte offset of the quoted string.
        at: usize,
    },
    /// The same parameter name twice (RFC 7235 §2.1: each name only once).
    #[error("auth-param {name:?} appears more than once")]
    DuplicateParam {
        /// The repeated name, as written the second time.
        name: String,
    },
    /// More than [`MAX_PARAMS`] parameters.
    #[error("more than {MAX_PARAMS} auth-params")]
    TooManyParams,
    /// Printer: a scheme or parameter name that is not a token. Our fault.
    #[error("{name:?} is not a token")]
    InvalidName {
        /// The offending name.
        name: String,
    },
    /// Printer: a value that cannot be written as asked (a token value that is
    /// not a token, or a quoted value holding CR or LF). Our fault.
    #[error("the value of {name:?} cannot be written")]
    InvalidValue {
        /// The parameter whose value was refused.
        name: String,
    },
}

impl AuthHeaderError {
    /// The response a request earns when one of its credentials headers fails
    /// to parse; `None` for printer errors, which are ours to fix.
    pub fn status(&self) -> Option<u16> {
        match self {
            AuthHeaderError::InvalidName { .. } | AuthHeaderError::InvalidValue { .. } => None,
            _ => Some(400),
        }
    }
}

/// Who asks for authentication, which fixes the header names and the status
/// code of the challenge (RFC 3261 §22.2 and §22.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthRole {
    /// A user agent server or registrar: `401`, `WWW-Authenticate`,
    /// `Authorization`.
    Uas,
    /// A proxy: `407`, `Proxy-Authenticate`, `Proxy-Authorization`.
    Proxy,
}

impl AuthRole {
    /// The status code of a response carrying this role's challenge.
    pub fn status(self) -> u16 {
        match self {
            AuthRole::Uas => 401,
            AuthRole::Proxy => 407,
        }
    }

    /// The header that carries this role's challenges.
    pub fn challenge_header(self) -> HeaderName {
        match self {
            AuthRole::Uas => HeaderName::WwwAuthenticate,
            AuthRole::Proxy => HeaderName::ProxyAuthenticate,
        }
    }

    /// The header that carries the answers to this role's challenges.
    pub fn credentials_header(self) -> HeaderName {
        match self {
            AuthRole::Uas => HeaderName::Authorization,
            AuthRole::Proxy => HeaderName::ProxyAuthorization,
        }
    }

    /// The role whose challenges travel in `name`, if any.
    pub fn from_challenge_header(name: HeaderName) -> Option<AuthRole> {
        match name {
            HeaderName::WwwAuthenticate => Some(AuthRole::Uas),
            HeaderName::ProxyAuthenticate => Some(AuthRole::Proxy),
            _ => None,
        }
    }

    /// The role whose credentials travel in `name`, if any.
    pub fn from_credentials_header(name: HeaderName) -> Option<AuthRole> {
        match name {
            HeaderName::Authorization => Some(AuthRole::Uas),
            HeaderName::ProxyAuthorization => Some(AuthRole::Proxy),
            _ => None,
        }
    }
}

/// One `name=value` parameter, borrowed from the header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthParam<'a> {
    name: &'a str,
    value: &'a str,
    quoted: bool,
}

impl<'a> AuthParam<'a> {
    /// The name as written (compare it ignoring ASCII case).
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The value, unquoted: quoted-pairs unescaped and folded lines joined.
    /// Borrows unless there was something to undo.
    pub fn value(&self) -> Cow<'a, str> {
        if self.quoted {
            unquote(self.value)
        } else {
            Cow::Borrowed(self.value)
        }
    }

    /// Whether the value was written as a quoted string.
    pub fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// The value as written, without its quotes but with its escapes.
    pub fn raw_value(&self) -> &'a str {
        self.value
    }
}

/// What the two header families share: a scheme and either parameters or a
/// token68.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AuthValue<'a> {
    scheme: &'a str,
    params: SmallVec<[AuthParam<'a>; 12]>,
    token68: Option<&'a str>,
}

impl<'a> AuthValue<'a> {
    fn parse(value: &'a [u8]) -> Result<Self, AuthHeaderError> {
        let value = trim(value);
        if value.is_empty() {
            return Err(AuthHeaderError::Empty);
        }
        let mut c = Cursor::new(value);
        let scheme = c.token().ok_or(AuthHeaderError::Scheme)?;
        let scheme = ascii(scheme).ok_or(AuthHeaderError::Scheme)?;
        let mut out = AuthValue {
            scheme,
            params: SmallVec::new(),
            token68: None,
        };
        if c.is_empty() {
            return Ok(out);
        }
        if !c.skip_lws() {
            return Err(AuthHeaderError::Scheme);
        }
        let rest = c.rest();
        match parse_params(&mut c) {
            Ok(params) => out.params = params,
            // Digest never carries a token68 (RFC 7616 §3.3, §3.4); keep the
            // precise parameter error for it.
            Err(e) if out.scheme.eq_ignore_ascii_case("Digest") => return Err(e),
            Err(e) => out.token68 = Some(token68(rest).ok_or(e)?),
        }
        Ok(out)
    }

    fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(AuthParam::value)
    }
}

impl fmt::Display for AuthValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme)?;
        if let Some(t) = self.token68 {
            return write!(f, " {t}");
        }
        for (i, p) in self.params.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            if p.quoted {
                write!(f, "{}=\"{}\"", p.name, p.value)?;
            } else {
                write!(f, "{}={}", p.name, p.value)?;
            }
        }
        Ok(())
    }
}

/// `auth-param *(COMMA auth-param)` up to the end of the cursor.
fn parse_params<'a>(c: &mut Cursor<'a>) -> Result<SmallVec<[AuthParam<'a>; 12]>, AuthHeaderError> {
    let mut params: SmallVec<[AuthParam<'a>; 12]> = SmallVec::new();
    loop {
        let at = c.pos();
        let bad = AuthHeaderError::Param { at };
        let name = c.token().and_then(ascii).ok_or(bad.clone())?;
        if !c.sep(b'=') {
            return Err(bad);
        }
        let (value, quoted) = if c.peek() == Some(b'"') {
            let text_at = c.pos();
            let raw = c.quoted_string().ok_or(bad)?;
            let text = quoted_text(raw).ok_or(AuthHeaderError::Text { at: text_at })?;
            (text, true)
        } else {
            (c.token().and_then(ascii).ok_or(bad)?, false)
        };
        if params.iter().any(|p| p.name.eq_ignore_ascii_case(name)) {
            return Err(AuthHeaderError::DuplicateParam { name: name.into() });
        }
        if params.len() == MAX_PARAMS {
            return Err(AuthHeaderError::TooManyParams);
        }
        params.push(AuthParam {
            name,
            value,
            quoted,
        });
        if !c.sep(b',') {
            c.skip_lws();
            return if c.is_empty() {
                Ok(params)
            } else {
                Err(AuthHeaderError::Param { at: c.pos() })
            };
        }
    }
}

/// `token68` (RFC 7235 §2.1) spanning all of `s`.
fn token68(s: &[u8]) -> Option<&str> {
    let is_t68 =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
    let body = s.iter().position(|&b| !is_t68(b)).unwrap_or(s.len());
    if body == 0 || !s[body..].iter().all(|&b| b == b'=') {
        return None;
    }
    ascii(s)
}

/// Token bytes as `&str`; `None` never happens for bytes the lexer accepted
/// as a token, but costs nothing to keep total.
fn ascii(s: &[u8]) -> Option<&str> {
    std::str::from_utf8(s).ok().filter(|t| t.is_ascii())
}

/// The inside of a quoted string as text: UTF-8, and every quoted-pair
/// escaping an ASCII character (RFC 3261 §25.1).
fn quoted_text(raw: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        if b == b'\\' && !bytes.next().is_some_and(u8::is_ascii) {
            return None;
        }
    }
    Some(text)
}

/// Undoes quoted-pairs and removes the CRLF of folded lines (keeping the
/// white space that follows it).
fn unquote(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['\\', '\r', '\n']) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => out.extend(chars.next()),
            '\r' | '\n' => {}
            _ => out.push(ch),
        }
    }
    Cow::Owned(out)
}

macro_rules! auth_value_view {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name<'a>(AuthValue<'a>);

        impl<'a> $name<'a> {
            /// Parses one header value (the text after the colon, folded
            /// lines allowed).
            pub fn parse(value: &'a [u8]) -> Result<Self, AuthHeaderError> {
                AuthValue::parse(value).map($name)
            }

            /// The auth-scheme as written (`Digest`, `Bearer`, …).
            pub fn scheme(&self) -> &'a str {
                self.0.scheme
            }

            /// Whether the scheme is `scheme`, ignoring ASCII case.
            pub fn is_scheme(&self, scheme: &str) -> bool {
                self.0.scheme.eq_ignore_ascii_case(scheme)
            }

            /// The unquoted value of the parameter called `name` (ignoring
            /// ASCII case).
            pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
                self.0.param(name)
            }

            /// The parameters in the order they were written.
            pub fn params(&self) -> impl ExactSizeIterator<Item = AuthParam<'a>> + '_ {
                self.0.params.iter().copied()
            }

            /// The token68 of schemes that carry one instead of parameters
            /// (`Bearer mF_9.B5f-4.1JqM`).
            pub fn token68(&self) -> Option<&'a str> {
                self.0.token68
            }
        }

        impl fmt::Display for $name<'_> {
            /// Prints the value back, quoting as it was quoted; the output
            /// parses to the same scheme and parameters.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

auth_value_view! {
    /// A `WWW-Authenticate` or `Proxy-Authenticate` value: one challenge.
    Challenge
}

auth_value_view! {
    /// An `Authorization` or `Proxy-Authorization` value: one set of
    /// credentials. Any scheme parses; only Digest is interpreted elsewhere.
    Credentials
}

/// Builds an authentication header value: the scheme, then parameters in the
/// order they are added, separated by `", "`.
///
/// ```
/// # use sbc_core::sip::auth_header::AuthHeaderWriter;
/// let mut w = AuthHeaderWriter::new("Digest")?;
/// w.quoted("realm", "atlanta.com")?.token("algorithm", "SHA-256")?;
/// assert_eq!(w.finish(), r#"Digest realm="atlanta.com", algorithm=SHA-256"#);
/// # Ok::<(), sbc_core::sip::auth_header::AuthHeaderError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AuthHeaderWriter {
    out: String,
    params: usize,
}

impl AuthHeaderWriter {
    /// Starts a value with `scheme`, which must be a token.
    pub fn new(scheme: &str) -> Result<Self, AuthHeaderError> {
        if !is_token_str(scheme.as_bytes()) {
            return Err(AuthHeaderError::InvalidName {
                name: scheme.into(),
            });
        }
        Ok(Self {
            out: scheme.into(),
            params: 0,
        })
    }

    /// Adds `name=value` with `value` written bare; it must be a token.
    pub fn token(&mut self, name: &str, value: &str) -> Result<&mut Self, AuthHeaderError> {
        if !is_token_str(value.as_bytes()) {
            return Err(AuthHeaderError::InvalidValue { name: name.into() });
        }
        self.start(name)?;
        self.out.push_str(value);
        Ok(self)
    }

    /// Adds `name="value"`, escaping `"`, `\` and control characters. CR and
    /// LF cannot be written in a quoted string and are refused.
    pub fn quoted(&mut self, name: &str, value: &str) -> Result<&mut Self, AuthHeaderError> {
        if value.contains(['\r', '\n']) {
            return Err(AuthHeaderError::InvalidValue { name: name.into() });
        }
        self.start(name)?;
        self.out.reserve(value.len() + 2);
        self.out.push('"');
        for ch in value.chars() {
            if matches!(ch, '"' | '\\') || (ch.is_ascii_control() && ch != '\t') {
                self.out.push('\\');
            }
            self.out.push(ch);
        }
        self.out.push('"');
        Ok(self)
    }

    /// The finished header value.
    pub fn finish(self) -> String {
        self.out
    }

    fn start(&mut self, name: &str) -> Result<(), AuthHeaderError> {
        if !is_token_str(name.as_bytes()) {
            return Err(AuthHeaderError::InvalidName { name: name.into() });
        }
        self.out.push_str(if self.params == 0 { " " } else { ", " });
        self.out.push_str(name);
        self.out.push('=');
        self.params += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn digest_challenge_with_folds_and_mixed_quoting() {
        let v = b"Digest realm=\"atlanta.com\",\r\n  domain=\"sip:ss1.carrier.com\", qop=\"auth\",\r\n\tnonce=\"f84f1cec41e6cbe5aea9c8e88d359\" ,opaque=\"\", stale=FALSE, algorithm=MD5";
        let c = Challenge::parse(v).expect("valid challenge");
        assert!(c.is_scheme("digest"));
        assert_eq!(c.param("REALM").as_deref(), Some("atlanta.com"));
        assert_eq!(c.param("opaque").as_deref(), Some(""));
        assert_eq!(c.param("stale").as_deref(), Some("FALSE"));
        assert_eq!(c.param("algorithm").as_deref(), Some("MD5"));
        assert_eq!(c.param("missing"), None);
        assert_eq!(c.params().len(), 7);
        assert!(matches!(c.param("nonce"), Some(Cow::Borrowed(_))));
    }

    #[test]
    fn unknown_scheme_credentials() {
        let c = Credentials::parse(b"NoOneKnowsThisScheme opaque-data=here").expect("valid");
        assert_eq!(c.scheme(), "NoOneKnowsThisScheme");
        assert_eq!(c.param("Opaque-Data").as_deref(), Some("here"));
        assert_eq!(c.to_string(), "NoOneKnowsThisScheme opaque-data=here");
    }

    #[test]
    fn token68_and_bare_scheme() {
        let c = Credentials::parse(b"Bearer mF_9.B5f-4.1JqM==").expect("valid");
        assert_eq!(c.token68(), Some("mF_9.B5f-4.1JqM=="));
        assert_eq!(c.params().len(), 0);
        let c = Credentials::parse(b"Bearer").expect("valid");
        assert_eq!((c.token68(), c.params().len()), (None, 0));
        let c = Credentials::parse(b"Bearer abc=").expect("valid");
        assert_eq!(c.token68(), Some("abc="));
    }

    #[test]
    fn escapes_are_undone_only_when_present() {
        let c = Credentials::parse(br#"Digest username="a\"b\\c", uri="sip:x""#).expect("valid");
        let u = c.param("username").expect("present");
        assert!(matches!(u, Cow::Owned(_)));
        assert_eq!(u, r#"a"b\c"#);
        let folded = Credentials::parse(b"Digest username=\"a\r\n b\"").expect("valid");
        assert_eq!(folded.param("username").as_deref(), Some("a b"));
    }

    #[test]
    fn malformed_values() {
        let err = |v: &[u8]| Credentials::parse(v).expect_err("should fail");
        assert_eq!(err(b""), AuthHeaderError::Empty);
        assert_eq!(err(b" \r\n "), AuthHeaderError::Empty);
        assert_eq!(err(b"Digest,realm=a"), AuthHeaderError::Scheme);
        assert_eq!(err(b"\"Digest\" realm=a"), AuthHeaderError::Scheme);
        assert!(matches!(
            err(b"Digest realm"),
            AuthHeaderError::Param { .. }
        ));
        assert!(matches!(
            err(b"Digest realm="),
            AuthHeaderError::Param { .. }
        ));
        assert!(matches!(
            err(b"Digest realm=a b"),
            AuthHeaderError::Param { .. }
        ));
        assert!(matches!(
            err(b"Digest realm=a,,nonce=b"),
            AuthHeaderError::Param { .. }
        ));
        assert!(matches!(
            err(b"Digest realm=a,"),
            AuthHeaderError::Param { .. }
        ));
        assert!(matches!(
            err(b"Digest realm=\"open"),
            AuthHeaderError::Param { .. }
        ));
        assert!(matches!(
            err(b"Digest realm=\"a\rb\""),
            AuthHeaderError::Param { .. }
        ));
        assert!(matches!(
            err(b"Digest realm=\"\xff\""),
            AuthHeaderError::Text { .. }
        ));
        assert!(matches!(
            err(b"Digest realm=\"\\\xc3\xa9\""),
            AuthHeaderError::Text { .. }
        ));
        assert_eq!(
            err(b"Digest realm=a, Realm=b"),
            AuthHeaderError::DuplicateParam {
                name: "Realm".into()
            }
        );
        let many: String = (0..=MAX_PARAMS).map(|i| format!("p{i}=v,")).collect();
        let many = format!("X {}", many.trim_end_matches(','));
        assert_eq!(err(many.as_bytes()), AuthHeaderError::TooManyParams);
        assert_eq!(err(b"Digest realm=a b").status(), Some(400));
    }

    #[test]
    fn writer_escapes_and_refuses_what_it_cannot_write() {
        let mut w = AuthHeaderWriter::new("Digest").expect("token");
        w.quoted("username", "a\"b\\c\u{1}é")
            .expect("writable")
            .token("nc", "00000001")
            .expect("token");
        let s = w.finish();
        assert_eq!(s, "Digest username=\"a\\\"b\\\\c\\\u{1}é\", nc=00000001");
        let c = Credentials::parse(s.as_bytes()).expect("parses back");
        assert_eq!(c.param("username").as_deref(), Some("a\"b\\c\u{1}é"));

        let mut w = AuthHeaderWriter::new("Digest").expect("token");
        assert!(w.quoted("realm", "a\r\nb").is_err());
        assert!(w.token("qop", "a b").is_err());
        assert!(w.token("bad name", "x").is_err());
        assert!(AuthHeaderWriter::new("Dig est").is_err());
        assert_eq!(w.finish(), "Digest");
    }

    #[test]
    fn roles_name_their_headers() {
        assert_eq!(AuthRole::Proxy.status(), 407);
        for role in [AuthRole::Uas, AuthRole::Proxy] {
            assert_eq!(
                AuthRole::from_challenge_header(role.challenge_header()),
                Some(role)
            );
            assert_eq!(
                AuthRole::from_credentials_header(role.credentials_header()),
                Some(role)
            );
        }
        assert_eq!(AuthRole::from_challenge_header(HeaderName::Via), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(c) = Challenge::parse(&bytes) {
                for p in c.params() { let _ = p.value(); }
                let _ = c.to_string();
            }
            if let Ok(c) = Credentials::parse(&bytes) {
                for p in c.params() { let _ = p.value(); }
                let _ = c.to_string();
            }
        }

        #[test]
        fn structured_noise_never_panics(s in r#"[A-Za-z]{1,6}( |\r\n )([a-z=",\\ \t\r\n]|[a-z]{1,4}){0,24}"#) {
            let _ = Challenge::parse(s.as_bytes()).map(|c| c.to_string());
        }

        #[test]
        fn written_values_parse_back(
            params in proptest::collection::vec(("[a-z][a-z0-9-]{0,8}", "[^\r\n]{0,12}", any::<bool>()), 1..8),
        ) {
            let mut w = AuthHeaderWriter::new("Digest").expect("token");
            let mut expected = Vec::new();
            for (i, (name, value, quote)) in params.iter().enumerate() {
                let name = format!("{name}{i}");
                if *quote || !is_token_str(value.as_bytes()) {
                    w.quoted(&name, value).expect("quotable");
                } else {
                    w.token(&name, value).expect("token");
                }
                expected.push((name, value.clone()));
            }
            let text = w.finish();
            let c = Credentials::parse(text.as_bytes()).expect("written value parses");
            prop_assert_eq!(c.params().len(), expected.len());
            for (name, value) in &expected {
                let found = c.param(name);
                prop_assert_eq!(found.as_deref(), Some(value.as_str()));
            }
            // The parsed view prints back to something equivalent.
            let again = c.to_string();
            let reparsed = Credentials::parse(again.as_bytes()).expect("reprint parses");
            let owned = |c: &Credentials<'_>| -> Vec<(String, String, bool)> {
                c.params().map(|p| (p.name().into(), p.value().into(), p.is_quoted())).collect()
            };
            prop_assert_eq!(owned(&reparsed), owned(&c));
            prop_assert_eq!(&again, &text);
        }
    }
}
