//! The calling side: a load-generating UAC that places a fixed number of
//! calls at a fixed rate to one peer. Each call is INVITE → (401/407 →
//! INVITE with digest credentials) → 2xx → ACK → hold → BYE → 2xx. A call
//! counts as completed only when its BYE is answered with a 2xx; anything
//! else (a final failure response, a transaction timeout, a transport
//! error) counts as failed, with the reason kept for the report.
//!
//! It talks to one peer directly: every request, ACK included, goes to
//! [`UacConfig::target`] rather than to a resolved remote target, which is
//! what a load test against one SIPp instance needs.

use crate::runtime::sip_core::{SipContext, TransactionUser};
use bytes::Bytes;
use sbc_core::sip::dialog::Dialog;
use sbc_core::sip::digest::DigestClient;
use sbc_core::sip::headers::HeaderAccess;
use sbc_core::sip::request::{LocalVia, RequestBuilder, next_attempt};
use sbc_core::sip::transaction::{Peer, TransactionEvent, TransactionId};
use sbc_core::sip::{Message, Method};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tracing::debug;

/// What to call, how often, and with which credentials.
#[derive(Debug, Clone)]
pub struct UacConfig {
    /// The peer every request goes to.
    pub target: Peer,
    /// The Request-URI and To of each INVITE, e.g. `sip:service@127.0.0.1:5060`.
    pub request_uri: String,
    /// The user part of From and Contact.
    pub user: String,
    /// How many calls to place.
    pub calls: u32,
    /// Calls started per second.
    pub rate: f64,
    /// Time between the ACK and the BYE of each call.
    pub hold: Duration,
    /// Username and password for digest challenges.
    pub credentials: Option<(String, String)>,
}

/// What happened to the calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UacStats {
    /// INVITEs sent for new calls.
    pub started: u32,
    /// Calls answered with a 2xx.
    pub answered: u32,
    /// Calls whose BYE was answered with a 2xx.
    pub completed: u32,
    /// Calls that failed.
    pub failed: u32,
    /// Challenges answered with credentials.
    pub challenges: u32,
    /// ACKs sent again for a retransmitted 2xx.
    pub acks_resent: u32,
    /// Retransmissions sent by the transaction layer, in total.
    pub retransmissions: u64,
    /// The first few failure reasons.
    pub failures: Vec<String>,
}

/// Most failure reasons kept.
const MAX_REASONS: usize = 20;
/// Challenges answered per call before giving up.
const MAX_CHALLENGES: u8 = 2;

enum Phase {
    Inviting,
    Confirmed { bye_at: Instant },
    Ending,
}

struct Call {
    invite: Message,
    dialog: Option<Dialog>,
    ack: Option<Message>,
    auth: Option<DigestClient>,
    challenges: u8,
    phase: Phase,
}

/// The load-generating UAC; run it with
/// [`start_sip`](crate::runtime::start_sip) and await the task for the
/// stats.
pub struct LoadUac {
    config: UacConfig,
    stats: UacStats,
    next_start: Option<Instant>,
    calls: HashMap<u32, Call>,
    by_transaction: HashMap<TransactionId, (u32, Method)>,
    by_call_id: HashMap<Bytes, u32>,
}

impl LoadUac {
    /// A UAC that starts calling as soon as it runs.
    pub fn new(config: UacConfig) -> Self {
        LoadUac {
            config,
            stats: UacStats::default(),
            next_start: None,
            calls: HashMap::new(),
            by_transaction: HashMap::new(),
            by_call_id: HashMap::new(),
        }
    }

    /// The figures so far.
    pub fn stats(&self) -> &UacStats {
        &self.stats
    }

