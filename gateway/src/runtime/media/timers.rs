//! [`CallTimers`]: every call's next deadline, kept in order, so the media
//! task finds the earliest one and the calls that are due without looking
//! at every call on every datagram.

use super::MediaCallId;
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

/// Each call's next deadline, indexed both by call and by time.
#[derive(Debug, Default)]
pub(super) struct CallTimers {
    by_call: HashMap<MediaCallId, Instant>,
    by_time: BTreeSet<(Instant, MediaCallId)>,
}

impl CallTimers {
    /// `call`'s deadline is now `at` (`None`: it has none, or it is gone).
    pub(super) fn set(&mut self, call: MediaCallId, at: Option<Instant>) {
        let old = match at {
            Some(at) => self.by_call.insert(call, at),
            None => self.by_call.remove(&call),
        };
        if old == at {
            return;
        }
        if let Some(old) = old {
            self.by_time.remove(&(old, call));
        }
        if let Some(at) = at {
            self.by_time.insert((at, call));
        }
    }

    /// The earliest deadline of all calls.
    pub(super) fn first(&self) -> Option<Instant> {
        self.by_time.first().map(|(at, _)| *at)
    }

    /// The calls due at `now`, taken out (the caller sets their next
    /// deadline once it has handled them).
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<MediaCallId> {
        let mut due = Vec::new();
        while let Some(&(at, call)) = self.by_time.first() {
            if at > now {
                break;
            }
            self.by_time.pop_first();
            self.by_call.remove(&call);
            due.push(call);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_earliest_deadline_and_the_due_calls_follow_every_change() {
        let t0 = Instant::now();
        let at = |ms| Some(t0 + Duration::from_millis(ms));
        let mut timers = CallTimers::default();
        assert_eq!(timers.first(), None);
        timers.set(MediaCallId(1), at(30));
        timers.set(MediaCallId(2), at(10));
        timers.set(MediaCallId(3), at(20));
        assert_eq!(timers.first(), at(10));
        // Moved later, then gone.
        timers.set(MediaCallId(2), at(40));
        assert_eq!(timers.first(), at(20));
        timers.set(MediaCallId(3), None);
        assert_eq!(timers.first(), at(30));
        // Setting the same deadline again changes nothing.
        timers.set(MediaCallId(1), at(30));
        assert_eq!(
            timers.take_due(t0 + Duration::from_millis(35)),
            [MediaCallId(1)]
        );
        assert_eq!(timers.first(), at(40));
        assert!(timers.take_due(t0 + Duration::from_millis(39)).is_empty());
        assert_eq!(
            timers.take_due(t0 + Duration::from_millis(40)),
            [MediaCallId(2)]
        );
        assert_eq!(timers.first(), None);
    }
}
