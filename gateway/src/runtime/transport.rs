//! SIP transports: the UDP sockets, TCP and TLS listeners and connections.
//! This module owns every SIP socket. Received datagrams and framed stream
//! messages go to the SIP core over one channel; the core sends through
//! [`Transports::send`]. Stream connections are bounded (count, buffer,
//! idle time) and answer CRLF keep-alive pings themselves.

use super::rate_limit::RateLimiter;
use crate::redact::Redacted;
use bytes::Bytes;
use sbc_core::sip::framing::{Frame, StreamFramer};
use sbc_core::sip::headers::HeaderAccess;
use sbc_core::sip::transaction::{Peer, Transport};
use sbc_core::sip::{Limits, MessageView};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tracing::{debug, info, warn};

/// Bytes received from a peer: one datagram, or one framed stream message.
#[derive(Debug)]
pub struct Inbound {
    /// Who sent it, and over what.
    pub peer: Peer,
    /// The datagram or message.
    pub data: Bytes,
}

/// What the transports report to the SIP core.
#[derive(Debug)]
pub enum TransportEvent {
    /// A datagram or framed message arrived.
    Received(Inbound),
    /// A message to this peer could not be sent: the connection could not
    /// be opened. Transactions with the peer fail at once rather than
    /// waiting for their timers (RFC 3261 §17.1.4).
    Unreachable(Peer),
}

/// Bounds and behaviour of the transports.
#[derive(Debug, Clone)]
pub struct TransportOptions {
    /// Parser limits (also bound each connection's buffer).
    pub limits: Limits,
    /// A stream connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// Most concurrent stream connections, inbound and outbound.
    pub max_connections: usize,
    /// Requests per second accepted from one source IP (0: unlimited).
    pub rate_limit_per_ip: u32,
}

/// Where one listener is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listener {
    /// UDP, TCP or TLS.
    pub transport: Transport,
    /// The bound address (with the real port when 0 was asked for).
    pub addr: SocketAddr,
}

type ConnKey = (Transport, SocketAddr);

/// Every SIP socket of the process.
#[derive(Clone)]
pub struct Transports {
    udp: Arc<Vec<Arc<UdpSocket>>>,
    listeners: Arc<Vec<Listener>>,
    conns: Arc<Mutex<HashMap<ConnKey, mpsc::Sender<Bytes>>>>,
    tls_client: Option<TlsConnector>,
    permits: Arc<Semaphore>,
    inbound: mpsc::Sender<TransportEvent>,
    options: Arc<TransportOptions>,
}

impl Transports {
    /// Binds every listener and starts its receive task. TLS listeners need
    /// `tls_server`; outbound TLS needs `tls_client`.
    pub async fn bind(
        listen: &[(Transport, SocketAddr)],
        tls_server: Option<Arc<rustls::ServerConfig>>,
        tls_client: Option<Arc<rustls::ClientConfig>>,
        options: TransportOptions,
        inbound: mpsc::Sender<TransportEvent>,
    ) -> io::Result<Transports> {
        let options = Arc::new(options);
        let mut udp = Vec::new();
        let mut listeners = Vec::new();
        let mut stream_listeners = Vec::new();
        for &(transport, addr) in listen {
            match transport {
                Transport::Udp => {
                    let socket = Arc::new(UdpSocket::bind(addr).await?);
                    let local = socket.local_addr()?;
                    listeners.push(Listener {
                        transport,
                        addr: local,
                    });
                    udp.push(socket);
                }
                Transport::Tcp | Transport::Tls => {
                    if transport == Transport::Tls && tls_server.is_none() {
                        return Err(io::Error::other("a tls: listener needs a certificate"));
                    }
                    let listener = TcpListener::bind(addr).await?;
                    let local = listener.local_addr()?;
                    listeners.push(Listener {
                        transport,
                        addr: local,
                    });
                    stream_listeners.push((transport, listener));
                }
                other => {
                    return Err(io::Error::other(format!(
                        "{other:?} listeners are not SIP listeners"
                    )));
                }
            }
        }
        let transports = Transports {
            udp: Arc::new(udp),
            listeners: Arc::new(listeners),
            conns: Arc::new(Mutex::new(HashMap::new())),
            tls_client: tls_client.map(TlsConnector::from),
            permits: Arc::new(Semaphore::new(options.max_connections)),
            inbound,
            options,
        };
        for socket in transports.udp.iter() {
            tokio::spawn(transports.clone().udp_receive(socket.clone()));
        }
        let acceptor = tls_server.map(TlsAcceptor::from);
        for (transport, listener) in stream_listeners {
            tokio::spawn(
                transports
                    .clone()
                    .accept(transport, listener, acceptor.clone()),
            );
        }
        for l in transports.listeners.iter() {
            info!(transport = ?l.transport, addr = %l.addr, "SIP listener up");
        }
        Ok(transports)
    }

    /// The bound listeners.
    pub fn listeners(&self) -> &[Listener] {
        &self.listeners
    }

