//! What every browser call needs from the rest of the gateway: the
//! route to the PBX, the media and SIP handles, metrics, call records,
//! and the router that hands media events to the owning session.

use super::*;

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

/// The channels a session gives its calls for their events.
#[derive(Clone)]
pub struct EventSinks {
    /// SIP leg events.
    pub sip: UnboundedSender<SipCallEvent>,
    /// Media events.
    pub media: UnboundedSender<MediaEvent>,
}
