//! Digest client against Digest server, through the public API only: the
//! server challenges, the client answers, the server verifies.

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use sbc_core::sip::HeaderName;
use sbc_core::sip::auth_header::{AuthRole, Challenge, Credentials};
use sbc_core::sip::digest::{
    Algorithm, AuthHeader, AuthenticatedUser, DigestClient, DigestCredentials, DigestError,
    DigestServer, DigestServerConfig, MalformedCredentials, RejectAction, Rejection, UserSecret,
};

const SECRET: &[u8] = b"an example secret of 32 bytes!!!";
const REALM: &str = "sbc.example";
const URI: &str = "sip:bob@sbc.example";
const T0: Duration = Duration::from_secs(1_700_000_000);

fn config() -> DigestServerConfig {
    DigestServerConfig::new(REALM, SECRET)
}

fn server(config: DigestServerConfig) -> DigestServer {
    DigestServer::new(config).expect("valid config")
}

fn users(username: &str, _: Algorithm) -> Option<UserSecret> {
    (username == "alice").then(|| UserSecret::Password("wonderland".into()))
}

/// The client's answer to `challenges` for `INVITE uri`.
fn answer(
    client: &mut DigestClient,
    challenges: &[AuthHeader],
    uri: &str,
    rng: &mut StdRng,
) -> Result<Vec<AuthHeader>, DigestError> {
    let parsed: Vec<_> = challenges
        .iter()
        .map(|h| {
            let role = AuthRole::from_challenge_header(h.name).expect("a challenge header");
            (
                role,
                Challenge::parse(h.value.as_bytes()).expect("server writes valid challenges"),
            )
        })
        .collect();
    client.respond(&parsed, "INVITE", uri, rng)
}

fn verify(
    server: &mut DigestServer,
    now: Duration,
    credentials: &[AuthHeader],
    uri: &str,
) -> Result<AuthenticatedUser, Rejection> {
    let role = server.config().role;
    let values = credentials
        .iter()
        .filter(|h| h.name == role.credentials_header())
        .map(|h| h.value.as_bytes());
    server.verify(now, values, "INVITE", uri, users)
}

/// Challenge at `now`, answer as `username`/`password`.
fn authenticate(
    server: &DigestServer,
    now: Duration,
    username: &str,
    password: &str,
    rng: &mut StdRng,
) -> (DigestClient, Vec<AuthHeader>) {
    let mut client = DigestClient::new(username, password);
    let challenges = server.challenges(now, false, rng);
    let credentials = answer(&mut client, &challenges, URI, rng).expect("usable challenge");
    (client, credentials)
}

#[test]
fn client_answers_and_server_accepts() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut server = server(config());
    let challenges = server.challenges(T0, false, &mut rng);
    assert_eq!(challenges.len(), 2, "one per configured algorithm");
    assert!(
        challenges
            .iter()
            .all(|h| h.name == HeaderName::WwwAuthenticate)
    );

    let mut client = DigestClient::new("alice", "wonderland");
    let credentials = answer(&mut client, &challenges, URI, &mut rng).expect("usable");
    let user = verify(&mut server, T0, &credentials, URI).expect("accepted");
    assert_eq!((user.username(), user.realm()), ("alice", REALM));
    assert_eq!(user.algorithm(), Algorithm::Sha256, "strongest offered");

    // The next request reuses the nonce with nc=2, unchallenged.
    let next = client.authorize("INVITE", URI).expect("writable");
    verify(&mut server, T0 + Duration::from_secs(5), &next, URI).expect("accepted");
}

#[test]
fn every_algorithm_round_trips_with_password_or_ha1() {
    for algorithm in Algorithm::ALL {
        let mut rng = StdRng::seed_from_u64(2);
        let mut cfg = config();
        cfg.algorithms = vec![algorithm];
        let mut server = server(cfg);
        let (_, credentials) = authenticate(&server, T0, "alice", "wonderland", &mut rng);
        let user = verify(&mut server, T0, &credentials, URI).expect("accepted");
        assert_eq!(user.algorithm(), algorithm);

        let (_, credentials) = authenticate(&server, T0, "alice", "wonderland", &mut rng);
        let values = credentials.iter().map(|h| h.value.as_bytes());
        let stored = algorithm.ha1("alice", REALM, "wonderland");
        let user = server.verify(T0, values, "INVITE", URI, |name, a| {
            assert_eq!((name, a), ("alice", algorithm));
            Some(UserSecret::Ha1(stored))
        });
        assert!(user.is_ok(), "{algorithm} with a stored HA1");
    }
}

#[test]
fn wrong_password_and_unknown_user() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut server = server(config());
    let (_, credentials) = authenticate(&server, T0, "alice", "looking-glass", &mut rng);
    let rejection = verify(&mut server, T0, &credentials, URI).expect_err("wrong password");
    assert_eq!(rejection, Rejection::WrongPassword);
    assert_eq!(rejection.action(), RejectAction::Challenge { stale: false });
    assert_eq!(rejection.status(AuthRole::Uas), 401);

    let (_, credentials) = authenticate(&server, T0, "mallory", "x", &mut rng);
    let rejection = verify(&mut server, T0, &credentials, URI).expect_err("unknown user");
    assert_eq!(rejection, Rejection::UnknownUser);
    assert_eq!(rejection.action(), RejectAction::Challenge { stale: false });
}

