//! What a process has used, read from Linux's `/proc`: CPU time (user +
//! system, every thread, living or exited, from `/proc/PID/stat`), resident
//! memory (`VmRSS`) and thread count (from `/proc/PID/status`); and the
//! network namespace's UDP error counters (`/proc/net/snmp`) and the
//! per-socket drop counts of one process's UDP sockets (`/proc/net/udp`),
//! which say where datagrams were dropped.
//!
//! The kernel scales the tick-sampled user and system times so that their
//! sum is the scheduler's exact runtime of the process; `/proc` shows that
//! sum in clock ticks (`CLK_TCK`, 100 per second on Linux), so CPU time is
//! exact to 10 ms.

use std::io;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// One reading of a process's use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// User + system CPU time of every thread so far.
    pub cpu: Duration,
    /// Resident set size, bytes.
    pub rss: u64,
    /// Threads right now.
    pub threads: u64,
}

/// The UDP counters of this network namespace that count drops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpDrops {
    /// Datagrams dropped because a receive buffer was full.
    pub rcvbuf_errors: u64,
    /// Datagrams to a port nobody listens on.
    pub no_ports: u64,
    /// Datagrams dropped on input for any reason (receive-buffer drops
    /// included).
    pub in_errors: u64,
}

impl UdpDrops {
    /// The counts since `earlier`.
    pub fn since(&self, earlier: &UdpDrops) -> UdpDrops {
        UdpDrops {
            rcvbuf_errors: self.rcvbuf_errors.saturating_sub(earlier.rcvbuf_errors),
            no_ports: self.no_ports.saturating_sub(earlier.no_ports),
            in_errors: self.in_errors.saturating_sub(earlier.in_errors),
        }
    }
}

/// Reads the namespace's UDP drop counters now.
pub fn udp_drops() -> io::Result<UdpDrops> {
    let snmp = std::fs::read_to_string("/proc/net/snmp")?;
    parse_udp_drops(&snmp)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Udp lines in /proc/net/snmp"))
}

/// The `Udp:` header and value lines of `/proc/net/snmp`.
fn parse_udp_drops(snmp: &str) -> Option<UdpDrops> {
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp: "));
    let names: Vec<&str> = udp.next()?.split_whitespace().collect();
    let values: Vec<&str> = udp.next()?.split_whitespace().collect();
    let get = |name: &str| -> Option<u64> {
        let i = names.iter().position(|n| *n == name)?;
        values.get(i)?.parse().ok()
    };
    Some(UdpDrops {
        rcvbuf_errors: get("RcvbufErrors")?,
        no_ports: get("NoPorts")?,
        in_errors: get("InErrors")?,
    })
}

/// Datagrams dropped so far (receive buffer full) on the UDP sockets that
/// process `pid` holds open: the `drops` column of `/proc/net/udp` for the
/// socket inodes among its file descriptors.
pub fn socket_drops(pid: u32) -> io::Result<u64> {
    let mut inodes = std::collections::HashSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        let Ok(link) = std::fs::read_link(fd?.path()) else {
            continue; // closed meanwhile
        };
        let link = link.to_string_lossy();
        if let Some(inode) = link
            .strip_prefix("socket:[")
            .and_then(|s| s.strip_suffix(']'))
        {
            inodes.insert(inode.to_string());
        }
    }
    let mut drops = 0;
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        drops += udp_table_drops(&text, |inode| inodes.contains(inode));
    }
    Ok(drops)
}

/// The sum of the `drops` column (the 13th) over the rows of a
/// `/proc/net/udp` table whose inode (the 10th) `mine` accepts.
fn udp_table_drops(table: &str, mine: impl Fn(&str) -> bool) -> u64 {
    table
        .lines()
        .skip(1)
        .filter_map(|row| {
            let cols: Vec<&str> = row.split_whitespace().collect();
            let inode = cols.get(9)?;
            mine(inode).then(|| cols.get(12)?.parse::<u64>().ok())?
        })
        .sum()
}

/// Reads process `pid`'s use now.
pub fn usage(pid: u32) -> io::Result<Usage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let ticks = cpu_ticks(&stat).ok_or_else(|| bad("stat", pid))?;
    let rss_kb = status_field(&status, "VmRSS:").ok_or_else(|| bad("VmRSS", pid))?;
    let threads = status_field(&status, "Threads:").ok_or_else(|| bad("Threads", pid))?;
    Ok(Usage {
        cpu: Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64),
        rss: rss_kb * 1024,
        threads,
    })
}

fn bad(what: &str, pid: u32) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("cannot read {what} of /proc/{pid}"),
    )
}

/// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line. The
/// command name (field 2) is in parentheses and may itself hold spaces and
/// parentheses, so fields are counted from the last `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The number after `key` in `/proc/PID/status`.
fn status_field(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `CLK_TCK`, from `getconf` once (100 if that fails: Linux's `USER_HZ`).
fn clock_ticks_per_second() -> u64 {
    static TCK: OnceLock<u64> = OnceLock::new();
    *TCK.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(100)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_ticks_past_a_name_with_spaces_and_parens() {
        let stat = "1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 \
                    250 75 0 0 20 0 3 0 100 1000000 200";
        assert_eq!(cpu_ticks(stat), Some(325));
        assert_eq!(cpu_ticks("1 (x) S 1"), None);
    }

    #[test]
    fn reads_udp_drops() {
        let snmp = "Ip: Forwarding\nIp: 1\n\
                    Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors\n\
                    Udp: 10 2 7 10 5\n\
                    UdpLite: InDatagrams NoPorts\nUdpLite: 0 0\n";
        assert_eq!(
            parse_udp_drops(snmp),
            Some(UdpDrops {
                rcvbuf_errors: 5,
                no_ports: 2,
                in_errors: 7
            })
        );
        assert_eq!(parse_udp_drops("Udp: A\n"), None);
        assert!(udp_drops().is_ok());
    }

    #[test]
    fn sums_the_drops_of_chosen_sockets() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
             1: 0100007F:4E20 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 111 2 0000000000000000 5\n\
             2: 0100007F:4E21 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 222 2 0000000000000000 7\n";
        assert_eq!(udp_table_drops(table, |i| i == "222"), 7);
        assert_eq!(udp_table_drops(table, |_| true), 12);
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(socket_drops(std::process::id()).unwrap(), 0);
        drop(socket);
    }

    #[test]
    fn reads_this_process() {
        let u = usage(std::process::id()).unwrap();
        assert!(u.rss > 0);
        assert!(u.threads >= 1);
    }
}
