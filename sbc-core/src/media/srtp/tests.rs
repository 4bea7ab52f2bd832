//! RFC 3711 Appendix B vectors, the libsrtp reference packets, round trips,
//! rollover, replay and a no-panic property.

use super::keys::{aes_cm, aes_ctr, derive};
use super::*;
use proptest::prelude::*;

pub(super) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The master key and salt of RFC 3711 B.3 and of libsrtp's `srtp_validate`.
fn b3_master() -> MasterKey {
    MasterKey::from_bytes(&hex(
        "E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6",
    ))
    .unwrap()
}

pub(super) fn rtp(ssrc: u32, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80, 0];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    v.extend_from_slice(&ssrc.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// A master key of `profile`: B.3's for the AES-CM suites; for the AEAD
/// ones RFC 7714 §16's key bytes and salt (there used as session keys).
pub(super) fn master_for(profile: SrtpProfile) -> MasterKey {
    if !profile.is_aead() {
        return b3_master();
    }
    let key: Vec<u8> = (0..profile.master_key_len() as u8).collect();
    MasterKey::from_parts(profile, &key, b"Quid pro quo").unwrap()
}

/// A sender and a receiver of one key.
pub(super) fn pair(profile: SrtpProfile) -> (SrtpContext, SrtpContext) {
    let key = master_for(profile);
    (
        SrtpContext::new(profile, &key),
        SrtpContext::new(profile, &key),
    )
}

#[test]
fn b2_aes_cm_keystream() {
    let cipher = aes_ctr(&hex("2B7E151628AED2A6ABF7158809CF4F3C"));
    let mut iv = [0; 16];
    iv.copy_from_slice(&hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
    let mut stream = [0; 48];
    aes_cm(&cipher, iv, &mut stream);
    assert_eq!(
        stream.to_vec(),
        hex("E03EAD0935C95E80E166B16DD92B4EB4
             D23513162B02D0F72A43A2FE4A5F97AB
             41E95B3BB0A2E8DD477901E4FCA894C0")
    );
}

#[test]
fn b3_key_derivation() {
    let master = b3_master();
    let mut cipher = [0; 16];
    let mut salt = [0; 14];
    let mut auth = [0; 94];
    derive(&master, 0, &mut cipher);
    derive(&master, 2, &mut salt);
    derive(&master, 1, &mut auth);
    assert_eq!(cipher.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
    assert_eq!(salt.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
    assert_eq!(
        auth.to_vec(),
        hex(
            "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
        )
    );
}

/// RFC 6188 §7.2: the AES_256_CM_PRF, the KDF keyed with a 32-byte master
/// key (as `AEAD_AES_256_GCM` derives its keys, RFC 7714 §11).
#[test]
fn rfc6188_aes_256_key_derivation() {
    let master = MasterKey::from_key_and_salt(
        &hex("f0f04914b513f2763a1b1fa130f10e29 98f6f6e43e4309d1e622a0e332b9f1b6"),
        &hex("3b04803de51ee7c96423ab5b78d2"),
    )
    .unwrap();
    let mut cipher = [0; 32];
    let mut salt = [0; 14];
    let mut auth = [0; 20];
    derive(&master, 0, &mut cipher);
    derive(&master, 2, &mut salt);
    derive(&master, 1, &mut auth);
    assert_eq!(
        cipher.to_vec(),
        hex("5ba1064e30ec51613cad926c5a28ef73 1ec7fb397f70a960653caf06554cd8c4")
    );
    assert_eq!(salt.to_vec(), hex("fa31791685ca444a9e07c6c64e93"));
    assert_eq!(
        auth.to_vec(),
        hex("fd9c32d39ed5fbb5a9dc96b30818454d1313dc05")
    );
}

#[test]
fn libsrtp_reference_packets() {
    let (mut tx, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_80);
    let plain = hex("800f1234decafbadcafebabe abababababababababababababababab");
    let srtp =
        hex("800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb");
    let mut p = plain.clone();
    tx.protect_rtp(&mut p).unwrap();
    assert_eq!(p, srtp);
    let mut c = srtp.clone();
    assert_eq!(rx.unprotect_rtp(&mut c), Ok(plain.len()));
    assert_eq!(c[..plain.len()], plain[..]);

    // SRTCP: libsrtp's first packet carries index 1.
    let plain = hex("81c8000bcafebabe abababababababababababababababab");
    let srtcp =
        hex("81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798");
    let mut first = plain.clone();
    tx.protect_rtcp(&mut first).unwrap(); // index 0
    let mut p = plain.clone();
    tx.protect_rtcp(&mut p).unwrap();
    assert_eq!(p, srtcp);
    let mut c = srtcp.clone();
    assert_eq!(rx.unprotect_rtcp(&mut c), Ok(plain.len()));
    assert_eq!(c[..plain.len()], plain[..]);
    assert_eq!(
        rx.unprotect_rtcp(&mut srtcp.clone()),
        Err(SrtpError::Replayed { index: 1 })
    );
}

#[test]
fn round_trip_every_profile_with_csrc_and_extension() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile);
        // CC = 1, X = 1 with one extension word.
        let mut plain = vec![0x91, 0x60, 0, 7, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 5];
        plain.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]);
        plain.extend_from_slice(&[1, 2, 3, 4, 5]);
        let mut p = plain.clone();
        tx.protect_rtp(&mut p).unwrap();
        assert_eq!(p.len(), plain.len() + profile.rtp_tag_len());
        assert_eq!(p[..24], plain[..24], "header in the clear");
        assert_ne!(p[24..29], plain[24..]);
        let n = rx.unprotect_rtp(&mut p).unwrap();
        assert_eq!(p[..n], plain[..]);
    }
}

