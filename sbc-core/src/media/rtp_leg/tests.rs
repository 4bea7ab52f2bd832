//! Latching, RTP-bleed and media-timeout tests of the RTP leg.

use super::*;
use crate::media::rtp::write_packet;
use crate::test_clock::epoch;

fn ms(n: u64) -> Instant {
    epoch() + Duration::from_millis(n)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn rtp(ssrc: u32, seq: u16) -> Vec<u8> {
    let mut v = Vec::new();
    write_packet(
        &mut v,
        0,
        false,
        seq,
        u32::from(seq) * 160,
        Ssrc(ssrc),
        &[0; 160],
    );
    v
}

const RR: [u8; 8] = [0x80, 201, 0, 1, 0, 0, 0, 1];

#[test]
fn the_sdp_address_proves_itself_at_once() {
    let sdp = addr("10.0.0.5:4000");
    let mut leg = RtpLeg::new(ms(0), RtpLegConfig::default(), Some(sdp));
    assert_eq!(leg.destination(), Some(sdp));
    assert_eq!(
        leg.handle_receive(ms(1), sdp, &rtp(7, 1)),
        Ok(Accepted::Rtp(Ssrc(7)))
    );
    assert_eq!(
        leg.poll_event(),
        Some(RtpLegEvent::Latched {
            source: sdp,
            ssrc: Ssrc(7)
        })
    );
    // An attacker is refused; RTCP from the port above is accepted.
    let attacker = addr("192.0.2.66:4000");
    assert_eq!(
        leg.handle_receive(ms(2), attacker, &rtp(7, 2)),
        Err(Rejected::UnexpectedSource)
    );
    assert_eq!(
        leg.handle_receive(ms(3), addr("10.0.0.5:4001"), &RR),
        Ok(Accepted::Rtcp)
    );
    assert_eq!(
        leg.handle_receive(ms(3), attacker, &RR),
        Err(Rejected::UnexpectedSource)
    );
    assert_eq!(
        leg.handle_receive(ms(4), sdp, b"\x00\x01garbage-stun"),
        Err(Rejected::NotRtp)
    );
    assert_eq!(leg.rejected().unexpected_source, 2);
    assert_eq!(leg.rejected().not_rtp, 1);
    assert_eq!(leg.accepted(), 2);
}

#[test]
fn a_nated_source_is_latched_after_three_agreeing_packets() {
    let sdp = addr("192.168.1.10:4000"); // private address in the SDP
    let nat = addr("203.0.113.7:31000");
    let mut leg = RtpLeg::new(ms(0), RtpLegConfig::default(), Some(sdp));
    assert_eq!(
        leg.handle_receive(ms(0), nat, &rtp(9, 1)),
        Err(Rejected::Unproven)
    );
    assert_eq!(
        leg.handle_receive(ms(20), nat, &rtp(9, 2)),
        Err(Rejected::Unproven)
    );
    assert_eq!(
        leg.handle_receive(ms(40), nat, &rtp(9, 3)),
        Ok(Accepted::Rtp(Ssrc(9)))
    );
    assert_eq!(leg.destination(), Some(nat));
    assert_eq!(leg.rejected().unproven, 2);
    // Now the SDP address itself is someone else.
    assert_eq!(
        leg.handle_receive(ms(60), sdp, &rtp(9, 4)),
        Err(Rejected::UnexpectedSource)
    );
    // The latched source may change its SSRC (a transfer behind the PBX).
    assert_eq!(
        leg.handle_receive(ms(80), nat, &rtp(10, 1)),
        Ok(Accepted::Rtp(Ssrc(10)))
    );
}

#[test]
fn an_interleaving_attacker_neither_latches_nor_blocks() {
    let nat = addr("203.0.113.7:31000");
    let attacker = addr("198.51.100.1:5000");
    let mut leg = RtpLeg::new(
        ms(0),
        RtpLegConfig::default(),
        Some(addr("192.168.1.10:4000")),
    );
    // The attacker sprays changing SSRCs; the device sends steadily.
    let mut t = 0;
    let mut results = Vec::new();
    for seq in 1..=3u16 {
        let _ = leg.handle_receive(ms(t), attacker, &rtp(u32::from(seq), seq));
        results.push(leg.handle_receive(ms(t + 1), nat, &rtp(9, seq)));
        t += 20;
    }
    assert_eq!(results[2], Ok(Accepted::Rtp(Ssrc(9))));
    assert_eq!(leg.latched(), Some(nat));
    assert_eq!(leg.rejected().ssrc_mismatch, 2);
    assert_eq!(
        leg.handle_receive(ms(t), attacker, &rtp(1, 9)),
        Err(Rejected::UnexpectedSource)
    );
}

#[test]
fn slow_or_disagreeing_candidates_do_not_latch() {
    let nat = addr("203.0.113.7:31000");
    let mut leg = RtpLeg::new(ms(0), RtpLegConfig::default(), None);
    // Three packets, but spread beyond the 500 ms window.
    for (i, t) in [0, 400, 800, 1200].into_iter().enumerate() {
        assert!(leg.handle_receive(ms(t), nat, &rtp(9, i as u16)).is_err());
    }
    assert_eq!(leg.latched(), None);
    assert_eq!(leg.destination(), None);
    // SDP-only latching never learns a source the SDP does not name.
    let config = RtpLegConfig {
        latching: Latching::SdpOnly,
        ..RtpLegConfig::default()
    };
    let mut strict = RtpLeg::new(ms(0), config, None);
    assert_eq!(
        strict.handle_receive(ms(0), nat, &rtp(9, 1)),
        Err(Rejected::NoRemote)
    );
    strict.set_remote(ms(1), Some(addr("10.0.0.1:4000")));
    for seq in 0..5 {
        assert_eq!(
            strict.handle_receive(ms(2), nat, &rtp(9, seq)),
            Err(Rejected::UnexpectedSource)
        );
    }
}

#[test]
fn a_new_sdp_address_resets_the_latch() {
    let nat = addr("203.0.113.7:31000");
    let moved = addr("10.9.9.9:6000");
    let mut leg = RtpLeg::new(
        ms(0),
        RtpLegConfig::default(),
        Some(addr("192.168.1.10:4000")),
    );
    for seq in 0..3 {
        let _ = leg.handle_receive(ms(u64::from(seq) * 20), nat, &rtp(9, seq));
    }
    assert_eq!(leg.latched(), Some(nat));
    leg.set_remote(ms(100), Some(moved));
    assert_eq!(leg.latched(), None);
    assert_eq!(leg.destination(), Some(moved));
    assert_eq!(
        leg.handle_receive(ms(120), moved, &rtp(11, 1)),
        Ok(Accepted::Rtp(Ssrc(11)))
    );
    assert_eq!(
        leg.handle_receive(ms(140), nat, &rtp(9, 4)),
        Err(Rejected::UnexpectedSource)
    );
    // The same address again keeps the latch.
    leg.set_remote(ms(160), Some(moved));
    assert_eq!(leg.latched(), Some(moved));
}

#[test]
fn media_timeout_fires_once_after_silence() {
    let sdp = addr("10.0.0.5:4000");
    let mut leg = RtpLeg::new(ms(0), RtpLegConfig::default(), Some(sdp));
    assert_eq!(leg.poll_timeout(), Some(ms(30_000)));
    let _ = leg.handle_receive(ms(1000), sdp, &rtp(1, 1));
    let _ = leg.poll_event();
    assert_eq!(leg.poll_timeout(), Some(ms(31_000)));
    // Rejected packets do not keep the leg alive.
    let _ = leg.handle_receive(ms(20_000), addr("192.0.2.1:1"), &rtp(1, 2));
    leg.handle_timeout(ms(30_999));
    assert_eq!(leg.poll_event(), None);
    leg.handle_timeout(ms(31_000));
    assert_eq!(
        leg.poll_event(),
        Some(RtpLegEvent::MediaTimeout {
            last_media: ms(1000)
        })
    );
    assert_eq!(leg.poll_timeout(), None);
    leg.handle_timeout(ms(40_000));
    assert_eq!(leg.poll_event(), None);
    // On hold: no timeout.
    leg.set_media_timeout(ms(40_000), None);
    assert_eq!(leg.poll_timeout(), None);
}

/// An SDES-SRTP leg: every datagram is unprotected before the leg sees it;
/// one that does not authenticate is counted and dropped there, so a forger
/// can neither deliver media nor get its source latched.
#[test]
fn an_srtp_leg_accepts_only_packets_that_authenticate() {
    use crate::media::srtp::{MasterKey, SrtpContext, SrtpDropCounts, SrtpProfile};

    let profile = SrtpProfile::AesCm128HmacSha1_80;
    let pbx_key = MasterKey::from_bytes(&[0x42; 30]).unwrap();
    let mut pbx = SrtpContext::new(profile, &pbx_key);
    let mut gateway = SrtpContext::new(profile, &pbx_key);
    let mut forger = SrtpContext::new(profile, &MasterKey::from_bytes(&[0x66; 30]).unwrap());
    let mut drops = SrtpDropCounts::default();

    let nat = addr("203.0.113.7:31000");
    let spoofer = addr("198.51.100.1:5000");
    let mut leg = RtpLeg::new(
        ms(0),
        RtpLegConfig::default(),
        Some(addr("192.168.1.10:4000")),
    );
    let mut receive =
        |leg: &mut RtpLeg, t: u64, from: SocketAddr, mut datagram: Vec<u8>| match gateway
            .unprotect_rtp(&mut datagram)
        {
            Ok(len) => Some(leg.handle_receive(ms(t), from, &datagram[..len])),
            Err(e) => {
                drops.count(&e);
                None
            }
        };

    let mut t = 0;
    for seq in 1..=3u16 {
        // The forger races the device with its own SSRC and a wrong key.
        let mut forged = rtp(66, seq);
        forger.protect_rtp(&mut forged).unwrap();
        assert_eq!(receive(&mut leg, t, spoofer, forged), None);
        let mut genuine = rtp(9, seq);
        pbx.protect_rtp(&mut genuine).unwrap();
        let result = receive(&mut leg, t + 1, nat, genuine.clone());
        let expected = if seq < 3 {
            Err(Rejected::Unproven)
        } else {
            Ok(Accepted::Rtp(Ssrc(9)))
        };
        assert_eq!(result, Some(expected));
        // A captured genuine packet replayed from elsewhere is refused too.
        assert_eq!(receive(&mut leg, t + 2, spoofer, genuine), None);
        t += 20;
    }
    assert_eq!(leg.latched(), Some(nat));
    // Garbage and truncated packets never reach the leg either.
    assert_eq!(receive(&mut leg, t, nat, vec![0x80; 40]), None);
    assert_eq!(receive(&mut leg, t, nat, vec![0x80; 5]), None);
    assert_eq!(drops.auth_failed, 4);
    assert_eq!(drops.replayed, 3);
    assert_eq!(drops.too_short, 1);
    assert_eq!(leg.rejected().total(), 2, "only the device's probation");
    assert_eq!(leg.accepted(), 1);
}
