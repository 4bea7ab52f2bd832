//! Two endpoints of ours, server and client, on a virtual clock with a
//! lossless 1 ms wire.

use std::time::{Duration, Instant};

use super::super::*;
use crate::sdp::{Fingerprint, HashFunction, Setup};
use crate::test_clock::epoch;

pub(crate) struct Pair {
    pub(crate) now: Instant,
    pub(crate) server: DtlsEndpoint,
    pub(crate) client: DtlsEndpoint,
    pub(crate) server_events: Vec<DtlsEvent>,
    pub(crate) client_events: Vec<DtlsEvent>,
    /// Records the server sent, in order (for the mutation tests).
    pub(crate) server_records: Vec<Vec<u8>>,
    pub(crate) client_records: Vec<Vec<u8>>,
    /// Drop what the client sends.
    pub(crate) client_silent: bool,
}

pub(crate) fn identities() -> (DtlsIdentity, DtlsIdentity) {
    (
        DtlsIdentity::generate().unwrap(),
        DtlsIdentity::generate().unwrap(),
    )
}

impl Pair {
    /// A server with `server_id` expecting `client_fp`, a client with
    /// `client_id` expecting `server_fp`.
    pub(crate) fn new(
        server_id: &DtlsIdentity,
        client_id: &DtlsIdentity,
        client_fp: Fingerprint,
        server_fp: Fingerprint,
    ) -> Self {
        let now = epoch();
        Self {
            now,
            server: DtlsEndpoint::new(now, server_id, DtlsRole::Server, client_fp).unwrap(),
            client: DtlsEndpoint::new(now, client_id, DtlsRole::Client, server_fp).unwrap(),
            server_events: Vec::new(),
            client_events: Vec::new(),
            server_records: Vec::new(),
            client_records: Vec::new(),
            client_silent: false,
        }
    }

    pub(crate) fn honest() -> Self {
        let (s, c) = identities();
        Self::new(&s, &c, c.fingerprint().clone(), s.fingerprint().clone())
    }

    /// Delivers what each side sent, 1 ms later, or jumps to the next
    /// deadline when nothing is in flight.
    pub(crate) fn step(&mut self) {
        let mut to_client = Vec::new();
        let mut to_server = Vec::new();
        while let Some(r) = self.server.poll_transmit() {
            self.server_records.push(r.clone());
            to_client.push(r);
        }
        while let Some(r) = self.client.poll_transmit() {
            self.client_records.push(r.clone());
            if !self.client_silent {
                to_server.push(r);
            }
        }
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
        }
        let idle = to_client.is_empty() && to_server.is_empty();
        let next = [self.server.poll_timeout(), self.client.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        self.now = match next {
            Some(t) if idle => t.max(self.now + Duration::from_millis(1)),
            _ => self.now + Duration::from_millis(1),
        };
        for r in to_client {
            self.client.handle_input(self.now, &r);
        }
        for r in to_server {
            self.server.handle_input(self.now, &r);
        }
        self.server.handle_timeout(self.now);
        self.client.handle_timeout(self.now);
    }

    pub(crate) fn run(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) {
        let start = self.now;
        while !done(self) {
            assert!(self.now - start < limit, "not done within {limit:?}");
            self.step();
        }
    }

    pub(crate) fn keys(events: &[DtlsEvent]) -> Option<&SrtpKeys> {
        events.iter().find_map(|e| match e {
            DtlsEvent::Connected(k) => Some(k),
            _ => None,
        })
    }

    pub(crate) fn failure(events: &[DtlsEvent]) -> Option<DtlsFailure> {
        events.iter().find_map(|e| match e {
            DtlsEvent::Failed(f) => Some(*f),
            _ => None,
        })
    }
}

#[test]
fn server_and_client_agree_on_aes_256_gcm_keys() {
    let mut p = Pair::honest();
    p.run(Duration::from_secs(1), |p| {
        Pair::keys(&p.server_events).is_some() && Pair::keys(&p.client_events).is_some()
    });
    let s = Pair::keys(&p.server_events).unwrap();
    let c = Pair::keys(&p.client_events).unwrap();
    // dimpl offers and prefers AEAD AES-256-GCM.
    assert_eq!(s.profile(), DtlsSrtpProfile::AeadAes256Gcm);
    assert_eq!(c.profile(), s.profile());
    assert_eq!(s.local(), c.remote());
    assert_eq!(s.remote(), c.local());
    assert_ne!(s.local(), s.remote());
    assert_eq!((s.local().key().len(), s.local().salt().len()), (32, 12));
    assert!(p.server.is_connected() && p.client.is_connected());
    // Nothing else happened.
    assert_eq!(p.server_events.len(), 1);
    assert_eq!(p.client_events.len(), 1);
}

