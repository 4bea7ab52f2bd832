//! The outgoing leg against a scripted PBX, through a real transaction
//! layer on a virtual clock: what goes on the wire is parsed back and
//! checked, the PBX's responses and requests are fed in as received bytes.

use super::*;
use crate::sip::Limits;
use crate::sip::StartLine;
use crate::sip::request::LocalVia;
use crate::sip::transaction::{Peer, TimerConfig, TransactionEvent, Transport};
use crate::test_clock::epoch;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::Duration;

const OFFER: &str = "v=0\r\no=- 7 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=audio 20000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
a=sendrecv\r\n";
const ANSWER: &str = "v=0\r\no=pbx 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n\
m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

struct Harness {
    layer: TransactionLayer,
    leg: SipLeg,
    rng: StdRng,
    now: Instant,
    pbx: Peer,
    to_tag: &'static str,
}

fn config() -> LegConfig {
    LegConfig {
        next_hop: Peer {
            transport: Transport::Udp,
            addr: "10.0.0.5:5060".parse().unwrap(),
        },
        request_uri: "sip:600@10.0.0.5:5060".into(),
        from: "<sip:browser@192.0.2.1>".into(),
        contact: "<sip:gw@192.0.2.1:5060;transport=udp>".into(),
        via: LocalVia::new(Transport::Udp, "192.0.2.1:5060").unwrap(),
        user_agent: "sbc-test".into(),
        extra_headers: vec![("X-Account".into(), "42".into())],
        credentials: Some(("1001".into(), "secret".into())),
    }
}

impl Harness {
    fn new() -> Self {
        let mut rng = StdRng::seed_from_u64(7);
        let mut layer = TransactionLayer::new(TimerConfig::default(), StdRng::seed_from_u64(8));
        let now = epoch();
        let config = config();
        let pbx = config.next_hop;
        let leg = SipLeg::start(now, config, Bytes::from(OFFER), &mut layer, &mut rng).unwrap();
        Harness {
            layer,
            leg,
            rng,
            now,
            pbx,
            to_tag: "pbxtag",
        }
    }

    /// Everything the layer sent since the last call.
    fn sent(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(t) = self.layer.poll_transmit() {
            assert_eq!(t.to, self.pbx);
            out.push(Message::parse(t.message, &Limits::default()).unwrap());
        }
        out
    }

    fn sent_methods(&mut self) -> Vec<String> {
        self.sent()
            .iter()
            .map(|m| match &m.start {
                StartLine::Request { method, .. } => method.to_string(),
                StartLine::Response { code, .. } => code.to_string(),
            })
            .collect()
    }

    fn deliver(&mut self, m: Message) {
        let bytes = m.to_bytes();
        let m = Message::parse(bytes, &Limits::default()).unwrap();
        self.layer.handle_message(self.now, m, self.pbx);
        self.pump();
    }

    fn advance(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
        self.layer.handle_timeout(self.now);
        self.pump();
    }

    fn pump(&mut self) {
        while let Some(e) = self.layer.poll_event() {
            let (leg, layer, rng, now) = (&mut self.leg, &mut self.layer, &mut self.rng, self.now);
            match e {
                TransactionEvent::Response { id, response } => {
                    leg.on_response(now, id, &response, layer, rng)
                }
                TransactionEvent::StrayResponse { response, .. } => {
                    leg.on_stray_response(&response, layer)
                }
                TransactionEvent::NewRequest { id, request, .. } => {
                    leg.on_request(now, id, &request, layer)
                }
                TransactionEvent::Timeout { id } => leg.on_timeout(now, id, layer),
                TransactionEvent::TransportError { id } => leg.on_transport_error(now, id, layer),
                _ => {}
            }
        }
    }

    fn events(&mut self) -> Vec<LegEvent> {
        std::iter::from_fn(|| self.leg.poll_event()).collect()
    }

    /// The PBX's response to `request`, with its To tag (none for 100).
    fn reply(&self, request: &Message, code: u16, sdp: Option<&str>) -> Message {
        let tag = (code > 100).then_some(self.to_tag);
        let mut r = response_to(
            request,
            code,
            crate::sip::response::reason_phrase(code),
            tag,
        );
        if (200..300).contains(&code) {
            r.headers
                .push(HeaderName::Contact, "<sip:600@10.0.0.5:5060>");
        }
        if let Some(sdp) = sdp {
            r.set_body(Some("application/sdp"), sdp.to_owned());
        }
        r
    }

