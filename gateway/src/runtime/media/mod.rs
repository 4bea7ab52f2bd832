//! The media runtime: one UDP socket on `media.webrtc_port` for every
//! browser leg (routed by [`Demux`]), an RTP/RTCP socket pair from
//! `media.rtp_ports` per call toward the PBX, and one task that owns every
//! call's sans-IO cores ([`WebRtcLeg`](sbc_core::media::webrtc::WebRtcLeg),
//! [`RtpLeg`](sbc_core::media::rtp_leg::RtpLeg),
//! [`Bridge`](sbc_core::media::bridge::Bridge)) and drives them with `now`.
//!
//! The signaling layer talks to it through a [`MediaHandle`]:
//!
//! ```text
//! let call = media.create_call(browser_offer).await?;   // the PBX offer
//! // send call.pbx_offer in the INVITE
//! let answer = media.set_pbx_answer(call.id, pbx_answer).await?; // 183 or 200
//! // the first PBX answer gives the browser's answer: Some(sdp)
//! // MediaEvent::{Connected, SrtpProfile, Disconnected, MediaTimeout, Dtmf, PbxLatched}
//! media.end_call(call.id).await?;
//! ```
//!
//! The PBX's offer is translated from the browser's offer (the codecs the
//! relay passes through, on the browser's payload types); the PBX's answer
//! gives the payload map, and only then is the browser answered, by the
//! WebRTC leg (it owns its ICE credentials; the DTLS certificate is the
//! process's, in `WebRtcConfig`) with
//! exactly the PBX's codecs: the browser never sends a codec the PBX did
//! not take.
//! Sockets of a call's PBX side are read by two small tasks that hand the
//! datagrams to the media task; every send happens in the media task,
//! without waiting (`try_send_to`).
//!
//! This file holds the API (the handle, its commands, events and errors);
//! `task.rs` the media task and its sockets; `call.rs` one call's media.

mod call;
mod task;
mod timers;

use super::rtp_ports::{RtpPortError, RtpPorts};
use call::{Created, MediaCall, PbxSockets, Shared};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sbc_core::media::bridge::{LegStats, Side};
use sbc_core::media::dtmf::DetectedDigit;
use sbc_core::media::rtp_leg::RtpLegConfig;
use sbc_core::media::webrtc::{Demux, DisconnectReason, SrtpProfile, WebRtcConfig, WebRtcError};
use sbc_core::sdp::TranslateError;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::{Duration, Instant};
use task::{MediaTask, bind_shared_socket};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, trace};

use super::sip_core::now;

/// Identifies one call in the media runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MediaCallId(pub u64);

impl fmt::Display for MediaCallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m{}", self.0)
    }
}

/// Where the media runtime binds and what it announces.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// Where the shared browser-side socket binds (port 0: any free one).
    pub webrtc_bind: SocketAddr,
    /// `media.public_ip`: the address of the host candidate; the port is
    /// the bound one.
    pub public_ip: IpAddr,
    /// `media.rtp_ports`.
    pub rtp_ports: RangeInclusive<u16>,
    /// `media.sip_ip`: where the RTP sockets bind and what PBX-side SDP says.
    pub sip_ip: IpAddr,
    /// Latching and media timeout of the RTP legs.
    pub rtp_leg: RtpLegConfig,
    /// `pbx.srtp = "sdes"`: offer SDES-SRTP (RTP/SAVP, RFC 4568) to the PBX
    /// instead of plain RTP, and take it in the PBX's offers.
    pub pbx_sdes: bool,
}

/// Why a media request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The browser leg refused the browser's offer.
    #[error(transparent)]
    WebRtc(#[from] WebRtcError),
    /// A description could not be parsed or translated (its
    /// [`TranslateError::sip_status`] says what to answer).
    #[error(transparent)]
    Sdp(TranslateError),
    /// No RTP port pair could be had.
    #[error(transparent)]
    Ports(#[from] RtpPortError),
    /// A socket failed.
    #[error(transparent)]
    Io(io::Error),
    /// No call has this id (ended, or never created).
    #[error("no media call {0}")]
    NoSuchCall(MediaCallId),
    /// The PBX side negotiated no telephone-event (or has not answered):
    /// DTMF has to go another way (SIP INFO).
    #[error("the PBX leg has no telephone-event")]
    NoTelephoneEvent,
    /// The media task has stopped.
    #[error("the media runtime has stopped")]
    Stopped,
}

/// What the media runtime reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// The browser leg is up (ICE, DTLS with the fingerprint checked, SRTP).
    Connected {
        /// The call.
        call: MediaCallId,
    },
    /// The SRTP profile the browser leg negotiated.
    SrtpProfile {
        /// The call.
        call: MediaCallId,
        /// The profile.
        profile: SrtpProfile,
    },
    /// The browser leg is dead; the call's media is gone and the call must
    /// be ended.
    Disconnected {
        /// The call.
        call: MediaCallId,
        /// Why.
        reason: DisconnectReason,
    },
    /// The PBX's media source proved itself.
    PbxLatched {
        /// The call.
        call: MediaCallId,
        /// The source.
        source: SocketAddr,
    },
    /// The PBX sent nothing for the media timeout.
    MediaTimeout {
        /// The call.
        call: MediaCallId,
    },
    /// A DTMF key press, relayed to the other side as well.
    Dtmf {
        /// The call.
        call: MediaCallId,
        /// The side it came from.
        from: Side,
        /// The key.
        digit: DetectedDigit,
    },
}

