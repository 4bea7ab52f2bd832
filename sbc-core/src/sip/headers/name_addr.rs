//! `name-addr` / `addr-spec` with header parameters: the shape of From, To,
//! Contact, Route, Record-Route and Refer-To (RFC 3261 §20.10, §25.1).

use super::params::Params;
use crate::sip::error::Error;
use crate::sip::scan::{Cursor, is_wsp};
use crate::sip::uri::Uri;

/// One address with its display name and header parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name: the inside of a quoted string (escapes in place),
    /// or the tokens before `<` as written.
    pub display: Option<&'a [u8]>,
    /// The URI.
    pub uri: Uri<'a>,
    /// The header parameters after the address (`;tag=…`, `;expires=…`).
    pub params: Params<'a>,
}

impl<'a> NameAddr<'a> {
    /// Parses one address element; the whole of `value` must be consumed.
    /// `header` names the header for the error.
    pub fn parse(value: &'a [u8], header: &'static str) -> Result<NameAddr<'a>, Error> {
        let err = Error::Header(header);
        let mut c = Cursor::new(value);
        c.skip_lws();
        let mut display = None;
        let uri;
        if c.peek() == Some(b'"') {
            display = Some(c.quoted_string().ok_or(err.clone())?);
            c.skip_lws();
            uri = bracketed_uri(&mut c).ok_or(err.clone())?;
        } else if c.peek() == Some(b'<') {
            uri = bracketed_uri(&mut c).ok_or(err.clone())?;
        } else if has_bracket(c.rest()) {
            // Unquoted display name: tokens separated by white space.
            let start = c.pos();
            let mut end = start;
            while c.token().is_some() {
                end = c.pos();
                c.skip_lws();
            }
            if end == start || c.peek() != Some(b'<') {
                return Err(err);
            }
            display = Some(c.slice(start, end));
            uri = bracketed_uri(&mut c).ok_or(err.clone())?;
        } else {
            // addr-spec: no `;`, `,` or `?` may be part of the URI here.
            let text = c.take_while(|b| b != b';' && !is_wsp(b) && b != b'\r' && b != b'\n');
            if text.contains(&b'?') || text.contains(&b',') {
                return Err(err);
            }
            uri = Uri::parse(text).map_err(|_| err.clone())?;
        }
        let params = Params::parse(&mut c).ok_or(err.clone())?;
        c.skip_lws();
        if !c.is_empty() {
            return Err(err);
        }
        Ok(NameAddr {
            display,
            uri,
            params,
        })
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&'a [u8]> {
        self.params.get("tag").flatten()
    }
}

/// True when a `<` appears outside a quoted string.
fn has_bracket(s: &[u8]) -> bool {
    let mut in_quotes = false;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\\' if in_quotes => i += 1,
            b'"' => in_quotes = !in_quotes,
            b'<' if !in_quotes => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// `"<" addr-spec ">"` with no white space inside the brackets.
fn bracketed_uri<'a>(c: &mut Cursor<'a>) -> Option<Uri<'a>> {
    if !c.eat(b'<') {
        return None;
    }
    let text = c.take_while(|b| b != b'>');
    if !c.eat(b'>') {
        return None;
    }
    Uri::parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::uri::Scheme;

    #[test]
    fn quoted_display_with_escapes() {
        let a = NameAddr::parse(
            b"\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
            "From",
        )
        .unwrap();
        assert_eq!(a.display, Some(&b"J Rosenberg \\\\\\\""[..]));
        assert_eq!(a.tag(), Some(&b"98asjd8"[..]));
    }

    #[test]
    fn addr_spec_params_belong_header_to() {
        let a =
            NameAddr::parse(b"sip:+19725552222@gw1.example.net;unknownparam", "Contact").unwrap();
        assert_eq!(a.params.get("unknownparam"), Some(None));
        assert_eq!(a.uri.param("unknownparam"), None);
        let b = NameAddr::parse(
            b"<sip:+19725552222@gw1.example.net;unknownparam>",
            "Contact",
        )
        .unwrap();
        assert_eq!(b.uri.param("unknownparam"), Some(None));
    }

    #[test]
    fn bracket_inside_quoted_param_is_not_a_name_addr() {
        let a = NameAddr::parse(b"sip:a@example.com;x=\"<\";tag=1", "To").unwrap();
        assert_eq!(a.display, None);
        assert_eq!(a.params.get("x"), Some(Some(&b"<"[..])));
        assert_eq!(a.tag(), Some(&b"1"[..]));
    }

    #[test]
    fn token_display_name_and_other_schemes() {
        let a = NameAddr::parse(b"caller<sip:caller@example.com>;tag=323", "From").unwrap();
        assert_eq!(a.display, Some(&b"caller"[..]));
        let b = NameAddr::parse(b"A. Bell <sip:a.g.bell@example.com>;tag=q", "From").unwrap();
        assert_eq!(b.display, Some(&b"A. Bell"[..]));
        let i = NameAddr::parse(b"isbn:2983792873", "To").unwrap();
        assert_eq!(i.uri.scheme, Scheme::Other(b"isbn"));
        assert!(NameAddr::parse(b"<http://www.example.com>;tag=3234233", "From").is_ok());
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"\"Mr. J. User <sip:j.user@example.com>"[..],
            b"\"Watson, Thomas\" < sip:t.watson@example.org >",
            b"Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            b"sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            b"\"Joe\" <sip:joe@example.org>;;;;",
            b"<sip:a@b",
            b"",
        ] {
            assert!(
                NameAddr::parse(bad, "To").is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
