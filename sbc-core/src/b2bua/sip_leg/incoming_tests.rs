//! The UAS half of the leg: an INVITE from a scripted PBX, through a real
//! transaction layer on a virtual clock.

use super::*;
use crate::sip::Limits;
use crate::sip::transaction::{Peer, TimerConfig, TransactionEvent, Transport};
use crate::test_clock::epoch;
use rand::SeedableRng;
use rand::rngs::StdRng;

const OFFER: &str = "v=0\r\no=pbx 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n\
m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
const ANSWER: &str = "v=0\r\no=- 9 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

struct Uas {
    layer: TransactionLayer,
    leg: Option<SipLeg>,
    rng: StdRng,
    now: Instant,
    pbx: Peer,
}

fn pbx_message(text: &str) -> Message {
    Message::parse(Bytes::from(text.replace('\n', "\r\n")), &Limits::default()).unwrap()
}

fn invite() -> Message {
    pbx_message(&format!(
        "INVITE sip:r1@192.0.2.1:5060 SIP/2.0\n\
         Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKinv1\n\
         Max-Forwards: 70\nFrom: \"Bob\" <sip:1002@pbx>;tag=pbx1\nTo: <sip:1001@pbx>\n\
         Call-ID: in-1\nCSeq: 1 INVITE\nContact: <sip:1002@10.0.0.5:5060>\n\
         Content-Type: application/sdp\nContent-Length: {}\n\n{}",
        OFFER.len(),
        OFFER.replace("\r\n", "\n")
    ))
}

/// An INVITE without SDP (a late offer).
fn invite_without_offer() -> Message {
    pbx_message(
        "INVITE sip:r1@192.0.2.1:5060 SIP/2.0\n\
         Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKinv1\n\
         Max-Forwards: 70\nFrom: \"Bob\" <sip:1002@pbx>;tag=pbx1\nTo: <sip:1001@pbx>\n\
         Call-ID: in-1\nCSeq: 1 INVITE\nContact: <sip:1002@10.0.0.5:5060>\n\
         Content-Length: 0\n\n",
    )
}

impl Uas {
    fn new() -> Self {
        Self::with(invite())
    }

    fn with(invite: Message) -> Self {
        let mut u = Uas {
            layer: TransactionLayer::new(TimerConfig::default(), StdRng::seed_from_u64(3)),
            leg: None,
            rng: StdRng::seed_from_u64(4),
            now: epoch(),
            pbx: Peer {
                transport: Transport::Udp,
                addr: "10.0.0.5:5060".parse().unwrap(),
            },
        };
        u.deliver(invite);
        assert!(u.leg.is_some(), "the INVITE made a leg");
        u
    }

    fn leg(&mut self) -> &mut SipLeg {
        self.leg.as_mut().unwrap()
    }

    fn deliver(&mut self, m: Message) {
        let m = Message::parse(m.to_bytes(), &Limits::default()).unwrap();
        self.layer.handle_message(self.now, m, self.pbx);
        while let Some(e) = self.layer.poll_event() {
            let (layer, rng, now) = (&mut self.layer, &mut self.rng, self.now);
            match e {
                TransactionEvent::NewRequest { id, request, from } if self.leg.is_none() => {
                    let config = LegConfig {
                        next_hop: from,
                        request_uri: String::new(),
                        from: String::new(),
                        contact: "<sip:r1@192.0.2.1:5060;transport=udp>".into(),
                        via: crate::sip::request::LocalVia::new(Transport::Udp, "192.0.2.1:5060")
                            .unwrap(),
                        user_agent: "sbc-test".into(),
                        extra_headers: Vec::new(),
                        credentials: None,
                    };
                    self.leg = Some(SipLeg::incoming(id, &request, config, rng).unwrap());
                }
                TransactionEvent::NewRequest { id, request, .. } => self
                    .leg
                    .as_mut()
                    .unwrap()
                    .on_request(now, id, &request, layer),
                TransactionEvent::Ack { request, .. } => {
                    self.leg.as_mut().unwrap().on_ack(now, &request, layer, rng)
                }
                TransactionEvent::Cancelled { .. } => {
                    self.leg.as_mut().unwrap().on_cancelled(now, layer)
                }
                TransactionEvent::Response { id, response } => self
                    .leg
                    .as_mut()
                    .unwrap()
                    .on_response(now, id, &response, layer, rng),
                _ => {}
            }
        }
    }

