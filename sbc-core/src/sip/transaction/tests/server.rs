//! Server transactions: 100 Trying, absorbed retransmissions, Timers G–L,
//! the ACK of a 2xx in Accepted, CANCEL, and RFC 2543 matching.

use super::*;
use crate::sip::headers::HeaderAccess;
use crate::sip::method::Method;

const BRANCH: &str = "z9hG4bKin1";

/// The handle of the last NewRequest.
fn new_request(h: &Harness) -> TransactionId {
    h.events
        .iter()
        .rev()
        .find_map(|(_, e)| match e {
            TransactionEvent::NewRequest { id, .. } => Some(*id),
            _ => None,
        })
        .expect("a NewRequest event")
}

fn count(h: &Harness, pick: impl Fn(&TransactionEvent) -> bool) -> usize {
    h.events.iter().filter(|(_, e)| pick(e)).count()
}

fn is_terminated(id: TransactionId) -> impl Fn(&TransactionEvent) -> bool {
    move |e| *e == TransactionEvent::Terminated { id }
}

fn is_timeout(id: TransactionId) -> impl Fn(&TransactionEvent) -> bool {
    move |e| *e == TransactionEvent::Timeout { id }
}

#[test]
fn invite_gets_100_at_once_and_retransmissions_get_the_last_response() {
    let mut h = Harness::new();
    let req = invite(BRANCH);
    h.receive(req.clone(), udp());
    let id = new_request(&h);
    assert_eq!(h.layer.kind(id), Some(TransactionKind::InviteServer));
    assert_eq!(h.layer.state(id), Some(TransactionState::Proceeding));
    let trying = h.sent_messages("SIP/2.0 100");
    assert_eq!(trying.len(), 1);
    assert_eq!(trying[0].header_to().unwrap().tag(), None);
    assert_eq!(
        trying[0].top_via().unwrap().branch(),
        Some(BRANCH.as_bytes())
    );

    h.run_to(500);
    h.receive(req.clone(), udp());
    assert_eq!(h.sent_times("SIP/2.0 100"), [0, 500]);
    h.run_to(1_000);
    h.send_response(id, response_to(&req, 180, "Ringing", Some("uas")));
    h.run_to(1_200);
    h.receive(req.clone(), udp());
    assert_eq!(h.sent_times("SIP/2.0 180"), [1_000, 1_200]);
    assert_eq!(
        count(&h, |e| matches!(e, TransactionEvent::NewRequest { .. })),
        1
    );
    assert_eq!(h.layer.active_count(), 1);
    assert!(
        h.sent.iter().all(|(_, t)| t.to == udp()),
        "responses go to the source"
    );
}

#[test]
fn timer_g_caps_at_t2_and_timer_h_gives_up() {
    let mut h = Harness::new();
    let req = invite(BRANCH);
    h.receive(req.clone(), udp());
    let id = new_request(&h);
    h.run_to(2_000);
    h.send_response(id, response_to(&req, 486, "Busy Here", Some("uas")));
    assert_eq!(h.layer.state(id), Some(TransactionState::Completed));
    h.run_to(40_000);
    assert_eq!(
        h.sent_times("SIP/2.0 486"),
        [
            2_000, 2_500, 3_500, 5_500, 9_500, 13_500, 17_500, 21_500, 25_500, 29_500, 33_500
        ]
    );
    let timeouts: Vec<_> = h.event_times(is_timeout(id));
    assert_eq!(timeouts, [34_000], "Timer H is 64·T1");
    assert_eq!(h.layer.active_count(), 0);
}

#[test]
fn ack_confirms_and_timer_i_absorbs() {
    let mut h = Harness::new();
    let req = invite(BRANCH);
    h.receive(req.clone(), udp());
    let id = new_request(&h);
    h.send_response(id, response_to(&req, 486, "Busy Here", Some("uas")));
    h.run_to(400);
    let ack = request("ACK", Some(BRANCH), 1, Some("uas"));
    h.receive(ack.clone(), udp());
    assert_eq!(h.layer.state(id), Some(TransactionState::Confirmed));
    h.run_to(1_000);
    h.receive(ack, udp());
    h.receive(req, udp());
    assert_eq!(
        h.sent_times("SIP/2.0 486"),
        [0],
        "G stops, Confirmed absorbs"
    );
    assert_eq!(
        count(&h, |e| matches!(
            e,
            TransactionEvent::Ack { .. } | TransactionEvent::StrayAck { .. }
        )),
        0
    );
    h.run_to(10_000);
    assert_eq!(h.event_times(is_terminated(id)), [5_400], "Timer I is T4");
}

