//! The browser of one call: a str0m peer (the version the workspace pins)
//! in full-ICE, controlling mode, on a loopback UDP socket of its own. It
//! offers one sendrecv audio section with PCMU only and no RTP header
//! extensions, so that what it sends is the same whichever relay answers;
//! DTLS-SRTP as every browser does.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcError};

/// PCMU's static payload type.
pub const PCMU: u8 = 0;

/// Why the browser peer could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// str0m refused something.
    #[error("str0m: {0}")]
    Rtc(#[from] RtcError),
    /// The relay's answer does not parse or does not fit the offer.
    #[error("the relay's answer: {0}")]
    Answer(String),
    /// No offer is pending (the answer came twice).
    #[error("no offer is pending")]
    NoOffer,
    /// The send stream is missing.
    #[error("no send stream for the audio section")]
    NoStream,
}

/// What the browser's str0m gave when polled.
pub enum Polled {
    /// A datagram to send.
    Transmit(SocketAddr, Vec<u8>),
    /// ICE and DTLS are up.
    Connected,
    /// An RTP packet from the relay, decrypted: payload type and payload.
    Rtp(u8, std::sync::Arc<[u8]>),
    /// Nothing more until this time.
    Timeout(Instant),
}

/// A str0m peer playing one browser.
pub struct Browser {
    rtc: Rtc,
    addr: SocketAddr,
    mid: Mid,
    pending: Option<SdpPendingOffer>,
    seq: u64,
    ts: u32,
    fired: bool,
}

impl Browser {
    /// A browser at `addr` and its SDP offer.
    pub fn new(now: Instant, addr: SocketAddr) -> Result<(Browser, String), BrowserError> {
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .set_stats_interval(None)
            .clear_extension_map()
            .clear_codecs()
            .enable_pcmu(true, false)
            .build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").map_err(RtcError::from)?);
        let mut change = rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let Some((offer, pending)) = change.apply() else {
            return Err(BrowserError::Answer("str0m made no offer".into()));
        };
        let browser = Browser {
            rtc,
            addr,
            mid,
            pending: Some(pending),
            seq: 1000,
            ts: 0,
            fired: false,
        };
        Ok((browser, offer.to_sdp_string()))
    }

    /// The audio section's mid.
    pub fn mid(&self) -> String {
        self.mid.to_string()
    }

    /// Applies the relay's SDP answer.
    pub fn accept_answer(&mut self, answer: &str) -> Result<(), BrowserError> {
        let answer =
            SdpAnswer::from_sdp_string(answer).map_err(|e| BrowserError::Answer(e.to_string()))?;
        let pending = self.pending.take().ok_or(BrowserError::NoOffer)?;
        self.rtc.sdp_api().accept_answer(pending, answer)?;
        Ok(())
    }

    /// Writes one 20 ms PCMU frame (str0m protects it when polled).
    pub fn send_audio(&mut self, now: Instant, payload: &[u8]) -> Result<(), BrowserError> {
        let mut api = self.rtc.direct_api();
        let tx = api
            .stream_tx_by_mid(self.mid, None)
            .ok_or(BrowserError::NoStream)?;
        tx.write_rtp(RtpWrite::new(
            PCMU.into(),
            SeqNo::from(self.seq),
            self.ts,
            now,
            payload.to_vec(),
        ));
        self.seq += 1;
        self.ts = self.ts.wrapping_add(160);
        // str0m releases what was written on its next timeout.
        self.rtc.handle_input(Input::Timeout(now))?;
        Ok(())
    }

    /// A datagram from the relay.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
    ) -> Result<(), BrowserError> {
        let r = Receive::new(Protocol::Udp, from, self.addr, datagram).map_err(RtcError::from)?;
        self.rtc.handle_input(Input::Receive(now, r))?;
        self.fired = false;
        Ok(())
    }

    /// The browser's timers.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), BrowserError> {
        self.rtc.handle_input(Input::Timeout(now))?;
        Ok(())
    }

    /// The next output; a deadline already due is fired once, as a
    /// runtime's timer would.
    pub fn poll(&mut self, now: Instant) -> Result<Polled, BrowserError> {
        loop {
            return Ok(match self.rtc.poll_output()? {
                Output::Transmit(t) => Polled::Transmit(t.destination, t.contents.into()),
                Output::Event(Event::Connected) => Polled::Connected,
                Output::Event(Event::RtpPacket(p)) => {
                    Polled::Rtp(*p.header.payload_type, p.payload)
                }
                Output::Event(_) => continue,
                Output::Timeout(t) if t <= now && !self.fired => {
                    self.fired = true;
                    self.rtc.handle_input(Input::Timeout(now))?;
                    continue;
                }
                Output::Timeout(t) => {
                    self.fired = false;
                    Polled::Timeout(t)
                }
            });
        }
    }
}
