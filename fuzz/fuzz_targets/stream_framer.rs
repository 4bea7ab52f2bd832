//! Fuzz target: a TCP/TLS byte stream through `framing::StreamFramer`.
//!
//! The first byte says how the rest is fed: its low three bits plus one is
//! the number of chunk-size bytes that follow (each chunk is that byte plus
//! one long, in rotation), and its top bit selects small limits (512 bytes,
//! 8 headers) so the limit paths are reached too. Every frame must hold
//! exactly one message that parses, and nothing is framed twice or lost.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbc_core::sip::Limits;
use sbc_core::sip::framing::{Frame, StreamFramer};

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(control & 7) + 1;
    if rest.len() < n {
        return;
    }
    let (sizes, mut stream) = rest.split_at(n);
    let limits = if control & 0x80 != 0 {
        Limits {
            max_message_size: 512,
            max_headers: 8,
        }
    } else {
        Limits::default()
    };
    let mut framer = StreamFramer::new(limits);
    let mut framed = 0;
    let mut i = 0;
    while !stream.is_empty() {
        let size = (usize::from(sizes[i % n]) + 1).min(stream.len());
        let (chunk, tail) = stream.split_at(size);
        stream = tail;
        i += 1;
        if framer.push(chunk).is_err() {
            return;
        }
        loop {
            match framer.poll_frame() {
                Ok(Some(Frame::Message(f))) => {
                    assert!(f.len() <= limits.max_message_size);
                    framed += f.len();
                    sbc_core_fuzz::check_frame(&f, &limits);
                }
                Ok(Some(Frame::KeepAlive { ping })) => framed += if ping { 4 } else { 1 },
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    assert!(
        framed <= data.len() - 1 - n,
        "framed more bytes than were fed"
    );
});