    fn sent(&mut self) -> Vec<Message> {
        std::iter::from_fn(|| self.layer.poll_transmit())
            .map(|t| Message::parse(t.message, &Limits::default()).unwrap())
            .collect()
    }

    fn events(&mut self) -> Vec<LegEvent> {
        std::iter::from_fn(|| self.leg().poll_event()).collect()
    }

    fn sent_to_tag(&mut self) -> String {
        let r = self.sent().pop().unwrap();
        let to = r.header_to().unwrap();
        String::from_utf8_lossy(to.tag().unwrap()).into_owned()
    }

    fn in_dialog(&self, method: &str, seq: u32, tag: &str) -> Message {
        pbx_message(&format!(
            "{method} sip:r1@192.0.2.1:5060 SIP/2.0\n\
             Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK{method}{seq}\n\
             Max-Forwards: 70\nFrom: \"Bob\" <sip:1002@pbx>;tag=pbx1\nTo: <sip:1001@pbx>;tag={tag}\n\
             Call-ID: in-1\nCSeq: {seq} {method}\nContent-Length: 0\n\n"
        ))
    }
}

#[test]
fn ringing_answer_ack_then_the_pbx_hangs_up() {
    let mut u = Uas::new();
    assert_eq!(u.leg().remote_offer(), Some(Bytes::from(OFFER)));
    let trying = u.sent();
    assert_eq!(trying[0].status(), Some(100));
    let (leg, layer, now) = (u.leg.as_mut().unwrap(), &mut u.layer, u.now);
    leg.ringing(now, layer).unwrap();
    let ringing = u.sent().pop().unwrap();
    assert_eq!(ringing.status(), Some(180));
    let tag = String::from_utf8_lossy(ringing.header_to().unwrap().tag().unwrap()).into_owned();
    let (leg, layer, now) = (u.leg.as_mut().unwrap(), &mut u.layer, u.now);
    leg.answer(now, Bytes::from(ANSWER), layer).unwrap();
    let ok = u.sent().pop().unwrap();
    assert_eq!(ok.status(), Some(200));
    assert_eq!(&ok.body[..], ANSWER.as_bytes());
    assert!(ok.headers.get(HeaderName::Contact).is_some());
    u.deliver(u.in_dialog("ACK", 1, &tag));
    assert!(u.leg().is_confirmed());
    u.deliver(u.in_dialog("BYE", 2, &tag));
    assert_eq!(u.sent().pop().unwrap().status(), Some(200));
    assert_eq!(u.events(), [LegEvent::Ended(EndCause::RemoteHangup)]);
}

#[test]
fn the_pbx_cancels_before_the_answer() {
    let mut u = Uas::new();
    let _ = u.sent();
    let cancel = pbx_message(
        "CANCEL sip:r1@192.0.2.1:5060 SIP/2.0\n\
         Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKinv1\n\
         Max-Forwards: 70\nFrom: \"Bob\" <sip:1002@pbx>;tag=pbx1\nTo: <sip:1001@pbx>\n\
         Call-ID: in-1\nCSeq: 1 CANCEL\nContent-Length: 0\n\n",
    );
    u.deliver(cancel);
    let statuses: Vec<_> = u.sent().iter().map(|m| m.status().unwrap()).collect();
    assert_eq!(statuses, [200, 487]);
    assert_eq!(u.events(), [LegEvent::Ended(EndCause::RemoteHangup)]);
}

#[test]
fn the_browser_rejects_or_hangs_up_before_answering() {
    let mut u = Uas::new();
    let _ = u.sent();
    let (leg, layer, now) = (u.leg.as_mut().unwrap(), &mut u.layer, u.now);
    leg.reject(now, 603, layer);
    assert_eq!(u.sent().pop().unwrap().status(), Some(603));
    assert_eq!(u.events(), [LegEvent::Ended(EndCause::LocalHangup)]);

    let mut u = Uas::new();
    let _ = u.sent();
    let (leg, layer, rng, now) = (u.leg.as_mut().unwrap(), &mut u.layer, &mut u.rng, u.now);
    leg.hangup(now, layer, rng);
    assert_eq!(u.sent().pop().unwrap().status(), Some(486));
    assert!(u.leg().is_ended());
}

