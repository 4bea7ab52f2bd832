//! SDES keys: the `crypto` attribute of RFC 4568 §9.1, for SRTP toward a PBX
//! that does not speak DTLS. Key material stays base64 text here; the media
//! layer decodes it.

use super::parse::number;
use std::fmt;

/// `a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypto {
    /// The tag that names this line in the answer (1..=999999999).
    pub tag: u32,
    /// `AES_CM_128_HMAC_SHA1_80`, `AEAD_AES_128_GCM`…
    pub suite: String,
    /// The key parameters, in order (at least one).
    pub keys: Vec<KeyParam>,
    /// Session parameters (`UNENCRYPTED_SRTCP`, `KDR=…`), verbatim.
    pub session_params: Vec<String>,
}

/// One `<key-method>:<key-info>` of a crypto line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyParam {
    /// `inline:<key||salt base64>[|<lifetime>][|<MKI>:<length>]`
    Inline {
        /// The concatenated master key and salt, base64.
        key_salt: String,
        /// The key lifetime as written (`2^31`, `1048576`).
        lifetime: Option<String>,
        /// The MKI value and its length in bytes.
        mki: Option<(u64, u8)>,
    },
    /// Another key method, verbatim (method, info).
    Other(String, String),
}

impl Crypto {
    /// Parses a `crypto` value.
    pub fn parse(v: &str) -> Option<Self> {
        let mut it = v.split_ascii_whitespace();
        let tag = number(it.next()?).filter(|t| (1..=999_999_999).contains(t))?;
        let suite = it.next()?.to_owned();
        let keys = it
            .next()?
            .split(';')
            .map(KeyParam::parse)
            .collect::<Option<Vec<_>>>()?;
        Some(Crypto {
            tag,
            suite,
            keys,
            session_params: it.map(str::to_owned).collect(),
        })
    }
}

impl KeyParam {
    fn parse(p: &str) -> Option<Self> {
        let (method, info) = p.split_once(':')?;
        if !method.eq_ignore_ascii_case("inline") {
            return Some(KeyParam::Other(method.into(), info.into()));
        }
        let mut parts = info.split('|');
        let key_salt = parts.next().filter(|k| !k.is_empty())?.to_owned();
        let mut lifetime = None;
        let mut mki = None;
        for part in parts {
            match part.split_once(':') {
                Some((value, len)) if mki.is_none() => {
                    mki = Some((
                        number(value)?,
                        number(len).filter(|l| (1..=128).contains(l))?,
                    ))
                }
                None if lifetime.is_none() && mki.is_none() && !part.is_empty() => {
                    lifetime = Some(part.to_owned())
                }
                _ => return None,
            }
        }
        Some(KeyParam::Inline {
            key_salt,
            lifetime,
            mki,
        })
    }
}

impl fmt::Display for KeyParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyParam::Inline {
                key_salt,
                lifetime,
                mki,
            } => {
                write!(f, "inline:{key_salt}")?;
                if let Some(l) = lifetime {
                    write!(f, "|{l}")?;
                }
                match mki {
                    Some((v, len)) => write!(f, "|{v}:{len}"),
                    None => Ok(()),
                }
            }
            KeyParam::Other(m, i) => write!(f, "{m}:{i}"),
        }
    }
}

impl fmt::Display for Crypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.tag, self.suite)?;
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{k}")?;
        }
        self.session_params
            .iter()
            .try_for_each(|p| write!(f, " {p}"))
    }
}
