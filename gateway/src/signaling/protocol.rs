//! Protocol v1 frames (docs/protocol.md): what a browser may send, parsed
//! and checked into [`Request`]s, and what the gateway sends back, built by
//! the functions at the end. Unknown fields are ignored; an unknown `type`
//! is `unknown_type`; a frame that is not a JSON object with a string
//! `type`, or whose fields have the wrong shape, is `bad_request`. Parsing
//! never fails without telling which `id` (if any could be read) to answer.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The protocol version this gateway speaks.
pub const VERSION: u32 = 1;

/// Longest text frame accepted; longer ones get `bad_request`.
pub const MAX_FRAME: usize = 64 * 1024;

/// The error codes of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Malformed JSON or fields.
    BadRequest,
    /// A `type` the gateway does not know.
    UnknownType,
    /// A missing or bad token.
    Unauthorized,
    /// The request needs a registration.
    NotRegistered,
    /// No call of that name in this session.
    NoSuchCall,
    /// A call of that name exists already.
    CallExists,
    /// Not possible in the call's (or session's) state.
    InvalidState,
    /// The SDP cannot be used.
    BadSdp,
    /// The target cannot be routed.
    NoRoute,
    /// Too many frames.
    RateLimited,
    /// The gateway takes no new calls.
    Overloaded,
    /// The PBX refused the registration.
    RegistrationFailed,
    /// Something broke inside the gateway.
    Internal,
}

impl ErrorCode {
    /// The code as the protocol spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::NotRegistered => "not_registered",
            ErrorCode::NoSuchCall => "no_such_call",
            ErrorCode::CallExists => "call_exists",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::BadSdp => "bad_sdp",
            ErrorCode::NoRoute => "no_route",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::RegistrationFailed => "registration_failed",
            ErrorCode::Internal => "internal",
        }
    }
}

/// A request id: any string or number the client picked.
pub type RequestId = Value;

/// A refused frame or request: the answer to send.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolError {
    /// The request's id, when one could be read.
    pub id: Option<RequestId>,
    /// The code.
    pub code: ErrorCode,
    /// Human text.
    pub message: String,
    /// The SIP status behind it, if any.
    pub sip_status: Option<u16>,
}

impl ProtocolError {
    /// An error without SIP status.
    pub fn new(id: Option<RequestId>, code: ErrorCode, message: impl Into<String>) -> Self {
        ProtocolError {
            id,
            code,
            message: message.into(),
            sip_status: None,
        }
    }

    /// The `error` frame.
    pub fn to_frame(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), "error".into());
        if let Some(id) = &self.id {
            m.insert("id".into(), id.clone());
        }
        m.insert("code".into(), self.code.as_str().into());
        m.insert("message".into(), self.message.clone().into());
        if let Some(s) = self.sip_status {
            m.insert("sip_status".into(), s.into());
        }
        Value::Object(m)
    }
}

/// A trickled candidate (`candidate: null` ends gathering).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TrickleCandidate {
    /// The `candidate:` line.
    pub candidate: String,
    /// Its media id.
    #[serde(rename = "sdpMid")]
    pub sdp_mid: Option<String>,
    /// Its m-line index.
    #[serde(rename = "sdpMLineIndex")]
    pub sdp_mline_index: Option<u32>,
}

/// A client request, checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Opens the session.
    Hello {
        /// The browser's token, when the gateway authenticates.
        token: Option<String>,
        /// The resume token of a dropped session.
        resume: Option<String>,
    },
    /// Keep-alive.
    Ping,
    /// Register at the PBX.
    Register {
        /// The user.
        user: String,
        /// Its password.
        password: Option<String>,
        /// Its domain.
        domain: Option<String>,
        /// Requested expiry, seconds.
        expires: Option<u32>,
    },
    /// Remove the registration.
    Unregister,
    /// Place a call.
    Call {
        /// The call's name.
        call: String,
        /// Number, user or SIP URI.
        to: String,
        /// The browser's offer.
        sdp: String,
        /// Extra SIP headers.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Answer an incoming call.
    Answer {
        /// The call.
        call: String,
        /// The browser's answer.
        sdp: String,
    },
    /// Say it rings.
    Ringing {
        /// The call.
        call: String,
    },
    /// Decline an incoming call.
    Reject {
        /// The call.
        call: String,
        /// The SIP status, default 486.
        code: Option<u16>,
    },
    /// End, cancel or decline.
    Hangup {
        /// The call.
        call: String,
    },
    /// Send DTMF.
    Dtmf {
        /// The call.
        call: String,
        /// The keys: 0-9, *, #, A-D.
        digits: String,
        /// Per key, default 100 ms.
        duration_ms: Option<u32>,
    },
    /// Put the call on hold.
    Hold {
        /// The call.
        call: String,
    },
    /// Resume it.
    Unhold {
        /// The call.
        call: String,
    },
    /// Blind transfer.
    Transfer {
        /// The call.
        call: String,
        /// The target.
        to: String,
    },
    /// Renegotiate the browser leg.
    Sdp {
        /// The call.
        call: String,
        /// The new offer.
        sdp: String,
    },
    /// A trickled candidate; answered with nothing.
    Candidate {
        /// The call.
        call: String,
        /// The candidate, `None` at the end of gathering.
        candidate: Option<TrickleCandidate>,
    },
}

