//! Digest access authentication for SIP: RFC 7616 as RFC 8760 applies it to
//! SIP, with RFC 3261 §22.4 (and RFC 2069, no `qop`) for older peers.
//!
//! This module owns the Digest algorithms and their hashing (the RFC's `H`,
//! `KD`, `A1` and `A2`), typed views of a Digest challenge and of Digest
//! credentials, the client that answers challenges ([`DigestClient`]) and the
//! server that issues and checks them ([`DigestServer`]). Both halves are
//! sans-IO: time comes in as a [`Duration`](std::time::Duration) since the Unix
//! epoch, randomness from an injected [`rand::RngCore`], and header values go
//! in and out as bytes and strings.
//!
//! Only `qop=auth` is implemented; `auth-int` (which hashes the body) is not,
//! and a challenge offering nothing else is refused with
//! [`DigestError::UnsupportedQop`].

mod algorithm;
mod client;
mod server;
mod view;

use std::fmt;

use super::auth_header::AuthHeaderError;
use super::header_name::HeaderName;

pub use algorithm::Algorithm;
pub use client::DigestClient;
pub use server::{
    AuthenticatedUser, DigestServer, DigestServerConfig, MalformedCredentials, RejectAction,
    Rejection,
};
pub use view::{DigestChallenge, DigestCredentials};

use algorithm::{Protection, request_digest, session_ha1};

/// A quality of protection (RFC 7616 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: the request line is authenticated.
    Auth,
    /// `auth-int`: the body too. Recognised, never computed.
    AuthInt,
}

impl Qop {
    /// Parses a qop token, ignoring ASCII case.
    pub fn parse(s: &str) -> Option<Qop> {
        if s.eq_ignore_ascii_case("auth") {
            Some(Qop::Auth)
        } else if s.eq_ignore_ascii_case("auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }

    /// The token as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

/// The `nc` parameter: how many requests the client has sent with one nonce,
/// counting from 1, written as 8 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NonceCount(u32);

impl NonceCount {
    /// The count of the first request sent with a nonce.
    pub const FIRST: NonceCount = NonceCount(1);

    /// A count; `None` for 0, which no request carries.
    pub fn new(n: u32) -> Option<NonceCount> {
        (n != 0).then_some(NonceCount(n))
    }

    /// The count as a number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// Parses exactly 8 hex digits (either case); `None` for anything else
    /// or for zero.
    pub fn parse(s: &str) -> Option<NonceCount> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok().and_then(NonceCount::new)
    }

    /// The count of the next request, `None` once the counter is exhausted.
    pub fn next(self) -> Option<NonceCount> {
        self.0.checked_add(1).map(NonceCount)
    }
}

impl fmt::Display for NonceCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// A password. Its `Debug` output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(s: String) -> Password {
        Password(s)
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Password {
        Password(s.into())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// `H(A1)` in lowercase hex: as good as the password for this realm and hash
/// function, so its `Debug` output never shows it either.
#[derive(Clone, PartialEq, Eq)]
pub struct Ha1(String);

impl Ha1 {
    /// Takes a stored HA1 (hex, either case), computed with the hash function
    /// of the algorithm it will be used with; `None` if it is not hex.
    pub fn from_hex(hex: &str) -> Option<Ha1> {
        (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Ha1(hex.to_ascii_lowercase()))
    }

    /// The hex digits.
    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Ha1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ha1(<redacted>)")
    }
}

/// What a user store hands the server to check one user's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSecret {
    /// The clear-text password.
    Password(Password),
    /// A precomputed [`Algorithm::ha1`] for the algorithm being checked.
    Ha1(Ha1),
}

/// A header to add to a message: a challenge or credentials, named for the
/// role it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader {
    /// `WWW-Authenticate`, `Proxy-Authenticate`, `Authorization` or
    /// `Proxy-Authorization`.
    pub name: HeaderName,
    /// The header value.
    pub value: String,
}

