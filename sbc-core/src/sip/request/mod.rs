//! Out-of-dialog requests built by a UAC core (RFC 3261 §8.1.1): the
//! Request-URI, To, From with a fresh tag, a fresh Call-ID, CSeq,
//! Max-Forwards, a top Via with a fresh branch, Contact, a preloaded route
//! set and an optional body; and the requests derived from one already sent
//! (a retry after a 401/407 challenge, §22.2, and its CANCEL, §9.1).

mod ids;
mod via;

pub use ids::{BRANCH_RANDOM_LEN, Branch, CALL_ID_RANDOM_LEN, CallId, TAG_RANDOM_LEN, Tag};
pub use via::{LocalVia, Transport};

use super::error::Error;
use super::header_name::HeaderName;
use super::headers::{HeaderAccess, MediaType, NameAddr};
use super::message::Message;
use super::method::Method;
use super::uri::Uri;
use bytes::Bytes;
use rand::RngCore;

/// Max-Forwards on every request this crate originates (§8.1.1.6).
pub const MAX_FORWARDS: u8 = 70;

/// Why a request could not be built. These are the caller's mistakes: a
/// received message never causes them, so nothing goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A value given for `field` breaks its grammar.
    #[error("invalid {field}")]
    Invalid {
        /// The header or part at fault.
        field: &'static str,
    },
    /// A From or To of an out-of-dialog request carries a tag already.
    #[error("{field} of an out-of-dialog request must not carry a tag")]
    UnexpectedTag {
        /// `From` or `To`.
        field: &'static str,
    },
    /// A header the method requires was not given.
    #[error("{method} requires a {field} header")]
    Missing {
        /// The method.
        method: Method,
        /// The header.
        field: &'static str,
    },
    /// A header the builder writes itself was given as an extra header.
    #[error("{0} is written by the request builder")]
    OwnedHeader(HeaderName),
    /// The CSeq sequence number would reach 2^31 (§8.1.1.5).
    #[error("CSeq {0} out of range")]
    CSeqOutOfRange(u64),
    /// A response was given where a request was expected.
    #[error("not a request")]
    NotARequest,
    /// The request's method does not allow the operation.
    #[error("a {method} request cannot be {action}")]
    Method {
        /// The method.
        method: Method,
        /// What was attempted (`resent`, `cancelled`).
        action: &'static str,
    },
    /// The request to derive from has a malformed header.
    #[error("malformed request: {0}")]
    Malformed(#[from] Error),
}

/// Headers the builder writes itself; [`RequestBuilder::header`] refuses them.
const OWNED: [HeaderName; 12] = [
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::MaxForwards,
    HeaderName::Contact,
    HeaderName::Route,
    HeaderName::ContentType,
    HeaderName::ContentLength,
    HeaderName::UserAgent,
    HeaderName::Supported,
];

/// True when `value` can be printed as a header value as it stands: no
/// control characters but horizontal tab, so no header injection.
fn is_printable_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

fn checked(value: &Bytes, field: &'static str) -> Result<(), RequestError> {
    if is_printable_value(value) {
        Ok(())
    } else {
        Err(RequestError::Invalid { field })
    }
}

/// Parses one name-addr a caller handed in, refusing line breaks.
fn name_addr<'a>(value: &'a Bytes, field: &'static str) -> Result<NameAddr<'a>, RequestError> {
    checked(value, field)?;
    NameAddr::parse(value, field).map_err(|_| RequestError::Invalid { field })
}

