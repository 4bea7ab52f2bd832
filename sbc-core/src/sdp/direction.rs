//! The media direction attributes (RFC 8866 §6.7, offer/answer rules of
//! RFC 3264 §6.1): `sendrecv`, `sendonly`, `recvonly`, `inactive`.

use std::fmt;

/// Which way media flows, from the point of view of the description's author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv`, the default.
    #[default]
    SendRecv,
    /// `a=sendonly`
    SendOnly,
    /// `a=recvonly`
    RecvOnly,
    /// `a=inactive`
    Inactive,
}

impl Direction {
    /// The direction an attribute name names, if it names one.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Built from the two halves.
    pub fn from_parts(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// Whether the author sends.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the author receives.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same flow seen from the other end: `sendonly` ↔ `recvonly`.
    pub fn reversed(self) -> Self {
        Direction::from_parts(self.receives(), self.sends())
    }

    /// The most an answerer may choose when offered `self` (RFC 3264 §6.1):
    /// the reverse of the offer, narrowed by what the answerer `wants`.
    pub fn answer(self, wants: Direction) -> Self {
        let allowed = self.reversed();
        Direction::from_parts(
            allowed.sends() && wants.sends(),
            allowed.receives() && wants.receives(),
        )
    }

    /// Without the receiving half: what a peer that announced the hold
    /// address `c=0.0.0.0` (RFC 2543) means, since it cannot receive.
    pub fn without_receive(self) -> Self {
        Direction::from_parts(self.sends(), false)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
