//! RTP port allocation for the SIP-side media legs: sockets bound on an even
//! port of `media.rtp_ports` with RTCP on the odd port above it (RFC 3550
//! §11), handed out round-robin so a port just released is not reused at
//! once (late packets of an ended call must not reach the next one).

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Mutex;
use tokio::net::UdpSocket;
use tracing::debug;

/// An RTP socket and its RTCP companion (even port, odd port).
#[derive(Debug)]
pub struct RtpSockets {
    /// The RTP socket, on the even port.
    pub rtp: UdpSocket,
    /// The RTCP socket, on the port above.
    pub rtcp: UdpSocket,
}

impl RtpSockets {
    /// The RTP port.
    pub fn port(&self) -> u16 {
        self.rtp.local_addr().map_or(0, |a| a.port())
    }
}

/// Hands out RTP/RTCP socket pairs from a port range.
#[derive(Debug)]
pub struct RtpPorts {
    ip: IpAddr,
    first: u16,
    pairs: u16,
    next: Mutex<u16>,
}

/// Why no pair could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RtpPortError {
    /// The range holds no even/odd pair.
    #[error("the RTP port range {0:?} holds no even/odd pair")]
    EmptyRange(RangeInclusive<u16>),
    /// Every pair of the range is in use (by us or another process).
    #[error("every RTP port pair in the range is in use")]
    Exhausted,
}

impl RtpPorts {
    /// Pairs of `range` on address `ip`.
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Result<RtpPorts, RtpPortError> {
        let first = range.start().saturating_add(range.start() % 2);
        let last_even = if range.end() % 2 == 1 {
            *range.end() - 1
        } else {
            range.end().saturating_sub(2)
        };
        if first > last_even || *range.end() < first + 1 {
            return Err(RtpPortError::EmptyRange(range));
        }
        let pairs = (last_even - first) / 2 + 1;
        Ok(RtpPorts {
            ip,
            first,
            pairs,
            next: Mutex::new(0),
        })
    }

    /// How many pairs the range holds.
    pub fn capacity(&self) -> u16 {
        self.pairs
    }

    /// Binds the next free pair, trying each pair of the range at most once.
    pub async fn allocate(&self) -> Result<RtpSockets, RtpPortError> {
        for _ in 0..self.pairs {
            let port = {
                let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
                let port = self.first + 2 * *next;
                *next = (*next + 1) % self.pairs;
                port
            };
            let Ok(rtp) = UdpSocket::bind(SocketAddr::new(self.ip, port)).await else {
                continue;
            };
            let Ok(rtcp) = UdpSocket::bind(SocketAddr::new(self.ip, port + 1)).await else {
                continue;
            };
            debug!(port, "RTP port pair allocated");
            return Ok(RtpSockets { rtp, rtcp });
        }
        Err(RtpPortError::Exhausted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> IpAddr {
        "127.0.0.1".parse().unwrap()
    }

    #[test]
    fn ranges_are_counted_in_even_odd_pairs() {
        assert_eq!(
            RtpPorts::new(loopback(), 20000..=29999).unwrap().capacity(),
            5000
        );
        assert_eq!(
            RtpPorts::new(loopback(), 20001..=20004).unwrap().capacity(),
            1
        );
        assert!(RtpPorts::new(loopback(), 20001..=20002).is_err());
        assert!(RtpPorts::new(loopback(), 20000..=20000).is_err());
    }

    #[tokio::test]
    async fn pairs_are_even_odd_round_robin_and_skip_ports_in_use() {
        // A range of 4 pairs somewhere high; one pair taken by someone else.
        let base = 47000;
        let ports = RtpPorts::new(loopback(), base..=base + 7).unwrap();
        let squatter = std::net::UdpSocket::bind((loopback(), base + 2)).unwrap();
        let a = ports.allocate().await.unwrap();
        let b = ports.allocate().await.unwrap();
        let c = ports.allocate().await.unwrap();
        assert_eq!(a.port() % 2, 0);
        assert_eq!(a.rtcp.local_addr().unwrap().port(), a.port() + 1);
        assert_eq!([a.port(), b.port(), c.port()], [base, base + 4, base + 6]);
        assert!(matches!(
            ports.allocate().await,
            Err(RtpPortError::Exhausted)
        ));
        drop((a, squatter));
        // The next allocation moves on round-robin to the freed pairs.
        let d = ports.allocate().await.unwrap();
        assert!(d.port() == base || d.port() == base + 2);
    }
}
