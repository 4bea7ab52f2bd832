//! End to end on a virtual clock: a str0m peer plays the browser, a plain
//! RTP peer plays the PBX, and between them the gateway's WebRTC leg,
//! bridge and RTP leg, with loss and reordering injected on both networks.
//! Each side checks what it receives: its own payload types, one stable
//! gateway SSRC, sequence numbers and timestamps continuous apart from the
//! losses, and DTMF.

mod harness;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use harness::*;

use crate::media::bridge::{BridgeEvent, Side};
use crate::media::dtmf::{TelephoneEvent, schedule};
use crate::media::rtp::{RtpView, Ssrc, write_packet};
use crate::media::webrtc::{DisconnectReason, Event};

const PACKETS: u16 = 500;
const FRAME: u32 = 960;
/// The browser's first (extended) sequence number and timestamp: both wrap.
const BROWSER_SEQ0: u64 = 65_400;
const BROWSER_TS0: u32 = u32::MAX - 100 * FRAME;
const PBX_SSRC: u32 = 0x5eed;
const PBX_SEQ0: u16 = 30_000;
const PBX_TS0: u32 = 77;
/// The browser's key press: '5' in place of packets 100..107.
const BROWSER_DTMF: (u16, u8) = (100, 5);
/// The PBX's key press: '9' in place of packets 300..307.
const PBX_DTMF: (u16, u8) = (300, 9);
/// The gateway injects '1' toward the browser at packet 150.
const INJECT_AT: u16 = 150;

/// Audio payload: who sent it and packet index `k`.
fn audio(who: u8, k: u16) -> Vec<u8> {
    let mut p = vec![who, (k >> 8) as u8, k as u8];
    p.resize(60, 0x55);
    p
}

/// The index of an audio payload from `who`.
fn index_of(who: u8, payload: &[u8]) -> Option<u16> {
    (payload.len() == 60 && payload[0] == who).then(|| u16::from_be_bytes([payload[1], payload[2]]))
}

/// The telephone-event packets of a 100 ms key press at 20 ms intervals.
fn key_press(event: u8) -> Vec<(bool, TelephoneEvent)> {
    schedule(
        event,
        Duration::from_millis(100),
        Duration::from_millis(20),
        48_000,
    )
    .into_iter()
    .map(|e| (e.marker, e.event))
    .collect()
}

/// Packet `k` of a stream: audio, or a key press's event packet.
fn packet_k(k: u16, dtmf: (u16, u8), te: u8, pt: u8, who: u8) -> (u8, bool, u16, Vec<u8>) {
    let events = key_press(dtmf.1);
    match k
        .checked_sub(dtmf.0)
        .and_then(|i| events.get(usize::from(i)))
    {
        Some((marker, e)) => (te, *marker, dtmf.0, e.to_bytes().to_vec()),
        None => (pt, false, k, audio(who, k)),
    }
}

/// What one side received, as (pt, seq, ts, ssrc, marker, payload).
type Received = Vec<(u8, u16, u32, u32, Vec<u8>)>;

/// Checks one side's audio: every packet on `audio_pt`, none twice, the
/// timestamp at a constant offset from the sender's index, the sequence
/// number too except that it steps up by one for each packet the gateway
/// injected in between (`injected` in all): so continuous apart from
/// losses, reordered packets in their place. Returns the indices received.
fn check_audio(rx: &Received, audio_pt: u8, who: u8, injected: u16) -> BTreeSet<u16> {
    let mut by_index = std::collections::BTreeMap::new();
    for (pt, seq, ts, _, payload) in rx {
        let Some(k) = index_of(who, payload) else {
            continue;
        };
        assert_eq!(*pt, audio_pt, "audio packet {k} on the wrong payload type");
        let o = (
            seq.wrapping_sub(k),
            ts.wrapping_sub(FRAME.wrapping_mul(u32::from(k))),
        );
        assert!(by_index.insert(k, o).is_none(), "packet {k} twice");
    }
    let offsets: Vec<(u16, u32)> = by_index.values().copied().collect();
    let (seq0, ts0) = offsets[0];
    for (k, (seq, ts)) in &by_index {
        assert_eq!(*ts, ts0, "packet {k}: timestamp out of step");
        let step = seq.wrapping_sub(seq0);
        assert!(step <= injected, "packet {k}: sequence number out of step");
    }
    let steps: Vec<u16> = offsets.iter().map(|o| o.0.wrapping_sub(seq0)).collect();
    assert!(
        steps.windows(2).all(|w| w[0] <= w[1]),
        "a late packet renumbered after an injected one: {steps:?}"
    );
    assert_eq!(steps[steps.len() - 1], injected);
    by_index.into_keys().collect()
}

