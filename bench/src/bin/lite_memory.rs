//! Memory of the str0m-free transport: `cargo run --release -p sbc-bench
//! --bin lite_memory -- --calls N --linger S`. Prints the bytes one call's
//! ICE-lite responder and DTLS endpoint hold, made, connected, and with the
//! handshake state released, next to two SRTP contexts, and what a full leg
//! of these parts would come to against the 50 KB goal. Method:
//! `sbc_bench::lite` and `docs/benchmarks.md`.

use std::time::Duration;

use clap::Parser;
use sbc_bench::CountingAlloc;
use sbc_bench::lite;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Goal: bytes per call (50 KB, read as 50,000 bytes).
const GOAL_BYTES: f64 = 50_000.0;

#[derive(Parser, Debug)]
#[command(about = "Bytes per call of the str0m-free ICE-lite + DTLS-SRTP transport")]
struct Args {
    /// Calls kept alive at once.
    #[arg(long, default_value_t = 100)]
    calls: usize,
    /// Seconds of virtual time each call runs after connecting (consent
    /// checks arrive meanwhile).
    #[arg(long, default_value_t = 10)]
    linger: u64,
}

fn main() {
    let args = Args::parse();
    assert!(args.calls > 0, "--calls must be > 0");
    let r = lite::run(args.calls, Duration::from_secs(args.linger));
    println!(
        "{} calls against str0m browsers, {} s of consent checks after connecting",
        r.calls, args.linger
    );
    println!(
        "inline: IceLite {} B, DtlsEndpoint {} B",
        r.ice_inline, r.dtls_inline
    );
    println!(
        "making one leg's transport: {:.1} µs (mean, wall clock)",
        r.setup.as_secs_f64() * 1e6
    );
    println!("bytes per call (Rust heap, requested sizes):");
    println!(
        "  ICE-lite + DTLS, made                     {:>8.0}",
        r.at_creation
    );
    println!(
        "  ICE-lite + DTLS, connected                {:>8.0}",
        r.connected
    );
    println!(
        "  ICE-lite + DTLS, handshake state released {:>8.0}",
        r.released
    );
    println!(
        "  two AES-CM SRTP contexts                  {:>8.0}",
        r.two_srtp_contexts
    );
    for (what, bytes) in [("kept", r.connected), ("released", r.released)] {
        let leg = bytes + r.two_srtp_contexts;
        let verdict = if leg <= GOAL_BYTES { "under" } else { "over" };
        println!(
            "  transport + SRTP, DTLS {what:<8}            {leg:>8.0}  ({verdict} the 50 KB goal)"
        );
    }
}