/// Builds an out-of-dialog request. The Request-URI, From, To and the local
/// Via are required; everything else has a default or is left out.
///
/// ```
/// # use sbc_core::sip::{Method, request::{RequestBuilder, LocalVia, Transport}};
/// let via = LocalVia::new(Transport::Udp, "192.0.2.1:5060").unwrap();
/// let invite = RequestBuilder::new(
///     Method::Invite,
///     "sip:bob@biloxi.example.com",
///     "\"Alice\" <sip:alice@atlanta.example.com>",
///     "<sip:bob@biloxi.example.com>",
///     via,
/// )
/// .contact("<sip:alice@192.0.2.1:5060>")
/// .body("application/sdp", "v=0\r\n")
/// .build(&mut rand::rng())
/// .unwrap();
/// assert_eq!(invite.cseq(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    method: Method,
    request_uri: Bytes,
    from: Bytes,
    to: Bytes,
    via: LocalVia,
    contact: Option<Bytes>,
    routes: Vec<Bytes>,
    call_id: Option<CallId>,
    from_tag: Option<Tag>,
    cseq: u32,
    user_agent: Option<Bytes>,
    supported: Option<Bytes>,
    extra: Vec<(Bytes, Bytes)>,
    body: Option<(Bytes, Bytes)>,
}

impl RequestBuilder {
    /// A request for `method` to `request_uri`, from the address `from` to
    /// the address `to` (name-addr or addr-spec, without tags), sent from
    /// `via`.
    pub fn new(
        method: Method,
        request_uri: impl Into<Bytes>,
        from: impl Into<Bytes>,
        to: impl Into<Bytes>,
        via: LocalVia,
    ) -> RequestBuilder {
        RequestBuilder {
            method,
            request_uri: request_uri.into(),
            from: from.into(),
            to: to.into(),
            via,
            contact: None,
            routes: Vec::new(),
            call_id: None,
            from_tag: None,
            cseq: 1,
            user_agent: None,
            supported: None,
            extra: Vec::new(),
            body: None,
        }
    }

    /// The Contact (a name-addr; `*` for a REGISTER removing every binding).
    pub fn contact(mut self, contact: impl Into<Bytes>) -> Self {
        self.contact = Some(contact.into());
        self
    }

    /// Appends one element to the preloaded route set (a name-addr, usually
    /// `<sip:proxy;lr>`), written as a Route header in the order given.
    pub fn route(mut self, route: impl Into<Bytes>) -> Self {
        self.routes.push(route.into());
        self
    }

    /// Uses this Call-ID instead of a fresh one (a REGISTER refresh reuses
    /// its Call-ID, §10.2).
    pub fn call_id(mut self, call_id: CallId) -> Self {
        self.call_id = Some(call_id);
        self
    }

    /// Uses this From tag instead of a fresh one.
    pub fn from_tag(mut self, tag: Tag) -> Self {
        self.from_tag = Some(tag);
        self
    }

    /// The CSeq sequence number (default 1; below 2^31).
    pub fn cseq(mut self, seq: u32) -> Self {
        self.cseq = seq;
        self
    }

