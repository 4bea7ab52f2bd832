//! Reading the parts of SIP messages the leg acts on: SDP bodies, reason
//! phrases, `message/sipfrag` statuses and DTMF in INFO bodies.

use crate::sdp::{Limits as SdpLimits, SessionDescription};
use crate::sip::headers::HeaderAccess;
use crate::sip::{Message, StartLine};
use bytes::Bytes;

/// The body of `m` when it is SDP.
pub(super) fn sdp_body(m: &Message) -> Option<Bytes> {
    let is_sdp = m
        .content_type()
        .ok()
        .flatten()
        .is_some_and(|t| t.is("application", "sdp"));
    (is_sdp && !m.body.is_empty()).then(|| m.body.clone())
}

/// The reason phrase of a response.
pub(super) fn reason_of(m: &Message) -> String {
    match &m.start {
        StartLine::Response { reason, .. } => String::from_utf8_lossy(reason).into_owned(),
        StartLine::Request { .. } => String::new(),
    }
}

/// The status code of a `message/sipfrag` body's status line
/// (`SIP/2.0 180 Ringing`).
pub(super) fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let line = std::str::from_utf8(body).ok()?.lines().next()?;
    let mut parts = line.split_whitespace();
    if parts.next()? != "SIP/2.0" {
        return None;
    }
    parts
        .next()?
        .parse()
        .ok()
        .filter(|s| (100..700).contains(s))
}

/// The `o=` session version of a description.
pub(super) fn sdp_version(sdp: &[u8]) -> Option<u64> {
    SessionDescription::parse(sdp, &SdpLimits::default())
        .ok()?
        .origin
        .session_version
        .parse()
        .ok()
}

/// The key and duration of an INFO carrying `application/dtmf-relay`
/// (`Signal=5\r\nDuration=160`) or `application/dtmf` (`5`).
pub(super) fn dtmf_of_info(m: &Message) -> Option<(char, Option<u32>)> {
    let ty = m.content_type().ok().flatten()?;
    let body = std::str::from_utf8(&m.body).ok()?;
    let valid = |c: char| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D');
    if ty.is("application", "dtmf") {
        let c = body.trim().chars().next()?.to_ascii_uppercase();
        return valid(c).then_some((c, None));
    }
    if !ty.is("application", "dtmf-relay") {
        return None;
    }
    let mut digit = None;
    let mut duration = None;
    for line in body.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "signal" => digit = v.trim().chars().next().map(|c| c.to_ascii_uppercase()),
            "duration" => duration = v.trim().parse().ok(),
            _ => {}
        }
    }
    digit.filter(|&c| valid(c)).map(|c| (c, duration))
}