/// Holes in the sorted, unwrapped sequence numbers of `rx`.
fn gaps(rx: &Received) -> i64 {
    let mut last: Option<i64> = None;
    let mut seqs: Vec<i64> = rx
        .iter()
        .map(|p| {
            let v = match last {
                None => i64::from(p.1),
                Some(l) => l + i64::from(p.1.wrapping_sub(l as u16) as i16),
            };
            last = Some(v);
            v
        })
        .collect();
    seqs.sort_unstable();
    let n = seqs.len() as i64;
    seqs.dedup();
    assert_eq!(seqs.len() as i64, n, "a sequence number twice");
    seqs[seqs.len() - 1] - seqs[0] + 1 - n
}

/// The telephone events of `rx` on payload type `te`: (ts, event).
fn events(rx: &Received, te: u8) -> Vec<(u32, TelephoneEvent)> {
    rx.iter()
        .filter(|p| p.0 == te)
        .map(|p| (p.2, TelephoneEvent::parse(&p.4).unwrap()))
        .collect()
}

fn impaired() -> Setup {
    Setup {
        browser_net: Impairment {
            latency: Duration::from_millis(15),
            loss: 0.03,
            swap: 0.03,
        },
        pbx_net: Impairment {
            latency: Duration::from_millis(5),
            loss: 0.03,
            swap: 0.03,
        },
        ..Setup::default()
    }
}

/// 10 s of 50 packets/s each way, DTMF from both peers, one digit injected.
fn talk(call: &mut Call) {
    let t0 = call.now;
    for k in 0..PACKETS {
        let now = t0 + Duration::from_millis(20) * u32::from(k);
        call.run_until(now);
        let (pt, marker, i, payload) = packet_k(k, BROWSER_DTMF, TE48_BROWSER, OPUS_BROWSER, b'B');
        call.browser.send_marked(
            now,
            pt,
            BROWSER_SEQ0 + u64::from(k),
            BROWSER_TS0.wrapping_add(FRAME * u32::from(i)),
            marker,
            &payload,
        );
        let (pt, marker, i, payload) = packet_k(k, PBX_DTMF, TE_PBX, OPUS_PBX, b'P');
        let mut p = Vec::new();
        write_packet(
            &mut p,
            pt,
            marker,
            PBX_SEQ0.wrapping_add(k),
            PBX_TS0.wrapping_add(FRAME * u32::from(i)),
            Ssrc(PBX_SSRC),
            &payload,
        );
        call.pbx_send(p);
        if k == INJECT_AT {
            call.gw
                .bridge
                .send_dtmf(now, Side::Browser, '1', Duration::from_millis(60))
                .unwrap();
        }
    }
    call.flush();
}

fn at_pbx(call: &Call) -> Received {
    call.pbx
        .rtp
        .iter()
        .map(|p| {
            let v = RtpView::parse(p).unwrap();
            (
                v.payload_type(),
                v.sequence_number(),
                v.timestamp(),
                v.ssrc().0,
                v.payload().to_vec(),
            )
        })
        .collect()
}

fn at_browser(call: &Call) -> Received {
    call.browser
        .rtp
        .iter()
        .map(|p| {
            (
                *p.header.payload_type,
                p.header.sequence_number,
                p.header.timestamp,
                *p.header.ssrc,
                p.payload.to_vec(),
            )
        })
        .collect()
}

