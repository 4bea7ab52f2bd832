//! Certificate fingerprints (RFC 8122 §5, RFC 5763 §5): ours for the SDP,
//! and the check of the peer's certificate against the `a=fingerprint` of
//! its SDP, the one thing that authenticates a WebRTC peer (RFC 8827 §6.5).
//!
//! The SDP type is [`crate::sdp::Fingerprint`]; this module hashes DER with
//! aws-lc-rs. SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512 are supported
//! (browsers write SHA-256); MD5, MD2 and unknown functions are refused when
//! the endpoint is made, not at handshake time.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest;

use crate::sdp::{Fingerprint, HashFunction};

fn algorithm(hash: &HashFunction) -> Option<&'static digest::Algorithm> {
    Some(match hash {
        HashFunction::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        HashFunction::Sha224 => &digest::SHA224,
        HashFunction::Sha256 => &digest::SHA256,
        HashFunction::Sha384 => &digest::SHA384,
        HashFunction::Sha512 => &digest::SHA512,
        HashFunction::Md5 | HashFunction::Md2 | HashFunction::Other(_) => return None,
    })
}

/// Whether fingerprints with `hash` can be checked.
pub fn supported(hash: &HashFunction) -> bool {
    algorithm(hash).is_some()
}

/// The SHA-256 fingerprint of a DER certificate, as our SDP states it.
pub fn sha256_of(der: &[u8]) -> Fingerprint {
    Fingerprint {
        hash: HashFunction::Sha256,
        bytes: digest::digest(&digest::SHA256, der).as_ref().to_vec(),
    }
}

/// Whether the DER certificate `der` hashes to `expected` with
/// `expected`'s function (compared in constant time). `false` for a
/// function this module does not support.
pub fn matches(expected: &Fingerprint, der: &[u8]) -> bool {
    let Some(alg) = algorithm(&expected.hash) else {
        return false;
    };
    let actual = digest::digest(alg, der);
    verify_slices_are_equal(actual.as_ref(), &expected.bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_and_others_match_only_their_digest() {
        let der = b"not really a certificate";
        let fp = sha256_of(der);
        assert_eq!(fp.bytes.len(), 32);
        assert!(matches(&fp, der));
        assert!(!matches(&fp, b"another one"));
        let printed = fp.to_string();
        let parsed = Fingerprint::parse(&printed).unwrap();
        assert!(matches(&parsed, der));
        let sha1 = Fingerprint {
            hash: HashFunction::Sha1,
            bytes: digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der)
                .as_ref()
                .to_vec(),
        };
        assert!(matches(&sha1, der));
        let md5 = Fingerprint {
            hash: HashFunction::Md5,
            bytes: vec![0; 16],
        };
        assert!(!supported(&md5.hash));
        assert!(!matches(&md5, der));
        // A digest of the wrong length never matches.
        let short = Fingerprint {
            hash: HashFunction::Sha256,
            bytes: fp.bytes[..31].to_vec(),
        };
        assert!(!matches(&short, der));
    }
}
