//! Master keys, the key derivation function (RFC 3711 §4.3, key derivation
//! rate 0) and the AES-CM keystream (§4.1.1) it and the AES-CM transform
//! share, on aws-lc-rs.

use super::SrtpProfile;
use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

/// Length of an AES-128 master (and session) key.
pub const KEY_LEN: usize = 16;
/// Length of an AES-CM master (and session) salt (RFC 3711).
pub const SALT_LEN: usize = 14;
/// Length of an AES-256 master (and session) key.
pub(super) const AES_256_KEY_LEN: usize = 32;

/// An SRTP master key and salt, of a length some [`SrtpProfile`] takes: for
/// the AES-CM suites the 30 bytes an SDES `inline:` carries, for the AEAD
/// ones a 16- or 32-byte key and a 12-byte salt. Its `Debug` shows no key
/// material.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    /// `key || salt`, zeros after them.
    bytes: [u8; AES_256_KEY_LEN + SALT_LEN],
    /// 16 or 32.
    key_len: u8,
    /// 12 or 14.
    salt_len: u8,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// Length of an AES-CM suite's key and salt together.
    pub const LEN: usize = KEY_LEN + SALT_LEN;

    /// A key from `key || salt` of an AES-CM suite; `None` unless exactly
    /// [`Self::LEN`] bytes.
    pub fn from_bytes(key_salt: &[u8]) -> Option<Self> {
        if key_salt.len() != Self::LEN {
            return None;
        }
        let (key, salt) = key_salt.split_at(KEY_LEN);
        Self::from_key_and_salt(key, salt)
    }

    /// A key of `profile` from its parts, as DTLS-SRTP exports them (RFC
    /// 5764 §4.2); `None` unless their lengths are `profile`'s.
    pub fn from_parts(profile: SrtpProfile, key: &[u8], salt: &[u8]) -> Option<Self> {
        if key.len() != profile.master_key_len() || salt.len() != profile.master_salt_len() {
            return None;
        }
        Self::from_key_and_salt(key, salt)
    }

    /// A key of an AES (128 or 256) key and a 12- or 14-byte salt; `None`
    /// for other lengths.
    pub(super) fn from_key_and_salt(key: &[u8], salt: &[u8]) -> Option<Self> {
        if !matches!(key.len(), KEY_LEN | AES_256_KEY_LEN) || !matches!(salt.len(), 12 | SALT_LEN) {
            return None;
        }
        let mut bytes = [0; AES_256_KEY_LEN + SALT_LEN];
        bytes[..key.len()].copy_from_slice(key);
        bytes[key.len()..key.len() + salt.len()].copy_from_slice(salt);
        // Both lengths were just checked: 16 or 32, 12 or 14.
        Some(MasterKey {
            bytes,
            key_len: key.len() as u8,
            salt_len: salt.len() as u8,
        })
    }

    /// A fresh AES-CM key from the caller's RNG.
    pub fn random<R: rand::RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0; Self::LEN];
        rng.fill_bytes(&mut bytes);
        Self::from_bytes(&bytes).expect("LEN bytes make an AES-CM key")
    }

    /// A fresh key of `profile` from the caller's RNG.
    pub fn random_for<R: rand::RngCore + ?Sized>(profile: SrtpProfile, rng: &mut R) -> Self {
        let mut key = [0; AES_256_KEY_LEN];
        let mut salt = [0; SALT_LEN];
        let key = &mut key[..profile.master_key_len()];
        let salt = &mut salt[..profile.master_salt_len()];
        rng.fill_bytes(key);
        rng.fill_bytes(salt);
        Self::from_parts(profile, key, salt).expect("the profile's own lengths")
    }

    /// Whether this is a key of `profile`: its key and salt have the
    /// lengths `profile` takes.
    pub fn fits(&self, profile: SrtpProfile) -> bool {
        self.key().len() == profile.master_key_len()
            && self.salt().len() == profile.master_salt_len()
    }

    /// A key from the base64 `key||salt` of an SDES `inline:` (RFC 4568
    /// §6.1); `None` unless it decodes to exactly [`Self::LEN`] bytes.
    pub fn from_base64(text: &str) -> Option<Self> {
        let mut out = [0; Self::LEN + 3];
        let n = STANDARD.decode_slice(text, &mut out).ok()?;
        Self::from_bytes(&out[..n])
    }

    /// The base64 `key||salt` for an SDES `inline:`.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.bytes[..self.key().len() + self.salt().len()])
    }

    /// The AES key: 16 or 32 bytes.
    pub(super) fn key(&self) -> &[u8] {
        &self.bytes[..usize::from(self.key_len)]
    }

    /// The salt: 14 bytes (RFC 3711) or 12 (RFC 7714).
    pub(super) fn salt(&self) -> &[u8] {
        let key_len = usize::from(self.key_len);
        &self.bytes[key_len..key_len + usize::from(self.salt_len)]
    }
}

/// AES in counter mode from `iv`, XORed over `data` in place.
pub(super) fn aes_cm(cipher: &EncryptingKey, iv: [u8; 16], data: &mut [u8]) {
    cipher
        .less_safe_encrypt(data, EncryptionContext::Iv128(FixedLength::from(iv)))
        .expect("AES-CTR takes a 128-bit IV and data of any length");
}

/// An AES-128 or AES-256 key, by its length, in counter mode.
pub(super) fn aes_ctr(key: &[u8]) -> EncryptingKey {
    let algorithm = if key.len() == AES_256_KEY_LEN {
        &AES_256
    } else {
        &AES_128
    };
    let key = UnboundCipherKey::new(algorithm, key)
        .expect("master and session keys are 16 (AES-128) or 32 (AES-256) bytes");
    EncryptingKey::ctr(key).expect("AES supports counter mode")
}

/// The three labels of one direction (§4.3.2): cipher, auth, salt.
pub(super) const SRTP_LABELS: [u8; 3] = [0, 1, 2];
/// The SRTCP labels.
pub(super) const SRTCP_LABELS: [u8; 3] = [3, 4, 5];

/// The PRF output for `label` (§4.3.1 with KDR 0: `x = label·2^48 XOR
/// master_salt`, keystream from `IV = x·2^16`), under the master key's AES:
/// AES-128, or AES-256 for a 32-byte key (RFC 6188 §3, RFC 7714 §11). A
/// 12-byte salt (RFC 7714) fills the first 12 of `x`'s 14 bytes and the
/// last two stay zero, as in libsrtp; its `srtp_validate_gcm` packets pin
/// that.
pub(super) fn derive(master: &MasterKey, label: u8, out: &mut [u8]) {
    let mut iv = [0; 16];
    let salt = master.salt();
    iv[..salt.len()].copy_from_slice(salt);
    iv[7] ^= label;
    out.fill(0);
    aes_cm(&aes_ctr(master.key()), iv, out);
}
