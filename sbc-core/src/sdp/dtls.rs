//! DTLS-SRTP attributes: `fingerprint` (RFC 8122 §5) and `setup`
//! (RFC 4145 §4, with RFC 5763 §5's answering rules).

use std::fmt::{self, Write};

/// The hash function of a certificate fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashFunction {
    /// `sha-1`
    Sha1,
    /// `sha-224`
    Sha224,
    /// `sha-256`
    Sha256,
    /// `sha-384`
    Sha384,
    /// `sha-512`
    Sha512,
    /// `md5`
    Md5,
    /// `md2`
    Md2,
    /// Any other token, lower-cased.
    Other(String),
}

impl HashFunction {
    /// Reads a hash-function token (case-insensitive, RFC 8122 §5).
    pub fn from_token(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "sha-1" => HashFunction::Sha1,
            "sha-224" => HashFunction::Sha224,
            "sha-256" => HashFunction::Sha256,
            "sha-384" => HashFunction::Sha384,
            "sha-512" => HashFunction::Sha512,
            "md5" => HashFunction::Md5,
            "md2" => HashFunction::Md2,
            other => HashFunction::Other(other.to_owned()),
        }
    }

    /// The token as printed.
    pub fn as_str(&self) -> &str {
        match self {
            HashFunction::Sha1 => "sha-1",
            HashFunction::Sha224 => "sha-224",
            HashFunction::Sha256 => "sha-256",
            HashFunction::Sha384 => "sha-384",
            HashFunction::Sha512 => "sha-512",
            HashFunction::Md5 => "md5",
            HashFunction::Md2 => "md2",
            HashFunction::Other(s) => s,
        }
    }

    /// The digest length in bytes, for the functions this crate knows.
    pub fn digest_len(&self) -> Option<usize> {
        Some(match self {
            HashFunction::Sha1 => 20,
            HashFunction::Sha224 => 28,
            HashFunction::Sha256 => 32,
            HashFunction::Sha384 => 48,
            HashFunction::Sha512 => 64,
            HashFunction::Md5 | HashFunction::Md2 => 16,
            HashFunction::Other(_) => return None,
        })
    }
}

/// `a=fingerprint:<hash function> <XX:XX:…>`: a certificate fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The hash function.
    pub hash: HashFunction,
    /// The digest.
    pub bytes: Vec<u8>,
}

impl Fingerprint {
    /// Parses a `fingerprint` value: colon-separated hex pairs, either case;
    /// the length must match a known hash function.
    pub fn parse(v: &str) -> Option<Self> {
        let (hash, hex) = v.trim().split_once(' ')?;
        let hash = HashFunction::from_token(hash);
        let bytes = hex
            .trim()
            .split(':')
            .map(|pair| {
                (pair.len() == 2)
                    .then(|| u8::from_str_radix(pair, 16).ok())
                    .flatten()
            })
            .collect::<Option<Vec<u8>>>()?;
        if bytes.is_empty() || hash.digest_len().is_some_and(|n| n != bytes.len()) {
            return None;
        }
        Some(Fingerprint { hash, bytes })
    }
}

impl fmt::Display for Fingerprint {
    /// Upper-case hex pairs, as RFC 8122 §5 recommends.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hash.as_str())?;
        for (i, b) in self.bytes.iter().enumerate() {
            f.write_char(if i == 0 { ' ' } else { ':' })?;
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// `a=setup:`: which end opens the DTLS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// `actpass`: either; offers only.
    ActPass,
    /// `active`: this end connects (DTLS client).
    Active,
    /// `passive`: this end accepts (DTLS server).
    Passive,
    /// `holdconn`: no connection for now.
    HoldConn,
}

impl Setup {
    /// Reads a setup value.
    pub fn parse(v: &str) -> Option<Self> {
        Some(match v.trim() {
            "actpass" => Setup::ActPass,
            "active" => Setup::Active,
            "passive" => Setup::Passive,
            "holdconn" => Setup::HoldConn,
            _ => return None,
        })
    }

    /// The value as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::ActPass => "actpass",
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::HoldConn => "holdconn",
        }
    }

    /// The answer to an offered role (RFC 4145 §4.1): `active` ↔ `passive`,
    /// `holdconn` stays, and `actpass` gets `when_actpass` (which must be
    /// `active` or `passive`; anything else is taken as `passive`).
    pub fn answer(self, when_actpass: Setup) -> Setup {
        match self {
            Setup::ActPass if when_actpass == Setup::Active => Setup::Active,
            Setup::ActPass => Setup::Passive,
            Setup::Active => Setup::Passive,
            Setup::Passive => Setup::Active,
            Setup::HoldConn => Setup::HoldConn,
        }
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
