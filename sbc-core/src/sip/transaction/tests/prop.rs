//! Property: any sequence of received messages, TU calls, transport errors
//! and clock advances leaves the layer panic-free and consistent, and once
//! the TU has answered what it was asked, every transaction ends when the
//! timers run out.

use super::*;
use proptest::prelude::*;
use std::collections::HashSet;

const METHODS: [&str; 5] = ["INVITE", "OPTIONS", "CANCEL", "ACK", "BYE"];
const CODES: [u16; 8] = [100, 180, 183, 200, 202, 404, 487, 503];

#[derive(Debug, Clone)]
enum Op {
    Advance(u32),
    ReceiveRequest {
        method: usize,
        branch: u8,
        cookie: bool,
        seq: u32,
        to_tag: bool,
        tcp: bool,
    },
    ReceiveResponse {
        code: usize,
        branch: u8,
        method: usize,
        seq: u32,
    },
    SendRequest {
        method: usize,
        branch: u8,
        seq: u32,
        tcp: bool,
    },
    SendResponse {
        pick: usize,
        code: usize,
    },
    TransportError {
        tcp: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0u32..40_000).prop_map(Op::Advance),
        3 => (0..METHODS.len(), 0u8..3, any::<bool>(), 1u32..3, any::<bool>(), any::<bool>()).prop_map(
            |(method, branch, cookie, seq, to_tag, tcp)| Op::ReceiveRequest {
                method,
                branch,
                cookie,
                seq,
                to_tag,
                tcp
            }
        ),
        3 => (0..CODES.len(), 0u8..2, 0..METHODS.len(), 1u32..3).prop_map(|(code, branch, method, seq)| {
            Op::ReceiveResponse {
                code,
                branch,
                method,
                seq,
            }
        }),
        2 => (0..METHODS.len(), 0u8..2, 1u32..3, any::<bool>()).prop_map(|(method, branch, seq, tcp)| {
            Op::SendRequest {
                method,
                branch,
                seq,
                tcp,
            }
        }),
        2 => (any::<usize>(), 0..CODES.len()).prop_map(|(pick, code)| Op::SendResponse { pick, code }),
        1 => any::<bool>().prop_map(|tcp| Op::TransportError { tcp }),
    ]
}

fn transport(tcp: bool) -> Peer {
    if tcp { tcp_peer() } else { udp() }
}

fn tcp_peer() -> Peer {
    super::tcp()
}

fn response(code: u16, branch: u8, method: &str, seq: u32) -> Message {
    parse(&format!(
        "SIP/2.0 {code} Whatever\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKc{branch}\r\n\
         From: <sip:alice@example.com>;tag=fa\r\nTo: <sip:bob@example.com>;tag=uas\r\n\
         Call-ID: call-1\r\nCSeq: {seq} {method}\r\n\r\n"
    ))
}

fn event_id(e: &TransactionEvent) -> Option<TransactionId> {
    match e {
        TransactionEvent::NewRequest { id, .. }
        | TransactionEvent::Response { id, .. }
        | TransactionEvent::Ack { id, .. }
        | TransactionEvent::Cancelled { id, .. }
        | TransactionEvent::Timeout { id }
        | TransactionEvent::TransportError { id }
        | TransactionEvent::Terminated { id } => Some(*id),
        _ => None,
    }
}

/// The TU's view: server transactions it was given and has not seen end.
#[derive(Default)]
struct Tu {
    servers: Vec<(TransactionId, Message)>,
    ended: HashSet<TransactionId>,
}

impl Tu {
    fn absorb(&mut self, h: &mut Harness) -> Result<(), TestCaseError> {
        for e in h.take_events() {
            if let Some(id) = event_id(&e) {
                prop_assert!(!self.ended.contains(&id), "event after Terminated: {e:?}");
            }
            match e {
                TransactionEvent::NewRequest { id, request, .. } => {
                    self.servers.push((id, request))
                }
                TransactionEvent::Terminated { id } => {
                    self.ended.insert(id);
                    self.servers.retain(|(i, _)| *i != id);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut h = Harness::new();
    let mut tu = Tu::default();
    for op in ops {
        let now = h.now();
        match op {
            Op::Advance(ms) => {
                let to = h.elapsed() + u64::from(ms);
                h.run_to(to);
            }
            Op::ReceiveRequest {
                method,
                branch,
                cookie,
                seq,
                to_tag,
                tcp,
            } => {
                let b = format!("{}{branch}", if cookie { "z9hG4bKs" } else { "legacy" });
                let req = request(METHODS[method], Some(&b), seq, to_tag.then_some("uas"));
                h.receive(req, transport(tcp));
            }
            Op::ReceiveResponse {
                code,
                branch,
                method,
                seq,
            } => {
                h.receive(response(CODES[code], branch, METHODS[method], seq), udp());
            }
            Op::SendRequest {
                method,
                branch,
                seq,
                tcp,
            } => {
                let b = format!("z9hG4bKc{branch}");
                let req = request(METHODS[method], Some(&b), seq, None);
                let _ = h.layer.send_request(now, req, transport(tcp));
            }
            Op::SendResponse { pick, code } => {
                if !tu.servers.is_empty() {
                    let (id, req) = tu.servers[pick % tu.servers.len()].clone();
                    let r = response_to(&req, CODES[code], "X", Some("uas"));
                    let _ = h.layer.send_response(now, id, r);
                }
            }
            Op::TransportError { tcp } => h.layer.handle_transport_error(now, transport(tcp)),
        }
        h.run_to(h.elapsed());
        tu.absorb(&mut h)?;
        if let Some(deadline) = h.layer.poll_timeout() {
            prop_assert!(
                h.layer.active_count() > 0,
                "a deadline with no transaction at {deadline:?}"
            );
        }
    }
    // The TU answers whatever is still waiting for an answer.
    for (id, req) in tu.servers.clone() {
        let waiting = matches!(
            h.layer.state(id),
            Some(TransactionState::Trying | TransactionState::Proceeding)
        );
        if waiting {
            let now = h.now();
            prop_assert!(
                h.layer
                    .send_response(now, id, response_to(&req, 500, "X", Some("uas")))
                    .is_ok()
            );
        }
    }
    h.run_out();
    tu.absorb(&mut h)?;
    prop_assert_eq!(h.layer.active_count(), 0);
    prop_assert_eq!(h.layer.poll_timeout(), None);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_transaction_ends(ops in proptest::collection::vec(op(), 0..60)) {
        run(ops)?;
    }
}
