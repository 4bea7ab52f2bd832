//! The answering UAS driven by a transaction layer directly, on a virtual
//! clock: the call flows, the refusals, the timeouts and the ring time.

use super::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sbc_core::sip::Limits;
use sbc_core::sip::transaction::TimerConfig;

const LOCAL: &str = "127.0.0.1:5060";

fn peer() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: "127.0.0.1:5070".parse().unwrap(),
    }
}

/// A UAS, its transaction layer and a virtual clock.
struct Harness {
    uas: AnsweringUas,
    layer: TransactionLayer,
    rng: StdRng,
    now: Instant,
}

impl Harness {
    fn new(config: UasConfig) -> Harness {
        Harness {
            uas: AnsweringUas::new(config),
            layer: TransactionLayer::new(TimerConfig::default(), StdRng::seed_from_u64(1)),
            rng: StdRng::seed_from_u64(2),
            // The one clock read: the origin of the virtual clock.
            now: Instant::now(),
        }
    }

    /// Delivers a request from the peer; returns what went out.
    fn deliver(&mut self, text: &str) -> Vec<Message> {
        let message = Message::parse(Bytes::from(text.to_owned()), &Limits::default()).unwrap();
        self.layer.handle_message(self.now, message, peer());
        self.pump()
    }

    /// Moves the clock on and fires what is due; returns what went out.
    fn advance(&mut self, by: Duration) -> Vec<Message> {
        self.now += by;
        self.layer.handle_timeout(self.now);
        let local = |_: Transport, _: SocketAddr| Some(LOCAL.parse().unwrap());
        let mut io = Io {
            layer: &mut self.layer,
            rng: &mut self.rng,
            local_addr: &local,
        };
        self.uas.handle_due(self.now, &mut io);
        self.pump()
    }

    /// Hands every event to the UAS and collects every transmit.
    fn pump(&mut self) -> Vec<Message> {
        let mut sent = Vec::new();
        loop {
            while let Some(t) = self.layer.poll_transmit() {
                assert_eq!(t.to, peer(), "everything goes back to the peer");
                sent.push(Message::parse(t.message, &Limits::default()).unwrap());
            }
            let Some(event) = self.layer.poll_event() else {
                return sent;
            };
            let local = |_: Transport, _: SocketAddr| Some(LOCAL.parse().unwrap());
            let mut io = Io {
                layer: &mut self.layer,
                rng: &mut self.rng,
                local_addr: &local,
            };
            self.uas.handle_event(self.now, event, &mut io);
        }
    }
}

/// A request from the peer in call `call`.
fn request(method: &str, branch: &str, call: &str, cseq: u32, to_tag: Option<&str>) -> String {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let (body, content_type) = if method == "INVITE" {
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio 6000 RTP/AVP 0\r\n",
            "Content-Type: application/sdp\r\n",
        )
    } else {
        ("", "")
    };
    format!(
        "{method} sip:uas@127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK{branch}\r\n\
         From: <sip:alice@127.0.0.1>;tag=caller\r\n\
         To: <sip:uas@127.0.0.1>{to_tag}\r\n\
         Call-ID: {call}\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:alice@127.0.0.1:5070>\r\n\
         Max-Forwards: 70\r\n\
         {content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn statuses(sent: &[Message]) -> Vec<u16> {
    sent.iter().map(|m| m.status().unwrap()).collect()
}

fn to_tag(m: &Message) -> String {
    String::from_utf8_lossy(m.header_to().unwrap().tag().unwrap()).into_owned()
}

/// Places call `call` and returns the UAS's To tag.
fn answered_call(h: &mut Harness, call: &str) -> String {
    let sent = h.deliver(&request("INVITE", &format!("{call}i"), call, 1, None));
    assert_eq!(statuses(&sent), [100, 180, 200]);
    to_tag(&sent[2])
}

