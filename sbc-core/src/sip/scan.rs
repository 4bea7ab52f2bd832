//! Byte-level lexing shared by every SIP parser in this crate: the character
//! classes of RFC 3261 §25.1, linear white space with line folding, quoted
//! strings, and a cursor that never panics whatever the input.

/// A 256-entry membership table of a character class, built at compile
/// time: one load per byte on the parser's hot paths.
const fn class_table(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

const TOKEN: [bool; 256] = class_table(b"-.!%*_+`'~");
/// `user` of a SIP URI: unreserved, escaped, user-unreserved.
pub(crate) const URI_USER: [bool; 256] = class_table(b"-_.!~*'()%&=+$,;?/");
/// `password` of a SIP URI.
pub(crate) const URI_PASSWORD: [bool; 256] = class_table(b"-_.!~*'()%&=+$,");
/// `paramchar` of a URI parameter: unreserved, escaped, param-unreserved.
pub(crate) const URI_PARAM: [bool; 256] = class_table(b"-_.!~*'()%[]/:&+$");
/// `hnv-unreserved` and the rest of a URI header name or value.
pub(crate) const URI_HEADER: [bool; 256] = class_table(b"-_.!~*'()%[]/?:+$");
/// Characters of a host name (and of a dotted IPv4 address).
pub(crate) const HOSTNAME: [bool; 256] = class_table(b"-.");

/// `token` characters: alphanum and `-.!%*_+`'~`.
#[inline]
pub(crate) fn is_token(b: u8) -> bool {
    TOKEN[b as usize]
}

/// Space or horizontal tab.
pub(crate) fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// True when `s` is one or more token characters.
pub(crate) fn is_token_str(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token(b))
}

/// Checks `%HH` escapes: every `%` must start a two-hex-digit escape.
pub(crate) fn escapes_valid(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let ok = s.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// Trims SP, HTAB, CR and LF from both ends.
pub(crate) fn trim(s: &[u8]) -> &[u8] {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|b| !is_space(b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// Parses a non-empty run of ASCII digits into a `u64`, `None` on overflow or
/// on any other character.
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// Splits a header value into its comma-separated elements, respecting quoted
/// strings and `<…>` brackets. Empty elements (`a,,b`) are yielded as empty
/// slices so callers can reject them where the grammar does.
pub(crate) struct CommaSplit<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> CommaSplit<'a> {
    pub(crate) fn new(value: &'a [u8]) -> Self {
        Self { rest: Some(value) }
    }
}

impl<'a> Iterator for CommaSplit<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.rest?;
        let mut i = 0;
        // Jump from one byte that matters to the next: a comma ends the
        // element unless it stands in a quoted string or `<…>`.
        while let Some(found) = memchr::memchr3(b',', b'"', b'<', &s[i..]) {
            let at = i + found;
            match s[at] {
                b',' => {
                    self.rest = Some(&s[at + 1..]);
                    return Some(trim(&s[..at]));
                }
                b'"' => i = skip_quoted(s, at + 1),
                _ => {
                    i = match memchr::memchr2(b'>', b'"', &s[at + 1..]) {
                        Some(end) if s[at + 1 + end] == b'>' => at + 2 + end,
                        // A quote inside brackets: walk it byte by byte.
                        Some(end) => skip_quoted(s, at + 2 + end),
                        None => s.len(),
                    };
                }
            }
            if i >= s.len() {
                break;
            }
        }
        self.rest = None;
        Some(trim(s))
    }
}

/// The offset after the quote closing a quoted string whose content starts
/// at `from` (backslash escapes honoured), or the end of `s`.
fn skip_quoted(s: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(found) = memchr::memchr2(b'"', b'\\', &s[i.min(s.len())..]) {
        let at = i + found;
        if s[at] == b'"' {
            return at + 1;
        }
        i = at + 2;
    }
    s.len()
}

/// A cursor over one header value (or element of one). All methods are total:
/// they return `None`/`false` instead of panicking at the end of input.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(s: &'a [u8]) -> Self {
        Self { s, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.s.len());
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.s[self.pos..]
    }

    pub(crate) fn slice(&self, from: usize, to: usize) -> &'a [u8] {
        &self.s[from.min(to)..to.min(self.s.len())]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// Skips linear white space: SP, HTAB, and CRLF followed by SP/HTAB (a
    /// folded line). Returns whether anything was skipped.
    pub(crate) fn skip_lws(&mut self) -> bool {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\r')
                    if self.s.get(self.pos + 1) == Some(&b'\n')
                        && self.s.get(self.pos + 2).is_some_and(|&b| is_wsp(b)) =>
                {
                    self.pos += 3
                }
                Some(b'\n') if self.s.get(self.pos + 1).is_some_and(|&b| is_wsp(b)) => {
                    self.pos += 2
                }
                _ => return self.pos != start,
            }
        }
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `SWS b SWS`: consumes `b` surrounded by optional white space, or
    /// nothing at all when `b` is not there.
    pub(crate) fn sep(&mut self, b: u8) -> bool {
        let save = self.pos;
        self.skip_lws();
        if self.eat(b) {
            self.skip_lws();
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// Consumes the longest run of bytes satisfying `f`.
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// One or more token characters.
    pub(crate) fn token(&mut self) -> Option<&'a [u8]> {
        let t = self.take_while(is_token);
        (!t.is_empty()).then_some(t)
    }

    /// A quoted string starting at the cursor; returns the text between the
    /// quotes with its backslash escapes still in place.
    pub(crate) fn quoted_string(&mut self) -> Option<&'a [u8]> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    let inner = &self.s[start..self.pos];
                    self.pos += 1;
                    return Some(inner);
                }
                b'\\' => {
                    // quoted-pair: any octet but CR and LF may follow.
                    match self.s.get(self.pos + 1) {
                        Some(b'\r' | b'\n') | None => return None,
                        Some(_) => self.pos += 2,
                    }
                }
                b'\r' | b'\n' => {
                    // Only a fold may break a quoted string's line.
                    let save = self.pos;
                    if !self.skip_lws() {
                        self.pos = save;
                        return None;
                    }
                }
                _ => self.pos += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lws_skips_folds() {
        let mut c = Cursor::new(b" \r\n\t x");
        assert!(c.skip_lws());
        assert_eq!(c.peek(), Some(b'x'));
        let mut c = Cursor::new(b"\r\nx");
        assert!(!c.skip_lws());
    }

    #[test]
    fn quoted_string_with_escapes() {
        let mut c = Cursor::new(br#""J Rosenberg \\\"" <sip:a>"#);
        assert_eq!(c.quoted_string(), Some(&br#"J Rosenberg \\\""#[..]));
        assert_eq!(c.rest(), b" <sip:a>");
        assert_eq!(Cursor::new(b"\"open").quoted_string(), None);
    }

    #[test]
    fn comma_split_respects_quotes_and_brackets() {
        let parts: Vec<_> = CommaSplit::new(br#""a,b" <sip:x;p=1,2>, <sip:y>"#).collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], b"<sip:y>");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"0068"), Some(68));
        assert_eq!(parse_u64(b"99999999999999999999999"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert!(escapes_valid(b"a%41b"));
        assert!(!escapes_valid(b"a%4"));
    }
}
