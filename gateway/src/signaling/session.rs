//! One browser's session on `/ws`: `hello` first (with the token when the
//! gateway authenticates), then requests answered one at a time in order,
//! events of the session's calls in between. A malformed frame is answered
//! with an `error` and changes nothing else; a flood (more than
//! [`SessionLimits::frames_per_second`]) gets `rate_limited`, and a
//! sustained one (past [`SessionLimits::close_after`] refused frames in a
//! second) closes the socket. When the socket goes, every call of the
//! session ends on both legs.
//!
//! Beside this file: `rate.rs` (the per-second frame window) and
//! `registration.rs` (`register`/`unregister`, the registration's events,
//! and calls from the PBX to the registered user).

use super::protocol::{self as p, ErrorCode, Frame, ProtocolError, Request, RequestId};
use super::resume::{Claim, Resumable};
use super::token::TokenKey;
use crate::b2bua::browser_call::{BrowserCall, CallServices, CallState, EventSinks};
use crate::b2bua::registrations::{IncomingCall, RegEvent, RegKey, RegNotice, RegOwner, Register};
use crate::b2bua::sip_calls::{CallKey, SipCallEvent};
use crate::metrics::{FrameLabels, ReasonLabels};
use crate::runtime::media::{MediaCallId, MediaEvent};
use crate::runtime::sip_core::now;
use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use rand::RngCore;
use sbc_core::b2bua::RegistrationEvent;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tracing::{debug, info};

/// Flood limits of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Frames handled per second; more get `rate_limited`.
    pub frames_per_second: u32,
    /// Refused frames in one second that close the socket.
    pub close_after: u32,
    /// Calls one session may have at once.
    pub max_calls: usize,
    /// How long a session whose socket dropped is kept for a resume.
    pub resume_grace: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            frames_per_second: 50,
            close_after: 200,
            max_calls: 8,
            resume_grace: Duration::from_secs(30),
        }
    }
}

/// What sessions share.
pub struct SessionConfig {
    /// Calls.
    pub calls: Arc<CallServices>,
    /// Token checking, when `auth.token_secret` is set.
    pub tokens: Option<TokenKey>,
    /// Flood limits.
    pub limits: SessionLimits,
    /// Sessions whose socket dropped, waiting for a resume.
    pub resumable: Arc<Resumable>,
}

struct Session {
    config: Arc<SessionConfig>,
    sinks: EventSinks,
    id: Option<String>,
    /// The token a new socket resumes this session with.
    resume_token: String,
    /// Where claims for this session go (entered with each resume token).
    claims_tx: UnboundedSender<Claim>,
    /// Where the admin API sends the names of calls to end.
    admin_tx: UnboundedSender<String>,
    /// The user and domain of the registration, for the admin API.
    reg_identity: Option<(String, String)>,
    /// Set by a `hello` that resumes a parked session: where this socket
    /// goes, and the `hello`'s id.
    resume_into: Option<(UnboundedSender<Claim>, RequestId)>,
    calls: HashMap<String, BrowserCall>,
    by_sip: HashMap<CallKey, String>,
    by_media: HashMap<MediaCallId, String>,
    /// `hello` came with a missing or bad token: the socket closes.
    refused_token: bool,
    /// Where the registration's events go.
    reg_events: UnboundedSender<RegEvent>,
    /// The registration at the PBX, if any.
    registration: Option<RegKey>,
    /// Whether it is registered (the first 2xx came).
    registered: bool,
    /// A `register` waiting for the registrar's answer.
    pending_register: Option<RequestId>,
    /// Calls from the PBX so far (they are named `in-<n>`).
    incoming_count: u64,
    /// An `unregister` waiting for it.
    pending_unregister: Option<RequestId>,
    /// The state of each call as the admin API last saw it.
    published: HashMap<String, CallState>,
}

/// How often answered calls report their SIP leg's quality.
const QUALITY_INTERVAL: Duration = Duration::from_secs(5);

/// A fresh, unguessable resume token (128 bits).
fn new_resume_token() -> String {
    let mut rng = rand::rng();
    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64())
}

/// Longest `domain` of a `register`.
const MAX_DOMAIN: usize = 253;

