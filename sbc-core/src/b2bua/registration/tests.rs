//! The registration against a scripted registrar, through a real
//! transaction layer on a virtual clock.

use super::*;
use crate::sip::Limits;
use crate::sip::response::response_to;
use crate::sip::transaction::{TimerConfig, TransactionEvent, Transport};
use crate::test_clock::epoch;
use rand::SeedableRng;
use rand::rngs::StdRng;

const CONTACT: &str = "<sip:u1@192.0.2.1:5060;transport=udp>";

struct Harness {
    layer: TransactionLayer,
    reg: Registration,
    rng: StdRng,
    now: Instant,
}

fn config(expires: u32) -> RegistrationConfig {
    RegistrationConfig {
        registrar: Peer {
            transport: Transport::Udp,
            addr: "10.0.0.5:5060".parse().unwrap(),
        },
        request_uri: "sip:pbx.example".into(),
        aor: "<sip:1001@pbx.example>".into(),
        contact: CONTACT.into(),
        via: LocalVia::new(Transport::Udp, "192.0.2.1:5060").unwrap(),
        user_agent: "sbc-test".into(),
        credentials: Some(("1001".into(), "secret".into())),
        expires,
    }
}

impl Harness {
    fn new(expires: u32) -> Self {
        let mut rng = StdRng::seed_from_u64(1);
        let mut layer = TransactionLayer::new(TimerConfig::default(), StdRng::seed_from_u64(2));
        let now = epoch();
        let reg = Registration::start(now, config(expires), &mut layer, &mut rng).unwrap();
        Harness {
            layer,
            reg,
            rng,
            now,
        }
    }

    fn sent(&mut self) -> Vec<Message> {
        std::iter::from_fn(|| self.layer.poll_transmit())
            .map(|t| Message::parse(t.message, &Limits::default()).unwrap())
            .collect()
    }

    fn answer(&mut self, request: &Message, code: u16, extra: &[(HeaderName, &str)]) {
        let mut r = response_to(request, code, "Whatever", Some("reg"));
        for (name, value) in extra {
            r.headers.push(*name, value.to_string());
        }
        let r = Message::parse(r.to_bytes(), &Limits::default()).unwrap();
        self.layer
            .handle_message(self.now, r, self.reg.config.registrar);
        self.pump();
    }

    fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.layer.handle_timeout(self.now);
        self.pump();
        self.reg
            .handle_timeout(self.now, &mut self.layer, &mut self.rng);
    }

    fn pump(&mut self) {
        while let Some(e) = self.layer.poll_event() {
            match e {
                TransactionEvent::Response { id, response } => {
                    self.reg
                        .on_response(self.now, id, &response, &mut self.layer, &mut self.rng)
                }
                TransactionEvent::Timeout { id } => self.reg.on_failure(id, 408),
                _ => {}
            }
        }
    }

    fn events(&mut self) -> Vec<RegistrationEvent> {
        std::iter::from_fn(|| self.reg.poll_event()).collect()
    }
}

#[test]
fn challenged_then_registered_then_refreshed_then_removed() {
    let mut h = Harness::new(600);
    let first = h.sent().remove(0);
    assert_eq!(first.method(), Some(&Method::Register));
    assert_eq!(first.headers.get(HeaderName::Expires).unwrap(), "600");
    assert_eq!(first.headers.get(HeaderName::Contact).unwrap(), CONTACT);
    h.answer(
        &first,
        401,
        &[(
            HeaderName::WwwAuthenticate,
            "Digest realm=\"pbx\", nonce=\"n1\", qop=\"auth\"",
        )],
    );
    let second = h.sent().remove(0);
    assert_eq!(second.cseq().unwrap().seq, first.cseq().unwrap().seq + 1);
    assert_eq!(second.call_id().unwrap(), first.call_id().unwrap());
    assert!(second.headers.get(HeaderName::Authorization).is_some());
    // Another binding first, whose display name holds a comma.
    h.answer(
        &second,
        200,
        &[(
            HeaderName::Contact,
            "\"Desk, 2nd floor\" <sip:desk@192.0.2.9>;expires=60, \
             <sip:u1@192.0.2.1:5060;transport=udp>;expires=300",
        )],
    );
    assert_eq!(h.events(), [RegistrationEvent::Registered { expires: 300 }]);
    // Refreshed at 80 % of the granted 300 s, with the remembered nonce.
    h.advance(239);
    assert!(h.sent().is_empty());
    h.advance(1);
    let refresh = h.sent().remove(0);
    assert!(refresh.headers.get(HeaderName::Authorization).is_some());
    h.answer(&refresh, 200, &[(HeaderName::Expires, "300")]);
    assert_eq!(h.events(), [RegistrationEvent::Registered { expires: 300 }]);

    let (layer, rng) = (&mut h.layer, &mut h.rng);
    h.reg.unregister(h.now, layer, rng);
    let removal = h.sent().remove(0);
    assert_eq!(removal.headers.get(HeaderName::Expires).unwrap(), "0");
    h.answer(&removal, 200, &[]);
    assert_eq!(h.events(), [RegistrationEvent::Unregistered]);
    assert!(h.reg.is_done());
}

#[test]
fn a_refusal_is_reported_with_its_status() {
    let mut h = Harness::new(600);
    let first = h.sent().remove(0);
    h.answer(&first, 403, &[]);
    assert_eq!(
        h.events(),
        [RegistrationEvent::Failed {
            status: 403,
            reason: "Whatever".into()
        }]
    );
    assert!(h.reg.is_done());
}

#[test]
fn a_wrong_password_fails_after_repeated_challenges() {
    let mut h = Harness::new(600);
    for _ in 0..3 {
        let req = h.sent().remove(0);
        h.answer(
            &req,
            401,
            &[(
                HeaderName::WwwAuthenticate,
                "Digest realm=\"pbx\", nonce=\"n\", qop=\"auth\"",
            )],
        );
    }
    assert!(matches!(
        h.events()[..],
        [RegistrationEvent::Failed { status: 401, .. }]
    ));
}

#[test]
fn interval_too_brief_takes_min_expires() {
    let mut h = Harness::new(60);
    let first = h.sent().remove(0);
    h.answer(&first, 423, &[(HeaderName::MinExpires, "120")]);
    let second = h.sent().remove(0);
    assert_eq!(second.headers.get(HeaderName::Expires).unwrap(), "120");
}

#[test]
fn a_silent_registrar_fails_the_registration() {
    let mut h = Harness::new(600);
    let _ = h.sent();
    for _ in 0..40 {
        h.advance(1);
    }
    assert!(matches!(
        h.events()[..],
        [RegistrationEvent::Failed { status: 408, .. }]
    ));
}
