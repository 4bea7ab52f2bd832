//! The RFC 7714 transform of `AEAD_AES_128_GCM` and `AEAD_AES_256_GCM`:
//! the session keys of one direction (§11), the IVs (§8.1 for SRTP, §9.1
//! for SRTCP), the associated data (§8.2, §9.2, §9.3) and sealing and
//! opening SRTP and SRTCP packets with aws-lc-rs' AES-GCM.
//!
//! Packet layouts: SRTP is `header || ciphertext || tag` with the whole
//! header (CSRCs and extension included) as associated data. SRTCP is
//! `first header (8 bytes) || ciphertext || tag || E || index`, the
//! `E || index` word last and, unlike RFC 3711, after the tag; with E set
//! the associated data is the 8-byte header and that word, with E clear
//! nothing is encrypted and the whole RTCP packet and that word are.

use super::keys::{AES_256_KEY_LEN, MasterKey, derive};
use super::{RTCP_HEADER_LEN, SRTCP_INDEX_LEN, SrtpError};
use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

/// Length of an AES-GCM tag; RFC 7714 §12 allows no shorter one in SRTP.
pub(super) const TAG_LEN: usize = 16;
/// Length of the IV, and of the session salt XORed into it.
const IV_LEN: usize = 12;
/// The SRTCP trailer after the RTCP packet: the tag, then `E || index`.
pub(super) const SRTCP_TRAILER_LEN: usize = TAG_LEN + SRTCP_INDEX_LEN;
/// The E flag of the SRTCP `E || index` word.
const E_FLAG: u32 = 0x8000_0000;

/// The AES-GCM session key and session salt of one direction (SRTP or
/// SRTCP) of a master key.
pub(super) struct AeadKeys {
    key: LessSafeKey,
    salt: [u8; IV_LEN],
}

impl AeadKeys {
    /// Derives the keys for `labels` (`SRTP_LABELS` or `SRTCP_LABELS`; the
    /// authentication-key label is unused): a session key as long as the
    /// master key, AES-128-GCM or AES-256-GCM by that length, and a 12-byte
    /// session salt (§11).
    pub(super) fn derive(master: &MasterKey, labels: [u8; 3]) -> Self {
        let mut key = [0; AES_256_KEY_LEN];
        let key = &mut key[..master.key().len()];
        let mut salt = [0; IV_LEN];
        derive(master, labels[0], key);
        derive(master, labels[2], &mut salt);
        Self::from_session_keys(key, salt)
    }

    /// Keys from a session key (16 or 32 bytes) and session salt, as the
    /// RFC 7714 §16 and §17 vectors give them.
    pub(super) fn from_session_keys(key: &[u8], salt: [u8; IV_LEN]) -> Self {
        let algorithm = if key.len() == AES_256_KEY_LEN {
            &AES_256_GCM
        } else {
            &AES_128_GCM
        };
        let key = UnboundKey::new(algorithm, key)
            .expect("session keys are as long as their master key: 16 or 32 bytes");
        AeadKeys {
            key: LessSafeKey::new(key),
            salt,
        }
    }

    /// `salt XOR iv`, as a nonce.
    fn nonce(&self, mut iv: [u8; IV_LEN]) -> Nonce {
        for (b, s) in iv.iter_mut().zip(self.salt) {
            *b ^= s;
        }
        Nonce::assume_unique_for_key(iv)
    }

    /// The IV of SRTP packet `index` (ROC || SEQ) of `ssrc` (§8.1):
    /// `00 00 || SSRC || ROC || SEQ`, XORed with the session salt.
    fn rtp_nonce(&self, ssrc: u32, index: u64) -> Nonce {
        let mut iv = [0; IV_LEN];
        iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
        iv[6..].copy_from_slice(&index.to_be_bytes()[2..]);
        self.nonce(iv)
    }

    /// The IV of SRTCP packet `index` (31 bits) of `ssrc` (§9.1):
    /// `00 00 || SSRC || 00 00 || 0 || index`, XORed with the session salt.
    fn rtcp_nonce(&self, ssrc: u32, index: u32) -> Nonce {
        let mut iv = [0; IV_LEN];
        iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
        iv[8..].copy_from_slice(&(index & !E_FLAG).to_be_bytes());
        self.nonce(iv)
    }

