//! Dialogs (RFC 3261 §12): the peer-to-peer relationship an INVITE (or
//! SUBSCRIBE, REFER) creates, for a UAC from a 1xx/2xx with a To tag and for
//! a UAS from the request it answers. A [`Dialog`] holds the state §12.1
//! names: its [`DialogId`], the local and remote CSeq, URIs and tags, the
//! remote target, the route set and the secure flag. It builds requests
//! inside the dialog ([`Dialog::request`], [`Dialog::ack_for_2xx`]) and
//! checks the ones it receives ([`Dialog::handle_request`],
//! [`Dialog::handle_response`]). [`DialogSet`] finds the dialog a message
//! belongs to.
//!
//! Nothing here sends or times anything: built requests go to the
//! transaction layer; every input is a [`Message`] already parsed.

mod error;
mod receive;
mod route;
mod send;
mod set;

pub use error::DialogError;
pub use set::DialogSet;

use crate::sip::error::Error;
use crate::sip::header_name::HeaderName;
use crate::sip::headers::{HeaderAccess, NameAddr};
use crate::sip::message::Message;
use crate::sip::method::Method;
use crate::sip::request::{CallId, LocalVia, Tag};
use crate::sip::uri::{Scheme, Uri};
use bytes::Bytes;
use route::RouteSet;

/// Identifies a dialog at one UA (§12): Call-ID and the two tags, the local
/// one first. The same dialog has its tags swapped at the peer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: CallId,
    /// This UA's tag.
    pub local_tag: Tag,
    /// The peer's tag.
    pub remote_tag: Tag,
}

impl DialogId {
    /// The dialog a received request names: local tag from To, remote tag
    /// from From. `None` when To has no tag (the request is outside any
    /// dialog).
    pub fn for_incoming_request(request: &Message) -> Result<Option<DialogId>, DialogError> {
        let Some(local_tag) = tag_of(&request.header_to()?, "To")? else {
            return Ok(None);
        };
        let remote_tag = tag_of(&request.header_from()?, "From")?
            .ok_or(DialogError::MissingTag { header: "From" })?;
        Ok(Some(DialogId {
            call_id: call_id_of(request)?,
            local_tag,
            remote_tag,
        }))
    }

    /// The dialog a response to a request this UA sent names: local tag from
    /// From, remote tag from To. `None` when To has no tag.
    pub fn for_incoming_response(response: &Message) -> Result<Option<DialogId>, DialogError> {
        let Some(remote_tag) = tag_of(&response.header_to()?, "To")? else {
            return Ok(None);
        };
        let local_tag = tag_of(&response.header_from()?, "From")?
            .ok_or(DialogError::MissingTag { header: "From" })?;
        Ok(Some(DialogId {
            call_id: call_id_of(response)?,
            local_tag,
            remote_tag,
        }))
    }
}

/// The state of a dialog (§12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialogState {
    /// Created by a provisional response; ends unless a 2xx confirms it.
    Early,
    /// Confirmed by a 2xx.
    Confirmed,
    /// Ended by a BYE, a non-2xx final response to the INVITE that created
    /// it, or a 481/408 to a request inside it (§12.2.1.2, §15).
    Terminated,
}

/// Which side of the dialog-creating transaction this UA was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// This UA sent the dialog-creating request.
    Uac,
    /// This UA received it.
    Uas,
}

/// One dialog's state (§12.1.1, §12.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    id: DialogId,
    role: Role,
    state: DialogState,
    local_seq: Option<u32>,
    remote_seq: Option<u32>,
    local_uri: Bytes,
    remote_uri: Bytes,
    remote_target: Bytes,
    route_set: RouteSet,
    secure: bool,
    local_via: LocalVia,
    local_contact: Bytes,
}

