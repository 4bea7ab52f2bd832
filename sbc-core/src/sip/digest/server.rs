//! The server half of Digest: issues challenges with stateless, self-checking
//! nonces, verifies credentials against a user store, and remembers just
//! enough (a bounded nonce-count window per nonce) to refuse replays.
//!
//! A nonce is `hex(timestamp ‖ salt ‖ MAC)`: the issue time in seconds, 8
//! random bytes, and the first 16 bytes of HMAC-SHA-256 over both and the
//! realm, keyed with the configured secret. Any server holding the secret can
//! check that a nonce is its own and how old it is, without storing it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use rand::RngCore;
use sha2::{Digest as _, Sha256};

use super::{
    Algorithm, AuthHeader, DigestCredentials, DigestError, Protection, Qop, UserSecret, bytes_eq,
    digest_eq, hex, request_digest, session_ha1, unhex,
};
use crate::sip::auth_header::{AuthHeaderError, AuthHeaderWriter, AuthRole, Credentials};

/// Issue time and salt: what the MAC covers besides the realm.
type NonceId = [u8; 16];

/// Bytes of HMAC kept in a nonce.
const MAC_BYTES: usize = 16;

/// Width of the window of nonce counts accepted out of order.
const NC_WINDOW: u32 = 64;

/// How a [`DigestServer`] challenges and what it accepts.
#[derive(Clone)]
#[non_exhaustive]
pub struct DigestServerConfig {
    /// The protection space, e.g. the domain served. Credentials for other
    /// realms are ignored.
    pub realm: String,
    /// Registrar/UAS (`401`) or proxy (`407`).
    pub role: AuthRole,
    /// Algorithms offered, one challenge each, in order of preference; only
    /// these are accepted.
    pub algorithms: Vec<Algorithm>,
    /// How long a nonce stays fresh; older ones earn `stale=true`.
    pub nonce_lifetime: Duration,
    /// Nonces whose counts are remembered for replay detection.
    pub max_tracked_nonces: usize,
    secret: Vec<u8>,
}

impl DigestServerConfig {
    /// A configuration for `realm` whose nonces are keyed with `secret` (at
    /// least 16 random bytes, shared by every server that must accept the
    /// others' nonces). Defaults: UAS role, SHA-256 then MD5, nonces fresh
    /// for 300 s, 4096 nonces tracked.
    pub fn new(realm: impl Into<String>, secret: impl Into<Vec<u8>>) -> DigestServerConfig {
        DigestServerConfig {
            realm: realm.into(),
            role: AuthRole::Uas,
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            nonce_lifetime: Duration::from_secs(300),
            max_tracked_nonces: 4096,
            secret: secret.into(),
        }
    }
}

impl fmt::Debug for DigestServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestServerConfig")
            .field("realm", &self.realm)
            .field("role", &self.role)
            .field("algorithms", &self.algorithms)
            .field("nonce_lifetime", &self.nonce_lifetime)
            .field("max_tracked_nonces", &self.max_tracked_nonces)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Proof that a request's credentials were verified; only
/// [`DigestServer::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    username: String,
    realm: String,
    algorithm: Algorithm,
}

