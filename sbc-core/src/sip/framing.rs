//! Framing: where one SIP message ends. On datagram transports a datagram
//! holds one message and Content-Length (if present) bounds its body; on
//! stream transports (TCP, TLS) Content-Length is mandatory and messages
//! follow each other in a bounded buffer. CRLF keep-alives (RFC 5626 §3.5.1)
//! are recognised on both.

use super::error::Error;
use super::headers::HeaderAccess;
use super::parse::{Limits, MessageView};
use bytes::{Buf, Bytes, BytesMut};

/// What a datagram or a stream frame holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A keep-alive: `ping` is true for a double CRLF, which earns a single
    /// CRLF back on streams.
    KeepAlive {
        /// True for a double-CRLF ping.
        ping: bool,
    },
    /// The bytes of exactly one message, head and body.
    Message(Bytes),
}

/// Frames one received datagram. Leading CRLFs are skipped; a datagram of
/// nothing else is a keep-alive. Bytes past the body that Content-Length
/// announces are dropped (RFC 4475 `dblreq`); a Content-Length larger than
/// the datagram is an error.
pub fn frame_datagram(datagram: Bytes, limits: &Limits) -> Result<Frame, Error> {
    let start = datagram
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(datagram.len());
    if start == datagram.len() {
        return Ok(Frame::KeepAlive { ping: start >= 4 });
    }
    let bytes = datagram.slice(start..);
    let view = MessageView::parse(&bytes, limits)?;
    let end = match view.content_length()? {
        Some(n) if n > view.rest.len() => return Err(Error::Truncated),
        Some(n) => view.head_len + n,
        None => bytes.len(),
    };
    Ok(Frame::Message(bytes.slice(..end)))
}

/// Reassembles messages from a byte stream with a bounded buffer.
#[derive(Debug)]
pub struct StreamFramer {
    buf: BytesMut,
    limits: Limits,
    /// Bytes at the front of `buf` already searched for the end of a head,
    /// so bytes trickling in are not searched again and again.
    scanned: usize,
    /// The length of the message at the front, once its head is parsed.
    pending: Option<usize>,
}

impl StreamFramer {
    /// A framer that buffers at most `limits.max_message_size` bytes of an
    /// unfinished message.
    pub fn new(limits: Limits) -> Self {
        StreamFramer {
            buf: BytesMut::new(),
            limits,
            scanned: 0,
            pending: None,
        }
    }

