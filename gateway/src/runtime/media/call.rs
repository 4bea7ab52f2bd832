//! [`MediaCall`]: one call's media, the browser's [`WebRtcLeg`], the PBX's
//! [`RtpLeg`] on its own RTP/RTCP sockets, and the [`Bridge`] between them.
//! Driven by the media task with `now`; it sends on sockets but never waits.
//!
//! The offer/answer steps after creation (the PBX's answer, a call from the
//! PBX, late offers, re-offers from either side) are in `call/negotiation.rs`.

use super::{MediaCallId, MediaEvent};
use bytes::Bytes;
use rand::{Rng, RngCore};
use sbc_core::media::bridge::{
    Bridge, BridgeConfig, BridgeEvent, PtMap, Side, SideConfig, Transmit as BridgeTransmit,
};
use sbc_core::media::emodel::CodecImpairment;
use sbc_core::media::rtp::{PacketKind, RtpView, Ssrc, classify, write_packet};
use sbc_core::media::rtp_leg::{Accepted, RtpLeg, RtpLegConfig, RtpLegEvent};
use sbc_core::media::srtp::{MasterKey, SrtpContext, SrtpDropCounts};
use sbc_core::media::webrtc::{
    Demux, Event as LegEvent, LegId, Output, RtpPacket, WebRtcConfig, WebRtcLeg,
};
use sbc_core::sdp::translate::{
    BrowserOffer, GatewayOrigin, PbxMedia, PbxOffered, PbxSide, PbxSrtp, RtcpMode, SdesKeys,
    SipSideAddr, browser_answer_to_pbx, browser_offer_to_pbx, pbx_answer_media, read_pbx_offer,
    reoffered_keys,
};
use sbc_core::sdp::{
    Codec, CodecPolicy, Limits, PayloadFormat, PayloadMap, SessionDescription, TranslateError,
};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tracing::{debug, info, trace, warn};

use super::MediaError;

/// Interval of the gateway's RTCP reports toward the PBX.
const RTCP_INTERVAL: Duration = Duration::from_secs(5);
/// Packet interval of injected DTMF.
const DTMF_INTERVAL: Duration = Duration::from_millis(20);
/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// What every call's driving needs from the media task: the shared
/// browser-side socket, the demux, and where events go.
pub(super) struct Shared<'a> {
    pub socket: &'a UdpSocket,
    pub local: SocketAddr,
    pub demux: &'a mut Demux,
    pub events: &'a UnboundedSender<MediaEvent>,
}

/// The PBX side, once its answer arrived.
struct Answered {
    rtp: RtpLeg,
    bridge: Bridge,
    pbx: PbxMedia,
    srtp: Option<PbxSrtpContexts>,
    /// The audio codec relayed (for call records).
    codec: String,
}

/// SDES-SRTP toward the PBX (RFC 4568): our key protects what we send,
/// the PBX's unprotects what it sends; what fails is counted and dropped
/// before the RTP leg sees it, so it can neither latch nor reach the browser.
struct PbxSrtpContexts {
    /// The keys the contexts were made from.
    keys: SdesKeys,
    send: SrtpContext,
    receive: SrtpContext,
    dropped: SrtpDropCounts,
}

impl PbxSrtpContexts {
    fn new(keys: &SdesKeys) -> Self {
        PbxSrtpContexts {
            keys: keys.clone(),
            send: SrtpContext::new(keys.profile, &keys.send),
            receive: SrtpContext::new(keys.profile, &keys.receive),
            dropped: SrtpDropCounts::default(),
        }
    }
}

/// One call's media; see the module docs.
pub(super) struct MediaCall {
    id: MediaCallId,
    leg_id: LegId,
    /// Who offered, and what the answer to it needs.
    negotiation: Negotiation,
    /// The PBX-side address of the call, for PBX answers the gateway writes.
    pbx_side: SipSideAddr,
    /// The browser leg, from the PBX's first answer on.
    webrtc: Option<WebRtcLeg>,
    webrtc_deadline: Option<Instant>,
    rtp_socket: Arc<UdpSocket>,
    rtcp_socket: Arc<UdpSocket>,
    readers: [JoinHandle<()>; 2],
    answered: Option<Answered>,
    rtp_leg_config: RtpLegConfig,
    dead: bool,
    buf: Vec<u8>,
}