    /// The first listener of `transport` in the address family of `peer`.
    pub fn listener_for(&self, transport: Transport, peer: SocketAddr) -> Option<Listener> {
        let same_family = |l: &&Listener| l.addr.is_ipv4() == peer.is_ipv4();
        self.listeners
            .iter()
            .filter(|l| l.transport == transport)
            .find(same_family)
            .or_else(|| self.listeners.iter().find(|l| l.transport == transport))
            .copied()
    }

    /// Sends one message. UDP goes out of the listener socket of the peer's
    /// family; streams reuse the connection to the peer, or open one.
    pub fn send(&self, peer: Peer, data: Bytes) {
        match peer.transport {
            Transport::Udp => {
                let socket = self
                    .udp
                    .iter()
                    .find(|s| {
                        s.local_addr()
                            .is_ok_and(|a| a.is_ipv4() == peer.addr.is_ipv4())
                    })
                    .or_else(|| self.udp.first());
                match socket {
                    Some(s) => {
                        if let Err(e) = s.try_send_to(&data, peer.addr) {
                            debug!(error = %e, "UDP send failed");
                        }
                    }
                    None => warn!("no UDP listener to send from"),
                }
            }
            Transport::Tcp | Transport::Tls => self.send_stream(peer, data),
            other => warn!(transport = ?other, "cannot send SIP over this transport"),
        }
    }

    fn send_stream(&self, peer: Peer, data: Bytes) {
        let key = (peer.transport, peer.addr);
        let existing = self.lock_conns().get(&key).cloned();
        if let Some(tx) = existing {
            if tx.try_send(data.clone()).is_ok() {
                return;
            }
            self.lock_conns().remove(&key);
        }
        // A response whose connection is gone goes to the address its Via
        // names (RFC 3261 §18.2.2), not to the client's old ephemeral port.
        let peer = match response_fallback(peer, &data) {
            Some(addr) if addr != peer.addr => {
                let fallback = Peer { addr, ..peer };
                if let Some(tx) = self.lock_conns().get(&(fallback.transport, addr)).cloned()
                    && tx.try_send(data.clone()).is_ok()
                {
                    return;
                }
                fallback
            }
            _ => peer,
        };
        let key = (peer.transport, peer.addr);
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            warn!("connection limit reached; outbound message dropped");
            return;
        };
        let (tx, rx) = mpsc::channel(256);
        let _ = tx.try_send(data);
        self.lock_conns().insert(key, tx);
        let this = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let outcome = this.connect_and_run(peer, rx).await;
            this.lock_conns().remove(&key);
            if let Err(why) = outcome {
                warn!(addr = %Redacted(peer.addr), transport = ?peer.transport, %why, "cannot connect");
                let _ = this.inbound.send(TransportEvent::Unreachable(peer)).await;
            }
        });
    }

    /// Opens a connection to `peer` and serves it until it closes; an
    /// error when it could not be opened at all.
    async fn connect_and_run(&self, peer: Peer, rx: mpsc::Receiver<Bytes>) -> Result<(), String> {
        let tcp = TcpStream::connect(peer.addr)
            .await
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        if peer.transport != Transport::Tls {
            self.run_connection(peer, tcp, rx).await;
            return Ok(());
        }
        let connector = self
            .tls_client
            .clone()
            .ok_or("no TLS client configuration")?;
        let name = rustls::pki_types::ServerName::try_from(peer.addr.ip().to_string())
            .map_err(|e| e.to_string())?;
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        self.run_connection(peer, tls, rx).await;
        Ok(())
    }

    fn lock_conns(&self) -> std::sync::MutexGuard<'_, HashMap<ConnKey, mpsc::Sender<Bytes>>> {
        // A poisoned map only means a task panicked mid-insert; the map is
        // still usable.
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn udp_receive(self, socket: Arc<UdpSocket>) {
        let mut limiter = RateLimiter::new(self.options.rate_limit_per_ip);
        let mut buf = vec![0u8; self.options.limits.max_message_size + 1];
        loop {
            let (n, from) = match socket.recv_from(&mut buf).await {
                Ok(r) => r,
                Err(e) => {
                    // ICMP errors surface here on some platforms; keep going.
                    debug!(error = %e, "UDP receive error");
                    continue;
                }
            };
            if n > self.options.limits.max_message_size {
                debug!(from = %Redacted(from), "oversized datagram dropped");
                continue;
            }
            if !limiter.allow(from.ip(), tokio::time::Instant::now().into_std()) {
                continue;
            }
            let inbound = Inbound {
                peer: Peer {
                    transport: Transport::Udp,
                    addr: from,
                },
                data: Bytes::copy_from_slice(&buf[..n]),
            };
            if self
                .inbound
                .send(TransportEvent::Received(inbound))
                .await
                .is_err()
            {
                return;
            }
        }
    }

    async fn accept(self, transport: Transport, listener: TcpListener, tls: Option<TlsAcceptor>) {
        loop {
            let (tcp, from) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                warn!(from = %Redacted(from), "connection limit reached; connection refused");
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let this = self.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let peer = Peer {
                    transport,
                    addr: from,
                };
                let key = (transport, from);
                let (tx, rx) = mpsc::channel(256);
                this.lock_conns().insert(key, tx);
                match (transport, tls) {
                    (Transport::Tls, Some(acceptor)) => {
                        let handshake =
                            tokio::time::timeout(this.options.idle_timeout, acceptor.accept(tcp));
                        match handshake.await {
                            Ok(Ok(stream)) => this.run_connection(peer, stream, rx).await,
                            Ok(Err(e)) => {
                                debug!(from = %Redacted(from), error = %e, "TLS handshake failed")
                            }
                            Err(_) => debug!(from = %Redacted(from), "TLS handshake timed out"),
                        }
                    }
                    _ => this.run_connection(peer, tcp, rx).await,
                }
                this.lock_conns().remove(&key);
            });
        }
    }

    /// Reads framed messages from a stream and writes what the core sends
    /// to this peer, until either side closes, the peer idles past the
    /// timeout, or it breaks framing.
    async fn run_connection<S>(&self, peer: Peer, stream: S, mut outbound: mpsc::Receiver<Bytes>)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let mut framer = StreamFramer::new(self.options.limits);
        let mut limiter = RateLimiter::new(self.options.rate_limit_per_ip);
        let mut buf = vec![0u8; 16 * 1024];
        debug!(addr = %Redacted(peer.addr), transport = ?peer.transport, "connection open");
        loop {
            tokio::select! {
                read = tokio::time::timeout(self.options.idle_timeout, reader.read(&mut buf)) => {
                    let n = match read {
                        Err(_) => { debug!(addr = %Redacted(peer.addr), "idle connection closed"); break; }
                        Ok(Err(_)) | Ok(Ok(0)) => break,
                        Ok(Ok(n)) => n,
                    };
                    if framer.push(&buf[..n]).is_err() {
                        warn!(addr = %Redacted(peer.addr), "stream buffer limit exceeded; closing");
                        break;
                    }
                    loop {
                        match framer.poll_frame() {
                            Ok(None) => break,
                            Ok(Some(Frame::KeepAlive { ping: true })) => {
                                if writer.write_all(b"\r\n").await.is_err() { return; }
                            }
                            Ok(Some(Frame::KeepAlive { ping: false })) => {}
                            Ok(Some(Frame::Message(data))) => {
                                if !limiter.allow(peer.addr.ip(), tokio::time::Instant::now().into_std()) {
                                    continue;
                                }
                                if self.inbound.send(TransportEvent::Received(Inbound { peer, data })).await.is_err() { return; }
                            }
                            Err(e) => {
                                warn!(addr = %Redacted(peer.addr), error = %e, "unframeable stream; closing");
                                let _ = writer.shutdown().await;
                                return;
                            }
                        }
                    }
                }
                msg = outbound.recv() => {
                    let Some(data) = msg else { break };
                    if writer.write_all(&data).await.is_err() { break; }
                }
            }
        }
        let _ = writer.shutdown().await;
        debug!(addr = %Redacted(peer.addr), "connection closed");
    }
}

