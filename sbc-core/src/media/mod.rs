//! Media: the legs that carry a call's RTP. `webrtc` is the browser's leg
//! (ICE-lite, DTLS-SRTP, one shared UDP port).

pub mod webrtc;
