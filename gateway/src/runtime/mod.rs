//! The runtime: the only module that owns sockets, spawns tasks and reads
//! the clock. [`transport`] owns the SIP sockets, [`sip_core`] drives the
//! sans-IO transaction layer in one task, [`rate_limit`] keeps floods from
//! one source away from everyone else, [`media`] owns the media sockets and
//! drives every call's media cores in one task.

pub mod media;
pub mod rate_limit;
pub mod rtp_ports;
pub mod sip_core;
pub mod transport;

use crate::config::{SipConfig, SipTransport};
use crate::metrics::Metrics;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sbc_core::sip::Limits;
use sbc_core::sip::transaction::{TimerConfig, TransactionLayer, Transport};
use sip_core::{SipHandle, TransactionUser};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use transport::{TransportOptions, Transports};

/// A running SIP stack: its transports, the core task, and the switch that
/// stops it.
pub struct SipRuntime<U> {
    /// The bound transports.
    pub transports: Transports,
    /// The SIP core task; it returns the transaction user when it stops.
    pub task: JoinHandle<U>,
    /// Work for the SIP core from other tasks.
    pub handle: SipHandle<U>,
    shutdown: watch::Sender<bool>,
}

impl<U> SipRuntime<U> {
    /// Asks the SIP core to stop.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }
}

/// Maps a configured listener transport onto the SIP layer's.
pub fn transport_of(t: SipTransport) -> Transport {
    match t {
        SipTransport::Udp => Transport::Udp,
        SipTransport::Tcp => Transport::Tcp,
        SipTransport::Tls => Transport::Tls,
    }
}

/// Parser limits from the configuration.
pub fn limits_of(sip: &SipConfig) -> Limits {
    Limits {
        max_message_size: sip.max_message_size,
        max_headers: sip.max_headers,
    }
}

/// Binds the SIP listeners of `sip` and starts the SIP core with `user`
/// (its metrics go nowhere: test agents, the demo PBX).
pub async fn start_sip<U: TransactionUser + 'static>(
    sip: &SipConfig,
    user: U,
    tls_server: Option<Arc<rustls::ServerConfig>>,
    tls_client: Option<Arc<rustls::ClientConfig>>,
) -> io::Result<SipRuntime<U>> {
    let (metrics, _) = Metrics::new();
    start_sip_with_metrics(sip, user, tls_server, tls_client, metrics).await
}

/// [`start_sip`], counting into `metrics`.
pub async fn start_sip_with_metrics<U: TransactionUser + 'static>(
    sip: &SipConfig,
    user: U,
    tls_server: Option<Arc<rustls::ServerConfig>>,
    tls_client: Option<Arc<rustls::ClientConfig>>,
    metrics: Arc<Metrics>,
) -> io::Result<SipRuntime<U>> {
    let limits = limits_of(sip);
    let options = TransportOptions {
        limits,
        idle_timeout: sip.tcp_idle_timeout,
        max_connections: sip.max_connections,
        rate_limit_per_ip: sip.rate_limit_per_ip.map_or(0, |n| n.get()),
    };
    let listen: Vec<_> = sip
        .listen
        .iter()
        .map(|l| (transport_of(l.transport), l.addr))
        .collect();
    let (inbound_tx, inbound_rx) = mpsc::channel(4096);
    let transports = Transports::bind(&listen, tls_server, tls_client, options, inbound_tx).await?;
    let timers = TimerConfig {
        t1: sip.t1,
        t2: sip.t2,
        t4: sip.t4,
        ..TimerConfig::default()
    };
    let layer = TransactionLayer::new(timers, StdRng::from_os_rng());
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (handle, commands) = SipHandle::new();
    let task = tokio::spawn(sip_core::run(
        layer,
        transports.clone(),
        inbound_rx,
        commands,
        user,
        StdRng::from_os_rng(),
        limits,
        metrics,
        shutdown_rx,
    ));
    Ok(SipRuntime {
        transports,
        task,
        handle,
        shutdown,
    })
}

/// How long a stopping SIP core may take to finish.
pub const STOP_GRACE: Duration = Duration::from_secs(2);
