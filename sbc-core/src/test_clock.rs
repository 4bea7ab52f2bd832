//! The virtual clock of this crate's unit tests: an origin `Instant`, to
//! which tests add simulated milliseconds. The origin comes in from the
//! `sbc-test-clock` dev-dependency (`Instant` has no constructor but
//! `now()`, which this crate never calls); no test sleeps or waits.

use std::time::Instant;

/// The epoch of every virtual clock in the unit tests.
pub(crate) fn epoch() -> Instant {
    sbc_test_clock::epoch()
}