    /// The User-Agent header.
    pub fn user_agent(mut self, user_agent: impl Into<Bytes>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The Supported header (`timer, 100rel`).
    pub fn supported(mut self, option_tags: impl Into<Bytes>) -> Self {
        self.supported = Some(option_tags.into());
        self
    }

    /// Appends any other header (Allow, Expires, Event, …); the headers the
    /// builder writes itself are refused at [`build`](Self::build).
    pub fn header(mut self, name: HeaderName, value: impl Into<Bytes>) -> Self {
        self.extra
            .push((Bytes::from_static(name.as_str().as_bytes()), value.into()));
        self
    }

    /// Appends an extension header under any name (`X-Call-Ref`).
    pub fn header_raw(mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// The body and its Content-Type.
    pub fn body(mut self, content_type: impl Into<Bytes>, body: impl Into<Bytes>) -> Self {
        self.body = Some((content_type.into(), body.into()));
        self
    }

    /// Checks every part and builds the request, drawing the Call-ID, the
    /// From tag and the branch from `rng` where not given.
    pub fn build(self, rng: &mut (impl RngCore + ?Sized)) -> Result<UacRequest, RequestError> {
        self.validate()?;
        let call_id = self.call_id.unwrap_or_else(|| CallId::random(rng));
        let from_tag = self.from_tag.unwrap_or_else(|| Tag::random(rng));
        let branch = Branch::random(rng);

        let mut m = Message::request(self.method.clone(), self.request_uri);
        let h = &mut m.headers;
        h.push(HeaderName::Via, self.via.header_value(&branch));
        h.push(HeaderName::MaxForwards, MAX_FORWARDS.to_string());
        for route in self.routes {
            h.push(HeaderName::Route, route);
        }
        h.push(HeaderName::From, with_tag(&self.from, &from_tag));
        h.push(HeaderName::To, self.to);
        h.push(HeaderName::CallId, call_id.to_bytes());
        h.push(HeaderName::CSeq, cseq_value(self.cseq, &self.method));
        if let Some(contact) = self.contact {
            h.push(HeaderName::Contact, contact);
        }
        if let Some(supported) = self.supported {
            h.push(HeaderName::Supported, supported);
        }
        if let Some(user_agent) = self.user_agent {
            h.push(HeaderName::UserAgent, user_agent);
        }
        for (name, value) in self.extra {
            h.push_raw(name, value);
        }
        if let Some((content_type, body)) = self.body {
            h.push(HeaderName::ContentType, content_type);
            m.body = body;
        }
        Ok(UacRequest {
            message: m,
            call_id,
            from_tag,
            cseq: self.cseq,
            branch,
        })
    }

    fn validate(&self) -> Result<(), RequestError> {
        let invalid = |field| RequestError::Invalid { field };
        checked(&self.request_uri, "Request-URI")?;
        let uri = Uri::parse(&self.request_uri).map_err(|_| invalid("Request-URI"))?;
        if uri.headers().is_some() {
            return Err(invalid("Request-URI"));
        }
        if matches!(self.method, Method::Ack | Method::Cancel) {
            return Err(RequestError::Method {
                method: self.method.clone(),
                action: "built out of dialog",
            });
        }
        if !crate::sip::scan::is_token_str(self.method.as_bytes()) {
            return Err(invalid("method"));
        }
        if name_addr(&self.from, "From")?.tag().is_some() {
            return Err(RequestError::UnexpectedTag { field: "From" });
        }
        if name_addr(&self.to, "To")?.tag().is_some() {
            return Err(RequestError::UnexpectedTag { field: "To" });
        }
        match &self.contact {
            Some(c) if &c[..] == b"*" && self.method == Method::Register => {}
            Some(c) => {
                name_addr(c, "Contact")?;
            }
            None if matches!(
                self.method,
                Method::Invite | Method::Subscribe | Method::Refer
            ) =>
            {
                return Err(RequestError::Missing {
                    method: self.method.clone(),
                    field: "Contact",
                });
            }
            None => {}
        }
        for route in &self.routes {
            name_addr(route, "Route")?;
        }
        if u64::from(self.cseq) >= 1 << 31 {
            return Err(RequestError::CSeqOutOfRange(self.cseq.into()));
        }
        for (value, field) in [
            (&self.user_agent, "User-Agent"),
            (&self.supported, "Supported"),
        ] {
            match value {
                Some(v) if v.is_empty() => return Err(invalid(field)),
                Some(v) => checked(v, field)?,
                None => {}
            }
        }
        for (name, value) in &self.extra {
            if !crate::sip::scan::is_token_str(name) {
                return Err(invalid("extra header name"));
            }
            let known = HeaderName::parse(name);
            if OWNED.contains(&known) {
                return Err(RequestError::OwnedHeader(known));
            }
            checked(value, "extra header")?;
        }
        if let Some((content_type, _)) = &self.body {
            checked(content_type, "Content-Type")?;
            MediaType::parse(content_type).map_err(|_| invalid("Content-Type"))?;
        }
        Ok(())
    }
}

/// An out-of-dialog request as [`RequestBuilder`] built it, with the
/// identifiers it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UacRequest {
    message: Message,
    call_id: CallId,
    from_tag: Tag,
    cseq: u32,
    branch: Branch,
}

impl UacRequest {
    /// The request.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The request, for sending.
    pub fn into_message(self) -> Message {
        self.message
    }

    /// Its Call-ID.
    pub fn call_id(&self) -> &CallId {
        &self.call_id
    }

