//! A call through the RTP leg and the bridge on a virtual clock: 10 s of
//! 50 packets/s each way, with loss, reordering and jitter injected, a NATed
//! PBX, an attacker spraying RTP at the SIP-side port, an SSRC change
//! mid-call, DTMF both ways and injected, and RTCP with RTT.

use super::bridge::{Bridge, BridgeConfig, BridgeEvent, PtMap, Side, SideConfig};
use super::dtmf::{TelephoneEvent, schedule};
use super::emodel::CodecImpairment;
use super::rtcp::{
    PT_SR, Report, ReportBlock, RtcpPacket, ntp_compact, parse_compound, to_compact,
};
use super::rtp::{RtpView, Ssrc, write_packet};
use super::rtp_leg::{Accepted, RtpLeg, RtpLegConfig};
use crate::test_clock::epoch;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const OPUS_BROWSER: u8 = 111;
const TE_BROWSER: u8 = 126;
const OPUS_PBX: u8 = 107;
const TE_PBX: u8 = 101;
const RATE: u32 = 48_000;
const FRAME: u32 = 960;

fn at(ms: u64) -> Instant {
    epoch() + Duration::from_millis(ms)
}

fn ms_of(t: Instant) -> u64 {
    t.duration_since(epoch()).as_millis() as u64
}

/// One side's outgoing stream: audio every 20 ms, a DTMF key replacing the
/// audio for 100 ms at `dtmf_at`, `lose(i)` packets never arriving, others
/// delayed by `delay(i)` ms.
struct Stream {
    ssrc: u32,
    seq0: u16,
    ts0: u32,
    pt: u8,
    te: u8,
    dtmf: (u64, u8),
}

fn packets(s: &Stream, from_i: u64, to_i: u64) -> Vec<(u64, u64, Vec<u8>)> {
    let events = schedule(
        s.dtmf.1,
        Duration::from_millis(100),
        Duration::from_millis(20),
        RATE,
    );
    let dtmf_i = s.dtmf.0 / 20;
    let mut out = Vec::new();
    for i in from_i..to_i {
        let seq = s.seq0.wrapping_add((i - from_i) as u16);
        let ts = s.ts0.wrapping_add((i - from_i) as u32 * FRAME);
        let mut p = Vec::new();
        match i.checked_sub(dtmf_i).and_then(|k| events.get(k as usize)) {
            Some(e) => {
                let start = s.ts0.wrapping_add((dtmf_i - from_i) as u32 * FRAME);
                write_packet(
                    &mut p,
                    s.te,
                    e.marker,
                    seq,
                    start,
                    Ssrc(s.ssrc),
                    &e.event.to_bytes(),
                )
            }
            None => write_packet(&mut p, s.pt, false, seq, ts, Ssrc(s.ssrc), &[i as u8; 80]),
        }
        out.push((i, 20 * i, p));
    }
    out
}

enum Input {
    Browser(Vec<u8>),
    Sip(SocketAddr, Vec<u8>),
}

#[derive(Default)]
struct Received {
    rtp: Vec<Vec<u8>>,
    rtcp: Vec<Vec<u8>>,
}

fn side(te: u8) -> SideConfig {
    SideConfig {
        clock_rate: RATE,
        telephone_event_pt: Some(te),
        codec: CodecImpairment::OPUS,
    }
}

/// Sequence numbers unwrapped from the first one.
fn unwrapped(seqs: impl Iterator<Item = u16>) -> Vec<i64> {
    let mut last: Option<i64> = None;
    seqs.map(|s| {
        let v = match last {
            None => i64::from(s),
            Some(l) => l + i64::from(s.wrapping_sub(l as u16) as i16),
        };
        last = Some(v);
        v
    })
    .collect()
}

