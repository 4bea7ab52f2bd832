//! Session timers (RFC 4028) of a [`SipLeg`](super::SipLeg): the negotiated interval, who
//! refreshes, and when. The refresher re-INVITEs at half the interval; the
//! other side ends the call if no refresh came by the interval minus
//! min(32 s, a third of it) (§10).

use crate::sip::headers::HeaderAccess;
use crate::sip::{HeaderName, Message};
use std::time::{Duration, Instant};

/// The interval the gateway asks for on its INVITEs (RFC 4028 §4 suggests
/// 1800 s).
pub const REQUESTED_INTERVAL: u32 = 1800;
/// The smallest interval the gateway accepts (RFC 4028's Min-SE default).
pub const MIN_INTERVAL: u32 = 90;

/// Who sends the refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresher {
    /// The gateway.
    Us,
    /// The PBX.
    Them,
}

/// A running session timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimer {
    /// The interval, seconds.
    pub interval: u32,
    /// Who refreshes.
    pub refresher: Refresher,
    /// When the gateway refreshes, or gives up waiting for a refresh.
    pub due: Instant,
}

impl SessionTimer {
    /// A timer for `interval` seconds refreshed by `refresher`, from `now`.
    pub fn new(now: Instant, interval: u32, refresher: Refresher) -> Self {
        let interval = interval.max(1);
        let wait = match refresher {
            Refresher::Us => u64::from(interval) / 2,
            Refresher::Them => u64::from(interval) - u64::from((interval / 3).min(32)),
        };
        SessionTimer {
            interval,
            refresher,
            due: now + Duration::from_secs(wait.max(1)),
        }
    }

    /// The `Session-Expires` value that states this timer, seen from a
    /// side that is the UAC (`we_are_uac`) or the UAS of the dialog.
    pub fn header_value(&self, we_are_uac: bool) -> String {
        let refresher = match (self.refresher, we_are_uac) {
            (Refresher::Us, true) | (Refresher::Them, false) => "uac",
            _ => "uas",
        };
        format!("{};refresher={refresher}", self.interval)
    }
}

/// A `Session-Expires` header: the interval and the `refresher` parameter
/// (`uac`, `uas`, or none). A request's interval (an INVITE's, a
/// re-INVITE's, an UPDATE's) is raised to [`MIN_INTERVAL`]: RFC 4028 §8
/// lets a UAS refuse a shorter one with 422, and the gateway takes it at its
/// minimum instead. A response's is taken as given: its sender answered a
/// request that said the gateway's `Min-SE`.
pub fn session_expires(m: &Message) -> Option<(u32, Option<bool>)> {
    let value = m.headers.get(HeaderName::SessionExpires)?;
    let text = std::str::from_utf8(value).ok()?;
    let mut parts = text.split(';');
    let interval: u32 = parts.next()?.trim().parse().ok()?;
    let mut uac = None;
    for p in parts {
        if let Some((k, v)) = p.split_once('=')
            && k.trim().eq_ignore_ascii_case("refresher")
        {
            uac = match v.trim().to_ascii_lowercase().as_str() {
                "uac" => Some(true),
                "uas" => Some(false),
                _ => None,
            };
        }
    }
    let interval = if m.is_request() {
        interval.max(MIN_INTERVAL)
    } else {
        interval
    };
    Some((interval, uac))
}

/// Whether a request says it supports `timer` (Supported or Require).
pub fn supports_timer(m: &Message) -> bool {
    [HeaderName::Supported, HeaderName::Require]
        .into_iter()
        .flat_map(|h| m.header_values(h))
        .filter_map(|v| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("timer"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_clock::epoch;

    /// An INVITE, or its 200 (`response`), with `Session-Expires: value`.
    fn with_session_expires(value: &str, response: bool) -> Message {
        let start = if response {
            "SIP/2.0 200 OK"
        } else {
            "INVITE sip:a@example.com SIP/2.0"
        };
        let text = format!(
            "{start}\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
             From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c\r\n\
             CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nSession-Expires: {value}\r\n\
             Content-Length: 0\r\n\r\n"
        );
        Message::parse(text.into(), &crate::sip::Limits::default()).unwrap()
    }

    #[test]
    fn session_expires_is_read_and_a_request_is_held_to_min_se() {
        let read = |v: &str, response| session_expires(&with_session_expires(v, response));
        assert_eq!(read("1800;refresher=uac", false), Some((1800, Some(true))));
        assert_eq!(read("1800; refresher=UAS", true), Some((1800, Some(false))));
        assert_eq!(read("10", false), Some((MIN_INTERVAL, None)));
        assert_eq!(read("10", true), Some((10, None)));
        assert_eq!(read("soon", false), None);
    }

    #[test]
    fn the_refresher_refreshes_at_half_and_the_other_waits_almost_all() {
        let now = epoch();
        assert_eq!(
            SessionTimer::new(now, 1800, Refresher::Us).due,
            now + Duration::from_secs(900)
        );
        assert_eq!(
            SessionTimer::new(now, 1800, Refresher::Them).due,
            now + Duration::from_secs(1768)
        );
        assert_eq!(
            SessionTimer::new(now, 6, Refresher::Them).due,
            now + Duration::from_secs(4)
        );
        let t = SessionTimer::new(now, 90, Refresher::Us);
        assert_eq!(t.header_value(true), "90;refresher=uac");
        assert_eq!(t.header_value(false), "90;refresher=uas");
    }
}
