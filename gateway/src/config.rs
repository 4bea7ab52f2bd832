//! The configuration contract: one optional TOML file (`gateway --config FILE`)
//! and `SBC_<SECTION>_<KEY>` environment variables, merged into one typed,
//! validated [`Config`].
//!
//! Every key is optional and has a default; an environment variable overrides
//! the file (`sip.t1_ms` is `SBC_SIP_T1_MS`; lists such as `sip.listen` are
//! comma-separated there). Unknown keys and unknown `SBC_*` variables are
//! errors, so a typo cannot silently fall back to a default. Relative paths are
//! relative to the working directory.
//!
//! ```
//! use gateway::config::{Config, SipTransport};
//! let file = "[sip]\nlisten = [\"tls:[::1]:5061\"]\n";
//! let env = [("SBC_PBX_URI", "sip:10.0.0.5:5060")];
//! let config = Config::from_sources(file, env, "192.0.2.10".parse().unwrap()).unwrap();
//! assert_eq!(config.sip.listen[0].transport, SipTransport::Tls);
//! assert_eq!(config.pbx.uri.as_deref(), Some("sip:10.0.0.5:5060"));
//! ```

mod build;
mod error;
mod host_ip;
mod listen;
mod print;
mod source;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::{ConfigError, Origin, Problem};
pub use host_ip::detect_public_ipv4;
pub use listen::{ParseListenError, SipListen, SipTransport};
pub use source::env_var;

/// The effective configuration of the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[http]`: the HTTPS listener.
    pub http: HttpConfig,
    /// `[sip]`: SIP listeners, timers and limits.
    pub sip: SipConfig,
    /// `[pbx]`: where browser calls go.
    pub pbx: PbxConfig,
    /// `[media]`: media addresses and ports.
    pub media: MediaConfig,
    /// `[auth]`: browser authentication.
    pub auth: AuthConfig,
    /// `[log]`: log output.
    pub log: LogConfig,
    /// `[shutdown]`: graceful drain.
    pub shutdown: ShutdownConfig,
    /// `[cdr]`: call records.
    pub cdr: CdrConfig,
    /// `[metrics]`: where else `/metrics` is served.
    pub metrics: MetricsConfig,
    /// `[admin]`: the admin API.
    pub admin: AdminConfig,
}

/// `[admin]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// `admin.token`: the bearer token of the admin API under `/admin/`
    /// (at least 16 bytes); `None` (the default) turns the API off.
    pub token: Option<Secret>,
}

/// `[metrics]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// `metrics.listen`: a plain-HTTP listener serving only `/metrics`
    /// (for a scraper on a private network); `None` (the default) serves
    /// it on the HTTPS listener only.
    pub listen: Option<SocketAddr>,
}

/// `[cdr]`: one JSON line per ended call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdrConfig {
    /// `cdr.path`: the file the records are appended to, `-` for standard
    /// output; `None` (the default) writes none.
    pub path: Option<PathBuf>,
}

/// `[shutdown]`: what SIGTERM does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownConfig {
    /// `shutdown.grace_secs`: after the first SIGTERM the gateway takes no
    /// new calls and lets calls in progress go on this long, default 300 s;
    /// then it ends them (BYE, `ended`). A second SIGTERM ends them at once.
    pub grace: Duration,
}

/// `[http]`: web client, `/ws`, `/metrics`, `/healthz` and the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// `http.listen`, default `0.0.0.0:8443`.
    pub listen: SocketAddr,
    /// `http.cert`: PEM certificate chain, default `certs/gateway.pem`.
    pub cert: PathBuf,
    /// `http.key`: PEM private key, default `certs/gateway-key.pem`.
    pub key: PathBuf,
    /// `http.resume_grace_secs`: how long a browser session whose socket
    /// dropped keeps its calls and registration for a resume, default 30 s.
    pub resume_grace: Duration,
}

/// `[sip]`: the SIP side of the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipConfig {
    /// `sip.listen`, default `["udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"]`.
    pub listen: Vec<SipListen>,
    /// `sip.tls_cert`: certificate of `tls:` listeners, default `http.cert`.
    pub tls_cert: PathBuf,
    /// `sip.tls_key`: key of `tls:` listeners, default `http.key`.
    pub tls_key: PathBuf,
    /// `sip.t1_ms`: RTT estimate T1, default 500 ms.
    pub t1: Duration,
    /// `sip.t2_ms`: maximum retransmit interval T2, default 4000 ms.
    pub t2: Duration,
    /// `sip.t4_ms`: maximum time a message stays in the network T4, default 5000 ms.
    pub t4: Duration,
    /// `sip.max_message_size`: largest accepted message in bytes, default 65535.
    pub max_message_size: usize,
    /// `sip.max_headers`: most header fields accepted in one message, default 128.
    pub max_headers: usize,
    /// `sip.tcp_idle_timeout_secs`: idle TCP/TLS connections are closed after this, default 120 s.
    pub tcp_idle_timeout: Duration,
    /// `sip.max_connections`: most concurrent TCP/TLS connections, default 1024.
    pub max_connections: usize,
    /// `sip.user_agent`: `User-Agent`/`Server` value, default `sbc-gateway/<version>`.
    pub user_agent: String,
    /// `sip.rate_limit_per_ip`: requests per second per source IP, default 200; `0` (`None`) is off.
    pub rate_limit_per_ip: Option<NonZeroU32>,
}