impl Drop for MediaCall {
    fn drop(&mut self) {
        for r in &self.readers {
            r.abort();
        }
    }
}

/// Who made the offer of a call's first negotiation.
enum Negotiation {
    /// The browser (a call it places): its offer is answered once the PBX
    /// has chosen its codecs.
    FromBrowser {
        offer: String,
        pending: BrowserOffer,
    },
    /// The PBX (a call to a registered browser): the WebRTC leg offered
    /// the PBX's codecs; the browser's answer makes the PBX's. `srtp` is
    /// what its re-offers are read with (the gateway's SDES key, if any).
    FromPbx { pending: PbxOffered, srtp: PbxSrtp },
    /// The PBX, without an offer (a late offer, RFC 3261 §13.2.1): the
    /// WebRTC leg offered G.711; the browser's answer makes the gateway's
    /// offer to the PBX (in its 200), and the PBX's answer (in its ACK) is
    /// taken as for a browser's call. With `sdes`, the gateway's offer is
    /// of SDES-SRTP.
    LateFromPbx { sdes: bool },
}

/// What creating a call gives: the call and the PBX's offer.
pub(super) struct Created {
    pub call: MediaCall,
    pub pbx_offer: String,
}

/// The sockets of a call's PBX side and the tasks reading them.
pub(super) struct PbxSockets {
    pub rtp: Arc<UdpSocket>,
    pub rtcp: Arc<UdpSocket>,
    pub readers: [JoinHandle<()>; 2],
}

impl MediaCall {
    /// Writes the PBX's offer from the browser's offer on the call's RTP
    /// address (`sip_ip`, the RTP socket's port), with the browser's codecs
    /// the relay passes through, on the browser's payload types. The
    /// browser is answered later, by [`Self::set_pbx_answer`].
    pub fn create(
        id: MediaCallId,
        offer: &str,
        sip_ip: IpAddr,
        sockets: PbxSockets,
        rtp_leg_config: RtpLegConfig,
        sdes: bool,
        rng: &mut impl RngCore,
    ) -> Result<Created, MediaError> {
        let parsed = SessionDescription::parse(offer.as_bytes(), &Limits::default())
            .map_err(|e| MediaError::Sdp(e.into()))?;
        let policy = CodecPolicy::default();
        let rtp_port = sockets.rtp.local_addr().map_err(MediaError::Io)?.port();
        let pbx_side = PbxSide {
            addr: SipSideAddr {
                ip: sip_ip,
                rtp_port,
            },
            rtcp: RtcpMode::NextPort,
            codecs: policy,
            ptime: None,
            srtp: if sdes {
                PbxSrtp::Sdes(MasterKey::random(rng))
            } else {
                PbxSrtp::Off
            },
        };
        let origin = GatewayOrigin {
            session_id: rng.random_range(1..=u64::from(u32::MAX)),
            version: 1,
        };
        let pbx_offer =
            browser_offer_to_pbx(&parsed, &pbx_side, origin).map_err(MediaError::Sdp)?;
        let call = MediaCall {
            id,
            leg_id: LegId(id.0),
            negotiation: Negotiation::FromBrowser {
                offer: offer.to_owned(),
                pending: pbx_offer.pending,
            },
            pbx_side: pbx_side.addr,
            webrtc: None,
            webrtc_deadline: None,
            rtp_socket: sockets.rtp,
            rtcp_socket: sockets.rtcp,
            readers: sockets.readers,
            answered: None,
            rtp_leg_config,
            dead: false,
            buf: Vec::with_capacity(1500),
        };
        Ok(Created {
            call,
            pbx_offer: pbx_offer.sdp.to_string(),
        })
    }

    /// The browser leg's ICE ufrag, for the demux (once it exists).
    pub fn local_ufrag(&self) -> Option<&str> {
        self.webrtc.as_ref().map(WebRtcLeg::local_ufrag)
    }

    /// The leg id this call has in the demux.
    pub fn leg_id(&self) -> LegId {
        self.leg_id
    }

    /// Whether the call is over (the browser leg died).
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Both legs' statistics `(browser, pbx)`, once the PBX answered.
    pub fn stats(&self) -> Option<super::CallMediaStats> {
        self.answered.as_ref().map(|a| super::CallMediaStats {
            browser: a.bridge.stats(Side::Browser),
            pbx: a.bridge.stats(Side::Pbx),
            codec: a.codec.clone(),
        })
    }

