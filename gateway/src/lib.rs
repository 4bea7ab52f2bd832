//! The gateway: every socket, timer, task and file of the product lives in
//! this crate; the protocol logic it drives is in the sans-IO `sbc-core`.
//!
//! Start-up, as `main` does it: [`cli::Cli`] is parsed, [`config::Config`] is
//! loaded from the optional file and `SBC_*` variables, [`logging::init`]
//! installs the subscriber and the [`redact`] switch, and [`tls`] provides the
//! listeners' TLS configurations.

pub mod admin;
pub mod app;
pub mod b2bua;
pub mod cdr;
pub mod cli;
pub mod config;
pub mod demo_pbx;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod pbx_ping;
pub mod redact;
pub mod runtime;
pub mod signaling;
pub mod sip_service;
pub mod tls;
pub mod ua;