    /// A request from the PBX in the dialog.
    fn pbx_request(&self, invite: &Message, method: &str, seq: u32, sdp: Option<&str>) -> Message {
        let from =
            String::from_utf8_lossy(invite.headers.get(HeaderName::From).unwrap()).into_owned();
        let call_id = String::from_utf8_lossy(invite.call_id().unwrap()).into_owned();
        let body = sdp.unwrap_or("");
        let ctype = if sdp.is_some() {
            "Content-Type: application/sdp\r\n"
        } else {
            ""
        };
        let text = format!(
            "{method} sip:gw@192.0.2.1:5060 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK{method}{seq}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:600@10.0.0.5:5060>;tag={tag}\r\nTo: {from}\r\n\
             Call-ID: {call_id}\r\nCSeq: {seq} {method}\r\nContact: <sip:600@10.0.0.5:5060>\r\n\
             {ctype}Content-Length: {}\r\n\r\n{body}",
            body.len(),
            tag = self.to_tag,
        );
        Message::parse(Bytes::from(text), &Limits::default()).unwrap()
    }

    fn answered_call() -> (Self, Message) {
        let mut h = Harness::new();
        let invite = h.sent().remove(0);
        h.deliver(h.reply(&invite, 180, None));
        h.deliver(h.reply(&invite, 200, Some(ANSWER)));
        assert_eq!(h.sent_methods(), ["ACK"]);
        let _ = h.events();
        (h, invite)
    }
}

#[test]
fn the_invite_is_the_gateways_own_with_only_allowed_headers() {
    let mut h = Harness::new();
    let invite = h.sent().remove(0);
    assert_eq!(invite.request_uri().unwrap(), "sip:600@10.0.0.5:5060");
    assert_eq!(
        invite.headers.get(HeaderName::To).unwrap(),
        "<sip:600@10.0.0.5:5060>"
    );
    assert!(
        invite
            .headers
            .get(HeaderName::From)
            .unwrap()
            .starts_with(b"<sip:browser@192.0.2.1>;tag=")
    );
    assert_eq!(invite.headers.get_raw("X-Account").unwrap(), "42");
    assert_eq!(&invite.body[..], OFFER.as_bytes());
    assert_eq!(h.leg.call_id(), invite.call_id().unwrap());
    assert_eq!(h.leg.take_transactions().len(), 1);
}

#[test]
fn ringing_then_answer_then_local_bye() {
    let mut h = Harness::new();
    let invite = h.sent().remove(0);
    h.deliver(h.reply(&invite, 100, None));
    h.deliver(h.reply(&invite, 180, None));
    assert_eq!(
        h.events(),
        [LegEvent::Progress {
            status: 180,
            sdp: None
        }]
    );
    h.deliver(h.reply(&invite, 200, Some(ANSWER)));
    assert_eq!(
        h.events(),
        [LegEvent::Answered {
            sdp: Some(Bytes::from(ANSWER))
        }]
    );
    let ack = h.sent().remove(0);
    assert_eq!(ack.method(), Some(&Method::Ack));
    assert_eq!(ack.request_uri().unwrap(), "sip:600@10.0.0.5:5060");
    assert!(h.leg.is_confirmed());
    // A retransmitted 2xx is ACKed again.
    h.deliver(h.reply(&invite, 200, Some(ANSWER)));
    assert_eq!(h.sent_methods(), ["ACK"]);

    let (leg, layer, rng) = (&mut h.leg, &mut h.layer, &mut h.rng);
    leg.hangup(h.now, layer, rng);
    let bye = h.sent().remove(0);
    assert_eq!(bye.method(), Some(&Method::Bye));
    h.deliver(h.reply(&bye, 200, None));
    assert_eq!(h.events(), [LegEvent::Ended(EndCause::LocalHangup)]);
    assert!(h.leg.is_ended());
}

#[test]
fn early_media_in_183_then_an_answer_without_sdp() {
    let mut h = Harness::new();
    let invite = h.sent().remove(0);
    h.deliver(h.reply(&invite, 183, Some(ANSWER)));
    h.deliver(h.reply(&invite, 200, None));
    assert_eq!(
        h.events(),
        [
            LegEvent::Progress {
                status: 183,
                sdp: Some(Bytes::from(ANSWER))
            },
            LegEvent::Answered { sdp: None }
        ]
    );
}

