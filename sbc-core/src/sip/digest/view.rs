//! Typed views of a Digest challenge (RFC 7616 §3.3) and of Digest
//! credentials (RFC 7616 §3.4, RFC 3261 §25.1 `digest-response`), read from
//! the generic [`Challenge`] and [`Credentials`].

use std::borrow::Cow;

use super::{Algorithm, DigestError, MalformedCredentials, NonceCount, Qop, Rejection};
use crate::sip::auth_header::{Challenge, Credentials};

/// A Digest challenge, its parameters unquoted (RFC 7616 §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChallenge<'a> {
    realm: Cow<'a, str>,
    nonce: Cow<'a, str>,
    opaque: Option<Cow<'a, str>>,
    algorithm: Algorithm,
    algorithm_given: bool,
    qop: Option<Cow<'a, str>>,
    stale: bool,
}

impl<'a> DigestChallenge<'a> {
    /// Interprets a parsed challenge.
    pub fn from_challenge(c: &Challenge<'a>) -> Result<Self, DigestError> {
        if !c.is_scheme("Digest") {
            return Err(DigestError::NoDigestChallenge);
        }
        let required = |param| c.param(param).ok_or(DigestError::MissingParam { param });
        let (algorithm, algorithm_given) = match c.param("algorithm") {
            None => (Algorithm::Md5, false),
            Some(name) => match Algorithm::parse(&name) {
                Some(a) => (a, true),
                None => {
                    return Err(DigestError::UnsupportedAlgorithm {
                        algorithm: name.into_owned(),
                    });
                }
            },
        };
        Ok(DigestChallenge {
            realm: required("realm")?,
            nonce: required("nonce")?,
            opaque: c.param("opaque"),
            algorithm,
            algorithm_given,
            qop: c.param("qop"),
            stale: c
                .param("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The protection space.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Whether the challenge named its algorithm (RFC 2617 peers expect it
    /// echoed only then).
    pub(super) fn algorithm_given(&self) -> bool {
        self.algorithm_given
    }

    /// The server's nonce.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// Data the client must echo unchanged.
    pub fn opaque(&self) -> Option<&str> {
        self.opaque.as_deref()
    }

    /// The algorithm (MD5 when the challenge names none).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// `stale=true`: the previous credentials were right but their nonce had
    /// expired, so answering again with the same password is expected to work.
    pub fn stale(&self) -> bool {
        self.stale
    }

    /// The qop list as offered (`"auth,auth-int"`), `None` for an RFC 2069
    /// challenge.
    pub fn qop_options(&self) -> Option<&str> {
        self.qop.as_deref()
    }

    /// Whether `qop` is among the options offered.
    pub fn offers(&self, qop: Qop) -> bool {
        self.qop
            .as_deref()
            .is_some_and(|list| list.split(',').any(|q| Qop::parse(q.trim()) == Some(qop)))
    }
}

/// Digest credentials, their parameters unquoted (RFC 7616 §3.4, RFC 3261
/// §25.1 `digest-response`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestCredentials<'a> {
    username: Cow<'a, str>,
    realm: Cow<'a, str>,
    nonce: Cow<'a, str>,
    uri: Cow<'a, str>,
    response: Cow<'a, str>,
    algorithm: Algorithm,
    cnonce: Option<Cow<'a, str>>,
    opaque: Option<Cow<'a, str>>,
    qop: Option<(Qop, NonceCount)>,
}

impl<'a> DigestCredentials<'a> {
    /// Interprets parsed credentials. `qop` brings `nc` and `cnonce` with it;
    /// `userhash=true` is refused, as this module never offers it.
    pub fn from_credentials(c: &Credentials<'a>) -> Result<Self, Rejection> {
        if !c.is_scheme("Digest") {
            return Err(Rejection::Missing);
        }
        let malformed = |m| Rejection::Malformed(m);
        let required = |param| {
            c.param(param)
                .ok_or(malformed(MalformedCredentials::MissingParam(param)))
        };
        if c.param("userhash")
            .is_some_and(|u| u.eq_ignore_ascii_case("true"))
        {
            return Err(malformed(MalformedCredentials::UnsupportedParam(
                "userhash",
            )));
        }
        let algorithm = match c.param("algorithm") {
            None => Algorithm::Md5,
            Some(name) => Algorithm::parse(&name).ok_or(Rejection::UnsupportedAlgorithm)?,
        };
        let (qop, cnonce) = match c.param("qop") {
            None => (None, None),
            Some(q) => {
                let qop = Qop::parse(&q).ok_or(malformed(MalformedCredentials::Qop))?;
                let nc = NonceCount::parse(&required("nc")?)
                    .ok_or(malformed(MalformedCredentials::NonceCount))?;
                (Some((qop, nc)), Some(required("cnonce")?))
            }
        };
        Ok(DigestCredentials {
            username: required("username")?,
            realm: required("realm")?,
            nonce: required("nonce")?,
            uri: required("uri")?,
            response: required("response")?,
            algorithm,
            cnonce,
            opaque: c.param("opaque"),
            qop,
        })
    }

    /// The user name, e.g. to fetch the user's secret before verifying.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The protection space answered.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The nonce answered.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The `uri` parameter, which must equal the Request-URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The algorithm (MD5 when none is named).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The request-digest, in hex.
    pub fn response(&self) -> &str {
        &self.response
    }

    /// The qop and nonce count, `None` for RFC 2069 credentials.
    pub fn qop(&self) -> Option<(Qop, NonceCount)> {
        self.qop
    }

    /// The client nonce, present whenever `qop` is.
    pub fn cnonce(&self) -> Option<&str> {
        self.cnonce.as_deref()
    }

    /// The echoed `opaque`.
    pub fn opaque(&self) -> Option<&str> {
        self.opaque.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    const RFC7616_REALM: &str = "http-auth@example.org";

    #[test]
    fn rfc7616_example_headers_read_back() {
        let challenge = br#"Digest
            realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256,
            nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let c = Challenge::parse(challenge).expect("valid");
        let d = DigestChallenge::from_challenge(&c).expect("digest");
        assert_eq!(d.realm(), RFC7616_REALM);
        assert_eq!(d.algorithm(), Algorithm::Sha256);
        assert!(d.offers(Qop::Auth) && d.offers(Qop::AuthInt) && !d.stale());
        assert_eq!(
            d.opaque(),
            Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
        );

        let credentials = br#"Digest username="Mufasa", realm="http-auth@example.org",
            uri="/dir/index.html", algorithm=SHA-256,
            nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001,
            cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth,
            response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let c = Credentials::parse(credentials).expect("valid");
        let d = DigestCredentials::from_credentials(&c).expect("digest");
        assert_eq!(d.username(), "Mufasa");
        assert_eq!(d.qop(), Some((Qop::Auth, NonceCount::FIRST)));
        assert_eq!(d.cnonce(), Some(RFC7616_CNONCE));
        assert_eq!(d.uri(), "/dir/index.html");
    }

    #[test]
    fn credentials_that_break_the_rules() {
        let reject = |v: &str| {
            let c = Credentials::parse(v.as_bytes()).expect("syntax is fine");
            DigestCredentials::from_credentials(&c).expect_err("should be refused")
        };
        let base = r#"Digest username="u", realm="r", nonce="n", uri="sip:a", response="00""#;
        let missing = |p| Rejection::Malformed(MalformedCredentials::MissingParam(p));
        assert_eq!(reject(r#"Digest realm="r""#), missing("username"));
        assert_eq!(
            reject(&format!("{base}, qop=auth, cnonce=\"c\"")),
            missing("nc")
        );
        assert_eq!(
            reject(&format!("{base}, qop=auth, nc=00000001")),
            missing("cnonce")
        );
        let bad_nc = Rejection::Malformed(MalformedCredentials::NonceCount);
        assert_eq!(reject(&format!("{base}, qop=auth, nc=1, cnonce=c")), bad_nc);
        assert_eq!(
            reject(&format!("{base}, qop=auth, nc=00000000, cnonce=c")),
            bad_nc
        );
        assert_eq!(
            reject(&format!("{base}, qop=bogus, nc=00000001, cnonce=c")),
            Rejection::Malformed(MalformedCredentials::Qop)
        );
        assert_eq!(
            reject(&format!("{base}, algorithm=SHA-1")),
            Rejection::UnsupportedAlgorithm
        );
        assert_eq!(
            reject(&format!("{base}, userhash=true")),
            Rejection::Malformed(MalformedCredentials::UnsupportedParam("userhash"))
        );
        assert_eq!(
            reject("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            Rejection::Missing
        );
    }
}
