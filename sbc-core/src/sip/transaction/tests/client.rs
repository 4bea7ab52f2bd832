//! Client transactions: Timers A–F, K, M and C, the ACK of a non-2xx,
//! RFC 6026 Accepted, CANCEL and transport errors.

use super::*;
use crate::sip::headers::HeaderAccess;
use crate::sip::method::Method;

fn our_invite() -> Message {
    request("INVITE", Some("z9hG4bKout1"), 1, None)
}

fn our_options() -> Message {
    request("OPTIONS", Some("z9hG4bKopt1"), 2, None)
}

fn is_timeout(id: TransactionId) -> impl Fn(&TransactionEvent) -> bool {
    move |e| *e == TransactionEvent::Timeout { id }
}

fn is_terminated(id: TransactionId) -> impl Fn(&TransactionEvent) -> bool {
    move |e| *e == TransactionEvent::Terminated { id }
}

fn responses(h: &Harness, id: TransactionId) -> Vec<u16> {
    h.events
        .iter()
        .filter_map(|(_, e)| match e {
            TransactionEvent::Response { id: i, response } if *i == id => response.status(),
            _ => None,
        })
        .collect()
}

#[test]
fn timer_a_doubles_until_timer_b_gives_up() {
    let mut h = Harness::new();
    let id = h.send_request(our_invite(), udp());
    assert_eq!(h.layer.state(id), Some(TransactionState::Calling));
    h.run_to(40_000);
    assert_eq!(
        h.sent_times("INVITE"),
        [0, 500, 1_500, 3_500, 7_500, 15_500, 31_500]
    );
    assert_eq!(h.event_times(is_timeout(id)), [32_000]);
    assert_eq!(h.event_times(is_terminated(id)), [32_000]);
    assert_eq!(h.layer.retransmissions(), 6);
    assert_eq!(h.layer.active_count(), 0);
}

#[test]
fn reliable_invite_is_sent_once() {
    let mut h = Harness::new();
    let id = h.send_request(our_invite(), tcp());
    h.run_to(40_000);
    assert_eq!(h.sent_times("INVITE"), [0]);
    assert_eq!(h.event_times(is_timeout(id)), [32_000]);
    assert_eq!(h.layer.retransmissions(), 0);
}

#[test]
fn non_2xx_is_acked_by_the_transaction() {
    let mut h = Harness::new();
    let req = our_invite();
    let id = h.send_request(req.clone(), udp());
    h.run_to(100);
    h.receive(answer(&req, 180), udp());
    assert_eq!(h.layer.state(id), Some(TransactionState::Proceeding));
    h.run_to(200);
    h.receive(answer(&req, 486), udp());
    assert_eq!(h.layer.state(id), Some(TransactionState::Completed));
    assert_eq!(h.sent_times("INVITE"), [0], "A stops on a provisional");

    let acks = h.sent_messages("ACK");
    assert_eq!(acks.len(), 1);
    let ack = &acks[0];
    assert_eq!(ack.request_uri().unwrap(), req.request_uri().unwrap());
    assert_eq!(ack.vias().count(), 1);
    assert_eq!(
        ack.top_via().unwrap().branch(),
        req.top_via().unwrap().branch()
    );
    assert_eq!(ack.header_to().unwrap().tag(), Some(&b"uas"[..]));
    assert_eq!(ack.header_from().unwrap().tag(), Some(&b"fa"[..]));
    assert_eq!(ack.call_id().unwrap(), b"call-1");
    let cseq = ack.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Ack));
    assert_eq!(ack.routes().count(), 1);

    h.run_to(300);
    h.receive(answer(&req, 486), udp());
    assert_eq!(
        h.sent_times("ACK"),
        [200, 300],
        "a retransmitted final is ACKed again"
    );
    assert_eq!(responses(&h, id), [180, 486], "the TU sees the final once");

    h.run_to(32_199);
    assert_eq!(h.layer.state(id), Some(TransactionState::Completed));
    h.run_to(32_200);
    assert_eq!(
        h.event_times(is_terminated(id)),
        [32_200],
        "Timer D is 32 s"
    );
    assert_eq!(h.layer.active_count(), 0);
}

#[test]
fn timer_d_is_zero_on_reliable_transports() {
    let mut h = Harness::new();
    let req = our_invite();
    let id = h.send_request(req.clone(), tcp());
    h.receive(answer(&req, 503), tcp());
    assert_eq!(h.sent_times("ACK"), [0]);
    assert_eq!(h.event_times(is_terminated(id)), [0]);
    assert_eq!(h.layer.poll_timeout(), None);
}

#[test]
fn accepted_passes_2xx_retransmissions_until_timer_m() {
    let mut h = Harness::new();
    let req = our_invite();
    let id = h.send_request(req.clone(), udp());
    h.run_to(50);
    h.receive(answer(&req, 200), udp());
    assert_eq!(h.layer.state(id), Some(TransactionState::Accepted));
    assert!(h.sent_times("ACK").is_empty(), "the TU ACKs a 2xx");
    h.run_to(4_000);
    h.receive(answer(&req, 200), udp());
    assert_eq!(responses(&h, id), [200, 200]);
    assert_eq!(h.sent_times("INVITE"), [0]);
    h.run_to(32_050);
    assert_eq!(
        h.event_times(is_terminated(id)),
        [32_050],
        "Timer M is 64·T1"
    );
    h.receive(answer(&req, 200), udp());
    let stray = h
        .events
        .iter()
        .filter(|(_, e)| matches!(e, TransactionEvent::StrayResponse { .. }))
        .count();
    assert_eq!(stray, 1);
    let ack = Message::request(Method::Ack, "sip:bob@example.com");
    h.layer.send_stateless(udp(), &ack);
    assert_eq!(h.layer.poll_transmit().unwrap().message, ack.to_bytes());
}