/// `[pbx]`: the PBX browser calls go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxConfig {
    /// `pbx.uri`, e.g. `sip:10.0.0.5:5060;transport=udp`; `None` starts the embedded demo PBX.
    pub uri: Option<String>,
    /// `pbx.username`: the user that answers the PBX's digest challenges to
    /// the gateway's INVITEs (trunk authentication); `None` answers none.
    pub username: Option<String>,
    /// `pbx.password`: that user's password.
    pub password: Option<Secret>,
    /// `pbx.header_allow`: which browser-supplied headers reach the PBX,
    /// as names or `Prefix*` patterns; default `["X-*"]`.
    pub header_allow: Vec<String>,
    /// `pbx.options_interval_secs`: how often the configured PBX is pinged
    /// with OPTIONS for `/readyz` and `sbc_pbx_up`, default 30 s; 0 is never.
    pub options_interval: Duration,
    /// `pbx.srtp`: media toward the PBX, default plain RTP.
    pub srtp: PbxMediaSecurity,
}

/// How media toward the PBX is protected (`pbx.srtp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PbxMediaSecurity {
    /// `off`: plain RTP (RTP/AVP) is offered; a PBX offer of SDES-SRTP is
    /// refused (488).
    Off,
    /// `sdes`: SDES-SRTP (RTP/SAVP with `a=crypto`, RFC 4568) is offered,
    /// so a PBX without it refuses the call; a PBX's offer may be either.
    Sdes,
}

impl PbxMediaSecurity {
    /// The `pbx.srtp` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PbxMediaSecurity::Off => "off",
            PbxMediaSecurity::Sdes => "sdes",
        }
    }
}

/// `[media]`: addresses and ports of both media legs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// `media.public_ip`: written into ICE candidates and browser-side SDP;
    /// default [`detect_public_ipv4`].
    pub public_ip: IpAddr,
    /// `media.webrtc_port`: the one UDP port of all browser legs, default 10000.
    pub webrtc_port: u16,
    /// `media.rtp_ports`: SIP-side RTP/RTCP ports, default `"20000-29999"`.
    pub rtp_ports: RangeInclusive<u16>,
    /// `media.sip_ip`: written into PBX-side SDP; `None` means the address the
    /// SIP leg toward the PBX leaves from.
    pub sip_ip: Option<IpAddr>,
    /// `media.timeout_secs`: a call whose PBX side sends no RTP for this long
    /// is ended, default 60 s.
    pub timeout: Duration,
}

/// `[auth]`: browser authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// `auth.token_secret`: HMAC secret of browser tokens; `None` is no authentication.
    pub token_secret: Option<Secret>,
}

/// `[log]`: log output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `log.format`: `text` (default) or `json`.
    pub format: LogFormat,
    /// `log.level`: a `tracing` filter such as `info` or `info,gateway=debug`; default `info`.
    /// `RUST_LOG`, when set, wins.
    pub level: String,
    /// `log.redact`: mask phone numbers, SIP URIs and IP addresses in logs; default `true`.
    pub redact: bool,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The `log.format` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// A secret value: its `Debug` prints `<redacted>` and it has no `Display`, so
/// it cannot end up in a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Config {
    /// Loads the configuration: defaults, then the file at `path` if given,
    /// then the `SBC_*` variables of `env` (pass [`process_env`] in `main`).
    pub fn load<I, K, V>(path: Option<&Path>, env: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let text = match path {
            Some(path) => std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?,
            None => String::new(),
        };
        Config::from_sources(&text, env, detect_public_ipv4())
    }

    /// Builds the configuration from the text of a TOML file (empty for none),
    /// environment variables and the address `media.public_ip` defaults to.
    /// Reads nothing from the process: what tests use.
    pub fn from_sources<I, K, V>(
        toml: &str,
        env: I,
        default_public_ip: IpAddr,
    ) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut source = source::Source::from_toml(toml)?;
        source.apply_env(env)?;
        build::build(&source, default_public_ip)
    }

    /// The effective configuration as a TOML document (`--print-config`), with
    /// secrets replaced by `<redacted>`. Without secrets, [`Config::from_sources`]
    /// reads it back to an equal `Config`.
    pub fn to_toml(&self) -> String {
        print::to_toml(self)
    }
}

/// The process environment as `(name, value)` pairs, non-UTF-8 bytes replaced,
/// so that a mangled `SBC_*` value is reported rather than skipped.
pub fn process_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().map(|(name, value)| {
        (
            name.to_string_lossy().into_owned(),
            value.to_string_lossy().into_owned(),
        )
    })
}
