//! Scenario tests of the transaction layer on a virtual clock: one base
//! `Instant`, simulated milliseconds added to it, no sleeping.

mod client;
mod prop;
mod server;

use super::*;
use crate::sip::Limits;
use crate::sip::response::response_to;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A remote UA's address.
pub(crate) fn peer(transport: Transport) -> Peer {
    let addr: SocketAddr = "192.0.2.7:5060".parse().unwrap();
    Peer { transport, addr }
}

/// The UDP peer.
pub(crate) fn udp() -> Peer {
    peer(Transport::Udp)
}

/// The TCP peer.
pub(crate) fn tcp() -> Peer {
    peer(Transport::Tcp)
}

pub(crate) fn parse(text: &str) -> Message {
    Message::parse(Bytes::copy_from_slice(text.as_bytes()), &Limits::default()).unwrap()
}

pub(crate) fn parse_bytes(b: &Bytes) -> Message {
    Message::parse(b.clone(), &Limits::default()).unwrap()
}

/// A request with the given method, top Via branch (`None`: no branch) and
/// CSeq; `from_tag` and `to_tag` as given.
pub(crate) fn request(
    method: &str,
    branch: Option<&str>,
    seq: u32,
    to_tag: Option<&str>,
) -> Message {
    let branch = branch.map(|b| format!(";branch={b}")).unwrap_or_default();
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let cseq_method = method;
    parse(&format!(
        "{method} sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.7:5060{branch};rport\r\n\
         Route: <sip:edge.example.com;lr>\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=fa\r\n\
         To: <sip:bob@example.com>{to_tag}\r\nCall-ID: call-1\r\n\
         CSeq: {seq} {cseq_method}\r\nContent-Length: 0\r\n\r\n"
    ))
}

/// An INVITE from the remote UA with an RFC 3261 branch.
pub(crate) fn invite(branch: &str) -> Message {
    request("INVITE", Some(branch), 1, None)
}

/// The response a remote UAS sends to our request.
pub(crate) fn answer(req: &Message, code: u16) -> Message {
    let tag = (code > 100).then_some("uas");
    response_to(req, code, "Reason", tag)
}

/// The layer, a virtual clock, and everything it has sent and said.
pub(crate) struct Harness {
    pub(crate) layer: TransactionLayer,
    base: Instant,
    now: Instant,
    /// Every transmit, with the simulated millisecond it left at.
    pub(crate) sent: Vec<(u64, Transmit)>,
    /// Every event, with its simulated millisecond.
    pub(crate) events: Vec<(u64, TransactionEvent)>,
}

impl Harness {
    pub(crate) fn new() -> Harness {
        Self::with_config(TimerConfig::default())
    }

    pub(crate) fn with_config(config: TimerConfig) -> Harness {
        let base = crate::test_clock::epoch();
        Harness {
            layer: TransactionLayer::new(config, StdRng::seed_from_u64(1)),
            base,
            now: base,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        self.now
    }

    /// Simulated milliseconds since the start.
    pub(crate) fn elapsed(&self) -> u64 {
        u64::try_from((self.now - self.base).as_millis()).unwrap()
    }

    fn collect(&mut self) {
        let at = self.elapsed();
        while let Some(t) = self.layer.poll_transmit() {
            self.sent.push((at, t));
        }
        while let Some(e) = self.layer.poll_event() {
            self.events.push((at, e));
        }
    }

    /// Runs the clock to `ms` after the start, firing every deadline on
    /// the way at its own instant.
    pub(crate) fn run_to(&mut self, ms: u64) {
        let target = self.base + Duration::from_millis(ms);
        while let Some(deadline) = self.layer.poll_timeout() {
            if deadline > target {
                break;
            }
            self.now = self.now.max(deadline);
            self.layer.handle_timeout(self.now);
            self.collect();
        }
        self.now = self.now.max(target);
    }

    /// Runs the clock until no timer is left (bounded).
    pub(crate) fn run_out(&mut self) {
        for _ in 0..10_000 {
            let Some(deadline) = self.layer.poll_timeout() else {
                return;
            };
            self.now = self.now.max(deadline);
            self.layer.handle_timeout(self.now);
            self.collect();
        }
        panic!("timers never ran out");
    }

    pub(crate) fn receive(&mut self, message: Message, from: Peer) {
        self.layer.handle_message(self.now, message, from);
        self.collect();
    }

    pub(crate) fn send_request(&mut self, request: Message, to: Peer) -> TransactionId {
        let id = self.layer.send_request(self.now, request, to).unwrap();
        self.collect();
        id
    }

    pub(crate) fn send_response(&mut self, id: TransactionId, response: Message) {
        self.layer.send_response(self.now, id, response).unwrap();
        self.collect();
    }

    /// The times (ms) at which messages starting with `start_line` were
    /// sent.
    pub(crate) fn sent_times(&self, start_line: &str) -> Vec<u64> {
        self.sent
            .iter()
            .filter(|(_, t)| t.message.starts_with(start_line.as_bytes()))
            .map(|(at, _)| *at)
            .collect()
    }

    /// The parsed messages sent whose first line starts with `start_line`.
    pub(crate) fn sent_messages(&self, start_line: &str) -> Vec<Message> {
        self.sent
            .iter()
            .filter(|(_, t)| t.message.starts_with(start_line.as_bytes()))
            .map(|(_, t)| parse_bytes(&t.message))
            .collect()
    }

    /// Takes the events seen so far.
    pub(crate) fn take_events(&mut self) -> Vec<TransactionEvent> {
        self.events.drain(..).map(|(_, e)| e).collect()
    }

    /// The times of the events `pick` selects.
    pub(crate) fn event_times(&self, pick: impl Fn(&TransactionEvent) -> bool) -> Vec<u64> {
        self.events
            .iter()
            .filter(|(_, e)| pick(e))
            .map(|(at, _)| *at)
            .collect()
    }
}
