//! Just enough RFC 7714 (AEAD AES-GCM for SRTP) to show that the keys our
//! DTLS endpoint exports are the ones a str0m peer uses: str0m and dimpl on
//! both ends always negotiate `SRTP_AEAD_AES_256_GCM` (dimpl offers and
//! prefers it, and neither lets the list be changed), and
//! `crate::media::srtp` has no GCM yet (it is being added there; this test
//! helper goes when it lands). RTP only, rollover counter 0, no MKI.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;

use super::super::{DtlsSrtpProfile, SrtpMasterKey};

/// The SRTP session key and salt of one direction.
pub(crate) struct GcmSession {
    aead: LessSafeKey,
    salt: [u8; 12],
}

/// RFC 3711 §4.3.1 (key derivation rate 0) as RFC 7714 §11 uses it: the
/// AES-CM PRF keyed with the master key, `x = label·2^48 XOR salt`, the
/// 96-bit salt padded with 16 zero bits to RFC 3711's 112.
fn derive(profile: DtlsSrtpProfile, master: &SrtpMasterKey, label: u8, out: &mut [u8]) {
    let mut iv = [0; 16];
    iv[..12].copy_from_slice(master.salt());
    iv[7] ^= label;
    let alg = match profile {
        DtlsSrtpProfile::AeadAes256Gcm => &AES_256,
        _ => &AES_128,
    };
    let key = UnboundCipherKey::new(alg, master.key()).unwrap();
    out.fill(0);
    EncryptingKey::ctr(key)
        .unwrap()
        .less_safe_encrypt(out, EncryptionContext::Iv128(FixedLength::from(iv)))
        .unwrap();
}

impl GcmSession {
    /// The SRTP (not SRTCP) session of `master` under a GCM `profile`.
    pub(crate) fn rtp(profile: DtlsSrtpProfile, master: &SrtpMasterKey) -> Self {
        let mut key = vec![0; profile.master_key_len()];
        let mut salt = [0; 12];
        derive(profile, master, 0, &mut key);
        derive(profile, master, 2, &mut salt);
        let alg = match profile {
            DtlsSrtpProfile::AeadAes256Gcm => &AES_256_GCM,
            DtlsSrtpProfile::AeadAes128Gcm => &AES_128_GCM,
            other => panic!("not a GCM profile: {other}"),
        };
        Self {
            aead: LessSafeKey::new(UnboundKey::new(alg, &key).unwrap()),
            salt,
        }
    }

    /// RFC 7714 §8.1: `IV = (0x0000 || SSRC || ROC || SEQ) XOR salt`.
    fn nonce(&self, packet: &[u8]) -> Nonce {
        let mut iv = [0; 12];
        iv[2..6].copy_from_slice(&packet[8..12]);
        iv[10..12].copy_from_slice(&packet[2..4]);
        for (b, s) in iv.iter_mut().zip(self.salt) {
            *b ^= s;
        }
        Nonce::assume_unique_for_key(iv)
    }

    /// Encrypts an RTP packet (12-byte header, no CSRC or extension) in
    /// place and appends the 16-byte tag; the header is the AAD.
    pub(crate) fn protect(&self, packet: &mut Vec<u8>) {
        let nonce = self.nonce(packet);
        let mut payload = packet.split_off(12);
        self.aead
            .seal_in_place_append_tag(nonce, Aad::from(&packet[..]), &mut payload)
            .unwrap();
        packet.extend(payload);
    }

    /// Authenticates and decrypts an SRTP packet; the RTP packet, or `None`
    /// if it does not authenticate.
    pub(crate) fn unprotect(&self, packet: &[u8]) -> Option<Vec<u8>> {
        let mut header = 12 + 4 * usize::from(packet.first()? & 0x0f);
        if packet[0] & 0x10 != 0 {
            let words = packet.get(header + 2..header + 4)?;
            header += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
        }
        let (head, body) = packet.split_at_checked(header)?;
        let mut body = body.to_vec();
        let plain = self
            .aead
            .open_in_place(self.nonce(packet), Aad::from(head), &mut body)
            .ok()?;
        let mut out = head.to_vec();
        out.extend_from_slice(plain);
        Some(out)
    }
}