impl AuthenticatedUser {
    /// The user name the credentials proved.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The realm they were verified for.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The algorithm used.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// Why a request's credentials were not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// No Digest credentials for our realm.
    #[error("no Digest credentials for this realm")]
    Missing,
    /// Credentials that break the grammar or the rules of RFC 7616.
    #[error("malformed credentials: {0}")]
    Malformed(#[from] MalformedCredentials),
    /// An algorithm we do not offer.
    #[error("algorithm not offered")]
    UnsupportedAlgorithm,
    /// The `uri` parameter differs from the Request-URI (RFC 2617 §3.2.2.5).
    #[error("digest uri does not match the Request-URI")]
    UriMismatch,
    /// A nonce we did not issue (or issued under another secret or realm).
    #[error("nonce not issued here")]
    ForeignNonce,
    /// The user store does not know the user.
    #[error("unknown user")]
    UnknownUser,
    /// The response digest does not match: a wrong password, or a request
    /// altered after it was signed.
    #[error("wrong password")]
    WrongPassword,
    /// Right password, expired nonce.
    #[error("nonce expired")]
    StaleNonce,
    /// Right password, nonce count already used with this nonce.
    #[error("nonce count replayed")]
    Replay,
}

/// What is wrong with malformed credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedCredentials {
    /// The header value does not parse.
    #[error("{0}")]
    Syntax(#[from] AuthHeaderError),
    /// A mandatory parameter is absent.
    #[error("missing {0}")]
    MissingParam(&'static str),
    /// `nc` is not 8 hex digits, or is zero.
    #[error("bad nonce count")]
    NonceCount,
    /// `qop` is absent although we offered it, or is not one we offered.
    #[error("qop absent or not offered")]
    Qop,
    /// A parameter whose feature we do not support.
    #[error("unsupported parameter {0}")]
    UnsupportedParam(&'static str),
}

/// The answer a [`Rejection`] calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectAction {
    /// `401`/`407` with fresh [`DigestServer::challenges`]; `stale=true` when
    /// `stale`, telling the client its password was right.
    Challenge {
        /// Whether to mark the challenges stale.
        stale: bool,
    },
    /// `400 Bad Request`.
    BadRequest,
}

impl Rejection {
    /// What to answer. Unknown users and wrong passwords get the same
    /// answer, so that the wire does not reveal which names exist.
    pub fn action(&self) -> RejectAction {
        match self {
            Rejection::Malformed(_) | Rejection::UriMismatch => RejectAction::BadRequest,
            Rejection::StaleNonce | Rejection::Replay => RejectAction::Challenge { stale: true },
            Rejection::Missing
            | Rejection::UnsupportedAlgorithm
            | Rejection::ForeignNonce
            | Rejection::UnknownUser
            | Rejection::WrongPassword => RejectAction::Challenge { stale: false },
        }
    }

    /// The status code to answer with for a server in `role`.
    pub fn status(&self, role: AuthRole) -> u16 {
        match self.action() {
            RejectAction::Challenge { .. } => role.status(),
            RejectAction::BadRequest => 400,
        }
    }
}

/// Issues Digest challenges and verifies credentials for one realm.
///
/// ```text
/// match server.verify(now, request.headers(role.credentials_header()), method, uri, |user, algorithm| store.get(user, algorithm)) {
///     Ok(user) => proceed(user),
///     Err(rejection) => match rejection.action() {
///         RejectAction::Challenge { stale } => reply(role.status(), server.challenges(now, stale, rng)),
///         RejectAction::BadRequest => reply(400, []),
///     },
/// }
/// ```
///
/// ACK and CANCEL cannot be challenged (RFC 3261 §22.1); callers do not
/// verify them.
#[derive(Debug)]
pub struct DigestServer {
    config: DigestServerConfig,
    seen: NonceCounts,
}

impl DigestServer {
    /// A server for `config`, which must offer an algorithm, hold a secret
    /// of at least 16 bytes and track at least one nonce; the realm must be
    /// writable in a quoted string.
    pub fn new(config: DigestServerConfig) -> Result<DigestServer, DigestError> {
        if config.algorithms.is_empty() {
            return Err(DigestError::NoAlgorithms);
        }
        if config.secret.len() < 16 {
            return Err(DigestError::WeakSecret {
                len: config.secret.len(),
            });
        }
        if config.max_tracked_nonces == 0 {
            return Err(DigestError::NoNonceTracking);
        }
        AuthHeaderWriter::new("Digest")?.quoted("realm", &config.realm)?;
        Ok(DigestServer {
            seen: NonceCounts::new(config.max_tracked_nonces),
            config,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &DigestServerConfig {
        &self.config
    }

    /// The challenges of a `401`/`407` sent at `now` (time since the Unix
    /// epoch): one header per configured algorithm, sharing a new nonce,
    /// marked `stale=true` when `stale`.
    pub fn challenges(
        &self,
        now: Duration,
        stale: bool,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Vec<AuthHeader> {
        let nonce = self.mint_nonce(now, rng);
        self.config
            .algorithms
            .iter()
            .map(|algorithm| {
                let mut w = AuthHeaderWriter::new("Digest").expect("\"Digest\" is a token");
                w.quoted("realm", &self.config.realm)
                    .and_then(|w| w.quoted("nonce", &nonce))
                    .and_then(|w| w.token("algorithm", algorithm.as_str()))
                    .and_then(|w| w.quoted("qop", Qop::Auth.as_str()))
                    .expect("realm checked by DigestServer::new; nonce is hex; names are tokens");
                if stale {
                    w.token("stale", "true").expect("constant token");
                }
                AuthHeader {
                    name: self.config.role.challenge_header(),
                    value: w.finish(),
                }
            })
            .collect()
    }

    /// Verifies a request received at `now` (time since the Unix epoch),
    /// given the values of its credentials headers (`Authorization` for a
    /// UAS, `Proxy-Authorization` for a proxy), its method and its
    /// Request-URI as written on the request line.
    ///
    /// The first Digest credentials for our realm are checked; the others
    /// belong to other servers. `lookup(username, algorithm)` fetches the
    /// user's secret; an asynchronous store can be read first, with the
    /// username from [`DigestCredentials::username`], and handed in here.
    pub fn verify<'h>(
        &mut self,
        now: Duration,
        credentials: impl IntoIterator<Item = &'h [u8]>,
        method: &str,
        uri: &str,
        lookup: impl FnOnce(&str, Algorithm) -> Option<UserSecret>,
    ) -> Result<AuthenticatedUser, Rejection> {
        let mut malformed = None;
        for value in credentials {
            match Credentials::parse(value) {
                Ok(c) if c.is_scheme("Digest") && self.is_our_realm(&c) => {
                    return self.verify_credentials(now, &c, method, uri, lookup);
                }
                Ok(_) => {}
                Err(e) => {
                    malformed.get_or_insert(Rejection::Malformed(e.into()));
                }
            }
        }
        let rejection = malformed.unwrap_or(Rejection::Missing);
        tracing::debug!(%rejection, "digest credentials refused");
        Err(rejection)
    }

    /// [`verify`](Self::verify) for one parsed set of credentials; those of
    /// another scheme or realm are [`Rejection::Missing`].
    pub fn verify_credentials(
        &mut self,
        now: Duration,
        credentials: &Credentials<'_>,
        method: &str,
        uri: &str,
        lookup: impl FnOnce(&str, Algorithm) -> Option<UserSecret>,
    ) -> Result<AuthenticatedUser, Rejection> {
        let verdict = self.check(now, credentials, method, uri, lookup);
        match &verdict {
            Ok(user) => tracing::debug!(algorithm = %user.algorithm, "digest credentials accepted"),
            Err(rejection @ Rejection::Replay) => {
                tracing::warn!(%rejection, "digest credentials refused");
            }
            Err(rejection) => tracing::debug!(%rejection, "digest credentials refused"),
        }
        verdict
    }

    fn is_our_realm(&self, c: &Credentials<'_>) -> bool {
        c.param("realm").as_deref() == Some(self.config.realm.as_str())
    }

    fn check(
        &mut self,
        now: Duration,
        c: &Credentials<'_>,
        method: &str,
        uri: &str,
        lookup: impl FnOnce(&str, Algorithm) -> Option<UserSecret>,
    ) -> Result<AuthenticatedUser, Rejection> {
        if !self.is_our_realm(c) {
            return Err(Rejection::Missing);
        }
        let d = DigestCredentials::from_credentials(c)?;
        let algorithm = d.algorithm();
        if !self.config.algorithms.contains(&algorithm) {
            return Err(Rejection::UnsupportedAlgorithm);
        }
        let (Some((Qop::Auth, nc)), Some(cnonce)) = (d.qop(), d.cnonce()) else {
            return Err(MalformedCredentials::Qop.into());
        };
        if d.uri() != uri {
            return Err(Rejection::UriMismatch);
        }
        let (id, issued) = self.open_nonce(d.nonce()).ok_or(Rejection::ForeignNonce)?;
        let base = match lookup(d.username(), algorithm).ok_or(Rejection::UnknownUser)? {
            UserSecret::Password(p) => algorithm.ha1(d.username(), &self.config.realm, p.expose()),
            UserSecret::Ha1(ha1) => ha1,
        };
        if base.as_hex().len() != algorithm.hex_len() {
            tracing::warn!(%algorithm, "stored HA1 has the wrong length for its algorithm");
        }
        let ha1 = session_ha1(algorithm, &base, d.nonce(), cnonce);
        let protection = Protection {
            qop: Qop::Auth,
            nc,
            cnonce,
        };
        let expected = request_digest(algorithm, &ha1, d.nonce(), Some(protection), method, uri);
        if !digest_eq(&expected, d.response()) {
            return Err(Rejection::WrongPassword);
        }
        let age = now.as_secs().saturating_sub(issued);
        if age > self.config.nonce_lifetime.as_secs() {
            return Err(Rejection::StaleNonce);
        }
        self.seen.record(id, nc.get())?;
        Ok(AuthenticatedUser {
            username: d.username().into(),
            realm: self.config.realm.clone(),
            algorithm,
        })
    }

    fn mint_nonce(&self, now: Duration, rng: &mut (impl RngCore + ?Sized)) -> String {
        let mut raw = [0u8; 16 + MAC_BYTES];
        raw[..8].copy_from_slice(&now.as_secs().to_be_bytes());
        rng.fill_bytes(&mut raw[8..16]);
        let mac = self.mac(&raw[..16]);
        raw[16..].copy_from_slice(&mac[..MAC_BYTES]);
        hex(&raw)
    }

    /// The id and issue time (seconds) of a nonce we issued; `None` for any
    /// other string.
    fn open_nonce(&self, nonce: &str) -> Option<(NonceId, u64)> {
        let raw: [u8; 16 + MAC_BYTES] = unhex(nonce)?;
        let mac = self.mac(&raw[..16]);
        if !bytes_eq(&mac[..MAC_BYTES], &raw[16..], |b| *b) {
            return None;
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&raw[..16]);
        let mut issued = [0u8; 8];
        issued.copy_from_slice(&raw[..8]);
        Some((id, u64::from_be_bytes(issued)))
    }

    fn mac(&self, payload: &[u8]) -> [u8; 32] {
        hmac_sha256(
            &self.config.secret,
            &[payload, self.config.realm.as_bytes()],
        )
    }
}

/// HMAC-SHA-256 (RFC 2104) over the concatenation of `parts`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The nonce counts seen per nonce, for at most `capacity` nonces.
///
/// When full, the oldest nonce (by issue time, then salt) is forgotten and
/// becomes the watermark: a nonce at or below it that is not tracked may have
/// been forgotten, so it is answered as stale rather than trusted afresh.
#[derive(Debug)]
struct NonceCounts {
    capacity: usize,
    windows: BTreeMap<NonceId, NcWindow>,
    forgotten_up_to: Option<NonceId>,
}

/// The highest nonce count seen with one nonce, and which of the
/// [`NC_WINDOW`] counts below it were seen too (bit `i`: `highest - i`).
#[derive(Debug, Default)]
struct NcWindow {
    highest: u32,
    seen: u64,
}

impl NonceCounts {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            windows: BTreeMap::new(),
            forgotten_up_to: None,
        }
    }

    /// Records `nc` for nonce `id`, refusing a count already seen.
    fn record(&mut self, id: NonceId, nc: u32) -> Result<(), Rejection> {
        if let Some(window) = self.windows.get_mut(&id) {
            return window.accept(nc).then_some(()).ok_or(Rejection::Replay);
        }
        if self.forgotten_up_to.is_some_and(|mark| id <= mark) {
            return Err(Rejection::StaleNonce);
        }
        while self.windows.len() >= self.capacity {
            match self.windows.pop_first() {
                Some((old, _)) => self.forgotten_up_to = Some(old),
                None => break,
            }
        }
        let mut window = NcWindow::default();
        window.accept(nc);
        self.windows.insert(id, window);
        Ok(())
    }
}

impl NcWindow {
    fn accept(&mut self, nc: u32) -> bool {
        if nc > self.highest {
            let shift = nc - self.highest;
            self.seen = if shift >= NC_WINDOW {
                0
            } else {
                self.seen << shift
            };
            self.seen |= 1;
            self.highest = nc;
            return true;
        }
        let back = self.highest - nc;
        if back >= NC_WINDOW || self.seen & (1u64 << back) != 0 {
            return false;
        }
        self.seen |= 1u64 << back;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya ", b"want for nothing?"]);
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let long_key = [0xaa; 131];
        let mac = hmac_sha256(
            &long_key,
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn nonce_count_window() {
        let mut w = NcWindow::default();
        assert!(w.accept(1) && w.accept(3) && w.accept(2));
        assert!(!w.accept(2) && !w.accept(3));
        assert!(w.accept(3 + NC_WINDOW));
        assert!(!w.accept(3), "fell out of the window");
        assert!(w.accept(4 + NC_WINDOW - 1 - 1));
        assert!(w.accept(u32::MAX) && !w.accept(u32::MAX));
        let mut w = NcWindow::default();
        assert!(w.accept(100) && w.accept(100 - (NC_WINDOW - 1)));
        assert!(!w.accept(100 - (NC_WINDOW - 1)) && !w.accept(100 - NC_WINDOW));
    }

    #[test]
    fn tracker_forgets_oldest_and_treats_older_as_stale() {
        let id = |t: u8, salt: u8| {
            let mut id = [0u8; 16];
            id[7] = t;
            id[15] = salt;
            id
        };
        let mut counts = NonceCounts::new(2);
        counts.record(id(1, 0), 1).expect("new");
        counts.record(id(2, 0), 1).expect("new");
        counts.record(id(3, 0), 1).expect("new, forgets t=1");
        assert_eq!(counts.record(id(1, 0), 2), Err(Rejection::StaleNonce));
        assert_eq!(counts.record(id(0, 9), 1), Err(Rejection::StaleNonce));
        assert_eq!(counts.record(id(3, 0), 1), Err(Rejection::Replay));
        counts.record(id(3, 0), 2).expect("next count");
        // Above the watermark: it cannot have been forgotten.
        counts.record(id(1, 5), 1).expect("new, forgets t=2");
        assert_eq!(counts.record(id(2, 0), 2), Err(Rejection::StaleNonce));
        assert_eq!(counts.windows.len(), 2);
    }
}
