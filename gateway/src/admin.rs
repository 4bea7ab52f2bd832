//! The admin API (`/admin/…` on the HTTPS listener, `admin.token` as a
//! bearer token; described in `docs/admin-api.yaml`): list the calls, show
//! one with its media quality so far, end one, list the registrations.
//!
//! [`AdminRegistry`] is what the sessions publish their calls and
//! registrations into; ending a call is a message to the session that owns
//! it, which ends it as any other gateway-side end (BYE, `ended`).

use crate::runtime::media::{MediaCallId, MediaHandle};
use aws_lc_rs::constant_time::verify_slices_are_equal;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;

/// A call as the admin API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AdminCall {
    /// `<session>:<call name>`.
    pub id: String,
    /// The browser session.
    pub session: String,
    /// The call's name in its session.
    pub call: String,
    /// `outbound` or `inbound`.
    pub direction: &'static str,
    /// `calling`, `ringing`, `in-call`.
    pub state: &'static str,
    /// When it was placed or offered (RFC 3339).
    pub start: String,
    /// When it was answered, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(skip)]
    media: Option<MediaCallId>,
    #[serde(skip)]
    ender: Option<UnboundedSender<String>>,
}

impl AdminCall {
    /// A call entry; `ender` takes the call's name when the operator ends it.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        session: &str,
        call: &str,
        direction: &'static str,
        state: &'static str,
        start: String,
        answer: Option<String>,
        media: MediaCallId,
        ender: UnboundedSender<String>,
    ) -> Self {
        AdminCall {
            id: format!("{session}:{call}"),
            session: session.to_owned(),
            call: call.to_owned(),
            direction,
            state,
            start,
            answer,
            media: Some(media),
            ender: Some(ender),
        }
    }
}

/// A registration as the admin API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AdminRegistration {
    /// The browser session.
    pub session: String,
    /// The user registered.
    pub user: String,
    /// Its domain.
    pub domain: String,
}

/// What the admin API shows; see the module docs.
#[derive(Debug, Default)]
pub struct AdminRegistry {
    calls: Mutex<BTreeMap<String, AdminCall>>,
    registrations: Mutex<BTreeMap<String, AdminRegistration>>,
}

impl AdminRegistry {
    /// Adds or updates a call.
    pub fn put_call(&self, call: AdminCall) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.insert(call.id.clone(), call);
        }
    }

    /// Removes a call.
    pub fn remove_call(&self, session: &str, call: &str) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.remove(&format!("{session}:{call}"));
        }
    }

    /// Adds or updates a session's registration.
    pub fn put_registration(&self, r: AdminRegistration) {
        if let Ok(mut regs) = self.registrations.lock() {
            regs.insert(r.session.clone(), r);
        }
    }

    /// Removes a session's registration.
    pub fn remove_registration(&self, session: &str) {
        if let Ok(mut regs) = self.registrations.lock() {
            regs.remove(session);
        }
    }

    fn calls(&self) -> Vec<AdminCall> {
        self.calls
            .lock()
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default()
    }

    fn call(&self, id: &str) -> Option<AdminCall> {
        self.calls.lock().ok()?.get(id).cloned()
    }

    fn registrations(&self) -> Vec<AdminRegistration> {
        self.registrations
            .lock()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// What the admin routes need.
#[derive(Clone)]
pub struct AdminState {
    /// The bearer token; `None` turns the API off (404).
    pub token: Option<Arc<String>>,
    /// The calls and registrations.
    pub registry: Arc<AdminRegistry>,
    /// For a call's media quality.
    pub media: MediaHandle,
}

/// The admin routes.
pub fn routes(state: AdminState) -> Router {
    Router::new()
        .route("/admin/calls", get(list_calls))
        .route("/admin/calls/{id}", get(show_call).delete(end_call))
        .route("/admin/registrations", get(list_registrations))
        .with_state(state)
}

/// `None` when the request may go on; the refusal otherwise.
fn refused(state: &AdminState, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = &state.token else {
        return Some(StatusCode::NOT_FOUND.into_response());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if verify_slices_are_equal(given.as_bytes(), token.as_bytes()).is_ok() {
        return None;
    }
    Some(
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(json!({"error": "a valid bearer token is required"})),
        )
            .into_response(),
    )
}

async fn list_calls(State(s): State<AdminState>, headers: HeaderMap) -> Response {
    if let Some(r) = refused(&s, &headers) {
        return r;
    }
    axum::Json(json!({ "calls": s.registry.calls() })).into_response()
}

async fn show_call(
    State(s): State<AdminState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = refused(&s, &headers) {
        return r;
    }
    let Some(call) = s.registry.call(&id) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "no such call"})),
        )
            .into_response();
    };
    let mut body = json!({ "call": call });
    if let Some(media) = call.media
        && let Ok(Some(stats)) = s.media.stats(media).await
    {
        let leg = |l: &sbc_core::media::bridge::LegStats| {
            json!({
                "packets_received": l.packets_received,
                "packets_sent": l.packets_sent,
                "packets_lost": l.packets_lost,
                "loss": l.loss_fraction,
                "jitter_ms": l.jitter.as_secs_f64() * 1000.0,
                "rtt_ms": l.rtt.map(|r| r.as_secs_f64() * 1000.0),
                "mos": l.mos,
            })
        };
        body["media"] = json!({
            "codec": stats.codec,
            "browser": leg(&stats.browser),
            "pbx": leg(&stats.pbx),
        });
    }
    axum::Json(body).into_response()
}

async fn end_call(
    State(s): State<AdminState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = refused(&s, &headers) {
        return r;
    }
    let ended = s
        .registry
        .call(&id)
        .and_then(|c| c.ender.map(|e| e.send(c.call).is_ok()))
        .unwrap_or(false);
    if ended {
        (
            StatusCode::ACCEPTED,
            axum::Json(json!({"status": "ending"})),
        )
            .into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "no such call"})),
        )
            .into_response()
    }
}

async fn list_registrations(State(s): State<AdminState>, headers: HeaderMap) -> Response {
    if let Some(r) = refused(&s, &headers) {
        return r;
    }
    axum::Json(json!({ "registrations": s.registry.registrations() })).into_response()
}
