//! The SRTP master keys a DTLS-SRTP handshake yields (RFC 5764 §4.2): the
//! exporter's output ("EXTRACTOR-dtls_srtp", 2 × (key + salt) bytes) split
//! into the client's and the server's master key and salt for the
//! negotiated protection profile, then into ours (to protect what we send)
//! and the peer's (to unprotect what we receive) by our DTLS role.
//!
//! [`SrtpKeys`] can only be made by [`super::DtlsEndpoint`], after the
//! peer's certificate matched its SDP fingerprint: holding one is the proof
//! that media keyed with it is the authenticated peer's.

use std::fmt;

use crate::media::srtp::{MasterKey, SrtpContext, SrtpProfile};

use super::dtls::DtlsRole;

/// The DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2),
/// in the gateway's order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DtlsSrtpProfile {
    /// `SRTP_AEAD_AES_256_GCM` (0x0008).
    AeadAes256Gcm,
    /// `SRTP_AEAD_AES_128_GCM` (0x0007).
    AeadAes128Gcm,
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (0x0001).
    Aes128CmHmacSha1_80,
}

impl DtlsSrtpProfile {
    /// Every profile, most preferred first. dimpl offers them in this order
    /// as a client and picks by it as a DTLS 1.2 server.
    pub const PREFERENCE: [Self; 3] = [
        Self::AeadAes256Gcm,
        Self::AeadAes128Gcm,
        Self::Aes128CmHmacSha1_80,
    ];

    /// The profile's IANA identifier in the `use_srtp` extension.
    pub fn id(self) -> u16 {
        match self {
            Self::AeadAes256Gcm => 0x0008,
            Self::AeadAes128Gcm => 0x0007,
            Self::Aes128CmHmacSha1_80 => 0x0001,
        }
    }

    /// The profile's registered name.
    pub fn name(self) -> &'static str {
        match self {
            Self::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
            Self::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            Self::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
        }
    }

    /// The SRTP profile of [`crate::media::srtp`] this one is.
    pub fn srtp_profile(self) -> SrtpProfile {
        match self {
            Self::AeadAes256Gcm => SrtpProfile::AeadAes256Gcm,
            Self::AeadAes128Gcm => SrtpProfile::AeadAes128Gcm,
            Self::Aes128CmHmacSha1_80 => SrtpProfile::AesCm128HmacSha1_80,
        }
    }

    /// The master key length in bytes.
    pub fn master_key_len(self) -> usize {
        match self {
            Self::AeadAes256Gcm => 32,
            Self::AeadAes128Gcm | Self::Aes128CmHmacSha1_80 => 16,
        }
    }

    /// The master salt length in bytes (RFC 7714 §12: 96 bits for GCM).
    pub fn master_salt_len(self) -> usize {
        match self {
            Self::AeadAes256Gcm | Self::AeadAes128Gcm => 12,
            Self::Aes128CmHmacSha1_80 => 14,
        }
    }

    /// The length of the keying material exported for it: both sides' keys
    /// and salts.
    pub fn keying_material_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }

    pub(crate) fn from_dimpl(p: dimpl::SrtpProfile) -> Option<Self> {
        Some(match p {
            dimpl::SrtpProfile::AEAD_AES_256_GCM => Self::AeadAes256Gcm,
            dimpl::SrtpProfile::AEAD_AES_128_GCM => Self::AeadAes128Gcm,
            dimpl::SrtpProfile::AES128_CM_SHA1_80 => Self::Aes128CmHmacSha1_80,
            _ => return None,
        })
    }
}

impl fmt::Display for DtlsSrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The longest key and salt: AES-256 and a 96-bit salt.
const MAX_KEY_SALT: usize = 32 + 12;

/// One side's SRTP master key and salt. `Debug` shows no key material; the
/// bytes are overwritten when it is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpMasterKey {
    bytes: [u8; MAX_KEY_SALT],
    key_len: usize,
    salt_len: usize,
}

impl SrtpMasterKey {
    fn new(key: &[u8], salt: &[u8]) -> Self {
        let mut bytes = [0; MAX_KEY_SALT];
        bytes[..key.len()].copy_from_slice(key);
        bytes[key.len()..key.len() + salt.len()].copy_from_slice(salt);
        Self {
            bytes,
            key_len: key.len(),
            salt_len: salt.len(),
        }
    }

    /// The master key.
    pub fn key(&self) -> &[u8] {
        &self.bytes[..self.key_len]
    }

    /// The master salt.
    pub fn salt(&self) -> &[u8] {
        &self.bytes[self.key_len..self.key_len + self.salt_len]
    }

    /// Key and salt together, as SDES carries them (`key || salt`).
    pub fn key_and_salt(&self) -> &[u8] {
        &self.bytes[..self.key_len + self.salt_len]
    }
}

impl Drop for SrtpMasterKey {
    fn drop(&mut self) {
        self.bytes.fill(0);
        // Keep the overwrite from being optimised away as a dead store.
        std::hint::black_box(&self.bytes);
    }
}

impl fmt::Debug for SrtpMasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SrtpMasterKey({} + {} bytes)",
            self.key_len, self.salt_len
        )
    }
}

/// The SRTP keys of one DTLS-SRTP association, by direction: only a
/// [`super::DtlsEndpoint`] whose peer matched its SDP fingerprint makes
/// them.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    profile: DtlsSrtpProfile,
    local: SrtpMasterKey,
    remote: SrtpMasterKey,
}

