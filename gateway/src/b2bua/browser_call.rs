//! [`BrowserCall`]: one call a browser placed, as its signaling session
//! drives it. The browser's offer becomes the media runtime's PBX offer
//! and the SIP leg's INVITE; the leg's events become protocol events, with
//! the browser's answer written once the PBX chose its codecs (in a 183's
//! SDP for early media, else in the 2xx's); media failures end the SIP
//! leg, and SIP endings end the media.

use super::sip_calls::{CallKey, PlaceCall, SipCallEvent};
use crate::cdr::{CallRecord, CdrSink, LegRecord, rfc3339};
use crate::metrics::{
    CallDirection, CallLabels, CallResult, LegLabels, Metrics, ReasonLabels, RtpLabels,
};
use crate::runtime::media::CallMediaStats;
use crate::runtime::media::{MediaCallId, MediaError, MediaEvent, MediaHandle};
use crate::runtime::sip_core::{SipHandle, now};
use crate::signaling::protocol::{self as p, EndedBy, ErrorCode, ProtocolError, RequestId};
use crate::sip_service::GatewayService;
use bytes::Bytes;
use sbc_core::b2bua::{EndCause, HeaderPolicy, LegEvent, PbxTarget};
use sbc_core::media::bridge::LegStats;
use sbc_core::media::bridge::Side;
use sbc_core::media::webrtc::DisconnectReason;
use sbc_core::sip::transaction::Peer;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;
use std::time::SystemTime;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tracing::{debug, info, warn};

/// Where browser calls go: the configured PBX (or the demo PBX).
#[derive(Debug, Clone)]
pub struct PbxRoute {
    /// The PBX as configured, for Request-URIs.
    pub target: PbxTarget,
    /// Its resolved address and transport.
    pub next_hop: Peer,
}

/// Hands each media event to the session that owns the call.
#[derive(Clone, Default)]
pub struct MediaEventRouter {
    routes: Arc<Mutex<HashMap<MediaCallId, UnboundedSender<MediaEvent>>>>,
}

impl MediaEventRouter {
    /// Events of `call` go to `to` from now on.
    pub fn register(&self, call: MediaCallId, to: UnboundedSender<MediaEvent>) {
        if let Ok(mut routes) = self.routes.lock() {
            routes.insert(call, to);
        }
    }

    /// Events of `call` are dropped from now on.
    pub fn unregister(&self, call: MediaCallId) {
        if let Ok(mut routes) = self.routes.lock() {
            routes.remove(&call);
        }
    }

    /// Forwards the media runtime's events until it stops.
    pub async fn run(self, mut events: UnboundedReceiver<MediaEvent>) {
        while let Some(event) = events.recv().await {
            let to = self
                .routes
                .lock()
                .ok()
                .and_then(|r| r.get(&event.call()).cloned());
            if let Some(to) = to {
                let _ = to.send(event);
            }
        }
    }
}

/// What every browser call needs from the rest of the gateway.
pub struct CallServices {
    /// The media runtime.
    pub media: MediaHandle,
    /// The SIP core.
    pub sip: SipHandle<GatewayService>,
    /// Where calls go.
    pub pbx: PbxRoute,
    /// Which browser headers pass.
    pub header_policy: HeaderPolicy,
    /// `User-Agent` of the SIP leg.
    pub user_agent: String,
    /// Digest credentials for the PBX's challenges (`pbx.username`,
    /// `pbx.password`).
    pub credentials: Option<(String, String)>,
    /// Media events to sessions.
    pub media_router: MediaEventRouter,
    /// Where calls are counted.
    pub metrics: Arc<Metrics>,
    /// Where call records go (`cdr.path`), if anywhere.
    pub cdr: Option<Arc<CdrSink>>,
    /// What the admin API shows.
    pub admin: Arc<crate::admin::AdminRegistry>,
    /// Set once the gateway drains: no new calls.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// Turns true when the calls still up must end (the grace period of a
    /// drain is over, or a second SIGTERM came).
    pub end_all: tokio::sync::watch::Receiver<bool>,
}