    /// Appends received bytes. Fails (and the connection should close) when
    /// the unfinished message grows past the limit.
    pub fn push(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.buf.len() + data.len() > self.limits.max_message_size + 4 {
            return Err(Error::TooLarge {
                limit: self.limits.max_message_size,
            });
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Bytes buffered and not yet framed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed. An
    /// error is fatal for the connection: the stream cannot be resynchronised.
    pub fn poll_frame(&mut self) -> Result<Option<Frame>, Error> {
        if let Some(total) = self.pending {
            return Ok(self.take_message(total));
        }
        if let Some(frame) = self.poll_keep_alive() {
            return Ok(frame);
        }
        let Some(head_end) = find_head_end(&self.buf, self.scanned) else {
            // A LF in the last two bytes may yet turn out to end the head.
            self.scanned = self.buf.len().saturating_sub(2);
            if self.buf.len() > self.limits.max_message_size {
                return Err(Error::TooLarge {
                    limit: self.limits.max_message_size,
                });
            }
            return Ok(None);
        };
        let body_len = MessageView::parse(&self.buf[..head_end], &self.limits)?
            .content_length()?
            .ok_or(Error::ContentLength)?;
        let total = head_end.saturating_add(body_len);
        if total > self.limits.max_message_size {
            return Err(Error::TooLarge {
                limit: self.limits.max_message_size,
            });
        }
        Ok(self.take_message(total))
    }
}

impl StreamFramer {
    /// Splits off the message of `total` bytes at the front once it is all
    /// there; until then remembers its length.
    fn take_message(&mut self, total: usize) -> Option<Frame> {
        if self.buf.len() < total {
            self.pending = Some(total);
            return None;
        }
        self.pending = None;
        self.scanned = 0;
        Some(Frame::Message(self.buf.split_to(total).freeze()))
    }

    /// Recognises CRLF keep-alives at the head of the buffer: `Some(frame)`
    /// when one was consumed (or `Some(None)` while one may still be
    /// arriving), `None` when a message starts there.
    fn poll_keep_alive(&mut self) -> Option<Option<Frame>> {
        let first = *self.buf.first()?;
        if first != b'\r' && first != b'\n' {
            return None;
        }
        if self.buf.starts_with(b"\r\n\r\n") {
            self.buf.advance(4);
            return Some(Some(Frame::KeepAlive { ping: true }));
        }
        if b"\r\n\r".starts_with(&self.buf) {
            // A ping may still be arriving.
            return Some(None);
        }
        let n = if self.buf.starts_with(b"\r\n") { 2 } else { 1 };
        self.buf.advance(n);
        Some(Some(Frame::KeepAlive { ping: false }))
    }
}

/// Offset just past the blank line ending the head, found as
/// [`MessageView::parse`] reads lines (CRLF or a bare LF): the first LF
/// followed by LF or CRLF.
/// The search starts at `from`, which must not be past a LF whose
/// following bytes were not yet received.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut pos = from.min(buf.len());
    while let Some(i) = memchr::memchr(b'\n', &buf[pos..]) {
        let lf = pos + i;
        match &buf[lf + 1..] {
            [b'\n', ..] => return Some(lf + 2),
            [b'\r', b'\n', ..] => return Some(lf + 3),
            _ => pos = lf + 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] =
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 3\r\n\r\nabc";

    #[test]
    fn datagrams() {
        let l = Limits::default();
        assert_eq!(
            frame_datagram(Bytes::from_static(b"\r\n\r\n"), &l),
            Ok(Frame::KeepAlive { ping: true })
        );
        let mut two = OPTIONS.to_vec();
        two.extend_from_slice(OPTIONS);
        let Ok(Frame::Message(m)) = frame_datagram(Bytes::from(two), &l) else {
            panic!("one message expected")
        };
        assert_eq!(&m[..], OPTIONS);
        let mut short = OPTIONS.to_vec();
        short.pop();
        assert_eq!(
            frame_datagram(Bytes::from(short), &l),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn stream_in_pieces() {
        let mut f = StreamFramer::new(Limits::default());
        let mut all = b"\r\n\r\n".to_vec();
        all.extend_from_slice(OPTIONS);
        all.extend_from_slice(OPTIONS);
        for chunk in all.chunks(7) {
            f.push(chunk).unwrap();
        }
        assert_eq!(f.poll_frame(), Ok(Some(Frame::KeepAlive { ping: true })));
        assert_eq!(
            f.poll_frame(),
            Ok(Some(Frame::Message(Bytes::from_static(OPTIONS))))
        );
        assert_eq!(
            f.poll_frame(),
            Ok(Some(Frame::Message(Bytes::from_static(OPTIONS))))
        );
        assert_eq!(f.poll_frame(), Ok(None));
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn stream_head_ends_where_the_parser_says() {
        // A bare LF then CRLF ends the head for the parser, so it must for
        // the framer too, or the next message's bytes become this body.
        let msg: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nl: 0\n\r\n";
        let mut f = StreamFramer::new(Limits::default());
        f.push(msg).unwrap();
        f.push(b"OPTIONS sip:c@d SIP/2.0\r\nl: 0\r\n\r\n").unwrap();
        assert_eq!(
            f.poll_frame(),
            Ok(Some(Frame::Message(Bytes::from_static(msg))))
        );
        let Ok(Some(Frame::Message(second))) = f.poll_frame() else {
            panic!("second message expected");
        };
        assert!(second.starts_with(b"OPTIONS sip:c@d"));
    }

    #[test]
    fn stream_byte_by_byte() {
        let msg: &[u8] = b"OPTIONS sip:a@b SIP/2.0\nl: 3\n\r\nabc";
        let mut f = StreamFramer::new(Limits::default());
        let mut frames = Vec::new();
        for b in msg.iter().chain(msg) {
            f.push(&[*b]).unwrap();
            while let Some(frame) = f.poll_frame().unwrap() {
                frames.push(frame);
            }
        }
        let one = Frame::Message(Bytes::from_static(msg));
        assert_eq!(frames, vec![one.clone(), one]);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn stream_requires_content_length_and_bounds_size() {
        let mut f = StreamFramer::new(Limits::default());
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n")
            .unwrap();
        assert_eq!(f.poll_frame(), Err(Error::ContentLength));
        let mut f = StreamFramer::new(Limits {
            max_message_size: 64,
            max_headers: 10,
        });
        assert!(f.push(&[b'a'; 100]).is_err());
    }

    #[test]
    fn stream_content_length_past_usize_is_too_large() {
        let mut f = StreamFramer::new(Limits::default());
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nl: 18446744073709551615\r\n\r\n")
            .unwrap();
        assert_eq!(f.poll_frame(), Err(Error::TooLarge { limit: 65_535 }));
    }
}
