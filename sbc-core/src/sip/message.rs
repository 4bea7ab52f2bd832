//! The owned, editable SIP message and its printer. Header values are
//! `Bytes`: slices of the received buffer until edited, so turning a parsed
//! view into a `Message` copies no header text.

use super::error::Error;
use super::header_name::HeaderName;
use super::headers::HeaderAccess;
use super::method::Method;
use super::parse::{Limits, MessageView, StartLineView};
use super::scan::CommaSplit;
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt::Write as _;

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// A request line.
    Request {
        /// The method.
        method: Method,
        /// The Request-URI text.
        uri: Bytes,
    },
    /// A status line.
    Response {
        /// The status code.
        code: u16,
        /// The reason phrase.
        reason: Bytes,
    },
}

/// One header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The recognised name.
    pub name: HeaderName,
    /// The name as it is printed (as received, or canonical for headers this
    /// crate added).
    pub raw_name: Bytes,
    /// The value as it is printed.
    pub value: Bytes,
}

/// The header lines of a message, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<Header>);

impl Headers {
    /// Every header line in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.0.iter()
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no header lines.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends a header line with the canonical name.
    pub fn push(&mut self, name: HeaderName, value: impl Into<Bytes>) {
        self.0.push(Header {
            name,
            raw_name: Bytes::from_static(name.as_str().as_bytes()),
            value: value.into(),
        });
    }

    /// Appends a header line under any name (an extension header).
    pub fn push_raw(&mut self, raw_name: impl Into<Bytes>, value: impl Into<Bytes>) {
        let raw_name = raw_name.into();
        self.0.push(Header {
            name: HeaderName::parse(&raw_name),
            raw_name,
            value: value.into(),
        });
    }

    /// Inserts a header line before every other line of the same name, or at
    /// the top when there is none (pushing a Via, a Record-Route).
    pub fn push_front(&mut self, name: HeaderName, value: impl Into<Bytes>) {
        let at = self.0.iter().position(|h| h.name == name).unwrap_or(0);
        self.0.insert(
            at,
            Header {
                name,
                raw_name: Bytes::from_static(name.as_str().as_bytes()),
                value: value.into(),
            },
        );
    }

    /// Removes and returns the first *element* of `name`: when the first line
    /// is a comma-separated list, only its first element goes (popping a Via
    /// or a Route).
    pub fn pop_front(&mut self, name: HeaderName) -> Option<Bytes> {
        let at = self.0.iter().position(|h| h.name == name)?;
        let value = self.0[at].value.clone();
        let mut elements = CommaSplit::new(&value);
        let first = elements.next().unwrap_or_default();
        let first = value.slice_ref(first);
        match elements.next() {
            None => {
                self.0.remove(at);
            }
            Some(second) => {
                let offset = second.as_ptr() as usize - value.as_ptr() as usize;
                self.0[at].value = value.slice(offset..);
            }
        }
        Some(first)
    }

    /// The first value of `name`.
    pub fn get(&self, name: HeaderName) -> Option<&Bytes> {
        self.0.iter().find(|h| h.name == name).map(|h| &h.value)
    }

    /// The first value of an extension header, by name ignoring case.
    pub fn get_raw(&self, raw_name: &str) -> Option<&Bytes> {
        self.0
            .iter()
            .find(|h| h.raw_name.eq_ignore_ascii_case(raw_name.as_bytes()))
            .map(|h| &h.value)
    }

