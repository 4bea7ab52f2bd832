//! The SDP work of the load generator's signaling: where the relay wants
//! the PBX's RTP (the audio section's port on its connection address, from
//! the relay's PBX offer), the PBX's answer (PCMU only, plain RTP/AVP, RTCP
//! on the port the answer names), and the BUNDLE group str0m requires in
//! the browser's answer.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

/// The RTP address of the first audio section of `sdp`: its port, on the
/// section's `c=` address or else the session's.
pub fn audio_addr(sdp: &str) -> Option<SocketAddr> {
    let mut session_ip = None;
    let mut media_ip = None;
    let mut port = None;
    // None: the session part; Some(true): the first audio section.
    let mut section: Option<bool> = None;
    for line in sdp.lines().map(str::trim_end) {
        if let Some(m) = line.strip_prefix("m=") {
            if port.is_some() {
                break;
            }
            let audio = m.starts_with("audio ");
            if audio {
                port = m.split(' ').nth(1)?.parse::<u16>().ok();
            }
            section = Some(audio);
        } else if let Some(c) = line.strip_prefix("c=") {
            match section {
                None => session_ip = connection_ip(c),
                Some(true) => media_ip = connection_ip(c),
                Some(false) => {}
            }
        }
    }
    Some(SocketAddr::new(media_ip.or(session_ip)?, port?))
}

/// The address of a `c=` line's value (`IN IP4 127.0.0.1`).
fn connection_ip(value: &str) -> Option<IpAddr> {
    value.split(' ').nth(2)?.parse().ok()
}

/// The PBX's answer: PCMU (payload type 0) from `rtp`, RTCP on
/// `rtcp_port`, 20 ms frames, send and receive, and the SSRC the PBX sends
/// with. (A browser takes an unsignalled SSRC on a lone audio section;
/// str0m maps a stream only by `a=ssrc` or the `mid` header extension, and
/// a plain RTP PBX sends no extensions.)
pub fn pbx_answer(rtp: SocketAddr, rtcp_port: u16, ssrc: u32) -> String {
    let ip = rtp.ip();
    let port = rtp.port();
    format!(
        "v=0\r\no=pbx {ssrc} 1 IN IP4 {ip}\r\ns=pbx\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:{rtcp_port}\r\n\
         a=ptime:20\r\na=ssrc:{ssrc} cname:pbx{ssrc}\r\na=sendrecv\r\n"
    )
}

/// `answer` with a session-level `a=group:BUNDLE <mid>` if it has no
/// BUNDLE group. rtpengine 10.5 drops the offer's group and cannot add one
/// (no `sdp-attr`); str0m, playing the browser, refuses an answer without
/// it. With one media section there is nothing to bundle: the line changes
/// no transport, only lets str0m take the answer.
pub fn with_bundle<'a>(answer: &'a str, mid: &str) -> Cow<'a, str> {
    if answer.lines().any(|l| l.starts_with("a=group:BUNDLE")) {
        return Cow::Borrowed(answer);
    }
    let Some(m) = answer.find("\r\nm=") else {
        return Cow::Borrowed(answer);
    };
    let at = m + 2;
    Cow::Owned(format!(
        "{}a=group:BUNDLE {mid}\r\n{}",
        &answer[..at],
        &answer[at..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_audio_address() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                   m=audio 26000 RTP/AVP 0\r\na=rtcp:26001\r\n";
        assert_eq!(audio_addr(sdp), Some("127.0.0.1:26000".parse().unwrap()));
        let media_level = "v=0\r\nc=IN IP4 127.0.0.2\r\nm=audio 40 RTP/AVP 0\r\n\
                           c=IN IP4 127.0.0.3\r\nm=audio 50 RTP/AVP 0\r\n";
        assert_eq!(
            audio_addr(media_level),
            Some("127.0.0.3:40".parse().unwrap())
        );
        assert_eq!(audio_addr("v=0\r\nm=audio 40 RTP/AVP 0\r\n"), None);
        assert_eq!(audio_addr("v=0\r\nc=IN IP4 1.2.3.4\r\n"), None);
    }

    #[test]
    fn adds_a_bundle_group_only_when_missing() {
        let a = "v=0\r\nt=0 0\r\nm=audio 1 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n";
        assert_eq!(
            with_bundle(a, "0"),
            "v=0\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 1 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
        );
        let bundled = with_bundle(a, "0").into_owned();
        assert_eq!(with_bundle(&bundled, "0"), bundled);
    }

    #[test]
    fn answers_pcmu() {
        let a = pbx_answer("127.0.0.1:5000".parse().unwrap(), 5001, 7);
        assert!(a.contains("m=audio 5000 RTP/AVP 0\r\n"));
        assert!(a.contains("a=rtcp:5001\r\n"));
        assert!(a.contains("a=ssrc:7 cname:pbx7\r\n"));
        assert_eq!(audio_addr(&a), Some("127.0.0.1:5000".parse().unwrap()));
    }
}