#[test]
fn tampering_and_the_wrong_key_fail_authentication() {
    let (mut tx, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_80);
    let mut p = rtp(5, 100, &[7; 20]);
    tx.protect_rtp(&mut p).unwrap();
    let mut bad = p.clone();
    bad[15] ^= 1;
    assert_eq!(rx.unprotect_rtp(&mut bad), Err(SrtpError::AuthFailed));
    let mut other = SrtpContext::new(
        SrtpProfile::AesCm128HmacSha1_80,
        &MasterKey::from_bytes(&[1; 30]).unwrap(),
    );
    assert_eq!(
        other.unprotect_rtp(&mut p.clone()),
        Err(SrtpError::AuthFailed)
    );
    // A failed packet left no state: the genuine one still passes.
    assert!(rx.unprotect_rtp(&mut p).is_ok());
    assert_eq!(
        rx.unprotect_rtp(&mut [0x80; 12]),
        Err(SrtpError::TooShort { len: 12 })
    );
    let mut rtcp = vec![0x80, 201, 0, 1, 0, 0, 0, 5];
    tx.protect_rtcp(&mut rtcp).unwrap();
    rtcp[9] ^= 0x80;
    assert_eq!(rx.unprotect_rtcp(&mut rtcp), Err(SrtpError::AuthFailed));
}

#[test]
fn replays_and_packets_behind_the_window_are_refused() {
    let (mut tx, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_32);
    let packets: Vec<Vec<u8>> = (0..200u16)
        .map(|seq| {
            let mut p = rtp(1, seq, &[seq as u8; 8]);
            tx.protect_rtp(&mut p).unwrap();
            p
        })
        .collect();
    // Out of order inside the window is fine; a second copy is not.
    for seq in [0, 2, 1, 3, 150, 149, 100] {
        assert!(rx.unprotect_rtp(&mut packets[seq].clone()).is_ok(), "{seq}");
    }
    for seq in [2, 150, 100] {
        assert_eq!(
            rx.unprotect_rtp(&mut packets[seq].clone()),
            Err(SrtpError::Replayed { index: seq as u64 })
        );
    }
    // 150 - 86 = 64: just behind the window.
    assert_eq!(
        rx.unprotect_rtp(&mut packets[86].clone()),
        Err(SrtpError::Replayed { index: 86 })
    );
    assert!(rx.unprotect_rtp(&mut packets[87].clone()).is_ok());
    let mut counts = SrtpDropCounts::default();
    counts.count(&SrtpError::AuthFailed);
    counts.count(&SrtpError::Replayed { index: 1 });
    assert_eq!(
        (counts.auth_failed, counts.replayed, counts.total()),
        (1, 1, 2)
    );
}

