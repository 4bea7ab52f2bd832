//! Master keys, the key derivation function (RFC 3711 §4.3, key derivation
//! rate 0) and the AES-CM keystream (§4.1.1) it and the AES-CM transform
//! share, on aws-lc-rs.

use aws_lc_rs::cipher::{AES_128, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

/// Length of an AES-128 master (and session) key.
pub const KEY_LEN: usize = 16;
/// Length of a master (and session) salt.
pub const SALT_LEN: usize = 14;

/// An SRTP master key and salt: the 30 bytes an SDES `inline:` carries.
/// Its `Debug` shows no key material.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    bytes: [u8; KEY_LEN + SALT_LEN],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// Length of key and salt together.
    pub const LEN: usize = KEY_LEN + SALT_LEN;

    /// A key from `key || salt`; `None` unless exactly [`Self::LEN`] bytes.
    pub fn from_bytes(key_salt: &[u8]) -> Option<Self> {
        Some(MasterKey {
            bytes: key_salt.try_into().ok()?,
        })
    }

    /// A fresh key from the caller's RNG.
    pub fn random<R: rand::RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0; Self::LEN];
        rng.fill_bytes(&mut bytes);
        MasterKey { bytes }
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
        STANDARD.encode(self.bytes)
    }

    fn key(&self) -> &[u8] {
        &self.bytes[..KEY_LEN]
    }

    fn salt(&self) -> [u8; SALT_LEN] {
        let mut salt = [0; SALT_LEN];
        salt.copy_from_slice(&self.bytes[KEY_LEN..]);
        salt
    }
}

/// AES-128 in counter mode from `iv`, XORed over `data` in place.
pub(super) fn aes_cm(cipher: &EncryptingKey, iv: [u8; 16], data: &mut [u8]) {
    cipher
        .less_safe_encrypt(data, EncryptionContext::Iv128(FixedLength::from(iv)))
        .expect("AES-CTR takes a 128-bit IV and data of any length");
}

/// An AES-128 key in counter mode.
pub(super) fn aes_128_ctr(key: &[u8]) -> EncryptingKey {
    let key = UnboundCipherKey::new(&AES_128, key).expect("an AES-128 key is 16 bytes");
    EncryptingKey::ctr(key).expect("AES-128 supports counter mode")
}

/// The three labels of one direction (§4.3.2): cipher, auth, salt.
pub(super) const SRTP_LABELS: [u8; 3] = [0, 1, 2];
/// The SRTCP labels.
pub(super) const SRTCP_LABELS: [u8; 3] = [3, 4, 5];

/// The PRF output for `label` (§4.3.1 with KDR 0: `x = label·2^48 XOR
/// master_salt`, keystream from `IV = x·2^16`).
pub(super) fn derive(master: &MasterKey, label: u8, out: &mut [u8]) {
    let mut iv = [0; 16];
    iv[..SALT_LEN].copy_from_slice(&master.salt());
    iv[7] ^= label;
    out.fill(0);
    aes_cm(&aes_128_ctr(master.key()), iv, out);
}