#[test]
fn reliable_server_transactions_do_not_linger() {
    let mut h = Harness::new();
    let req = invite(BRANCH);
    h.receive(req.clone(), tcp());
    let id = new_request(&h);
    h.send_response(id, response_to(&req, 486, "Busy Here", Some("uas")));
    h.run_to(20_000);
    assert_eq!(h.sent_times("SIP/2.0 486"), [0], "no G over TCP");
    h.receive(request("ACK", Some(BRANCH), 1, Some("uas")), tcp());
    assert_eq!(
        h.event_times(is_terminated(id)),
        [20_000],
        "Timer I is zero"
    );

    let options = request("OPTIONS", Some("z9hG4bKo"), 5, None);
    h.receive(options.clone(), tcp());
    let id = new_request(&h);
    h.send_response(id, response_to(&options, 200, "OK", Some("uas")));
    assert_eq!(
        h.event_times(is_terminated(id)),
        [20_000],
        "Timer J is zero"
    );
}

#[test]
fn accepted_retransmits_the_2xx_until_the_ack() {
    let mut h = Harness::new();
    let req = invite(BRANCH);
    h.receive(req.clone(), udp());
    let id = new_request(&h);
    h.run_to(100);
    h.send_response(id, response_to(&req, 200, "OK", Some("uas")));
    assert_eq!(h.layer.state(id), Some(TransactionState::Accepted));
    h.run_to(8_000);
    let ack = request("ACK", Some("z9hG4bKnewbranch"), 1, Some("uas"));
    h.receive(ack.clone(), udp());
    assert_eq!(
        h.events.last().map(|(_, e)| e.clone()),
        Some(TransactionEvent::Ack {
            id,
            request: ack.clone(),
            from: udp()
        })
    );
    h.run_to(9_000);
    h.receive(req, udp());
    h.receive(ack.clone(), udp());
    assert_eq!(
        h.sent_times("SIP/2.0 200"),
        [100, 600, 1_600, 3_600, 7_600, 9_000]
    );
    assert_eq!(count(&h, |e| matches!(e, TransactionEvent::Ack { .. })), 2);
    h.run_to(40_000);
    assert_eq!(
        h.event_times(is_terminated(id)),
        [32_100],
        "Timer L is 64·T1"
    );
    assert!(h.event_times(is_timeout(id)).is_empty());
    h.receive(ack, udp());
    assert!(matches!(
        h.events.last(),
        Some((_, TransactionEvent::StrayAck { .. }))
    ));
}

#[test]
fn unacknowledged_2xx_times_out_on_timer_l() {
    let mut h = Harness::new();
    let req = invite(BRANCH);
    h.receive(req.clone(), udp());
    let id = new_request(&h);
    h.run_to(100);
    h.send_response(id, response_to(&req, 200, "OK", Some("uas")));
    h.run_to(40_000);
    let times = h.sent_times("SIP/2.0 200");
    assert_eq!(times[..6], [100, 600, 1_600, 3_600, 7_600, 11_600]);
    assert_eq!(times.last(), Some(&31_600));
    assert_eq!(h.event_times(is_timeout(id)), [32_100]);
    assert_eq!(h.event_times(is_terminated(id)), [32_100]);
}

#[test]
fn non_invite_server_absorbs_and_resends() {
    let mut h = Harness::new();
    let req = request("OPTIONS", Some("z9hG4bKo1"), 3, None);
    h.receive(req.clone(), udp());
    let id = new_request(&h);
    assert_eq!(h.layer.state(id), Some(TransactionState::Trying));
    h.run_to(100);
    h.receive(req.clone(), udp());
    assert!(h.sent.is_empty(), "Trying absorbs silently");
    h.run_to(200);
    h.send_response(id, response_to(&req, 100, "Trying", None));
    h.run_to(300);
    h.receive(req.clone(), udp());
    assert_eq!(h.sent_times("SIP/2.0 100"), [200, 300]);
    h.run_to(400);
    h.send_response(id, response_to(&req, 200, "OK", Some("uas")));
    h.run_to(500);
    h.receive(req.clone(), udp());
    assert_eq!(h.sent_times("SIP/2.0 200"), [400, 500]);
    assert_eq!(
        h.layer
            .send_response(h.now(), id, response_to(&req, 500, "Oops", None)),
        Err(Error::WrongState {
            id,
            state: TransactionState::Completed,
            code: 500
        })
    );
    h.run_to(40_000);
    assert_eq!(
        h.event_times(is_terminated(id)),
        [32_400],
        "Timer J is 64·T1"
    );
    assert_eq!(
        count(&h, |e| matches!(e, TransactionEvent::NewRequest { .. })),
        1
    );
}