impl Dialog {
    /// The dialog a response to `request`, which this UA sent, creates
    /// (§12.1.2): a 101–199 with a To tag makes it early, a 2xx confirmed.
    /// The route set is the response's Record-Route reversed, the remote
    /// target its Contact (the Request-URI for a 1xx without one); the
    /// local Via and Contact for later requests are the request's own.
    pub fn from_uac_response(request: &Message, response: &Message) -> Result<Dialog, DialogError> {
        let status = response.status().ok_or(DialogError::WrongMessage {
            expected: "a response",
        })?;
        let request_uri = request.request_uri().ok_or(DialogError::WrongMessage {
            expected: "a request",
        })?;
        let state = match status {
            101..=199 => DialogState::Early,
            200..=299 => DialogState::Confirmed,
            _ => return Err(DialogError::NotDialogCreating { status }),
        };
        let id = match DialogId::for_incoming_response(response)? {
            Some(id) => id,
            None if state == DialogState::Early => {
                return Err(DialogError::NotDialogCreating { status });
            }
            None => return Err(DialogError::MissingTag { header: "To" }),
        };
        let from = request.header_from()?;
        let local_tag = tag_of(&from, "From")?.ok_or(DialogError::MissingTag { header: "From" })?;
        let local_seq = request.cseq()?.seq;
        if id.local_tag != local_tag
            || id.call_id != call_id_of(request)?
            || response.cseq()?.seq != local_seq
        {
            return Err(DialogError::NoDialog);
        }
        let remote_target = match contact_uri(response)? {
            Some(uri) => uri,
            None if state == DialogState::Early => request_uri.clone(),
            None => return Err(Error::Missing("Contact").into()),
        };
        let local_contact = request
            .headers
            .get(HeaderName::Contact)
            .cloned()
            .ok_or(Error::Missing("Contact"))?;
        let dialog = Dialog {
            role: Role::Uac,
            state,
            local_seq: Some(local_seq),
            remote_seq: None,
            local_uri: Bytes::copy_from_slice(from.uri.as_bytes()),
            remote_uri: Bytes::copy_from_slice(request.header_to()?.uri.as_bytes()),
            remote_target,
            route_set: RouteSet::from_record_route(response, true)?,
            secure: is_secure(request)?,
            local_via: LocalVia::from_via(&request.top_via()?)?,
            local_contact,
            id,
        };
        tracing::debug!(local_tag = %dialog.id.local_tag, state = ?state, "UAC dialog created");
        Ok(dialog)
    }

    /// The dialog this UA creates by answering `request` (§12.1.1) with
    /// `local_tag` in the To of its responses: early until
    /// [`confirm`](Self::confirm) is called as the 2xx goes out. The route
    /// set is the request's Record-Route as received, the remote target its
    /// Contact; `local_contact` (a name-addr) and `local_via` are what this
    /// UA puts on its own requests in the dialog.
    pub fn from_uas_request(
        request: &Message,
        local_tag: Tag,
        local_contact: impl Into<Bytes>,
        local_via: LocalVia,
    ) -> Result<Dialog, DialogError> {
        if !request.is_request() {
            return Err(DialogError::WrongMessage {
                expected: "a request",
            });
        }
        let to = request.header_to()?;
        if to.tag().is_some() {
            return Err(DialogError::WrongMessage {
                expected: "a request without a To tag",
            });
        }
        let from = request.header_from()?;
        let remote_tag =
            tag_of(&from, "From")?.ok_or(DialogError::MissingTag { header: "From" })?;
        let local_contact = local_contact.into();
        if NameAddr::parse(&local_contact, "Contact").is_err()
            || local_contact.iter().any(|&b| b == b'\r' || b == b'\n')
        {
            return Err(crate::sip::request::RequestError::Invalid { field: "Contact" }.into());
        }
        let remote_target = contact_uri(request)?.ok_or(Error::Missing("Contact"))?;
        let dialog = Dialog {
            id: DialogId {
                call_id: call_id_of(request)?,
                local_tag,
                remote_tag,
            },
            role: Role::Uas,
            state: DialogState::Early,
            local_seq: None,
            remote_seq: Some(request.cseq()?.seq),
            local_uri: Bytes::copy_from_slice(to.uri.as_bytes()),
            remote_uri: Bytes::copy_from_slice(from.uri.as_bytes()),
            remote_target,
            route_set: RouteSet::from_record_route(request, false)?,
            secure: is_secure(request)?,
            local_via,
            local_contact,
        };
        tracing::debug!(local_tag = %dialog.id.local_tag, "UAS dialog created");
        Ok(dialog)
    }

