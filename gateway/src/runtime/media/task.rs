//! The media task: it owns every call's [`MediaCall`], the shared
//! browser-side socket and the [`Demux`], carries out the handle's
//! [`Command`]s, routes datagrams from both sides to their call, and drives
//! each call's timers. The PBX-side sockets of a call are read by two small
//! tasks that hand their datagrams over.

use super::timers::CallTimers;
use super::*;

/// Largest datagram read from a media socket.
const MAX_DATAGRAM: usize = 2048;

/// How long the task sleeps when no call has a deadline.
const IDLE: Duration = Duration::from_secs(3600);

/// A datagram from a call's PBX-side socket.
pub(super) struct PbxDatagram {
    call: MediaCallId,
    from: SocketAddr,
    data: Vec<u8>,
}

pub(super) struct MediaTask {
    socket: Arc<UdpSocket>,
    webrtc: WebRtcConfig,
    sip_ip: IpAddr,
    rtp_leg: RtpLegConfig,
    pbx_sdes: bool,
    demux: Demux,
    calls: HashMap<MediaCallId, MediaCall>,
    /// Every call's next deadline, in order.
    timers: CallTimers,
    next_id: u64,
    rng: StdRng,
    events: mpsc::UnboundedSender<MediaEvent>,
}

impl MediaTask {
    /// The task for the bound browser-side `socket` (announced as
    /// `webrtc_addr`), sending its events to `events`.
    pub(super) fn new(
        socket: UdpSocket,
        webrtc_addr: SocketAddr,
        settings: MediaSettings,
        events: mpsc::UnboundedSender<MediaEvent>,
    ) -> MediaTask {
        MediaTask {
            socket: Arc::new(socket),
            webrtc: WebRtcConfig::new(webrtc_addr),
            sip_ip: settings.sip_ip,
            rtp_leg: settings.rtp_leg,
            pbx_sdes: settings.pbx_sdes,
            demux: Demux::new(),
            calls: HashMap::new(),
            timers: CallTimers::default(),
            next_id: 1,
            rng: StdRng::from_os_rng(),
            events,
        }
    }

