//! Sans-IO protocol core of the SIP-to-WebRTC gateway.
//!
//! Nothing in this crate owns a socket, reads a clock, sleeps or spawns. Every
//! state machine takes `now` and bytes in and hands transmits, events and its
//! next deadline out; the `gateway` binary is the only place that does I/O.
//! A driver's loop looks like this:
//!
//! ```text
//! loop {
//!     let deadline = core.poll_timeout();           // when to wake up next
//!     select! {
//!         datagram = socket.recv() => core.handle_input(now, datagram),
//!         _ = sleep_until(deadline) => core.handle_timeout(now),
//!     }
//!     while let Some(transmit) = core.poll_transmit() { socket.send(transmit) }
//!     while let Some(event) = core.poll_event() { react(event) }
//! }
//! ```
//!
//! Randomness (tags, branches, nonces) comes from an RNG the caller injects, so
//! tests can seed it and replay a scenario exactly.
#![warn(missing_docs)]

pub mod b2bua;
pub mod media;
pub mod sdp;
pub mod sip;
#[cfg(test)]
mod test_clock;
