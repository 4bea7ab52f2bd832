//! The Digest algorithms and the request-digest computation of RFC 7616
//! §3.4.1–3.4.2 (the RFC's `H`, `KD`, `A1` and `A2`), checked against the
//! worked examples of RFC 7616 §3.9.1 and RFC 2617 §3.5.

use std::fmt;

use super::{Ha1, NonceCount, Qop, hex};

/// A Digest `algorithm` (RFC 7616 §3.3, §6.1). Absent means [`Algorithm::Md5`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `MD5`, the RFC 2617 default.
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256` (SHA-512/256).
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
}

/// The hash function behind an algorithm.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HashFn {
    Md5,
    Sha256,
    Sha512_256,
}

impl Algorithm {
    /// Every algorithm this module implements.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Md5,
        Algorithm::Md5Sess,
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
        Algorithm::Sha512_256,
        Algorithm::Sha512_256Sess,
    ];

    /// Looks an algorithm up by its registered name, ignoring ASCII case.
    pub fn parse(name: &str) -> Option<Algorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }

    /// The registered name, as written in headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// Whether this is a `-sess` variant, whose `A1` also covers the nonce and
    /// cnonce.
    pub fn is_session(self) -> bool {
        matches!(
            self,
            Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess
        )
    }

    /// `H(username ":" realm ":" password)`, the value a user store may keep
    /// instead of the password ([`UserSecret::Ha1`](super::UserSecret::Ha1)). The `-sess` variants
    /// share it with their base algorithm.
    pub fn ha1(self, username: &str, realm: &str, password: &str) -> Ha1 {
        Ha1(self.h(&[username, realm, password]))
    }

    fn hash_fn(self) -> HashFn {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => HashFn::Md5,
            Algorithm::Sha256 | Algorithm::Sha256Sess => HashFn::Sha256,
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => HashFn::Sha512_256,
        }
    }

    /// Preference when a peer offers several: bigger is stronger.
    pub(super) fn strength(self) -> u8 {
        match self.hash_fn() {
            HashFn::Md5 => 0,
            HashFn::Sha256 => 1,
            HashFn::Sha512_256 => 2,
        }
    }

    /// Length of this algorithm's hashes in hex.
    pub(super) fn hex_len(self) -> usize {
        match self.hash_fn() {
            HashFn::Md5 => 32,
            HashFn::Sha256 | HashFn::Sha512_256 => 64,
        }
    }

    /// `H(p1 ":" p2 ":" …)` in lowercase hex.
    pub(super) fn h(self, parts: &[&str]) -> String {
        fn run<D: sha2::Digest>(parts: &[&str]) -> String {
            let mut d = D::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    d.update(b":");
                }
                d.update(p.as_bytes());
            }
            hex(&d.finalize())
        }
        match self.hash_fn() {
            HashFn::Md5 => run::<md5::Md5>(parts),
            HashFn::Sha256 => run::<sha2::Sha256>(parts),
            HashFn::Sha512_256 => run::<sha2::Sha512_256>(parts),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `H(A1)` for the request: the stored HA1 itself, or for `-sess` algorithms
/// `H(HA1 ":" nonce ":" cnonce)` (RFC 7616 §3.4.2).
pub(super) fn session_ha1(algorithm: Algorithm, base: &Ha1, nonce: &str, cnonce: &str) -> Ha1 {
    if algorithm.is_session() {
        Ha1(algorithm.h(&[base.as_hex(), nonce, cnonce]))
    } else {
        base.clone()
    }
}

/// `qop`, `nc` and `cnonce` of one request.
#[derive(Clone, Copy)]
pub(super) struct Protection<'a> {
    pub(super) qop: Qop,
    pub(super) nc: NonceCount,
    pub(super) cnonce: &'a str,
}

/// The request-digest of RFC 7616 §3.4.1: `KD(HA1, nonce ":" nc ":" cnonce
/// ":" qop ":" HA2)`, or `KD(HA1, nonce ":" HA2)` without qop (RFC 2069),
/// with `HA2 = H(method ":" uri)`.
pub(super) fn request_digest(
    algorithm: Algorithm,
    ha1: &Ha1,
    nonce: &str,
    protection: Option<Protection<'_>>,
    method: &str,
    uri: &str,
) -> String {
    let ha2 = algorithm.h(&[method, uri]);
    match protection {
        Some(p) => algorithm.h(&[
            ha1.as_hex(),
            nonce,
            &p.nc.to_string(),
            p.cnonce,
            p.qop.as_str(),
            &ha2,
        ]),
        None => algorithm.h(&[ha1.as_hex(), nonce, &ha2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 §3.9.1.
    const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    const RFC7616_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const RFC7616_REALM: &str = "http-auth@example.org";

    fn rfc7616(algorithm: Algorithm) -> String {
        let ha1 = algorithm.ha1("Mufasa", RFC7616_REALM, "Circle of Life");
        let protection = Protection {
            qop: Qop::Auth,
            nc: NonceCount::FIRST,
            cnonce: RFC7616_CNONCE,
        };
        request_digest(
            algorithm,
            &ha1,
            RFC7616_NONCE,
            Some(protection),
            "GET",
            "/dir/index.html",
        )
    }

    #[test]
    fn rfc7616_md5_example() {
        assert_eq!(rfc7616(Algorithm::Md5), "8ca523f5e9506fed4657c9700eebdbec");
    }

    #[test]
    fn rfc7616_sha256_example() {
        assert_eq!(
            rfc7616(Algorithm::Sha256),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn rfc2617_md5_example() {
        let ha1 = Algorithm::Md5.ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        let protection = Protection {
            qop: Qop::Auth,
            nc: NonceCount::FIRST,
            cnonce: "0a4f113b",
        };
        let response = request_digest(
            Algorithm::Md5,
            &ha1,
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            Some(protection),
            "GET",
            "/dir/index.html",
        );
        assert_eq!(response, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn algorithms_by_name_and_length() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::parse(&a.as_str().to_ascii_lowercase()), Some(a));
            assert_eq!(a.ha1("u", "r", "p").as_hex().len(), a.hex_len());
        }
        assert_eq!(Algorithm::parse("SHA-1"), None);
        assert_eq!(
            Algorithm::Sha512_256
                .ha1("Mufasa", RFC7616_REALM, "Circle of Life")
                .as_hex(),
            Algorithm::Sha512_256Sess
                .ha1("Mufasa", RFC7616_REALM, "Circle of Life")
                .as_hex()
        );
    }
}