/// The channels a session's calls and registration report on.
struct Inbox {
    sip: UnboundedReceiver<SipCallEvent>,
    media: UnboundedReceiver<MediaEvent>,
    reg: UnboundedReceiver<RegEvent>,
    /// Calls the operator ends through the admin API, by name.
    admin: UnboundedReceiver<String>,
    /// New sockets taking this session over (`hello` with `resume`).
    claims: UnboundedReceiver<Claim>,
}

/// How serving a socket ended.
enum Served {
    /// The socket closed (or failed, or flooded).
    Closed,
    /// Its `hello` resumed another session: the socket goes there.
    Resumes(UnboundedSender<Claim>, RequestId),
    /// A new socket took this session over: the old one is let go.
    TakenOver(Box<Claim>),
}

/// Serves one WebSocket. When it closes, a session with calls or a
/// registration is parked for the grace period (its calls go on) and can
/// be taken over by a new socket; otherwise, or when the grace period ends,
/// every call ends and the registration is removed.
pub async fn run(socket: WebSocket, config: Arc<SessionConfig>) {
    let (mut session, mut inbox) = Session::new(config.clone());
    let metrics = config.calls.metrics.clone();
    let mut socket = socket;
    loop {
        metrics.ws_sessions_active.inc();
        let served = serve(&mut session, &mut inbox, &mut socket).await;
        metrics.ws_sessions_active.dec();
        let taken_over = match served {
            Served::Resumes(owner, id) => {
                // A taken entry's task waits for this claim, so it arrives.
                let _ = owner.send(Claim { socket, id });
                return;
            }
            Served::TakenOver(claim) => {
                info!(session = ?session.id, "session taken over by a new socket");
                // Off this task: the new socket is answered meanwhile.
                tokio::spawn(let_go(socket));
                Some(*claim)
            }
            Served::Closed => {
                // The connection goes now, not when a parked session ends.
                drop(socket);
                None
            }
        };
        let claim = match taken_over {
            Some(claim) => Some(claim),
            None if session.id.is_none() => None,
            None if session.calls.is_empty() && session.registration.is_none() => {
                release(&mut session, &mut inbox).await
            }
            None => park(&mut session, &mut inbox).await,
        };
        match claim {
            Some(claim) => {
                socket = claim.socket;
                let ok = session.resumed(&claim.id);
                if send_all(&mut socket, vec![ok]).await.is_err() {
                    continue;
                }
            }
            None => break,
        }
    }
    session.close().await;
    inbox.sip.close();
    inbox.media.close();
    inbox.reg.close();
}

/// Handles frames and events until the socket closes.
async fn serve(session: &mut Session, inbox: &mut Inbox, socket: &mut WebSocket) -> Served {
    let limits = session.config.limits;
    let mut window = RateWindow::new(now());
    let mut end_all = session.config.calls.end_all.clone();
    let mut quality = tokio::time::interval(QUALITY_INTERVAL);
    quality.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    quality.tick().await;
    loop {
        let out = tokio::select! {
            _ = quality.tick() => session.quality().await,
            () = shutting_down(&mut end_all), if !session.calls.is_empty() => session.end_all_calls().await,
            received = socket.recv() => match received {
                Some(Ok(Message::Text(text))) => {
                    match window.check(now(), &limits) {
                        Verdict::Handle => session.on_text(text.as_str()).await,
                        Verdict::Refuse => {
                            session.count_in("rate_limited");
                            session
                                .config
                                .calls
                                .metrics
                                .rejected_requests
                                .get_or_create(&ReasonLabels { reason: "rate_limited" })
                                .inc();
                            vec![ProtocolError::new(
                                p::request_id_of(text.as_str()),
                                ErrorCode::RateLimited,
                                "too many frames; slow down",
                            )
                            .to_frame()]
                        }
                        Verdict::Close => {
                            info!(session = ?session.id, "frame flood: closing the socket");
                            close_politely(socket, "frame flood").await;
                            return Served::Closed;
                        }
                    }
                }
                Some(Ok(Message::Binary(_))) => vec![ProtocolError::new(
                    None,
                    ErrorCode::BadRequest,
                    "binary frames are not part of the protocol",
                )
                .to_frame()],
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Vec::new(),
                Some(Ok(Message::Close(_))) => {
                    // Reading on sends the answering Close the page waits
                    // for (its `close` event); then the connection is over.
                    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, socket.recv()).await;
                    return Served::Closed;
                }
                Some(Err(_)) | None => return Served::Closed,
            },
            Some(event) = inbox.sip.recv() => session.on_sip(event).await,
            Some(event) = inbox.media.recv() => session.on_media(event).await,
            Some(event) = inbox.reg.recv() => session.on_registration(event).await,
            Some(name) = inbox.admin.recv() => session.end_by_operator(&name).await,
            Some(claim) = inbox.claims.recv() => return Served::TakenOver(Box::new(claim)),
        };
        if let Some((parked, id)) = session.resume_into.take() {
            return Served::Resumes(parked, id);
        }
        session.publish_calls();
        for frame in &out {
            session
                .config
                .calls
                .metrics
                .ws_frames
                .get_or_create(&FrameLabels {
                    direction: "out",
                    r#type: p::event_type_name(frame),
                })
                .inc();
        }
        if send_all(socket, out).await.is_err() {
            return Served::Closed;
        }
        if session.refused_token {
            // PROTOCOL.md: a missing or bad token closes the socket.
            close_politely(socket, "bad token").await;
            return Served::Closed;
        }
    }
}