impl MediaEvent {
    /// The call the event is about.
    pub fn call(&self) -> MediaCallId {
        match self {
            MediaEvent::Connected { call }
            | MediaEvent::SrtpProfile { call, .. }
            | MediaEvent::Disconnected { call, .. }
            | MediaEvent::PbxLatched { call, .. }
            | MediaEvent::MediaTimeout { call }
            | MediaEvent::Dtmf { call, .. } => *call,
        }
    }
}

/// A new call's media: its id and the PBX's offer.
#[derive(Debug, Clone)]
pub struct NewCall {
    /// The call.
    pub id: MediaCallId,
    /// The SDP offer for the PBX.
    pub pbx_offer: String,
}

/// A call's media figures: both legs' statistics and the codec relayed.
#[derive(Debug, Clone, PartialEq)]
pub struct CallMediaStats {
    /// The browser leg.
    pub browser: LegStats,
    /// The PBX leg.
    pub pbx: LegStats,
    /// The audio codec.
    pub codec: String,
}

/// A call from the PBX: its media id and the browser's offer.
#[derive(Debug, Clone)]
pub struct NewIncoming {
    /// The call.
    pub id: MediaCallId,
    /// The SDP offer for the browser.
    pub browser_offer: String,
}

enum Command {
    CreateIncoming {
        offer: Option<String>,
        sockets: (UdpSocket, UdpSocket),
        reply: oneshot::Sender<Result<NewIncoming, MediaError>>,
    },
    BrowserAnswer {
        call: MediaCallId,
        sdp: String,
        reply: oneshot::Sender<Result<String, MediaError>>,
    },
    Create {
        offer: String,
        sockets: (UdpSocket, UdpSocket),
        reply: oneshot::Sender<Result<NewCall, MediaError>>,
    },
    PbxAnswer {
        call: MediaCallId,
        sdp: String,
        reply: oneshot::Sender<Result<Option<String>, MediaError>>,
    },
    End {
        call: MediaCallId,
        reply: oneshot::Sender<Result<(), MediaError>>,
    },
    Dtmf {
        call: MediaCallId,
        digits: String,
        duration: Duration,
        reply: oneshot::Sender<Result<(), MediaError>>,
    },
    BrowserReoffer {
        call: MediaCallId,
        sdp: String,
        reply: oneshot::Sender<Result<String, MediaError>>,
    },
    PbxStats {
        call: MediaCallId,
        reply: oneshot::Sender<Result<Option<LegStats>, MediaError>>,
    },
    Stats {
        call: MediaCallId,
        reply: oneshot::Sender<Result<Option<CallMediaStats>, MediaError>>,
    },
}

/// The signaling layer's side of the media runtime.
#[derive(Clone)]
pub struct MediaHandle {
    commands: mpsc::Sender<Command>,
    ports: Arc<RtpPorts>,
}

impl MediaHandle {
    /// Takes a browser's offer and writes the PBX's offer.
    pub async fn create_call(&self, browser_offer: String) -> Result<NewCall, MediaError> {
        let sockets = self.ports.allocate().await?;
        let (reply, rx) = oneshot::channel();
        self.request(
            Command::Create {
                offer: browser_offer,
                sockets: (sockets.rtp, sockets.rtcp),
                reply,
            },
            rx,
        )
        .await
    }

    /// Takes a PBX's offer (a call to a registered browser; `None` for an
    /// INVITE without one) and writes the browser's offer; the browser leg
    /// is up for ICE from now on.
    pub async fn create_incoming(
        &self,
        pbx_offer: Option<String>,
    ) -> Result<NewIncoming, MediaError> {
        let sockets = self.ports.allocate().await?;
        let (reply, rx) = oneshot::channel();
        self.request(
            Command::CreateIncoming {
                offer: pbx_offer,
                sockets: (sockets.rtp, sockets.rtcp),
                reply,
            },
            rx,
        )
        .await
    }