#[test]
fn ten_seconds_of_call_with_loss_reordering_dtmf_and_an_attacker() {
    let mut rng = StdRng::seed_from_u64(7);
    let config = BridgeConfig {
        browser: side(TE_BROWSER),
        pbx: side(TE_PBX),
        browser_to_pbx: [(OPUS_BROWSER, OPUS_PBX), (TE_BROWSER, TE_PBX)]
            .into_iter()
            .collect(),
        pbx_to_browser: PtMap::from_iter([(OPUS_PBX, OPUS_BROWSER), (TE_PBX, TE_BROWSER)]),
        cname: "gw".into(),
        rtcp_interval: Duration::from_secs(1),
        dtmf_interval: Duration::from_millis(20),
    };
    let mut bridge = Bridge::new(at(0), config, 0x0000_e000_0000_0000, &mut rng);
    let sdp: SocketAddr = "192.168.1.10:4000".parse().unwrap();
    let nat: SocketAddr = "203.0.113.7:31000".parse().unwrap();
    let attacker: SocketAddr = "198.51.100.1:5000".parse().unwrap();
    let mut leg = RtpLeg::new(at(0), RtpLegConfig::default(), Some(sdp));

    // Inputs by arrival time. Browser: 5 % loss, a swapped pair every
    // second. PBX: 4 % loss, every other packet 10 ms late (10 ms jitter),
    // a new SSRC and numbering at 5 s (a transfer behind the PBX).
    let mut inputs: BTreeMap<(u64, u64), Input> = BTreeMap::new();
    let mut n = 0u64;
    let mut push = |inputs: &mut BTreeMap<(u64, u64), Input>, t: u64, input: Input| {
        n += 1;
        inputs.insert((t, n), input);
    };
    let browser = Stream {
        ssrc: 0xb0b0,
        seq0: 65_500,
        ts0: 1000,
        pt: OPUS_BROWSER,
        te: TE_BROWSER,
        dtmf: (2000, 5),
    };
    let (mut browser_sent, mut browser_lost) = (0, 0);
    for (i, t, p) in packets(&browser, 0, 500) {
        if i % 20 == 7 {
            browser_lost += 1;
            continue;
        }
        browser_sent += 1;
        let t = if i % 50 == 10 { t + 25 } else { t };
        push(&mut inputs, t, Input::Browser(p));
    }
    let pbx_a = Stream {
        ssrc: 0xaaaa,
        seq0: 100,
        ts0: 5,
        pt: OPUS_PBX,
        te: TE_PBX,
        dtmf: (4000, 9),
    };
    let pbx_b = Stream {
        ssrc: 0xbbbb,
        seq0: 40_000,
        ts0: 7_000_000,
        pt: OPUS_PBX,
        te: TE_PBX,
        dtmf: (9000, 0),
    };
    let mut pbx_lost = [0, 0];
    for (half, (s, range)) in [(&pbx_a, 0..250), (&pbx_b, 250..500)]
        .into_iter()
        .enumerate()
    {
        for (i, t, p) in packets(s, range.start, range.end) {
            if i % 25 == 3 {
                pbx_lost[half] += 1;
                continue;
            }
            push(
                &mut inputs,
                t + if i % 2 == 1 { 10 } else { 0 },
                Input::Sip(nat, p),
            );
        }
    }
    let mut attacker_sent = 0;
    for k in 0..100u64 {
        let mut p = Vec::new();
        write_packet(&mut p, OPUS_PBX, false, k as u16, 0, Ssrc(0xbad), b"EVIL");
        push(&mut inputs, 100 * k + 5, Input::Sip(attacker, p));
        attacker_sent += 1;
    }

    let mut to_browser = Received::default();
    let mut to_pbx = Received::default();
    let mut pbx_rr_due: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut injected = false;
    let drain = |bridge: &mut Bridge,
                 now: Instant,
                 to_browser: &mut Received,
                 to_pbx: &mut Received,
                 rr: &mut BTreeMap<u64, Vec<u8>>| {
        while let Some(tx) = bridge.poll_transmit() {
            let dst = if tx.to == Side::Browser {
                &mut *to_browser
            } else {
                &mut *to_pbx
            };
            if !tx.rtcp {
                dst.rtp.push(tx.packet);
                continue;
            }
            // The PBX answers each SR: it arrives 40 ms later, the RR leaves
            // 100 ms after that and takes 40 ms back: RTT 80 ms.
            if tx.to == Side::Pbx
                && tx.packet[1] == PT_SR
                && let Ok(packets) = parse_compound(&tx.packet)
                && let Some(RtcpPacket::Report(Report {
                    sender: Some(info),
                    ssrc,
                    ..
                })) = packets.first()
            {
                let mut p = Vec::new();
                let block = ReportBlock {
                    ssrc: *ssrc,
                    lsr: ntp_compact(info.ntp),
                    dlsr: to_compact(Duration::from_millis(100)),
                    ..ReportBlock::default()
                };
                Report {
                    ssrc: Ssrc(0xaaaa),
                    sender: None,
                    blocks: vec![block],
                }
                .write(&mut p);
                rr.insert(ms_of(now) + 180, p);
            }
            dst.rtcp.push(tx.packet);
        }
    };

    loop {
        let next_input = inputs.keys().next().map(|k| k.0);
        let next_rr = pbx_rr_due.keys().next().copied();
        let Some(t) = [next_input, next_rr].into_iter().flatten().min() else {
            break;
        };
        while let Some(deadline) = bridge.poll_timeout().filter(|&d| d <= at(t)) {
            bridge.handle_timeout(deadline);
            drain(
                &mut bridge,
                deadline,
                &mut to_browser,
                &mut to_pbx,
                &mut pbx_rr_due,
            );
        }
        let now = at(t);
        if !injected && t >= 3000 {
            injected = true;
            bridge
                .send_dtmf(now, Side::Pbx, '#', Duration::from_millis(100))
                .unwrap();
            bridge
                .send_dtmf(now, Side::Browser, '1', Duration::from_millis(60))
                .unwrap();
            continue;
        }
        if next_rr == Some(t) {
            let rr = pbx_rr_due.remove(&t).unwrap();
            assert_eq!(leg.handle_receive(now, nat, &rr), Ok(Accepted::Rtcp));
            bridge.handle_rtcp(now, Side::Pbx, &rr).unwrap();
            continue;
        }
        let (_, input) = inputs.pop_first().unwrap();
        let (from, mut buf) = match input {
            Input::Browser(p) => (Side::Browser, p),
            Input::Sip(src, p) => match leg.handle_receive(now, src, &p) {
                Ok(Accepted::Rtp(_)) => (Side::Pbx, p),
                _ => continue,
            },
        };
        let to = bridge.handle_rtp(now, from, &mut buf).unwrap();
        assert_eq!(to, from.other());
        if to == Side::Browser {
            to_browser.rtp.push(buf)
        } else {
            to_pbx.rtp.push(buf)
        }
        drain(
            &mut bridge,
            now,
            &mut to_browser,
            &mut to_pbx,
            &mut pbx_rr_due,
        );
    }

    // Latching: the NATed source, after two unproven packets; every attacker
    // packet dropped, none of its bytes reached the browser.
    assert_eq!(leg.latched(), Some(nat));
    // The device's first two packets and the attacker's first one were
    // unproven; every later attacker packet came from an unexpected source.
    assert_eq!(leg.rejected().unproven, 3);
    assert_eq!(leg.rejected().unexpected_source, attacker_sent - 1);
    assert_eq!(leg.rejected().total(), attacker_sent + 2);
    assert!(
        to_browser
            .rtp
            .iter()
            .all(|p| RtpView::parse(p).unwrap().payload() != b"EVIL")
    );

    // Each side sees one gateway SSRC and only its own payload types.
    for (rx, ssrc, pts) in [
        (
            &to_browser,
            bridge.ssrc(Side::Browser),
            [OPUS_BROWSER, TE_BROWSER],
        ),
        (&to_pbx, bridge.ssrc(Side::Pbx), [OPUS_PBX, TE_PBX]),
    ] {
        for p in &rx.rtp {
            let v = RtpView::parse(p).unwrap();
            assert_eq!(v.ssrc(), ssrc);
            assert!(pts.contains(&v.payload_type()), "{v:?}");
        }
    }
    assert_ne!(bridge.ssrc(Side::Browser), bridge.ssrc(Side::Pbx));

    // Sequence numbers: no duplicates, and the only gaps are the packets
    // lost on the way in (the SSRC change leaves none).
    let count_pt = |rx: &Received, pt: u8| {
        rx.rtp
            .iter()
            .filter(|p| RtpView::parse(p).unwrap().payload_type() == pt)
            .count()
    };
    for (rx, lost) in [
        (&to_pbx, browser_lost),
        (&to_browser, pbx_lost[0] + pbx_lost[1]),
    ] {
        let mut seqs = unwrapped(
            rx.rtp
                .iter()
                .map(|p| RtpView::parse(p).unwrap().sequence_number()),
        );
        seqs.sort_unstable();
        let len = seqs.len() as i64;
        seqs.dedup();
        assert_eq!(seqs.len() as i64, len, "duplicate sequence numbers");
        assert_eq!(seqs[seqs.len() - 1] - seqs[0] + 1 - len, lost as i64);
    }
    assert_eq!(to_pbx.rtp.len() as u64, browser_sent + 7);

    // DTMF: the browser's 5 and the PBX's 9 and 0 reported once each,
    // relayed with the other side's telephone-event type; the injected #
    // reaches the PBX as updates plus three end packets on one timestamp.
    let mut digits = Vec::new();
    while let Some(e) = bridge.poll_event() {
        if let BridgeEvent::Dtmf { from, digit } = e {
            digits.push((from, digit.digit.unwrap(), digit.ended));
        }
    }
    assert_eq!(
        digits,
        [
            (Side::Browser, '5', true),
            (Side::Pbx, '9', true),
            (Side::Pbx, '0', true)
        ]
    );
    let pbx_events: Vec<(u32, TelephoneEvent)> = to_pbx
        .rtp
        .iter()
        .map(|p| RtpView::parse(p).unwrap())
        .filter(|v| v.payload_type() == TE_PBX)
        .map(|v| (v.timestamp(), TelephoneEvent::parse(v.payload()).unwrap()))
        .collect();
    let hash: Vec<_> = pbx_events.iter().filter(|(_, e)| e.event == 11).collect();
    assert_eq!(hash.len(), 4 + 3);
    assert!(hash.iter().all(|(ts, _)| *ts == hash[0].0));
    assert_eq!(
        hash.iter()
            .filter(|(_, e)| e.end && e.duration == 4800)
            .count(),
        3
    );
    assert!(pbx_events.iter().any(|(_, e)| e.event == 5 && e.end));
    // Toward the browser: the injected 1 (60 ms: 2 updates, 3 ends) and the
    // PBX's 9 and 0 (7 packets each, one of each lost on the way in).
    assert_eq!(count_pt(&to_browser, TE_BROWSER), 5 + 6 + 6);
    // Toward the PBX: the injected # and the browser's 5 (none lost).
    assert_eq!(count_pt(&to_pbx, TE_PBX), 7 + 7);

    // Statistics close to what was injected.
    let pbx = bridge.stats(Side::Pbx);
    let br = bridge.stats(Side::Browser);
    assert!(
        (pbx.loss_fraction - 0.04).abs() < 0.006,
        "{}",
        pbx.loss_fraction
    );
    assert!(
        (br.loss_fraction - 0.05).abs() < 0.006,
        "{}",
        br.loss_fraction
    );
    let jitter_ms = pbx.jitter.as_secs_f64() * 1000.0;
    assert!(
        (7.0..13.0).contains(&jitter_ms),
        "PBX jitter {jitter_ms} ms"
    );
    assert!(br.jitter < Duration::from_millis(3), "{:?}", br.jitter);
    let rtt = pbx.rtt.expect("RTT from the PBX's receiver reports");
    assert!(
        rtt.abs_diff(Duration::from_millis(80)) < Duration::from_millis(1),
        "{rtt:?}"
    );
    assert!(pbx.mos > 3.5 && pbx.mos <= 4.5, "{}", pbx.mos);
    assert_eq!(br.packets_received, browser_sent);
    assert_eq!(pbx.packets_sent, browser_sent + 7);

    // The gateway reported to each side with its own SSRC, on the stream
    // it receives from that side, never forwarding the other side's.
    for (rx, own) in [
        (&to_pbx, bridge.ssrc(Side::Pbx)),
        (&to_browser, bridge.ssrc(Side::Browser)),
    ] {
        assert!(rx.rtcp.len() >= 9, "{} reports", rx.rtcp.len());
        let last = parse_compound(rx.rtcp.last().unwrap()).unwrap();
        let RtcpPacket::Report(r) = &last[0] else {
            panic!("{last:?}")
        };
        assert_eq!(r.ssrc, own);
        assert!(r.sender.is_some());
        assert_eq!(r.blocks.len(), 1);
    }
    let last_to_pbx = parse_compound(to_pbx.rtcp.last().unwrap()).unwrap();
    let RtcpPacket::Report(r) = &last_to_pbx[0] else {
        unreachable!()
    };
    assert_eq!(r.blocks[0].ssrc, Ssrc(0xbbbb));
}

