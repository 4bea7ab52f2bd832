//! ICE consent freshness on an ICE-lite endpoint (RFC 7675).
//!
//! A full ICE agent keeps consent with its own checks; an ICE-lite endpoint
//! sends none, so what it can observe is the browser's: Binding requests
//! to our ufrag whose MESSAGE-INTEGRITY verifies with our password (the
//! [`super::IceLite`] responder decides that). Browsers send one every few
//! seconds (§5.1: 4–6 s); consent expires when none came for 30 s (§5.1).
//!
//! The timer starts when the leg is made, so a browser that never checks at
//! all is also given up after 30 s.

use std::time::{Duration, Instant};

/// RFC 7675 §5.1: consent expires 30 s after it was last obtained.
pub const CONSENT_TIMEOUT: Duration = Duration::from_secs(30);

/// The consent timer of one leg.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConsentTimer {
    timeout: Duration,
    last: Instant,
}

impl ConsentTimer {
    /// A timer that starts at `now`, as if consent had just been obtained.
    pub(crate) fn new(now: Instant, timeout: Duration) -> Self {
        Self { timeout, last: now }
    }

    /// How long consent lasts without a check.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A valid check arrived at `now`.
    pub(crate) fn refresh(&mut self, now: Instant) {
        self.last = self.last.max(now);
    }

    /// When consent expires unless a check arrives first.
    pub(crate) fn deadline(&self) -> Instant {
        self.last + self.timeout
    }

    /// Whether consent has expired at `now`.
    pub(crate) fn expired(&self, now: Instant) -> bool {
        now >= self.deadline()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_clock::epoch;

    #[test]
    fn expires_thirty_seconds_after_the_last_check() {
        let t0 = epoch();
        let mut c = ConsentTimer::new(t0, CONSENT_TIMEOUT);
        assert_eq!(c.deadline(), t0 + CONSENT_TIMEOUT);
        c.refresh(t0 + Duration::from_secs(10));
        // A late-delivered older check does not move it back.
        c.refresh(t0 + Duration::from_secs(5));
        assert!(!c.expired(t0 + Duration::from_secs(39)));
        assert!(c.expired(t0 + Duration::from_secs(40)));
    }
}