#[test]
fn a_hangup_after_the_answer_waits_for_the_ack() {
    let mut u = Uas::new();
    let _ = u.sent();
    let (leg, layer, now) = (u.leg.as_mut().unwrap(), &mut u.layer, u.now);
    leg.answer(now, Bytes::from(ANSWER), layer).unwrap();
    let tag = u.sent_to_tag();
    let (leg, layer, rng, now) = (u.leg.as_mut().unwrap(), &mut u.layer, &mut u.rng, u.now);
    leg.hangup(now, layer, rng);
    assert!(u.sent().is_empty(), "no BYE before the ACK");
    u.deliver(u.in_dialog("ACK", 1, &tag));
    let bye = u.sent().pop().unwrap();
    assert_eq!(bye.method(), Some(&Method::Bye));
    assert_eq!(bye.request_uri().unwrap(), "sip:1002@10.0.0.5:5060");
    let ok = response_to(&bye, 200, "OK", None);
    u.deliver(ok);
    assert_eq!(u.events(), [LegEvent::Ended(EndCause::LocalHangup)]);
}

#[test]
fn an_incoming_call_with_session_expires_is_answered_with_it() {
    let mut u = Uas::new();
    let _ = u.sent();
    // The INVITE of `invite()` has none: no timer.
    let (leg, layer, now) = (u.leg.as_mut().unwrap(), &mut u.layer, u.now);
    leg.answer(now, Bytes::from(ANSWER), layer).unwrap();
    let ok = u.sent().pop().unwrap();
    assert!(ok.headers.get(HeaderName::SessionExpires).is_none());

    let mut u = Uas {
        layer: TransactionLayer::new(TimerConfig::default(), StdRng::seed_from_u64(3)),
        leg: None,
        rng: StdRng::seed_from_u64(4),
        now: epoch(),
        pbx: Peer {
            transport: Transport::Udp,
            addr: "10.0.0.5:5060".parse().unwrap(),
        },
    };
    let mut inv = invite();
    inv.headers.push(HeaderName::SessionExpires, "600");
    inv.headers.push(HeaderName::Supported, "timer");
    u.deliver(inv);
    let _ = u.sent();
    let (leg, layer, now) = (u.leg.as_mut().unwrap(), &mut u.layer, u.now);
    leg.answer(now, Bytes::from(ANSWER), layer).unwrap();
    let ok = u.sent().pop().unwrap();
    // The PBX supports timers and left the choice: it refreshes (uac).
    assert_eq!(
        ok.headers.get(HeaderName::SessionExpires).unwrap(),
        "600;refresher=uac"
    );
    assert_eq!(ok.headers.get(HeaderName::Require).unwrap(), "timer");
}

#[test]
fn a_late_offer_is_made_in_the_200_and_answered_in_the_ack() {
    let mut u = Uas::with(invite_without_offer());
    assert!(u.leg().is_late_offer());
    let _ = u.sent();
    let (leg, layer, now) = (u.leg.as_mut().unwrap(), &mut u.layer, u.now);
    // The gateway's offer (the same text serves here).
    leg.answer(now, Bytes::from(ANSWER), layer).unwrap();
    let ok = u.sent().pop().unwrap();
    assert_eq!(&ok.body[..], ANSWER.as_bytes());
    let tag = String::from_utf8_lossy(ok.header_to().unwrap().tag().unwrap()).into_owned();
    let mut ack = u.in_dialog("ACK", 1, &tag);
    ack.set_body(Some("application/sdp"), Bytes::from(OFFER));
    u.deliver(ack);
    assert!(u.leg().is_confirmed());
    assert_eq!(
        u.events(),
        [LegEvent::Answered {
            sdp: Some(Bytes::from(OFFER))
        }]
    );
    // A retransmitted 2xx's ACK changes nothing.
    let mut again = u.in_dialog("ACK", 1, &tag);
    again.set_body(Some("application/sdp"), Bytes::from(OFFER));
    u.deliver(again);
    assert!(u.events().is_empty());
}

#[test]
fn a_late_offer_left_unanswered_in_the_ack_is_hung_up() {
    let mut u = Uas::with(invite_without_offer());
    let _ = u.sent();
    let (leg, layer, now) = (u.leg.as_mut().unwrap(), &mut u.layer, u.now);
    leg.answer(now, Bytes::from(ANSWER), layer).unwrap();
    let tag = u.sent_to_tag();
    u.deliver(u.in_dialog("ACK", 1, &tag));
    let bye = u.sent().pop().unwrap();
    assert_eq!(bye.method(), Some(&Method::Bye));
    u.deliver(response_to(&bye, 200, "OK", None));
    assert!(matches!(
        &u.events()[..],
        [LegEvent::Ended(EndCause::Protocol(_))]
    ));
}