#[test]
fn ten_seconds_both_ways_with_loss_reordering_and_dtmf() {
    let mut call = Call::new(impaired());
    call.run_while(Duration::from_secs(5), Call::connected);
    call.impair();
    let virtual_start = call.now;
    talk(&mut call);
    println!("{:?} of media simulated", call.now - virtual_start);
    assert_eq!(call.disconnected(), None);
    assert_eq!(call.gw.refused_to_browser, 0);

    // The browser's SSRC, as the leg saw it.
    let browser_ssrc = call
        .gw
        .leg_events
        .iter()
        .find_map(|e| match e {
            Event::Rtp(p) => Some(p.ssrc),
            _ => None,
        })
        .expect("browser RTP reached the leg");

    // ---- At the PBX: its numbering, the gateway's PBX-side SSRC.
    let rx = at_pbx(&call);
    let gw_ssrc = call.gw.bridge.ssrc(Side::Pbx).0;
    assert_ne!(gw_ssrc, browser_ssrc);
    for p in &rx {
        assert!([OPUS_PBX, TE_PBX].contains(&p.0), "PT {} at the PBX", p.0);
        assert_eq!(p.3, gw_ssrc, "one stable gateway SSRC toward the PBX");
    }
    let got = check_audio(&rx, OPUS_PBX, b'B', 0);
    let lost = call.path(TO_GW_FROM_BROWSER).lost_rtp + call.path(TO_PBX).lost_rtp;
    let holes = gaps(&rx);
    println!(
        "to the PBX: {} of {PACKETS} arrived, {lost} lost on the way ({} + {}), {} swaps, {holes} gaps",
        rx.len(),
        call.path(TO_GW_FROM_BROWSER).lost_rtp,
        call.path(TO_PBX).lost_rtp,
        call.path(TO_GW_FROM_BROWSER).swapped_rtp + call.path(TO_PBX).swapped_rtp,
    );
    assert!(lost > 0, "the test injects loss");
    assert_eq!(rx.len() as u64 + lost, u64::from(PACKETS));
    assert_eq!(holes, lost as i64, "every gap is a loss");
    let fives = events(&rx, TE_PBX);
    assert!(!fives.is_empty() && fives.iter().all(|(_, e)| e.event == BROWSER_DTMF.1));
    assert!(fives.iter().any(|(_, e)| e.end), "the key press ended");
    assert!(fives.len() <= key_press(BROWSER_DTMF.1).len());
    assert_eq!(got.len() + fives.len(), rx.len());
    assert!(
        fives.iter().all(|(ts, _)| *ts == fives[0].0),
        "one event, one timestamp"
    );

    // ---- At the browser: its numbering, the leg's SSRC.
    let rx = at_browser(&call);
    let leg_ssrc = rx[0].3;
    assert_ne!(leg_ssrc, PBX_SSRC);
    assert_ne!(leg_ssrc, gw_ssrc);
    for p in &rx {
        assert!(
            [OPUS_BROWSER, TE48_BROWSER].contains(&p.0),
            "PT {} at the browser",
            p.0
        );
        assert_eq!(p.3, leg_ssrc, "one stable gateway SSRC toward the browser");
    }
    let injected = 5;
    check_audio(&rx, OPUS_BROWSER, b'P', injected as u16);
    let lost = call.path(TO_GW_FROM_PBX).lost_rtp + call.path(TO_BROWSER).lost_rtp;
    let holes = gaps(&rx);
    println!(
        "to the browser: {} of {} arrived, {lost} lost on the way ({} + {}), {} swaps, {holes} gaps",
        rx.len(),
        u64::from(PACKETS) + injected,
        call.path(TO_GW_FROM_PBX).lost_rtp,
        call.path(TO_BROWSER).lost_rtp,
        call.path(TO_GW_FROM_PBX).swapped_rtp + call.path(TO_BROWSER).swapped_rtp,
    );
    assert!(lost > 0, "the test injects loss");
    assert_eq!(rx.len() as u64 + lost, u64::from(PACKETS) + injected);
    assert_eq!(holes, lost as i64, "every gap is a loss");
    let ev = events(&rx, TE48_BROWSER);
    for digit in [PBX_DTMF.1, 1] {
        let e: Vec<_> = ev.iter().filter(|(_, e)| e.event == digit).collect();
        assert!(e.iter().any(|(_, e)| e.end), "digit {digit} ended: {ev:?}");
        assert!(e.iter().all(|(ts, _)| *ts == e[0].0), "{e:?}");
    }

    // ---- The gateway saw both key presses.
    let digits: Vec<_> = call
        .gw
        .bridge_events
        .iter()
        .filter_map(|e| match e {
            BridgeEvent::Dtmf { from, digit } => Some((*from, digit.digit)),
            _ => None,
        })
        .collect();
    assert_eq!(digits, [(Side::Browser, Some('5')), (Side::Pbx, Some('9'))]);

    // ---- The browser's reports reached the bridge through the leg: its
    // receiver reports answer the bridge's sender reports (round trip).
    let browser = call.gw.bridge.stats(Side::Browser);
    assert!(browser.rtt.is_some(), "{browser:?}");
    assert!(browser.remote_fraction_lost.is_some(), "{browser:?}");
}

