//! The RFC 3711 transform of the `AES_CM_128_HMAC_SHA1_*` suites: the
//! session keys of one direction (§4.3), AES-CM encryption (§4.1.1) and the
//! truncated HMAC-SHA1 tag (§4.2) of SRTP and SRTCP packets.

use super::keys::{KEY_LEN, MasterKey, SALT_LEN, aes_cm, aes_ctr, derive};
use super::{RTCP_HEADER_LEN, SRTCP_INDEX_LEN, SRTCP_TAG_LEN, SrtpError};
use aws_lc_rs::cipher::EncryptingKey;
use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::hmac;

/// Length of an HMAC-SHA1 session authentication key.
const AUTH_KEY_LEN: usize = 20;

/// The session keys of one direction (SRTP or SRTCP) of a master key, and
/// the length its tags are cut to.
pub(super) struct SessionKeys {
    cipher: EncryptingKey,
    salt: [u8; SALT_LEN],
    auth: hmac::Key,
    tag_len: usize,
}

impl SessionKeys {
    /// Derives the keys for `labels` (`SRTP_LABELS` or `SRTCP_LABELS`);
    /// tags are cut to `tag_len` bytes.
    pub(super) fn derive(master: &MasterKey, labels: [u8; 3], tag_len: usize) -> Self {
        let mut cipher = [0; KEY_LEN];
        let mut auth = [0; AUTH_KEY_LEN];
        let mut salt = [0; SALT_LEN];
        derive(master, labels[0], &mut cipher);
        derive(master, labels[1], &mut auth);
        derive(master, labels[2], &mut salt);
        SessionKeys {
            cipher: aes_ctr(&cipher),
            salt,
            auth: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &auth),
            tag_len,
        }
    }

    /// Encrypts or decrypts `data` for packet `index` of `ssrc` (§4.1.1:
    /// `IV = salt·2^16 XOR SSRC·2^64 XOR index·2^16`).
    fn crypt(&self, ssrc: u32, index: u64, data: &mut [u8]) {
        let mut iv = [0; 16];
        iv[..SALT_LEN].copy_from_slice(&self.salt);
        for (b, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
            *b ^= s;
        }
        for (b, i) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
            *b ^= i;
        }
        aes_cm(&self.cipher, iv, data);
    }

    /// HMAC-SHA1 over the concatenation of `parts`, untruncated.
    fn tag(&self, parts: &[&[u8]]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.auth);
        for p in parts {
            ctx.update(p);
        }
        ctx.sign()
    }

    /// Encrypts the payload of the RTP packet in `packet` (its header is
    /// `header` bytes) as packet `index` of `ssrc` and appends the tag over
    /// the packet and the rollover counter (§3.1, §4.2).
    pub(super) fn seal_rtp(&self, ssrc: u32, index: u64, header: usize, packet: &mut Vec<u8>) {
        self.crypt(ssrc, index, &mut packet[header..]);
        let roc = ((index >> 16) as u32).to_be_bytes();
        let tag = self.tag(&[packet, &roc]);
        packet.extend_from_slice(&tag.as_ref()[..self.tag_len]);
    }

    /// Authenticates the SRTP packet in `buf` (`len` bytes of packet, then
    /// the tag) as packet `index` of `ssrc`, then decrypts its payload in
    /// place. On error `buf` is unchanged.
    pub(super) fn open_rtp(
        &self,
        ssrc: u32,
        index: u64,
        header: usize,
        len: usize,
        buf: &mut [u8],
    ) -> Result<(), SrtpError> {
        let roc = ((index >> 16) as u32).to_be_bytes();
        let (authenticated, tag) = buf.split_at_mut(len);
        let expected = self.tag(&[authenticated, &roc]);
        verify_slices_are_equal(&expected.as_ref()[..self.tag_len], tag)
            .map_err(|_| SrtpError::AuthFailed)?;
        self.crypt(ssrc, index, &mut authenticated[header..]);
        Ok(())
    }

    /// Encrypts the (compound) RTCP packet in `packet` after its first
    /// header as SRTCP packet `index` of `ssrc`, then appends `E || index`
    /// and the tag (§3.4).
    pub(super) fn seal_rtcp(&self, ssrc: u32, index: u32, packet: &mut Vec<u8>) {
        self.crypt(ssrc, u64::from(index), &mut packet[RTCP_HEADER_LEN..]);
        packet.extend_from_slice(&(0x8000_0000 | index).to_be_bytes());
        let tag = self.tag(&[packet]);
        packet.extend_from_slice(&tag.as_ref()[..SRTCP_TAG_LEN]);
    }

    /// Authenticates the SRTCP packet in `buf` (`len` bytes of RTCP, then
    /// `E || index` as `e_index`, then the tag) and, if its E flag is set,
    /// decrypts it in place. On error `buf` is unchanged.
    pub(super) fn open_rtcp(
        &self,
        ssrc: u32,
        e_index: u32,
        len: usize,
        buf: &mut [u8],
    ) -> Result<(), SrtpError> {
        let (authenticated, tag) = buf.split_at_mut(len + SRTCP_INDEX_LEN);
        let expected = self.tag(&[authenticated]);
        verify_slices_are_equal(&expected.as_ref()[..SRTCP_TAG_LEN], tag)
            .map_err(|_| SrtpError::AuthFailed)?;
        if e_index & 0x8000_0000 != 0 {
            let index = u64::from(e_index & 0x7fff_ffff);
            self.crypt(ssrc, index, &mut authenticated[RTCP_HEADER_LEN..len]);
        }
        Ok(())
    }
}