#[test]
fn an_answer_without_any_sdp_ends_the_call_with_a_bye() {
    let mut h = Harness::new();
    let invite = h.sent().remove(0);
    h.deliver(h.reply(&invite, 200, None));
    let sent = h.sent();
    assert_eq!(
        sent.iter()
            .map(|m| m.method().unwrap().to_string())
            .collect::<Vec<_>>(),
        ["ACK", "BYE"]
    );
    assert!(
        h.events().is_empty(),
        "the call ends when the BYE is answered"
    );
    h.deliver(h.reply(&sent[1], 200, None));
    // Once, and for the reason of the BYE.
    assert!(matches!(
        h.events()[..],
        [LegEvent::Ended(EndCause::Protocol(_))]
    ));
}

#[test]
fn busy_ends_the_call_with_its_status_and_reason() {
    let mut h = Harness::new();
    let invite = h.sent().remove(0);
    h.deliver(h.reply(&invite, 486, None));
    assert_eq!(h.sent_methods(), ["ACK"]);
    assert_eq!(
        h.events(),
        [LegEvent::Ended(EndCause::Rejected {
            status: 486,
            reason: "Busy Here".into()
        })]
    );
}

#[test]
fn hangup_before_any_provisional_cancels_once_one_arrives() {
    let mut h = Harness::new();
    let invite = h.sent().remove(0);
    let (leg, layer, rng) = (&mut h.leg, &mut h.layer, &mut h.rng);
    leg.hangup(h.now, layer, rng);
    assert!(h.sent().is_empty(), "no CANCEL before a provisional");
    h.deliver(h.reply(&invite, 180, None));
    let cancel = h.sent().remove(0);
    assert_eq!(cancel.method(), Some(&Method::Cancel));
    assert_eq!(
        cancel.top_via().unwrap().branch(),
        invite.top_via().unwrap().branch()
    );
    h.deliver(h.reply(&cancel, 200, None));
    h.deliver(h.reply(&invite, 487, None));
    assert_eq!(h.events(), [LegEvent::Ended(EndCause::LocalHangup)]);
}

#[test]
fn an_answer_crossing_the_cancel_is_acked_and_ended_with_bye() {
    let mut h = Harness::new();
    let invite = h.sent().remove(0);
    h.deliver(h.reply(&invite, 180, None));
    let _ = h.events();
    let (leg, layer, rng) = (&mut h.leg, &mut h.layer, &mut h.rng);
    leg.hangup(h.now, layer, rng);
    assert_eq!(h.sent_methods(), ["CANCEL"]);
    h.deliver(h.reply(&invite, 200, Some(ANSWER)));
    let sent = h.sent();
    assert_eq!(sent.len(), 2);
    h.deliver(h.reply(&sent[1], 200, None));
    assert_eq!(h.events(), [LegEvent::Ended(EndCause::LocalHangup)]);
}

#[test]
fn a_proxy_challenge_is_answered_with_credentials() {
    let mut h = Harness::new();
    let invite = h.sent().remove(0);
    let mut r = h.reply(&invite, 407, None);
    r.headers.push(
        HeaderName::ProxyAuthenticate,
        "Digest realm=\"pbx.example\", nonce=\"abc123\", qop=\"auth\"",
    );
    h.deliver(r);
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "ACK for the 407, then the new INVITE");
    let retry = &sent[1];
    assert_eq!(retry.cseq().unwrap().seq, invite.cseq().unwrap().seq + 1);
    assert_eq!(retry.call_id().unwrap(), invite.call_id().unwrap());
    assert!(retry.headers.get(HeaderName::ProxyAuthorization).is_some());
    assert_eq!(h.leg.take_transactions().len(), 2);
    h.deliver(h.reply(retry, 200, Some(ANSWER)));
    assert!(matches!(h.events()[..], [LegEvent::Answered { .. }]));
}

