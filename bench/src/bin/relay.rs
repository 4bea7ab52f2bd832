//! The relay benchmark: `cargo run --release -p sbc-bench --bin relay --
//! --calls N --seconds S`. N calls through the gateway's media path on a
//! virtual clock, 50 packets/s each way per call, once with SRTP on the
//! browser side and once with plain RTP on both sides; prints packets per
//! second per core, nanoseconds per packet and bytes per call, and checks
//! them against the goals. Method: `docs/benchmarks.md`.

use clap::Parser;
use sbc_bench::CountingAlloc;
use sbc_bench::relay::{self, RelayConfig, RelayReport, ns_per};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Goal: relayed packets per second per core.
const GOAL_PPS: f64 = 300_000.0;
/// Goal: bytes per call (50 KB, read as 50,000 bytes).
const GOAL_BYTES: f64 = 50_000.0;

#[derive(Parser, Debug)]
#[command(about = "Relay benchmark of the gateway's media path (single thread, virtual clock)")]
struct Args {
    /// Calls relayed at once.
    #[arg(long, default_value_t = 100)]
    calls: usize,
    /// Seconds of virtual time measured (after 1 s of warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Which setups to run.
    #[arg(long, value_enum, default_value_t = Mode::Both)]
    mode: Mode,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Srtp,
    Plain,
    Both,
}

fn main() {
    let args = Args::parse();
    assert!(
        args.calls > 0 && args.seconds > 0,
        "--calls and --seconds must be > 0"
    );
    let config = RelayConfig {
        calls: args.calls,
        seconds: args.seconds,
    };
    let mut reports = Vec::new();
    if args.mode != Mode::Plain {
        reports.push(("SRTP browser side", relay::srtp::run(config)));
    }
    if args.mode != Mode::Srtp {
        reports.push(("plain RTP both sides", relay::plain::run(config)));
    }
    print_table(&config, &reports);
}

fn print_table(config: &RelayConfig, reports: &[(&str, RelayReport)]) {
    println!(
        "relay: {} calls, {} s of virtual time (+1 s warm-up), 50 packets/s each way per call, \
         payloads 80-160 bytes; one thread; timed: the gateway's work only",
        config.calls, config.seconds
    );
    println!();
    print!("{:<34}", "");
    for (name, _) in reports {
        print!("{name:>22}");
    }
    println!();
    let row = |label: &str, f: &dyn Fn(&RelayReport) -> String| {
        print!("{label:<34}");
        for (_, r) in reports {
            print!("{:>22}", f(r));
        }
        println!();
    };
    row("packets relayed", &|r| r.relayed().to_string());
    row("  browser -> PBX", &|r| r.browser_to_pbx.to_string());
    row("  PBX -> browser", &|r| r.pbx_to_browser.to_string());
    row("  lost or wrong on arrival", &|r| r.lost.to_string());
    row("gateway time (ms)", &|r| {
        format!("{:.1}", r.timed.total().as_secs_f64() * 1e3)
    });
    row("relayed packets/s per core", &|r| {
        format!("{:.0}", r.packets_per_second())
    });
    row("ns/packet, both directions", &|r| {
        format!("{:.0}", r.ns_per_packet())
    });
    row("  browser -> PBX (ns/packet)", &|r| {
        format!("{:.0}", ns_per(r.timed.browser_to_pbx, r.browser_to_pbx))
    });
    row("  PBX -> browser (ns/packet)", &|r| {
        format!("{:.0}", ns_per(r.timed.pbx_to_browser, r.pbx_to_browser))
    });
    row("  timers (ns per relayed packet)", &|r| {
        format!("{:.0}", ns_per(r.timed.timers, r.relayed()))
    });
    row("bytes/call at creation", &|r| {
        format!("{:.0}", r.bytes_per_call_created)
    });
    row("bytes/call after the run", &|r| {
        format!("{:.0}", r.bytes_per_call_after)
    });
    row("SRTP profile", &|r| {
        r.srtp_profile.clone().unwrap_or_else(|| "-".into())
    });
    println!();
    println!("goals:");
    for (name, r) in reports {
        let pps = r.packets_per_second();
        let bytes = r.bytes_per_call_created.max(r.bytes_per_call_after);
        println!(
            "  {name}: >= 300,000 relayed packets/s per core: {} ({pps:.0})",
            met(pps >= GOAL_PPS)
        );
        println!(
            "  {name}: <= 50 KB (50,000 bytes) per call: {} ({bytes:.0})",
            met(bytes <= GOAL_BYTES)
        );
    }
    if reports.iter().any(|(_, r)| r.lost > 0) {
        println!("WARNING: some relayed packets did not arrive intact; figures are suspect");
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}