/// Resolves once the gateway ends every call (the drain's grace period is
/// over, or a second SIGTERM), at once if it already has: a session that
/// starts serving or parks after that moment still ends its calls.
async fn shutting_down(end_all: &mut tokio::sync::watch::Receiver<bool>) {
    // Err: the sender is gone with the gateway; nothing to wait for.
    if end_all.wait_for(|ending| *ending).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Withdraws the resume token of a session that ends with its socket (it
/// has nothing to keep, or its grace period is over): `None`, unless a new
/// socket claimed the session just now, which then gets it.
async fn release(session: &mut Session, inbox: &mut Inbox) -> Option<Claim> {
    if session.config.resumable.withdraw(&session.resume_token) {
        return None;
    }
    inbox.claims.recv().await
}

/// Lets go of a socket whose session a new socket took over: a Close frame
/// (1000) for a page that still listens, sent for at most
/// [`CLOSE_HANDSHAKE`] (a socket that went dead with its network may not
/// take it), and no wait for the answer.
async fn let_go(mut socket: WebSocket) {
    let close = Message::Close(Some(CloseFrame {
        code: close_code::NORMAL,
        reason: "the session was resumed on another socket".into(),
    }));
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, socket.send(close)).await;
}

/// Keeps a session without a socket for the grace period: its calls and
/// registration go on, their events are handled (and not replayed). A
/// claim from a new socket ends the wait.
async fn park(session: &mut Session, inbox: &mut Inbox) -> Option<Claim> {
    let mut end_all = session.config.calls.end_all.clone();
    let grace = tokio::time::sleep(session.config.limits.resume_grace);
    tokio::pin!(grace);
    info!(session = ?session.id, "socket gone: session kept for the grace period");
    loop {
        tokio::select! {
            Some(claim) = inbox.claims.recv() => {
                info!(session = ?session.id, "session resumed on a new socket");
                return Some(claim);
            }
            Some(event) = inbox.sip.recv() => { session.on_sip(event).await; }
            Some(event) = inbox.media.recv() => { session.on_media(event).await; }
            Some(event) = inbox.reg.recv() => { session.on_registration(event).await; }
            Some(name) = inbox.admin.recv() => { session.end_by_operator(&name).await; }
            () = shutting_down(&mut end_all), if !session.calls.is_empty() => { session.end_all_calls().await; }
            () = &mut grace => return release(session, inbox).await,
        }
    }
}

/// How long [`close_politely`] waits for the page's half of the closing
/// handshake.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);

/// Closes a socket the gateway gives up on (a flood, a bad token) so that
/// the page reads everything sent before it: a Close frame (1008, policy
/// violation), then what the page still sends is read and dropped until its
/// own Close, for at most [`CLOSE_HANDSHAKE`]. Dropping the connection with
/// the page's frames unread would reset it, and a reset throws away the
/// frames the page has not read yet, the `error` that says why among them.
async fn close_politely(socket: &mut WebSocket, reason: &'static str) {
    let close = Message::Close(Some(CloseFrame {
        code: close_code::POLICY,
        reason: reason.into(),
    }));
    if socket.send(close).await.is_err() {
        return;
    }
    let drain = async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, drain).await;
}

async fn send_all(socket: &mut WebSocket, frames: Vec<Value>) -> Result<(), axum::Error> {
    for frame in frames {
        socket.send(Message::Text(frame.to_string().into())).await?;
    }
    Ok(())
}

