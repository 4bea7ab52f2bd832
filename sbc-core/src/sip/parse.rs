//! The zero-copy parser: a start line and the ranges of every header line
//! over one received buffer, with no heap allocation for messages of up to
//! [`INLINE_HEADERS`] header lines. Typed header views are parsed on demand
//! through [`HeaderAccess`].

use super::error::Error;
use super::header_name::HeaderName;
use super::headers::HeaderAccess;
use super::method::Method;
use super::scan::{is_token, is_token_str, is_wsp};
use smallvec::SmallVec;

/// Header lines kept inline before the header list spills to the heap.
pub const INLINE_HEADERS: usize = 40;

/// Bounds on what the parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message, head and body, in bytes.
    pub max_message_size: usize,
    /// Most header lines in one message.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 65_535,
            max_headers: 128,
        }
    }
}

/// One header line: its name, as recognised and as written, and its value
/// with surrounding white space trimmed (folds inside are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawHeader<'a> {
    /// The recognised name.
    pub name: HeaderName,
    /// The name exactly as written.
    pub raw_name: &'a [u8],
    /// The value.
    pub value: &'a [u8],
}

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLineView<'a> {
    /// `Method SP Request-URI SP SIP/2.0`
    Request {
        /// The method token.
        method: &'a [u8],
        /// The Request-URI text (parse it with [`Uri::parse`](super::Uri::parse)).
        uri: &'a [u8],
    },
    /// `SIP/2.0 SP Status-Code SP Reason-Phrase`
    Response {
        /// The status code, 100..=699.
        code: u16,
        /// The reason phrase (any octets but CR and LF; may be empty).
        reason: &'a [u8],
    },
}

/// A parsed message head over a borrowed buffer.
#[derive(Debug, Clone)]
pub struct MessageView<'a> {
    /// The start line.
    pub start: StartLineView<'a>,
    /// Every header line in order.
    pub headers: SmallVec<[RawHeader<'a>; INLINE_HEADERS]>,
    /// Everything after the blank line that ends the head. How much of it is
    /// the body is for framing to decide ([`crate::sip::framing`]).
    pub rest: &'a [u8],
    /// Length of the head, blank line included.
    pub head_len: usize,
}

impl<'a> MessageView<'a> {
    /// Parses a message head. `buf` must start with the start line (leading
    /// CRLFs are framing's to strip).
    pub fn parse(buf: &'a [u8], limits: &Limits) -> Result<MessageView<'a>, Error> {
        if buf.len() > limits.max_message_size {
            return Err(Error::TooLarge {
                limit: limits.max_message_size,
            });
        }
        let (first, mut pos) = next_line(buf, 0).ok_or(Error::Incomplete)?;
        let start = parse_start_line(first)?;
        let mut headers = SmallVec::new();
        loop {
            let (line, next) = next_line(buf, pos).ok_or(Error::Incomplete)?;
            if line.is_empty() {
                return Ok(MessageView {
                    start,
                    headers,
                    rest: &buf[next..],
                    head_len: next,
                });
            }
            if is_wsp(line[0]) {
                // A continuation with no header before it.
                return Err(Error::HeaderLine);
            }
            // Extend the value over folded continuation lines.
            let mut end_line = line.len();
            let line_start = pos;
            let mut after = next;
            while buf.get(after).is_some_and(|&b| is_wsp(b)) {
                let (cont, n) = next_line(buf, after).ok_or(Error::Incomplete)?;
                end_line = after + cont.len() - line_start;
                after = n;
            }
            let full = &buf[line_start..line_start + end_line];
            if headers.len() >= limits.max_headers {
                return Err(Error::TooManyHeaders {
                    limit: limits.max_headers,
                });
            }
            headers.push(parse_header_line(full)?);
            pos = after;
        }
    }

    /// The request method, for requests.
    pub fn method(&self) -> Option<Method> {
        match self.start {
            StartLineView::Request { method, .. } => Some(Method::from_bytes(method)),
            StartLineView::Response { .. } => None,
        }
    }

    /// True for requests.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLineView::Request { .. })
    }
}

impl HeaderAccess for MessageView<'_> {
    fn header_values(&self, name: HeaderName) -> impl Iterator<Item = &[u8]> {
        self.headers
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| h.value)
    }
}

/// The line starting at `pos` without its terminator (CRLF, or a bare LF
/// which is tolerated), and the offset after the terminator.
fn next_line(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    let lf = memchr::memchr(b'\n', rest)?;
    let line = &rest[..lf];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, pos + lf + 1))
}

fn parse_start_line(line: &[u8]) -> Result<StartLineView<'_>, Error> {
    if line.contains(&b'\r') {
        return Err(Error::StartLine);
    }
    if let Some(rest) = line.strip_prefix(b"SIP/") {
        return parse_status_line(rest);
    }
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::StartLine);
    };
    if !is_token_str(method) || uri.is_empty() || uri.iter().any(|&b| !b.is_ascii_graphic()) {
        return Err(Error::StartLine);
    }
    check_version(version)?;
    super::uri::Uri::parse(uri).map_err(|_| Error::StartLine)?;
    Ok(StartLineView::Request { method, uri })
}