/// The offer's fingerprint does not match the browser's certificate: the
/// leg fails, and nothing of the browser reaches the PBX.
#[test]
fn a_wrong_fingerprint_fails_the_leg_and_no_media_reaches_the_pbx() {
    let mut call = Call::new(Setup {
        edit_offer: |offer| {
            let at = offer.find("a=fingerprint:sha-256 ").expect("a fingerprint") + 22;
            let mut bytes = offer.into_bytes();
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
            String::from_utf8(bytes).unwrap()
        },
        ..Setup::default()
    });
    call.run_while(Duration::from_secs(5), |c| c.disconnected().is_some());
    assert_eq!(
        call.disconnected(),
        Some(DisconnectReason::FingerprintMismatch)
    );
    assert!(!call.gw.leg.is_connected());
    // Both peers keep talking for a second; the browser may not get its
    // packets out at all (no SRTP keys), the gateway relays nothing of it.
    for k in 0..50u16 {
        let now = call.now;
        if call.browser.connected {
            call.browser
                .send(now, OPUS_BROWSER, u64::from(k), 0, &audio(b'B', k));
        }
        let mut p = Vec::new();
        write_packet(
            &mut p,
            OPUS_PBX,
            false,
            k,
            0,
            Ssrc(PBX_SSRC),
            &audio(b'P', k),
        );
        call.pbx_send(p);
        call.run_until(now + Duration::from_millis(20));
    }
    call.flush();
    assert!(
        !call
            .gw
            .leg_events
            .iter()
            .any(|e| matches!(e, Event::Rtp(_))),
        "no browser RTP came out of the leg"
    );
    assert!(call.pbx.rtp.is_empty(), "RTP reached the PBX");
    assert!(call.browser.rtp.is_empty(), "RTP reached the browser");
    assert_eq!(call.gw.refused_to_browser, 50);
}

