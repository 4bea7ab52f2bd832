//! The transaction timers of RFC 3261 §17 (A–K, Table 4 of its appendix A)
//! and RFC 6026 (L, M): one enum, one table computing every duration from
//! [`TimerConfig`] and the reliability of the transport, and the per
//! transaction table of deadlines (as quinn's `connection/timer.rs`).

use std::time::{Duration, Instant};

/// The base timer values of RFC 3261 §17.1.1.1 and appendix A.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1, the round-trip time estimate (default 500 ms).
    pub t1: Duration,
    /// T2, the longest retransmission interval for non-INVITE requests and
    /// INVITE responses (default 4 s).
    pub t2: Duration,
    /// T4, the longest time a message stays in the network (default 5 s).
    pub t4: Duration,
    /// Timer C, the guard on an INVITE client transaction that stays in
    /// Proceeding. RFC 3261 §16.6 (step 11) asks proxies for more than three
    /// minutes; the default is 181 s.
    pub timer_c: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_c: Duration::from_secs(181),
        }
    }
}

/// The smallest retransmission interval, so that a zero T1 cannot make a
/// retransmission timer fire again at the instant it fired.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// One transaction timer, named as RFC 3261 and RFC 6026 name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// INVITE client: request retransmission in Calling (unreliable only);
    /// starts at T1 and doubles without a cap.
    A,
    /// INVITE client: gives up on an unanswered INVITE after 64·T1.
    B,
    /// INVITE client: the proxy INVITE timer (more than 3 min), a guard on a
    /// transaction left in Proceeding. When it fires the layer CANCELs the
    /// INVITE itself (RFC 3261 §16.8) and waits 64·T1 more (Timer B) for the
    /// final response. Refreshed by every provisional response.
    C,
    /// INVITE client: wait in Completed for retransmitted final responses;
    /// 32 s on unreliable transports, 0 on reliable ones.
    D,
    /// Non-INVITE client: request retransmission (unreliable only); starts at
    /// T1, doubles up to T2 in Trying, T2 in Proceeding.
    E,
    /// Non-INVITE client: gives up after 64·T1.
    F,
    /// INVITE server: retransmission of a non-2xx final response in
    /// Completed, and of a 2xx in Accepted (RFC 3261 §13.3.1.4) until the
    /// ACK arrives (unreliable only); starts at T1, doubles up to T2.
    G,
    /// INVITE server: waits 64·T1 in Completed for the ACK.
    H,
    /// INVITE server: absorbs ACK retransmissions in Confirmed; T4 on
    /// unreliable transports, 0 on reliable ones.
    I,
    /// Non-INVITE server: absorbs request retransmissions in Completed;
    /// 64·T1 on unreliable transports, 0 on reliable ones.
    J,
    /// Non-INVITE client: absorbs response retransmissions in Completed; T4
    /// on unreliable transports, 0 on reliable ones.
    K,
    /// INVITE server (RFC 6026): stays 64·T1 in Accepted, absorbing INVITE
    /// retransmissions and waiting for the ACK of the 2xx.
    L,
    /// INVITE client (RFC 6026): stays 64·T1 in Accepted, passing 2xx
    /// retransmissions and forked 2xx responses to the TU.
    M,
}

impl Timer {
    /// Number of timers.
    pub const COUNT: usize = 13;

    /// Every timer, in order.
    pub const ALL: [Timer; Timer::COUNT] = [
        Timer::A,
        Timer::B,
        Timer::C,
        Timer::D,
        Timer::E,
        Timer::F,
        Timer::G,
        Timer::H,
        Timer::I,
        Timer::J,
        Timer::K,
        Timer::L,
        Timer::M,
    ];

    /// The first (or only) duration of this timer on a transport of the given
    /// reliability; `None` where the timer is not used at all (the
    /// retransmission timers A, E and G on reliable transports).
    pub fn duration(self, config: &TimerConfig, reliable: bool) -> Option<Duration> {
        let t1 = config.t1;
        let unreliable_only = |d: Duration| (!reliable).then_some(d);
        let zero_if_reliable = |d: Duration| Some(if reliable { Duration::ZERO } else { d });
        match self {
            Timer::A | Timer::E | Timer::G => unreliable_only(t1.max(MIN_INTERVAL)),
            Timer::B | Timer::F | Timer::H | Timer::L | Timer::M => Some(t1.saturating_mul(64)),
            Timer::C => Some(config.timer_c),
            Timer::D => zero_if_reliable(Duration::from_secs(32)),
            Timer::I | Timer::K => zero_if_reliable(config.t4),
            Timer::J => zero_if_reliable(t1.saturating_mul(64)),
        }
    }

