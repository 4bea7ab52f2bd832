//! Errors of the transaction layer. A received message that cannot be
//! matched is not an error here (it is dropped or reported as an event);
//! these are refusals of what the TU asked for, so the fault is the TU's,
//! except [`Error::Message`] which may also describe a received message.

use super::TransactionState;
use super::key::TransactionId;

/// Why the transaction layer refused a request of the TU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The message lacks or garbles a header a transaction needs (Via,
    /// CSeq, Call-ID, From).
    #[error(transparent)]
    Message(#[from] crate::sip::Error),
    /// A response was given where a request is needed.
    #[error("expected a request")]
    NotARequest,
    /// A request was given where a response is needed.
    #[error("expected a response")]
    NotAResponse,
    /// ACK is not a transaction: the transaction sends the ACK of a non-2xx
    /// itself, and the TU sends the ACK of a 2xx with
    /// [`send_stateless`](super::TransactionLayer::send_stateless).
    #[error("ACK is not a transaction; send it stateless")]
    AckIsStateless,
    /// The top Via of a request to send has no RFC 3261 branch (see
    /// [`Branch::random`](super::Branch::random)); of a response, no branch
    /// at all.
    #[error("top Via has no RFC 3261 branch")]
    NoBranch,
    /// A live transaction already has this branch and method.
    #[error("transaction {0} already has this branch and method")]
    Duplicate(TransactionId),
    /// No live transaction has this handle (it may have terminated).
    #[error("no live transaction {0}")]
    UnknownTransaction(TransactionId),
    /// Responses can only be sent on server transactions.
    #[error("{0} is a client transaction")]
    NotAServerTransaction(TransactionId),
    /// A status code outside 100..=699.
    #[error("status code {0} out of range")]
    StatusCode(u16),
    /// The transaction is in a state where this response cannot be sent
    /// (a second final response, a provisional after the final one).
    #[error("{id} in state {state:?} cannot send a {code} response")]
    WrongState {
        /// The transaction.
        id: TransactionId,
        /// Its state.
        state: TransactionState,
        /// The status code refused.
        code: u16,
    },
}
