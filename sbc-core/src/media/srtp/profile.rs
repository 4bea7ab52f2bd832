//! The SRTP protection profiles (crypto suites) a [`SrtpContext`] speaks,
//! with their names, identifiers and lengths.
//!
//! [`SrtpContext`]: super::SrtpContext

use std::fmt;

/// An SRTP protection profile: the AES-CM suites of RFC 3711 (SDES toward
/// the PBX) and the AES-GCM ones of RFC 7714 (what browsers negotiate in
/// DTLS-SRTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    /// `AES_CM_128_HMAC_SHA1_80`: 80-bit tags on SRTP and SRTCP.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`: 32-bit tags on SRTP, 80-bit on SRTCP.
    AesCm128HmacSha1_32,
    /// `AEAD_AES_128_GCM` (RFC 7714): AES-128-GCM, 128-bit tags on SRTP
    /// and SRTCP.
    AeadAes128Gcm,
    /// `AEAD_AES_256_GCM` (RFC 7714): AES-256-GCM, 128-bit tags on SRTP
    /// and SRTCP.
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// Every profile.
    pub const ALL: [SrtpProfile; 4] = [
        SrtpProfile::AesCm128HmacSha1_80,
        SrtpProfile::AesCm128HmacSha1_32,
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
    ];

    /// The suites the PBX leg offers and accepts in SDES, in the gateway's
    /// order of preference. The AEAD profiles have SDES names too (RFC 7714
    /// §14.1) but are not among them: the PBX leg's keys are AES-CM keys.
    pub const SDES: [SrtpProfile; 2] = [
        SrtpProfile::AesCm128HmacSha1_80,
        SrtpProfile::AesCm128HmacSha1_32,
    ];

    /// The suite's name in an `a=crypto` line (RFC 4568 §6.2, RFC 7714
    /// §14.1).
    pub fn sdes_name(self) -> &'static str {
        match self {
            SrtpProfile::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            SrtpProfile::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            SrtpProfile::AeadAes128Gcm => "AEAD_AES_128_GCM",
            SrtpProfile::AeadAes256Gcm => "AEAD_AES_256_GCM",
        }
    }

    /// The suite of [`Self::SDES`] named `name` in an `a=crypto` line.
    pub fn from_sdes_name(name: &str) -> Option<Self> {
        Self::SDES
            .into_iter()
            .find(|p| p.sdes_name().eq_ignore_ascii_case(name))
    }

    /// The DTLS-SRTP protection profile identifier (RFC 5764 §4.1.2, RFC
    /// 7714 §14.2).
    pub fn dtls_id(self) -> u16 {
        match self {
            SrtpProfile::AesCm128HmacSha1_80 => 0x0001,
            SrtpProfile::AesCm128HmacSha1_32 => 0x0002,
            SrtpProfile::AeadAes128Gcm => 0x0007,
            SrtpProfile::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile of a DTLS-SRTP protection profile identifier, if
    /// supported.
    pub fn from_dtls_id(id: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.dtls_id() == id)
    }

    /// Whether this is an AEAD (AES-GCM, RFC 7714) profile.
    pub fn is_aead(self) -> bool {
        matches!(
            self,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm
        )
    }

    /// Length of the master (and session) key.
    pub fn master_key_len(self) -> usize {
        match self {
            SrtpProfile::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Length of the master (and session) salt.
    pub fn master_salt_len(self) -> usize {
        if self.is_aead() { 12 } else { 14 }
    }

    /// Length of the SRTP authentication tag.
    pub fn rtp_tag_len(self) -> usize {
        match self {
            SrtpProfile::AesCm128HmacSha1_80 => 10,
            SrtpProfile::AesCm128HmacSha1_32 => 4,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => 16,
        }
    }

    /// Length of the SRTCP authentication tag.
    pub fn srtcp_tag_len(self) -> usize {
        if self.is_aead() { 16 } else { 10 }
    }
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sdes_name())
    }
}