/// A re-INVITE moves the PBX to other payload numbers and the browser's
/// stream restarts (new SSRC, new numbering): the bridge takes the new map,
/// and each side still sees the gateway's one SSRC with sequence numbers
/// that go on by one.
#[test]
fn renegotiation_keeps_ssrcs_and_numbering_continuous() {
    let mut rng = StdRng::seed_from_u64(11);
    let config = |pbx_opus: u8| BridgeConfig {
        browser: side(TE_BROWSER),
        pbx: side(TE_PBX),
        browser_to_pbx: PtMap::from_iter([(OPUS_BROWSER, pbx_opus), (TE_BROWSER, TE_PBX)]),
        pbx_to_browser: PtMap::from_iter([(pbx_opus, OPUS_BROWSER), (TE_PBX, TE_BROWSER)]),
        cname: "gw".into(),
        rtcp_interval: Duration::from_secs(1),
        dtmf_interval: Duration::from_millis(20),
    };
    let mut bridge = Bridge::new(at(0), config(OPUS_PBX), 0x0000_e000_0000_0000, &mut rng);
    let mut sent = Vec::new();
    let mut relay = |bridge: &mut Bridge, i: u16, ssrc: u32, seq: u16| {
        let mut buf = Vec::new();
        write_packet(
            &mut buf,
            OPUS_BROWSER,
            false,
            seq,
            u32::from(seq) * FRAME,
            Ssrc(ssrc),
            &[i as u8; 80],
        );
        bridge
            .handle_rtp(at(u64::from(i) * 20), Side::Browser, &mut buf)
            .expect("relayed");
        let v = RtpView::parse(&buf).expect("still RTP");
        sent.push((
            v.payload_type(),
            v.ssrc(),
            v.sequence_number(),
            v.timestamp(),
        ));
    };
    for i in 0..10 {
        relay(&mut bridge, i, 0x1111, 1000 + i);
    }
    bridge.renegotiate(config(96));
    for i in 10..20 {
        relay(&mut bridge, i, 0x2222, 50_000 + i);
    }
    let ssrcs: std::collections::BTreeSet<_> = sent.iter().map(|s| s.1).collect();
    assert_eq!(ssrcs.len(), 1, "one gateway SSRC toward the PBX: {sent:?}");
    assert!(sent[..10].iter().all(|s| s.0 == OPUS_PBX));
    assert!(
        sent[10..].iter().all(|s| s.0 == 96),
        "the new PBX numbering: {sent:?}"
    );
    for pair in sent.windows(2) {
        assert_eq!(
            pair[1].2,
            pair[0].2.wrapping_add(1),
            "sequence goes on by one: {sent:?}"
        );
        assert!(
            pair[1].3.wrapping_sub(pair[0].3) < 48_000,
            "no timestamp jump: {sent:?}"
        );
    }
}