    /// The next interval of a retransmission timer whose last interval was
    /// `previous`: A doubles without a cap; E and G double up to T2. Other
    /// timers do not repeat and keep `previous`.
    pub fn backoff(self, previous: Duration, config: &TimerConfig) -> Duration {
        let doubled = previous.saturating_mul(2).max(MIN_INTERVAL);
        match self {
            Timer::A => doubled,
            Timer::E | Timer::G => doubled.min(config.t2.max(MIN_INTERVAL)),
            _ => previous,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Timer {self:?}")
    }
}

/// The armed deadlines of one transaction, one slot per timer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TimerTable([Option<Instant>; Timer::COUNT]);

impl TimerTable {
    /// Arms `timer` to fire at `at`, replacing any earlier deadline.
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer.index()] = Some(at);
    }

    /// The deadline of `timer`, if armed.
    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.0[timer.index()]
    }

    /// Disarms `timer`.
    pub(crate) fn stop(&mut self, timer: Timer) {
        self.0[timer.index()] = None;
    }

    /// Disarms every timer.
    pub(crate) fn clear(&mut self) {
        self.0 = [None; Timer::COUNT];
    }

    /// Every armed timer with its deadline.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Timer, Instant)> + '_ {
        Timer::ALL
            .iter()
            .filter_map(|&t| self.get(t).map(|at| (t, at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn table_matches_rfc_3261_appendix_a() {
        let c = TimerConfig::default();
        let unreliable = |t: Timer| t.duration(&c, false);
        let reliable = |t: Timer| t.duration(&c, true);
        for t in [Timer::A, Timer::E, Timer::G] {
            assert_eq!(unreliable(t), Some(ms(500)), "{t}");
            assert_eq!(reliable(t), None, "{t}");
        }
        for t in [Timer::B, Timer::F, Timer::H, Timer::L, Timer::M] {
            assert_eq!(unreliable(t), Some(ms(32_000)), "{t}");
            assert_eq!(reliable(t), Some(ms(32_000)), "{t}");
        }
        assert!(unreliable(Timer::C).unwrap() > Duration::from_secs(180));
        assert_eq!(unreliable(Timer::D), Some(ms(32_000)));
        assert_eq!(unreliable(Timer::I), Some(ms(5_000)));
        assert_eq!(unreliable(Timer::J), Some(ms(32_000)));
        assert_eq!(unreliable(Timer::K), Some(ms(5_000)));
        for t in [Timer::D, Timer::I, Timer::J, Timer::K] {
            assert_eq!(reliable(t), Some(Duration::ZERO), "{t}");
        }
    }

    #[test]
    fn backoff_doubles_and_caps_where_the_rfc_says() {
        let c = TimerConfig::default();
        let mut a = ms(500);
        let mut e = ms(500);
        let mut seen_a = vec![];
        let mut seen_e = vec![];
        for _ in 0..6 {
            seen_a.push(a.as_millis());
            seen_e.push(e.as_millis());
            a = Timer::A.backoff(a, &c);
            e = Timer::E.backoff(e, &c);
        }
        assert_eq!(seen_a, [500, 1000, 2000, 4000, 8000, 16000]);
        assert_eq!(seen_e, [500, 1000, 2000, 4000, 4000, 4000]);
        assert_eq!(Timer::G.backoff(ms(4000), &c), ms(4000));
    }

    #[test]
    fn zero_t1_cannot_spin() {
        let c = TimerConfig {
            t1: Duration::ZERO,
            t2: Duration::ZERO,
            ..TimerConfig::default()
        };
        assert_eq!(Timer::A.duration(&c, false), Some(MIN_INTERVAL));
        assert_eq!(Timer::E.backoff(Duration::ZERO, &c), MIN_INTERVAL);
    }

    #[test]
    fn table_of_deadlines() {
        let base = crate::test_clock::epoch();
        let mut t = TimerTable::default();
        t.set(Timer::B, base + ms(2));
        t.set(Timer::A, base + ms(1));
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            [(Timer::A, base + ms(1)), (Timer::B, base + ms(2))]
        );
        t.stop(Timer::A);
        assert_eq!(t.get(Timer::A), None);
        t.clear();
        assert_eq!(t.iter().count(), 0);
    }
}