impl Session {
    fn new(config: Arc<SessionConfig>) -> (Session, Inbox) {
        let (sip_tx, sip) = unbounded_channel::<SipCallEvent>();
        let (media_tx, media) = unbounded_channel::<MediaEvent>();
        let (reg_tx, reg) = unbounded_channel::<RegEvent>();
        let (admin_tx, admin) = unbounded_channel::<String>();
        let (claims_tx, claims) = unbounded_channel::<Claim>();
        let session = Session {
            config,
            sinks: EventSinks {
                sip: sip_tx,
                media: media_tx,
            },
            id: None,
            resume_token: String::new(),
            claims_tx,
            resume_into: None,
            admin_tx,
            reg_identity: None,
            calls: HashMap::new(),
            by_sip: HashMap::new(),
            by_media: HashMap::new(),
            refused_token: false,
            reg_events: reg_tx,
            registration: None,
            registered: false,
            pending_register: None,
            pending_unregister: None,
            incoming_count: 0,
            published: HashMap::new(),
        };
        (
            session,
            Inbox {
                sip,
                media,
                reg,
                admin,
                claims,
            },
        )
    }

    /// A fresh resume token, entered so that a new socket can take this
    /// session over with it (the one before was taken, or never existed).
    fn issue_resume_token(&mut self) {
        self.resume_token = new_resume_token();
        self.config
            .resumable
            .enter(self.resume_token.clone(), self.claims_tx.clone());
    }

    /// The `ok` of a `hello` that resumed this session: the same session,
    /// a new resume token, the calls it kept.
    fn resumed(&mut self, id: &RequestId) -> Value {
        self.issue_resume_token();
        let calls: Vec<Value> = self
            .calls
            .keys()
            .map(|name| json!({ "call": name }))
            .collect();
        p::ok(
            id,
            json!({
                "session": self.id,
                "resume_token": self.resume_token,
                "version": p::VERSION,
                "ice_servers": [],
                "calls": calls,
            }),
        )
    }

    /// Counts a frame from the browser.
    fn count_in(&self, ty: &'static str) {
        self.config
            .calls
            .metrics
            .ws_frames
            .get_or_create(&FrameLabels {
                direction: "in",
                r#type: ty,
            })
            .inc();
    }

    async fn on_text(&mut self, text: &str) -> Vec<Value> {
        let frame = match p::parse_frame(text) {
            Ok(frame) => {
                self.count_in(frame.request.type_name());
                frame
            }
            Err(e) => {
                self.count_in("invalid");
                debug!(session = ?self.id, code = e.code.as_str(), "refused frame");
                return vec![e.to_frame()];
            }
        };
        match self.on_request(frame).await {
            Ok(frames) => frames,
            Err(e) => vec![e.to_frame()],
        }
    }

