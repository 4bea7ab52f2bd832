//! Requests this UA sends inside a dialog (RFC 3261 §12.2.1.1): the
//! Request-URI and Route headers from the remote target and route set,
//! From/To with the dialog's tags, the next local CSeq, and a top Via with a
//! fresh branch; and the ACK for a 2xx to an INVITE (§13.2.2.4).

use super::{Dialog, DialogError, DialogState, is_target_refresh};
use crate::sip::header_name::HeaderName;
use crate::sip::headers::HeaderAccess;
use crate::sip::message::Message;
use crate::sip::method::Method;
use crate::sip::request::{Branch, MAX_FORWARDS, Tag, cseq_value};
use bytes::{BufMut, Bytes, BytesMut};
use rand::{Rng, RngCore};

/// Upper bound (exclusive) of the first CSeq number a UAS picks for its own
/// requests in a dialog: random, and far enough below 2^31 to never run out.
const INITIAL_SEQ_LIMIT: u32 = 1 << 16;

impl Dialog {
    /// A new request inside the dialog with the next local CSeq number
    /// (the first one random for a UAS, §8.1.1.5). Target-refresh requests
    /// and REFER carry the local Contact. The caller adds the body and any
    /// other header. Sending a BYE terminates the dialog (§15.1.1).
    pub fn request(
        &mut self,
        method: Method,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<Message, DialogError> {
        if self.state == DialogState::Terminated {
            return Err(DialogError::Terminated);
        }
        if matches!(method, Method::Ack | Method::Cancel) {
            return Err(DialogError::Method(method));
        }
        let seq = match self.local_seq {
            Some(last) => last
                .checked_add(1)
                .filter(|&s| s < 1 << 31)
                .ok_or(DialogError::CSeqExhausted)?,
            None => rng.random_range(1..INITIAL_SEQ_LIMIT),
        };
        let mut m = self.base_request(method.clone(), seq, rng);
        if is_target_refresh(&method) || method == Method::Refer {
            m.headers
                .push(HeaderName::Contact, self.local_contact.clone());
        }
        self.local_seq = Some(seq);
        if method == Method::Bye {
            self.set_state(DialogState::Terminated);
        }
        Ok(m)
    }

    /// The ACK for `response`, a 2xx to an INVITE this UA sent in (or to
    /// create) this dialog (§13.2.2.4): CSeq number of the INVITE, method
    /// ACK, a fresh branch, routed like any request in the dialog. Call
    /// [`handle_response`](Self::handle_response) with the 2xx first so the
    /// route set and remote target are the 2xx's.
    pub fn ack_for_2xx(
        &self,
        response: &Message,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<Message, DialogError> {
        let cseq = response.cseq()?;
        let is_2xx = response.status().is_some_and(|s| (200..300).contains(&s));
        if !is_2xx || cseq.method != Method::Invite {
            return Err(DialogError::WrongMessage {
                expected: "a 2xx response to an INVITE",
            });
        }
        if super::DialogId::for_incoming_response(response)?.as_ref() != Some(&self.id) {
            return Err(DialogError::NoDialog);
        }
        Ok(self.base_request(Method::Ack, cseq.seq, rng))
    }

    /// The headers every request in the dialog carries (§12.2.1.1).
    fn base_request(&self, method: Method, seq: u32, rng: &mut (impl RngCore + ?Sized)) -> Message {
        let target = self.route_set.target(&self.remote_target);
        let mut m = Message::request(method.clone(), target.request_uri);
        let h = &mut m.headers;
        h.push(
            HeaderName::Via,
            self.local_via.header_value(&Branch::random(rng)),
        );
        h.push(HeaderName::MaxForwards, MAX_FORWARDS.to_string());
        for route in target.routes {
            h.push(HeaderName::Route, route);
        }
        h.push(
            HeaderName::From,
            addr_with_tag(&self.local_uri, &self.id.local_tag),
        );
        h.push(
            HeaderName::To,
            addr_with_tag(&self.remote_uri, &self.id.remote_tag),
        );
        h.push(HeaderName::CallId, self.id.call_id.to_bytes());
        h.push(HeaderName::CSeq, cseq_value(seq, &method));
        m
    }
}

/// `<uri>;tag=<tag>`.
fn addr_with_tag(uri: &[u8], tag: &Tag) -> Bytes {
    let mut out = BytesMut::with_capacity(uri.len() + 7 + tag.as_bytes().len());
    out.put_u8(b'<');
    out.put_slice(uri);
    out.put_slice(b">;tag=");
    out.put_slice(tag.as_bytes());
    out.freeze()
}
