//! The responder against hand-made Binding requests.

use std::net::SocketAddr;
use std::time::Duration;

use super::super::stun::message::Message;
use super::super::stun::writer::MessageWriter;
use super::super::stun::{BINDING, Class, attr};
use super::super::*;
use crate::test_clock::epoch;

const LOCAL: &str = "192.0.2.1:10000";
const PEER: &str = "198.51.100.7:50000";

fn creds() -> IceCredentials {
    IceCredentials {
        ufrag: "gwUF".into(),
        pwd: "gateway-password-0123456789".into(),
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A Binding request as a browser writes one; `edit` adds or changes
/// attributes before MESSAGE-INTEGRITY (keyed with `pwd`, if any).
pub(crate) fn request(
    username: Option<&str>,
    pwd: Option<&str>,
    edit: impl FnOnce(&mut MessageWriter),
) -> Vec<u8> {
    let mut w = MessageWriter::new(Class::Request, BINDING, &[9; 12], 0);
    if let Some(u) = username {
        w.attribute(attr::USERNAME, u.as_bytes());
    }
    w.attribute(attr::ICE_CONTROLLING, &7u64.to_be_bytes());
    w.attribute(attr::PRIORITY, &0x6e00_1eff_u32.to_be_bytes());
    edit(&mut w);
    if let Some(p) = pwd {
        w.message_integrity(p.as_bytes());
    }
    w.fingerprint()
}

fn valid(edit: impl FnOnce(&mut MessageWriter)) -> Vec<u8> {
    request(Some("gwUF:brUF"), Some("gateway-password-0123456789"), edit)
}

fn responder() -> IceLite {
    IceLite::new(epoch(), creds(), Some("brUF".into()), CONSENT_TIMEOUT)
}

/// The one response queued, parsed: (class, error code, has integrity).
fn response(ice: &mut IceLite) -> (Vec<u8>, Class, Option<u16>) {
    let t = ice.poll_transmit().expect("a response");
    assert_eq!(t.source, addr(LOCAL));
    assert_eq!(t.destination, addr(PEER));
    assert!(ice.poll_transmit().is_none());
    let m = Message::parse(&t.contents).unwrap();
    let a = m.attributes().unwrap();
    assert!(m.fingerprint_ok(&a), "every response has a FINGERPRINT");
    let code = (m.class == Class::ErrorResponse).then(|| {
        let at = 20 + 4;
        u16::from(t.contents[at + 2]) * 100 + u16::from(t.contents[at + 3])
    });
    let class = m.class;
    (t.contents.clone(), class, code)
}

#[test]
fn an_authenticated_check_is_answered_and_proves_the_address() {
    let mut ice = responder();
    let out = ice.handle_input(epoch(), addr(PEER), addr(LOCAL), &valid(|_| {}));
    assert_eq!(out, CheckOutcome::Answered);
    let (bytes, class, _) = response(&mut ice);
    assert_eq!(class, Class::SuccessResponse);
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.transaction_id, [9; 12]);
    let a = m.attributes().unwrap();
    assert!(m.integrity_ok(&a, b"gateway-password-0123456789"));
    // XOR-MAPPED-ADDRESS is the browser's address as seen.
    let mut w = MessageWriter::new(Class::SuccessResponse, BINDING, &[9; 12], 0);
    w.xor_mapped_address(addr(PEER));
    let expected = w.fingerprint();
    assert_eq!(bytes[20..32], expected[20..32]);

    assert_eq!(ice.poll_event(), Some(IceEvent::PeerAddress(addr(PEER))));
    assert_eq!(ice.poll_event(), None);
    assert!(ice.is_peer(addr(PEER)));
    assert_eq!(ice.selected(), None);
    // The same address again: answered, no second event.
    ice.handle_input(epoch(), addr(PEER), addr(LOCAL), &valid(|_| {}));
    response(&mut ice);
    assert_eq!(ice.poll_event(), None);
}

#[test]
fn use_candidate_nominates_and_the_latest_nomination_wins() {
    let mut ice = responder();
    let nominate = valid(|w| w.attribute(attr::USE_CANDIDATE, &[]));
    ice.handle_input(epoch(), addr(PEER), addr(LOCAL), &nominate);
    response(&mut ice);
    assert_eq!(ice.poll_event(), Some(IceEvent::PeerAddress(addr(PEER))));
    assert_eq!(ice.poll_event(), Some(IceEvent::Nominated(addr(PEER))));
    assert_eq!(ice.selected(), Some(addr(PEER)));
    let other = addr("203.0.113.9:40000");
    ice.handle_input(epoch(), other, addr(LOCAL), &nominate);
    ice.poll_transmit().unwrap();
    assert_eq!(ice.poll_event(), Some(IceEvent::PeerAddress(other)));
    assert_eq!(ice.poll_event(), Some(IceEvent::Nominated(other)));
    assert_eq!(ice.selected(), Some(other));
}

#[test]
fn rfc5389_error_responses() {
    let t0 = epoch();
    let cases: Vec<(Vec<u8>, u16, bool)> = vec![
        // No MESSAGE-INTEGRITY, no USERNAME: 400, not authenticated.
        (request(Some("gwUF:brUF"), None, |_| {}), 400, false),
        (
            request(None, Some("gateway-password-0123456789"), |_| {}),
            400,
            false,
        ),
        // Another leg's ufrag, or not the browser's: 401.
        (
            request(
                Some("xxxx:brUF"),
                Some("gateway-password-0123456789"),
                |_| {},
            ),
            401,
            false,
        ),
        (
            request(
                Some("gwUF:zzzz"),
                Some("gateway-password-0123456789"),
                |_| {},
            ),
            401,
            false,
        ),
        (
            request(
                Some("gwUFbrUF"),
                Some("gateway-password-0123456789"),
                |_| {},
            ),
            401,
            false,
        ),
        // The wrong password: 401.
        (
            request(Some("gwUF:brUF"), Some("not-the-password"), |_| {}),
            401,
            false,
        ),
        // Authenticated, with an unknown comprehension-required attribute: 420.
        (valid(|w| w.attribute(0x7777, b"x")), 420, true),
        // Authenticated, the browser claims the controlled role too: 487.
        (
            valid(|w| w.attribute(attr::ICE_CONTROLLED, &1u64.to_be_bytes())),
            487,
            true,
        ),
    ];
    for (i, (req, code, authenticated)) in cases.into_iter().enumerate() {
        let mut ice = responder();
        let out = ice.handle_input(t0, addr(PEER), addr(LOCAL), &req);
        assert_eq!(out, CheckOutcome::Refused(code), "case {i}");
        let (bytes, class, got) = response(&mut ice);
        assert_eq!((class, got), (Class::ErrorResponse, Some(code)), "case {i}");
        let m = Message::parse(&bytes).unwrap();
        let a = m.attributes().unwrap();
        assert_eq!(a.has_integrity(), authenticated, "case {i}");
        if code == 420 {
            assert!(
                bytes
                    .windows(6)
                    .any(|w| w == [0x00, 0x0a, 0x00, 0x02, 0x77, 0x77])
            );
        }
        assert_eq!(ice.poll_event(), None, "case {i}: nothing learned");
        assert!(!ice.is_peer(addr(PEER)));
    }
}

#[test]
fn the_remote_ufrag_is_checked_once_known() {
    let mut ice = IceLite::new(epoch(), creds(), None, CONSENT_TIMEOUT);
    let any = request(
        Some("gwUF:whatever"),
        Some("gateway-password-0123456789"),
        |_| {},
    );
    // Checks can come before the browser's answer: its ufrag is unknown yet.
    assert_eq!(
        ice.handle_input(epoch(), addr(PEER), addr(LOCAL), &any),
        CheckOutcome::Answered
    );
    ice.set_remote_ufrag("brUF".into());
    assert_eq!(
        ice.handle_input(epoch(), addr(PEER), addr(LOCAL), &any),
        CheckOutcome::Refused(401)
    );
}

#[test]
fn what_is_not_a_valid_request_gets_no_answer() {
    let t0 = epoch();
    let mut ice = responder();
    let (from, to) = (addr(PEER), addr(LOCAL));
    assert_eq!(
        ice.handle_input(t0, from, to, &[0x80, 0, 0, 0]),
        CheckOutcome::NotStun
    );
    assert_eq!(
        ice.handle_input(t0, from, to, &[22, 254, 253]),
        CheckOutcome::NotStun
    );
    assert_eq!(ice.handle_input(t0, from, to, &[]), CheckOutcome::NotStun);
    assert_eq!(
        ice.handle_input(t0, from, to, &[0, 1, 0, 0]),
        CheckOutcome::Dropped(Dropped::Malformed)
    );
    // Without FINGERPRINT: a valid request with it cut off.
    let mut no_fp = valid(|_| {});
    no_fp.truncate(no_fp.len() - 8);
    let len = (no_fp.len() - 20) as u16;
    no_fp[2..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(
        ice.handle_input(t0, from, to, &no_fp),
        CheckOutcome::Dropped(Dropped::Fingerprint)
    );
    // A Binding indication (keepalive) and a success response.
    let mut indication = valid(|_| {});
    indication[1] = 0x11;
    let m = Message::parse(&indication).unwrap();
    assert_eq!(m.class, Class::Indication);
    assert_eq!(
        ice.handle_input(t0, from, to, &indication),
        CheckOutcome::Dropped(Dropped::NotARequest)
    );
    let mut resp = valid(|_| {});
    resp[0] = 0x01;
    resp[1] = 0x01;
    assert_eq!(
        ice.handle_input(t0, from, to, &resp),
        CheckOutcome::Dropped(Dropped::NotARequest)
    );
    assert!(ice.poll_transmit().is_none());
    assert_eq!(ice.poll_event(), None);
}

#[test]
fn consent_expires_thirty_seconds_after_the_last_valid_check_from_the_selected_address() {
    let t0 = epoch();
    let mut ice = responder();
    assert_eq!(ice.poll_timeout(), Some(t0 + CONSENT_TIMEOUT));
    let at = |s| t0 + Duration::from_secs(s);
    let nominate = valid(|w| w.attribute(attr::USE_CANDIDATE, &[]));
    ice.handle_input(at(10), addr(PEER), addr(LOCAL), &nominate);
    assert_eq!(ice.poll_timeout(), Some(at(40)));
    // A check from another address does not keep the selected pair alive,
    ice.handle_input(
        at(20),
        addr("203.0.113.9:40000"),
        addr(LOCAL),
        &valid(|_| {}),
    );
    assert_eq!(ice.poll_timeout(), Some(at(40)));
    // nor does one that fails authentication.
    let bad = request(Some("gwUF:brUF"), Some("wrong"), |_| {});
    ice.handle_input(at(25), addr(PEER), addr(LOCAL), &bad);
    assert_eq!(ice.poll_timeout(), Some(at(40)));
    ice.handle_input(at(30), addr(PEER), addr(LOCAL), &valid(|_| {}));
    assert_eq!(ice.poll_timeout(), Some(at(60)));
    while ice.poll_event().is_some() {}
    while ice.poll_transmit().is_some() {}
    ice.handle_timeout(at(59));
    assert!(ice.is_alive());
    ice.handle_timeout(at(60));
    assert!(!ice.is_alive());
    assert_eq!(ice.poll_event(), Some(IceEvent::ConsentExpired));
    assert_eq!(ice.poll_timeout(), None);
    assert_eq!(
        ice.handle_input(at(61), addr(PEER), addr(LOCAL), &valid(|_| {})),
        CheckOutcome::Dropped(Dropped::Expired)
    );
    assert!(ice.poll_transmit().is_none());
}

#[test]
fn a_restart_switches_credentials() {
    let mut ice = responder();
    let new = IceCredentials {
        ufrag: "NEWU".into(),
        pwd: "new-gateway-password-012345".into(),
    };
    ice.restart(new, Some("brU2".into()));
    assert_eq!(ice.local_ufrag(), "NEWU");
    let old = valid(|_| {});
    assert_eq!(
        ice.handle_input(epoch(), addr(PEER), addr(LOCAL), &old),
        CheckOutcome::Refused(401)
    );
    let fresh = request(
        Some("NEWU:brU2"),
        Some("new-gateway-password-012345"),
        |_| {},
    );
    assert_eq!(
        ice.handle_input(epoch(), addr(PEER), addr(LOCAL), &fresh),
        CheckOutcome::Answered
    );
}

#[test]
fn random_credentials_are_long_enough_and_hide_the_password() {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
    let c = IceCredentials::random(&mut rng);
    assert_eq!((c.ufrag.len(), c.pwd.len()), (16, 32));
    assert!(c.pwd.chars().all(|ch| ch.is_ascii_alphanumeric()));
    assert!(!format!("{c:?}").contains(&c.pwd));
    assert_ne!(c, IceCredentials::random(&mut rng));
}
