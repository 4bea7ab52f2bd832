//! The SIP side's RTP leg: which remote endpoint media is accepted from and
//! sent to, and when the PBX has gone quiet.
//!
//! The SDP names an address. A packet from that address proves the source.
//! A NATed device sends from an address the SDP does not name; with
//! [`Latching::Symmetric`] such a source is learned ("latched") only once
//! [`RtpLegConfig::latch_packets`] packets from it agree on one SSRC within
//! [`RtpLegConfig::latch_window`]. Several candidates are tracked at once, so
//! an attacker interleaving packets cannot keep the real device from
//! latching. Once latched, only that source is accepted: no RTP bleed.
//! A new SDP address (re-INVITE) forgets the latch.
//!
//! Sends go to the latched source, else to the SDP address. RTCP is
//! accepted from the proven source's address or the port above it
//! (RFC 3550 §11 pairs, when rtcp-mux is not used).

use super::rtp::{PacketKind, RtpView, Ssrc, classify};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How a source that the SDP does not name may be learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latching {
    /// Only the SDP address is accepted.
    SdpOnly,
    /// A NATed device's source is learned from its first packets.
    Symmetric,
}

/// Configuration of an RTP leg.
#[derive(Debug, Clone)]
pub struct RtpLegConfig {
    /// Whether a source other than the SDP address may be latched.
    pub latching: Latching,
    /// Packets from one source, with one SSRC, needed to latch it.
    pub latch_packets: u32,
    /// The time in which those packets must arrive.
    pub latch_window: Duration,
    /// Silence after which [`RtpLegEvent::MediaTimeout`] fires
    /// (`media.timeout`); `None` disables it (e.g. while on hold).
    pub media_timeout: Option<Duration>,
}

impl Default for RtpLegConfig {
    fn default() -> Self {
        RtpLegConfig {
            latching: Latching::Symmetric,
            latch_packets: 3,
            latch_window: Duration::from_millis(500),
            media_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// A packet the leg accepted: proof that it came from a proven source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Accepted {
    /// An RTP packet with its SSRC.
    Rtp(Ssrc),
    /// An RTCP packet.
    Rtcp,
}

/// Why a packet was dropped. All are the sender's fault (or an attacker's);
/// nothing is sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Rejected {
    /// Neither a valid RTP nor an RTCP packet.
    #[error("not an RTP or RTCP packet")]
    NotRtp,
    /// No SDP address yet, and latching is off.
    #[error("no remote address known")]
    NoRemote,
    /// From a source other than the proven one.
    #[error("from an unexpected source")]
    UnexpectedSource,
    /// From a candidate source that has not proven itself yet.
    #[error("from a source still on probation")]
    Unproven,
    /// A candidate's packets disagree on the SSRC; its probation restarts.
    #[error("SSRC differs from the candidate's earlier packets")]
    SsrcMismatch,
}

/// Counts of dropped packets, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RejectCounts {
    /// [`Rejected::NotRtp`].
    pub not_rtp: u64,
    /// [`Rejected::NoRemote`].
    pub no_remote: u64,
    /// [`Rejected::UnexpectedSource`].
    pub unexpected_source: u64,
    /// [`Rejected::Unproven`].
    pub unproven: u64,
    /// [`Rejected::SsrcMismatch`].
    pub ssrc_mismatch: u64,
}

impl RejectCounts {
    fn count(&mut self, r: Rejected) {
        let n = match r {
            Rejected::NotRtp => &mut self.not_rtp,
            Rejected::NoRemote => &mut self.no_remote,
            Rejected::UnexpectedSource => &mut self.unexpected_source,
            Rejected::Unproven => &mut self.unproven,
            Rejected::SsrcMismatch => &mut self.ssrc_mismatch,
        };
        *n += 1;
    }

    /// All dropped packets.
    pub fn total(&self) -> u64 {
        self.not_rtp + self.no_remote + self.unexpected_source + self.unproven + self.ssrc_mismatch
    }
}

/// What the leg reports to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtpLegEvent {
    /// A source was proven, by the SDP or by latching.
    Latched {
        /// The source address.
        source: SocketAddr,
        /// Its SSRC.
        ssrc: Ssrc,
    },
    /// No media was accepted for [`RtpLegConfig::media_timeout`].
    MediaTimeout {
        /// When the last packet was accepted (or the leg armed).
        last_media: Instant,
    },
}

/// Most candidates on probation at once; the oldest is forgotten first.
const MAX_CANDIDATES: usize = 4;

#[derive(Debug, Clone, Copy)]
struct Candidate {
    from: SocketAddr,
    ssrc: Ssrc,
    count: u32,
    first: Instant,
}

/// The SIP side's RTP leg; see the module docs.
#[derive(Debug)]
pub struct RtpLeg {
    config: RtpLegConfig,
    remote: Option<SocketAddr>,
    latched: Option<SocketAddr>,
    candidates: Vec<Candidate>,
    last_media: Instant,
    timeout_fired: bool,
    accepted: u64,
    rejected: RejectCounts,
    events: VecDeque<RtpLegEvent>,
}

impl RtpLeg {
    /// A leg expecting media from `remote` (the SDP's address, if known),
    /// with its media timeout armed from `now`.
    pub fn new(now: Instant, config: RtpLegConfig, remote: Option<SocketAddr>) -> Self {
        RtpLeg {
            config,
            remote,
            latched: None,
            candidates: Vec::new(),
            last_media: now,
            timeout_fired: false,
            accepted: 0,
            rejected: RejectCounts::default(),
            events: VecDeque::new(),
        }
    }