/// The sender never seals two payloads under one index (keystream reuse,
/// RFC 3711 §9.1): a sequence number already protected is refused, under
/// every profile; an unsent one inside the window still goes out.
#[test]
fn the_sender_refuses_an_index_it_already_sealed() {
    for profile in SrtpProfile::ALL {
        let (mut tx, _) = pair(profile);
        for seq in [10u16, 11, 13] {
            tx.protect_rtp(&mut rtp(7, seq, &[1; 8])).unwrap();
        }
        assert_eq!(
            tx.protect_rtp(&mut rtp(7, 11, &[2; 8])),
            Err(SrtpError::Replayed { index: 11 }),
            "{profile:?}"
        );
        assert!(
            tx.protect_rtp(&mut rtp(7, 12, &[3; 8])).is_ok(),
            "{profile:?}"
        );
    }
}

#[test]
fn the_rollover_counter_follows_the_sequence_wrap() {
    let (mut tx, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_80);
    let seqs: Vec<u16> = (0..40u16).map(|i| 65_520u16.wrapping_add(i)).collect();
    let mut sent: Vec<(u16, Vec<u8>)> = seqs
        .iter()
        .map(|&seq| {
            let mut p = rtp(7, seq, &seq.to_be_bytes());
            tx.protect_rtp(&mut p).unwrap();
            (seq, p)
        })
        .collect();
    assert_eq!(tx.roc(7), Some(1));
    // Deliver with a late packet from before the wrap after it.
    sent.swap(15, 17);
    for (seq, mut p) in sent {
        let n = rx
            .unprotect_rtp(&mut p)
            .unwrap_or_else(|e| panic!("{seq}: {e}"));
        assert_eq!(p[12..n], seq.to_be_bytes());
    }
    assert_eq!(rx.roc(7), Some(1));
    // A receiver that assumed ROC 0 after the wrap would fail to authenticate.
    let mut p = rtp(7, 30, &[0; 4]);
    tx.protect_rtp(&mut p).unwrap();
    let mut fresh = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &b3_master());
    assert_eq!(fresh.unprotect_rtp(&mut p), Err(SrtpError::AuthFailed));
}

#[test]
fn master_keys_round_trip_through_base64_and_hide_in_debug() {
    let key = b3_master();
    let text = key.to_base64();
    assert_eq!(text.len(), 40);
    assert_eq!(MasterKey::from_base64(&text), Some(key.clone()));
    assert_eq!(MasterKey::from_base64("c2hvcnQ="), None);
    assert_eq!(MasterKey::from_base64("not base64!"), None);
    assert_eq!(format!("{key:?}"), "MasterKey(..)");
    let ctx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &key);
    assert!(!format!("{ctx:?}").contains(&text));
}

proptest! {
    #[test]
    fn unprotect_never_panics(mut buf in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (_, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_80);
        let mut copy = buf.clone();
        let _ = rx.unprotect_rtp(&mut buf);
        let _ = rx.unprotect_rtcp(&mut copy);
        let (_, mut rx32) = pair(SrtpProfile::AesCm128HmacSha1_32);
        let _ = rx32.unprotect_rtp(&mut copy);
    }

    #[test]
    fn protect_then_unprotect_is_identity(
        seq in any::<u16>(),
        payload in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let (mut tx, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_80);
        let plain = rtp(3, seq, &payload);
        let mut p = plain.clone();
        tx.protect_rtp(&mut p).unwrap();
        let n = rx.unprotect_rtp(&mut p).unwrap();
        prop_assert_eq!(&p[..n], &plain[..]);
    }
}