#[test]
fn timer_e_caps_at_t2_then_timer_f_gives_up() {
    let mut h = Harness::new();
    let id = h.send_request(our_options(), udp());
    assert_eq!(h.layer.state(id), Some(TransactionState::Trying));
    h.run_to(40_000);
    assert_eq!(
        h.sent_times("OPTIONS"),
        [
            0, 500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
        ]
    );
    assert_eq!(h.event_times(is_timeout(id)), [32_000]);
    assert_eq!(h.layer.active_count(), 0);
}

#[test]
fn timer_e_is_t2_in_proceeding_and_k_absorbs() {
    let mut h = Harness::new();
    let req = our_options();
    let id = h.send_request(req.clone(), udp());
    h.run_to(700);
    h.receive(answer(&req, 100), udp());
    assert_eq!(h.layer.state(id), Some(TransactionState::Proceeding));
    h.run_to(10_000);
    assert_eq!(h.sent_times("OPTIONS"), [0, 500, 1_500, 5_500, 9_500]);
    h.receive(answer(&req, 200), udp());
    assert_eq!(h.layer.state(id), Some(TransactionState::Completed));
    h.run_to(12_000);
    h.receive(answer(&req, 200), udp());
    assert_eq!(responses(&h, id), [100, 200]);
    assert_eq!(h.sent_times("OPTIONS").len(), 5);
    h.run_to(20_000);
    assert_eq!(h.event_times(is_terminated(id)), [15_000], "Timer K is T4");
}

#[test]
fn reliable_non_invite_ends_on_its_final_response() {
    let mut h = Harness::new();
    let req = our_options();
    let id = h.send_request(req.clone(), tcp());
    h.run_to(3_000);
    h.receive(answer(&req, 200), tcp());
    assert_eq!(h.sent_times("OPTIONS"), [0]);
    assert_eq!(h.event_times(is_terminated(id)), [3_000], "Timer K is zero");
}

#[test]
fn timer_c_cancels_a_stuck_invite() {
    let mut h = Harness::new();
    let req = our_invite();
    let id = h.send_request(req.clone(), udp());
    h.run_to(100);
    h.receive(answer(&req, 180), udp());
    h.run_to(60_000);
    h.receive(answer(&req, 183), udp());
    h.run_to(240_999);
    assert!(
        h.sent_times("CANCEL").is_empty(),
        "each provisional refreshes C"
    );
    h.run_to(241_000);
    let cancels = h.sent_messages("CANCEL");
    assert_eq!(cancels.len(), 1);
    assert_eq!(
        cancels[0].top_via().unwrap().branch(),
        req.top_via().unwrap().branch()
    );
    h.run_to(241_100);
    h.receive(answer(&cancels[0], 200), udp());
    h.receive(answer(&req, 487), udp());
    assert_eq!(h.sent_times("ACK"), [241_100]);
    assert_eq!(responses(&h, id), [180, 183, 487]);
    h.run_out();
    assert_eq!(h.layer.active_count(), 0);
    let others: Vec<_> = h
        .events
        .iter()
        .filter(|(_, e)| !matches!(e, TransactionEvent::Response { id: i, .. } | TransactionEvent::Terminated { id: i } if *i == id))
        .collect();
    assert!(
        others.is_empty(),
        "the layer's own CANCEL is silent: {others:?}"
    );
}

#[test]
fn cancel_bounds_the_wait_for_a_final_response() {
    let mut h = Harness::new();
    let req = our_invite();
    let id = h.send_request(req.clone(), udp());
    h.run_to(100);
    h.receive(answer(&req, 180), udp());
    h.run_to(1_000);
    let cancel = h.send_request(build_cancel(&req).unwrap(), udp());
    h.run_to(40_000);
    assert_eq!(
        h.event_times(is_timeout(id)),
        [33_000],
        "64·T1 after the CANCEL"
    );
    assert_eq!(h.event_times(is_timeout(cancel)), [33_000]);
    assert_eq!(h.layer.active_count(), 0);
}

#[test]
fn transport_errors_end_the_transaction() {
    let mut h = Harness::new();
    let id = h.send_request(our_invite(), tcp());
    let other = h.send_request(our_options(), udp());
    h.layer.handle_transport_error(h.now(), tcp());
    let events = h
        .layer
        .poll_event()
        .into_iter()
        .chain(h.layer.poll_event())
        .collect::<Vec<_>>();
    assert_eq!(
        events,
        [
            TransactionEvent::TransportError { id },
            TransactionEvent::Terminated { id }
        ]
    );
    assert_eq!(h.layer.active_count(), 1);
    assert_eq!(h.layer.state(other), Some(TransactionState::Trying));
}

#[test]
fn refuses_what_a_transaction_cannot_send() {
    let mut h = Harness::new();
    let now = h.now();
    let ack = request("ACK", Some("z9hG4bKack"), 1, None);
    assert_eq!(
        h.layer.send_request(now, ack, udp()),
        Err(Error::AckIsStateless)
    );
    let legacy = request("INVITE", Some("1234"), 1, None);
    assert_eq!(
        h.layer.send_request(now, legacy, udp()),
        Err(Error::NoBranch)
    );
    let id = h.send_request(our_invite(), udp());
    assert_eq!(
        h.layer.send_request(now, our_invite(), udp()),
        Err(Error::Duplicate(id))
    );
    let response = answer(&our_invite(), 200);
    assert_eq!(
        h.layer.send_response(now, id, response.clone()),
        Err(Error::NotAServerTransaction(id))
    );
    assert_eq!(
        h.layer.send_request(now, response, udp()),
        Err(Error::NotARequest)
    );
}
