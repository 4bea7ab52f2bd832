//! One UDP port for every browser leg: [`Demux`] says which leg a received
//! datagram belongs to.
//!
//! A browser's first datagrams are ICE checks, STUN Binding requests whose
//! USERNAME is `gateway_ufrag:browser_ufrag` (RFC 8445 §7.2.2); the gateway
//! ufrag names the leg. Once the leg saw an authenticated check from an
//! address ([`super::Event::PeerAddress`]), the driver calls
//! [`Demux::learn`] and DTLS, SRTP and SRTCP from that 5-tuple go to the
//! leg. Anything else is counted and dropped: media is accepted only from an
//! address that proved itself.

use std::collections::HashMap;
use std::net::SocketAddr;

pub use crate::media::webrtc_lite::stun_username;

/// Identifies one leg behind a [`Demux`]; the driver chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

/// What the demux did with the datagrams it saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemuxStats {
    /// Routed by a learned 5-tuple.
    pub by_address: u64,
    /// STUN routed by the gateway ufrag of its USERNAME.
    pub by_ufrag: u64,
    /// STUN whose USERNAME names no leg (or that has none).
    pub unknown_ufrag: u64,
    /// Non-STUN datagrams from an address no leg has learned.
    pub unroutable: u64,
}

/// Routes datagrams received on the shared WebRTC port to their legs.
#[derive(Debug, Default)]
pub struct Demux {
    by_ufrag: HashMap<String, LegId>,
    by_tuple: HashMap<(SocketAddr, SocketAddr), LegId>,
    stats: DemuxStats,
}

impl Demux {
    /// An empty demux.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a leg under its gateway ICE ufrag
    /// ([`super::WebRtcLeg::local_ufrag`]).
    pub fn insert_leg(&mut self, id: LegId, local_ufrag: &str) {
        self.by_ufrag.insert(local_ufrag.to_owned(), id);
    }

    /// Forgets a leg: its ufrag and every 5-tuple learned for it.
    pub fn remove_leg(&mut self, id: LegId) {
        self.by_ufrag.retain(|_, l| *l != id);
        self.by_tuple.retain(|_, l| *l != id);
    }

    /// Routes datagrams from `remote` to `local` to leg `id` from now on.
    /// Call it on [`super::Event::PeerAddress`].
    pub fn learn(&mut self, id: LegId, remote: SocketAddr, local: SocketAddr) {
        self.by_tuple.insert((remote, local), id);
    }

    /// The leg a datagram from `from` to `to` belongs to, or `None`: then it
    /// is counted in [`Demux::stats`] and must be dropped.
    pub fn route(&mut self, from: SocketAddr, to: SocketAddr, datagram: &[u8]) -> Option<LegId> {
        if let Some(id) = self.by_tuple.get(&(from, to)) {
            self.stats.by_address += 1;
            return Some(*id);
        }
        if !matches!(datagram.first(), Some(0..=3)) {
            self.stats.unroutable += 1;
            return None;
        }
        let leg = stun_username(datagram)
            .and_then(|(local, _)| self.by_ufrag.get(local))
            .copied();
        match leg {
            Some(_) => self.stats.by_ufrag += 1,
            None => self.stats.unknown_ufrag += 1,
        }
        leg
    }

    /// The counters so far.
    pub fn stats(&self) -> DemuxStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Binding request: USERNAME, PRIORITY
    /// and a MESSAGE-INTEGRITY (not a valid one: the demux does not check).
    fn binding(username: &str) -> Vec<u8> {
        let mut attr = Vec::new();
        attr.extend(0x0006u16.to_be_bytes());
        attr.extend((username.len() as u16).to_be_bytes());
        attr.extend(username.as_bytes());
        while attr.len() % 4 != 0 {
            attr.push(0);
        }
        attr.extend([0x00, 0x24, 0, 4, 0x6e, 0, 0x1e, 0xff]);
        attr.extend([0x00, 0x08, 0, 20]);
        attr.extend([0xaa; 20]);
        // Header: Binding request, length, magic cookie, transaction id.
        let mut m = Vec::new();
        m.extend(0x0001u16.to_be_bytes());
        m.extend((attr.len() as u16).to_be_bytes());
        m.extend(0x2112_A442u32.to_be_bytes());
        m.extend([7; 12]);
        m.extend(attr);
        m
    }

    #[test]
    fn username_of_a_binding_request() {
        assert_eq!(stun_username(&binding("gw12:br34")), Some(("gw12", "br34")));
        assert_eq!(stun_username(&binding("nocolon")), None);
        assert_eq!(stun_username(&[0x80, 0, 0, 0]), None);
        assert_eq!(stun_username(&[0, 1, 0]), None);
        assert_eq!(stun_username(&[]), None);
    }

    #[test]
    fn routes_by_ufrag_then_by_tuple_and_counts_the_rest() {
        let local: SocketAddr = "192.0.2.1:10000".parse().unwrap();
        let a: SocketAddr = "198.51.100.7:5000".parse().unwrap();
        let b: SocketAddr = "198.51.100.8:5000".parse().unwrap();
        let mut d = Demux::new();
        d.insert_leg(LegId(1), "one");
        d.insert_leg(LegId(2), "two");

        assert_eq!(d.route(a, local, &binding("one:x")), Some(LegId(1)));
        assert_eq!(d.route(b, local, &binding("two:y")), Some(LegId(2)));
        assert_eq!(d.route(b, local, &binding("three:y")), None);
        // DTLS from an address nobody learned yet.
        assert_eq!(d.route(a, local, &[22, 254, 253]), None);
        d.learn(LegId(1), a, local);
        assert_eq!(d.route(a, local, &[22, 254, 253]), Some(LegId(1)));
        d.remove_leg(LegId(1));
        assert_eq!(d.route(a, local, &[0x80, 111]), None);
        assert_eq!(d.route(a, local, &binding("one:x")), None);
        assert_eq!(
            d.stats(),
            DemuxStats {
                by_address: 1,
                by_ufrag: 2,
                unknown_ufrag: 2,
                unroutable: 2,
            }
        );
    }
}
