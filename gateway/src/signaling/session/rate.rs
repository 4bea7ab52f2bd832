//! The flood limit of one session: frames counted in one-second windows,
//! past [`SessionLimits::frames_per_second`] refused, past
//! [`SessionLimits::close_after`] refusals the socket closed.

use super::SessionLimits;
use std::time::{Duration, Instant};

/// Counts frames in one-second windows.
pub(super) struct RateWindow {
    start: Instant,
    frames: u32,
    refused: u32,
}

/// What to do with the frame just counted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Within the limit: handle it.
    Handle,
    /// Over the limit: answer `rate_limited`.
    Refuse,
    /// Too many refused this second: close the socket.
    Close,
}

impl RateWindow {
    /// A window opening at `now`.
    pub(super) fn new(now: Instant) -> RateWindow {
        RateWindow {
            start: now,
            frames: 0,
            refused: 0,
        }
    }

    /// Counts one frame arriving at `now`.
    pub(super) fn check(&mut self, now: Instant, limits: &SessionLimits) -> Verdict {
        if now.duration_since(self.start) >= Duration::from_secs(1) {
            *self = RateWindow::new(now);
        }
        self.frames += 1;
        if self.frames <= limits.frames_per_second {
            return Verdict::Handle;
        }
        self.refused += 1;
        if self.refused > limits.close_after {
            Verdict::Close
        } else {
            Verdict::Refuse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_past_the_limit_are_refused_then_the_socket_closes_and_a_new_second_starts_afresh() {
        let limits = SessionLimits {
            frames_per_second: 3,
            close_after: 2,
            ..SessionLimits::default()
        };
        let t0 = Instant::now();
        let mut window = RateWindow::new(t0);
        let verdicts: Vec<Verdict> = (0..6).map(|_| window.check(t0, &limits)).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Handle,
                Verdict::Handle,
                Verdict::Handle,
                Verdict::Refuse,
                Verdict::Refuse,
                Verdict::Close
            ]
        );
        let later = t0 + Duration::from_secs(1);
        assert_eq!(window.check(later, &limits), Verdict::Handle);
    }
}
