//! Browser tokens (`hello.token`) when `auth.token_secret` is set: an
//! application backend that knows the secret mints
//! `base64url(payload) "." base64url(HMAC-SHA256(secret, base64url(payload)))`
//! where the payload is JSON `{"sub": "<user>", "exp": <unix seconds>}`.
//! The gateway checks the MAC in constant time and the expiry; it never
//! logs a token.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user the backend vouches for.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not two base64url parts, or the payload is not the JSON expected.
    #[error("malformed token")]
    Malformed,
    /// The MAC does not match.
    #[error("bad signature")]
    Signature,
    /// Past its expiry.
    #[error("expired token")]
    Expired,
}

/// Checks and mints tokens with one secret.
#[derive(Clone)]
pub struct TokenKey {
    key: hmac::Key,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// A key from the configured secret.
    pub fn new(secret: &[u8]) -> Self {
        TokenKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// A token for `claims` (what a backend does; the tests and the
    /// `gateway token` command use it).
    pub fn mint(&self, claims: &Claims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let tag = hmac::sign(&self.key, payload.as_bytes());
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The claims of `token` if its MAC is right and it has not expired at
    /// `now_unix`.
    pub fn verify(&self, token: &str, now_unix: u64) -> Result<Claims, TokenError> {
        let (payload, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        hmac::verify(&self.key, payload.as_bytes(), &tag).map_err(|_| TokenError::Signature)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if claims.exp <= now_unix {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_until_they_expire() {
        let key = TokenKey::new(b"s3cret");
        let claims = Claims {
            sub: "alice".into(),
            exp: 1000,
        };
        let token = key.mint(&claims);
        assert_eq!(key.verify(&token, 999), Ok(claims));
        assert_eq!(key.verify(&token, 1000), Err(TokenError::Expired));
    }

    #[test]
    fn forged_and_malformed_tokens_are_refused() {
        let key = TokenKey::new(b"s3cret");
        let other = TokenKey::new(b"other");
        let claims = Claims {
            sub: "alice".into(),
            exp: 1000,
        };
        assert_eq!(
            key.verify(&other.mint(&claims), 1),
            Err(TokenError::Signature)
        );
        let token = key.mint(&claims);
        let (payload, tag) = token.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"root","exp":99999}"#);
        assert_eq!(
            key.verify(&format!("{forged_payload}.{tag}"), 1),
            Err(TokenError::Signature)
        );
        for bad in ["", "abc", "a.b", &format!("{payload}.!!")] {
            assert!(key.verify(bad, 1).is_err(), "{bad}");
        }
    }
}
