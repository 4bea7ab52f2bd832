//! [`BrowserCall`]: one call a browser placed, as its signaling session
//! drives it. The browser's offer becomes the media runtime's PBX offer
//! and the SIP leg's INVITE; the leg's events become protocol events, with
//! the browser's answer written once the PBX chose its codecs (in a 183's
//! SDP for early media, else in the 2xx's); media failures end the SIP
//! leg, and SIP endings end the media.
//!
//! Beside this file: `services.rs` (what calls need from the rest of the
//! gateway), `incoming.rs` (a call from the PBX: answer, ringing,
//! reject), `mid_call.rs` (hold, renegotiation, transfer, DTMF) and
//! `ending.rs` (tearing both legs down, metrics and the call record).

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

/// One browser-placed call; see the module docs.
#[derive(Debug)]
pub struct BrowserCall {
    name: String,
    media: MediaCallId,
    sip: CallKey,
    state: CallState,
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

    /// The PBX's answer: the media runtime's first one gives the browser
    /// answer. On failure the call is ended and the frames say so.
    async fn pbx_answer(
        &mut self,
        svc: &CallServices,
        sdp: Bytes,
    ) -> Result<Option<String>, Vec<Value>> {
        match svc.media.set_pbx_answer(self.media, utf8(&sdp)).await {
            Ok(answer) => Ok(answer),
            Err(e) => {
                warn!(call = %self.name, error = %e, "PBX answer unusable");
                Err(self
                    .end_by_gateway(svc, &format!("the PBX's answer is unusable: {e}"))
                    .await)
            }
        }
    }
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

mod ending;
mod incoming;
mod mid_call;
mod services;

use ending::{Ending, count_leg_failure};
pub use services::{CallServices, EventSinks, MediaEventRouter, PbxRoute};