/// Where a response goes over a stream transport when the connection its
/// request came on has closed (RFC 3261 §18.2.2): the `received` address of
/// the top Via (else the request's source address), and the Via's sent-by
/// port (else the transport's default port). `None` for requests, and for
/// responses whose Via cannot be read.
fn response_fallback(peer: Peer, data: &[u8]) -> Option<SocketAddr> {
    if !data.starts_with(b"SIP/2.0 ") {
        return None;
    }
    let head = MessageView::parse(data, &Limits::default()).ok()?;
    let via = head.top_via().ok()?;
    let ip = via
        .received()
        .and_then(|r| std::str::from_utf8(r).ok()?.parse().ok())
        .unwrap_or(peer.addr.ip());
    let default_port = if peer.transport == Transport::Tls {
        5061
    } else {
        5060
    };
    Some(SocketAddr::new(ip, via.port.unwrap_or(default_port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(addr: &str) -> Peer {
        Peer {
            transport: Transport::Tcp,
            addr: addr.parse().unwrap(),
        }
    }

    #[test]
    fn responses_fall_back_to_received_and_sent_by_port() {
        let response = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 10.0.0.7:5070;branch=z9hG4bK1;received=203.0.113.9;rport=40123\r\n\r\n";
        assert_eq!(
            response_fallback(peer("203.0.113.9:40123"), response),
            Some("203.0.113.9:5070".parse().unwrap())
        );
        let no_port =
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP host.example.com;branch=z9hG4bK1\r\n\r\n";
        assert_eq!(
            response_fallback(peer("192.0.2.4:40000"), no_port),
            Some("192.0.2.4:5060".parse().unwrap())
        );
        let request = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h:5070;branch=z9hG4bK1\r\n\r\n";
        assert_eq!(response_fallback(peer("192.0.2.4:40000"), request), None);
    }
}
