//! SIP (RFC 3261).

pub mod auth_header;
pub mod digest;
pub mod error;
pub mod header_name;
pub mod method;
pub(crate) mod scan;

pub use error::Error;
pub use header_name::HeaderName;
pub use method::Method;
