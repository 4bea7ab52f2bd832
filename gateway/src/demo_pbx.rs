//! The demo PBX of the zero-config start (no `pbx.uri`): a real SIP UAS
//! on a loopback UDP port that the gateway reaches over its own SIP stack,
//! exactly like a PBX elsewhere. It is the project's
//! [`AnsweringUas`] with media:
//!
//! - extension **600** echoes every RTP packet back to where it came from;
//! - extension **601** plays a 1 kHz tone (G.711, 20 ms packets);
//! - any other number gets 404.
//!
//! It answers G.711 (PCMU, else PCMA) with telephone-event when offered.

use crate::config::{SipConfig, SipListen, SipTransport};
use crate::runtime::{self, SipRuntime};
use crate::ua::uas::{AnsweringUas, CallMedia, UasConfig};
use bytes::Bytes;
use sbc_core::sdp::{Limits, SessionDescription};
use sbc_core::sip::dialog::DialogId;
use std::collections::HashMap;
use std::f64::consts::PI;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tracing::{debug, info};

/// The echo extension.
pub const ECHO: &str = "600";
/// The tone extension.
pub const TONE: &str = "601";
/// The tone's frequency.
pub const TONE_HZ: f64 = 1000.0;

/// A running demo PBX.
pub struct DemoPbx {
    /// Its SIP address (UDP, loopback).
    pub addr: SocketAddr,
    /// Its SIP stack.
    pub sip: SipRuntime<AnsweringUas>,
}

/// Starts the demo PBX on a free loopback UDP port, with the SIP timers
/// and limits of `sip`.
pub async fn start(sip: &SipConfig) -> io::Result<DemoPbx> {
    let config = SipConfig {
        listen: vec![SipListen {
            transport: SipTransport::Udp,
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        }],
        rate_limit_per_ip: None,
        user_agent: concat!("sbc-demo-pbx/", env!("CARGO_PKG_VERSION")).into(),
        ..sip.clone()
    };
    let uas = AnsweringUas::with_media(
        UasConfig {
            contact_user: "demo".into(),
            user_agent: config.user_agent.clone(),
            ..UasConfig::default()
        },
        Box::new(DemoMedia::default()),
    );
    let runtime = runtime::start_sip(&config, uas, None, None).await?;
    let addr = runtime
        .transports
        .listeners()
        .first()
        .map(|l| l.addr)
        .ok_or_else(|| io::Error::other("the demo PBX has no listener"))?;
    info!(%addr, "demo PBX: 600 echoes, 601 plays a 1 kHz tone");
    Ok(DemoPbx { addr, sip: runtime })
}

/// The media of the demo's calls: one task per call.
#[derive(Debug, Default)]
struct DemoMedia {
    calls: HashMap<DialogId, JoinHandle<()>>,
}

/// What the offer says: where to send, and the G.711 type to use.
struct Offer {
    remote: SocketAddr,
    pt: u8,
    codec: &'static str,
    telephone_event: Option<u8>,
}

impl CallMedia for DemoMedia {
    fn start(
        &mut self,
        call: &DialogId,
        user: &str,
        offer: &[u8],
        local_ip: IpAddr,
    ) -> Result<Bytes, u16> {
        let tone = match user {
            ECHO => false,
            TONE => true,
            _ => return Err(404),
        };
        let offer = read_offer(offer).ok_or(488u16)?;
        let std_socket =
            std::net::UdpSocket::bind(SocketAddr::new(local_ip, 0)).map_err(|_| 500u16)?;
        std_socket.set_nonblocking(true).map_err(|_| 500u16)?;
        let socket = UdpSocket::from_std(std_socket).map_err(|_| 500u16)?;
        let port = socket.local_addr().map_err(|_| 500u16)?.port();
        let answer = answer_sdp(local_ip, port, &offer);
        let task = if tone {
            tokio::spawn(play_tone(socket, offer.remote, offer.pt))
        } else {
            tokio::spawn(echo(socket))
        };
        debug!(user, port, "demo PBX call media started");
        self.calls.insert(call.clone(), task);
        Ok(answer)
    }

    fn stop(&mut self, call: &DialogId) {
        if let Some(task) = self.calls.remove(call) {
            task.abort();
        }
    }
}

impl Drop for DemoMedia {
    fn drop(&mut self) {
        for task in self.calls.values() {
            task.abort();
        }
    }
}

fn read_offer(sdp: &[u8]) -> Option<Offer> {
    let parsed = SessionDescription::parse(sdp, &Limits::default()).ok()?;
    let m = parsed.media.iter().find(|m| m.media == "audio")?;
    let ip = m
        .connection
        .as_ref()
        .or(parsed.connection.as_ref())?
        .ip_addr()?;
    let pts: Vec<u8> = m.payload_types().collect();
    let (pt, codec) = if pts.contains(&0) {
        (0, "PCMU")
    } else if pts.contains(&8) {
        (8, "PCMA")
    } else {
        return None;
    };
    let telephone_event = m.rtpmaps().find_map(|r| {
        (r.encoding.eq_ignore_ascii_case("telephone-event") && r.clock_rate == 8000)
            .then_some(r.payload_type)
    });
    Some(Offer {
        remote: SocketAddr::new(ip, m.port),
        pt,
        codec,
        telephone_event,
    })
}