    async fn on_request(&mut self, frame: Frame) -> Result<Vec<Value>, ProtocolError> {
        let Frame { id, request } = frame;
        // Only `candidate` comes without an id, and it is never answered.
        let Some(id) = id else {
            return Ok(Vec::new());
        };
        let err = |code, message: &str| ProtocolError::new(Some(id.clone()), code, message);
        if self.id.is_none() && !matches!(request, Request::Hello { .. }) {
            return Err(err(ErrorCode::InvalidState, "say hello first"));
        }
        match request {
            Request::Hello { token, resume } => self.hello(&id, token.as_deref(), resume),
            Request::Ping => Ok(vec![p::ok(&id, json!({}))]),
            Request::Call {
                call,
                to,
                sdp,
                headers,
            } => {
                if self.calls.contains_key(&call) {
                    return Err(err(ErrorCode::CallExists, "a call of that name exists"));
                }
                if self.calls.len() >= self.config.limits.max_calls {
                    return Err(err(ErrorCode::Overloaded, "too many calls in this session"));
                }
                if self
                    .config
                    .calls
                    .draining
                    .load(std::sync::atomic::Ordering::Relaxed)
                {
                    return Err(err(
                        ErrorCode::Overloaded,
                        "the gateway is shutting down and takes no new calls",
                    ));
                }
                let placed = BrowserCall::place(
                    &self.config.calls,
                    &id,
                    call.clone(),
                    &to,
                    sdp,
                    &headers,
                    &self.sinks,
                )
                .await?;
                self.by_sip.insert(placed.sip_key(), call.clone());
                self.by_media.insert(placed.media_id(), call.clone());
                self.calls.insert(call, placed);
                Ok(vec![p::ok(&id, json!({}))])
            }
            Request::Hangup { call } => {
                let mut c = self.take_call(&id, &call)?;
                let mut out = vec![p::ok(&id, json!({}))];
                out.extend(c.hangup(&self.config.calls).await);
                self.forget(&c);
                Ok(out)
            }
            Request::Dtmf {
                call,
                digits,
                duration_ms,
            } => {
                let duration = Duration::from_millis(u64::from(duration_ms.unwrap_or(100)));
                let svc = self.config.calls.clone();
                let c = self.call_mut(&id, &call)?;
                c.dtmf(&svc, &id, &digits, duration).await?;
                Ok(vec![p::ok(&id, json!({}))])
            }
            Request::Hold { call } => self.hold(&id, &call, true).await,
            Request::Unhold { call } => self.hold(&id, &call, false).await,
            Request::Candidate { .. } => Ok(Vec::new()),
            Request::Register {
                user,
                password,
                domain,
                expires,
            } => self.register(&id, user, password, domain, expires).await,
            Request::Unregister => Ok(self.unregister(&id)),
            Request::Answer { call, sdp } => {
                let svc = self.config.calls.clone();
                self.call_mut(&id, &call)?.answer(&svc, &id, sdp).await?;
                Ok(vec![p::ok(&id, json!({}))])
            }
            Request::Ringing { call } => {
                let svc = self.config.calls.clone();
                self.call_mut(&id, &call)?.ringing(&svc, &id).await?;
                Ok(vec![p::ok(&id, json!({}))])
            }
            Request::Reject { call, code } => {
                let svc = self.config.calls.clone();
                let events = self
                    .call_mut(&id, &call)?
                    .reject(&svc, &id, code.unwrap_or(486))
                    .await?;
                self.reap(&call);
                let mut out = vec![p::ok(&id, json!({}))];
                out.extend(events);
                Ok(out)
            }
            Request::Transfer { call, to } => {
                let svc = self.config.calls.clone();
                self.call_mut(&id, &call)?.transfer(&svc, &id, &to).await?;
                // Answered once the PBX has answered the REFER.
                Ok(Vec::new())
            }
            Request::Sdp { call, sdp } => {
                let svc = self.config.calls.clone();
                let answer = self
                    .call_mut(&id, &call)?
                    .renegotiate(&svc, &id, sdp)
                    .await?;
                Ok(vec![p::ok(&id, json!({ "sdp": answer }))])
            }
        }
    }

    fn hello(
        &mut self,
        id: &RequestId,
        token: Option<&str>,
        resume: Option<String>,
    ) -> Result<Vec<Value>, ProtocolError> {
        if self.id.is_some() {
            return Err(ProtocolError::new(
                Some(id.clone()),
                ErrorCode::InvalidState,
                "hello was already said",
            ));
        }
        if let Some(key) = &self.config.tokens {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let verdict = token
                .ok_or("a token is required")
                .and_then(|t| key.verify(t, now).map_err(|_| "invalid token"));
            if let Err(why) = verdict {
                self.refused_token = true;
                return Err(ProtocolError::new(
                    Some(id.clone()),
                    ErrorCode::Unauthorized,
                    why,
                ));
            }
        }
        if let Some(owner) = resume.and_then(|r| self.config.resumable.take(&r)) {
            // The socket moves to the session, which answers.
            self.resume_into = Some((owner, id.clone()));
            return Ok(Vec::new());
        }
        let session = format!("{:016x}", rand::rng().next_u64());
        info!(%session, "browser session opened");
        self.id = Some(session.clone());
        self.issue_resume_token();
        Ok(vec![p::ok(
            id,
            json!({
                "session": session,
                "resume_token": self.resume_token,
                "version": p::VERSION,
                "ice_servers": [],
            }),
        )])
    }

    /// `hold`/`unhold`: answered once the PBX has answered the re-INVITE.
    async fn hold(
        &mut self,
        id: &RequestId,
        call: &str,
        held: bool,
    ) -> Result<Vec<Value>, ProtocolError> {
        let svc = self.config.calls.clone();
        self.call_mut(id, call)?.hold(&svc, id, held).await?;
        Ok(Vec::new())
    }