    /// The browser's answer to a call from the PBX; returns the PBX's
    /// answer.
    pub async fn set_browser_answer(
        &self,
        call: MediaCallId,
        sdp: String,
    ) -> Result<String, MediaError> {
        let (reply, rx) = oneshot::channel();
        self.request(Command::BrowserAnswer { call, sdp, reply }, rx)
            .await
    }

    /// The PBX's answer to the call's PBX offer (or a later one). The
    /// first one answers the browser: its SDP answer is returned.
    pub async fn set_pbx_answer(
        &self,
        call: MediaCallId,
        sdp: String,
    ) -> Result<Option<String>, MediaError> {
        let (reply, rx) = oneshot::channel();
        self.request(Command::PbxAnswer { call, sdp, reply }, rx)
            .await
    }

    /// Sends `digits` toward the PBX as RFC 4733 events on the PBX's
    /// telephone-event payload type, one after the other, each lasting
    /// `duration`. [`MediaError::NoTelephoneEvent`] when the PBX has none.
    pub async fn send_dtmf(
        &self,
        call: MediaCallId,
        digits: String,
        duration: Duration,
    ) -> Result<(), MediaError> {
        let (reply, rx) = oneshot::channel();
        self.request(
            Command::Dtmf {
                call,
                digits,
                duration,
                reply,
            },
            rx,
        )
        .await
    }

    /// A new offer from the browser in a call set up already (ICE restart,
    /// direction change): returns the browser leg's answer.
    pub async fn browser_reoffer(
        &self,
        call: MediaCallId,
        sdp: String,
    ) -> Result<String, MediaError> {
        let (reply, rx) = oneshot::channel();
        self.request(Command::BrowserReoffer { call, sdp, reply }, rx)
            .await
    }

    /// The PBX leg's statistics (loss, jitter, RTT, MOS), once it answered.
    pub async fn pbx_stats(&self, call: MediaCallId) -> Result<Option<LegStats>, MediaError> {
        let (reply, rx) = oneshot::channel();
        self.request(Command::PbxStats { call, reply }, rx).await
    }

    /// Both legs' statistics and the codec, once the PBX answered.
    pub async fn stats(&self, call: MediaCallId) -> Result<Option<CallMediaStats>, MediaError> {
        let (reply, rx) = oneshot::channel();
        self.request(Command::Stats { call, reply }, rx).await
    }

    /// Ends the call's media: its sockets close, its browser leg is dropped.
    pub async fn end_call(&self, call: MediaCallId) -> Result<(), MediaError> {
        let (reply, rx) = oneshot::channel();
        self.request(Command::End { call, reply }, rx).await
    }

    async fn request<T>(
        &self,
        command: Command,
        rx: oneshot::Receiver<Result<T, MediaError>>,
    ) -> Result<T, MediaError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| MediaError::Stopped)?;
        rx.await.map_err(|_| MediaError::Stopped)?
    }
}

/// A running media runtime.
pub struct MediaRuntime {
    /// Requests go here.
    pub handle: MediaHandle,
    /// Events come from here.
    pub events: mpsc::UnboundedReceiver<MediaEvent>,
    /// The browser-side address (public IP, bound port).
    pub webrtc_addr: SocketAddr,
    /// The media task.
    pub task: JoinHandle<()>,
    shutdown: watch::Sender<bool>,
}

impl MediaRuntime {
    /// The event stream, for whoever dispatches it (an empty, closed one
    /// is left behind).
    pub fn take_events(&mut self) -> mpsc::UnboundedReceiver<MediaEvent> {
        let (_, closed) = mpsc::unbounded_channel();
        std::mem::replace(&mut self.events, closed)
    }

    /// Asks the media task to stop; every call's media ends with it.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }
}

/// Binds the browser-side socket and starts the media task.
pub async fn start_media(settings: MediaSettings) -> Result<MediaRuntime, MediaError> {
    let ports = Arc::new(RtpPorts::new(settings.sip_ip, settings.rtp_ports.clone())?);
    let socket = bind_shared_socket(settings.webrtc_bind).map_err(MediaError::Io)?;
    let port = socket.local_addr().map_err(MediaError::Io)?.port();
    let webrtc_addr = SocketAddr::new(settings.public_ip, port);
    let (commands, commands_rx) = mpsc::channel(256);
    let (events_tx, events) = mpsc::unbounded_channel();
    let (shutdown, shutdown_rx) = watch::channel(false);
    let task = MediaTask::new(socket, webrtc_addr, settings, events_tx);
    info!(%webrtc_addr, "media runtime: browser legs share one UDP port");
    let task = tokio::spawn(task.run(commands_rx, shutdown_rx));
    Ok(MediaRuntime {
        handle: MediaHandle { commands, ports },
        events,
        webrtc_addr,
        task,
        shutdown,
    })
}
