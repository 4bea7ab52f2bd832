//! ICE consent freshness on an ICE-lite leg (RFC 7675).
//!
//! A full ICE agent keeps consent by its own checks; an ICE-lite endpoint
//! sends none, so what it can observe is the browser's consent checks: STUN
//! Binding requests carrying our ufrag and a MESSAGE-INTEGRITY keyed with our
//! password. Browsers send one every few seconds (RFC 7675 §5.1: 4–6 s);
//! consent expires when none has arrived for 30 s (§5.1). str0m's ICE-lite
//! agent prunes a pair after 15 s without a binding request, which reports
//! the leg dead earlier in most cases; this timer is the bound the leg
//! guarantees, and it also covers a browser that never starts ICE at all.

use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::crypto::CryptoProvider;
use str0m::ice::StunMessage;

/// RFC 7675 §5.1: consent expires 30 s after the last one was obtained.
pub(crate) const CONSENT_TIMEOUT: Duration = Duration::from_secs(30);

/// The consent timer of one leg.
pub(crate) struct Consent {
    timeout: Duration,
    last: Instant,
    local_ufrag: String,
    local_pwd: String,
    crypto: Arc<CryptoProvider>,
}

impl Consent {
    /// A timer that starts at `now`, as if consent had just been obtained.
    pub(crate) fn new(
        now: Instant,
        timeout: Duration,
        local_ufrag: String,
        local_pwd: String,
        crypto: Arc<CryptoProvider>,
    ) -> Self {
        Self {
            timeout,
            last: now,
            local_ufrag,
            local_pwd,
            crypto,
        }
    }

    /// Looks at a received datagram; if it is a consent check for this leg
    /// (an authenticated Binding request to our ufrag) the timer restarts
    /// and `true` is returned.
    /// The leg's ICE credentials changed (an ICE restart): checks are
    /// verified against the new ones from now on.
    pub(crate) fn set_credentials(&mut self, local_ufrag: String, local_pwd: String) {
        self.local_ufrag = local_ufrag;
        self.local_pwd = local_pwd;
    }

    pub(crate) fn observe(&mut self, now: Instant, datagram: &[u8]) -> bool {
        if !matches!(datagram.first(), Some(0..=3)) {
            return false;
        }
        let Ok(msg) = StunMessage::parse(datagram) else {
            return false;
        };
        if !msg.is_binding_request() {
            return false;
        }
        let ours = msg
            .username()
            .and_then(|u| u.split_once(':'))
            .is_some_and(|(local, _)| local == self.local_ufrag);
        if !ours {
            return false;
        }
        let hmac = self.crypto.sha1_hmac_provider;
        if !msg.verify(self.local_pwd.as_bytes(), |key, parts| {
            hmac.sha1_hmac(key, parts)
        }) {
            return false;
        }
        if now > self.last {
            self.last = now;
        }
        true
    }

    /// When consent expires unless a check arrives first.
    pub(crate) fn deadline(&self) -> Instant {
        self.last + self.timeout
    }

    /// Whether consent has expired at `now`.
    pub(crate) fn expired(&self, now: Instant) -> bool {
        now >= self.deadline()
    }
}
