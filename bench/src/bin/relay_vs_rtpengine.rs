//! Our media relay against rtpengine: `cargo run --release -p sbc-bench
//! --bin relay_vs_rtpengine -- --calls N --seconds S`. Starts each relay as
//! a child process (rtpengine in userspace; the gateway's media runtime in
//! this binary's `serve-ours` subcommand), sets up N WebRTC ⇄ RTP calls
//! through it, sends 50 PCMU packets/s each way per call for S seconds,
//! and prints each relay's CPU per packet, packets/s per core, memory per
//! call and delivery, with the ratios ours/rtpengine. One relay at a time,
//! alternating the order round by round (`--rounds`). Ends with one
//! `RESULT` line per run for scripts. Method: `docs/benchmarks.md`.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use sbc_bench::versus::host;
use sbc_bench::versus::load::{self, Counts, FRAME, LoadConfig, PAYLOAD, RunReport, SocketDrops};
use sbc_bench::versus::proc_stat::UdpDrops;
use sbc_bench::versus::relays::{Relay, RelayProcess};
use std::ops::RangeInclusive;
use std::process::Command;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    about = "Our media relay against rtpengine: WebRTC (DTLS-SRTP) <-> plain RTP, same load, same machine",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    serve: Option<Serve>,
    #[command(flatten)]
    args: Args,
}

#[derive(Subcommand, Debug)]
enum Serve {
    /// Hosts our media runtime for the benchmark, which starts it itself.
    #[command(hide = true)]
    ServeOurs {
        /// RTP ports (`first-last`).
        #[arg(long, value_parser = port_range)]
        rtp_ports: RangeInclusive<u16>,
    },
}

#[derive(clap::Args, Debug)]
struct Args {
    /// Calls through each relay at once.
    #[arg(long, default_value_t = 50)]
    calls: usize,
    /// Seconds of media measured (after the warm-up).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Milliseconds of media before the measured window.
    #[arg(long, default_value_t = 1000)]
    warmup_ms: u64,
    /// Runs of each relay, alternating which goes first.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// The rtpengine executable.
    #[arg(long, default_value = "rtpengine")]
    rtpengine: String,
    /// RTP ports of our relay (two per call).
    #[arg(long, value_parser = port_range, default_value = "20000-24999")]
    ours_ports: RangeInclusive<u16>,
    /// RTP ports of rtpengine (four per call).
    #[arg(long, value_parser = port_range, default_value = "25000-29999")]
    rtpengine_ports: RangeInclusive<u16>,
}

fn port_range(s: &str) -> Result<RangeInclusive<u16>, String> {
    let (a, b) = s.split_once('-').ok_or("expected first-last")?;
    let a: u16 = a.parse().map_err(|e| format!("{a}: {e}"))?;
    let b: u16 = b.parse().map_err(|e| format!("{b}: {e}"))?;
    if a == 0 || a > b {
        return Err("expected 0 < first <= last".into());
    }
    Ok(a..=b)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Serve::ServeOurs { rtp_ports }) = cli.serve {
        return host::run(rtp_ports).context("serve-ours");
    }
    let args = cli.args;
    if args.calls == 0 || args.seconds == 0 || args.rounds == 0 {
        bail!("--calls, --seconds and --rounds must be > 0");
    }
    let ports = |r: &RangeInclusive<u16>| usize::from(r.end() - r.start()) + 1;
    if ports(&args.ours_ports) < 2 * args.calls || ports(&args.rtpengine_ports) < 4 * args.calls {
        bail!("the port ranges are too small for {} calls", args.calls);
    }
    let config = LoadConfig {
        calls: args.calls,
        warmup: Duration::from_millis(args.warmup_ms),
        measured: Duration::from_secs(args.seconds),
        drain: Duration::from_millis(500),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let load_before = load_average();
    let runs = runtime.block_on(compare(&args, &config))?;
    print_table(&args, &runs);
    println!(
        "machine load average (1 min): {load_before} before, {} after",
        load_average()
    );
    for (relay, r) in &runs {
        print_result(*relay, r);
    }
    Ok(())
}

/// Every round: each relay started, loaded, stopped, one after the other.
async fn compare(args: &Args, config: &LoadConfig) -> anyhow::Result<Vec<(Relay, RunReport)>> {
    let exe = std::env::current_exe().context("finding this binary")?;
    let log_dir = std::env::temp_dir().join(format!("relay_vs_rtpengine-{}", std::process::id()));
    std::fs::create_dir_all(&log_dir)?;
    let mut runs = Vec::new();
    for round in 0..args.rounds {
        let order = if round % 2 == 0 {
            [Relay::Rtpengine, Relay::Ours]
        } else {
            [Relay::Ours, Relay::Rtpengine]
        };
        for relay in order {
            let process = match relay {
                Relay::Rtpengine => {
                    RelayProcess::rtpengine(&args.rtpengine, args.rtpengine_ports.clone(), &log_dir)
                        .await?
                }
                Relay::Ours => RelayProcess::ours(&exe, args.ours_ports.clone()).await?,
            };
            eprintln!(
                "round {}/{}: {relay} (pid {}), {} calls, {} s",
                round + 1,
                args.rounds,
                process.pid(),
                config.calls,
                args.seconds
            );
            let report = load::run(&process, config)
                .await
                .with_context(|| format!("{relay}{}", process.log_tail()))?;
            runs.push((relay, report));
        }
    }
    let _ = std::fs::remove_dir_all(&log_dir);
    Ok(runs)
}

