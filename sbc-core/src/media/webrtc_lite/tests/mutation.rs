//! Malformed input never panics and never authenticates: a deterministic
//! sweep of mutants of a valid Binding request and of a real DTLS
//! handshake's records, and property tests with random bytes and random
//! mutations.

use std::net::SocketAddr;
use std::time::Duration;

use proptest::prelude::*;

use super::super::*;
use super::dtls::Pair;
use super::ice::request;
use crate::test_clock::epoch;

const PWD: &str = "gateway-password-0123456789";

fn responder() -> IceLite {
    let creds = IceCredentials {
        ufrag: "gwUF".into(),
        pwd: PWD.into(),
    };
    IceLite::new(epoch(), creds, Some("brUF".into()), CONSENT_TIMEOUT)
}

fn addrs() -> (SocketAddr, SocketAddr) {
    (
        "198.51.100.7:50000".parse().unwrap(),
        "192.0.2.1:10000".parse().unwrap(),
    )
}

fn valid_check() -> Vec<u8> {
    request(Some("gwUF:brUF"), Some(PWD), |_| {})
}

/// Every mutant of `original` the sweep makes: each byte XORed with each
/// mask, each byte set to 0x00 and 0xff, every truncation, and a few
/// extensions.
fn mutants(original: &[u8], masks: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..original.len() {
        for m in masks {
            let mut v = original.to_vec();
            v[i] ^= m;
            out.push(v);
        }
        for b in [0x00, 0xff] {
            if original[i] != b {
                let mut v = original.to_vec();
                v[i] = b;
                out.push(v);
            }
        }
        out.push(original[..i].to_vec());
    }
    for extra in [&[0u8][..], &[0, 0, 0, 0], &[0x80, 0x28, 0, 4, 1, 2, 3, 4]] {
        let mut v = original.to_vec();
        v.extend(extra);
        out.push(v);
    }
    out
}

/// Any change to an authenticated check makes it fail: MESSAGE-INTEGRITY
/// covers header and attributes, FINGERPRINT the rest.
#[test]
fn no_mutant_of_a_valid_check_is_answered_with_success() {
    let (from, to) = addrs();
    let original = valid_check();
    let mut ice = responder();
    assert_eq!(
        ice.handle_input(epoch(), from, to, &original),
        CheckOutcome::Answered
    );
    let all = mutants(&original, &[0x01, 0x80, 0x55]);
    assert!(all.len() > 400, "{}", all.len());
    for m in &all {
        let mut ice = responder();
        let outcome = ice.handle_input(epoch(), from, to, m);
        assert_ne!(outcome, CheckOutcome::Answered, "{m:02x?}");
        assert_eq!(ice.poll_event(), None, "{m:02x?}");
        let _ = stun_username(m);
    }
}

/// The records of one real handshake, client's and server's.
fn handshake() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut p = Pair::honest();
    p.run(Duration::from_secs(1), |p| {
        Pair::keys(&p.server_events).is_some() && Pair::keys(&p.client_events).is_some()
    });
    (p.client_records, p.server_records)
}

/// dimpl's parsers in the states a handshake passes through, fed mutants
/// of a real handshake's records: a fresh server each mutant of the
/// ClientHello, a server past the real ClientHello each mutant of the
/// client's second flight, a fresh client each mutant of the server's
/// flight. The records are replays against fresh randoms and ECDHE keys, so
/// even unmutated ones cannot complete a handshake: what this tests is that
/// no mutant panics the parsers (the "not connected" asserts only guard the
/// set-up; they cannot fail on their own).
#[test]
fn mutated_dtls_flights_do_not_panic_the_parsers() {
    let (client_records, server_records) = handshake();
    assert!(client_records.len() >= 2 && !server_records.is_empty());
    let (id_s, id_c) = super::dtls::identities();
    let now = epoch();
    let server =
        |now| DtlsEndpoint::new(now, &id_s, DtlsRole::Server, id_c.fingerprint().clone()).unwrap();
    let drain = |e: &mut DtlsEndpoint| {
        while e.poll_transmit().is_some() {}
        let mut connected = false;
        while let Some(ev) = e.poll_event() {
            connected |= matches!(ev, DtlsEvent::Connected(_));
        }
        connected
    };
    let mut runs = 0;
    for m in mutants(&client_records[0], &[0x01]) {
        let mut s = server(now);
        s.handle_input(now, &m);
        s.handle_timeout(now + Duration::from_secs(2));
        assert!(!drain(&mut s));
        runs += 1;
    }
    // The client's second flight: Certificate, ClientKeyExchange,
    // CertificateVerify, ChangeCipherSpec, Finished (one or more records).
    let flight = &client_records[1..];
    for (k, record) in flight.iter().enumerate() {
        for m in mutants(record, &[0x01]).into_iter().step_by(3) {
            let mut s = server(now);
            s.handle_input(now, &client_records[0]);
            drain(&mut s);
            for (j, r) in flight.iter().enumerate() {
                s.handle_input(now, if j == k { &m } else { r });
            }
            assert!(!drain(&mut s), "record {k}");
            runs += 1;
        }
    }
    for record in &server_records {
        for m in mutants(record, &[0x01]).into_iter().step_by(7) {
            let mut c = DtlsEndpoint::new(now, &id_c, DtlsRole::Client, id_s.fingerprint().clone())
                .unwrap();
            drain(&mut c);
            c.handle_input(now, &m);
            assert!(!drain(&mut c));
            runs += 1;
        }
    }
    assert!(runs > 500, "{runs}");
}

/// One pair of identities for all the property cases (generating keys per
/// case would dominate their time).
fn shared_identities() -> &'static (DtlsIdentity, DtlsIdentity) {
    static IDS: std::sync::OnceLock<(DtlsIdentity, DtlsIdentity)> = std::sync::OnceLock::new();
    IDS.get_or_init(super::dtls::identities)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random datagrams of every kind RFC 7983 tells apart.
    #[test]
    fn random_datagrams_never_panic(first in 0u8..=255, rest in proptest::collection::vec(any::<u8>(), 0..300)) {
        let (from, to) = addrs();
        let mut datagram = vec![first];
        datagram.extend(rest);
        let mut ice = responder();
        let outcome = ice.handle_input(epoch(), from, to, &datagram);
        prop_assert_ne!(outcome, CheckOutcome::Answered);
        let _ = stun_username(&datagram);
        let (id_s, id_c) = shared_identities();
        for role in [DtlsRole::Server, DtlsRole::Client] {
            let mut e = DtlsEndpoint::new(epoch(), id_s, role, id_c.fingerprint().clone()).unwrap();
            e.handle_input(epoch(), &datagram);
            e.handle_timeout(epoch() + Duration::from_secs(1));
            while e.poll_transmit().is_some() {}
            while let Some(ev) = e.poll_event() {
                prop_assert!(!matches!(ev, DtlsEvent::Connected(_)));
            }
        }
    }

    /// A valid check with a few random bytes changed is never answered
    /// with success.
    #[test]
    fn randomly_mutated_checks_are_not_authenticated(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6),
    ) {
        let (from, to) = addrs();
        let original = valid_check();
        let mut check = original.clone();
        for (at, x) in edits {
            let i = at.index(check.len());
            check[i] ^= x;
        }
        // Two edits of one byte may cancel out.
        prop_assume!(check != original);
        let mut ice = responder();
        prop_assert_ne!(ice.handle_input(epoch(), from, to, &check), CheckOutcome::Answered);
    }
}
