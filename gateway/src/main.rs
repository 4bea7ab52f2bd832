//! The `gateway` binary: parses the command line, loads the configuration,
//! sets up logging and starts the runtime. All of it lives in the library.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use gateway::cli::Cli;
use gateway::config::{self, Config};
use gateway::logging;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // A configuration or start-up error is the operator's to fix: the
            // cause chain on one line, no backtrace.
            eprintln!("gateway: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref(), config::process_env()).with_context(|| {
        match &cli.config {
            Some(path) => format!("invalid configuration ({})", path.display()),
            None => "invalid configuration".to_owned(),
        }
    })?;
    if cli.print_config {
        print!("{}", config.to_toml());
        return Ok(());
    }
    logging::init(&config.log).context("cannot set up logging")?;

    tracing::info!(version = env!("CARGO_PKG_VERSION"), "sbc-gateway starting");
    tracing::info!(listen = %config.http.listen, "HTTPS listener");
    for listen in &config.sip.listen {
        tracing::info!(%listen, "SIP listener");
    }
    let ports = &config.media.rtp_ports;
    tracing::info!(
        public_ip = %config.media.public_ip,
        webrtc_port = config.media.webrtc_port,
        rtp_ports = format_args!("{}-{}", ports.start(), ports.end()),
        "media addresses"
    );
    match &config.pbx.uri {
        Some(uri) => tracing::info!(pbx = %uri, "browser calls go to the configured PBX"),
        None => tracing::info!("pbx.uri unset: browser calls go to the embedded demo PBX"),
    }
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    tokio.block_on(serve(config))
}

/// Starts the gateway and serves until SIGTERM or Ctrl-C, then drains:
/// no new calls, calls in progress go on until they end, the grace period
/// (`shutdown.grace_secs`) is over or a second signal comes; the rest are
/// ended cleanly before the process exits.
async fn serve(config: Config) -> anyhow::Result<()> {
    let app = gateway::app::start(&config).await?;
    tracing::info!(
        url = %format_args!("https://{}/", app.http.local_addr),
        "ready: open the web client and call 600 (echo) or 601 (tone) on the demo PBX"
    );
    wait_for_signal().await;
    app.drain();
    let grace = config.shutdown.grace;
    tracing::info!(
        calls = app.calls_active(),
        grace_secs = grace.as_secs(),
        "SIGTERM: draining"
    );
    tokio::select! {
        () = calls_gone(&app, grace) => {}
        () = wait_for_signal() => tracing::info!("second signal: ending the calls now"),
    }
    if app.calls_active() > 0 {
        tracing::info!(calls = app.calls_active(), "ending the calls still up");
        app.end_all_calls();
        calls_gone(&app, END_CALLS_WAIT).await;
        // The BYEs are out; give their answers a moment.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    tracing::info!("stopping");
    app.stop().await;
    Ok(())
}

/// How long the calls ended at the end of a drain may take to say BYE.
const END_CALLS_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Returns once no call is up, or after `limit`.
async fn calls_gone(app: &gateway::app::App, limit: std::time::Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while app.calls_active() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
