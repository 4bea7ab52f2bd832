//! SIP (RFC 3261): the message model with its zero-copy parser and printer,
//! typed header views, framing for datagram and stream transports, request
//! validation, transactions, dialogs and digest authentication.
//!
//! Parsing is two-step. [`parse::MessageView`] parses a buffer without
//! allocating: start line plus the ranges of every header line. Typed views
//! ([`headers`]) are parsed on demand from those ranges. [`Message`] is the
//! owned, editable form used by the transaction and dialog layers; its header
//! values are `Bytes` slices of the received buffer until they are edited.

pub mod auth_header;
pub mod dialog;
pub mod digest;
pub mod error;
pub mod framing;
pub mod header_name;
pub mod headers;
pub mod message;
pub mod method;
pub mod parse;
pub mod received;
pub mod request;
pub mod response;
pub(crate) mod scan;
pub mod transaction;
pub mod transport;
pub mod uri;
pub mod validate;

pub use error::Error;
pub use header_name::HeaderName;
pub use message::{Header, Headers, Message, StartLine};
pub use method::Method;
pub use parse::{Limits, MessageView};
pub use uri::Uri;
