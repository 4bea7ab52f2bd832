//! [`PbxPinger`]: OPTIONS pings to the configured PBX at a fixed interval
//! (`pbx.options_interval_secs`). Any final response means the PBX is up;
//! a timeout or a transport error means it is down. The state feeds
//! `/readyz` and the `sbc_pbx_up` gauge.

use crate::metrics::Metrics;
use crate::runtime::sip_core::SipContext;
use sbc_core::sip::Method;
use sbc_core::sip::request::{LocalVia, RequestBuilder};
use sbc_core::sip::transaction::{Peer, TransactionEvent, TransactionId};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tracing::{debug, info};

/// See the module docs.
pub struct PbxPinger {
    pbx: Peer,
    request_uri: String,
    interval: Duration,
    next: Option<Instant>,
    outstanding: Option<TransactionId>,
    up: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    user_agent: String,
}

impl PbxPinger {
    /// Pings `pbx` (its URI `request_uri`) every `interval`, the first time
    /// at once; `up` says whether the last ping was answered.
    pub fn new(
        pbx: Peer,
        request_uri: String,
        interval: Duration,
        up: Arc<AtomicBool>,
        metrics: Arc<Metrics>,
        user_agent: String,
    ) -> Self {
        PbxPinger {
            pbx,
            request_uri,
            interval,
            next: None,
            outstanding: None,
            up,
            metrics,
            user_agent,
        }
    }

    /// When the next ping is due.
    pub fn poll_timeout(&self, now: Instant) -> Option<Instant> {
        if self.outstanding.is_some() {
            return None;
        }
        Some(self.next.unwrap_or(now))
    }

    /// Sends the ping when it is due.
    pub fn handle_timeout(&mut self, now: Instant, sip: &mut SipContext<'_>) {
        if self.outstanding.is_some() || self.next.is_some_and(|t| t > now) {
            return;
        }
        self.next = Some(now + self.interval);
        let Some(local) = sip.local_addr(self.pbx.transport, self.pbx.addr) else {
            self.set_up(false);
            return;
        };
        let Ok(via) = LocalVia::new(self.pbx.transport, &local.to_string()) else {
            return;
        };
        let options = RequestBuilder::new(
            Method::Options,
            self.request_uri.clone(),
            format!("<sip:ping@{}>", local.ip()),
            format!("<{}>", self.request_uri),
            via,
        )
        .user_agent(self.user_agent.clone())
        .build(sip.rng);
        let Ok(options) = options else { return };
        match sip
            .layer
            .send_request(now, options.into_message(), self.pbx)
        {
            Ok(id) => self.outstanding = Some(id),
            Err(_) => self.set_up(false),
        }
    }

    /// Takes the events of its own transaction; gives others back.
    pub fn on_event(&mut self, event: TransactionEvent) -> Option<TransactionEvent> {
        let mine = |id: &TransactionId| self.outstanding == Some(*id);
        match &event {
            TransactionEvent::Response { id, response } if mine(id) => {
                if response.status().is_some_and(|s| s >= 200) {
                    self.outstanding = None;
                    self.set_up(true);
                }
                None
            }
            TransactionEvent::Timeout { id } | TransactionEvent::TransportError { id }
                if mine(id) =>
            {
                self.outstanding = None;
                self.set_up(false);
                None
            }
            _ => Some(event),
        }
    }

    fn set_up(&self, up: bool) {
        let was = self.up.swap(up, Ordering::Relaxed);
        self.metrics.pbx_up.set(i64::from(up));
        if was != up {
            if up {
                info!("the PBX answers OPTIONS pings");
            } else {
                info!("the PBX does not answer OPTIONS pings");
            }
        } else {
            debug!(up, "PBX ping");
        }
    }
}