impl Request {
    /// The frame's `type`, for metrics.
    pub fn type_name(&self) -> &'static str {
        match self {
            Request::Hello { .. } => "hello",
            Request::Ping => "ping",
            Request::Register { .. } => "register",
            Request::Unregister => "unregister",
            Request::Call { .. } => "call",
            Request::Answer { .. } => "answer",
            Request::Ringing { .. } => "ringing",
            Request::Reject { .. } => "reject",
            Request::Hangup { .. } => "hangup",
            Request::Dtmf { .. } => "dtmf",
            Request::Hold { .. } => "hold",
            Request::Unhold { .. } => "unhold",
            Request::Transfer { .. } => "transfer",
            Request::Sdp { .. } => "sdp",
            Request::Candidate { .. } => "candidate",
        }
    }
}

/// The `type` label of a frame the gateway sends (a bounded set).
pub fn event_type_name(frame: &Value) -> &'static str {
    const TYPES: &[&str] = &[
        "ok",
        "error",
        "registration",
        "incoming",
        "progress",
        "answered",
        "ended",
        "held",
        "resumed",
        "dtmf",
        "transfer",
        "quality",
    ];
    let ty = frame.get("type").and_then(Value::as_str).unwrap_or("");
    TYPES.iter().find(|t| **t == ty).copied().unwrap_or("other")
}

/// Every `type` a client may send.
const REQUEST_TYPES: &[&str] = &[
    "hello",
    "ping",
    "register",
    "unregister",
    "call",
    "answer",
    "ringing",
    "reject",
    "hangup",
    "dtmf",
    "hold",
    "unhold",
    "transfer",
    "sdp",
    "candidate",
];

/// A parsed frame: its id (absent only for `candidate`) and request.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The id to answer with.
    pub id: Option<RequestId>,
    /// The request.
    pub request: Request,
}

/// Parses and checks one text frame.
pub fn parse_frame(text: &str) -> Result<Frame, ProtocolError> {
    if text.len() > MAX_FRAME {
        return Err(ProtocolError::new(
            None,
            ErrorCode::BadRequest,
            format!("frame of {} bytes; the limit is {MAX_FRAME}", text.len()),
        ));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ProtocolError::new(None, ErrorCode::BadRequest, format!("not JSON: {e}")))?;
    let Value::Object(object) = &value else {
        return Err(ProtocolError::new(
            None,
            ErrorCode::BadRequest,
            "a frame must be a JSON object",
        ));
    };
    let id = match object.get("id") {
        None | Some(Value::Null) => None,
        Some(id @ (Value::String(_) | Value::Number(_))) => Some(id.clone()),
        Some(_) => {
            return Err(ProtocolError::new(
                None,
                ErrorCode::BadRequest,
                "id must be a string or a number",
            ));
        }
    };
    let bad = |message: String| ProtocolError::new(id.clone(), ErrorCode::BadRequest, message);
    let ty = match object.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err(bad("type must be a string".into())),
        None => return Err(bad("a frame needs a type".into())),
    };
    // The known type, as a 'static str: the frame's tree can then be
    // moved into the request rather than copied (frames reach 64 KB).
    let Some(&ty) = REQUEST_TYPES.iter().find(|t| **t == ty) else {
        return Err(ProtocolError::new(
            id,
            ErrorCode::UnknownType,
            format!("unknown type {:?}", truncate(ty, 40)),
        ));
    };
    if id.is_none() && ty != "candidate" {
        return Err(bad(format!("{ty} needs an id")));
    }
    let request: Request = serde_json::from_value(value).map_err(|e| bad(format!("{ty}: {e}")))?;
    check(&request).map_err(bad)?;
    Ok(Frame { id, request })
}

/// The `id` of a frame, if it is a JSON object with a string or number
/// `id` (for answering a frame that is not otherwise handled).
pub fn request_id_of(text: &str) -> Option<RequestId> {
    if text.len() > MAX_FRAME {
        return None;
    }
    #[derive(Deserialize)]
    struct IdOnly {
        id: Option<Value>,
    }
    let id = serde_json::from_str::<IdOnly>(text).ok()?.id?;
    matches!(id, Value::String(_) | Value::Number(_)).then_some(id)
}