    /// The PBX leg's statistics, once the PBX answered.
    pub fn pbx_stats(&self) -> Option<sbc_core::media::bridge::LegStats> {
        self.answered.as_ref().map(|a| a.bridge.stats(Side::Pbx))
    }

    /// Queues DTMF keys toward the PBX (RFC 4733 on its telephone-event
    /// type).
    pub fn send_dtmf(
        &mut self,
        now: Instant,
        digits: &str,
        duration: Duration,
        shared: &mut Shared<'_>,
    ) -> Result<(), MediaError> {
        let a = self.answered.as_mut().ok_or(MediaError::NoTelephoneEvent)?;
        for digit in digits.chars() {
            a.bridge
                .send_dtmf(now, Side::Pbx, digit, duration)
                .map_err(|_| MediaError::NoTelephoneEvent)?;
        }
        a.bridge.handle_timeout(now);
        self.drive(now, shared);
        Ok(())
    }

    /// The earliest time [`Self::handle_timeout`] is due.
    pub fn deadline(&self) -> Option<Instant> {
        let answered = self
            .answered
            .iter()
            .flat_map(|a| [a.bridge.poll_timeout(), a.rtp.poll_timeout()]);
        [self.webrtc_deadline]
            .into_iter()
            .chain(answered)
            .flatten()
            .min()
    }

    /// Timers of the three cores.
    pub fn handle_timeout(&mut self, now: Instant, shared: &mut Shared<'_>) {
        if let Some(leg) = &mut self.webrtc
            && self.webrtc_deadline.is_some_and(|at| now >= at)
        {
            leg.handle_timeout(now);
        }
        if let Some(a) = &mut self.answered {
            a.bridge.handle_timeout(now);
            a.rtp.handle_timeout(now);
        }
        self.drive(now, shared);
    }

    /// A datagram for the browser leg from the shared port.
    pub fn handle_webrtc(
        &mut self,
        now: Instant,
        from: SocketAddr,
        data: &[u8],
        shared: &mut Shared<'_>,
    ) {
        if let Some(leg) = &mut self.webrtc {
            leg.handle_input(now, from, shared.local, data);
            self.drive(now, shared);
        }
    }

    /// A datagram on the call's RTP or RTCP socket.
    pub fn handle_pbx(
        &mut self,
        now: Instant,
        from: SocketAddr,
        data: &mut [u8],
        shared: &mut Shared<'_>,
    ) {
        let Some(a) = &mut self.answered else {
            trace!(call = %self.id, "media call: PBX media before its answer, dropped");
            return;
        };
        let data = match &mut a.srtp {
            None => data,
            Some(s) => {
                let unprotected = match classify(data) {
                    PacketKind::Rtcp => s.receive.unprotect_rtcp(data),
                    _ => s.receive.unprotect_rtp(data),
                };
                match unprotected {
                    Ok(len) => &mut data[..len],
                    Err(e) => {
                        s.dropped.count(&e);
                        trace!(call = %self.id, error = %e, "PBX SRTP dropped");
                        return;
                    }
                }
            }
        };
        match a.rtp.handle_receive(now, from, data) {
            Ok(Accepted::Rtp(_)) => match a.bridge.handle_rtp(now, Side::Pbx, data) {
                Ok(_) => {
                    if let Some(packet) = to_leg_packet(data) {
                        self.send_to_browser(now, &packet);
                    }
                }
                Err(e) => trace!(call = %self.id, error = %e, "bridge dropped PBX RTP"),
            },
            Ok(Accepted::Rtcp) => {
                if let Err(e) = a.bridge.handle_rtcp(now, Side::Pbx, data) {
                    trace!(call = %self.id, error = %e, "bridge dropped PBX RTCP");
                }
            }
            Err(_) => {}
        }
        self.drive(now, shared);
    }

    fn send_to_browser(&mut self, now: Instant, packet: &RtpPacket) {
        let Some(leg) = &mut self.webrtc else { return };
        if let Err(e) = leg.send_rtp(now, packet) {
            trace!(call = %self.id, error = %e, "browser leg refused RTP");
        }
    }

