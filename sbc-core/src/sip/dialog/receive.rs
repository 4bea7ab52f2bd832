//! What a dialog makes of the messages it receives (RFC 3261 §12.2.2,
//! §12.2.1.2, §13.2.2.4): requests are checked for their CSeq order and
//! refresh the remote target; responses to this UA's requests confirm or
//! end an early dialog, refresh the remote target, and end the dialog on a
//! 481 or 408.

use super::route::RouteSet;
use super::{Dialog, DialogError, DialogId, DialogState, Role, contact_uri, is_target_refresh};
use crate::sip::headers::HeaderAccess;
use crate::sip::message::Message;
use crate::sip::method::Method;

impl Dialog {
    /// Checks a request the peer sent in this dialog and takes its effect:
    /// the remote CSeq must rise (ACK and CANCEL excepted; a lower or equal
    /// one earns 500), a target-refresh request's Contact becomes the remote
    /// target, and a BYE terminates the dialog. Nothing changes when an
    /// error is returned.
    pub fn handle_request(&mut self, request: &Message) -> Result<(), DialogError> {
        let method = request.method().ok_or(DialogError::WrongMessage {
            expected: "a request",
        })?;
        let id = DialogId::for_incoming_request(request)?;
        if id.as_ref() != Some(&self.id) || self.state == DialogState::Terminated {
            return Err(DialogError::NoDialog);
        }
        let seq = request.cseq()?.seq;
        let ordered = !matches!(method, Method::Ack | Method::Cancel);
        if let (true, Some(last)) = (ordered, self.remote_seq)
            && seq <= last
        {
            tracing::warn!(local_tag = %self.id.local_tag, seq, last, "out-of-order CSeq");
            return Err(DialogError::CSeqOutOfOrder {
                received: seq,
                last,
            });
        }
        let new_target = if is_target_refresh(method) {
            contact_uri(request)?
        } else {
            None
        };
        if ordered {
            self.remote_seq = Some(seq);
        }
        if let Some(target) = new_target {
            self.remote_target = target;
        }
        if *method == Method::Bye {
            self.set_state(DialogState::Terminated);
        }
        Ok(())
    }

    /// Takes the effect of a response to a request this UA sent in this
    /// dialog (or to the INVITE that created it). A 2xx to the INVITE
    /// confirms an early dialog, and for a UAC recomputes the route set from
    /// its Record-Route; a 2xx to a target-refresh request (and any 1xx
    /// while early) replaces the remote target with its Contact; a 3xx–6xx
    /// to the INVITE ends an early dialog; a 481 or 408 ends any dialog.
    /// A 2xx with another To tag is another dialog (a fork): create it with
    /// [`Dialog::from_uac_response`].
    pub fn handle_response(&mut self, response: &Message) -> Result<(), DialogError> {
        let status = response.status().ok_or(DialogError::WrongMessage {
            expected: "a response",
        })?;
        if DialogId::for_incoming_response(response)?.as_ref() != Some(&self.id) {
            return Err(DialogError::NoDialog);
        }
        if self.state == DialogState::Terminated {
            return Ok(());
        }
        let method = response.cseq()?.method;
        if status == 481 || status == 408 {
            self.set_state(DialogState::Terminated);
            return Ok(());
        }
        let early_invite = self.state == DialogState::Early && method == Method::Invite;
        match status {
            200..=299 if early_invite => {
                let route_set = match self.role {
                    Role::Uac => Some(RouteSet::from_record_route(response, true)?),
                    Role::Uas => None,
                };
                let target = contact_uri(response)?;
                if let Some(route_set) = route_set {
                    self.route_set = route_set;
                }
                if let Some(target) = target {
                    self.remote_target = target;
                }
                self.set_state(DialogState::Confirmed);
            }
            300..=699 if early_invite => self.set_state(DialogState::Terminated),
            101..=199 if early_invite => {
                if let Some(target) = contact_uri(response)? {
                    self.remote_target = target;
                }
            }
            200..=299 if is_target_refresh(&method) => {
                if let Some(target) = contact_uri(response)? {
                    self.remote_target = target;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