    /// Encrypts the payload of the RTP packet in `packet` (its header,
    /// the associated data, is `header` bytes) as packet `index` of `ssrc`
    /// and appends the tag.
    pub(super) fn seal_rtp(
        &self,
        ssrc: u32,
        index: u64,
        header: usize,
        packet: &mut Vec<u8>,
    ) -> Result<(), SrtpError> {
        let (aad, payload) = packet.split_at_mut(header);
        let tag = self
            .key
            .seal_in_place_separate_tag(self.rtp_nonce(ssrc, index), Aad::from(&*aad), payload)
            // Only a payload over GCM's 2^36 bytes.
            .map_err(|_| SrtpError::Malformed)?;
        packet.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Authenticates and decrypts in place the SRTP packet in `buf` (`len`
    /// bytes of packet, the first `header` of them its header, then the
    /// tag) as packet `index` of `ssrc`. GCM decrypts while it
    /// authenticates: on failure the payload bytes are zeroed, so no
    /// unauthenticated plaintext is left behind.
    pub(super) fn open_rtp(
        &self,
        ssrc: u32,
        index: u64,
        header: usize,
        len: usize,
        buf: &mut [u8],
    ) -> Result<(), SrtpError> {
        let (aad, rest) = buf.split_at_mut(header);
        let (payload, tag) = rest.split_at_mut(len - header);
        let nonce = self.rtp_nonce(ssrc, index);
        open_or_zero(&self.key, nonce, aad, tag, payload)
    }

    /// Encrypts the (compound) RTCP packet in `packet` after its first
    /// header as SRTCP packet `index` of `ssrc`, then appends the tag and
    /// `E || index` with E set (§9.2).
    pub(super) fn seal_rtcp(
        &self,
        ssrc: u32,
        index: u32,
        packet: &mut Vec<u8>,
    ) -> Result<(), SrtpError> {
        let word = (E_FLAG | index).to_be_bytes();
        let (header, body) = packet.split_at_mut(RTCP_HEADER_LEN);
        let aad = rtcp_aad(header, word);
        let tag = self
            .key
            .seal_in_place_separate_tag(self.rtcp_nonce(ssrc, index), Aad::from(aad), body)
            // Only a payload over GCM's 2^36 bytes.
            .map_err(|_| SrtpError::Malformed)?;
        packet.extend_from_slice(tag.as_ref());
        packet.extend_from_slice(&word);
        Ok(())
    }

    /// Authenticates the SRTCP packet in `buf` (`len` bytes of RTCP, then
    /// the tag, then `E || index` as `e_index`) and, if its E flag is set,
    /// decrypts it in place. With E set a failure zeroes the bytes after
    /// the first header (see [`Self::open_rtp`]); with E clear `buf` is
    /// unchanged.
    pub(super) fn open_rtcp(
        &self,
        ssrc: u32,
        e_index: u32,
        len: usize,
        buf: &mut [u8],
    ) -> Result<(), SrtpError> {
        let nonce = self.rtcp_nonce(ssrc, e_index);
        let word = e_index.to_be_bytes();
        if e_index & E_FLAG != 0 {
            let (header, rest) = buf.split_at_mut(RTCP_HEADER_LEN);
            let (body, rest) = rest.split_at_mut(len - RTCP_HEADER_LEN);
            let aad = rtcp_aad(header, word);
            return open_or_zero(&self.key, nonce, &aad, &rest[..TAG_LEN], body);
        }
        // §9.3: the plaintext is empty and the associated data is the RTCP
        // packet and the `E || index` word. Move the word next to the
        // packet to make that one slice, and put the tag back after.
        let mut tag = [0; TAG_LEN];
        tag.copy_from_slice(&buf[len..len + TAG_LEN]);
        buf[len..len + SRTCP_INDEX_LEN].copy_from_slice(&word);
        let aad = Aad::from(&buf[..len + SRTCP_INDEX_LEN]);
        let verified = self
            .key
            .open_separate_gather(nonce, aad, &[], &tag, &mut [])
            .is_ok();
        buf[len..len + TAG_LEN].copy_from_slice(&tag);
        if verified {
            Ok(())
        } else {
            Err(SrtpError::AuthFailed)
        }
    }
}

/// The associated data of an encrypted SRTCP packet (§9.2): its first
/// 8-byte header, then `E || index`.
fn rtcp_aad(header: &[u8], word: [u8; SRTCP_INDEX_LEN]) -> [u8; RTCP_HEADER_LEN + SRTCP_INDEX_LEN] {
    let mut aad = [0; RTCP_HEADER_LEN + SRTCP_INDEX_LEN];
    aad[..RTCP_HEADER_LEN].copy_from_slice(header);
    aad[RTCP_HEADER_LEN..].copy_from_slice(&word);
    aad
}

/// Opens `body` in place under `tag`; on failure zeroes it (aws-lc does
/// too, but that is not part of its API's promise).
fn open_or_zero(
    key: &LessSafeKey,
    nonce: Nonce,
    aad: &[u8],
    tag: &[u8],
    body: &mut [u8],
) -> Result<(), SrtpError> {
    if key
        .open_in_place_separate_tag(nonce, Aad::from(aad), tag, body)
        .is_ok()
    {
        return Ok(());
    }
    body.fill(0);
    Err(SrtpError::AuthFailed)
}

#[cfg(test)]
mod tests;
