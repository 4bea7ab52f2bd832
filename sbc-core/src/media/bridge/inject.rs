//! DTMF injection toward one side: RFC 4733 packets generated on the
//! gateway's stream to that side (its SSRC, the next sequence numbers, the
//! stream's current timestamp as the event start), one every
//! `dtmf_interval`, ending with three end packets. Digits queue up, with a
//! pause between them.

use super::{Bridge, BridgeError, Side, Transmit};
use crate::media::dtmf::{ScheduledEvent, event_of, schedule};
use crate::media::rtp::write_packet;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Pause between two injected digits.
const INTER_DIGIT: Duration = Duration::from_millis(50);

/// The DTMF queue toward one side.
#[derive(Debug, Default)]
pub(super) struct DtmfOut {
    pending: VecDeque<(u8, Duration)>,
    active: Option<Active>,
    next_start: Option<Instant>,
}

/// The digit being sent.
#[derive(Debug)]
struct Active {
    start: Instant,
    start_ts: u32,
    packets: VecDeque<ScheduledEvent>,
}

impl DtmfOut {
    /// When the next packet is due.
    pub(super) fn next_due(&self) -> Option<Instant> {
        match &self.active {
            Some(a) => a.packets.front().map(|p| a.start + p.at),
            None if !self.pending.is_empty() => self.next_start,
            None => None,
        }
    }
}

impl Bridge {
    /// Queues DTMF key `digit` toward side `to`, lasting `duration`; its
    /// packets come out of [`poll_transmit`](Self::poll_transmit) as
    /// [`handle_timeout`](Self::handle_timeout) reaches their send times
    /// (the first one at `now` if nothing is queued).
    pub fn send_dtmf(
        &mut self,
        now: Instant,
        to: Side,
        digit: char,
        duration: Duration,
    ) -> Result<(), BridgeError> {
        let event = event_of(digit)?;
        let s = &mut self.sides[to.idx()];
        if s.config.telephone_event_pt.is_none() {
            return Err(BridgeError::NoTelephoneEvent);
        }
        let out = &mut s.dtmf_out;
        if out.active.is_none() && out.pending.is_empty() {
            out.next_start = Some(out.next_start.map_or(now, |t| t.max(now)));
        }
        out.pending.push_back((event, duration));
        Ok(())
    }

    /// Emits the DTMF packets toward `side` that are due at `now`.
    pub(super) fn inject_due(&mut self, now: Instant, side: Side) {
        let interval = self.dtmf_interval;
        let s = &mut self.sides[side.idx()];
        let Some(pt) = s.config.telephone_event_pt else {
            return;
        };
        let rate = s.config.clock_rate;
        loop {
            if s.dtmf_out.active.is_none() {
                let Some(start) = s.dtmf_out.next_start.filter(|&t| t <= now) else {
                    return;
                };
                let Some((event, duration)) = s.dtmf_out.pending.pop_front() else {
                    return;
                };
                s.dtmf_out.active = Some(Active {
                    start,
                    start_ts: s.tx.ts_at(start, rate),
                    packets: schedule(event, duration, interval, rate).into(),
                });
            }
            let active = s.dtmf_out.active.as_mut().expect("activated above");
            let mut last_at = active.start;
            while let Some(p) = active.packets.front().copied() {
                let due = active.start + p.at;
                if due > now {
                    return;
                }
                active.packets.pop_front();
                last_at = due;
                let seq = s.tx.max_seq.wrapping_add(1);
                // Relayed packets continue after the injected ones; those
                // older than the newest relayed one can no longer follow.
                s.tx.floor = Some(s.tx.max_seq.wrapping_sub(s.tx.seq_offset));
                s.tx.seq_offset = s.tx.seq_offset.wrapping_add(1);
                let mut packet = Vec::with_capacity(16);
                let payload = p.event.to_bytes();
                write_packet(
                    &mut packet,
                    pt,
                    p.marker,
                    seq,
                    active.start_ts,
                    s.tx.ssrc,
                    &payload,
                );
                s.tx.sent(now, seq, None, payload.len());
                self.transmits.push_back(Transmit {
                    to: side,
                    rtcp: false,
                    packet,
                });
            }
            s.dtmf_out.active = None;
            s.dtmf_out.next_start = Some(last_at + INTER_DIGIT);
        }
    }
}