    pub(super) async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let (pbx_tx, mut pbx_rx) = mpsc::channel::<PbxDatagram>(4096);
        let socket = self.socket.clone();
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let deadline = self.deadline();
            tokio::select! {
                c = commands.recv() => match c {
                    Some(c) => self.command(now(), c, &pbx_tx),
                    None => break,
                },
                r = socket.recv_from(&mut buf) => match r {
                    Ok((n, from)) => self.webrtc_datagram(now(), from, &buf[..n]),
                    Err(e) => trace!(error = %e, "webrtc socket receive error"),
                },
                Some(mut d) = pbx_rx.recv() => self.pbx_datagram(now(), &mut d),
                _ = tokio::time::sleep_until(deadline.into()) => self.timeout(now()),
                _ = shutdown.changed() => break,
            }
        }
        debug!(calls = self.calls.len(), "media task stops");
    }

    fn deadline(&self) -> Instant {
        self.timers.first().unwrap_or_else(|| now() + IDLE)
    }

    fn shared(&mut self) -> (Shared<'_>, &mut HashMap<MediaCallId, MediaCall>) {
        (
            Shared {
                socket: &self.socket,
                local: self.webrtc.local_addr,
                demux: &mut self.demux,
                events: &self.events,
            },
            &mut self.calls,
        )
    }

    fn command(&mut self, now: Instant, c: Command, pbx_tx: &mpsc::Sender<PbxDatagram>) {
        match c {
            Command::Create {
                offer,
                sockets,
                reply,
            } => {
                let _ = reply.send(self.create(&offer, sockets, pbx_tx));
            }
            Command::CreateIncoming {
                offer,
                sockets,
                reply,
            } => {
                let _ = reply.send(self.create_incoming(now, offer.as_deref(), sockets, pbx_tx));
            }
            Command::BrowserAnswer { call, sdp, reply } => {
                let r = match self.calls.get_mut(&call) {
                    Some(c) => c.set_browser_answer(now, &sdp, &mut self.rng),
                    None => Err(MediaError::NoSuchCall(call)),
                };
                self.settle(call);
                let _ = reply.send(r);
            }
            Command::PbxAnswer { call, sdp, reply } => {
                let r = self.pbx_answer(now, call, &sdp);
                self.settle(call);
                let _ = reply.send(r);
            }
            Command::Dtmf {
                call,
                digits,
                duration,
                reply,
            } => {
                let r = self
                    .with_call(call, |c, shared| {
                        c.send_dtmf(now, &digits, duration, shared)
                    })
                    .unwrap_or(Err(MediaError::NoSuchCall(call)));
                let _ = reply.send(r);
            }
            Command::BrowserReoffer { call, sdp, reply } => {
                let r = self.browser_reoffer(now, call, &sdp);
                self.settle(call);
                let _ = reply.send(r);
            }
            Command::Stats { call, reply } => {
                let r = match self.calls.get(&call) {
                    Some(c) => Ok(c.stats()),
                    None => Err(MediaError::NoSuchCall(call)),
                };
                let _ = reply.send(r);
            }
            Command::PbxStats { call, reply } => {
                let r = match self.calls.get(&call) {
                    Some(c) => Ok(c.pbx_stats()),
                    None => Err(MediaError::NoSuchCall(call)),
                };
                let _ = reply.send(r);
            }
            Command::End { call, reply } => {
                let r = if self.remove(call) {
                    Ok(())
                } else {
                    Err(MediaError::NoSuchCall(call))
                };
                let _ = reply.send(r);
            }
        }
    }

    fn create(
        &mut self,
        offer: &str,
        (rtp, rtcp): (UdpSocket, UdpSocket),
        pbx_tx: &mpsc::Sender<PbxDatagram>,
    ) -> Result<NewCall, MediaError> {
        let id = MediaCallId(self.next_id);
        self.next_id += 1;
        let sockets = pbx_sockets(id, rtp, rtcp, pbx_tx);
        let Created { call, pbx_offer } = MediaCall::create(
            id,
            offer,
            self.sip_ip,
            sockets,
            self.rtp_leg.clone(),
            self.pbx_sdes,
            &mut self.rng,
        )?;
        self.calls.insert(id, call);
        self.settle(id);
        info!(call = %id, "media call created");
        Ok(NewCall { id, pbx_offer })
    }

    /// A browser's new offer; after an ICE restart the demux learns the
    /// leg's new ufrag.
    fn browser_reoffer(
        &mut self,
        now: Instant,
        id: MediaCallId,
        sdp: &str,
    ) -> Result<String, MediaError> {
        let call = self.calls.get_mut(&id).ok_or(MediaError::NoSuchCall(id))?;
        let answer = call.browser_reoffer(sdp, &mut self.rng)?;
        self.leg_ready(now, id);
        Ok(answer)
    }

    /// A call from the PBX: its sockets, its offering browser leg in the
    /// demux.
    fn create_incoming(
        &mut self,
        now: Instant,
        offer: Option<&str>,
        (rtp, rtcp): (UdpSocket, UdpSocket),
        pbx_tx: &mpsc::Sender<PbxDatagram>,
    ) -> Result<NewIncoming, MediaError> {
        let id = MediaCallId(self.next_id);
        self.next_id += 1;
        let sockets = pbx_sockets(id, rtp, rtcp, pbx_tx);
        let (call, browser_offer) = MediaCall::create_incoming(
            now,
            id,
            offer,
            &self.webrtc,
            self.sip_ip,
            sockets,
            self.rtp_leg.clone(),
            self.pbx_sdes,
            &mut self.rng,
        )?;
        self.calls.insert(id, call);
        self.leg_ready(now, id);
        self.settle(id);
        info!(call = %id, "media call from the PBX created");
        Ok(NewIncoming { id, browser_offer })
    }

    /// A PBX answer; the first one creates the browser leg, which joins
    /// the demux and starts its timers.
    fn pbx_answer(
        &mut self,
        now: Instant,
        id: MediaCallId,
        sdp: &str,
    ) -> Result<Option<String>, MediaError> {
        let call = self.calls.get_mut(&id).ok_or(MediaError::NoSuchCall(id))?;
        let answer = call.set_pbx_answer(now, sdp, &self.webrtc, &mut self.rng)?;
        if answer.is_some() {
            self.leg_ready(now, id);
        }
        Ok(answer)
    }

    /// Call `id`'s browser leg has (new) ICE credentials: the demux routes
    /// its ufrag to it from now on, and its timers start.
    fn leg_ready(&mut self, now: Instant, id: MediaCallId) {
        let (mut shared, calls) = self.shared();
        let Some(call) = calls.get_mut(&id) else {
            return;
        };
        if let Some(ufrag) = call.local_ufrag() {
            shared.demux.insert_leg(call.leg_id(), ufrag);
        }
        call.handle_timeout(now, &mut shared);
    }

    fn remove(&mut self, id: MediaCallId) -> bool {
        let Some(call) = self.calls.remove(&id) else {
            return false;
        };
        self.timers.set(id, None);
        self.demux.remove_leg(call.leg_id());
        info!(call = %id, "media call ended");
        true
    }

    fn webrtc_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        let local = self.webrtc.local_addr;
        let Some(leg) = self.demux.route(from, local, data) else {
            trace!("webrtc datagram for no leg, dropped");
            return;
        };
        self.with_call(MediaCallId(leg.0), |call, shared| {
            call.handle_webrtc(now, from, data, shared);
        });
    }

    fn pbx_datagram(&mut self, now: Instant, d: &mut PbxDatagram) {
        self.with_call(d.call, |call, shared| {
            call.handle_pbx(now, d.from, &mut d.data, shared);
        });
    }

    fn timeout(&mut self, now: Instant) {
        for id in self.timers.take_due(now) {
            self.with_call(id, |call, shared| call.handle_timeout(now, shared));
        }
    }

    /// Runs `f` on call `id` and settles it in the same look-up (this is
    /// the path of every packet); `None`, with its timer cleared, if there
    /// is no such call.
    fn with_call<R>(
        &mut self,
        id: MediaCallId,
        f: impl FnOnce(&mut MediaCall, &mut Shared<'_>) -> R,
    ) -> Option<R> {
        let (mut shared, calls) = self.shared();
        let Some(call) = calls.get_mut(&id) else {
            self.timers.set(id, None);
            return None;
        };
        let r = f(call, &mut shared);
        if call.is_dead() {
            self.remove(id);
        } else {
            let deadline = call.deadline();
            self.timers.set(id, deadline);
        }
        Some(r)
    }

    /// After call `id` was handled: dropped if its browser leg died (the
    /// event was reported), else its next deadline filed.
    fn settle(&mut self, id: MediaCallId) {
        match self.calls.get(&id) {
            Some(call) if call.is_dead() => {
                self.remove(id);
            }
            Some(call) => self.timers.set(id, call.deadline()),
            None => self.timers.set(id, None),
        }
    }
}