#[test]
fn stale_nonce_then_transparent_retry() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut server = server(config());
    let (mut client, credentials) = authenticate(&server, T0, "alice", "wonderland", &mut rng);
    let lifetime = server.config().nonce_lifetime;
    let later = T0 + lifetime + Duration::from_secs(1);

    let rejection = verify(&mut server, later, &credentials, URI).expect_err("expired");
    assert_eq!(rejection, Rejection::StaleNonce);
    let RejectAction::Challenge { stale } = rejection.action() else {
        panic!("a stale nonce is answered with a challenge");
    };
    assert!(stale);
    let challenges = server.challenges(later, stale, &mut rng);
    assert!(challenges.iter().all(|h| h.value.ends_with("stale=true")));

    let credentials = answer(&mut client, &challenges, URI, &mut rng).expect("usable");
    verify(&mut server, later, &credentials, URI).expect("fresh nonce accepted");

    // A wrong password with an expired nonce is a wrong password, not stale.
    let (_, credentials) = authenticate(&server, T0, "alice", "nope", &mut rng);
    let rejection = verify(&mut server, later, &credentials, URI).expect_err("refused");
    assert_eq!(rejection, Rejection::WrongPassword);
}

#[test]
fn replayed_nonce_count_is_refused() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut server = server(config());
    let (mut client, credentials) = authenticate(&server, T0, "alice", "wonderland", &mut rng);
    verify(&mut server, T0, &credentials, URI).expect("first use");
    let rejection = verify(&mut server, T0, &credentials, URI).expect_err("replay");
    assert_eq!(rejection, Rejection::Replay);
    assert_eq!(rejection.action(), RejectAction::Challenge { stale: true });

    // Counts arriving out of order (two requests in flight) are fine, once.
    let second = client.authorize("INVITE", URI).expect("writable");
    let third = client.authorize("INVITE", URI).expect("writable");
    verify(&mut server, T0, &third, URI).expect("nc=3");
    verify(&mut server, T0, &second, URI).expect("nc=2 late");
    assert_eq!(
        verify(&mut server, T0, &second, URI),
        Err(Rejection::Replay)
    );
}

#[test]
fn tampered_uri_is_refused() {
    let mut rng = StdRng::seed_from_u64(6);
    let mut server = server(config());
    let (_, credentials) = authenticate(&server, T0, "alice", "wonderland", &mut rng);
    let elsewhere = "sip:premium-rate@sbc.example";

    let rejection = verify(&mut server, T0, &credentials, elsewhere).expect_err("uri differs");
    assert_eq!(rejection, Rejection::UriMismatch);
    assert_eq!(rejection.status(AuthRole::Uas), 400);

    // Rewriting the uri parameter to match breaks the response digest.
    let forged: Vec<_> = credentials
        .iter()
        .map(|h| AuthHeader {
            name: h.name,
            value: h.value.replace(URI, elsewhere),
        })
        .collect();
    let rejection = verify(&mut server, T0, &forged, elsewhere).expect_err("digest breaks");
    assert_eq!(rejection, Rejection::WrongPassword);
}

#[test]
fn foreign_nonces_are_refused() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut server = server(config());
    let other = self::server(DigestServerConfig::new(
        REALM,
        *b"another secret, 32 bytes long!!!",
    ));
    let (_, credentials) = authenticate(&other, T0, "alice", "wonderland", &mut rng);
    assert_eq!(
        verify(&mut server, T0, &credentials, URI),
        Err(Rejection::ForeignNonce)
    );

    let mut client = DigestClient::new("alice", "wonderland");
    let made_up = [AuthHeader {
        name: HeaderName::WwwAuthenticate,
        value: format!(
            r#"Digest realm="{REALM}", nonce="{}", qop="auth""#,
            "0".repeat(64)
        ),
    }];
    let credentials = answer(&mut client, &made_up, URI, &mut rng).expect("usable");
    assert_eq!(
        verify(&mut server, T0, &credentials, URI),
        Err(Rejection::ForeignNonce)
    );
}