    fn start_interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.config.rate.max(0.001))
    }

    fn start_call(&mut self, now: Instant, sip: &mut SipContext<'_>) -> Result<(), String> {
        let n = self.stats.started;
        self.stats.started += 1;
        let target = self.config.target;
        let local = sip
            .local_addr(target.transport, target.addr)
            .ok_or("no listener for the target's transport")?;
        let via = LocalVia::new(target.transport, &local.to_string()).map_err(|e| e.to_string())?;
        let user = &self.config.user;
        let transport = target.transport.as_str().to_ascii_lowercase();
        let ip = local.ip();
        let sdp = format!(
            "v=0\r\no=- {n} {n} IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
             m=audio 49170 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\n"
        );
        let invite = RequestBuilder::new(
            Method::Invite,
            self.config.request_uri.clone(),
            format!("<sip:{user}@{local}>"),
            format!("<{}>", self.config.request_uri),
            via,
        )
        .contact(format!("<sip:{user}@{local};transport={transport}>"))
        .user_agent(concat!("sbc-gateway-uac/", env!("CARGO_PKG_VERSION")))
        .body("application/sdp", sdp)
        .build(sip.rng)
        .map_err(|e| e.to_string())?
        .into_message();
        let call_id = invite
            .call_id()
            .map(Bytes::copy_from_slice)
            .map_err(|e| e.to_string())?;
        let id = sip
            .layer
            .send_request(now, invite.clone(), target)
            .map_err(|e| e.to_string())?;
        self.by_transaction.insert(id, (n, Method::Invite));
        self.by_call_id.insert(call_id, n);
        self.calls.insert(
            n,
            Call {
                invite,
                dialog: None,
                ack: None,
                auth: None,
                challenges: 0,
                phase: Phase::Inviting,
            },
        );
        Ok(())
    }

    fn fail(&mut self, n: u32, reason: String) {
        if self.remove(n) {
            debug!(call = n, %reason, "call failed");
            self.stats.failed += 1;
            if self.stats.failures.len() < MAX_REASONS {
                self.stats.failures.push(format!("call {n}: {reason}"));
            }
        }
    }

    /// Forgets call `n`; false when it was already gone.
    fn remove(&mut self, n: u32) -> bool {
        let Some(call) = self.calls.remove(&n) else {
            return false;
        };
        if let Ok(call_id) = call.invite.call_id() {
            self.by_call_id.remove(call_id);
        }
        true
    }

    fn on_response(&mut self, now: Instant, n: u32, response: Message, sip: &mut SipContext<'_>) {
        let Some(code) = response.status() else {
            return;
        };
        let method = match response.cseq() {
            Ok(cseq) => cseq.method,
            Err(e) => return self.fail(n, format!("response without CSeq: {e}")),
        };
        match (method, code) {
            (Method::Invite, 100..=199) => {}
            (Method::Invite, 200..=299) => self.on_invite_2xx(now, n, &response, sip),
            (Method::Invite, 401 | 407) => self.on_challenge(now, n, &response, sip),
            (Method::Invite, _) => self.fail(n, format!("INVITE answered {code}")),
            (Method::Bye, 100..=199) => {}
            (Method::Bye, 200..=299) => {
                if self.remove(n) {
                    self.stats.completed += 1;
                }
            }
            (m, _) => self.fail(n, format!("{m} answered {code}")),
        }
    }

    fn on_invite_2xx(
        &mut self,
        now: Instant,
        n: u32,
        response: &Message,
        sip: &mut SipContext<'_>,
    ) {
        let target = self.config.target;
        let hold = self.config.hold;
        let Some(call) = self.calls.get_mut(&n) else {
            return;
        };
        if let Some(ack) = &call.ack {
            // A retransmitted 2xx: its ACK was lost.
            sip.layer.send_stateless(target, ack);
            self.stats.acks_resent += 1;
            return;
        }
        let dialog = match Dialog::from_uac_response(&call.invite, response) {
            Ok(d) => d,
            Err(e) => return self.fail(n, format!("2xx does not make a dialog: {e}")),
        };
        let ack = match dialog.ack_for_2xx(response, sip.rng) {
            Ok(a) => a,
            Err(e) => return self.fail(n, format!("cannot build the ACK: {e}")),
        };
        sip.layer.send_stateless(target, &ack);
        call.ack = Some(ack);
        call.dialog = Some(dialog);
        call.phase = Phase::Confirmed { bye_at: now + hold };
        self.stats.answered += 1;
    }

    fn on_challenge(&mut self, now: Instant, n: u32, response: &Message, sip: &mut SipContext<'_>) {
        let Some((user, password)) = self.config.credentials.clone() else {
            return self.fail(n, "challenged, and no credentials".into());
        };
        let Some(call) = self.calls.get_mut(&n) else {
            return;
        };
        if call.challenges >= MAX_CHALLENGES {
            return self.fail(n, "challenged again after answering".into());
        }
        call.challenges += 1;
        let client = call
            .auth
            .get_or_insert_with(|| DigestClient::new(user, password));
        let uri = self.config.request_uri.clone();
        let credentials = match client.respond_to(response, "INVITE", &uri, sip.rng) {
            Ok(c) => c,
            Err(e) => return self.fail(n, format!("cannot answer the challenge: {e}")),
        };
        let mut next = match next_attempt(&call.invite, sip.rng) {
            Ok(m) => m,
            Err(e) => return self.fail(n, format!("cannot resend the INVITE: {e}")),
        };
        for header in credentials {
            next.headers.push(header.name, header.value);
        }
        call.invite = next.clone();
        self.stats.challenges += 1;
        match sip.layer.send_request(now, next, self.config.target) {
            Ok(id) => {
                self.by_transaction.insert(id, (n, Method::Invite));
            }
            Err(e) => self.fail(n, format!("cannot send the INVITE: {e}")),
        }
    }

    fn send_byes(&mut self, now: Instant, sip: &mut SipContext<'_>) {
        let due: Vec<u32> = self
            .calls
            .iter()
            .filter(|(_, c)| matches!(c.phase, Phase::Confirmed { bye_at } if bye_at <= now))
            .map(|(&n, _)| n)
            .collect();
        for n in due {
            let Some(call) = self.calls.get_mut(&n) else {
                continue;
            };
            call.phase = Phase::Ending;
            let bye = match call
                .dialog
                .as_mut()
                .map(|d| d.request(Method::Bye, sip.rng))
            {
                Some(Ok(bye)) => bye,
                Some(Err(e)) => return self.fail(n, format!("cannot build the BYE: {e}")),
                None => return self.fail(n, "confirmed without a dialog".into()),
            };
            match sip.layer.send_request(now, bye, self.config.target) {
                Ok(id) => {
                    self.by_transaction.insert(id, (n, Method::Bye));
                }
                Err(e) => self.fail(n, format!("cannot send the BYE: {e}")),
            }
        }
    }
}