fn answer_sdp(ip: IpAddr, port: u16, offer: &Offer) -> Bytes {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let (formats, event_map) = match offer.telephone_event {
        Some(te) => (
            format!("{} {te}", offer.pt),
            format!("a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n"),
        ),
        None => (offer.pt.to_string(), String::new()),
    };
    Bytes::from(format!(
        "v=0\r\no=demo-pbx 1 1 IN {family} {ip}\r\ns=demo\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP {formats}\r\na=rtpmap:{pt} {codec}/8000\r\n{event_map}\
         a=ptime:20\r\na=sendrecv\r\n",
        pt = offer.pt,
        codec = offer.codec,
    ))
}

/// 600: every datagram goes back where it came from.
async fn echo(socket: UdpSocket) {
    let mut buf = vec![0u8; 2048];
    while let Ok((n, from)) = socket.recv_from(&mut buf).await {
        let _ = socket.send_to(&buf[..n], from).await;
    }
}

/// 601: a 1 kHz tone at -10 dBFS in 20 ms G.711 packets, to the offer's
/// address.
async fn play_tone(socket: UdpSocket, to: SocketAddr, pt: u8) {
    const SAMPLES: usize = 160;
    let ssrc: u32 = rand::random();
    let mut seq: u16 = rand::random();
    let mut ts: u32 = rand::random();
    let mut phase = 0.0f64;
    let step = 2.0 * PI * TONE_HZ / 8000.0;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut packet = Vec::with_capacity(12 + SAMPLES);
    loop {
        tick.tick().await;
        packet.clear();
        packet.extend_from_slice(&[0x80, pt]);
        packet.extend_from_slice(&seq.to_be_bytes());
        packet.extend_from_slice(&ts.to_be_bytes());
        packet.extend_from_slice(&ssrc.to_be_bytes());
        for _ in 0..SAMPLES {
            let sample = (phase.sin() * 10_362.0) as i16; // -10 dBFS
            phase = (phase + step) % (2.0 * PI);
            packet.push(if pt == 0 {
                linear_to_ulaw(sample)
            } else {
                linear_to_alaw(sample)
            });
        }
        if socket.send_to(&packet, to).await.is_err() {
            return;
        }
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(SAMPLES as u32);
    }
}

/// G.711 µ-law (ITU-T G.711, the bias-and-segment form).
fn linear_to_ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(CLIP) + BIAS;
    // s >= BIAS, so s >> 7 is 1..=255: the exponent is its top bit.
    let exponent = 31 - ((s >> 7) as u32).leading_zeros() as i32;
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// G.711 A-law.
fn linear_to_alaw(sample: i16) -> u8 {
    let s = i32::from(sample) >> 3;
    let (sign, mag) = if s >= 0 { (0x80, s) } else { (0x00, -s - 1) };
    let mag = mag.min(0x0fff);
    let (exponent, mantissa) = if mag < 32 {
        (0, mag >> 1)
    } else {
        let exponent = 31 - (mag as u32).leading_zeros() as i32 - 4;
        (exponent, (mag >> exponent) & 0x0f)
    };
    ((sign | (exponent << 4) | mantissa) as u8) ^ 0x55
}

#[cfg(test)]
mod tests {
    use super::*;

    /// µ-law decoding, to check the encoder against.
    fn ulaw_to_linear(u: u8) -> i32 {
        let u = !u;
        let sign = u & 0x80;
        let exponent = i32::from((u >> 4) & 0x07);
        let mantissa = i32::from(u & 0x0f);
        let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
        if sign != 0 { -magnitude } else { magnitude }
    }

    /// A-law decoding.
    fn alaw_to_linear(a: u8) -> i32 {
        let a = a ^ 0x55;
        let exponent = i32::from((a >> 4) & 0x07);
        let mantissa = i32::from(a & 0x0f);
        let magnitude = if exponent == 0 {
            (mantissa << 4) + 8
        } else {
            ((mantissa << 4) + 0x108) << (exponent - 1)
        };
        if a & 0x80 != 0 { magnitude } else { -magnitude }
    }

    #[test]
    fn g711_encoders_round_trip_within_their_step() {
        for s in (-32_000i32..32_000).step_by(37) {
            let sample = s as i16;
            let u = ulaw_to_linear(linear_to_ulaw(sample));
            let a = alaw_to_linear(linear_to_alaw(sample));
            // Each encoder's error stays within its segment's step size.
            let tolerance = (s.abs() / 16).max(16);
            assert!((u - s).abs() <= tolerance, "µ-law {s} -> {u}");
            assert!((a - s).abs() <= tolerance * 2, "A-law {s} -> {a}");
        }
        assert_eq!(linear_to_ulaw(0), 0xff);
    }

    #[test]
    fn offers_are_answered_with_g711_and_telephone_event() {
        let offer = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 20000 RTP/AVP 111 8 0 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n";
        let o = read_offer(offer).unwrap();
        assert_eq!(
            (o.remote.port(), o.pt, o.telephone_event),
            (20000, 0, Some(101))
        );
        let answer = answer_sdp("127.0.0.1".parse().unwrap(), 4000, &o);
        let text = std::str::from_utf8(&answer).unwrap();
        assert!(text.contains("m=audio 4000 RTP/AVP 0 101\r\n"), "{text}");
        let opus_only =
            b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 20000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n";
        assert!(read_offer(opus_only).is_none());
    }
}