#[test]
fn a_challenge_without_credentials_ends_the_call() {
    let mut config = config();
    config.credentials = None;
    let mut rng = StdRng::seed_from_u64(3);
    let mut layer = TransactionLayer::new(TimerConfig::default(), StdRng::seed_from_u64(4));
    let mut leg = SipLeg::start(epoch(), config, Bytes::from(OFFER), &mut layer, &mut rng).unwrap();
    let t = layer.poll_transmit().unwrap();
    let invite = Message::parse(t.message, &Limits::default()).unwrap();
    let mut r = response_to(&invite, 401, "Unauthorized", Some("x"));
    r.headers.push(
        HeaderName::WwwAuthenticate,
        "Digest realm=\"r\", nonce=\"n\", qop=\"auth\"",
    );
    let id = leg.take_transactions()[0];
    leg.on_response(epoch(), id, &r, &mut layer, &mut rng);
    assert!(matches!(
        leg.poll_event(),
        Some(LegEvent::Ended(EndCause::Rejected { status: 401, .. }))
    ));
}

#[test]
fn a_bye_from_the_pbx_is_answered_and_ends_the_call() {
    let (mut h, invite) = Harness::answered_call();
    h.deliver(h.pbx_request(&invite, "BYE", 1, None));
    assert_eq!(h.sent_methods(), ["200"]);
    assert_eq!(h.events(), [LegEvent::Ended(EndCause::RemoteHangup)]);
}

#[test]
fn a_hold_reinvite_is_answered_recvonly_and_reported() {
    let (mut h, invite) = Harness::answered_call();
    let hold = ANSWER.replace("o=pbx 1 1", "o=pbx 1 2") + "a=sendonly\r\n";
    h.deliver(h.pbx_request(&invite, "INVITE", 2, Some(&hold)));
    let ok = h.sent().pop().unwrap();
    assert_eq!(ok.status(), Some(200));
    let body = String::from_utf8_lossy(&ok.body).into_owned();
    assert!(body.contains("a=recvonly"), "{body}");
    assert!(body.contains("o=- 7 2 IN IP4"), "version raised: {body}");
    assert_eq!(
        h.events(),
        [LegEvent::Updated {
            sdp: Bytes::from(hold.clone()),
            held: true
        }]
    );
    // Resume: sendrecv again, version up once more.
    let resume = ANSWER.replace("o=pbx 1 1", "o=pbx 1 3");
    h.deliver(h.pbx_request(&invite, "INVITE", 3, Some(&resume)));
    let ok = h.sent().pop().unwrap();
    let body = String::from_utf8_lossy(&ok.body).into_owned();
    assert!(
        body.contains("a=sendrecv") && body.contains("o=- 7 3 "),
        "{body}"
    );
    assert!(matches!(
        h.events()[..],
        [LegEvent::Updated { held: false, .. }]
    ));
}

#[test]
fn dtmf_info_from_the_pbx_is_reported() {
    let (mut h, invite) = Harness::answered_call();
    let mut info = h.pbx_request(&invite, "INFO", 4, None);
    info.set_body(
        Some("application/dtmf-relay"),
        "Signal=5\r\nDuration=160\r\n",
    );
    h.deliver(info);
    assert_eq!(h.sent_methods(), ["200"]);
    assert_eq!(
        h.events(),
        [LegEvent::DtmfInfo {
            digit: '5',
            duration_ms: Some(160)
        }]
    );
}

#[test]
fn dtmf_info_to_the_pbx_needs_an_answered_call() {
    let mut h = Harness::new();
    let (leg, layer, rng) = (&mut h.leg, &mut h.layer, &mut h.rng);
    assert!(matches!(
        leg.send_dtmf_info(h.now, '1', 100, layer, rng),
        Err(LegError::State(_))
    ));
    let (mut h, _) = Harness::answered_call();
    let (leg, layer, rng) = (&mut h.leg, &mut h.layer, &mut h.rng);
    leg.send_dtmf_info(h.now, '#', 100, layer, rng).unwrap();
    let info = h.sent().remove(0);
    assert_eq!(info.method(), Some(&Method::Info));
    assert_eq!(&info.body[..], b"Signal=#\r\nDuration=100\r\n");
}

#[test]
fn no_answer_at_all_times_the_call_out() {
    let mut h = Harness::new();
    let _ = h.sent();
    for _ in 0..70 {
        h.advance(1000);
    }
    assert_eq!(h.events(), [LegEvent::Ended(EndCause::Timeout)]);
}

