//! The workload of `--bin relay_vs_rtpengine`: our media relay against
//! rtpengine, on the same machine, in the same run, under the same load.
//!
//! Each relay runs as a child process ([`relays`]): rtpengine in userspace,
//! and the gateway's media runtime hosted by the benchmark binary's
//! `serve-ours` subcommand ([`host`]). Both are driven over the same NG
//! control protocol ([`ng`], [`bencode`]) by the same load generator
//! ([`load`]): per call a str0m browser ([`browser`]) doing ICE and
//! DTLS-SRTP on its own UDP socket and a PBX sending plain RTP/AVP
//! ([`sdp`]), 50 PCMU packets/s each way. The relays' CPU time and memory
//! are read from `/proc` ([`proc_stat`]), so the generator's own work is
//! not in their figures. Method and figures: `docs/benchmarks.md`.

pub mod bencode;
pub mod browser;
pub mod host;
pub mod load;
pub mod ng;
pub mod proc_stat;
pub mod relays;
pub mod sdp;