    /// The dialog's identifier.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Which side created it.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Its state.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// The CSeq number of the last request this UA sent in it (`None` for a
    /// UAS that has sent none).
    pub fn local_seq(&self) -> Option<u32> {
        self.local_seq
    }

    /// The highest CSeq number the peer used in it (`None` for a UAC that
    /// has received no request).
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// The local URI (From of requests this UA sends).
    pub fn local_uri(&self) -> &Bytes {
        &self.local_uri
    }

    /// The remote URI (To of requests this UA sends).
    pub fn remote_uri(&self) -> &Bytes {
        &self.remote_uri
    }

    /// The remote target: the peer's Contact URI, the Request-URI of
    /// requests sent in the dialog (unless a strict router is first).
    pub fn remote_target(&self) -> &Bytes {
        &self.remote_target
    }

    /// The route set, in the order requests carry it as Route headers.
    pub fn route_set(&self) -> impl Iterator<Item = &Bytes> {
        self.route_set.values()
    }

    /// True when the dialog was created over TLS (or WSS) with a `sips:`
    /// Request-URI (§12.1.1).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The Contact this UA puts on target-refresh requests.
    pub fn local_contact(&self) -> &Bytes {
        &self.local_contact
    }

    /// The transport and `sent-by` of the Via on requests this UA sends.
    pub fn local_via(&self) -> &LocalVia {
        &self.local_via
    }

    /// Marks an early dialog confirmed: a UAS calls this as its 2xx to the
    /// dialog-creating request goes out.
    pub fn confirm(&mut self) {
        if self.state == DialogState::Early {
            self.set_state(DialogState::Confirmed);
        }
    }

    /// Marks the dialog terminated (a timeout, a final non-2xx this UA sent
    /// for the dialog-creating request).
    pub fn terminate(&mut self) {
        self.set_state(DialogState::Terminated);
    }

    fn set_state(&mut self, state: DialogState) {
        if self.state != state {
            tracing::debug!(local_tag = %self.id.local_tag, from = ?self.state, to = ?state, "dialog state");
            self.state = state;
        }
    }
}

/// Methods whose requests (and 2xx responses) replace the remote target
/// (§12.2; RFC 3311 for UPDATE, RFC 6665 §4.1.1 for SUBSCRIBE and NOTIFY).
pub(crate) fn is_target_refresh(method: &Method) -> bool {
    matches!(
        method,
        Method::Invite | Method::Update | Method::Subscribe | Method::Notify
    )
}

/// The tag of `addr`, as a [`Tag`]; `None` when it has none.
fn tag_of(addr: &NameAddr<'_>, header: &'static str) -> Result<Option<Tag>, DialogError> {
    addr.tag()
        .map(|t| Tag::new(Bytes::copy_from_slice(t)).map_err(|_| Error::Header(header).into()))
        .transpose()
}

/// The Call-ID of `message`, as a [`CallId`].
fn call_id_of(message: &Message) -> Result<CallId, DialogError> {
    CallId::new(Bytes::copy_from_slice(message.call_id()?))
        .map_err(|_| Error::Header("Call-ID").into())
}

/// The first Contact URI of `message`, if it has one.
fn contact_uri(message: &Message) -> Result<Option<Bytes>, DialogError> {
    message
        .contacts()
        .next()
        .map(|c| Ok(Bytes::copy_from_slice(c?.uri.as_bytes())))
        .transpose()
}

/// The secure flag of §12.1.1: a `sips:` Request-URI on a request that
/// crossed its (last or first) hop over TLS or WSS, as its top Via says.
fn is_secure(request: &Message) -> Result<bool, DialogError> {
    let uri = request.request_uri().map(|u| Uri::parse(u)).transpose()?;
    let sips = uri.is_some_and(|u| u.scheme == Scheme::Sips);
    let transport = request.top_via()?.transport;
    let tls = crate::sip::request::Transport::from_bytes(transport).is_some_and(|t| t.is_secure());
    Ok(sips && tls)
}

#[cfg(test)]
mod tests;