    /// Its From tag: the local tag of any dialog it creates.
    pub fn from_tag(&self) -> &Tag {
        &self.from_tag
    }

    /// Its CSeq sequence number.
    pub fn cseq(&self) -> u32 {
        self.cseq
    }

    /// The branch of its top Via: its client transaction's key.
    pub fn branch(&self) -> &Branch {
        &self.branch
    }
}

/// `<address>;tag=<tag>`.
pub(crate) fn with_tag(address: &[u8], tag: &Tag) -> Bytes {
    let address = crate::sip::scan::trim(address);
    let mut out = Vec::with_capacity(address.len() + 5 + tag.as_bytes().len());
    out.extend_from_slice(address);
    out.extend_from_slice(b";tag=");
    out.extend_from_slice(tag.as_bytes());
    Bytes::from(out)
}

/// `<seq> <METHOD>`.
pub(crate) fn cseq_value(seq: u32, method: &Method) -> Bytes {
    let mut out = seq.to_string().into_bytes();
    out.push(b' ');
    out.extend_from_slice(method.as_bytes());
    Bytes::from(out)
}

/// The request to send after `request` was challenged with a 401 or 407
/// (§22.2, §8.1.3.5): same Call-ID, From tag, To, Request-URI and body, the
/// CSeq number one higher, a fresh branch in the top Via, and every
/// Authorization and Proxy-Authorization removed: the caller adds the
/// credentials it holds for each realm.
pub fn next_attempt(
    request: &Message,
    rng: &mut (impl RngCore + ?Sized),
) -> Result<Message, RequestError> {
    let method = request.method().ok_or(RequestError::NotARequest)?;
    if matches!(method, Method::Ack | Method::Cancel) {
        return Err(RequestError::Method {
            method: method.clone(),
            action: "resent",
        });
    }
    let cseq = request.cseq()?;
    let seq = cseq
        .seq
        .checked_add(1)
        .filter(|&s| s < 1 << 31)
        .ok_or(RequestError::CSeqOutOfRange(u64::from(cseq.seq) + 1))?;
    let via = via::rebranch(&request.top_via()?, &Branch::random(rng));
    let mut next = request.clone();
    next.headers.pop_front(HeaderName::Via);
    next.headers.push_front(HeaderName::Via, via);
    next.headers
        .set(HeaderName::CSeq, cseq_value(seq, &cseq.method));
    next.headers.remove(HeaderName::Authorization);
    next.headers.remove(HeaderName::ProxyAuthorization);
    Ok(next)
}

/// The CANCEL for an INVITE this UA sent (§9.1): same Request-URI, Call-ID,
/// From, To, CSeq number and Route headers, and one Via: the INVITE's top
/// Via, branch included, so it matches the INVITE's transaction.
pub fn cancel_for(invite: &Message) -> Result<Message, RequestError> {
    let method = invite.method().ok_or(RequestError::NotARequest)?;
    if *method != Method::Invite {
        return Err(RequestError::Method {
            method: method.clone(),
            action: "cancelled",
        });
    }
    let uri = invite.request_uri().cloned().unwrap_or_default();
    let seq = invite.cseq()?.seq;
    invite.top_via()?;
    invite.header_from()?;
    invite.header_to()?;
    invite.call_id()?;
    let mut vias = invite.headers.clone();
    let top_via = vias
        .pop_front(HeaderName::Via)
        .ok_or(Error::Missing("Via"))?;
    let mut cancel = Message::request(Method::Cancel, uri);
    cancel.headers.push(HeaderName::Via, top_via);
    cancel
        .headers
        .push(HeaderName::MaxForwards, MAX_FORWARDS.to_string());
    for h in invite.headers.iter() {
        if matches!(
            h.name,
            HeaderName::Route | HeaderName::From | HeaderName::To | HeaderName::CallId
        ) {
            cancel.headers.push(h.name, h.value.clone());
        }
    }
    cancel
        .headers
        .push(HeaderName::CSeq, cseq_value(seq, &Method::Cancel));
    Ok(cancel)
}

#[cfg(test)]
mod tests;