impl fmt::Debug for SrtpKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpKeys")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl SrtpKeys {
    /// Splits the exported `material` (RFC 5764 §4.2: client key, server
    /// key, client salt, server salt) for `profile`; ours are the client's
    /// when we are the DTLS client. `None` if the length is not the
    /// profile's.
    pub(super) fn split(material: &[u8], profile: DtlsSrtpProfile, role: DtlsRole) -> Option<Self> {
        if material.len() != profile.keying_material_len() {
            return None;
        }
        let (k, s) = (profile.master_key_len(), profile.master_salt_len());
        let client = SrtpMasterKey::new(&material[..k], &material[2 * k..2 * k + s]);
        let server = SrtpMasterKey::new(&material[k..2 * k], &material[2 * k + s..]);
        let (local, remote) = match role {
            DtlsRole::Client => (client, server),
            DtlsRole::Server => (server, client),
        };
        Some(Self {
            profile,
            local,
            remote,
        })
    }

    /// The negotiated profile.
    pub fn profile(&self) -> DtlsSrtpProfile {
        self.profile
    }

    /// Our master key and salt: they protect what we send.
    pub fn local(&self) -> &SrtpMasterKey {
        &self.local
    }

    /// The peer's master key and salt: they unprotect what we receive.
    pub fn remote(&self) -> &SrtpMasterKey {
        &self.remote
    }

    /// The two contexts of [`crate::media::srtp`] for the negotiated
    /// profile: (protecting what we send, unprotecting what we receive).
    pub fn contexts(&self) -> (SrtpContext, SrtpContext) {
        let profile = self.profile.srtp_profile();
        let key = |k: &SrtpMasterKey| {
            // split() cut both keys to this profile's lengths.
            MasterKey::from_parts(profile, k.key(), k.salt())
                .expect("a DTLS-SRTP key has its profile's lengths")
        };
        (
            SrtpContext::new(profile, &key(&self.local)),
            SrtpContext::new(profile, &key(&self.remote)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Material whose every byte names its place: 0x10.. client key, 0x40..
    /// server key, 0x80.. client salt, 0xc0.. server salt.
    fn material(p: DtlsSrtpProfile) -> Vec<u8> {
        let (k, s) = (p.master_key_len() as u8, p.master_salt_len() as u8);
        let mut m = Vec::new();
        m.extend(0x10..0x10 + k);
        m.extend(0x40..0x40 + k);
        m.extend(0x80..0x80 + s);
        m.extend(0xc0..0xc0 + s);
        m
    }

    #[test]
    fn rfc5764_layout_split_by_role() {
        for p in DtlsSrtpProfile::PREFERENCE {
            let m = material(p);
            assert_eq!(m.len(), p.keying_material_len());
            let server = SrtpKeys::split(&m, p, DtlsRole::Server).unwrap();
            let client = SrtpKeys::split(&m, p, DtlsRole::Client).unwrap();
            assert_eq!(server.local().key()[0], 0x40, "{p}");
            assert_eq!(server.local().salt()[0], 0xc0, "{p}");
            assert_eq!(server.remote().key()[0], 0x10, "{p}");
            assert_eq!(server.remote().salt()[0], 0x80, "{p}");
            assert_eq!(server.local(), client.remote());
            assert_eq!(server.remote(), client.local());
            assert_eq!(server.local().key().len(), p.master_key_len());
            assert_eq!(server.local().salt().len(), p.master_salt_len());
            assert!(SrtpKeys::split(&m[1..], p, DtlsRole::Server).is_none());
            assert_eq!(
                format!("{:?}", server.local()),
                format!(
                    "SrtpMasterKey({} + {} bytes)",
                    p.master_key_len(),
                    p.master_salt_len()
                )
            );
        }
        assert_eq!(DtlsSrtpProfile::AeadAes256Gcm.keying_material_len(), 88);
        assert_eq!(DtlsSrtpProfile::AeadAes128Gcm.keying_material_len(), 56);
        assert_eq!(
            DtlsSrtpProfile::Aes128CmHmacSha1_80.keying_material_len(),
            60
        );
    }

    /// The keys of the two roles, of every profile, feed the SRTP module:
    /// what one side protects, the other unprotects, both ways.
    #[test]
    fn every_profiles_keys_work_with_the_srtp_module() {
        for p in DtlsSrtpProfile::PREFERENCE {
            keys_work_with_the_srtp_module(p);
        }
    }

    fn keys_work_with_the_srtp_module(p: DtlsSrtpProfile) {
        let m = material(p);
        let server = SrtpKeys::split(&m, p, DtlsRole::Server).unwrap();
        let client = SrtpKeys::split(&m, p, DtlsRole::Client).unwrap();
        let (mut s_out, mut s_in) = server.contexts();
        let (mut c_out, mut c_in) = client.contexts();
        let rtp = |seq: u8| {
            let mut p = vec![0x80, 111, 0, seq, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef];
            p.extend(b"opus payload");
            p
        };
        for (out, inp) in [(&mut s_out, &mut c_in), (&mut c_out, &mut s_in)] {
            let mut packet = rtp(1);
            out.protect_rtp(&mut packet).unwrap();
            assert_ne!(&packet[12..24], b"opus payload");
            let n = inp.unprotect_rtp(&mut packet).unwrap();
            assert_eq!(&packet[..n], &rtp(1)[..]);
        }
        // The same direction's keys do not open each other's packets.
        let mut packet = rtp(2);
        s_out.protect_rtp(&mut packet).unwrap();
        assert!(s_in.unprotect_rtp(&mut packet).is_err());
    }
}
