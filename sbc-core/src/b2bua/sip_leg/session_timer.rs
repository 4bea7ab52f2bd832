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
/// (`uac`, `uas`, or none).
pub fn session_expires(m: &Message) -> Option<(u32, Option<bool>)> {
    let value = m.headers.get(HeaderName::SessionExpires)?;
    let text = std::str::from_utf8(value).ok()?;
    let mut parts = text.split(';');
    let interval = parts.next()?.trim().parse().ok()?;
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
