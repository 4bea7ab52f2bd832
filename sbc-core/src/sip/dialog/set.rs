//! The dialogs a UA holds, keyed by [`DialogId`], and the lookup of the
//! dialog a received message belongs to (RFC 3261 §12.2.2: local tag from
//! To, remote tag from From for requests; the other way round for
//! responses).

use super::{Dialog, DialogError, DialogId, DialogState};
use crate::sip::message::Message;
use std::collections::BTreeMap;

/// Dialogs by identifier. Ordered, so iteration is deterministic.
#[derive(Debug, Clone, Default)]
pub struct DialogSet {
    dialogs: BTreeMap<DialogId, Dialog>,
}

impl DialogSet {
    /// An empty set.
    pub fn new() -> DialogSet {
        DialogSet::default()
    }

    /// Adds a dialog; returns the one it replaces, if any.
    pub fn insert(&mut self, dialog: Dialog) -> Option<Dialog> {
        self.dialogs.insert(dialog.id().clone(), dialog)
    }

    /// The dialog with `id`.
    pub fn get(&self, id: &DialogId) -> Option<&Dialog> {
        self.dialogs.get(id)
    }

    /// The dialog with `id`, to change.
    pub fn get_mut(&mut self, id: &DialogId) -> Option<&mut Dialog> {
        self.dialogs.get_mut(id)
    }

    /// Removes the dialog with `id`.
    pub fn remove(&mut self, id: &DialogId) -> Option<Dialog> {
        self.dialogs.remove(id)
    }

    /// Drops every terminated dialog; returns how many went.
    pub fn remove_terminated(&mut self) -> usize {
        let before = self.dialogs.len();
        self.dialogs
            .retain(|_, d| d.state() != DialogState::Terminated);
        before - self.dialogs.len()
    }

    /// Number of dialogs.
    pub fn len(&self) -> usize {
        self.dialogs.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.dialogs.is_empty()
    }

    /// Every dialog, in identifier order.
    pub fn iter(&self) -> impl Iterator<Item = &Dialog> {
        self.dialogs.values()
    }

    /// The dialog a received request belongs to. A request whose To has no
    /// tag is outside any dialog and, like one naming an unknown dialog,
    /// gets [`DialogError::NoDialog`].
    pub fn find_for_request(&mut self, request: &Message) -> Result<&mut Dialog, DialogError> {
        let id = DialogId::for_incoming_request(request)?.ok_or(DialogError::NoDialog)?;
        self.dialogs.get_mut(&id).ok_or(DialogError::NoDialog)
    }

    /// The dialog a response to this UA's request belongs to.
    pub fn find_for_response(&mut self, response: &Message) -> Result<&mut Dialog, DialogError> {
        let id = DialogId::for_incoming_response(response)?.ok_or(DialogError::NoDialog)?;
        self.dialogs.get_mut(&id).ok_or(DialogError::NoDialog)
    }

    /// Finds the dialog of a received request and lets it check the request
    /// ([`Dialog::handle_request`]); the error says what to answer.
    pub fn handle_request(&mut self, request: &Message) -> Result<&mut Dialog, DialogError> {
        let dialog = self.find_for_request(request)?;
        dialog.handle_request(request)?;
        Ok(dialog)
    }
}
