//! Why a message was refused by a dialog, and the response that earns
//! (RFC 3261 §12.2.2).

use crate::sip::error::Error;
use crate::sip::method::Method;
use crate::sip::request::RequestError;

/// Why a dialog refused a message or an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    /// The message names no dialog this UA holds (or one already
    /// terminated): a request earns 481.
    #[error("no matching dialog")]
    NoDialog,
    /// The peer's CSeq is not above the last one it used in the dialog:
    /// a request earns 500 (§12.2.2).
    #[error("CSeq {received} is not above the last remote CSeq {last}")]
    CSeqOutOfOrder {
        /// The CSeq number received.
        received: u32,
        /// The highest remote CSeq number seen so far.
        last: u32,
    },
    /// A header the dialog needs is malformed or missing: 400.
    #[error("malformed message: {0}")]
    Malformed(#[from] Error),
    /// A From or To tag the dialog needs is missing: 400.
    #[error("{header} carries no tag")]
    MissingTag {
        /// `From` or `To`.
        header: &'static str,
    },
    /// The response cannot create a dialog (100, 1xx without a To tag,
    /// 3xx–6xx). The caller's mistake: 500 if anything.
    #[error("a {status} response creates no dialog")]
    NotDialogCreating {
        /// Its status code.
        status: u16,
    },
    /// A message of the wrong kind was given (a response for a request, a
    /// request with a To tag to create a dialog, …). The caller's mistake.
    #[error("expected {expected}")]
    WrongMessage {
        /// What was expected.
        expected: &'static str,
    },
    /// [`Dialog::request`](super::Dialog::request) does not build this
    /// method: ACK comes from [`Dialog::ack_for_2xx`](super::Dialog::ack_for_2xx),
    /// CANCEL from [`cancel_for`](crate::sip::request::cancel_for).
    #[error("{0} is not built by Dialog::request")]
    Method(Method),
    /// The local CSeq number would reach 2^31.
    #[error("local CSeq space exhausted")]
    CSeqExhausted,
    /// The dialog is terminated; nothing more is sent in it.
    #[error("dialog terminated")]
    Terminated,
    /// A value supplied by this UA (local Contact, Via) is invalid.
    #[error("invalid local value: {0}")]
    Local(#[from] RequestError),
}

impl DialogError {
    /// The status code a request refused for this reason earns.
    pub fn status(&self) -> u16 {
        match self {
            DialogError::NoDialog | DialogError::Terminated => 481,
            DialogError::Malformed(_) | DialogError::MissingTag { .. } => 400,
            DialogError::CSeqOutOfOrder { .. }
            | DialogError::NotDialogCreating { .. }
            | DialogError::WrongMessage { .. }
            | DialogError::Method(_)
            | DialogError::CSeqExhausted
            | DialogError::Local(_) => 500,
        }
    }
}
