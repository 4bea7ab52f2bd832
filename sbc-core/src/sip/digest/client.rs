//! The client half of Digest: answers `401`/`407` challenges, remembers each
//! realm's nonce and reuses it, with a growing nonce count, on later requests.

use rand::RngCore;
use smallvec::SmallVec;

use super::{
    Algorithm, AuthHeader, DigestChallenge, DigestError, Ha1, Password, Protection, Qop,
    request_digest, session_ha1,
};
use crate::sip::auth_header::{AuthHeaderWriter, AuthRole, Challenge};

/// Realms remembered at once; challenges name realms, so this is bounded.
const MAX_REALMS: usize = 8;

/// Random bytes in a cnonce (written as twice as many hex digits).
const CNONCE_BYTES: usize = 16;

/// Answers Digest challenges for one user.
///
/// A UAC calls [`respond`](Self::respond) with the challenges of a `401` or
/// `407` and resubmits the request (new CSeq) with the headers it returns;
/// afterwards [`authorize`](Self::authorize) yields credentials for new
/// requests using the remembered nonces, so they need not be challenged again.
///
/// Retrying is the caller's decision: when a challenge answers a request that
/// already carried credentials for its realm and is not
/// [`stale`](DigestChallenge::stale), the password was refused, and
/// resubmitting would loop.
///
/// The password and HA1s never appear in `Debug` output.
#[derive(Debug, Clone)]
pub struct DigestClient {
    username: String,
    password: Password,
    sessions: Vec<Session>,
}

/// What the client keeps per (role, realm) between requests.
#[derive(Debug, Clone)]
struct Session {
    role: AuthRole,
    realm: String,
    nonce: String,
    opaque: Option<String>,
    algorithm: Algorithm,
    /// Echo `algorithm` only when the challenge named it, as RFC 2617 peers
    /// expect.
    algorithm_given: bool,
    qop: Option<Qop>,
    cnonce: String,
    /// The nonce count of the last request sent with this nonce (0: none yet).
    last_nc: u32,
    /// HA1, already combined with nonce and cnonce for `-sess` algorithms.
    ha1: Ha1,
}

impl DigestClient {
    /// A client for `username` with `password`.
    pub fn new(username: impl Into<String>, password: impl Into<Password>) -> DigestClient {
        DigestClient {
            username: username.into(),
            password: password.into(),
            sessions: Vec::new(),
        }
    }

