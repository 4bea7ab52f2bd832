//! DTMF as RFC 4733 telephone-events: the 4-byte event payload, a receiver
//! that turns a stream of (retransmitted) event packets into one digit per
//! key press, and the packet schedule of a digit the gateway generates
//! (updates every packet interval, then the end packet sent three times, all
//! with the timestamp of the event start, §2.5.1).

use std::time::Duration;

/// Why a telephone-event payload was refused; the sender's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// The payload is shorter than 4 bytes.
    #[error("telephone-event payload of {0} bytes")]
    Short(usize),
    /// A character that is not a DTMF key.
    #[error("{0:?} is not a DTMF key")]
    NotADigit(char),
}

/// One RFC 4733 event payload (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0–9, 10 `*`, 11 `#`, 12–15 `A`–`D`.
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in −dBm0 (0..=63).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first 4 bytes of a payload (redundant trailing bytes are
    /// ignored).
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        let b = payload.get(..4).ok_or(DtmfError::Short(payload.len()))?;
        Ok(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The 4-byte payload.
    pub fn to_bytes(&self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        [
            self.event,
            u8::from(self.end) << 7 | (self.volume & 0x3f),
            d0,
            d1,
        ]
    }

    /// The DTMF key of this event, if it is one (codes 0–15).
    pub fn digit(&self) -> Option<char> {
        digit_of(self.event)
    }
}

/// The key of a DTMF event code.
pub fn digit_of(event: u8) -> Option<char> {
    Some(match event {
        0..=9 => char::from(b'0' + event),
        10 => '*',
        11 => '#',
        12..=15 => char::from(b'A' + event - 12),
        _ => return None,
    })
}

/// The event code of a DTMF key (`0`–`9`, `*`, `#`, `A`–`D`, case-blind).
pub fn event_of(digit: char) -> Result<u8, DtmfError> {
    Ok(match digit.to_ascii_uppercase() {
        d @ '0'..='9' => d as u8 - b'0',
        '*' => 10,
        '#' => 11,
        d @ 'A'..='D' => d as u8 - b'A' + 12,
        _ => return Err(DtmfError::NotADigit(digit)),
    })
}

/// A key press decoded from telephone-event packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectedDigit {
    /// The event code ([`digit_of`] gives the key).
    pub event: u8,
    /// The key, if the code is a DTMF key.
    pub digit: Option<char>,
    /// Duration in timestamp units.
    pub duration: u16,
    /// False when the end packets were lost and a new event began.
    pub ended: bool,
}

/// Turns telephone-event packets into one [`DetectedDigit`] per event: an
/// event is identified by its RTP timestamp; it is reported at its first end
/// packet (retransmissions ignored), or when a new event starts before any
/// end packet arrived.
#[derive(Debug, Clone, Default)]
pub struct DtmfReceiver {
    current: Option<(u32, TelephoneEvent, bool)>,
}

impl DtmfReceiver {
    /// Feeds one event packet with its RTP timestamp.
    pub fn handle(&mut self, ts: u32, ev: TelephoneEvent) -> Option<DetectedDigit> {
        let detected = |e: &TelephoneEvent, ended| DetectedDigit {
            event: e.event,
            digit: e.digit(),
            duration: e.duration,
            ended,
        };
        match &mut self.current {
            Some((cur_ts, cur, reported)) if *cur_ts == ts => {
                if *reported {
                    return None;
                }
                if ev.duration >= cur.duration {
                    *cur = ev;
                }
                if ev.end {
                    *reported = true;
                    return Some(detected(&ev, true));
                }
                None
            }
            previous => {
                let unfinished = match previous {
                    Some((_, cur, false)) => Some(detected(cur, false)),
                    _ => None,
                };
                *previous = Some((ts, ev, ev.end));
                if ev.end {
                    // A lone end packet (the earlier ones were lost): report
                    // it; an unfinished previous event is dropped then.
                    return Some(detected(&ev, true));
                }
                unfinished
            }
        }
    }
}

