//! Sessions whose socket dropped, kept for the grace period so that a new
//! socket can take them over (`hello` with `resume`). A parked session
//! registers its resume token here with the channel its task listens on;
//! a new socket that presents the token takes the entry (so exactly one
//! socket can claim it) and hands itself over through that channel.

use super::protocol::RequestId;
use axum::extract::ws::WebSocket;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc::UnboundedSender;

/// A new socket taking a parked session over, and the id of its `hello`.
pub struct Claim {
    /// The new socket.
    pub socket: WebSocket,
    /// The `hello`'s id, to answer.
    pub id: RequestId,
}

/// The parked sessions, by resume token.
#[derive(Default)]
pub struct Resumable {
    parked: Mutex<HashMap<String, UnboundedSender<Claim>>>,
}

impl Resumable {
    /// Parks a session under `token`; claims arrive on `to`.
    pub fn park(&self, token: String, to: UnboundedSender<Claim>) {
        if let Ok(mut parked) = self.parked.lock() {
            parked.insert(token, to);
        }
    }

    /// Takes the session parked under `token`, if any: no one else can
    /// claim it afterwards.
    pub fn take(&self, token: &str) -> Option<UnboundedSender<Claim>> {
        self.parked.lock().ok()?.remove(token)
    }

    /// Removes `token` when the grace period is over; false when a claim
    /// took it first (and is on its way).
    pub fn expire(&self, token: &str) -> bool {
        self.parked
            .lock()
            .map(|mut p| p.remove(token).is_some())
            .unwrap_or(true)
    }

    /// How many sessions are parked.
    pub fn len(&self) -> usize {
        self.parked.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
