//! The origin of the virtual clocks in `sbc-core`'s tests.
//!
//! `sbc-core` is sans-IO: it never reads a clock, and its tests drive every
//! core with `now` values they compute (an origin plus simulated
//! milliseconds). `std::time::Instant` has no constructor but `now()`, so
//! the origin has to be read somewhere; it is read here, outside the crate,
//! and handed in like any other time. Nothing here sleeps or measures.

use std::sync::OnceLock;
use std::time::Instant;

/// The one origin instant of every virtual clock in `sbc-core`'s tests,
/// the same on every call within a process.
pub fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}
