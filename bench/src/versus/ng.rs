//! rtpengine's NG control protocol over UDP, as much as the benchmark
//! uses: a datagram is a cookie, a space and one bencoded dictionary; the
//! reply carries the request's cookie and says `result: ok` (or `pong`),
//! or `result: error` with an `error-reason`. [`NgClient`] sends a request
//! and waits for its reply; [`split`] and [`datagram`] are the framing the
//! benchmark's host of our media runtime answers with (`super::host`).
//!
//! Requests are sent once, not retransmitted: everything is on loopback,
//! and a retransmitted `offer` would make our host create a second call.

use super::bencode::{DecodeError, Value};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::UdpSocket;

/// Largest NG datagram read.
const MAX_DATAGRAM: usize = 65_536;

/// Why an NG request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NgError {
    /// The control socket failed.
    #[error("NG control socket: {0}")]
    Io(#[from] io::Error),
    /// No reply in time.
    #[error("no reply to NG `{command}` from {server} within {waited:?}")]
    NoReply {
        /// The request's command.
        command: String,
        /// Where it went.
        server: SocketAddr,
        /// How long we waited.
        waited: Duration,
    },
    /// The reply is not a cookie and one bencoded dictionary.
    #[error("NG reply is not bencode: {0}")]
    Decode(#[from] DecodeError),
    /// The relay refused the request.
    #[error("NG `{command}` refused: {reason}")]
    Refused {
        /// The request's command.
        command: String,
        /// Its `error-reason` (or the unexpected `result`).
        reason: String,
    },
    /// A reply lacks an entry the request needs.
    #[error("NG reply to `{command}` has no `{key}`")]
    Missing {
        /// The request's command.
        command: String,
        /// The missing key.
        key: &'static str,
    },
}

/// Splits a datagram into its cookie and its bencoded body.
pub fn split(datagram: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = datagram.iter().position(|&b| b == b' ')?;
    Some((&datagram[..space], &datagram[space + 1..]))
}

/// A datagram: `cookie`, a space, `body` bencoded.
pub fn datagram(cookie: &[u8], body: &Value) -> Vec<u8> {
    let mut out = cookie.to_vec();
    out.push(b' ');
    body.encode(&mut out);
    out
}

/// An NG client on a loopback socket of its own.
pub struct NgClient {
    socket: UdpSocket,
    server: SocketAddr,
    buf: Vec<u8>,
}

/// The next request's cookie number.
static NEXT_COOKIE: AtomicU64 = AtomicU64::new(1);

impl NgClient {
    /// A client of the NG server at `server`.
    pub async fn new(server: SocketAddr) -> io::Result<NgClient> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        Ok(NgClient {
            socket,
            server,
            buf: vec![0; MAX_DATAGRAM],
        })
    }

    /// Sends `request` (a dictionary with a `command`) and returns the
    /// reply, which must say `ok` or `pong`; waits at most `wait`.
    pub async fn request(&mut self, request: &Value, wait: Duration) -> Result<Value, NgError> {
        let command = request.get_str("command").unwrap_or("?").to_string();
        // Unique over the process: rtpengine answers a cookie it has seen
        // (from any client) with its cached reply.
        let cookie = format!(
            "{}_{}",
            std::process::id(),
            NEXT_COOKIE.fetch_add(1, Ordering::Relaxed)
        );
        self.socket
            .send_to(&datagram(cookie.as_bytes(), request), self.server)
            .await?;
        let reply = tokio::time::timeout(wait, self.reply_to(cookie.as_bytes()))
            .await
            .map_err(|_| NgError::NoReply {
                command: command.clone(),
                server: self.server,
                waited: wait,
            })??;
        match reply.get_str("result") {
            Some("ok" | "pong") => Ok(reply),
            Some("error") => Err(NgError::Refused {
                command,
                reason: reply.get_str("error-reason").unwrap_or("?").to_string(),
            }),
            other => Err(NgError::Refused {
                command,
                reason: format!("result {other:?}"),
            }),
        }
    }

    /// The `sdp` of a reply to `command`.
    pub fn sdp<'a>(reply: &'a Value, command: &str) -> Result<&'a str, NgError> {
        reply.get_str("sdp").ok_or_else(|| NgError::Missing {
            command: command.to_string(),
            key: "sdp",
        })
    }

    /// The first datagram from the server carrying `cookie`, decoded.
    async fn reply_to(&mut self, cookie: &[u8]) -> Result<Value, NgError> {
        loop {
            let (n, from) = self.socket.recv_from(&mut self.buf).await?;
            if from != self.server {
                continue;
            }
            let Some((c, body)) = split(&self.buf[..n]) else {
                continue;
            };
            if c == cookie {
                return Ok(Value::decode(body)?);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_splits() {
        let d = datagram(b"c1", &Value::dict([("command", Value::str("ping"))]));
        assert_eq!(d, b"c1 d7:command4:pinge".to_vec());
        let (cookie, body) = split(&d).unwrap();
        assert_eq!(cookie, b"c1");
        assert_eq!(
            Value::decode(body).unwrap().get_str("command"),
            Some("ping")
        );
        assert_eq!(split(b"nospace"), None);
    }
}