    /// Drains every core's output until none has anything left.
    fn drive(&mut self, now: Instant, shared: &mut Shared<'_>) {
        loop {
            self.drain_webrtc(now, shared);
            let Some(a) = &mut self.answered else { return };
            let mut to_browser = Vec::new();
            while let Some(t) = a.bridge.poll_transmit() {
                match t {
                    BridgeTransmit {
                        to: Side::Pbx,
                        rtcp,
                        packet,
                    } => send_to_pbx(&self.rtp_socket, &self.rtcp_socket, a, rtcp, &packet),
                    BridgeTransmit {
                        rtcp: true, packet, ..
                    } => {
                        if let Some(leg) = &mut self.webrtc
                            && let Err(e) = leg.send_rtcp(now, &packet)
                        {
                            trace!(call = %self.id, error = %e, "browser leg refused RTCP");
                        }
                    }
                    BridgeTransmit { packet, .. } => to_browser.extend(to_leg_packet(&packet)),
                }
            }
            while let Some(e) = a.bridge.poll_event() {
                if let BridgeEvent::Dtmf { from, digit } = e {
                    let _ = shared.events.send(MediaEvent::Dtmf {
                        call: self.id,
                        from,
                        digit,
                    });
                }
            }
            while let Some(e) = a.rtp.poll_event() {
                let event = match e {
                    RtpLegEvent::Latched { source, .. } => MediaEvent::PbxLatched {
                        call: self.id,
                        source,
                    },
                    RtpLegEvent::MediaTimeout { .. } => MediaEvent::MediaTimeout { call: self.id },
                };
                let _ = shared.events.send(event);
            }
            if to_browser.is_empty() {
                return;
            }
            for p in &to_browser {
                self.send_to_browser(now, p);
            }
        }
    }

    fn drain_webrtc(&mut self, now: Instant, shared: &mut Shared<'_>) {
        loop {
            let Some(leg) = &mut self.webrtc else { return };
            match leg.poll_output() {
                Output::Transmit(t) => {
                    if let Err(e) = shared.socket.try_send_to(&t.contents, t.destination) {
                        trace!(call = %self.id, error = %e, "webrtc send failed");
                    }
                }
                Output::Timeout(at) => {
                    self.webrtc_deadline = Some(at);
                    return;
                }
                Output::Event(e) => self.on_leg_event(now, e, shared),
            }
        }
    }

    fn on_leg_event(&mut self, now: Instant, e: LegEvent, shared: &mut Shared<'_>) {
        let id = self.id;
        let event = match e {
            LegEvent::PeerAddress(a) => {
                shared.demux.learn(self.leg_id, a, shared.local);
                return;
            }
            LegEvent::Rtp(p) => {
                self.browser_rtp(now, &p);
                return;
            }
            LegEvent::Rtcp(report) => {
                if let Some(a) = &mut self.answered
                    && let Err(e) = a.bridge.handle_rtcp(now, Side::Browser, &report)
                {
                    trace!(call = %id, error = %e, "bridge dropped browser RTCP");
                }
                return;
            }
            LegEvent::Connected => {
                info!(call = %id, "media call: browser leg connected");
                MediaEvent::Connected { call: id }
            }
            LegEvent::SrtpProfile(profile) => {
                info!(call = %id, %profile, "media call: SRTP profile");
                MediaEvent::SrtpProfile { call: id, profile }
            }
            LegEvent::Disconnected(reason) => {
                warn!(call = %id, ?reason, "media call: browser leg gone");
                self.dead = true;
                MediaEvent::Disconnected { call: id, reason }
            }
            other => {
                trace!(call = %id, event = ?other, "media call ignores a leg event");
                return;
            }
        };
        let _ = shared.events.send(event);
    }

    /// Browser RTP (decrypted, as header fields) is written out as a plain
    /// RTP packet, rewritten in place by the bridge and sent to the PBX.
    fn browser_rtp(&mut self, now: Instant, p: &RtpPacket) {
        let Some(a) = &mut self.answered else {
            return;
        };
        self.buf.clear();
        write_packet(
            &mut self.buf,
            p.payload_type,
            p.marker,
            p.sequence_number,
            p.timestamp,
            Ssrc(p.ssrc),
            &p.payload,
        );
        match a.bridge.handle_rtp(now, Side::Browser, &mut self.buf) {
            Ok(_) => send_to_pbx(&self.rtp_socket, &self.rtcp_socket, a, false, &self.buf),
            Err(e) => trace!(call = %self.id, error = %e, "bridge dropped browser RTP"),
        }
    }
}