/// The call's state as the web client shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// INVITE sent.
    Calling,
    /// A provisional response arrived.
    Ringing,
    /// Answered.
    InCall,
    /// Over.
    Ended,
}

/// The channels a session gives its calls for their events.
#[derive(Clone)]
pub struct EventSinks {
    /// SIP leg events.
    pub sip: UnboundedSender<SipCallEvent>,
    /// Media events.
    pub media: UnboundedSender<MediaEvent>,
}

/// One browser-placed call; see the module docs.
#[derive(Debug)]
pub struct BrowserCall {
    name: String,
    media: MediaCallId,
    sip: CallKey,
    state: CallState,
    answer_sent: bool,
    held_by_remote: bool,
    /// A `hold`/`unhold` waiting for the PBX: its id and the state asked.
    pending_hold: Option<(RequestId, bool)>,
    /// Whether the PBX placed the call (to a registered browser).
    from_pbx: bool,
    /// When the call was placed or offered.
    created: Instant,
    /// The same, on the wall clock (for the call record).
    created_wall: SystemTime,
    /// When it was answered, on the wall clock.
    answered_wall: Option<SystemTime>,
    /// When it was answered.
    answered_at: Option<Instant>,
    /// A `transfer` waiting for the PBX's answer to the REFER.
    pending_transfer: Option<RequestId>,
}