    /// Replaces every line of `name` with one line holding `value`, kept at
    /// the place of the first (or appended).
    pub fn set(&mut self, name: HeaderName, value: impl Into<Bytes>) {
        let value = value.into();
        match self.0.iter().position(|h| h.name == name) {
            Some(at) => {
                self.0[at].value = value;
                let mut i = at + 1;
                while i < self.0.len() {
                    if self.0[i].name == name {
                        self.0.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
            None => self.push(name, value),
        }
    }

    /// Removes every line of `name`; returns how many went.
    pub fn remove(&mut self, name: HeaderName) -> usize {
        let before = self.0.len();
        self.0.retain(|h| h.name != name);
        before - self.0.len()
    }

    /// Keeps only the lines for which `keep` is true.
    pub fn retain(&mut self, keep: impl FnMut(&Header) -> bool) {
        self.0.retain(keep);
    }
}

/// An owned SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The start line.
    pub start: StartLine,
    /// The header lines.
    pub headers: Headers,
    /// The body.
    pub body: Bytes,
}

impl HeaderAccess for Message {
    fn header_values(&self, name: HeaderName) -> impl Iterator<Item = &[u8]> {
        self.headers
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| &h.value[..])
    }
}

impl Message {
    /// A new request with no headers.
    pub fn request(method: Method, uri: impl Into<Bytes>) -> Message {
        Message {
            start: StartLine::Request {
                method,
                uri: uri.into(),
            },
            headers: Headers::default(),
            body: Bytes::new(),
        }
    }

    /// A new response with no headers.
    pub fn response(code: u16, reason: impl Into<Bytes>) -> Message {
        Message {
            start: StartLine::Response {
                code,
                reason: reason.into(),
            },
            headers: Headers::default(),
            body: Bytes::new(),
        }
    }

    /// Parses one complete message held in `buf`: the body is what
    /// Content-Length says, or the rest of the buffer without one. Extra
    /// bytes past Content-Length are ignored (RFC 3261 §18.3).
    pub fn parse(buf: Bytes, limits: &Limits) -> Result<Message, Error> {
        let view = MessageView::parse(&buf, limits)?;
        Self::from_view(&view, &buf)
    }

    /// Builds the owned form of `view`, which must borrow from `buf`; header
    /// values become slices of `buf`.
    pub fn from_view(view: &MessageView<'_>, buf: &Bytes) -> Result<Message, Error> {
        let body = match view.content_length()? {
            Some(n) if n > view.rest.len() => return Err(Error::ContentLength),
            Some(n) => &view.rest[..n],
            None => view.rest,
        };
        let start = match view.start {
            StartLineView::Request { method, uri } => StartLine::Request {
                method: Method::from_bytes(method),
                uri: buf.slice_ref(uri),
            },
            StartLineView::Response { code, reason } => StartLine::Response {
                code,
                reason: buf.slice_ref(reason),
            },
        };
        let headers = view
            .headers
            .iter()
            .map(|h| Header {
                name: h.name,
                raw_name: buf.slice_ref(h.raw_name),
                value: buf.slice_ref(h.value),
            })
            .collect();
        Ok(Message {
            start,
            headers: Headers(headers),
            body: buf.slice_ref(body),
        })
    }