/// Sends to the PBX: RTP to the RTP leg's destination from the RTP socket;
/// RTCP there too when muxed, else to the PBX's RTCP address (or the port
/// above its RTP) from the RTCP socket. With SDES, protected first.
fn send_to_pbx(rtp: &UdpSocket, rtcp: &UdpSocket, a: &mut Answered, is_rtcp: bool, packet: &[u8]) {
    let Some(dest) = a.rtp.destination() else {
        return;
    };
    let protected;
    let packet = match &mut a.srtp {
        None => packet,
        Some(s) => {
            let mut out = packet.to_vec();
            let done = if is_rtcp {
                s.send.protect_rtcp(&mut out)
            } else {
                s.send.protect_rtp(&mut out)
            };
            if let Err(e) = done {
                trace!(error = %e, "cannot protect toward the PBX");
                return;
            }
            protected = out;
            &protected[..]
        }
    };
    let (socket, dest) = if !is_rtcp || a.pbx.rtcp_mux {
        (rtp, dest)
    } else {
        // The PBX's `a=rtcp` port when it gave one (at the address its
        // media really comes from, once latched), else the port above RTP.
        let rtcp_dest = match (a.rtp.latched(), a.pbx.rtcp) {
            (Some(latched), Some(rtcp)) => SocketAddr::new(latched.ip(), rtcp.port()),
            (None, Some(rtcp)) => rtcp,
            (_, None) => SocketAddr::new(dest.ip(), dest.port().wrapping_add(1)),
        };
        (rtcp, rtcp_dest)
    };
    if let Err(e) = socket.try_send_to(packet, dest) {
        trace!(error = %e, "PBX send failed");
    }
}

/// A plain RTP packet as the browser leg takes it.
fn to_leg_packet(buf: &[u8]) -> Option<RtpPacket> {
    let v = RtpView::parse(buf).ok()?;
    Some(RtpPacket {
        ssrc: v.ssrc().0,
        payload_type: v.payload_type(),
        sequence_number: v.sequence_number(),
        timestamp: v.timestamp(),
        marker: v.marker(),
        payload: Bytes::copy_from_slice(v.payload()),
    })
}

/// The name of the first audio codec of `map` (`PCMU`, `opus`, …).
fn audio_codec(map: &PayloadMap) -> String {
    map.pairs()
        .iter()
        .find(|p| !p.codec.is_telephone_event())
        .map_or_else(String::new, |p| p.codec.name().to_owned())
}

/// The bridge's configuration from the negotiated payload map: each side's
/// clock rate and telephone-event type follow the PBX's first audio codec.
fn bridge_config(map: &PayloadMap, rng: &mut impl RngCore) -> BridgeConfig {
    let first = map
        .pairs()
        .iter()
        .find(|p| !p.codec.is_telephone_event())
        .map(|p| p.codec.clone())
        .unwrap_or(Codec::Pcmu);
    let events = map.telephone_event_for(&first);
    let impairment = match first {
        Codec::Opus => CodecImpairment::OPUS,
        _ => CodecImpairment::G711_PLC,
    };
    let side = |pt: Option<u8>| SideConfig {
        clock_rate: first.clock_rate(),
        telephone_event_pt: pt,
        codec: impairment,
    };
    let browser_to_pbx: PtMap = map.pairs().iter().map(|p| (p.browser, p.pbx)).collect();
    BridgeConfig {
        browser: side(events.map(|p| p.browser)),
        pbx: side(events.map(|p| p.pbx)),
        pbx_to_browser: browser_to_pbx.inverse(),
        browser_to_pbx,
        cname: format!("gw{:016x}", rng.next_u64()),
        rtcp_interval: RTCP_INTERVAL,
        dtmf_interval: DTMF_INTERVAL,
    }
}

/// The wall clock as a 64-bit NTP timestamp (only used in RTCP SRs).
fn ntp_now() -> u64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
    ((d.as_secs() + NTP_UNIX_OFFSET) << 32) | frac
}

mod negotiation;

#[cfg(test)]
mod tests;
