//! Receive statistics of one RTP stream, as RFC 3550 Appendix A computes
//! them: the extended highest sequence number with wrap-around and source
//! restarts (A.1), expected and lost packets and the fraction lost per
//! report interval (A.3), and the interarrival jitter (A.8).
//!
//! No probation (A.1's `MIN_SEQUENTIAL`) is applied here: on the SIP side
//! the RTP leg's latching has already proven the source, and on the browser
//! side ICE and DTLS have.

use super::rtcp::ReportBlock;
use super::rtp::Ssrc;
use std::time::{Duration, Instant};

/// A forward jump larger than this is a restart candidate (A.1).
const MAX_DROPOUT: u16 = 3000;
/// A backward jump up to this is a late, reordered packet (A.1).
const MAX_MISORDER: u16 = 100;

/// What [`ReceiveStats::record`] made of a sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqOutcome {
    /// In order, or a small forward gap (loss).
    InOrder,
    /// Late (reordered) or duplicated.
    Late,
    /// A big jump: ignored unless the next packet confirms it.
    Jump,
    /// The second packet of a confirmed jump: the stream was restarted.
    Restarted,
}

/// Receive statistics of one stream.
#[derive(Debug, Clone)]
pub struct ReceiveStats {
    clock_rate: u32,
    started: bool,
    epoch: Option<Instant>,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    bad_seq: u32,
    received: u64,
    bytes: u64,
    expected_prior: u64,
    received_prior: u64,
    last_fraction: u8,
    transit: Option<i64>,
    jitter: f64,
}

impl ReceiveStats {
    /// Statistics of a stream whose timestamps tick at `clock_rate` Hz.
    pub fn new(clock_rate: u32) -> Self {
        ReceiveStats {
            clock_rate: clock_rate.max(1),
            started: false,
            epoch: None,
            base_seq: 0,
            max_seq: 0,
            cycles: 0,
            bad_seq: u32::MAX,
            received: 0,
            bytes: 0,
            expected_prior: 0,
            received_prior: 0,
            last_fraction: 0,
            transit: None,
            jitter: 0.0,
        }
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.cycles = 0;
        self.bad_seq = u32::MAX;
        self.received = 0;
        self.bytes = 0;
        self.expected_prior = 0;
        self.received_prior = 0;
    }

    /// Records one received packet: its sequence number, RTP timestamp and
    /// payload length, arriving at `now`. When `jitter` is false (RFC 4733
    /// events, whose timestamp is the event start) the jitter is left alone.
    pub fn record(
        &mut self,
        now: Instant,
        seq: u16,
        ts: u32,
        len: usize,
        jitter: bool,
    ) -> SeqOutcome {
        let outcome = self.update_seq(seq);
        if outcome == SeqOutcome::Jump {
            return outcome;
        }
        self.received += 1;
        self.bytes += len as u64;
        if jitter {
            self.update_jitter(now, ts);
        }
        outcome
    }

