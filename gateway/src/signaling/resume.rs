//! The sessions a new socket can take over (`hello` with `resume`), by
//! resume token. A session enters its token when it issues it (at `hello`
//! and at each resume) with the channel its task listens on, and withdraws
//! it when it ends. Live sessions are in it too, not only those whose
//! socket closed: a phone that changed networks may still look connected
//! to the gateway, and its page resumes on a new socket before the old one
//! is known dead. A new socket that presents the token takes the entry (so
//! exactly one socket can claim it) and hands itself over through that
//! channel.

use super::protocol::RequestId;
use axum::extract::ws::WebSocket;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc::UnboundedSender;

/// A new socket taking a session over, and the id of its `hello`.
pub struct Claim {
    /// The new socket.
    pub socket: WebSocket,
    /// The `hello`'s id, to answer.
    pub id: RequestId,
}

/// The sessions that can be taken over, by resume token.
#[derive(Default)]
pub struct Resumable {
    entries: Mutex<HashMap<String, UnboundedSender<Claim>>>,
}

impl Resumable {
    /// Enters a session under `token`; claims arrive on `to`.
    pub fn enter(&self, token: String, to: UnboundedSender<Claim>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(token, to);
        }
    }

    /// Takes the session entered under `token`, if any: no one else can
    /// claim it afterwards.
    pub fn take(&self, token: &str) -> Option<UnboundedSender<Claim>> {
        self.entries.lock().ok()?.remove(token)
    }

    /// Withdraws `token` (its session ends); false when a claim took it
    /// first (and is on its way).
    pub fn withdraw(&self, token: &str) -> bool {
        self.entries
            .lock()
            .map(|mut p| p.remove(token).is_some())
            .unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    #[test]
    fn a_token_is_taken_once_and_a_taken_token_cannot_be_withdrawn() {
        let resumable = Resumable::default();
        let (tx, _rx) = unbounded_channel();
        resumable.enter("t1".into(), tx.clone());
        resumable.enter("t2".into(), tx);
        assert!(resumable.take("t1").is_some());
        assert!(resumable.take("t1").is_none(), "a second claim");
        assert!(!resumable.withdraw("t1"), "its claim is on its way");
        assert!(resumable.withdraw("t2"));
        assert!(resumable.take("t2").is_none(), "withdrawn");
    }
}
