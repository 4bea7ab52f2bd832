//! A str0m peer playing the browser in the virtual-clock tests: full ICE,
//! controlling, RTP mode; it offers one sendrecv audio m-line, and keeps
//! what it received.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Candidate, Rtc, RtcConfig};

/// A str0m peer playing the browser.
pub(crate) struct Browser {
    pub(crate) rtc: Rtc,
    pub(crate) addr: SocketAddr,
    pub(crate) mid: Mid,
    pending: Option<SdpPendingOffer>,
    /// Every RTP packet received, in arrival order.
    pub(crate) rtp: Vec<str0m::rtp::RtpPacket>,
    pub(crate) connected: bool,
    /// A silent browser's transmits are lost.
    pub(crate) silent: bool,
    pub(crate) deadline: Instant,
}

impl Browser {
    /// A browser at `addr` with str0m's default codecs, and its SDP offer.
    pub(crate) fn new(now: Instant, addr: &str) -> (Self, String) {
        Self::with_config(now, addr, Rtc::builder())
    }

    /// A browser at `addr` built from `config` (codecs, extensions), in RTP
    /// mode without periodic stats, and its SDP offer.
    pub(crate) fn with_config(now: Instant, addr: &str, config: RtcConfig) -> (Self, String) {
        let addr: SocketAddr = addr.parse().unwrap();
        let mut rtc = config
            .set_rtp_mode(true)
            .set_stats_interval(None)
            .build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        let mut change = rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending) = change.apply().expect("an offer");
        let b = Self {
            rtc,
            addr,
            mid,
            pending: Some(pending),
            rtp: Vec::new(),
            connected: false,
            silent: false,
            deadline: now,
        };
        (b, offer.to_sdp_string())
    }

    /// A browser at `addr` with str0m's default codecs answering the
    /// gateway's `offer` (a call from the PBX), and its SDP answer.
    pub(crate) fn answering(now: Instant, addr: &str, offer: &str) -> (Self, String) {
        let addr: SocketAddr = addr.parse().unwrap();
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .set_stats_interval(None)
            .build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        let offer = str0m::change::SdpOffer::from_sdp_string(offer).expect("the offer parses");
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .expect("the browser accepts the offer")
            .to_sdp_string();
        let mid = answer
            .lines()
            .find_map(|l| l.strip_prefix("a=mid:"))
            .map(|m| Mid::from(m.trim()))
            .expect("the answer has a mid");
        let b = Self {
            rtc,
            addr,
            mid,
            pending: None,
            rtp: Vec::new(),
            connected: false,
            silent: false,
            deadline: now,
        };
        (b, answer)
    }

    pub(crate) fn accept_answer(&mut self, answer: &str) {
        let answer = SdpAnswer::from_sdp_string(answer).expect("the answer parses");
        let pending = self.pending.take().unwrap();
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("the browser accepts the answer");
    }

    pub(crate) fn opus_pt(&self) -> u8 {
        let p = self
            .rtc
            .codec_config()
            .find(|p| p.spec().codec == Codec::Opus)
            .expect("opus");
        *p.pt()
    }

    /// Writes one RTP packet on the audio stream; `seq` is the extended
    /// sequence number (its ROC feeds SRTP).
    pub(crate) fn send(&mut self, now: Instant, pt: u8, seq: u64, ts: u32, payload: &[u8]) {
        self.send_marked(now, pt, seq, ts, false, payload);
    }

    /// [`Self::send`] with the marker bit.
    pub(crate) fn send_marked(
        &mut self,
        now: Instant,
        pt: u8,
        seq: u64,
        ts: u32,
        marker: bool,
        payload: &[u8],
    ) {
        let mut api = self.rtc.direct_api();
        let tx = api.stream_tx_by_mid(self.mid, None).expect("a send stream");
        tx.write_rtp(
            RtpWrite::new(pt.into(), SeqNo::from(seq), ts, now, payload.to_vec()).marker(marker),
        );
    }
}
