//! The virtual clock of this crate's unit tests: one real `Instant` read
//! once, as the epoch to which tests add simulated milliseconds. `Instant`
//! has no constructor but `now()`, so this is the one clock read in the
//! crate, and it exists only under `cfg(test)`; no test sleeps or waits.

use std::sync::OnceLock;
use std::time::Instant;

/// The epoch of every virtual clock in the unit tests.
#[allow(clippy::disallowed_methods)]
pub(crate) fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}