#[test]
fn requests_for_another_dialog_get_481() {
    let mut h = Harness::new();
    let invite = h.sent().remove(0);
    h.deliver(h.pbx_request(&invite, "BYE", 1, None));
    assert_eq!(h.sent_methods(), ["481"]);
    assert!(h.events().is_empty());
}

#[test]
fn the_gateway_holds_and_resumes_with_reinvites() {
    let (mut h, _) = Harness::answered_call();
    let (leg, layer, rng) = (&mut h.leg, &mut h.layer, &mut h.rng);
    leg.set_hold(h.now, true, layer, rng).unwrap();
    let hold = h.sent().remove(0);
    assert_eq!(hold.method(), Some(&Method::Invite));
    let body = String::from_utf8_lossy(&hold.body).into_owned();
    assert!(
        body.contains("a=sendonly") && body.contains("o=- 7 2 "),
        "{body}"
    );
    let (leg, layer, rng) = (&mut h.leg, &mut h.layer, &mut h.rng);
    assert!(
        matches!(
            leg.set_hold(h.now, false, layer, rng),
            Err(LegError::State(_))
        ),
        "one at a time"
    );
    let answer = ANSWER.to_owned() + "a=recvonly\r\n";
    h.deliver(h.reply(&hold, 200, Some(&answer)));
    assert_eq!(h.sent_methods(), ["ACK"]);
    assert_eq!(
        h.events(),
        [LegEvent::HoldChanged {
            held: true,
            sdp: Some(Bytes::from(answer.clone()))
        }]
    );
    // A retransmitted 2xx of the re-INVITE gets its own ACK again.
    h.deliver(h.reply(&hold, 200, Some(&answer)));
    let again = h.sent();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].cseq().unwrap().seq, hold.cseq().unwrap().seq);

    let (leg, layer, rng) = (&mut h.leg, &mut h.layer, &mut h.rng);
    leg.set_hold(h.now, false, layer, rng).unwrap();
    let resume = h.sent().remove(0);
    assert!(String::from_utf8_lossy(&resume.body).contains("a=sendrecv"));
    h.deliver(h.reply(&resume, 491, None));
    assert_eq!(h.events(), [LegEvent::HoldFailed { status: 491 }]);
    assert!(
        h.leg.is_confirmed(),
        "a refused re-INVITE leaves the call up"
    );
}

impl Harness {
    /// Fires the leg's timer when due, after moving the clock `secs`.
    fn tick(&mut self, secs: u64) {
        self.advance(secs * 1000);
        if self.leg.poll_timeout().is_some_and(|t| t <= self.now) {
            let (leg, layer, rng) = (&mut self.leg, &mut self.layer, &mut self.rng);
            leg.handle_timeout(self.now, layer, rng);
        }
    }

    fn answered_with(extra: (HeaderName, &str)) -> (Self, Message) {
        let mut h = Harness::new();
        let invite = h.sent().remove(0);
        let mut ok = h.reply(&invite, 200, Some(ANSWER));
        ok.headers.push(extra.0, extra.1.to_owned());
        h.deliver(ok);
        assert_eq!(h.sent_methods(), ["ACK"]);
        let _ = h.events();
        (h, invite)
    }
}

#[test]
fn the_invite_asks_for_a_session_timer() {
    let mut h = Harness::new();
    let invite = h.sent().remove(0);
    assert_eq!(
        invite.headers.get(HeaderName::SessionExpires).unwrap(),
        "1800"
    );
    assert_eq!(invite.headers.get(HeaderName::MinSe).unwrap(), "90");
    assert!(
        String::from_utf8_lossy(invite.headers.get(HeaderName::Supported).unwrap())
            .contains("timer")
    );
}

#[test]
fn as_refresher_the_gateway_reinvites_at_half_the_interval() {
    let (mut h, _) = Harness::answered_with((HeaderName::SessionExpires, "120;refresher=uac"));
    h.tick(59);
    assert!(h.sent().is_empty());
    h.tick(1);
    let refresh = h.sent().remove(0);
    assert_eq!(refresh.method(), Some(&Method::Invite));
    assert_eq!(&refresh.body[..], OFFER.as_bytes(), "the same description");
    assert_eq!(
        refresh.headers.get(HeaderName::SessionExpires).unwrap(),
        "120;refresher=uac"
    );
    h.deliver(h.reply(&refresh, 200, Some(ANSWER)));
    assert_eq!(h.sent_methods(), ["ACK"]);
    assert!(h.events().is_empty(), "a refresh is not an event");
    // And again 60 s after the refresh was answered.
    h.tick(60);
    assert_eq!(h.sent_methods(), ["INVITE"]);
}