    /// The gateway shuts down: every call ends (by gateway).
    async fn end_all_calls(&mut self) -> Vec<Value> {
        let svc = self.config.calls.clone();
        let mut out = Vec::new();
        let names: Vec<String> = self.calls.keys().cloned().collect();
        for name in names {
            if let Some(call) = self.calls.get_mut(&name) {
                out.extend(call.end_for_shutdown(&svc).await);
            }
            self.reap(&name);
        }
        out
    }

    /// `quality` events of the answered calls.
    async fn quality(&self) -> Vec<Value> {
        let svc = self.config.calls.clone();
        let mut out = Vec::new();
        for call in self.calls.values() {
            out.extend(call.quality(&svc).await);
        }
        out
    }

    fn call_mut(&mut self, id: &RequestId, name: &str) -> Result<&mut BrowserCall, ProtocolError> {
        self.calls.get_mut(name).ok_or_else(|| {
            ProtocolError::new(
                Some(id.clone()),
                ErrorCode::NoSuchCall,
                "no call of that name",
            )
        })
    }

    fn take_call(&mut self, id: &RequestId, name: &str) -> Result<BrowserCall, ProtocolError> {
        self.calls.remove(name).ok_or_else(|| {
            ProtocolError::new(
                Some(id.clone()),
                ErrorCode::NoSuchCall,
                "no call of that name",
            )
        })
    }

    fn forget(&mut self, call: &BrowserCall) {
        self.by_sip.remove(&call.sip_key());
        self.by_media.remove(&call.media_id());
        self.published.remove(call.name());
        if let Some(session) = &self.id {
            self.config.calls.admin.remove_call(session, call.name());
        }
    }

    /// Shows the session's calls whose state changed since (their view
    /// changes only with it: the answer time comes with `in-call`) to the
    /// admin API. Runs after every frame and event, so an unchanged call
    /// costs a lookup, not a view and the registry's lock.
    fn publish_calls(&mut self) {
        let Some(session) = &self.id else { return };
        for (name, call) in self.calls.iter().filter(|(_, c)| !c.is_ended()) {
            let state = call.state();
            if self.published.get(name) == Some(&state) {
                continue;
            }
            let view = call.admin_view(session, self.admin_tx.clone());
            self.config.calls.admin.put_call(view);
            self.published.insert(name.clone(), state);
        }
    }

    /// The operator ends a call through the admin API.
    async fn end_by_operator(&mut self, name: &str) -> Vec<Value> {
        let svc = self.config.calls.clone();
        let Some(call) = self.calls.get_mut(name) else {
            return Vec::new();
        };
        let out = call.end_by_operator(&svc).await;
        self.reap(name);
        out
    }

    async fn on_sip(&mut self, event: SipCallEvent) -> Vec<Value> {
        let Some(name) = self.by_sip.get(&event.key).cloned() else {
            return Vec::new();
        };
        let svc = self.config.calls.clone();
        let Some(call) = self.calls.get_mut(&name) else {
            return Vec::new();
        };
        let out = call.on_sip(&svc, event.event).await;
        self.reap(&name);
        out
    }

    async fn on_media(&mut self, event: MediaEvent) -> Vec<Value> {
        let Some(name) = self.by_media.get(&event.call()).cloned() else {
            return Vec::new();
        };
        let svc = self.config.calls.clone();
        let Some(call) = self.calls.get_mut(&name) else {
            return Vec::new();
        };
        let out = call.on_media(&svc, event).await;
        self.reap(&name);
        out
    }

    fn reap(&mut self, name: &str) {
        if self.calls.get(name).is_some_and(BrowserCall::is_ended)
            && let Some(call) = self.calls.remove(name)
        {
            self.forget(&call);
        }
    }

    /// The socket is gone: every call ends, the registration is removed.
    async fn close(&mut self) {
        let svc = self.config.calls.clone();
        if let Some(key) = self.registration.take() {
            svc.sip
                .spawn(move |gw, now, sip| gw.registrations.unregister(now, key, sip));
            self.forget_registered();
        }
        for (_, mut call) in self.calls.drain() {
            let _ = call.hangup(&svc).await;
            if let Some(session) = &self.id {
                svc.admin.remove_call(session, call.name());
            }
        }
        if let Some(id) = &self.id {
            info!(session = %id, "browser session closed");
        }
    }
}

mod rate;
mod registration;

use rate::{RateWindow, Verdict};