impl BrowserCall {
    /// Places the call: routes `to`, filters `headers`, asks the media
    /// runtime for the PBX offer and sends the INVITE.
    pub async fn place(
        svc: &CallServices,
        id: &RequestId,
        name: String,
        to: &str,
        sdp: String,
        headers: &BTreeMap<String, String>,
        sinks: &EventSinks,
    ) -> Result<BrowserCall, ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        let request_uri = svc
            .pbx
            .target
            .request_uri(to)
            .map_err(|e| error(ErrorCode::NoRoute, format!("cannot route {to:?}: {e}")))?;
        let filtered = svc
            .header_policy
            .filter(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|e| error(ErrorCode::BadRequest, e.to_string()))?;
        if !filtered.dropped.is_empty() {
            debug!(dropped = ?filtered.dropped, "browser headers not on the allow-list");
        }
        let media = svc.media.create_call(sdp).await.map_err(|e| match e {
            MediaError::Sdp(_) | MediaError::WebRtc(_) => {
                error(ErrorCode::BadSdp, format!("unusable offer: {e}"))
            }
            MediaError::Ports(_) => error(ErrorCode::Overloaded, e.to_string()),
            _ => error(ErrorCode::Internal, e.to_string()),
        })?;
        svc.media_router.register(media.id, sinks.media.clone());
        let place = PlaceCall {
            next_hop: svc.pbx.next_hop,
            request_uri,
            from_user: "webrtc".into(),
            extra_headers: filtered.kept,
            credentials: svc.credentials.clone(),
            user_agent: svc.user_agent.clone(),
            sdp: Bytes::from(media.pbx_offer),
        };
        let events = sinks.sip.clone();
        let placed = svc
            .sip
            .call(move |gw, now, sip| gw.calls.place(now, place, events, sip))
            .await;
        let key = match placed {
            Some(Ok(key)) => key,
            failed => {
                svc.media_router.unregister(media.id);
                let _ = svc.media.end_call(media.id).await;
                let why = match failed {
                    Some(Err(e)) => e.to_string(),
                    _ => "the SIP core has stopped".into(),
                };
                return Err(error(ErrorCode::Internal, why));
            }
        };
        info!(call = %name, sip = %key, media = %media.id, "browser call placed");
        Ok(BrowserCall {
            name,
            media: media.id,
            sip: key,
            state: CallState::Calling,
            answer_sent: false,
            held_by_remote: false,
            pending_hold: None,
            from_pbx: false,
            pending_transfer: None,
            created: now(),
            answered_at: None,
            created_wall: SystemTime::now(),
            answered_wall: None,
        }
        .counted(svc))
    }

    /// A call from the PBX, offered to the browser as `name`: its media
    /// (with the browser's offer already written) and its SIP leg.
    pub fn incoming(
        svc: &CallServices,
        name: String,
        media: MediaCallId,
        sip: CallKey,
    ) -> BrowserCall {
        BrowserCall {
            name,
            media,
            sip,
            state: CallState::Ringing,
            answer_sent: true,
            held_by_remote: false,
            pending_hold: None,
            from_pbx: true,
            pending_transfer: None,
            created: now(),
            answered_at: None,
            created_wall: SystemTime::now(),
            answered_wall: None,
        }
        .counted(svc)
    }

    /// Counts the new call as active.
    fn counted(self, svc: &CallServices) -> BrowserCall {
        svc.metrics.calls_active.inc();
        self
    }

    /// The call is answered: its set-up time is recorded.
    fn mark_answered(&mut self, svc: &CallServices) {
        self.state = CallState::InCall;
        if self.answered_at.is_none() {
            let at = now();
            svc.metrics
                .call_setup
                .observe(at.duration_since(self.created).as_secs_f64());
            self.answered_at = Some(at);
            self.answered_wall = Some(SystemTime::now());
        }
    }

    /// The browser answers a call from the PBX with `sdp`: the PBX gets
    /// its 200 with the gateway's SDP.
    pub async fn answer(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        sdp: String,
    ) -> Result<(), ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        if !self.from_pbx || self.state != CallState::Ringing {
            return Err(error(
                ErrorCode::InvalidState,
                "only a ringing incoming call can be answered".into(),
            ));
        }
        let pbx_answer = svc
            .media
            .set_browser_answer(self.media, sdp)
            .await
            .map_err(|e| match e {
                MediaError::Sdp(_) | MediaError::WebRtc(_) => {
                    error(ErrorCode::BadSdp, format!("unusable answer: {e}"))
                }
                _ => error(ErrorCode::Internal, e.to_string()),
            })?;
        let key = self.sip;
        let sdp = Bytes::from(pbx_answer);
        let sent = svc
            .sip
            .call(move |gw, now, sip| {
                gw.calls
                    .with_leg(key, |leg| leg.answer(now, sdp, sip.layer))
            })
            .await;
        match sent {
            Some(Ok(())) => {
                self.mark_answered(svc);
                Ok(())
            }
            Some(Err(e)) => Err(error(ErrorCode::InvalidState, e.to_string())),
            None => Err(error(
                ErrorCode::Internal,
                "the SIP core has stopped".into(),
            )),
        }
    }

    /// Tells the PBX the browser rings (180).
    pub async fn ringing(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
    ) -> Result<(), ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        if !self.from_pbx {
            return Err(error(
                ErrorCode::InvalidState,
                "not an incoming call".into(),
            ));
        }
        let key = self.sip;
        let sent = svc
            .sip
            .call(move |gw, now, sip| gw.calls.with_leg(key, |leg| leg.ringing(now, sip.layer)))
            .await;
        match sent {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(error(ErrorCode::InvalidState, e.to_string())),
            None => Err(error(
                ErrorCode::Internal,
                "the SIP core has stopped".into(),
            )),
        }
    }

    /// The browser declines a call from the PBX with `code`.
    pub async fn reject(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        code: u16,
    ) -> Result<Vec<Value>, ProtocolError> {
        if !self.from_pbx || self.state != CallState::Ringing {
            return Err(ProtocolError::new(
                Some(id.clone()),
                ErrorCode::InvalidState,
                "only a ringing incoming call can be rejected",
            ));
        }
        let key = self.sip;
        svc.sip.spawn(move |gw, now, sip| {
            let _ = gw.calls.with_leg(key, |leg| {
                leg.reject(now, code, sip.layer);
                Ok(())
            });
        });
        let end = Ending {
            by: EndedBy::Local,
            sip_status: Some(code),
            reason: "rejected",
        };
        self.finish(svc, CallResult::Rejected, end).await;
        Ok(vec![p::ended(
            &self.name,
            EndedBy::Local,
            Some(code),
            "rejected",
        )])
    }

    /// The call's name in its session.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its SIP leg.
    pub fn sip_key(&self) -> CallKey {
        self.sip
    }

    /// Its media.
    pub fn media_id(&self) -> MediaCallId {
        self.media
    }

    /// Its state.
    pub fn state(&self) -> CallState {
        self.state
    }

    /// The call as the admin API lists it; `ender` takes its name when the
    /// operator ends it.
    pub fn admin_view(
        &self,
        session: &str,
        ender: tokio::sync::mpsc::UnboundedSender<String>,
    ) -> crate::admin::AdminCall {
        let state = match self.state {
            CallState::Calling => "calling",
            CallState::Ringing => "ringing",
            CallState::InCall => "in-call",
            CallState::Ended => "ended",
        };
        crate::admin::AdminCall::new(
            session,
            &self.name,
            if self.from_pbx { "inbound" } else { "outbound" },
            state,
            rfc3339(self.created_wall),
            self.answered_wall.map(rfc3339),
            self.media,
            ender,
        )
    }

    /// The operator ends the call (admin API).
    pub async fn end_by_operator(&mut self, svc: &CallServices) -> Vec<Value> {
        if self.is_ended() {
            return Vec::new();
        }
        self.end_by_gateway(svc, "ended by the operator").await
    }

    /// Whether it is over.
    pub fn is_ended(&self) -> bool {
        self.state == CallState::Ended
    }

    /// An event of the SIP leg; returns the frames for the browser.
    pub async fn on_sip(&mut self, svc: &CallServices, event: LegEvent) -> Vec<Value> {
        if self.is_ended() {
            return Vec::new();
        }
        match event {
            LegEvent::Progress { status, sdp } => {
                if self.state == CallState::Calling {
                    self.state = CallState::Ringing;
                }
                let answer = match sdp {
                    Some(sdp) => match self.pbx_answer(svc, sdp).await {
                        Ok(answer) => answer,
                        Err(frames) => return frames,
                    },
                    None => None,
                };
                vec![p::progress(&self.name, status, answer.as_deref())]
            }
            // A call from the PBX that came without an offer: the PBX's
            // answer to the gateway's 200, from its ACK. The browser has
            // answered already.
            LegEvent::Answered { sdp: Some(sdp) } if self.from_pbx => {
                match self.pbx_answer(svc, sdp).await {
                    Ok(_) => Vec::new(),
                    Err(frames) => frames,
                }
            }
            LegEvent::Answered { sdp } => {
                let answer = match sdp {
                    Some(sdp) => match self.pbx_answer(svc, sdp).await {
                        Ok(answer) => answer,
                        Err(frames) => return frames,
                    },
                    None => None,
                };
                self.mark_answered(svc);
                vec![p::answered(&self.name, answer.as_deref())]
            }
            LegEvent::Updated { sdp, held } => {
                if let Err(e) = svc.media.set_pbx_answer(self.media, utf8(&sdp)).await {
                    warn!(call = %self.name, error = %e, "PBX re-offer not applied to media");
                }
                if held == self.held_by_remote {
                    return Vec::new();
                }
                self.held_by_remote = held;
                vec![p::hold_state(&self.name, held, EndedBy::Remote)]
            }
            LegEvent::HoldChanged { held, sdp } => {
                if let Some(sdp) = sdp
                    && let Err(e) = svc.media.set_pbx_answer(self.media, utf8(&sdp)).await
                {
                    warn!(call = %self.name, error = %e, "PBX answer to a hold not applied");
                }
                let mut out = Vec::new();
                if let Some((id, _)) = self.pending_hold.take() {
                    out.push(p::ok(&id, serde_json::json!({})));
                }
                out.push(p::hold_state(&self.name, held, EndedBy::Local));
                out
            }
            LegEvent::HoldFailed { status } => match self.pending_hold.take() {
                Some((id, held)) => {
                    let what = if held { "hold" } else { "resume" };
                    let e = ProtocolError {
                        sip_status: Some(status),
                        ..ProtocolError::new(
                            Some(id),
                            ErrorCode::InvalidState,
                            format!("the PBX refused to {what} ({status})"),
                        )
                    };
                    vec![e.to_frame()]
                }
                None => Vec::new(),
            },
            LegEvent::TransferAccepted => match self.pending_transfer.take() {
                Some(id) => vec![p::ok(&id, serde_json::json!({}))],
                None => Vec::new(),
            },
            LegEvent::TransferFailed { status } => match self.pending_transfer.take() {
                Some(id) => {
                    let e = ProtocolError {
                        sip_status: Some(status),
                        ..ProtocolError::new(
                            Some(id),
                            ErrorCode::InvalidState,
                            format!("the PBX refused the transfer ({status})"),
                        )
                    };
                    vec![e.to_frame()]
                }
                None => Vec::new(),
            },
            LegEvent::TransferProgress { status } => {
                vec![p::transfer_progress(&self.name, status)]
            }
            LegEvent::DtmfInfo { digit, duration_ms } => {
                vec![p::dtmf(&self.name, digit, duration_ms.unwrap_or(100))]
            }
            LegEvent::Ended(cause) => {
                let (by, status, reason) = describe(&cause);
                let result = match cause {
                    _ if self.answered_at.is_some() => CallResult::Answered,
                    EndCause::Rejected { .. } => CallResult::Rejected,
                    EndCause::RemoteHangup | EndCause::LocalHangup => CallResult::Cancelled,
                    _ => CallResult::Failed,
                };
                let end = Ending {
                    by,
                    sip_status: status,
                    reason: &reason,
                };
                self.finish(svc, result, end).await;
                vec![p::ended(&self.name, by, status, &reason)]
            }
        }
    }

    /// The gateway ends the call (shutting down): BYE or CANCEL toward the
    /// PBX, `ended` by gateway toward the browser.
    pub async fn end_for_shutdown(&mut self, svc: &CallServices) -> Vec<Value> {
        if self.is_ended() {
            return Vec::new();
        }
        self.end_by_gateway(svc, "the gateway is shutting down")
            .await
    }

    /// An event of the call's media; returns the frames for the browser.
    pub async fn on_media(&mut self, svc: &CallServices, event: MediaEvent) -> Vec<Value> {
        if self.is_ended() {
            return Vec::new();
        }
        match event {
            MediaEvent::Disconnected { reason, .. } => {
                count_leg_failure(&svc.metrics, reason);
                let reason = format!("browser media lost: {reason:?}");
                self.end_by_gateway(svc, &reason).await
            }
            MediaEvent::MediaTimeout { .. } => {
                self.end_by_gateway(svc, "no media from the PBX").await
            }
            MediaEvent::Dtmf {
                from: Side::Pbx,
                digit,
                ..
            } => match digit.digit {
                Some(d) => vec![p::dtmf(&self.name, d, rtp_duration_ms(digit.duration))],
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// A `quality` event for an answered call: the PBX leg's statistics.
    pub async fn quality(&self, svc: &CallServices) -> Option<Value> {
        if self.state != CallState::InCall {
            return None;
        }
        let stats = svc.media.pbx_stats(self.media).await.ok()??;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        Some(p::quality(
            &self.name,
            stats.rtt.map(ms),
            ms(stats.jitter),
            stats.loss_fraction,
            stats.mos,
        ))
    }

    /// The browser hangs up: the SIP leg is cancelled or sent a BYE, the
    /// media ends, and `ended` says `local`.
    pub async fn hangup(&mut self, svc: &CallServices) -> Vec<Value> {
        if self.is_ended() {
            return Vec::new();
        }
        let result = if self.answered_at.is_some() {
            CallResult::Answered
        } else {
            CallResult::Cancelled
        };
        let end = Ending {
            by: EndedBy::Local,
            sip_status: None,
            reason: "hung up",
        };
        self.finish(svc, result, end).await;
        vec![p::ended(&self.name, EndedBy::Local, None, "hung up")]
    }

    /// Holds or resumes the call toward the PBX (a re-INVITE); the `ok`
    /// and the `held`/`resumed` event follow once the PBX answered.
    pub async fn hold(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        held: bool,
    ) -> Result<(), ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        if self.state != CallState::InCall || self.pending_hold.is_some() {
            return Err(error(
                ErrorCode::InvalidState,
                "hold needs an answered call with no hold in progress".into(),
            ));
        }
        let key = self.sip;
        let sent = svc
            .sip
            .call(move |gw, now, sip| gw.calls.set_hold(now, key, held, sip))
            .await;
        match sent {
            Some(Ok(())) => {
                self.pending_hold = Some((id.clone(), held));
                Ok(())
            }
            Some(Err(e)) => Err(error(ErrorCode::InvalidState, e.to_string())),
            None => Err(error(
                ErrorCode::Internal,
                "the SIP core has stopped".into(),
            )),
        }
    }

    /// A new offer from the browser (an ICE restart, say): the browser leg
    /// answers it; the PBX side is untouched.
    pub async fn renegotiate(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        sdp: String,
    ) -> Result<String, ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        if self.state != CallState::InCall {
            return Err(error(
                ErrorCode::InvalidState,
                "renegotiation needs an answered call".into(),
            ));
        }
        svc.media
            .browser_reoffer(self.media, sdp)
            .await
            .map_err(|e| match e {
                MediaError::Sdp(_) | MediaError::WebRtc(_) => {
                    error(ErrorCode::BadSdp, format!("unusable offer: {e}"))
                }
                _ => error(ErrorCode::Internal, e.to_string()),
            })
    }

    /// Blind transfer to `to` (routed like a `call`'s target): a REFER to
    /// the PBX; the `ok` follows its 202, progress comes as `transfer`
    /// events.
    pub async fn transfer(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        to: &str,
    ) -> Result<(), ProtocolError> {
        let error = |code, message: String| ProtocolError::new(Some(id.clone()), code, message);
        if self.state != CallState::InCall || self.pending_transfer.is_some() {
            return Err(error(
                ErrorCode::InvalidState,
                "transfer needs an answered call with no transfer in progress".into(),
            ));
        }
        let target = svc
            .pbx
            .target
            .request_uri(to)
            .map_err(|e| error(ErrorCode::NoRoute, format!("cannot route {to:?}: {e}")))?;
        let key = self.sip;
        let sent = svc
            .sip
            .call(move |gw, now, sip| {
                gw.calls
                    .with_leg(key, |leg| leg.transfer(now, &target, sip.layer, sip.rng))
            })
            .await;
        match sent {
            Some(Ok(())) => {
                self.pending_transfer = Some(id.clone());
                Ok(())
            }
            Some(Err(e)) => Err(error(ErrorCode::InvalidState, e.to_string())),
            None => Err(error(
                ErrorCode::Internal,
                "the SIP core has stopped".into(),
            )),
        }
    }

    /// Sends DTMF toward the PBX: RFC 4733 on the PBX's payload type, or
    /// SIP INFO per key where the PBX offered no telephone-event.
    pub async fn dtmf(
        &mut self,
        svc: &CallServices,
        id: &RequestId,
        digits: &str,
        duration: Duration,
    ) -> Result<(), ProtocolError> {
        if self.state != CallState::InCall {
            return Err(ProtocolError::new(
                Some(id.clone()),
                ErrorCode::InvalidState,
                "DTMF needs an answered call",
            ));
        }
        match svc
            .media
            .send_dtmf(self.media, digits.to_owned(), duration)
            .await
        {
            Ok(()) => return Ok(()),
            Err(MediaError::NoTelephoneEvent) => {}
            Err(e) => {
                return Err(ProtocolError::new(
                    Some(id.clone()),
                    ErrorCode::Internal,
                    e.to_string(),
                ));
            }
        }
        let key = self.sip;
        let ms = u32::try_from(duration.as_millis()).unwrap_or(u32::MAX);
        for digit in digits.chars().map(|c| c.to_ascii_uppercase()) {
            let sent = svc
                .sip
                .call(move |gw, now, sip| gw.calls.send_dtmf_info(now, key, digit, ms, sip))
                .await;
            match sent {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    return Err(ProtocolError::new(
                        Some(id.clone()),
                        ErrorCode::InvalidState,
                        e.to_string(),
                    ));
                }
                None => {
                    return Err(ProtocolError::new(
                        Some(id.clone()),
                        ErrorCode::Internal,
                        "the SIP core has stopped",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The PBX's answer: the media runtime's first one gives the browser
    /// answer. On failure the call is ended and the frames say so.
    async fn pbx_answer(
        &mut self,
        svc: &CallServices,
        sdp: Bytes,
    ) -> Result<Option<String>, Vec<Value>> {
        match svc.media.set_pbx_answer(self.media, utf8(&sdp)).await {
            Ok(answer) => {
                if answer.is_some() {
                    self.answer_sent = true;
                }
                Ok(answer)
            }
            Err(e) => {
                warn!(call = %self.name, error = %e, "PBX answer unusable");
                Err(self
                    .end_by_gateway(svc, &format!("the PBX's answer is unusable: {e}"))
                    .await)
            }
        }
    }

    async fn end_by_gateway(&mut self, svc: &CallServices, reason: &str) -> Vec<Value> {
        let result = if self.answered_at.is_some() {
            CallResult::Answered
        } else {
            CallResult::Failed
        };
        let end = Ending {
            by: EndedBy::Gateway,
            sip_status: None,
            reason,
        };
        self.finish(svc, result, end).await;
        vec![p::ended(&self.name, EndedBy::Gateway, None, reason)]
    }

    /// Ends both legs (the SIP leg is told to hang up; if it already ended
    /// that does nothing).
    async fn finish(&mut self, svc: &CallServices, result: CallResult, end: Ending<'_>) {
        if self.state == CallState::Ended {
            return;
        }
        self.state = CallState::Ended;
        let key = self.sip;
        svc.sip
            .spawn(move |gw, now, sip| gw.calls.hangup(now, key, sip));
        svc.media_router.unregister(self.media);
        let stats = svc.media.stats(self.media).await.ok().flatten();
        if let Some(stats) = &stats {
            record_media(&svc.metrics, stats);
        }
        if let Some(cdr) = &svc.cdr {
            cdr.write(&self.record(result, end, stats.as_ref()));
        }
        let _ = svc.media.end_call(self.media).await;
        let m = &svc.metrics;
        m.calls_active.dec();
        let direction = if self.from_pbx {
            CallDirection::Inbound
        } else {
            CallDirection::Outbound
        };
        let labels = CallLabels {
            direction: direction.as_str(),
            result: result.as_str(),
        };
        m.calls.get_or_create(&labels).inc();
        if let Some(at) = self.answered_at {
            m.call_duration
                .observe(now().duration_since(at).as_secs_f64());
        }
    }
}

/// How a call ended, for its record.
#[derive(Debug, Clone, Copy)]
struct Ending<'a> {
    by: EndedBy,
    sip_status: Option<u16>,
    reason: &'a str,
}

impl BrowserCall {
    /// The call's record.
    fn record(
        &self,
        result: CallResult,
        end: Ending<'_>,
        stats: Option<&CallMediaStats>,
    ) -> CallRecord {
        let leg = |s: &LegStats, codec: &str| LegRecord {
            codec: codec.to_owned(),
            packets_received: s.packets_received,
            packets_sent: s.packets_sent,
            packets_lost: s.packets_lost,
            loss: s.loss_fraction,
            jitter_ms: s.jitter.as_secs_f64() * 1000.0,
            mos: s.mos,
        };
        CallRecord {
            call: self.name.clone(),
            direction: if self.from_pbx { "inbound" } else { "outbound" },
            start: rfc3339(self.created_wall),
            answer: self.answered_wall.map(rfc3339),
            end: rfc3339(SystemTime::now()),
            result: result.as_str(),
            ended_by: end.by.as_str(),
            reason: end.reason.to_owned(),
            sip_status: end.sip_status,
            browser: stats.map(|s| leg(&s.browser, &s.codec)),
            pbx: stats.map(|s| leg(&s.pbx, &s.codec)),
        }
    }
}

/// A finished call's media counters: packets, bytes and losses of both
/// legs, their jitter, and the PBX leg's MOS.
fn record_media(m: &Metrics, stats: &CallMediaStats) {
    let (browser, pbx) = (&stats.browser, &stats.pbx);
    for (leg, s) in [("browser", browser), ("pbx", pbx)] {
        let count = |direction, packets: u64, bytes: u64| {
            let labels = RtpLabels { leg, direction };
            m.rtp_packets.get_or_create(&labels).inc_by(packets);
            m.rtp_bytes.get_or_create(&labels).inc_by(bytes);
        };
        count("in", s.packets_received, s.bytes_received);
        count("out", s.packets_sent, s.bytes_sent);
        m.rtp_lost
            .get_or_create(&LegLabels { leg })
            .inc_by(u64::try_from(s.packets_lost).unwrap_or(0));
        m.rtp_jitter.observe(s.jitter.as_secs_f64());
        let dropped = s.dropped_unknown_pt + s.dropped_malformed + s.dropped_late;
        if dropped > 0 {
            m.media_rejected
                .get_or_create(&ReasonLabels { reason: "bridge" })
                .inc_by(dropped);
        }
    }
    if pbx.packets_received > 0 {
        m.call_mos.observe(pbx.mos);
    }
}

/// Counts a lost browser leg under ICE or DTLS, by reason.
fn count_leg_failure(m: &Metrics, reason: DisconnectReason) {
    let (family, reason) = match reason {
        DisconnectReason::ConsentExpired => (&m.ice_failures, "consent_expired"),
        DisconnectReason::IceFailed => (&m.ice_failures, "ice_failed"),
        DisconnectReason::FingerprintMismatch => (&m.dtls_failures, "fingerprint_mismatch"),
        DisconnectReason::DtlsFailed => (&m.dtls_failures, "handshake"),
        DisconnectReason::ClosedByPeer => (&m.dtls_failures, "closed_by_peer"),
        _ => (&m.ice_failures, "other"),
    };
    family.get_or_create(&ReasonLabels { reason }).inc();
}

/// `ended`'s `by`, `sip_status` and `reason` for a SIP leg's end.
fn describe(cause: &EndCause) -> (EndedBy, Option<u16>, String) {
    match cause {
        EndCause::Rejected { status, reason } => (EndedBy::Remote, Some(*status), reason.clone()),
        EndCause::RemoteHangup => (EndedBy::Remote, None, "remote hangup".into()),
        EndCause::LocalHangup => (EndedBy::Local, None, "hung up".into()),
        EndCause::Timeout => (EndedBy::Gateway, Some(408), "no answer from the PBX".into()),
        EndCause::Unreachable => (EndedBy::Gateway, Some(503), "the PBX is unreachable".into()),
        EndCause::Protocol(why) => (EndedBy::Gateway, None, why.clone()),
        EndCause::SessionExpired => (EndedBy::Gateway, None, "session timer expired".into()),
    }
}

/// A telephone-event duration (8 kHz units for G.711, 48 kHz for Opus:
/// taken as 8 kHz, the common case) in milliseconds.
fn rtp_duration_ms(units: u16) -> u32 {
    u32::from(units) / 8
}

fn utf8(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}
