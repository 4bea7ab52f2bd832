//! The identifiers a UAC mints for its requests: Call-ID, tags (RFC 3261
//! §19.3) and Via branches (§8.1.1.7), as validated newtypes drawn from an
//! injected RNG.

use super::RequestError;
use crate::sip::headers::via::BRANCH_COOKIE;
use crate::sip::scan::is_token_str;
use bytes::{BufMut, Bytes, BytesMut};
use rand::{Rng, RngCore};
use std::fmt;

/// Characters random identifiers are drawn from: valid in a token and in a
/// Call-ID `word`, and safe in every header that carries them.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random characters in a Call-ID (about 143 bits).
pub const CALL_ID_RANDOM_LEN: usize = 24;
/// Random characters in a tag (about 71 bits; §19.3 asks for 32).
pub const TAG_RANDOM_LEN: usize = 12;
/// Random characters after the magic cookie in a branch (about 95 bits).
pub const BRANCH_RANDOM_LEN: usize = 16;

fn push_random(out: &mut BytesMut, rng: &mut (impl RngCore + ?Sized), len: usize) {
    for _ in 0..len {
        out.put_u8(ALPHABET[rng.random_range(0..ALPHABET.len())]);
    }
}

fn random_token(rng: &mut (impl RngCore + ?Sized), prefix: &str, len: usize) -> Bytes {
    let mut out = BytesMut::with_capacity(prefix.len() + len);
    out.put_slice(prefix.as_bytes());
    push_random(&mut out, rng, len);
    out.freeze()
}

/// `word` characters of RFC 3261 §25.1, the alphabet of a Call-ID.
fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'!'
                | b'%'
                | b'*'
                | b'_'
                | b'+'
                | b'`'
                | b'\''
                | b'~'
                | b'('
                | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        )
}

fn is_word(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_word_char(b))
}

macro_rules! bytes_newtype_common {
    ($name:ident) => {
        impl $name {
            /// The identifier as it is written on the wire.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// The identifier as shared bytes.
            pub fn to_bytes(&self) -> Bytes {
                self.0.clone()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&String::from_utf8_lossy(&self.0))
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
    };
}

/// A Call-ID (RFC 3261 §8.1.1.4, §20.8): `word [ "@" word ]`, compared
/// byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(Bytes);

bytes_newtype_common!(CallId);

impl CallId {
    /// Accepts any non-empty run of visible ASCII, as the parser does for
    /// a received Call-ID (the `word [ "@" word ]` grammar is only enforced
    /// on the Call-IDs this crate mints).
    pub fn new(value: impl Into<Bytes>) -> Result<CallId, RequestError> {
        let value = value.into();
        if !value.is_empty() && value.iter().all(u8::is_ascii_graphic) {
            Ok(CallId(value))
        } else {
            Err(RequestError::Invalid { field: "Call-ID" })
        }
    }

    /// A fresh Call-ID of [`CALL_ID_RANDOM_LEN`] random characters.
    pub fn random(rng: &mut (impl RngCore + ?Sized)) -> CallId {
        CallId(random_token(rng, "", CALL_ID_RANDOM_LEN))
    }

    /// A fresh Call-ID of the form `<random>@<host>`; `host` must be a
    /// Call-ID `word` (a host name or address fits).
    pub fn random_at(
        rng: &mut (impl RngCore + ?Sized),
        host: &str,
    ) -> Result<CallId, RequestError> {
        if !is_word(host.as_bytes()) {
            return Err(RequestError::Invalid { field: "Call-ID" });
        }
        let mut out = BytesMut::with_capacity(CALL_ID_RANDOM_LEN + 1 + host.len());
        push_random(&mut out, rng, CALL_ID_RANDOM_LEN);
        out.put_u8(b'@');
        out.put_slice(host.as_bytes());
        Ok(CallId(out.freeze()))
    }
}

/// A From or To tag (RFC 3261 §19.3): a token, compared byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(Bytes);

bytes_newtype_common!(Tag);

impl Tag {
    /// Checks that `value` is a token.
    pub fn new(value: impl Into<Bytes>) -> Result<Tag, RequestError> {
        let value = value.into();
        if is_token_str(&value) {
            Ok(Tag(value))
        } else {
            Err(RequestError::Invalid { field: "tag" })
        }
    }

    /// A fresh tag of [`TAG_RANDOM_LEN`] random characters.
    pub fn random(rng: &mut (impl RngCore + ?Sized)) -> Tag {
        Tag(random_token(rng, "", TAG_RANDOM_LEN))
    }
}

/// A Via branch (RFC 3261 §8.1.1.7): a token, which this crate always mints
/// with the `z9hG4bK` magic cookie.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Branch(Bytes);

bytes_newtype_common!(Branch);

impl Branch {
    /// Checks that `value` is a token (any branch, RFC 2543 ones included).
    pub fn new(value: impl Into<Bytes>) -> Result<Branch, RequestError> {
        let value = value.into();
        if is_token_str(&value) {
            Ok(Branch(value))
        } else {
            Err(RequestError::Invalid { field: "branch" })
        }
    }

    /// A fresh branch: the magic cookie and [`BRANCH_RANDOM_LEN`] random
    /// characters.
    pub fn random(rng: &mut (impl RngCore + ?Sized)) -> Branch {
        Branch(random_token(rng, BRANCH_COOKIE, BRANCH_RANDOM_LEN))
    }

    /// True when the branch starts with the RFC 3261 magic cookie and has
    /// something after it, so that it alone identifies a transaction.
    pub fn is_rfc3261(&self) -> bool {
        self.0.len() > BRANCH_COOKIE.len() && self.0.starts_with(BRANCH_COOKIE.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn random_ids_have_the_promised_shape() {
        let mut rng = StdRng::seed_from_u64(1);
        let call_id = CallId::random(&mut rng);
        assert_eq!(call_id.as_bytes().len(), CALL_ID_RANDOM_LEN);
        assert!(CallId::new(call_id.to_bytes()).is_ok());
        let at = CallId::random_at(&mut rng, "gw.example.net").unwrap();
        assert!(at.to_string().ends_with("@gw.example.net"));
        assert_eq!(Tag::random(&mut rng).as_bytes().len(), TAG_RANDOM_LEN);
        let branch = Branch::random(&mut rng);
        assert!(branch.as_bytes().starts_with(b"z9hG4bK"));
        assert_ne!(Branch::random(&mut rng), branch);
    }

    #[test]
    fn validation() {
        assert!(CallId::new("a84b4c76e66710@pc33.atlanta.com").is_ok());
        assert!(CallId::new("a\r\nb").is_err());
        assert!(CallId::new("has space").is_err());
        assert!(CallId::new("").is_err());
        assert!(CallId::random_at(&mut StdRng::seed_from_u64(0), "bad host").is_err());
        assert!(Tag::new("1928301774").is_ok());
        assert!(Tag::new("a;b").is_err());
        assert!(Branch::new("z9hG4bK776asdhds").is_ok());
        assert!(Branch::new("").is_err());
        assert!(Branch::random(&mut StdRng::seed_from_u64(7)).is_rfc3261());
        assert!(!Branch::new("z9hG4bK").unwrap().is_rfc3261());
        assert!(!Branch::new("390skdjuw").unwrap().is_rfc3261());
    }
}
