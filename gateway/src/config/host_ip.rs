//! The default of `media.public_ip`: this host's first non-loopback IPv4 address,
//! found without sending a single packet.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};

/// This host's outward IPv4 address, else `127.0.0.1`.
///
/// First choice is the source address the kernel would pick for the default
/// route: a UDP socket is bound and `connect`ed to a TEST-NET-3 address, which
/// on UDP only looks the route up and sends nothing. Without a default route
/// (an isolated lab, a private namespace) the first non-loopback local address
/// listed in `/proc/net/fib_trie` is used; without one of those, loopback.
pub fn detect_public_ipv4() -> IpAddr {
    if let Some(ip) = default_route_source() {
        return IpAddr::V4(ip);
    }
    let from_trie = std::fs::read_to_string("/proc/net/fib_trie")
        .ok()
        .and_then(|text| first_local_ipv4(&text));
    IpAddr::V4(from_trie.unwrap_or(Ipv4Addr::LOCALHOST))
}

/// The local address the kernel would send from toward the Internet, if any.
fn default_route_source() -> Option<Ipv4Addr> {
    // 203.0.113.1 is TEST-NET-3 (RFC 5737): never a real host, and `connect` on
    // a UDP socket only does the route lookup; nothing is sent.
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(203, 0, 113, 1), 9)).ok()?;
    match socket.local_addr().ok()?.ip() {
        IpAddr::V4(ip) if usable(ip) => Some(ip),
        _ => None,
    }
}

/// The first usable host address of the `LOCAL` entries of a
/// `/proc/net/fib_trie` listing, where each address line (`|-- 192.0.2.2`) is
/// followed by its kind (`/32 host LOCAL`).
pub(crate) fn first_local_ipv4(fib_trie: &str) -> Option<Ipv4Addr> {
    let mut previous: Option<&str> = None;
    for line in fib_trie.lines() {
        let line = line.trim();
        if line.starts_with("/32 host LOCAL") {
            let ip = previous
                .and_then(|p| p.strip_prefix("|--"))
                .and_then(|ip| ip.trim().parse::<Ipv4Addr>().ok());
            if let Some(ip) = ip.filter(|ip| usable(*ip)) {
                return Some(ip);
            }
        }
        previous = Some(line);
    }
    None
}

fn usable(ip: Ipv4Addr) -> bool {
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRIE: &str = "\
Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     |-- 169.254.3.4
        /32 host LOCAL
     +-- 192.0.2.0/24 2 0 2
        |-- 192.0.2.0
           /24 link UNICAST
        |-- 192.0.2.2
           /32 host LOCAL
        |-- 192.0.2.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 198.51.100.7
        /32 host LOCAL
";

    #[test]
    fn trie_skips_loopback_and_link_local() {
        assert_eq!(first_local_ipv4(TRIE), Some(Ipv4Addr::new(192, 0, 2, 2)));
    }

    #[test]
    fn trie_with_only_loopback_has_no_address() {
        let only_lo = "Local:\n  |-- 127.0.0.1\n     /32 host LOCAL\n";
        assert_eq!(first_local_ipv4(only_lo), None);
        assert_eq!(first_local_ipv4(""), None);
    }

    #[test]
    fn detection_yields_a_concrete_ipv4_address() {
        let ip = detect_public_ipv4();
        assert!(ip.is_ipv4() && !ip.is_unspecified(), "{ip}");
    }
}