/// After a digit injected toward the PBX, a packet that was overtaken
/// before the injection is dropped (it would reuse a sent sequence number),
/// but packets reordered long afterwards are relayed again: the floor is
/// forgotten, not compared forever in 16-bit serial arithmetic (which,
/// 32,768 packets later, would have taken every late packet for an old one).
#[test]
fn the_floor_of_an_injected_digit_only_drops_packets_that_predate_it() {
    let mut rng = StdRng::seed_from_u64(12);
    let config = BridgeConfig {
        browser: side(TE_BROWSER),
        pbx: side(TE_PBX),
        browser_to_pbx: PtMap::from_iter([(OPUS_BROWSER, OPUS_PBX), (TE_BROWSER, TE_PBX)]),
        pbx_to_browser: PtMap::from_iter([(OPUS_PBX, OPUS_BROWSER), (TE_PBX, TE_BROWSER)]),
        cname: "gw".into(),
        rtcp_interval: Duration::from_secs(1),
        dtmf_interval: Duration::from_millis(20),
    };
    let mut bridge = Bridge::new(at(0), config, 0x0000_e000_0000_0000, &mut rng);
    let relay = |bridge: &mut Bridge, k: u32| {
        let seq = k as u16;
        let mut buf = Vec::new();
        write_packet(
            &mut buf,
            OPUS_BROWSER,
            false,
            seq,
            k.wrapping_mul(FRAME),
            Ssrc(0x1111),
            &[0; 80],
        );
        bridge.handle_rtp(at(u64::from(k) * 20), Side::Browser, &mut buf)
    };
    for k in (0..9).chain([10]) {
        relay(&mut bridge, k).expect("in order");
    }
    bridge
        .send_dtmf(at(200), Side::Pbx, '1', Duration::from_millis(60))
        .unwrap();
    bridge.handle_timeout(at(200));
    while bridge.poll_transmit().is_some() {}
    assert!(
        matches!(
            relay(&mut bridge, 9),
            Err(super::bridge::BridgeError::LateAfterInjection)
        ),
        "overtaken before the digit"
    );
    // 40,000 packets later (past half the sequence space), one reordered
    // pair: the late one is relayed.
    for k in 11..40_000 {
        relay(&mut bridge, k).expect("in order");
    }
    relay(&mut bridge, 40_001).expect("in order");
    relay(&mut bridge, 40_000).expect("a late packet long after the digit is relayed");
    assert_eq!(bridge.stats(Side::Browser).dropped_late, 1);
}