/// `SIP/` followed by `1*DIGIT "." 1*DIGIT`: 2.0 is accepted, any other
/// well-formed version is [`Error::Version`], anything else malformed.
fn check_version(version: &[u8]) -> Result<(), Error> {
    let v = version.strip_prefix(b"SIP/").ok_or(Error::StartLine)?;
    let dot = v.iter().position(|&b| b == b'.').ok_or(Error::StartLine)?;
    let (major, minor) = (&v[..dot], &v[dot + 1..]);
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if !digits(major) || !digits(minor) {
        return Err(Error::StartLine);
    }
    if v == b"2.0" {
        Ok(())
    } else {
        Err(Error::Version)
    }
}

fn parse_status_line(after_sip: &[u8]) -> Result<StartLineView<'_>, Error> {
    let rest = after_sip.strip_prefix(b"2.0 ").ok_or(Error::Version)?;
    let code_text = rest.get(..3).ok_or(Error::StartLine)?;
    if !code_text.iter().all(u8::is_ascii_digit) {
        return Err(Error::StartLine);
    }
    let reason = match rest.get(3) {
        Some(b' ') => &rest[4..],
        None => &rest[3..],
        Some(_) => return Err(Error::StatusCode),
    };
    let code = code_text
        .iter()
        .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    if !(100..=699).contains(&code) {
        return Err(Error::StatusCode);
    }
    Ok(StartLineView::Response { code, reason })
}

fn parse_header_line(line: &[u8]) -> Result<RawHeader<'_>, Error> {
    let colon = memchr::memchr(b':', line).ok_or(Error::HeaderLine)?;
    let mut name_end = colon;
    while name_end > 0 && is_wsp(line[name_end - 1]) {
        name_end -= 1;
    }
    let raw_name = &line[..name_end];
    if raw_name.is_empty() || !raw_name.iter().all(|&b| is_token(b)) {
        return Err(Error::HeaderLine);
    }
    let value = super::scan::trim(&line[colon + 1..]);
    Ok(RawHeader {
        name: HeaderName::parse(raw_name),
        raw_name,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@example.com>\r\n\
From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Subject: hello\r\n  world\r\n\
Content-Length: 4\r\n\r\nbody";

    #[test]
    fn parses_head_and_typed_views() {
        let v = MessageView::parse(INVITE, &Limits::default()).unwrap();
        assert_eq!(v.method(), Some(Method::Invite));
        assert_eq!(v.headers.len(), 8);
        assert_eq!(v.rest, b"body");
        assert_eq!(
            v.top_via().unwrap().branch(),
            Some(&b"z9hG4bK776asdhds"[..])
        );
        assert_eq!(v.cseq().unwrap().seq, 314159);
        assert_eq!(
            v.header(HeaderName::Subject),
            Some(&b"hello\r\n  world"[..])
        );
        assert_eq!(v.header_to().unwrap().display, Some(&b"Bob"[..]));
        assert_eq!(v.content_length(), Ok(Some(4)));
    }

    #[test]
    fn status_lines() {
        fn ok(s: &[u8]) -> Result<StartLineView<'_>, Error> {
            MessageView::parse(s, &Limits::default()).map(|v| v.start)
        }
        assert_eq!(
            ok(b"SIP/2.0 100 \r\n\r\n"),
            Ok(StartLineView::Response {
                code: 100,
                reason: b""
            })
        );
        assert_eq!(ok(b"SIP/2.0 4294967301 x\r\n\r\n"), Err(Error::StatusCode));
        assert_eq!(ok(b"SIP/2.0 099 x\r\n\r\n"), Err(Error::StatusCode));
        assert_eq!(ok(b"OPTIONS sip:a@b SIP/7.0\r\n\r\n"), Err(Error::Version));
        assert_eq!(
            ok(b"OPTIONS sip:a@b SIP/2.0  \r\n\r\n"),
            Err(Error::StartLine)
        );
        assert_eq!(
            ok(b"OPTIONS  sip:a@b SIP/2.0\r\n\r\n"),
            Err(Error::StartLine)
        );
    }

    #[test]
    fn limits_and_truncation() {
        let limits = Limits {
            max_message_size: 100,
            max_headers: 3,
        };
        assert_eq!(
            MessageView::parse(INVITE, &limits).map(|_| ()),
            Err(Error::TooLarge { limit: 100 })
        );
        let limits = Limits {
            max_headers: 3,
            ..Limits::default()
        };
        assert_eq!(
            MessageView::parse(INVITE, &limits).map(|_| ()),
            Err(Error::TooManyHeaders { limit: 3 })
        );
        assert_eq!(
            MessageView::parse(&INVITE[..60], &Limits::default()).map(|_| ()),
            Err(Error::Incomplete)
        );
    }
}