    /// The user name sent in credentials.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Learns the challenges of a `401`/`407` and returns the credentials to
    /// resubmit `method uri` with: one header per realm remembered, the
    /// challenged realms with their new nonce.
    ///
    /// Pass every `WWW-Authenticate` and `Proxy-Authenticate` of the response
    /// with the role its header name gives
    /// ([`AuthRole::from_challenge_header`]). Per role and realm the strongest
    /// usable algorithm wins (SHA-512-256 over SHA-256 over MD5, the server's
    /// order among equals); challenges of other schemes are ignored, as are
    /// unusable Digest ones as long as one is usable. With none usable the
    /// error says why the first Digest challenge was not.
    pub fn respond(
        &mut self,
        challenges: &[(AuthRole, Challenge<'_>)],
        method: &str,
        uri: &str,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<Vec<AuthHeader>, DigestError> {
        let mut chosen: SmallVec<[(AuthRole, DigestChallenge<'_>, Option<Qop>); 4]> =
            SmallVec::new();
        let mut first_error = None;
        for (role, challenge) in challenges {
            if !challenge.is_scheme("Digest") {
                continue;
            }
            let usable = DigestChallenge::from_challenge(challenge)
                .and_then(|d| usable_qop(&d).map(|qop| (d, qop)));
            let (digest, qop) = match usable {
                Ok(found) => found,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            let same_realm = chosen
                .iter_mut()
                .find(|(r, d, _)| r == role && d.realm() == digest.realm());
            match same_realm {
                None => chosen.push((*role, digest, qop)),
                Some(slot) if digest.algorithm().strength() > slot.1.algorithm().strength() => {
                    *slot = (*role, digest, qop);
                }
                Some(_) => {}
            }
        }
        if chosen.is_empty() {
            return Err(first_error.unwrap_or(DigestError::NoDigestChallenge));
        }
        for (role, digest, qop) in &chosen {
            self.learn(*role, digest, *qop, rng);
        }
        self.authorize(method, uri)
    }

    /// [`Self::respond`] to every challenge header (`WWW-Authenticate`,
    /// `Proxy-Authenticate`) of `response`, a 401 or 407.
    pub fn respond_to(
        &mut self,
        response: &crate::sip::Message,
        method: &str,
        uri: &str,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Result<Vec<AuthHeader>, DigestError> {
        let challenges: Vec<(AuthRole, Challenge<'_>)> = response
            .headers
            .iter()
            .filter_map(|h| {
                let role = AuthRole::from_challenge_header(h.name)?;
                Challenge::parse(&h.value).ok().map(|c| (role, c))
            })
            .collect();
        self.respond(&challenges, method, uri, rng)
    }

    /// Credentials for a new request `method uri` from the remembered nonces,
    /// each with the next nonce count; empty before any challenge. A realm
    /// whose nonce count is exhausted is forgotten, so that it challenges
    /// again.
    pub fn authorize(&mut self, method: &str, uri: &str) -> Result<Vec<AuthHeader>, DigestError> {
        self.sessions.retain(|s| s.last_nc < u32::MAX);
        let mut headers = Vec::with_capacity(self.sessions.len());
        for s in &mut self.sessions {
            s.last_nc += 1;
        }
        for s in &self.sessions {
            headers.push(self.credentials(s, method, uri)?);
        }
        Ok(headers)
    }

    /// Forgets every remembered nonce, e.g. when the registration ends.
    pub fn forget(&mut self) {
        self.sessions.clear();
    }

    fn learn(
        &mut self,
        role: AuthRole,
        d: &DigestChallenge<'_>,
        qop: Option<Qop>,
        rng: &mut (impl RngCore + ?Sized),
    ) {
        let mut random = [0u8; CNONCE_BYTES];
        rng.fill_bytes(&mut random);
        let cnonce = super::hex(&random);
        let base = d
            .algorithm()
            .ha1(&self.username, d.realm(), self.password.expose());
        let session = Session {
            role,
            realm: d.realm().into(),
            nonce: d.nonce().into(),
            opaque: d.opaque().map(Into::into),
            algorithm: d.algorithm(),
            algorithm_given: d.algorithm_given(),
            qop,
            ha1: session_ha1(d.algorithm(), &base, d.nonce(), &cnonce),
            cnonce,
            last_nc: 0,
        };
        self.sessions
            .retain(|s| !(s.role == role && s.realm == session.realm));
        if self.sessions.len() == MAX_REALMS {
            self.sessions.remove(0);
        }
        self.sessions.push(session);
    }

    fn credentials(&self, s: &Session, method: &str, uri: &str) -> Result<AuthHeader, DigestError> {
        // `authorize` keeps `last_nc` ≥ 1 here; a zero would only drop qop.
        let protection = s
            .qop
            .zip(super::NonceCount::new(s.last_nc))
            .map(|(qop, nc)| Protection {
                qop,
                nc,
                cnonce: &s.cnonce,
            });
        let response = request_digest(s.algorithm, &s.ha1, &s.nonce, protection, method, uri);
        let mut w = AuthHeaderWriter::new("Digest")?;
        w.quoted("username", &self.username)?
            .quoted("realm", &s.realm)?
            .quoted("nonce", &s.nonce)?
            .quoted("uri", uri)?
            .quoted("response", &response)?;
        if s.algorithm_given {
            w.token("algorithm", s.algorithm.as_str())?;
        }
        if let Some(p) = protection {
            w.quoted("cnonce", p.cnonce)?
                .token("qop", p.qop.as_str())?
                .token("nc", &p.nc.to_string())?;
        }
        if let Some(opaque) = &s.opaque {
            w.quoted("opaque", opaque)?;
        }
        Ok(AuthHeader {
            name: s.role.credentials_header(),
            value: w.finish(),
        })
    }
}

/// The qop to answer with: `auth` when offered, none for an RFC 2069
/// challenge (not allowed with `-sess`), an error when only others are.
fn usable_qop(d: &DigestChallenge<'_>) -> Result<Option<Qop>, DigestError> {
    match d.qop_options() {
        Some(_) if d.offers(Qop::Auth) => Ok(Some(Qop::Auth)),
        Some(offered) => Err(DigestError::UnsupportedQop {
            offered: offered.into(),
        }),
        None if d.algorithm().is_session() => Err(DigestError::SessionWithoutQop {
            algorithm: d.algorithm(),
        }),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::auth_header::Credentials;
    use crate::sip::digest::{DigestCredentials, NonceCount};
    use crate::sip::header_name::HeaderName;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn parse(role: AuthRole, v: &str) -> (AuthRole, Challenge<'_>) {
        (
            role,
            Challenge::parse(v.as_bytes()).expect("valid challenge"),
        )
    }

    fn read(h: &AuthHeader) -> DigestCredentials<'_> {
        let c = Credentials::parse(h.value.as_bytes()).expect("we write valid credentials");
        DigestCredentials::from_credentials(&c).expect("we write digest credentials")
    }

    #[test]
    fn picks_the_strongest_algorithm_and_counts_requests() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut client = DigestClient::new("alice", "secret");
        let challenges = [
            parse(
                AuthRole::Uas,
                r#"Digest realm="a.example", nonce="n1", qop="auth", algorithm=MD5"#,
            ),
            parse(
                AuthRole::Uas,
                r#"Digest realm="a.example", nonce="n1", qop="auth", algorithm=SHA-256"#,
            ),
            parse(AuthRole::Uas, r#"Basic realm="a.example""#),
        ];
        let headers = client
            .respond(&challenges, "REGISTER", "sip:a.example", &mut rng)
            .expect("usable");
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].name, HeaderName::Authorization);
        let first = read(&headers[0]);
        assert_eq!(first.algorithm(), Algorithm::Sha256);
        assert_eq!(first.qop(), Some((Qop::Auth, NonceCount::FIRST)));
        assert_eq!(first.uri(), "sip:a.example");
        assert_eq!(first.cnonce().map(str::len), Some(2 * CNONCE_BYTES));

        let again = client
            .authorize("REGISTER", "sip:a.example")
            .expect("writable");
        let second = read(&again[0]);
        assert_eq!(second.qop().map(|(_, nc)| nc.get()), Some(2));
        assert_eq!(second.nonce(), "n1");
        assert_eq!(second.cnonce(), first.cnonce());
    }

    #[test]
    fn rfc2069_challenge_and_opaque_echo() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut client = DigestClient::new("bob", "pw");
        let ch = [parse(
            AuthRole::Proxy,
            r#"Digest realm="p", nonce="x", opaque="o\"q""#,
        )];
        let headers = client
            .respond(&ch, "INVITE", "sip:c@p", &mut rng)
            .expect("usable");
        assert_eq!(headers[0].name, HeaderName::ProxyAuthorization);
        let d = read(&headers[0]);
        assert_eq!(
            (d.qop(), d.cnonce(), d.opaque()),
            (None, None, Some("o\"q"))
        );
        assert!(!headers[0].value.contains("algorithm"));
        let expected = request_digest(
            Algorithm::Md5,
            &Algorithm::Md5.ha1("bob", "p", "pw"),
            "x",
            None,
            "INVITE",
            "sip:c@p",
        );
        assert!(headers[0].value.contains(&expected));
    }

    #[test]
    fn one_header_per_realm_and_role() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut client = DigestClient::new("carol", "pw");
        let ch = [
            parse(
                AuthRole::Proxy,
                r#"Digest realm="edge", nonce="1", qop="auth""#,
            ),
            parse(
                AuthRole::Uas,
                r#"Digest realm="pbx", nonce="2", qop="auth""#,
            ),
        ];
        let headers = client
            .respond(&ch, "INVITE", "sip:d@pbx", &mut rng)
            .expect("usable");
        let names: Vec<_> = headers.iter().map(|h| h.name).collect();
        assert_eq!(
            names,
            [HeaderName::ProxyAuthorization, HeaderName::Authorization]
        );
        // A later challenge from the PBX alone keeps the edge's nonce in use.
        let ch = [parse(
            AuthRole::Uas,
            r#"Digest realm="pbx", nonce="3", qop="auth", stale=true"#,
        )];
        let headers = client
            .respond(&ch, "INVITE", "sip:d@pbx", &mut rng)
            .expect("usable");
        let nonces: Vec<_> = headers.iter().map(|h| read(h).nonce().to_owned()).collect();
        assert_eq!(nonces, ["1", "3"]);
        assert_eq!(read(&headers[0]).qop().map(|(_, nc)| nc.get()), Some(2));
        assert_eq!(read(&headers[1]).qop().map(|(_, nc)| nc.get()), Some(1));
    }

    #[test]
    fn unusable_challenges_say_why() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut client = DigestClient::new("dave", "pw");
        let mut answer =
            |v: &str| client.respond(&[parse(AuthRole::Uas, v)], "OPTIONS", "sip:x", &mut rng);
        assert_eq!(
            answer(r#"Digest realm="r", nonce="n", qop="auth-int""#),
            Err(DigestError::UnsupportedQop {
                offered: "auth-int".into()
            })
        );
        assert_eq!(
            answer(r#"Digest realm="r", nonce="n", algorithm=SHA-1"#),
            Err(DigestError::UnsupportedAlgorithm {
                algorithm: "SHA-1".into()
            })
        );
        assert_eq!(
            answer(r#"Digest realm="r", nonce="n", algorithm=MD5-sess"#),
            Err(DigestError::SessionWithoutQop {
                algorithm: Algorithm::Md5Sess
            })
        );
        assert_eq!(
            answer(r#"Digest nonce="n""#),
            Err(DigestError::MissingParam { param: "realm" })
        );
        assert_eq!(
            answer("Bearer realm=r"),
            Err(DigestError::NoDigestChallenge)
        );
        assert_eq!(
            answer(r#"Digest realm="r", nonce="n", qop="auth-int,auth""#).map(|h| h.len()),
            Ok(1)
        );
    }

    #[test]
    fn unwritable_username_is_an_error() {
        let mut rng = StdRng::seed_from_u64(4);
        let mut client = DigestClient::new("eve\r\nVia: x", "pw");
        let ch = [parse(AuthRole::Uas, r#"Digest realm="r", nonce="n""#)];
        assert!(matches!(
            client.respond(&ch, "INVITE", "sip:x", &mut rng),
            Err(DigestError::Header(_))
        ));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut client = DigestClient::new("frank", "Circle of Life");
        let ch = [parse(
            AuthRole::Uas,
            r#"Digest realm="r", nonce="n", qop="auth""#,
        )];
        client
            .respond(&ch, "INVITE", "sip:x", &mut rng)
            .expect("usable");
        let debug = format!("{client:?}");
        let ha1 = Algorithm::Md5.ha1("frank", "r", "Circle of Life");
        assert!(!debug.contains("Circle"));
        assert!(!debug.contains(ha1.as_hex()));
        assert!(debug.contains("frank"));
    }
}