/// One relay's runs added up.
struct Totals {
    runs: usize,
    total: Counts,
    window: Counts,
    relay_cpu: f64,
    generator_cpu: f64,
    wall: f64,
    setup: f64,
    idle_rss: f64,
    rss_per_call: f64,
    threads: u64,
    srtp_tag: Option<u64>,
    crypto_suite: Option<String>,
    udp: UdpDrops,
    socket_drops: SocketDrops,
}

impl Totals {
    fn of(relay: Relay, runs: &[(Relay, RunReport)]) -> Totals {
        let mine: Vec<&RunReport> = runs
            .iter()
            .filter(|(r, _)| *r == relay)
            .map(|(_, r)| r)
            .collect();
        let n = mine.len().max(1) as f64;
        let mut t = Totals {
            runs: mine.len(),
            total: Counts::default(),
            window: Counts::default(),
            relay_cpu: 0.0,
            generator_cpu: 0.0,
            wall: 0.0,
            setup: 0.0,
            idle_rss: 0.0,
            rss_per_call: 0.0,
            threads: 0,
            srtp_tag: None,
            crypto_suite: None,
            udp: UdpDrops::default(),
            socket_drops: SocketDrops::default(),
        };
        for r in mine {
            add(&mut t.total, &r.total);
            add(&mut t.window, &r.window());
            t.relay_cpu += r.relay_cpu().as_secs_f64();
            t.generator_cpu += r.generator_cpu().as_secs_f64();
            t.wall += r.wall().as_secs_f64();
            t.setup += r.setup.as_secs_f64() / n;
            t.idle_rss += r.idle.rss as f64 / n;
            t.rss_per_call += r.rss_per_call() / n;
            t.threads = t.threads.max(r.end.relay.threads);
            t.srtp_tag = t.srtp_tag.or(r.srtp_tag);
            t.crypto_suite = t.crypto_suite.take().or(r.crypto_suite.clone());
            t.udp.rcvbuf_errors += r.udp_drops.rcvbuf_errors;
            t.udp.no_ports += r.udp_drops.no_ports;
            t.udp.in_errors += r.udp_drops.in_errors;
            t.socket_drops.relay += r.socket_drops.relay;
            t.socket_drops.generator += r.socket_drops.generator;
        }
        t
    }

    /// NaN when no CPU time was measured (below /proc's 10 ms).
    fn cpu_us_per_packet(&self) -> f64 {
        if self.relay_cpu == 0.0 {
            return f64::NAN;
        }
        self.relay_cpu * 1e6 / self.window.relayed().max(1) as f64
    }

    /// NaN when no CPU time was measured.
    fn packets_per_core_second(&self) -> f64 {
        self.window.relayed() as f64 / self.relay_cpu
    }

    fn delivered(&self) -> f64 {
        100.0 * self.total.relayed() as f64
            / (self.total.browser_sent + self.total.pbx_sent).max(1) as f64
    }
}

/// `x` with `decimals`, or `-` when it is not a number (no CPU measured).
fn finite(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "-".into()
    }
}

fn add(sum: &mut Counts, c: &Counts) {
    sum.browser_sent += c.browser_sent;
    sum.pbx_received += c.pbx_received;
    sum.pbx_sent += c.pbx_sent;
    sum.browser_received += c.browser_received;
    sum.wrong += c.wrong;
    sum.errors += c.errors;
}

/// The 1-minute load average, as `/proc/loadavg` has it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn rtpengine_version(executable: &str) -> String {
    Command::new(executable)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&[o.stdout, o.stderr].concat()).to_string())
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.trim().strip_prefix("Version: ").map(str::to_string))
        })
        .unwrap_or_else(|| "(version unknown)".into())
}