    /// A new SDP address (re-INVITE, UPDATE). A different address forgets
    /// the latched source and every candidate; the timeout is re-armed.
    pub fn set_remote(&mut self, now: Instant, remote: Option<SocketAddr>) {
        if remote != self.remote {
            tracing::debug!("RTP leg: new remote address, latch reset");
            self.remote = remote;
            self.latched = None;
            self.candidates.clear();
        }
        self.last_media = now;
        self.timeout_fired = false;
    }

    /// Changes the media timeout (`None` while on hold); re-armed from `now`.
    pub fn set_media_timeout(&mut self, now: Instant, timeout: Option<Duration>) {
        self.config.media_timeout = timeout;
        self.last_media = now;
        self.timeout_fired = false;
    }

    /// The SDP address.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// The proven source, if any.
    pub fn latched(&self) -> Option<SocketAddr> {
        self.latched
    }

    /// Where to send media: the proven source, else the SDP address.
    pub fn destination(&self) -> Option<SocketAddr> {
        self.latched.or(self.remote)
    }

    /// Packets accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// Packets dropped so far, by reason.
    pub fn rejected(&self) -> RejectCounts {
        self.rejected
    }

    /// Checks a datagram received from `from` at `now`. An accepted packet
    /// goes on to the bridge; a rejected one is dropped (and counted here).
    pub fn handle_receive(
        &mut self,
        now: Instant,
        from: SocketAddr,
        buf: &[u8],
    ) -> Result<Accepted, Rejected> {
        let r = self.check(now, from, buf);
        match r {
            Ok(_) => {
                self.accepted += 1;
                self.last_media = now;
                self.timeout_fired = false;
            }
            Err(reason) => {
                tracing::trace!(%reason, "RTP leg: packet dropped");
                self.rejected.count(reason);
            }
        }
        r
    }

    fn check(&mut self, now: Instant, from: SocketAddr, buf: &[u8]) -> Result<Accepted, Rejected> {
        let ssrc = match classify(buf) {
            PacketKind::Rtp => RtpView::parse(buf).map_err(|_| Rejected::NotRtp)?.ssrc(),
            PacketKind::Rtcp => {
                let proven = self.latched.or(self.remote).ok_or(Rejected::NoRemote)?;
                let rtcp_pair = SocketAddr::new(proven.ip(), proven.port().wrapping_add(1));
                return if from == proven || from == rtcp_pair {
                    Ok(Accepted::Rtcp)
                } else if self.latched.is_none() && self.config.latching == Latching::Symmetric {
                    Err(Rejected::Unproven)
                } else {
                    Err(Rejected::UnexpectedSource)
                };
            }
            PacketKind::Other => return Err(Rejected::NotRtp),
        };
        if let Some(latched) = self.latched {
            return if from == latched {
                Ok(Accepted::Rtp(ssrc))
            } else {
                Err(Rejected::UnexpectedSource)
            };
        }
        if Some(from) == self.remote {
            self.latch(from, ssrc);
            return Ok(Accepted::Rtp(ssrc));
        }
        match (self.config.latching, self.remote) {
            (Latching::SdpOnly, None) => return Err(Rejected::NoRemote),
            (Latching::SdpOnly, Some(_)) => return Err(Rejected::UnexpectedSource),
            (Latching::Symmetric, _) => {}
        }
        self.probation(now, from, ssrc)
    }

    fn probation(
        &mut self,
        now: Instant,
        from: SocketAddr,
        ssrc: Ssrc,
    ) -> Result<Accepted, Rejected> {
        let window = self.config.latch_window;
        self.candidates
            .retain(|c| now.saturating_duration_since(c.first) <= window);
        let fresh = Candidate {
            from,
            ssrc,
            count: 1,
            first: now,
        };
        let Some(c) = self.candidates.iter_mut().find(|c| c.from == from) else {
            if self.candidates.len() >= MAX_CANDIDATES {
                self.candidates.remove(0);
            }
            self.candidates.push(fresh);
            return self.promote(from, ssrc, 1);
        };
        if c.ssrc != ssrc {
            *c = fresh;
            return Err(Rejected::SsrcMismatch);
        }
        c.count += 1;
        let count = c.count;
        self.promote(from, ssrc, count)
    }

    fn promote(&mut self, from: SocketAddr, ssrc: Ssrc, count: u32) -> Result<Accepted, Rejected> {
        if count < self.config.latch_packets {
            return Err(Rejected::Unproven);
        }
        self.latch(from, ssrc);
        Ok(Accepted::Rtp(ssrc))
    }

    fn latch(&mut self, source: SocketAddr, ssrc: Ssrc) {
        tracing::debug!(%ssrc, "RTP leg: source latched");
        self.latched = Some(source);
        self.candidates.clear();
        self.events.push_back(RtpLegEvent::Latched { source, ssrc });
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.timeout_fired {
            return None;
        }
        self.config.media_timeout.map(|t| self.last_media + t)
    }

    /// Fires the media timeout if it is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|deadline| now >= deadline) {
            tracing::info!("RTP leg: media timeout");
            self.timeout_fired = true;
            self.events.push_back(RtpLegEvent::MediaTimeout {
                last_media: self.last_media,
            });
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<RtpLegEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests;
