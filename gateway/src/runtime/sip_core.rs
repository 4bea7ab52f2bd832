//! The SIP core task: the one task that drives the sans-IO transaction
//! layer. It frames, parses and validates what the transports receive,
//! answers malformed requests itself, feeds the rest to the transaction
//! layer with the current time, sends what the layer transmits and hands
//! its events to a [`TransactionUser`] (the gateway's UAS core, or a test
//! user agent). The clock is read here and nowhere below.

use super::transport::{Inbound, TransportEvent, Transports};
use crate::metrics::{Metrics, ReasonLabels, count_sip};
use crate::redact::Redacted;
use bytes::Bytes;
use rand::rngs::StdRng;
use sbc_core::sip::framing::{Frame, frame_datagram};
use sbc_core::sip::received::stamp_received;
pub use sbc_core::sip::response::reason_phrase;
use sbc_core::sip::response::response_to;
use sbc_core::sip::transaction::{Peer, TransactionEvent, TransactionLayer, Transport};
use sbc_core::sip::validate::{validate_request, validate_response};
use sbc_core::sip::{Limits, Message};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tracing::{debug, trace};

/// What a transaction user may do while handling an event: use the
/// transaction layer, the transports' addresses, and the seeded RNG.
pub struct SipContext<'a> {
    /// The transaction layer.
    pub layer: &'a mut TransactionLayer,
    /// The transports (for local addresses).
    pub transports: &'a Transports,
    /// Randomness for tags, branches and Call-IDs.
    pub rng: &'a mut StdRng,
}

impl SipContext<'_> {
    /// The `host:port` this process is reached at over `transport` by
    /// `peer`, for Via sent-by and Contact.
    pub fn local_addr(
        &self,
        transport: Transport,
        peer: std::net::SocketAddr,
    ) -> Option<std::net::SocketAddr> {
        self.transports
            .listener_for(transport, peer)
            .map(|l| l.addr)
    }
}

/// The layer above transactions: reacts to their events, may keep timers of
/// its own.
pub trait TransactionUser: Send {
    /// A transaction event happened.
    fn on_event(&mut self, now: Instant, event: TransactionEvent, sip: &mut SipContext<'_>);

    /// The user's next deadline, if any.
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Called when the deadline passed (or earlier: check `now`).
    fn handle_timeout(&mut self, _now: Instant, _sip: &mut SipContext<'_>) {}

    /// True when the user is done and the core may stop (test agents).
    fn is_finished(&self) -> bool {
        false
    }
}

/// Work another task hands to the SIP core: it runs on the core's task
/// with the transaction user and the layer, at the current time.
pub type SipCommand<U> = Box<dyn FnOnce(&mut U, Instant, &mut SipContext<'_>) + Send>;

/// Another task's way into the SIP core (the signaling sessions place and
/// end calls through it).
pub struct SipHandle<U> {
    commands: mpsc::UnboundedSender<SipCommand<U>>,
}

impl<U> Clone for SipHandle<U> {
    fn clone(&self) -> Self {
        SipHandle {
            commands: self.commands.clone(),
        }
    }
}

impl<U: 'static> SipHandle<U> {
    /// A handle and the receiver the core reads.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<SipCommand<U>>) {
        let (commands, rx) = mpsc::unbounded_channel();
        (SipHandle { commands }, rx)
    }

    /// Runs `f` on the SIP core and returns what it returns; `None` when
    /// the core has stopped.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut U, Instant, &mut SipContext<'_>) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let command: SipCommand<U> = Box::new(move |user, now, sip| {
            let _ = tx.send(f(user, now, sip));
        });
        self.commands.send(command).ok()?;
        rx.await.ok()
    }

    /// Runs `f` on the SIP core without waiting for it.
    pub fn spawn(&self, f: impl FnOnce(&mut U, Instant, &mut SipContext<'_>) + Send + 'static) {
        let _ = self.commands.send(Box::new(f));
    }
}

/// Runs the SIP core until `shutdown` turns true, the inbound channel
/// closes, or the user says it is finished.
#[allow(clippy::too_many_arguments)]
pub async fn run<U: TransactionUser>(
    mut layer: TransactionLayer,
    transports: Transports,
    mut inbound: mpsc::Receiver<TransportEvent>,
    mut commands: mpsc::UnboundedReceiver<SipCommand<U>>,
    mut user: U,
    mut rng: StdRng,
    limits: Limits,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) -> U {
    let mut retransmissions = 0;
    loop {
        flush(&mut layer, &transports, &mut user, &mut rng, &metrics);
        metrics
            .sip_transactions_active
            .set(i64::try_from(layer.active_count()).unwrap_or(i64::MAX));
        let total = layer.retransmissions();
        metrics
            .sip_retransmissions
            .inc_by(total.saturating_sub(retransmissions));
        retransmissions = total;
        if user.is_finished() || *shutdown.borrow() {
            return user;
        }
        let deadline = [layer.poll_timeout(), user.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| now() + Duration::from_secs(3600));
        tokio::select! {
            received = inbound.recv() => {
                match received {
                    None => return user,
                    Some(TransportEvent::Received(r)) => handle_inbound(&mut layer, &transports, r, &limits, &metrics),
                    Some(TransportEvent::Unreachable(peer)) => layer.handle_transport_error(now(), peer),
                }
            }
            Some(command) = commands.recv() => {
                let now = now();
                let mut ctx = SipContext { layer: &mut layer, transports: &transports, rng: &mut rng };
                command(&mut user, now, &mut ctx);
            }
            _ = tokio::time::sleep_until(deadline.into()) => {
                let now = now();
                layer.handle_timeout(now);
                let mut ctx = SipContext { layer: &mut layer, transports: &transports, rng: &mut rng };
                user.handle_timeout(now, &mut ctx);
            }
            _ = shutdown.changed() => {}
        }
    }
}