fn print_table(args: &Args, runs: &[(Relay, RunReport)]) {
    let ours = Totals::of(Relay::Ours, runs);
    let theirs = Totals::of(Relay::Rtpengine, runs);
    println!(
        "relay_vs_rtpengine: {} calls, {} s measured after {} ms of warm-up, {} round(s) per relay",
        args.calls, args.seconds, args.warmup_ms, args.rounds
    );
    println!(
        "per call: browser (str0m, ICE + DTLS-SRTP) <-> relay <-> PBX (plain RTP/AVP); PCMU, \
         {PAYLOAD}-byte payloads, one packet every {} ms each way",
        FRAME.as_millis()
    );
    println!(
        "rtpengine {} (userspace, --table=-1); ours: gateway::runtime::media in a child process \
         (tokio, one worker per core); the load generator runs in this process, outside the figures",
        rtpengine_version(&args.rtpengine)
    );
    println!();
    println!(
        "{:<44}{:>18}{:>18}{:>16}",
        "", "rtpengine", "ours", "ours/rtpengine"
    );
    let row = |label: &str, f: &dyn Fn(&Totals) -> String, ratio: Option<fn(&Totals) -> f64>| {
        let ratio = ratio.map_or(String::new(), |g| {
            let r = g(&ours) / g(&theirs);
            if r.is_finite() {
                format!("{r:.2}")
            } else {
                "-".into()
            }
        });
        println!("{label:<44}{:>18}{:>18}{ratio:>16}", f(&theirs), f(&ours));
    };
    row("runs", &|t| t.runs.to_string(), None);
    row(
        "set-up: offer to every browser connected (ms)",
        &|t| format!("{:.0}", t.setup * 1e3),
        None,
    );
    row(
        "packets sent browser -> PBX",
        &|t| t.total.browser_sent.to_string(),
        None,
    );
    row(
        "  delivered to the PBX",
        &|t| t.total.pbx_received.to_string(),
        None,
    );
    row(
        "packets sent PBX -> browser",
        &|t| t.total.pbx_sent.to_string(),
        None,
    );
    row(
        "  delivered to the browser",
        &|t| t.total.browser_received.to_string(),
        None,
    );
    row(
        "delivered (%)",
        &|t| format!("{:.3}", t.delivered()),
        Some(Totals::delivered),
    );
    row(
        "wrong arrivals / generator errors",
        &|t| format!("{} / {}", t.total.wrong, t.total.errors),
        None,
    );
    row(
        "receive-buffer drops: relay / generator",
        &|t| format!("{} / {}", t.socket_drops.relay, t.socket_drops.generator),
        None,
    );
    row(
        "UDP drops in the namespace: buffer / no port",
        &|t| format!("{} / {}", t.udp.rcvbuf_errors, t.udp.no_ports),
        None,
    );
    row(
        "SRTP profile, as the relay reports it",
        &|t| t.crypto_suite.clone().unwrap_or_else(|| "-".into()),
        None,
    );
    row(
        "SRTP tag bytes seen by the browser",
        &|t| t.srtp_tag.map_or("-".into(), |n| n.to_string()),
        None,
    );
    row(
        "packets relayed in the window",
        &|t| t.window.relayed().to_string(),
        None,
    );
    row(
        "relay CPU in the window (s)",
        &|t| format!("{:.2}", t.relay_cpu),
        Some(|t| t.relay_cpu),
    );
    row(
        "  relay CPU load (% of one core)",
        &|t| format!("{:.1}", 100.0 * t.relay_cpu / t.wall.max(1e-9)),
        None,
    );
    row(
        "CPU us per relayed packet",
        &|t| finite(t.cpu_us_per_packet(), 2),
        Some(Totals::cpu_us_per_packet),
    );
    row(
        "relayed packets/s per core",
        &|t| finite(t.packets_per_core_second(), 0),
        Some(Totals::packets_per_core_second),
    );
    row(
        "RSS before the calls (KiB)",
        &|t| format!("{:.0}", t.idle_rss / 1024.0),
        None,
    );
    row(
        "RSS growth per call (bytes)",
        &|t| format!("{:.0}", t.rss_per_call),
        Some(|t| t.rss_per_call),
    );
    row("relay threads", &|t| t.threads.to_string(), None);
    row(
        "load generator CPU in the window (s)",
        &|t| format!("{:.2}", t.generator_cpu),
        None,
    );
    println!();
    println!(
        "ratios: for CPU and memory, below 1 favours ours; for packets/s per core and \
         delivered, above 1 does."
    );
    if ours.total.wrong + theirs.total.wrong + ours.total.errors + theirs.total.errors > 0 {
        println!("WARNING: wrong arrivals or generator errors; the figures are suspect");
        for (relay, r) in runs {
            if let Some(e) = &r.first_error {
                println!("  {relay}: first generator error: {e}");
            }
        }
    }
}

fn print_result(relay: Relay, r: &RunReport) {
    let t = &r.total;
    println!(
        "RESULT relay={relay} calls={} browser_sent={} pbx_received={} pbx_sent={} \
         browser_received={} wrong={} errors={} relay_cpu_ms={} relayed_in_window={}",
        r.calls,
        t.browser_sent,
        t.pbx_received,
        t.pbx_sent,
        t.browser_received,
        t.wrong,
        t.errors,
        r.relay_cpu().as_millis(),
        r.window().relayed()
    );
}