#[test]
fn without_the_pbxs_refresh_the_call_ends_as_expired() {
    let (mut h, invite) = Harness::answered_with((HeaderName::SessionExpires, "120;refresher=uas"));
    // A refresh from the PBX at 60 s keeps the call.
    h.tick(60);
    let mut refresh = h.pbx_request(&invite, "UPDATE", 2, None);
    refresh
        .headers
        .push(HeaderName::SessionExpires, "120;refresher=uas");
    h.deliver(refresh);
    let ok = h.sent().pop().unwrap();
    assert_eq!(ok.status(), Some(200));
    assert_eq!(
        ok.headers.get(HeaderName::SessionExpires).unwrap(),
        "120;refresher=uas"
    );
    // None after it: BYE at 120 - 32 s.
    h.tick(87);
    assert!(h.sent().is_empty());
    h.tick(1);
    let bye = h.sent().remove(0);
    assert_eq!(bye.method(), Some(&Method::Bye));
    h.deliver(h.reply(&bye, 200, None));
    assert_eq!(h.events(), [LegEvent::Ended(EndCause::SessionExpired)]);
}

/// A PBX gone silent is why a session timer lapses; its BYE then times out
/// too, and the call still ends as expired, not as hung up.
#[test]
fn a_lapsed_session_whose_bye_goes_unanswered_still_ends_as_expired() {
    let (mut h, _) = Harness::answered_with((HeaderName::SessionExpires, "120;refresher=uas"));
    h.tick(88);
    let bye = h.sent().remove(0);
    assert_eq!(bye.method(), Some(&Method::Bye));
    h.tick(40); // past Timer F (32 s)
    assert_eq!(h.events(), [LegEvent::Ended(EndCause::SessionExpired)]);
}

#[test]
fn an_answer_without_session_expires_means_no_timer() {
    let (mut h, _) = Harness::answered_call();
    assert_eq!(h.leg.poll_timeout(), None);
    h.tick(4000);
    assert!(h.sent().is_empty());
}

#[test]
fn a_blind_transfer_is_a_refer_with_progress_in_notifies() {
    let (mut h, invite) = Harness::answered_call();
    let (leg, layer, rng) = (&mut h.leg, &mut h.layer, &mut h.rng);
    leg.transfer(h.now, "sip:602@10.0.0.5:5060", layer, rng)
        .unwrap();
    let refer = h.sent().remove(0);
    assert_eq!(refer.method(), Some(&Method::Refer));
    assert_eq!(
        refer.headers.get(HeaderName::ReferTo).unwrap(),
        "<sip:602@10.0.0.5:5060>"
    );
    h.deliver(h.reply(&refer, 202, None));
    assert_eq!(h.events(), [LegEvent::TransferAccepted]);
    for (seq, frag) in [(2, "SIP/2.0 100 Trying"), (3, "SIP/2.0 200 OK")] {
        let mut notify = h.pbx_request(&invite, "NOTIFY", seq, None);
        notify.headers.push(HeaderName::Event, "refer");
        notify.set_body(Some("message/sipfrag"), frag.to_owned());
        h.deliver(notify);
        assert_eq!(h.sent().pop().unwrap().status(), Some(200));
    }
    assert_eq!(
        h.events(),
        [
            LegEvent::TransferProgress { status: 100 },
            LegEvent::TransferProgress { status: 200 }
        ]
    );
    // A refused REFER leaves the call up.
    let (leg, layer, rng) = (&mut h.leg, &mut h.layer, &mut h.rng);
    leg.transfer(h.now, "sip:603@10.0.0.5:5060", layer, rng)
        .unwrap();
    let refer = h.sent().remove(0);
    h.deliver(h.reply(&refer, 403, None));
    assert_eq!(h.events(), [LegEvent::TransferFailed { status: 403 }]);
    assert!(h.leg.is_confirmed());
}