#[test]
fn answers_confirms_and_completes_a_call() {
    let mut h = Harness::new(UasConfig::default());
    let sent = h.deliver(&request("INVITE", "i1", "c1", 1, None));
    assert_eq!(statuses(&sent), [100, 180, 200]);
    let (ringing, ok) = (&sent[1], &sent[2]);
    let tag = to_tag(ok);
    assert_eq!(to_tag(ringing), tag, "the 180 and the 200 name one dialog");
    assert_eq!(
        ok.header(HeaderName::Contact).unwrap(),
        &b"<sip:uas@127.0.0.1:5060;transport=udp>"[..]
    );
    assert!(ok.content_type().unwrap().unwrap().is("application", "sdp"));
    let sdp = String::from_utf8_lossy(&ok.body);
    assert!(sdp.contains("c=IN IP4 127.0.0.1\r\n"), "{sdp}");
    assert!(sdp.contains("m=audio 49170 RTP/AVP 0\r\n"), "{sdp}");
    assert!(sdp.contains("a=rtpmap:0 PCMU/8000\r\n"), "{sdp}");

    assert!(
        h.deliver(&request("ACK", "a1", "c1", 1, Some(&tag)))
            .is_empty()
    );
    // SIPp sends the ACK again when a 2xx retransmission crosses it.
    assert!(
        h.deliver(&request("ACK", "a1", "c1", 1, Some(&tag)))
            .is_empty()
    );
    let sent = h.deliver(&request("BYE", "b1", "c1", 2, Some(&tag)));
    assert_eq!(statuses(&sent), [200]);
    assert_eq!(to_tag(&sent[0]), tag);
    // A retransmitted BYE is answered by its transaction, not counted again.
    assert_eq!(
        statuses(&h.deliver(&request("BYE", "b1", "c1", 2, Some(&tag)))),
        [200]
    );
    let stats = h.uas.stats();
    assert_eq!(
        (
            stats.invites,
            stats.answered,
            stats.acked,
            stats.completed,
            stats.failed
        ),
        (1, 1, 1, 1, 0)
    );
    assert_eq!(h.uas.active_calls(), 0);

    // The dialog is gone: another BYE in it gets 481.
    let sent = h.deliver(&request("BYE", "b2", "c1", 3, Some(&tag)));
    assert_eq!(statuses(&sent), [481]);
}

#[test]
fn bye_refused_outside_a_dialog_and_out_of_order() {
    let mut h = Harness::new(UasConfig::default());
    let sent = h.deliver(&request("BYE", "b1", "c1", 2, Some("nosuchtag")));
    assert_eq!(statuses(&sent), [481]);
    let sent = h.deliver(&request("BYE", "b2", "c1", 2, None));
    assert_eq!(statuses(&sent), [481]);

    let tag = answered_call(&mut h, "c2");
    let sent = h.deliver(&request("BYE", "b3", "c2", 1, Some(&tag)));
    assert_eq!(statuses(&sent), [500], "CSeq not above the INVITE's");
    assert_eq!(h.uas.active_calls(), 1);
    let sent = h.deliver(&request("BYE", "b4", "c2", 2, Some(&tag)));
    assert_eq!(statuses(&sent), [200]);
    assert_eq!(h.uas.stats().completed, 1);
}

#[test]
fn a_2xx_never_acknowledged_fails_the_call_unless_the_bye_came() {
    let mut h = Harness::new(UasConfig::default());
    answered_call(&mut h, "lost");
    let quiet = answered_call(&mut h, "quiet");
    // The ACK of "quiet" is lost, but its BYE shows the 2xx got there.
    let sent = h.deliver(&request("BYE", "b1", "quiet", 2, Some(&quiet)));
    assert_eq!(statuses(&sent), [200]);

    let resent = h.advance(Duration::from_millis(500));
    assert_eq!(statuses(&resent), [200, 200], "Timer G resends both 2xx");
    h.advance(Duration::from_secs(32));
    let stats = h.uas.stats();
    assert_eq!((stats.answered, stats.acked), (2, 0));
    assert_eq!((stats.completed, stats.failed), (1, 1));
    assert!(stats.retransmissions >= 2, "{stats:?}");
    assert_eq!(h.uas.active_calls(), 0);
}

