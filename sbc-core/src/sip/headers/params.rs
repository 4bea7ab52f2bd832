//! Header parameters (`;name=value` after a Via, a name-addr, a CSeq-less
//! header): validated once when the header is parsed, then looked up lazily
//! over the same bytes without allocating.

use crate::sip::scan::{Cursor, is_token};

/// The parameters of one header element, e.g. `;branch=z9hG4bK1;received=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a> {
    raw: &'a [u8],
}

/// Characters allowed in an unquoted parameter value besides token
/// characters: those of hosts, IPv6 references and ports.
fn is_value_char(b: u8) -> bool {
    is_token(b) || matches!(b, b'[' | b']' | b':')
}

impl<'a> Params<'a> {
    /// Parses `*( SEMI generic-param )` at the cursor, leaving the cursor
    /// after the last parameter. Returns `None` on a malformed parameter.
    pub(crate) fn parse(c: &mut Cursor<'a>) -> Option<Params<'a>> {
        let start = c.pos();
        let mut end = start;
        while c.sep(b';') {
            c.token()?;
            if c.sep(b'=') {
                if c.peek() == Some(b'"') {
                    c.quoted_string()?;
                } else if c.take_while(is_value_char).is_empty() {
                    return None;
                }
            }
            end = c.pos();
        }
        c.set_pos(end);
        Some(Params {
            raw: c.slice(start, end),
        })
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The parameter text as received, leading `;` included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// Iterates `(name, value)`; quoted values are returned with their
    /// quotes stripped (escapes left in place).
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter {
            c: Cursor::new(self.raw),
        }
    }

    /// Looks a parameter up by name, ignoring case. `Some(None)` for a
    /// parameter without a value.
    pub fn get(&self, name: &str) -> Option<Option<&'a [u8]>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }
}

/// Iterator over validated parameters.
#[derive(Debug, Clone)]
pub struct ParamIter<'a> {
    c: Cursor<'a>,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = (&'a [u8], Option<&'a [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        if !self.c.sep(b';') {
            return None;
        }
        let name = self.c.token()?;
        if !self.c.sep(b'=') {
            return Some((name, None));
        }
        let value = if self.c.peek() == Some(b'"') {
            self.c.quoted_string()?
        } else {
            self.c.take_while(is_value_char)
        };
        Some((name, Some(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_looks_up() {
        let text = b" ;\r\n  tag = 98asjd8 ; lr;received=[2001:db8::9];x=\"a b\" rest";
        let mut c = Cursor::new(text);
        let p = Params::parse(&mut c).unwrap();
        assert_eq!(p.get("TAG"), Some(Some(&b"98asjd8"[..])));
        assert_eq!(p.get("lr"), Some(None));
        assert_eq!(p.get("received"), Some(Some(&b"[2001:db8::9]"[..])));
        assert_eq!(p.get("x"), Some(Some(&b"a b"[..])));
        assert_eq!(c.rest(), b" rest");
    }

    #[test]
    fn rejects_empty_params() {
        assert!(Params::parse(&mut Cursor::new(b";;")).is_none());
        assert!(Params::parse(&mut Cursor::new(b";a=")).is_none());
        assert!(Params::parse(&mut Cursor::new(b";a=\"open")).is_none());
    }
}
