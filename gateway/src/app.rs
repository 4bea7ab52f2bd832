//! The whole gateway, started from a [`Config`]: media runtime, SIP stack
//! with the B2BUA, the PBX route (the configured PBX, or the demo PBX on
//! loopback), and the HTTPS front with `/ws`. `main` runs it until a
//! signal; the end-to-end tests run it in-process.

use crate::admin::{AdminRegistry, AdminState};
use crate::b2bua::browser_call::{CallServices, MediaEventRouter, PbxRoute};
use crate::cdr::CdrSink;
use crate::config::{self, Config, PbxMediaSecurity};
use crate::demo_pbx::{self, DemoPbx};
use crate::http::{self, HttpServer, Readiness};
use crate::metrics::Metrics;
use crate::pbx_ping::PbxPinger;
use crate::runtime::media::{MediaRuntime, MediaSettings, start_media};
use crate::runtime::{self, SipRuntime, transport_of};
use crate::signaling::session::{SessionConfig, SessionLimits};
use crate::signaling::token::TokenKey;
use crate::sip_service::GatewayService;
use anyhow::{Context, anyhow};
use sbc_core::b2bua::{HeaderPolicy, PbxTarget};
use sbc_core::media::rtp_leg::RtpLegConfig;
use sbc_core::sip::transaction::Peer;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::watch;
use tracing::info;

/// A running gateway.
pub struct App {
    /// The HTTPS front.
    pub http: HttpServer,
    /// The SIP stack.
    pub sip: SipRuntime<GatewayService>,
    /// The media runtime's browser-side address.
    pub webrtc_addr: SocketAddr,
    /// Where browser calls go.
    pub pbx: PbxRoute,
    /// The demo PBX, when no PBX is configured.
    pub demo: Option<DemoPbx>,
    /// What `/readyz` answers from.
    pub readiness: Readiness,
    /// The gateway's metrics.
    pub metrics: Arc<Metrics>,
    /// Where `metrics.listen` serves `/metrics`, if set.
    pub metrics_addr: Option<SocketAddr>,
    end_all: watch::Sender<bool>,
    media: MediaRuntime,
    shutdown: watch::Sender<bool>,
}

impl App {
    /// Starts draining (the first SIGTERM): not ready, no new calls (503
    /// toward the PBX, `overloaded` toward browsers); calls go on.
    pub fn drain(&self) {
        self.readiness.draining.store(true, Ordering::Relaxed);
        self.sip.handle.spawn(|gw, _, _| gw.draining = true);
        info!("draining: not ready, no new calls; calls in progress go on");
    }

    /// Ends every call still up (the grace period is over, or a second
    /// SIGTERM): BYE or CANCEL toward the PBX, `ended` toward browsers.
    pub fn end_all_calls(&self) {
        let _ = self.end_all.send(true);
    }

    /// Calls in progress.
    pub fn calls_active(&self) -> i64 {
        self.metrics.calls_active.get()
    }

    /// Stops every part and waits (briefly) for the SIP core.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.media.stop();
        self.sip.stop();
        if let Some(demo) = &self.demo {
            demo.sip.stop();
        }
        let _ = tokio::time::timeout(runtime::STOP_GRACE, self.sip.task).await;
        let _ = tokio::time::timeout(runtime::STOP_GRACE, self.http.task).await;
    }
}