#[test]
fn cancel_is_answered_and_reported() {
    let mut h = Harness::new();
    let req = invite(BRANCH);
    h.receive(req.clone(), udp());
    let id = new_request(&h);
    h.run_to(100);
    h.send_response(id, response_to(&req, 180, "Ringing", Some("uas")));
    h.run_to(1_000);
    let cancel = request("CANCEL", Some(BRANCH), 1, None);
    h.receive(cancel.clone(), udp());
    let ok = h.sent_messages("SIP/2.0 200");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].cseq().unwrap().method, Method::Cancel);
    assert_eq!(ok[0].header_to().unwrap().tag(), Some(&b"uas"[..]));
    assert_eq!(
        h.events.last().map(|(_, e)| e.clone()),
        Some(TransactionEvent::Cancelled {
            id,
            cancel: cancel.clone()
        })
    );
    h.run_to(1_100);
    h.send_response(
        id,
        response_to(&req, 487, "Request Terminated", Some("uas")),
    );
    h.run_to(1_200);
    h.receive(cancel, udp());
    assert_eq!(
        h.sent_times("SIP/2.0 200"),
        [1_000, 1_200],
        "a CANCEL retransmission gets the 200 again"
    );
    h.receive(request("ACK", Some(BRANCH), 1, Some("uas")), udp());
    assert_eq!(h.layer.state(id), Some(TransactionState::Confirmed));
    h.run_out();
    assert_eq!(h.layer.active_count(), 0);
    assert_eq!(
        count(&h, |e| matches!(e, TransactionEvent::Cancelled { .. })),
        1
    );
    assert_eq!(
        count(&h, |e| matches!(e, TransactionEvent::NewRequest { .. })),
        1
    );
    assert_eq!(
        count(&h, |e| matches!(e, TransactionEvent::Terminated { .. })),
        1
    );
}

#[test]
fn cancel_without_its_invite_gets_481_and_late_cancel_changes_nothing() {
    let mut h = Harness::new();
    h.receive(request("CANCEL", Some("z9hG4bKnothing"), 1, None), udp());
    let refused = h.sent_messages("SIP/2.0 481");
    assert_eq!(refused.len(), 1);
    assert!(refused[0].header_to().unwrap().tag().is_some());
    assert!(h.events.is_empty());

    let req = invite(BRANCH);
    h.receive(req.clone(), udp());
    let id = new_request(&h);
    h.send_response(id, response_to(&req, 200, "OK", Some("uas")));
    h.receive(request("CANCEL", Some(BRANCH), 1, None), udp());
    assert_eq!(
        h.sent_messages("SIP/2.0 200").len(),
        2,
        "the 2xx and the CANCEL's 200"
    );
    assert_eq!(
        count(&h, |e| matches!(e, TransactionEvent::Cancelled { .. })),
        0
    );
}

#[test]
fn rfc2543_requests_match_without_the_cookie() {
    let mut h = Harness::new();
    let req = request("INVITE", None, 7, None);
    h.receive(req.clone(), udp());
    let id = new_request(&h);
    h.run_to(300);
    h.receive(req.clone(), udp());
    assert_eq!(h.sent_times("SIP/2.0 100"), [0, 300]);
    assert_eq!(h.layer.active_count(), 1);
    h.receive(request("INVITE", None, 8, None), udp());
    assert_eq!(
        h.layer.active_count(),
        2,
        "another CSeq is another transaction"
    );

    h.receive(request("CANCEL", None, 7, None), udp());
    assert!(
        h.events
            .iter()
            .any(|(_, e)| matches!(e, TransactionEvent::Cancelled { id: i, .. } if *i == id))
    );
    h.send_response(
        id,
        response_to(&req, 487, "Request Terminated", Some("uas")),
    );
    h.receive(request("ACK", None, 7, Some("uas")), udp());
    assert_eq!(h.layer.state(id), Some(TransactionState::Confirmed));
}

#[test]
fn unmatched_and_unusable_requests() {
    let mut h = Harness::new();
    let ack = request("ACK", Some("z9hG4bKwho"), 1, Some("x"));
    h.receive(ack.clone(), udp());
    assert_eq!(
        h.take_events(),
        [TransactionEvent::StrayAck {
            request: ack,
            from: udp()
        }]
    );
    let no_via = parse("OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n");
    h.receive(no_via, udp());
    assert!(h.events.is_empty() && h.sent.is_empty());
    let response = response_to(&invite(BRANCH), 200, "OK", None);
    h.receive(response.clone(), udp());
    assert_eq!(
        h.take_events(),
        [TransactionEvent::StrayResponse {
            response,
            from: udp()
        }]
    );
    let now = h.now();
    let gone = TransactionId::new(999);
    assert_eq!(
        h.layer
            .send_response(now, gone, Message::response(200, "OK")),
        Err(Error::UnknownTransaction(gone))
    );
    h.receive(invite(BRANCH), udp());
    let id = new_request(&h);
    assert_eq!(
        h.layer.send_response(now, id, Message::response(700, "No")),
        Err(Error::StatusCode(700))
    );
    assert_eq!(
        h.layer.send_response(now, id, invite(BRANCH)),
        Err(Error::NotAResponse)
    );
}