/// RTP bleed: an attacker sprays the gateway's RTP port before and after
/// the NATed PBX latched; everything it sends is dropped and counted, and
/// none of it reaches the browser.
#[test]
fn rtp_from_an_unproven_source_is_dropped_and_never_reaches_the_browser() {
    let nat: SocketAddr = "203.0.113.7:31000".parse().unwrap();
    let attacker: SocketAddr = "198.51.100.66:6666".parse().unwrap();
    let mut call = Call::new(Setup {
        pbx_source: nat,
        ..Setup::default()
    });
    call.run_while(Duration::from_secs(5), Call::connected);
    let evil = |seq: u16, ssrc: u32| {
        let mut p = Vec::new();
        write_packet(&mut p, OPUS_PBX, false, seq, 0, Ssrc(ssrc), b"EVIL");
        p
    };
    // Before latching: one packet each from two attacker SSRCs.
    call.pbx_send_from(attacker, evil(1, 0xbad));
    call.pbx_send_from(attacker, evil(2, 0xbad2));
    for k in 0..100u16 {
        let now = call.now;
        let mut p = Vec::new();
        write_packet(
            &mut p,
            OPUS_PBX,
            false,
            PBX_SEQ0.wrapping_add(k),
            PBX_TS0.wrapping_add(FRAME * u32::from(k)),
            Ssrc(PBX_SSRC),
            &audio(b'P', k),
        );
        call.pbx_send(p);
        // After latching: one every 100 ms, RTP and RTCP.
        if k >= 10 && k % 5 == 0 {
            call.pbx_send_from(attacker, evil(k, 0xbad));
            call.pbx_send_from(attacker, vec![0x80, 200, 0, 1, 0, 0, 0x0b, 0xad]);
        }
        call.run_until(now + Duration::from_millis(20));
    }
    call.flush();

    assert_eq!(call.gw.rtp.latched(), Some(nat));
    let r = call.gw.rtp.rejected();
    // The attacker's first packet went on probation, its second (another
    // SSRC) restarted it; the NAT's first two were on probation, its third
    // latched; after that every attacker packet is from a wrong source.
    assert_eq!(r.unproven, 1 + 2, "{r:?}");
    assert_eq!(r.ssrc_mismatch, 1, "{r:?}");
    assert_eq!(r.unexpected_source, 18 * 2, "{r:?}");
    assert_eq!(r.total(), 3 + 1 + 36);
    let rx = at_browser(&call);
    assert!(
        rx.iter().all(|p| p.4 != b"EVIL"),
        "attacker RTP reached the browser"
    );
    // Everything the NAT sent after its two probation packets arrived.
    let got = check_audio(&rx, OPUS_BROWSER, b'P', 0);
    assert_eq!(got, (2..100).collect());
}

/// A PBX packet that arrives late, after the gateway injected a DTMF packet
/// toward the browser, must not be renumbered onto a sequence number
/// already sent: the browser would see it twice, and the leg would encrypt
/// two payloads with one SRTP index (keystream reuse under AES-GCM/CM).
#[test]
fn a_late_packet_after_an_injected_digit_is_not_renumbered_onto_a_sent_one() {
    let mut call = Call::new(Setup::default());
    call.run_while(Duration::from_secs(5), Call::connected);
    let pbx_packet = |k: u16| {
        let mut p = Vec::new();
        write_packet(
            &mut p,
            OPUS_PBX,
            false,
            PBX_SEQ0.wrapping_add(k),
            PBX_TS0.wrapping_add(FRAME * u32::from(k)),
            Ssrc(PBX_SSRC),
            &audio(b'P', k),
        );
        p
    };
    // 0..=8 in order, then 10, the digit, and 9 late; then 11..30.
    let order: Vec<u16> = (0..9).chain([10]).chain(11..30).collect();
    for k in order {
        let now = call.now;
        call.pbx_send(pbx_packet(k));
        if k == 10 {
            call.run_until(now + Duration::from_millis(6));
            let at = call.now;
            call.gw
                .bridge
                .send_dtmf(at, Side::Browser, '1', Duration::from_millis(60))
                .unwrap();
            call.run_until(at + Duration::from_millis(2));
            call.pbx_send(pbx_packet(9));
        }
        call.run_until(now + Duration::from_millis(20));
    }
    call.flush();

    // What the leg sent: each SRTP index once.
    let mut sent = call.rtp_seqs(TO_BROWSER).to_vec();
    sent.sort_unstable();
    let n = sent.len();
    sent.dedup();
    assert_eq!(sent.len(), n, "an SRTP index used twice toward the browser");
    assert_eq!(n, 29 + 5);
    let rx = at_browser(&call);
    gaps(&rx);
    let got = check_audio(&rx, OPUS_BROWSER, b'P', 5);
    assert_eq!(got, (0..30).filter(|&k| k != 9).collect());
    assert_eq!(rx.len(), 29 + 5);
    assert_eq!(call.gw.bridge.stats(Side::Pbx).dropped_late, 1);
}