impl TransactionUser for LoadUac {
    fn on_event(&mut self, now: Instant, event: TransactionEvent, sip: &mut SipContext<'_>) {
        self.stats.retransmissions = sip.layer.retransmissions();
        match event {
            TransactionEvent::Response { id, response } => {
                if let Some(&(n, _)) = self.by_transaction.get(&id) {
                    self.on_response(now, n, response, sip);
                }
            }
            TransactionEvent::StrayResponse { response, .. } => {
                let n = response
                    .call_id()
                    .ok()
                    .and_then(|c| self.by_call_id.get(c).copied());
                if let Some(n) = n
                    && response.status().is_some_and(|s| (200..300).contains(&s))
                {
                    self.on_invite_2xx(now, n, &response, sip);
                }
            }
            TransactionEvent::Timeout { id } => {
                if let Some((n, method)) = self.by_transaction.get(&id).cloned() {
                    self.fail(n, format!("{method} transaction timed out"));
                }
            }
            TransactionEvent::TransportError { id } => {
                if let Some((n, method)) = self.by_transaction.get(&id).cloned() {
                    self.fail(n, format!("{method} could not be sent"));
                }
            }
            TransactionEvent::Terminated { id } => {
                self.by_transaction.remove(&id);
            }
            _ => {}
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let next_bye = self
            .calls
            .values()
            .filter_map(|c| match c.phase {
                Phase::Confirmed { bye_at } => Some(bye_at),
                _ => None,
            })
            .min();
        let next_start = if self.stats.started < self.config.calls {
            Some(
                self.next_start
                    .unwrap_or_else(crate::runtime::sip_core::now),
            )
        } else {
            None
        };
        [next_bye, next_start].into_iter().flatten().min()
    }

    fn handle_timeout(&mut self, now: Instant, sip: &mut SipContext<'_>) {
        self.stats.retransmissions = sip.layer.retransmissions();
        let interval = self.start_interval();
        let mut next = self.next_start.unwrap_or(now);
        while self.stats.started < self.config.calls && next <= now {
            if let Err(reason) = self.start_call(now, sip) {
                let n = self.stats.started - 1;
                self.stats.failed += 1;
                if self.stats.failures.len() < MAX_REASONS {
                    self.stats.failures.push(format!("call {n}: {reason}"));
                }
            }
            next += interval;
        }
        self.next_start = Some(next);
        self.send_byes(now, sip);
    }

    fn is_finished(&self) -> bool {
        self.stats.started >= self.config.calls && self.calls.is_empty()
    }
}