/// The checks serde cannot express.
fn check(request: &Request) -> Result<(), String> {
    let name_ok = |call: &str| !call.is_empty() && call.len() <= 64;
    let call = match request {
        Request::Call { call, .. }
        | Request::Answer { call, .. }
        | Request::Ringing { call }
        | Request::Reject { call, .. }
        | Request::Hangup { call }
        | Request::Dtmf { call, .. }
        | Request::Hold { call }
        | Request::Unhold { call }
        | Request::Transfer { call, .. }
        | Request::Sdp { call, .. }
        | Request::Candidate { call, .. } => Some(call),
        _ => None,
    };
    if let Some(call) = call
        && !name_ok(call)
    {
        return Err("call must be 1 to 64 characters".into());
    }
    match request {
        Request::Dtmf {
            digits,
            duration_ms,
            ..
        } => {
            let valid =
                |c: char| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D' | 'a'..='d');
            if digits.is_empty() || digits.len() > 32 || !digits.chars().all(valid) {
                return Err("digits must be 1 to 32 of 0-9, *, #, A-D".into());
            }
            if duration_ms.is_some_and(|d| !(40..=5000).contains(&d)) {
                return Err("duration_ms must be 40 to 5000".into());
            }
        }
        Request::Reject { code: Some(c), .. } if !(400..=699).contains(c) => {
            return Err("code must be a SIP failure status (400-699)".into());
        }
        Request::Register { user, expires, .. } => {
            if user.is_empty() || user.len() > 64 {
                return Err("user must be 1 to 64 characters".into());
            }
            if expires.is_some_and(|e| !(60..=86400).contains(&e)) {
                return Err("expires must be 60 to 86400".into());
            }
        }
        _ => {}
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `{"type":"ok","id":…}` plus `fields`.
pub fn ok(id: &RequestId, fields: Value) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), "ok".into());
    m.insert("id".into(), id.clone());
    if let Value::Object(extra) = fields {
        m.extend(extra);
    }
    Value::Object(m)
}

/// Who ended a call, as `ended.by` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// The far end (the PBX or its caller).
    Remote,
    /// This browser.
    Local,
    /// The gateway (timeouts, failures, shutdown).
    Gateway,
}

impl EndedBy {
    /// The protocol's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Remote => "remote",
            EndedBy::Local => "local",
            EndedBy::Gateway => "gateway",
        }
    }
}

/// `progress`.
pub fn progress(call: &str, sip_status: u16, sdp: Option<&str>) -> Value {
    let mut v = json!({"type": "progress", "call": call, "sip_status": sip_status});
    if let Some(sdp) = sdp {
        v["sdp"] = sdp.into();
    }
    v
}

/// `answered`.
pub fn answered(call: &str, sdp: Option<&str>) -> Value {
    let mut v = json!({"type": "answered", "call": call});
    if let Some(sdp) = sdp {
        v["sdp"] = sdp.into();
    }
    v
}

/// `ended`.
pub fn ended(call: &str, by: EndedBy, sip_status: Option<u16>, reason: &str) -> Value {
    let mut v = json!({"type": "ended", "call": call, "by": by.as_str(), "reason": reason});
    if let Some(s) = sip_status {
        v["sip_status"] = s.into();
    }
    v
}

/// `held` or `resumed`.
pub fn hold_state(call: &str, held: bool, by: EndedBy) -> Value {
    let ty = if held { "held" } else { "resumed" };
    json!({"type": ty, "call": call, "by": by.as_str()})
}

/// `registration`: the state of the session's registration changed.
pub fn registration(state: &str, sip_status: Option<u16>, reason: Option<&str>) -> Value {
    let mut v = json!({"type": "registration", "state": state});
    if let Some(s) = sip_status {
        v["sip_status"] = s.into();
    }
    if let Some(r) = reason {
        v["reason"] = r.into();
    }
    v
}

/// `incoming`: the PBX calls this session's registered user.
pub fn incoming(call: &str, from: &str, display: Option<&str>, to: &str, sdp: &str) -> Value {
    let mut v = json!({"type": "incoming", "call": call, "from": from, "to": to, "sdp": sdp});
    if let Some(d) = display {
        v["display"] = d.into();
    }
    v
}

/// `quality`: the SIP leg's media quality; `rtt_ms` only once the PBX's
/// RTCP reports gave a round trip.
pub fn quality(call: &str, rtt_ms: Option<f64>, jitter_ms: f64, loss: f64, mos: f64) -> Value {
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let mut v = json!({
        "type": "quality",
        "call": call,
        "jitter_ms": round(jitter_ms),
        "loss": round(loss.clamp(0.0, 1.0) * 100.0) / 100.0,
        "mos": round(mos.clamp(1.0, 5.0)),
    });
    if let Some(rtt) = rtt_ms {
        v["rtt_ms"] = round(rtt).into();
    }
    v
}

/// `transfer`: how the transfer target answered (from the PBX's NOTIFYs).
pub fn transfer_progress(call: &str, sip_status: u16) -> Value {
    json!({"type": "transfer", "call": call, "sip_status": sip_status})
}

/// `dtmf` from the PBX.
pub fn dtmf(call: &str, digit: char, duration_ms: u32) -> Value {
    json!({"type": "dtmf", "call": call, "digit": digit.to_string(), "duration_ms": duration_ms})
}

#[cfg(test)]
mod tests;