#[test]
fn a_wrong_fingerprint_fails_either_side() {
    let (s, c) = identities();
    let other = DtlsIdentity::generate().unwrap();
    // The server expects someone else's certificate.
    let mut p = Pair::new(&s, &c, other.fingerprint().clone(), s.fingerprint().clone());
    p.run(Duration::from_secs(5), |p| {
        Pair::failure(&p.server_events).is_some()
    });
    assert_eq!(
        Pair::failure(&p.server_events),
        Some(DtlsFailure::FingerprintMismatch)
    );
    assert!(Pair::keys(&p.server_events).is_none());
    assert!(p.server.is_done());
    // The client expects someone else's certificate.
    let mut p = Pair::new(&s, &c, c.fingerprint().clone(), other.fingerprint().clone());
    p.run(Duration::from_secs(5), |p| {
        Pair::failure(&p.client_events).is_some()
    });
    assert_eq!(
        Pair::failure(&p.client_events),
        Some(DtlsFailure::FingerprintMismatch)
    );
    assert!(Pair::keys(&p.client_events).is_none());
    // It gave up before sending its certificate: the server never connects.
    for _ in 0..100 {
        p.step();
    }
    assert!(Pair::keys(&p.server_events).is_none());
}

#[test]
fn a_fingerprint_with_another_hash_function_is_checked_with_it() {
    let (s, c) = identities();
    let sha512 = |id: &DtlsIdentity| Fingerprint {
        hash: HashFunction::Sha512,
        bytes: aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, &id.certificate().certificate)
            .as_ref()
            .to_vec(),
    };
    let mut p = Pair::new(&s, &c, sha512(&c), sha512(&s));
    p.run(Duration::from_secs(1), |p| {
        Pair::keys(&p.server_events).is_some() && Pair::keys(&p.client_events).is_some()
    });
    let md5 = Fingerprint {
        hash: HashFunction::Md5,
        bytes: vec![0; 16],
    };
    assert_eq!(
        DtlsEndpoint::new(epoch(), &s, DtlsRole::Server, md5).unwrap_err(),
        DtlsSetupError::UnsupportedFingerprint(HashFunction::Md5)
    );
}

#[test]
fn an_unanswered_client_retransmits_then_times_out() {
    let mut p = Pair::honest();
    p.client_silent = true;
    p.run(Duration::from_secs(60), |p| {
        Pair::failure(&p.server_events).is_some() || Pair::failure(&p.client_events).is_some()
    });
    // The server heard nothing: only the client's flight was timed.
    assert_eq!(
        Pair::failure(&p.client_events),
        Some(DtlsFailure::HandshakeTimeout)
    );
    let hellos = p.client_records.len();
    assert!(hellos >= 4, "the ClientHello was resent: {hellos} sends");
    assert!(p.client.poll_timeout().is_none());
}

#[test]
fn after_release_records_are_ignored_and_close_reaches_the_peer() {
    let mut p = Pair::honest();
    p.run(Duration::from_secs(1), |p| {
        Pair::keys(&p.server_events).is_some() && Pair::keys(&p.client_events).is_some()
    });
    p.server.release_handshake();
    assert!(p.server.is_connected());
    assert_eq!(p.server.poll_timeout(), None);
    // The client closes: its alert is ignored by the released server...
    p.client.close();
    assert!(p.client.is_done());
    for _ in 0..5 {
        p.step();
    }
    assert!(p.server.is_connected());
    assert_eq!(p.server_events.len(), 1);

    // ...and reported by a server that kept its state.
    let mut p = Pair::honest();
    p.run(Duration::from_secs(1), |p| {
        Pair::keys(&p.server_events).is_some() && Pair::keys(&p.client_events).is_some()
    });
    p.client.close();
    p.run(Duration::from_secs(1), |p| {
        p.server_events.contains(&DtlsEvent::ClosedByPeer)
    });
    assert!(p.server.is_done());
}

#[test]
fn setup_attribute_gives_the_role() {
    assert_eq!(
        DtlsRole::from_local_setup(Setup::Passive),
        Some(DtlsRole::Server)
    );
    assert_eq!(
        DtlsRole::from_local_setup(Setup::Active),
        Some(DtlsRole::Client)
    );
    assert_eq!(DtlsRole::from_local_setup(Setup::ActPass), None);
    assert_eq!(DtlsRole::from_local_setup(Setup::HoldConn), None);
}
