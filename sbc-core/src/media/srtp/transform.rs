//! The per-packet cryptographic step of an [`SrtpContext`], by profile:
//! the session keys of one direction and which transform they are for,
//! `aes_cm` (RFC 3711) or `aead` (RFC 7714). Everything else a context
//! does is the same for both.
//!
//! [`SrtpContext`]: super::SrtpContext

use super::aead::{self, AeadKeys};
use super::aes_cm::SessionKeys;
use super::{MasterKey, SRTCP_INDEX_LEN, SRTCP_TAG_LEN, SrtpError, SrtpProfile};

/// The session keys of one direction (SRTP or SRTCP) and the transform
/// they are for.
pub(super) enum Transform {
    /// RFC 3711: AES-CM, then HMAC-SHA1. Boxed: aws-lc's CTR and HMAC keys
    /// take some 1.7 KB inline, the AES-GCM one a pointer.
    AesCm(Box<SessionKeys>),
    /// RFC 7714: AES-GCM.
    Aead(AeadKeys),
}

impl Transform {
    /// The keys of `profile` for `labels` (SRTP's or SRTCP's); AES-CM tags
    /// are cut to `aes_cm_tag_len` bytes.
    pub(super) fn derive(
        profile: SrtpProfile,
        master: &MasterKey,
        labels: [u8; 3],
        aes_cm_tag_len: usize,
    ) -> Self {
        if profile.is_aead() {
            Transform::Aead(AeadKeys::derive(master, labels))
        } else {
            Transform::AesCm(Box::new(SessionKeys::derive(
                master,
                labels,
                aes_cm_tag_len,
            )))
        }
    }

    /// Encrypts the payload of an RTP packet and appends its tag.
    pub(super) fn seal_rtp(
        &self,
        ssrc: u32,
        index: u64,
        header: usize,
        packet: &mut Vec<u8>,
    ) -> Result<(), SrtpError> {
        match self {
            Transform::AesCm(k) => {
                k.seal_rtp(ssrc, index, header, packet);
                Ok(())
            }
            Transform::Aead(k) => k.seal_rtp(ssrc, index, header, packet),
        }
    }

    /// Authenticates and decrypts an SRTP packet in place.
    pub(super) fn open_rtp(
        &self,
        ssrc: u32,
        index: u64,
        header: usize,
        len: usize,
        buf: &mut [u8],
    ) -> Result<(), SrtpError> {
        match self {
            Transform::AesCm(k) => k.open_rtp(ssrc, index, header, len, buf),
            Transform::Aead(k) => k.open_rtp(ssrc, index, header, len, buf),
        }
    }

    /// Encrypts an RTCP packet and appends its SRTCP trailer.
    pub(super) fn seal_rtcp(
        &self,
        ssrc: u32,
        index: u32,
        packet: &mut Vec<u8>,
    ) -> Result<(), SrtpError> {
        match self {
            Transform::AesCm(k) => {
                k.seal_rtcp(ssrc, index, packet);
                Ok(())
            }
            Transform::Aead(k) => k.seal_rtcp(ssrc, index, packet),
        }
    }

    /// What follows the RTCP packet in an SRTCP packet, and where in that
    /// trailer `E || index` is: before the tag in RFC 3711, after it in
    /// RFC 7714.
    pub(super) fn srtcp_trailer(&self) -> (usize, usize) {
        match self {
            Transform::AesCm(_) => (SRTCP_INDEX_LEN + SRTCP_TAG_LEN, 0),
            Transform::Aead(_) => (aead::SRTCP_TRAILER_LEN, aead::TAG_LEN),
        }
    }

    /// Authenticates and, if E is set, decrypts an SRTCP packet in place.
    pub(super) fn open_rtcp(
        &self,
        ssrc: u32,
        e_index: u32,
        len: usize,
        buf: &mut [u8],
    ) -> Result<(), SrtpError> {
        match self {
            Transform::AesCm(k) => k.open_rtcp(ssrc, e_index, len, buf),
            Transform::Aead(k) => k.open_rtcp(ssrc, e_index, len, buf),
        }
    }
}