/// One packet of a generated event: when to send it (offset from the event
/// start), its payload, and whether it carries the marker bit. All packets
/// of an event carry the event start timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledEvent {
    /// Offset of the send time from the event start.
    pub at: Duration,
    /// The payload.
    pub event: TelephoneEvent,
    /// Set on the first packet only.
    pub marker: bool,
}

/// Volume of generated events, in −dBm0.
pub const GENERATED_VOLUME: u8 = 10;
/// How many times the end packet is sent (§2.5.1.4).
pub const END_PACKETS: usize = 3;

/// The packets of one generated event lasting `duration`, one every
/// `interval`, timestamps ticking at `clock_rate`. The duration field is
/// capped at 65535 units (1.36 s at 48 kHz); longer key presses are cut.
pub fn schedule(
    event: u8,
    duration: Duration,
    interval: Duration,
    clock_rate: u32,
) -> Vec<ScheduledEvent> {
    let units = |d: Duration| -> u16 {
        let u = d.as_micros() * u128::from(clock_rate) / 1_000_000;
        u16::try_from(u).unwrap_or(u16::MAX)
    };
    let interval = interval.max(Duration::from_millis(5));
    let total = units(duration).max(1);
    let mut out = Vec::new();
    let mut at = Duration::ZERO;
    while at + interval < duration {
        out.push(ScheduledEvent {
            at,
            event: TelephoneEvent {
                event,
                end: false,
                volume: GENERATED_VOLUME,
                duration: units(at + interval).min(total),
            },
            marker: at.is_zero(),
        });
        at += interval;
    }
    for i in 0..END_PACKETS {
        out.push(ScheduledEvent {
            at,
            event: TelephoneEvent {
                event,
                end: true,
                volume: GENERATED_VOLUME,
                duration: total,
            },
            marker: out.is_empty() && i == 0,
        });
        at += interval;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip_and_keys() {
        let e = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(e.to_bytes(), [11, 0x8a, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&e.to_bytes()).unwrap(), e);
        assert_eq!(e.digit(), Some('#'));
        assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), Err(DtmfError::Short(3)));
        for (i, c) in "0123456789*#ABCD".chars().enumerate() {
            assert_eq!(event_of(c), Ok(i as u8));
            assert_eq!(digit_of(i as u8), Some(c));
        }
        assert_eq!(event_of('d'), Ok(15));
        assert_eq!(event_of('x'), Err(DtmfError::NotADigit('x')));
        assert_eq!(digit_of(16), None);
    }

    #[test]
    fn schedule_has_updates_then_three_end_packets() {
        let s = schedule(
            5,
            Duration::from_millis(100),
            Duration::from_millis(20),
            8000,
        );
        assert_eq!(s.len(), 4 + END_PACKETS);
        assert!(s[0].marker && s[1..].iter().all(|p| !p.marker));
        assert_eq!(s[0].event.duration, 160);
        assert_eq!(s[3].event.duration, 640);
        assert!(
            s[4..]
                .iter()
                .all(|p| p.event.end && p.event.duration == 800)
        );
        assert_eq!(s[6].at, Duration::from_millis(120));
    }

    #[test]
    fn receiver_reports_each_press_once() {
        let mut r = DtmfReceiver::default();
        let mut got = Vec::new();
        for p in schedule(
            1,
            Duration::from_millis(100),
            Duration::from_millis(20),
            8000,
        ) {
            got.extend(r.handle(1000, p.event));
        }
        assert_eq!(
            got,
            [DetectedDigit {
                event: 1,
                digit: Some('1'),
                duration: 800,
                ended: true
            }]
        );
        // Lost end packets: reported when the next event starts.
        let ev = |event, end, duration| TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        };
        assert_eq!(r.handle(2000, ev(2, false, 160)), None);
        let d = r.handle(3000, ev(3, false, 160)).unwrap();
        assert_eq!((d.digit, d.ended), (Some('2'), false));
        // Only an end packet arrives.
        assert_eq!(r.handle(4000, ev(4, true, 400)).unwrap().digit, Some('4'));
        assert_eq!(r.handle(4000, ev(4, true, 400)), None);
    }
}
