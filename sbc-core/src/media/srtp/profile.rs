//! The SRTP protection profiles (crypto suites) a [`SrtpContext`] speaks,
//! with their names and lengths.
//!
//! [`SrtpContext`]: super::SrtpContext

use std::fmt;

/// The SDES crypto suites the gateway speaks (RFC 4568 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    /// `AES_CM_128_HMAC_SHA1_80`: 80-bit tags on SRTP and SRTCP.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`: 32-bit tags on SRTP, 80-bit on SRTCP.
    AesCm128HmacSha1_32,
}

impl SrtpProfile {
    /// All suites, in the gateway's order of preference.
    pub const ALL: [SrtpProfile; 2] = [
        SrtpProfile::AesCm128HmacSha1_80,
        SrtpProfile::AesCm128HmacSha1_32,
    ];

    /// The suite's name in an `a=crypto` line.
    pub fn sdes_name(self) -> &'static str {
        match self {
            SrtpProfile::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            SrtpProfile::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    /// The suite named `name` in an `a=crypto` line, if supported.
    pub fn from_sdes_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.sdes_name().eq_ignore_ascii_case(name))
    }

    /// Length of the SRTP authentication tag.
    pub fn rtp_tag_len(self) -> usize {
        match self {
            SrtpProfile::AesCm128HmacSha1_80 => 10,
            SrtpProfile::AesCm128HmacSha1_32 => 4,
        }
    }
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sdes_name())
    }
}