/// The current time; the one clock read of the SIP path.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Sends everything the layer wants sent and delivers every event, until
/// neither has anything left (an event may cause more transmits).
fn flush<U: TransactionUser>(
    layer: &mut TransactionLayer,
    transports: &Transports,
    user: &mut U,
    rng: &mut StdRng,
    metrics: &Metrics,
) {
    loop {
        let mut progressed = false;
        while let Some(t) = layer.poll_transmit() {
            progressed = true;
            count_sip(metrics, &t.message);
            transports.send(t.to, t.message);
        }
        while let Some(event) = layer.poll_event() {
            progressed = true;
            let mut ctx = SipContext {
                layer,
                transports,
                rng,
            };
            user.on_event(now(), event, &mut ctx);
        }
        if !progressed {
            return;
        }
    }
}

fn handle_inbound(
    layer: &mut TransactionLayer,
    transports: &Transports,
    received: Inbound,
    limits: &Limits,
    metrics: &Metrics,
) {
    let Inbound { peer, data } = received;
    let frame = if peer.transport == Transport::Udp {
        match frame_datagram(data.clone(), limits) {
            Ok(Frame::Message(m)) => m,
            Ok(Frame::KeepAlive { .. }) => return,
            Err(e) => {
                trace!(addr = %Redacted(peer.addr), error = %e, "unframeable datagram");
                rejected(metrics, "malformed");
                reject_unparseable(transports, peer, &data, &e, limits);
                return;
            }
        }
    } else {
        data
    };
    let msg = match Message::parse(frame.clone(), limits) {
        Ok(m) => m,
        Err(e) => {
            rejected(metrics, "malformed");
            reject_unparseable(transports, peer, &frame, &e, limits);
            return;
        }
    };
    let verdict = if msg.is_request() {
        validate_request(&msg)
    } else {
        validate_response(&msg)
    };
    if let Err(e) = verdict {
        debug!(addr = %Redacted(peer.addr), error = %e, "invalid message");
        rejected(metrics, "invalid");
        if msg.is_request()
            && let Some(code) = e.status()
        {
            reply_statelessly(transports, peer, &msg, code, &e.to_string());
        }
        return;
    }
    count_sip(metrics, &frame);
    let mut msg = msg;
    if msg.is_request() {
        // Validation has read the top Via, so this cannot fail; if it did,
        // the request goes on unstamped.
        let _ = stamp_received(&mut msg, peer.addr);
    }
    layer.handle_message(now(), msg, peer);
}

/// Counts a refused message.
fn rejected(metrics: &Metrics, reason: &'static str) {
    metrics
        .rejected_requests
        .get_or_create(&ReasonLabels { reason })
        .inc();
}

/// A request whose head parsed but whose body framing is wrong still gets
/// its 400 when its Via can be read; anything else is dropped.
fn reject_unparseable(
    transports: &Transports,
    peer: Peer,
    frame: &Bytes,
    error: &sbc_core::sip::Error,
    limits: &Limits,
) {
    debug!(addr = %Redacted(peer.addr), %error, "unparseable message");
    let Some(code) = error.status() else { return };
    // A request line naming another SIP version still earns its 505: read
    // the head as if it said SIP/2.0, only to address the response.
    let rewritten;
    let frame = if matches!(error, sbc_core::sip::Error::Version) {
        rewritten = with_version_2(frame);
        &rewritten
    } else {
        frame
    };
    let Ok(view) = sbc_core::sip::MessageView::parse(frame, limits) else {
        return;
    };
    if !view.is_request() {
        return;
    }
    let Ok(head) = Message::from_view(&sbc_core::sip::MessageView { rest: &[], ..view }, frame)
    else {
        return;
    };
    reply_statelessly(transports, peer, &head, code, &error.to_string());
}

/// `frame` with the version of its request line replaced by `SIP/2.0`.
fn with_version_2(frame: &Bytes) -> Bytes {
    let line_end = frame
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(frame.len());
    let line = frame[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&frame[..line_end]);
    let Some(space) = line.iter().rposition(|&b| b == b' ') else {
        return frame.clone();
    };
    let mut out = Vec::with_capacity(frame.len());
    out.extend_from_slice(&line[..=space]);
    out.extend_from_slice(b"SIP/2.0");
    out.extend_from_slice(&frame[line.len()..]);
    Bytes::from(out)
}

fn reply_statelessly(transports: &Transports, peer: Peer, request: &Message, code: u16, why: &str) {
    use sbc_core::sip::headers::HeaderAccess;
    if request.top_via().is_err() || request.method() == Some(&sbc_core::sip::Method::Ack) {
        return;
    }
    let mut response = response_to(request, code, reason_phrase(code), None);
    response.headers.push(
        sbc_core::sip::HeaderName::Warning,
        format!("399 gateway \"{}\"", why.replace('"', "'")),
    );
    transports.send(peer, response.to_bytes());
}