/// Starts the gateway.
pub async fn start(config: &Config) -> anyhow::Result<App> {
    let (metrics, registry) = Metrics::new();
    let tls_server = sip_tls(config)?;
    let service = GatewayService::new(config.sip.user_agent.clone());
    let sip =
        runtime::start_sip_with_metrics(&config.sip, service, tls_server, None, metrics.clone())
            .await
            .context("cannot bind the SIP listeners")?;
    let (pbx, demo) = pbx_route(config).await?;
    let sip_ip = match config.media.sip_ip {
        Some(ip) => ip,
        None => local_ip_toward(pbx.next_hop.addr).await,
    };
    let ports = &config.media.rtp_ports;
    let mut media = start_media(MediaSettings {
        webrtc_bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), config.media.webrtc_port),
        public_ip: config.media.public_ip,
        rtp_ports: ports.clone(),
        sip_ip,
        rtp_leg: RtpLegConfig {
            media_timeout: Some(config.media.timeout),
            ..RtpLegConfig::default()
        },
        pbx_sdes: config.pbx.srtp == PbxMediaSecurity::Sdes,
    })
    .await
    .context("cannot start the media runtime")?;
    let router = MediaEventRouter::default();
    tokio::spawn(router.clone().run(media.take_events()));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (end_all, end_all_rx) = watch::channel(false);
    let draining = Arc::new(AtomicBool::new(false));
    let admin_registry = Arc::new(AdminRegistry::default());
    let calls = Arc::new(CallServices {
        admin: admin_registry.clone(),
        media: media.handle.clone(),
        sip: sip.handle.clone(),
        pbx: pbx.clone(),
        header_policy: HeaderPolicy::new(&config.pbx.header_allow)
            .map_err(|e| anyhow!("pbx.header_allow: {e}"))?,
        credentials: match (&config.pbx.username, &config.pbx.password) {
            (Some(user), Some(password)) => Some((user.clone(), password.expose().to_owned())),
            (Some(user), None) => Some((user.clone(), String::new())),
            _ => None,
        },
        user_agent: config.sip.user_agent.clone(),
        media_router: router.clone(),
        metrics: metrics.clone(),
        draining: draining.clone(),
        end_all: end_all_rx,
        cdr: match &config.cdr.path {
            Some(path) => Some(Arc::new(CdrSink::open(path).with_context(|| {
                format!("cannot open the call records file {}", path.display())
            })?)),
            None => None,
        },
    });
    let sessions = Arc::new(SessionConfig {
        calls,
        tokens: config
            .auth
            .token_secret
            .as_ref()
            .map(|s| TokenKey::new(s.expose().as_bytes())),
        limits: SessionLimits {
            resume_grace: config.http.resume_grace,
            ..SessionLimits::default()
        },
        resumable: Default::default(),
    });
    let tls = crate::tls::server_config_or_generate(
        &config.http.cert,
        &config.http.key,
        config.media.public_ip,
    )
    .context("cannot set up TLS for HTTPS")?;
    let registry = Arc::new(registry);
    let mut readiness = Readiness {
        draining,
        ..Readiness::default()
    };
    if config.pbx.uri.is_some() && !config.pbx.options_interval.is_zero() {
        let up = Arc::new(AtomicBool::new(false));
        readiness.pbx_up = Some(up.clone());
        let pinger = PbxPinger::new(
            pbx.next_hop,
            format!("sip:{}", pbx.target),
            config.pbx.options_interval,
            up,
            metrics.clone(),
            config.sip.user_agent.clone(),
        );
        sip.handle.spawn(move |gw, _, _| gw.pinger = Some(pinger));
    }
    let http = http::start(
        config.http.listen,
        Arc::new(tls),
        sessions,
        registry.clone(),
        readiness.clone(),
        AdminState {
            token: config
                .admin
                .token
                .as_ref()
                .map(|t| Arc::new(t.expose().to_owned())),
            registry: admin_registry,
            media: media.handle.clone(),
        },
        shutdown_rx,
    )
    .await
    .with_context(|| format!("cannot listen on {}", config.http.listen))?;
    let metrics_addr = match config.metrics.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (metrics.listen)"))?;
            let local = listener.local_addr()?;
            let app = http::metrics_routes(registry.clone());
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            info!(%local, "/metrics on plain HTTP");
            Some(local)
        }
        None => None,
    };
    let webrtc_addr = media.webrtc_addr;
    Ok(App {
        http,
        sip,
        webrtc_addr,
        pbx,
        demo,
        readiness,
        metrics,
        metrics_addr,
        end_all,
        media,
        shutdown,
    })
}

fn sip_tls(config: &Config) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    let wants_tls = config
        .sip
        .listen
        .iter()
        .any(|l| l.transport == config::SipTransport::Tls);
    if !wants_tls {
        return Ok(None);
    }
    let server = crate::tls::server_config_or_generate(
        &config.sip.tls_cert,
        &config.sip.tls_key,
        config.media.public_ip,
    )
    .context("cannot set up TLS for SIP")?;
    Ok(Some(Arc::new(server)))
}

/// The configured PBX, resolved; or the demo PBX, started.
async fn pbx_route(config: &Config) -> anyhow::Result<(PbxRoute, Option<DemoPbx>)> {
    let (uri, demo) = match &config.pbx.uri {
        Some(uri) => (uri.clone(), None),
        None => {
            let demo = demo_pbx::start(&config.sip)
                .await
                .context("cannot start the demo PBX")?;
            (format!("sip:{}", demo.addr), Some(demo))
        }
    };
    let target = PbxTarget::parse(&uri).map_err(|e| anyhow!("pbx.uri {uri:?}: {e}"))?;
    let addr = tokio::net::lookup_host((target.host().trim_matches(['[', ']']), target.port()))
        .await
        .with_context(|| format!("cannot resolve the PBX host {}", target.host()))?
        .next()
        .ok_or_else(|| anyhow!("the PBX host {} has no address", target.host()))?;
    let next_hop = Peer {
        transport: target.transport(),
        addr,
    };
    let has_listener = config
        .sip
        .listen
        .iter()
        .any(|l| transport_of(l.transport) == next_hop.transport);
    if !has_listener {
        return Err(anyhow!(
            "pbx.uri needs a {} listener in sip.listen",
            next_hop.transport.as_str()
        ));
    }
    info!(pbx = %target, addr = %next_hop.addr, "browser calls go to the PBX");
    Ok((PbxRoute { target, next_hop }, demo))
}

/// The local address the system would send from toward `peer` (no packet
/// is sent: a connected UDP socket only picks its route).
async fn local_ip_toward(peer: SocketAddr) -> IpAddr {
    let any = if peer.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
    };
    let probe = async {
        let socket = tokio::net::UdpSocket::bind(SocketAddr::new(any, 0)).await?;
        socket.connect(peer).await?;
        socket.local_addr()
    };
    match probe.await {
        Ok(local) => local.ip(),
        Err(_) => peer.ip(),
    }
}