#[test]
fn rings_for_the_ring_time_and_cancel_gets_487() {
    let config = UasConfig {
        ring_time: Duration::from_secs(2),
        ..UasConfig::default()
    };
    let mut h = Harness::new(config);
    let sent = h.deliver(&request("INVITE", "i1", "c1", 1, None));
    assert_eq!(statuses(&sent), [100, 180]);
    assert_eq!(h.uas.poll_timeout(), Some(h.now + Duration::from_secs(2)));
    let sent = h.advance(Duration::from_secs(2));
    assert_eq!(statuses(&sent), [200]);
    assert_eq!(h.uas.poll_timeout(), None);
    h.deliver(&request("ACK", "a1", "c1", 1, Some(&to_tag(&sent[0]))));

    let sent = h.deliver(&request("INVITE", "i2", "c2", 1, None));
    assert_eq!(statuses(&sent), [100, 180]);
    let tag = to_tag(&sent[1]);
    let sent = h.deliver(&request("CANCEL", "i2", "c2", 1, None));
    assert_eq!(statuses(&sent), [200, 487]);
    assert_eq!(
        to_tag(&sent[0]),
        tag,
        "the CANCEL's 200 carries the dialog's tag"
    );
    assert_eq!(to_tag(&sent[1]), tag);
    assert!(
        h.deliver(&request("ACK", "i2", "c2", 1, Some(&tag)))
            .is_empty()
    );
    assert!(
        h.advance(Duration::from_secs(2)).is_empty(),
        "no 200 after all"
    );
    let stats = h.uas.stats();
    assert_eq!((stats.invites, stats.answered, stats.cancelled), (2, 1, 1));
    assert_eq!(h.uas.active_calls(), 1);
}

#[test]
fn bye_while_ringing_ends_the_invite_with_487() {
    let config = UasConfig {
        ring_time: Duration::from_secs(5),
        ..UasConfig::default()
    };
    let mut h = Harness::new(config);
    let sent = h.deliver(&request("INVITE", "i1", "c1", 1, None));
    let tag = to_tag(&sent[1]);
    let sent = h.deliver(&request("BYE", "b1", "c1", 2, Some(&tag)));
    assert_eq!(statuses(&sent), [200, 487]);
    assert!(
        h.deliver(&request("ACK", "i1", "c1", 1, Some(&tag)))
            .is_empty()
    );
    assert!(h.advance(Duration::from_secs(5)).is_empty());
    let stats = h.uas.stats();
    assert_eq!(
        (stats.answered, stats.completed, stats.cancelled),
        (0, 0, 1)
    );
}

#[test]
fn reinvite_gets_the_same_answer_options_200_others_405() {
    let mut h = Harness::new(UasConfig::default());
    let sent = h.deliver(&request("INVITE", "i1", "c1", 1, None));
    let (tag, first) = (to_tag(&sent[2]), sent[2].body.clone());
    h.deliver(&request("ACK", "a1", "c1", 1, Some(&tag)));

    let sent = h.deliver(&request("INVITE", "i2", "c1", 2, Some(&tag)));
    assert_eq!(statuses(&sent), [100, 200]);
    assert_eq!(sent[1].body, first, "the same SDP");
    assert!(
        h.deliver(&request("ACK", "a2", "c1", 2, Some(&tag)))
            .is_empty()
    );
    let sent = h.deliver(&request("INVITE", "i3", "c1", 1, Some("other")));
    assert_eq!(statuses(&sent), [100, 481]);

    let sent = h.deliver(&request("OPTIONS", "o1", "c9", 1, None));
    assert_eq!(statuses(&sent), [200]);
    assert_eq!(sent[0].header(HeaderName::Allow).unwrap(), ALLOW.as_bytes());
    let sent = h.deliver(&request("INFO", "n1", "c1", 3, Some(&tag)));
    assert_eq!(statuses(&sent), [405]);
    assert_eq!(sent[0].header(HeaderName::Allow).unwrap(), ALLOW.as_bytes());

    let stats = h.uas.stats();
    assert_eq!((stats.invites, stats.answered, stats.acked), (1, 1, 1));
}

#[test]
fn stops_after_the_calls_once_every_transaction_ended() {
    let config = UasConfig {
        stop_after: Some(1),
        ..UasConfig::default()
    };
    let mut h = Harness::new(config);
    let tag = answered_call(&mut h, "c1");
    h.deliver(&request("ACK", "a1", "c1", 1, Some(&tag)));
    h.deliver(&request("BYE", "b1", "c1", 2, Some(&tag)));
    assert!(
        !h.uas.is_finished(),
        "the BYE's transaction still absorbs retransmissions"
    );
    h.advance(Duration::from_secs(33));
    assert_eq!(h.layer.active_count(), 0);
    assert!(h.uas.is_finished());
}