    /// True for requests.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI text of a request.
    pub fn request_uri(&self) -> Option<&Bytes> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// Rewrites the Request-URI of a request; no effect on a response.
    pub fn set_request_uri(&mut self, new_uri: impl Into<Bytes>) {
        if let StartLine::Request { uri, .. } = &mut self.start {
            *uri = new_uri.into();
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// Sets the body and its Content-Type (`None` removes Content-Type).
    pub fn set_body(&mut self, content_type: Option<&str>, body: impl Into<Bytes>) {
        self.body = body.into();
        match content_type {
            Some(ct) => self.headers.set(
                HeaderName::ContentType,
                Bytes::copy_from_slice(ct.as_bytes()),
            ),
            None => {
                self.headers.remove(HeaderName::ContentType);
            }
        }
    }

    /// Prints the message. Content-Length is always written with the true
    /// body length: in place of the received one, or last when there was
    /// none, so the output frames correctly on streams.
    pub fn write_to(&self, out: &mut BytesMut) {
        match &self.start {
            StartLine::Request { method, uri } => {
                out.put_slice(method.as_bytes());
                out.put_u8(b' ');
                out.put_slice(uri);
                out.put_slice(b" SIP/2.0\r\n");
            }
            StartLine::Response { code, reason } => {
                let mut line = String::with_capacity(16);
                let _ = write!(line, "SIP/2.0 {code} ");
                out.put_slice(line.as_bytes());
                out.put_slice(reason);
                out.put_slice(b"\r\n");
            }
        }
        let mut wrote_length = false;
        for h in self.headers.iter() {
            if h.name == HeaderName::ContentLength && wrote_length {
                continue;
            }
            out.put_slice(&h.raw_name);
            out.put_slice(b": ");
            if h.name == HeaderName::ContentLength {
                wrote_length = true;
                out.put_slice(self.body.len().to_string().as_bytes());
            } else {
                out.put_slice(&h.value);
            }
            out.put_slice(b"\r\n");
        }
        if !wrote_length {
            out.put_slice(b"Content-Length: ");
            out.put_slice(self.body.len().to_string().as_bytes());
            out.put_slice(b"\r\n");
        }
        out.put_slice(b"\r\n");
        out.put_slice(&self.body);
    }

    /// Prints the message into a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(512 + self.body.len());
        self.write_to(&mut out);
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &'static [u8]) -> Message {
        Message::parse(Bytes::from_static(s), &Limits::default()).unwrap()
    }

    #[test]
    fn edits_then_prints() {
        let mut m = parse(
            b"INVITE sip:bob@example.com SIP/2.0\r\n\
v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2\r\n\
X-Custom:  kept verbatim \r\n\
l: 0\r\n\r\n",
        );
        m.headers.push_front(
            HeaderName::Via,
            "SIP/2.0/TCP gw.example.net;branch=z9hG4bKgw",
        );
        assert_eq!(m.top_via().unwrap().transport, b"TCP");
        let popped = m.headers.pop_front(HeaderName::Via).unwrap();
        assert_eq!(&popped[..], b"SIP/2.0/TCP gw.example.net;branch=z9hG4bKgw");
        let popped = m.headers.pop_front(HeaderName::Via).unwrap();
        assert_eq!(&popped[..], b"SIP/2.0/UDP a.example.com;branch=z9hG4bK1");
        assert_eq!(m.vias().count(), 1);
        m.set_request_uri("sip:bob@10.0.0.5:5060");
        m.headers.set(HeaderName::Contact, "<sip:gw@192.0.2.1>");
        m.set_body(Some("application/sdp"), "v=0\r\n");
        let printed = m.to_bytes();
        let text = std::str::from_utf8(&printed).unwrap();
        assert!(text.starts_with("INVITE sip:bob@10.0.0.5:5060 SIP/2.0\r\n"));
        assert!(text.contains("X-Custom: kept verbatim\r\n"));
        assert!(text.contains("l: 5\r\n"));
        let again = Message::parse(printed.clone(), &Limits::default()).unwrap();
        assert_eq!(again.body, "v=0\r\n");
        assert_eq!(again.to_bytes(), printed);
    }

    #[test]
    fn prints_one_content_length() {
        let m = parse(b"SIP/2.0 200 OK\r\nl: 2\r\nContent-Length: 2\r\nX-A: b\r\n\r\nab");
        assert_eq!(
            &m.to_bytes()[..],
            b"SIP/2.0 200 OK\r\nl: 2\r\nX-A: b\r\n\r\nab"
        );
    }

    #[test]
    fn body_bounded_by_content_length() {
        let m = parse(b"SIP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nabcdef");
        assert_eq!(m.body, "ab");
        assert_eq!(m.status(), Some(200));
        let short = Message::parse(
            Bytes::from_static(b"SIP/2.0 200 OK\r\nContent-Length: 9\r\n\r\nab"),
            &Limits::default(),
        );
        assert_eq!(short, Err(Error::ContentLength));
    }
}
