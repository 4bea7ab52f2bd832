//! The simulated browser: a str0m peer in full-ICE, controlling mode that
//! offers one sendrecv audio m-line, as the tests of the WebRTC leg use it.
//! Everything it does is harness work, outside the timed sections.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Candidate, Input, Rtc};

/// A str0m peer playing one browser.
pub(super) struct Browser {
    rtc: Rtc,
    addr: SocketAddr,
    mid: Mid,
    pending: Option<SdpPendingOffer>,
    opus: u8,
    seq: u64,
    ts: u32,
    deadline: Instant,
    /// ICE and DTLS are up on the browser's side.
    pub connected: bool,
    /// RTP packets received (decrypted) from the gateway.
    pub received: u64,
    /// Received packets whose payload type was not Opus.
    pub wrong_pt: u64,
}

impl Browser {
    /// A browser at `addr` and its SDP offer.
    pub fn new(now: Instant, addr: SocketAddr) -> (Self, String) {
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .set_stats_interval(None)
            .build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").expect("a host candidate"));
        let mut change = rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending) = change.apply().expect("an offer");
        let opus = rtc
            .codec_config()
            .find(|p| p.spec().codec == Codec::Opus)
            .map(|p| *p.pt())
            .expect("str0m offers Opus");
        let browser = Self {
            rtc,
            addr,
            mid,
            pending: Some(pending),
            opus,
            seq: 1000,
            ts: 0,
            deadline: now,
            connected: false,
            received: 0,
            wrong_pt: 0,
        };
        (browser, offer.to_sdp_string())
    }

    /// The browser's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The payload type of Opus in the browser's offer.
    pub fn opus_pt(&self) -> u8 {
        self.opus
    }

    /// Applies the gateway's SDP answer.
    pub fn accept_answer(&mut self, answer: &str) {
        let answer = SdpAnswer::from_sdp_string(answer).expect("the answer parses");
        let pending = self.pending.take().expect("an offer is pending");
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("the browser accepts the answer");
    }

    /// Writes one 20 ms Opus packet of `len` payload bytes (str0m protects
    /// it when it is polled out).
    pub fn send_audio(&mut self, now: Instant, len: usize) {
        let mut api = self.rtc.direct_api();
        let tx = api.stream_tx_by_mid(self.mid, None).expect("a send stream");
        tx.write_rtp(RtpWrite::new(
            self.opus.into(),
            SeqNo::from(self.seq),
            self.ts,
            now,
            vec![0x5a; len],
        ));
        self.seq += 1;
        self.ts = self.ts.wrapping_add(960);
    }

    /// A datagram from the gateway.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        let r = Receive::new(Protocol::Udp, from, self.addr, datagram).expect("a datagram");
        self.rtc
            .handle_input(Input::Receive(now, r))
            .expect("the browser peer takes the gateway's datagram");
    }

    /// Fires the browser's timers if due and collects what it sends.
    pub fn poll(&mut self, now: Instant, out: &mut Vec<Vec<u8>>) {
        if self.deadline <= now {
            self.rtc
                .handle_input(Input::Timeout(now))
                .expect("the browser peer runs");
        }
        let mut fired = false;
        loop {
            match self.rtc.poll_output().expect("the browser peer runs") {
                str0m::Output::Transmit(t) => out.push(t.contents.into()),
                str0m::Output::Event(str0m::Event::Connected) => self.connected = true,
                str0m::Output::Event(str0m::Event::RtpPacket(p)) => {
                    self.received += 1;
                    if *p.header.payload_type != self.opus {
                        self.wrong_pt += 1;
                    }
                }
                str0m::Output::Event(_) => {}
                str0m::Output::Timeout(t) if t <= now && !fired => {
                    fired = true;
                    self.rtc
                        .handle_input(Input::Timeout(now))
                        .expect("the browser peer runs");
                }
                str0m::Output::Timeout(t) => {
                    self.deadline = t;
                    return;
                }
            }
        }
    }
}
