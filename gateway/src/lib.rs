//! The gateway: every socket, timer, task and file of the product lives in
//! this crate; the protocol logic it drives is in the sans-IO `sbc-core`.

pub mod config;
pub mod logging;
pub mod redact;
pub mod tls;