    fn update_seq(&mut self, seq: u16) -> SeqOutcome {
        if !self.started {
            self.started = true;
            self.init_seq(seq);
            return SeqOutcome::InOrder;
        }
        let udelta = seq.wrapping_sub(self.max_seq);
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(1 << 16);
            }
            self.max_seq = seq;
            SeqOutcome::InOrder
        } else if udelta <= u16::MAX - MAX_MISORDER {
            if u32::from(seq) == self.bad_seq {
                self.init_seq(seq);
                self.transit = None;
                SeqOutcome::Restarted
            } else {
                self.bad_seq = u32::from(seq.wrapping_add(1));
                SeqOutcome::Jump
            }
        } else {
            SeqOutcome::Late
        }
    }

    fn update_jitter(&mut self, now: Instant, ts: u32) {
        let epoch = *self.epoch.get_or_insert(now);
        let elapsed = now.saturating_duration_since(epoch);
        let arrival = (elapsed.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000) as u32;
        let transit = i64::from(arrival.wrapping_sub(ts) as i32);
        if let Some(prev) = self.transit.replace(transit) {
            let d = (i64::from((transit - prev) as i32)).unsigned_abs() as f64;
            self.jitter += (d - self.jitter) / 16.0;
        }
    }

    /// Packets counted (duplicates included, as A.3 does).
    pub fn packets(&self) -> u64 {
        self.received
    }

    /// Payload bytes counted.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The extended highest sequence number received (cycles + seq).
    pub fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected from the first to the highest sequence number.
    pub fn expected(&self) -> u64 {
        if self.received == 0 {
            return 0;
        }
        u64::from(self.extended_max().wrapping_sub(self.base_seq)) + 1
    }

    /// Packets lost since the start (negative with duplicates).
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// Cumulative fraction lost, 0.0..=1.0.
    pub fn loss_fraction(&self) -> f64 {
        match self.expected() {
            0 => 0.0,
            e => (self.lost().max(0) as f64 / e as f64).min(1.0),
        }
    }

    /// The fraction lost in the last report interval, in 1/256.
    pub fn last_fraction_lost(&self) -> u8 {
        self.last_fraction
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// Interarrival jitter as a duration, given the clock rate.
    pub fn jitter_duration(&self) -> Duration {
        Duration::from_secs_f64(self.jitter / f64::from(self.clock_rate))
    }

    /// The report block on this stream (source `ssrc`), closing the current
    /// report interval (A.3). `lsr`/`dlsr` come from the last SR received
    /// from that source (0 if none).
    pub fn report_block(&mut self, ssrc: Ssrc, lsr: u32, dlsr: u32) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        self.last_fraction = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u8);
        ReportBlock {
            ssrc,
            fraction_lost: self.last_fraction,
            cumulative_lost: self.lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
            highest_seq: self.extended_max(),
            jitter: self.jitter as u32,
            lsr,
            dlsr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_clock::epoch;

    fn ms(n: u64) -> Instant {
        epoch() + Duration::from_millis(n)
    }

    #[test]
    fn wrap_loss_and_fraction() {
        let mut s = ReceiveStats::new(8000);
        // 200 packets from 65436 across the wrap, every 10th lost.
        let mut seq = 65436u16;
        for i in 0..200u64 {
            if i % 10 != 5 {
                s.record(ms(20 * i), seq, (i * 160) as u32, 160, true);
            }
            seq = seq.wrapping_add(1);
        }
        assert_eq!(s.extended_max(), 65436 + 199);
        assert_eq!(s.expected(), 200);
        assert_eq!(s.lost(), 20);
        assert!((s.loss_fraction() - 0.1).abs() < 1e-9);
        let b = s.report_block(Ssrc(1), 0, 0);
        assert_eq!(b.fraction_lost, 25); // 20 * 256 / 200 = 25.6
        assert_eq!(b.cumulative_lost, 20);
        // A quiet interval: fraction 0.
        assert_eq!(s.report_block(Ssrc(1), 0, 0).fraction_lost, 0);
        // Perfect timing: no jitter.
        assert!(s.jitter() < 1e-6);
    }

    #[test]
    fn reordering_and_duplicates_are_not_loss() {
        let mut s = ReceiveStats::new(8000);
        for (i, seq) in [1u16, 2, 4, 3, 5, 5].into_iter().enumerate() {
            s.record(ms(20 * i as u64), seq, u32::from(seq) * 160, 10, true);
        }
        assert_eq!(s.extended_max(), 5);
        assert_eq!(s.expected(), 5);
        assert_eq!(s.lost(), -1);
        assert_eq!(s.loss_fraction(), 0.0);
    }

    #[test]
    fn a_confirmed_jump_restarts_the_stream() {
        let mut s = ReceiveStats::new(8000);
        s.record(ms(0), 10, 0, 1, true);
        assert_eq!(s.record(ms(20), 30000, 160, 1, true), SeqOutcome::Jump);
        assert_eq!(s.record(ms(40), 30001, 320, 1, true), SeqOutcome::Restarted);
        assert_eq!(s.expected(), 1);
        assert_eq!(s.lost(), 0);
    }

    #[test]
    fn jitter_converges_to_alternating_delay() {
        // Every other packet 10 ms late: |D| is 80 units each time.
        let mut s = ReceiveStats::new(8000);
        for i in 0..500u64 {
            let delay = if i % 2 == 1 { 10 } else { 0 };
            s.record(ms(20 * i + delay), i as u16, (i * 160) as u32, 160, true);
        }
        assert!((s.jitter() - 80.0).abs() < 0.5, "{}", s.jitter());
        let j = s.jitter_duration().as_secs_f64() * 1000.0;
        assert!((j - 10.0).abs() < 0.1, "{j}");
    }
}
