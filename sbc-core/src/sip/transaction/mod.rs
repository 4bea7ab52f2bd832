//! SIP transactions (RFC 3261 §17, amended by RFC 6026): the four state
//! machines, the timers that drive them, the rules that match a received
//! message to its transaction, and the sans-IO [`TransactionLayer`] that
//! owns them all.
//!
//! The runtime feeds the layer every message it receives
//! ([`TransactionLayer::handle_message`]) and calls
//! [`TransactionLayer::handle_timeout`] at [`TransactionLayer::poll_timeout`];
//! it sends what [`TransactionLayer::poll_transmit`] gives and hands
//! [`TransactionLayer::poll_event`] to the transaction user (the UAC/UAS
//! cores and dialogs), which in turn calls
//! [`send_request`](TransactionLayer::send_request),
//! [`send_response`](TransactionLayer::send_response) and
//! [`send_stateless`](TransactionLayer::send_stateless).
//!
//! Retransmissions happen only over unreliable transports. Responses of a
//! server transaction go back to the [`Peer`] the request came from (its
//! source address, as RFC 3581 `rport` would have it, or the same
//! connection), which is what an SBC in front of NATed peers needs.

mod client;
mod common;
mod error;
mod key;
mod layer;
mod machine;
mod requests;
mod server;
pub mod timer;

#[cfg(test)]
mod tests;

pub use crate::sip::request::Branch;
pub use crate::sip::transport::Transport;
pub use error::Error;
pub use key::{ClientKey, ServerKey, TransactionId};
pub use layer::TransactionLayer;
pub use requests::{build_ack, build_cancel};
pub use timer::{Timer, TimerConfig};

use crate::sip::message::Message;
use bytes::Bytes;
use std::net::SocketAddr;

/// The other end of a hop: a transport and an address. For connection
/// transports the runtime maps it to the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// The transport.
    pub transport: Transport,
    /// The remote address (for received messages, the source address).
    pub addr: SocketAddr,
}

/// A message to send, already printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub to: Peer,
    /// The bytes of one SIP message.
    pub message: Bytes,
}

/// What the layer tells its transaction user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionEvent {
    /// A request that started a server transaction; answer it with
    /// [`send_response`](TransactionLayer::send_response). An INVITE has
    /// already been answered with 100 Trying. CANCEL never shows up here:
    /// the layer answers it (see [`TransactionEvent::Cancelled`]).
    NewRequest {
        /// The new server transaction.
        id: TransactionId,
        /// The request.
        request: Message,
        /// Where it came from; responses go back there.
        from: Peer,
    },
    /// A response received on a client transaction: every provisional,
    /// every final, and (RFC 6026 Accepted) every 2xx retransmission or
    /// forked 2xx of an INVITE, each of which the TU ACKs.
    Response {
        /// The client transaction.
        id: TransactionId,
        /// The response.
        response: Message,
    },
    /// An ACK for a 2xx of an INVITE server transaction in Accepted, matched
    /// by Call-ID, CSeq number and From tag (or by its branch); the 2xx is
    /// no longer retransmitted.
    Ack {
        /// The INVITE server transaction.
        id: TransactionId,
        /// The ACK.
        request: Message,
        /// Where it came from.
        from: Peer,
    },
    /// A CANCEL hit this INVITE server transaction before its final
    /// response. The layer has answered the CANCEL with 200; the TU answers
    /// the INVITE with 487.
    Cancelled {
        /// The INVITE server transaction.
        id: TransactionId,
        /// The CANCEL (for its Reason header, RFC 3326).
        cancel: Message,
    },
    /// The transaction timed out: Timer B or F (no final response), Timer H
    /// (no ACK for a non-2xx), or Timer L with no ACK for the 2xx (the TU
    /// should end the session, RFC 3261 §13.3.1.4).
    Timeout {
        /// The transaction.
        id: TransactionId,
    },
    /// The runtime reported that it could not send to the transaction's
    /// peer ([`TransactionLayer::handle_transport_error`]).
    TransportError {
        /// The transaction.
        id: TransactionId,
    },
    /// The transaction is gone; its handle is no longer valid.
    Terminated {
        /// The transaction.
        id: TransactionId,
    },
    /// An ACK that matched no transaction (possibly the ACK of a 2xx whose
    /// transaction has ended): the dialog layer's business.
    StrayAck {
        /// The ACK.
        request: Message,
        /// Where it came from.
        from: Peer,
    },
    /// A response that matched no client transaction, such as a 2xx
    /// retransmission after Timer M: the TU ACKs a 2xx again.
    StrayResponse {
        /// The response.
        response: Message,
        /// Where it came from.
        from: Peer,
    },
}

/// The state of a transaction, by its RFC name (the union of the four
/// machines' states, in RFC order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionState {
    /// INVITE client: the INVITE is sent, nothing heard yet.
    Calling,
    /// Non-INVITE client or server: no response yet.
    Trying,
    /// A provisional response was received or sent.
    Proceeding,
    /// A final (non-2xx for INVITE) response was received or sent;
    /// retransmissions are absorbed.
    Completed,
    /// INVITE server: the ACK of the non-2xx arrived.
    Confirmed,
    /// INVITE (RFC 6026): a 2xx was received or sent.
    Accepted,
    /// Finished.
    Terminated,
}

/// Which of the four state machines a transaction runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    /// INVITE client transaction (RFC 3261 §17.1.1).
    InviteClient,
    /// Non-INVITE client transaction (§17.1.2).
    NonInviteClient,
    /// INVITE server transaction (§17.2.1).
    InviteServer,
    /// Non-INVITE server transaction (§17.2.2).
    NonInviteServer,
}
