//! SIP transactions (RFC 3261 §17, amended by RFC 6026): the four state
//! machines, the timers that drive them, and the rules that match a
//! received message to its transaction.

pub mod timer;

pub use timer::{Timer, TimerConfig};
