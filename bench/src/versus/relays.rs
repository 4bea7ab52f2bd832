//! The two relays as child processes: rtpengine in userspace
//! (`--table=-1`), with its own port range and its NG control socket on a
//! free loopback port, logging to a file; and our media runtime, hosted by
//! this binary's `serve-ours` subcommand ([`super::host`]). Each is ready
//! once it answers an NG `ping`, and is killed and reaped when its
//! [`RelayProcess`] drops.

use super::bencode::Value;
use super::ng::{NgClient, NgError};
use super::proc_stat::{self, Usage};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a relay may take to answer its first `ping`.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// Which relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relay {
    /// rtpengine, the reference.
    Rtpengine,
    /// The gateway's media runtime.
    Ours,
}

impl fmt::Display for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Relay::Rtpengine => "rtpengine",
            Relay::Ours => "ours",
        })
    }
}

/// Why a relay did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// No `rtpengine` executable.
    #[error(
        "`{0}` not found: install rtpengine (Debian: apt-get install --no-install-recommends rtpengine-daemon)"
    )]
    NotInstalled(String),
    /// The process could not be started or watched.
    #[error("cannot run {relay}: {source}")]
    Io {
        /// The relay.
        relay: Relay,
        /// Why.
        source: io::Error,
    },
    /// It exited before it was ready.
    #[error("{relay} exited before it was ready ({status}){log}")]
    Exited {
        /// The relay.
        relay: Relay,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// The end of its log, if it has one.
        log: String,
    },
    /// Our host did not print where it listens.
    #[error("{0} did not print `ready <address>`")]
    NoAddress(Relay),
    /// It did not answer `ping` in time.
    #[error("{relay} did not answer an NG ping: {source}{log}")]
    NotReady {
        /// The relay.
        relay: Relay,
        /// The last attempt's error.
        source: NgError,
        /// The end of its log, if it has one.
        log: String,
    },
}

/// A running relay.
pub struct RelayProcess {
    /// Which one.
    pub relay: Relay,
    /// Its NG control address.
    pub ng: SocketAddr,
    child: Child,
    log: Option<PathBuf>,
}

impl RelayProcess {
    /// Starts `rtpengine` (the executable's name or path) on loopback with
    /// RTP ports from `ports`, logging to `log_dir/rtpengine.log`.
    pub async fn rtpengine(
        executable: &str,
        ports: RangeInclusive<u16>,
        log_dir: &Path,
    ) -> Result<RelayProcess, StartError> {
        let relay = Relay::Rtpengine;
        let io_err = |source| StartError::Io { relay, source };
        let ng = free_udp_port().map_err(io_err)?;
        let log = log_dir.join("rtpengine.log");
        let log_file = File::create(&log).map_err(io_err)?;
        let child = Command::new(executable)
            .args([
                "--config-file=none",
                "--table=-1",
                "--interface=127.0.0.1",
                &format!("--listen-ng={ng}"),
                &format!("--port-min={}", ports.start()),
                &format!("--port-max={}", ports.end()),
                "--foreground",
                "--log-stderr",
                "--no-redis-required",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => StartError::NotInstalled(executable.to_string()),
                _ => io_err(e),
            })?;
        let mut p = RelayProcess {
            relay,
            ng,
            child,
            log: Some(log),
        };
        p.wait_ready().await?;
        Ok(p)
    }

    /// Starts `exe serve-ours` (this binary) with RTP ports from `ports`.
    pub async fn ours(exe: &Path, ports: RangeInclusive<u16>) -> Result<RelayProcess, StartError> {
        let relay = Relay::Ours;
        let io_err = |source| StartError::Io { relay, source };
        let mut child = Command::new(exe)
            .args([
                "serve-ours",
                "--rtp-ports",
                &format!("{}-{}", ports.start(), ports.end()),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(io_err)?;
        let stdout = child.stdout.take().ok_or(StartError::NoAddress(relay))?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(io_err)?;
        let ng = line
            .trim()
            .strip_prefix("ready ")
            .and_then(|a| a.parse().ok());
        let mut p = RelayProcess {
            relay,
            ng: ng.unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
            child,
            log: None,
        };
        if ng.is_none() {
            return Err(match p.child.try_wait() {
                Ok(Some(status)) => StartError::Exited {
                    relay,
                    status,
                    log: String::new(),
                },
                _ => StartError::NoAddress(relay),
            });
        }
        p.wait_ready().await?;
        Ok(p)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its use of CPU and memory so far.
    pub fn usage(&self) -> io::Result<Usage> {
        proc_stat::usage(self.pid())
    }

    /// The last lines of its log, as a suffix for an error message.
    pub fn log_tail(&self) -> String {
        let Some(path) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("\n--- last lines of {} ---\n{tail}", path.display())
    }

    /// Pings until the relay answers, it exits, or [`READY_WITHIN`] passes.
    async fn wait_ready(&mut self) -> Result<(), StartError> {
        let relay = self.relay;
        let mut client = NgClient::new(self.ng)
            .await
            .map_err(|source| StartError::Io { relay, source })?;
        let ping = Value::dict([("command", Value::str("ping"))]);
        let give_up = Instant::now() + READY_WITHIN;
        loop {
            let err = match client.request(&ping, Duration::from_millis(200)).await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(StartError::Exited {
                    relay,
                    status,
                    log: self.log_tail(),
                });
            }
            if Instant::now() >= give_up {
                return Err(StartError::NotReady {
                    relay,
                    source: err,
                    log: self.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback UDP address free right now.
fn free_udp_port() -> io::Result<SocketAddr> {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()
}