/// Why the client could not answer, or the server could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The response carries no Digest challenge at all.
    #[error("no Digest challenge offered")]
    NoDigestChallenge,
    /// A Digest challenge without a mandatory parameter. The challenger's
    /// fault.
    #[error("Digest challenge lacks {param}")]
    MissingParam {
        /// `realm` or `nonce`.
        param: &'static str,
    },
    /// Every Digest challenge names an algorithm this module lacks.
    #[error("unsupported Digest algorithm {algorithm:?}")]
    UnsupportedAlgorithm {
        /// The algorithm as offered.
        algorithm: String,
    },
    /// Every Digest challenge asks for a qop other than `auth` (typically
    /// `auth-int` alone).
    #[error("challenge offers only qop={offered:?}; auth-int is not supported")]
    UnsupportedQop {
        /// The qop list as offered.
        offered: String,
    },
    /// A `-sess` algorithm offered without qop, which leaves no cnonce to
    /// bind the session to.
    #[error("{algorithm} needs qop, which the challenge does not offer")]
    SessionWithoutQop {
        /// The algorithm offered.
        algorithm: Algorithm,
    },
    /// Our own input (username, request-URI, realm) cannot be written in a
    /// header, e.g. because it holds CR or LF.
    #[error("cannot write the header: {0}")]
    Header(#[from] AuthHeaderError),
    /// Server configuration: no algorithm to offer.
    #[error("no Digest algorithm configured")]
    NoAlgorithms,
    /// Server configuration: a nonce secret shorter than 16 bytes.
    #[error("nonce secret of {len} bytes is shorter than 16")]
    WeakSecret {
        /// The secret's length.
        len: usize,
    },
    /// Server configuration: the replay window must track at least one nonce.
    #[error("max_tracked_nonces must be at least 1")]
    NoNonceTracking,
}

/// Compares two hex digests, ignoring ASCII case, in time that depends only
/// on their lengths.
fn digest_eq(a: &str, b: &str) -> bool {
    bytes_eq(a.as_bytes(), b.as_bytes(), u8::to_ascii_lowercase)
}

/// Constant-time comparison of equal-length byte strings after mapping each
/// byte through `f`.
fn bytes_eq(a: &[u8], b: &[u8], f: impl Fn(&u8) -> u8) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (f(x) ^ f(y)));
    std::hint::black_box(diff) == 0
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Decodes exactly `2 * N` hex digits (either case).
fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let nibble = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *o = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_counts() {
        assert_eq!(NonceCount::parse("0000000A").map(NonceCount::get), Some(10));
        assert_eq!(NonceCount::parse("00000000"), None);
        assert_eq!(NonceCount::parse("+0000001"), None);
        assert_eq!(NonceCount::parse("1"), None);
        assert_eq!(
            NonceCount::FIRST.next().map(|n| n.to_string()).as_deref(),
            Some("00000002")
        );
        assert_eq!(NonceCount(u32::MAX).next(), None);
    }

    #[test]
    fn helpers() {
        assert!(digest_eq("abcDEF01", "ABCdef01"));
        assert!(!digest_eq("abc", "abd"));
        assert!(!digest_eq("abc", "abcd"));
        assert_eq!(hex(&[0x00, 0x7f, 0xff]), "007fff");
        assert_eq!(unhex::<3>("007FfF"), Some([0x00, 0x7f, 0xff]));
        assert_eq!(unhex::<2>("007fff"), None);
        assert_eq!(unhex::<1>("0g"), None);
        assert_eq!(unhex::<1>("é"), None);
        assert_eq!(
            Ha1::from_hex("AB")
                .map(|h| h.as_hex().to_owned())
                .as_deref(),
            Some("ab")
        );
        assert_eq!(Ha1::from_hex("xy"), None);
        assert_eq!(
            format!("{:?}", Password::new("hunter2")),
            "Password(<redacted>)"
        );
    }
}
