//! `relay_vs_rtpengine serve-ours`: the gateway's media runtime
//! ([`gateway::runtime::media`]) in a process of its own, so that its CPU
//! time and memory are read from `/proc` apart from the load generator's.
//! It runs on a multi-threaded tokio runtime built as the gateway's `main`
//! builds it (one worker per core), with no tracing subscriber.
//!
//! It answers, on a loopback UDP socket, the four NG commands the benchmark
//! sends (see [`super::ng`]), so the load generator drives both relays with
//! the same client and the same messages:
//!
//! | NG command | media runtime | reply |
//! |---|---|---|
//! | `ping` | | `pong` |
//! | `offer` (`call-id`, `sdp`: the browser's offer) | `create_call` | `sdp`: the PBX offer |
//! | `answer` (`call-id`, `sdp`: the PBX's answer) | `set_pbx_answer` | `sdp`: the browser's answer |
//! | `delete` (`call-id`) | `end_call` | |
//! | `query` (`call-id`) | | `crypto suite`: the browser leg's SRTP profile |
//!
//! The flags rtpengine needs (`transport-protocol`, `ICE`, `rtcp-mux`) say
//! what the media runtime always does, and are ignored. The host prints
//! `ready <NG address>` on stdout once it listens, and exits when its stdin
//! closes (the load generator ended or died).

use super::bencode::Value;
use super::ng;
use gateway::runtime::media::{MediaCallId, MediaEvent, MediaHandle, MediaSettings, start_media};
use sbc_core::media::rtp_leg::RtpLegConfig;
use sbc_core::media::webrtc::SrtpProfile;
use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Runs the host until stdin closes.
pub fn run(rtp_ports: RangeInclusive<u16>) -> io::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(rtp_ports))
}

async fn serve(rtp_ports: RangeInclusive<u16>) -> io::Result<()> {
    let mut media = start_media(MediaSettings {
        webrtc_bind: SocketAddr::new(LOOPBACK, 0),
        public_ip: LOOPBACK,
        rtp_ports,
        sip_ip: LOOPBACK,
        rtp_leg: RtpLegConfig::default(),
        pbx_sdes: false,
    })
    .await
    .map_err(io::Error::other)?;
    let socket = UdpSocket::bind((LOOPBACK, 0)).await?;
    let mut stdout = io::stdout();
    writeln!(stdout, "ready {}", socket.local_addr()?)?;
    stdout.flush()?;

    let (closed_tx, mut closed) = oneshot::channel();
    std::thread::spawn(move || {
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
        let _ = closed_tx.send(());
    });

    let mut host = Host {
        media: media.handle.clone(),
        calls: HashMap::new(),
        profiles: HashMap::new(),
    };
    let mut buf = vec![0u8; 65_536];
    loop {
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                let Ok((n, from)) = r else { continue };
                let Some((cookie, body)) = ng::split(&buf[..n]) else { continue };
                let reply = match Value::decode(body) {
                    Ok(request) => host.handle(&request).await,
                    Err(e) => error(&e.to_string()),
                };
                let _ = socket.send_to(&ng::datagram(cookie, &reply), from).await;
            }
            // Only the SRTP profiles are kept; nothing may pile up.
            Some(event) = media.events.recv() => {
                if let MediaEvent::SrtpProfile { call, profile } = event {
                    host.profiles.insert(call, profile);
                }
            }
            _ = &mut closed => break,
        }
    }
    media.stop();
    Ok(())
}

struct Host {
    media: MediaHandle,
    calls: HashMap<String, MediaCallId>,
    profiles: HashMap<MediaCallId, SrtpProfile>,
}

impl Host {
    async fn handle(&mut self, request: &Value) -> Value {
        let call_id = request.get_str("call-id").unwrap_or_default().to_string();
        let sdp = request.get_str("sdp").unwrap_or_default().to_string();
        match request.get_str("command") {
            Some("ping") => Value::dict([("result", Value::str("pong"))]),
            Some("offer") => match self.media.create_call(sdp).await {
                Ok(call) => {
                    self.calls.insert(call_id, call.id);
                    ok_sdp(&call.pbx_offer)
                }
                Err(e) => error(&e.to_string()),
            },
            Some("answer") => {
                let Some(&id) = self.calls.get(&call_id) else {
                    return error("unknown call-id");
                };
                match self.media.set_pbx_answer(id, sdp).await {
                    Ok(Some(answer)) => ok_sdp(&answer),
                    Ok(None) => error("the browser was answered already"),
                    Err(e) => error(&e.to_string()),
                }
            }
            Some("delete") => {
                let Some(id) = self.calls.remove(&call_id) else {
                    return error("unknown call-id");
                };
                self.profiles.remove(&id);
                match self.media.end_call(id).await {
                    Ok(()) => Value::dict([("result", Value::str("ok"))]),
                    Err(e) => error(&e.to_string()),
                }
            }
            Some("query") => {
                let profile = self
                    .calls
                    .get(&call_id)
                    .and_then(|id| self.profiles.get(id));
                match profile {
                    Some(p) => Value::dict([
                        ("result", Value::str("ok")),
                        ("crypto suite", Value::str(&p.to_string())),
                    ]),
                    None => error("no such call, or no SRTP profile yet"),
                }
            }
            _ => error("unsupported command"),
        }
    }
}

fn ok_sdp(sdp: &str) -> Value {
    Value::dict([("result", Value::str("ok")), ("sdp", Value::str(sdp))])
}

fn error(reason: &str) -> Value {
    Value::dict([
        ("result", Value::str("error")),
        ("error-reason", Value::str(reason)),
    ])
}
