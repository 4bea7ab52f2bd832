//! Fuzz target: arbitrary bytes as an SRTP or SRTCP packet, unprotected
//! under each profile (the first byte picks the profile and RTP or RTCP):
//! never a panic, never accepted (a fixed key; tags of 80 bits and more
//! cannot be forged by a fuzzer), and the same bytes as a plain packet,
//! if protect takes them, come back whole from unprotect.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbc_core::media::srtp::{MasterKey, SrtpContext, SrtpProfile};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let profile = SrtpProfile::ALL[usize::from(selector & 3)];
    let rtcp = selector & 4 != 0;
    let key = MasterKey::from_parts(
        profile,
        &[7; 32][..profile.master_key_len()],
        &[9; 14][..profile.master_salt_len()],
    )
    .expect("the profile's own lengths");
    let mut tx = SrtpContext::new(profile, &key);
    let mut rx = SrtpContext::new(profile, &key);

    let mut forged = packet.to_vec();
    let result = if rtcp {
        rx.unprotect_rtcp(&mut forged)
    } else {
        rx.unprotect_rtp(&mut forged)
    };
    if rtcp || profile.rtp_tag_len() >= 10 {
        assert!(
            result.is_err(),
            "{profile}: a packet nobody protected was accepted"
        );
    }

    let mut own = packet.to_vec();
    let protected = if rtcp {
        tx.protect_rtcp(&mut own)
    } else {
        tx.protect_rtp(&mut own)
    };
    if protected.is_ok() {
        let mut fresh = SrtpContext::new(profile, &key);
        let n = if rtcp {
            fresh.unprotect_rtcp(&mut own)
        } else {
            fresh.unprotect_rtp(&mut own)
        }
        .expect("our own packet unprotects");
        assert_eq!(&own[..n], packet);
    }
});