#[test]
fn missing_malformed_and_unsupported() {
    let mut rng = StdRng::seed_from_u64(8);
    let mut server = server(config());
    assert_eq!(verify(&mut server, T0, &[], URI), Err(Rejection::Missing));

    let mut cfg = config();
    cfg.realm = "other.example".into();
    let (_, for_other_realm) =
        authenticate(&self::server(cfg), T0, "alice", "wonderland", &mut rng);
    assert_eq!(
        verify(&mut server, T0, &for_other_realm, URI),
        Err(Rejection::Missing)
    );

    let garbage = [AuthHeader {
        name: HeaderName::Authorization,
        value: "Digest username=".into(),
    }];
    let rejection = verify(&mut server, T0, &garbage, URI).expect_err("malformed");
    assert!(matches!(
        rejection,
        Rejection::Malformed(MalformedCredentials::Syntax(_))
    ));
    assert_eq!(rejection.action(), RejectAction::BadRequest);

    // Garbage next to good credentials does not hide them.
    let (_, good) = authenticate(&server, T0, "alice", "wonderland", &mut rng);
    let both: Vec<_> = garbage.iter().chain(&good).cloned().collect();
    verify(&mut server, T0, &both, URI).expect("good credentials found");

    // A downgrade to RFC 2069 (no qop) after we offered qop=auth.
    let nonce_of = |h: &AuthHeader| {
        let c = Credentials::parse(h.value.as_bytes()).expect("valid");
        DigestCredentials::from_credentials(&c)
            .expect("digest")
            .nonce()
            .to_owned()
    };
    let (_, good) = authenticate(&server, T0, "alice", "wonderland", &mut rng);
    let no_qop = [AuthHeader {
        name: HeaderName::WwwAuthenticate,
        value: format!(r#"Digest realm="{REALM}", nonce="{}""#, nonce_of(&good[0])),
    }];
    let mut client = DigestClient::new("alice", "wonderland");
    let downgraded = answer(&mut client, &no_qop, URI, &mut rng).expect("usable");
    assert_eq!(
        verify(&mut server, T0, &downgraded, URI),
        Err(Rejection::Malformed(MalformedCredentials::Qop))
    );

    // MD5 answered to a server that only offers SHA-256.
    let mut cfg = config();
    cfg.algorithms = vec![Algorithm::Sha256];
    let mut strict = self::server(cfg);
    let (_, sha) = authenticate(&strict, T0, "alice", "wonderland", &mut rng);
    let md5 = [AuthHeader {
        name: HeaderName::WwwAuthenticate,
        value: format!(
            r#"Digest realm="{REALM}", nonce="{}", qop="auth", algorithm=MD5"#,
            nonce_of(&sha[0])
        ),
    }];
    let mut client = DigestClient::new("alice", "wonderland");
    let weak = answer(&mut client, &md5, URI, &mut rng).expect("usable");
    assert_eq!(
        verify(&mut strict, T0, &weak, URI),
        Err(Rejection::UnsupportedAlgorithm)
    );
}

#[test]
fn proxy_role_uses_407_and_proxy_headers() {
    let mut rng = StdRng::seed_from_u64(9);
    let mut cfg = config();
    cfg.role = AuthRole::Proxy;
    let mut server = server(cfg);
    let challenges = server.challenges(T0, false, &mut rng);
    assert!(
        challenges
            .iter()
            .all(|h| h.name == HeaderName::ProxyAuthenticate)
    );
    let mut client = DigestClient::new("alice", "wonderland");
    let credentials = answer(&mut client, &challenges, URI, &mut rng).expect("usable");
    assert!(
        credentials
            .iter()
            .all(|h| h.name == HeaderName::ProxyAuthorization)
    );
    verify(&mut server, T0, &credentials, URI).expect("accepted");
    assert_eq!(Rejection::Missing.status(AuthRole::Proxy), 407);
}

#[test]
fn forgotten_nonces_are_answered_as_stale() {
    let mut rng = StdRng::seed_from_u64(10);
    let mut cfg = config();
    cfg.max_tracked_nonces = 1;
    let mut server = server(cfg);
    let (mut a, a1) = authenticate(&server, T0, "alice", "wonderland", &mut rng);
    let t1 = T0 + Duration::from_secs(1);
    let (_, b1) = authenticate(&server, t1, "alice", "wonderland", &mut rng);
    verify(&mut server, T0, &a1, URI).expect("a tracked");
    verify(&mut server, t1, &b1, URI).expect("b tracked, a forgotten");

    // A's nonce can no longer be checked for replays, so it is stale.
    let a2 = a.authorize("INVITE", URI).expect("writable");
    assert_eq!(
        verify(&mut server, t1, &a2, URI),
        Err(Rejection::StaleNonce)
    );
    let t2 = t1 + Duration::from_secs(1);
    let challenges = server.challenges(t2, true, &mut rng);
    let a3 = answer(&mut a, &challenges, URI, &mut rng).expect("usable");
    verify(&mut server, t2, &a3, URI).expect("fresh nonce");
}

#[test]
fn bad_configurations_are_refused() {
    let refuse = |cfg: DigestServerConfig| DigestServer::new(cfg).expect_err("refused");
    assert_eq!(
        refuse(DigestServerConfig::new(REALM, *b"short")),
        DigestError::WeakSecret { len: 5 }
    );
    let mut cfg = config();
    cfg.algorithms.clear();
    assert_eq!(refuse(cfg), DigestError::NoAlgorithms);
    let mut cfg = config();
    cfg.max_tracked_nonces = 0;
    assert_eq!(refuse(cfg), DigestError::NoNonceTracking);
    let mut cfg = config();
    cfg.realm = "a\r\nb".into();
    assert!(matches!(refuse(cfg), DigestError::Header(_)));
    let debug = format!("{:?}", config());
    assert!(
        !debug.contains("secret of 32"),
        "the nonce secret stays out of Debug"
    );
}