/// Receive buffer asked for on the shared browser-side socket: every
/// browser leg's packets queue there while the media task is busy, and the
/// kernel's default (about 200 KB) overflowed in the rtpengine comparison
/// at 200 calls when the task was descheduled for tens of milliseconds
/// (docs/benchmarks.md). The kernel caps it at `net.core.rmem_max`.
const SHARED_SOCKET_BUFFER: usize = 4 * 1024 * 1024;

/// The one UDP socket of every browser leg, with a large receive buffer.
pub(super) fn bind_shared_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if let Err(e) = socket.set_recv_buffer_size(SHARED_SOCKET_BUFFER) {
        debug!(error = %e, "cannot enlarge the browser-side receive buffer");
    }
    let _ = socket.set_send_buffer_size(SHARED_SOCKET_BUFFER);
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

/// A call's PBX-side sockets and the tasks reading them.
fn pbx_sockets(
    id: MediaCallId,
    rtp: UdpSocket,
    rtcp: UdpSocket,
    pbx_tx: &mpsc::Sender<PbxDatagram>,
) -> PbxSockets {
    let (rtp, rtcp) = (Arc::new(rtp), Arc::new(rtcp));
    PbxSockets {
        readers: [
            tokio::spawn(read_pbx(id, rtp.clone(), pbx_tx.clone())),
            tokio::spawn(read_pbx(id, rtcp.clone(), pbx_tx.clone())),
        ],
        rtp,
        rtcp,
    }
}

/// Hands every datagram of one PBX-side socket to the media task.
async fn read_pbx(call: MediaCallId, socket: Arc<UdpSocket>, to: mpsc::Sender<PbxDatagram>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, from)) => {
                let d = PbxDatagram {
                    call,
                    from,
                    data: buf[..n].to_vec(),
                };
                if to.send(d).await.is_err() {
                    return;
                }
            }
            // ICMP errors surface here on some systems; keep reading.
            Err(e) => trace!(%call, error = %e, "PBX socket receive error"),
        }
    }
}
