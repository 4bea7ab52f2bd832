//! Turns raw values into the typed [`Config`]: defaults for what is unset,
//! parsing and range checks for what is set, then checks across keys.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use super::error::{ConfigError, Problem};
use super::source::Source;
use super::{
    AdminConfig, AuthConfig, CdrConfig, Config, HttpConfig, LogConfig, LogFormat, MediaConfig,
    MetricsConfig, PbxConfig, PbxMediaSecurity, Secret, ShutdownConfig, SipConfig, SipListen,
};

/// Shortest accepted `auth.token_secret`, in bytes (128 bits of HMAC key).
const MIN_SECRET_LEN: usize = 16;
/// Largest accepted `sip.max_message_size`: 16 MiB.
const MAX_MESSAGE_SIZE: u64 = 16 * 1024 * 1024;

pub(super) fn build(src: &Source, default_public_ip: IpAddr) -> Result<Config, ConfigError> {
    let http = http(src)?;
    let sip = sip(src, &http)?;
    let config = Config {
        pbx: PbxConfig {
            uri: src.str("pbx.uri")?.map(|u| sip_uri(src, u)).transpose()?,
            username: src
                .str("pbx.username")?
                .map(|u| wire_text(src, "pbx.username", u))
                .transpose()?,
            password: src.str("pbx.password")?.map(Secret::new),
            header_allow: match src.list("pbx.header_allow")? {
                Some(patterns) => header_patterns(src, &patterns)?,
                None => vec!["X-*".to_owned()],
            },
            options_interval: Duration::from_secs(bounded(
                src,
                "pbx.options_interval_secs",
                30,
                86_400,
            )?),
            srtp: match src.str("pbx.srtp")? {
                None => PbxMediaSecurity::Off,
                Some(text) => match text.trim().to_ascii_lowercase().as_str() {
                    "off" => PbxMediaSecurity::Off,
                    "sdes" => PbxMediaSecurity::Sdes,
                    _ => return Err(src.invalid("pbx.srtp", Problem::UnknownPbxSrtp)),
                },
            },
        },
        media: media(src, default_public_ip)?,
        auth: AuthConfig {
            token_secret: src
                .str("auth.token_secret")?
                .map(|s| secret(src, s))
                .transpose()?,
        },
        log: log(src)?,
        admin: AdminConfig {
            token: src
                .str("admin.token")?
                .map(|t| {
                    if t.len() < MIN_SECRET_LEN {
                        let min = MIN_SECRET_LEN;
                        return Err(src.invalid("admin.token", Problem::SecretTooShort { min }));
                    }
                    Ok(Secret::new(t))
                })
                .transpose()?,
        },
        metrics: MetricsConfig {
            listen: src
                .str("metrics.listen")?
                .map(|t| socket_addr(src, "metrics.listen", t))
                .transpose()?,
        },
        cdr: CdrConfig {
            path: optional_path(src, "cdr.path")?,
        },
        shutdown: ShutdownConfig {
            grace: Duration::from_secs(bounded(src, "shutdown.grace_secs", 300, 86_400)?),
        },
        http,
        sip,
    };
    cross_checks(&config)?;
    Ok(config)
}

fn http(src: &Source) -> Result<HttpConfig, ConfigError> {
    Ok(HttpConfig {
        listen: match src.str("http.listen")? {
            Some(text) => socket_addr(src, "http.listen", text)?,
            None => SocketAddr::from(([0, 0, 0, 0], 8443)),
        },
        cert: path(src, "http.cert", "certs/gateway.pem")?,
        key: path(src, "http.key", "certs/gateway-key.pem")?,
        resume_grace: Duration::from_secs(bounded(src, "http.resume_grace_secs", 30, 3600)?),
    })
}

fn sip(src: &Source, http: &HttpConfig) -> Result<SipConfig, ConfigError> {
    let listen = match src.list("sip.listen")? {
        Some(entries) => listeners(src, &entries)?,
        None => ["udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"]
            .iter()
            .map(|e| e.parse().expect("the default listeners parse"))
            .collect(),
    };
    let user_agent = src
        .str("sip.user_agent")?
        .map(|ua| wire_text(src, "sip.user_agent", ua))
        .transpose()?
        .unwrap_or_else(|| concat!("sbc-gateway/", env!("CARGO_PKG_VERSION")).to_owned());
    let rate = bounded(src, "sip.rate_limit_per_ip", 200, u32::MAX.into())?;
    Ok(SipConfig {
        listen,
        tls_cert: optional_path(src, "sip.tls_cert")?.unwrap_or_else(|| http.cert.clone()),
        tls_key: optional_path(src, "sip.tls_key")?.unwrap_or_else(|| http.key.clone()),
        t1: Duration::from_millis(positive(src, "sip.t1_ms", 500)?),
        t2: Duration::from_millis(positive(src, "sip.t2_ms", 4000)?),
        t4: Duration::from_millis(positive(src, "sip.t4_ms", 5000)?),
        max_message_size: size(src, "sip.max_message_size", 65535, MAX_MESSAGE_SIZE)?,
        max_headers: size(src, "sip.max_headers", 128, u16::MAX.into())?,
        tcp_idle_timeout: Duration::from_secs(positive(src, "sip.tcp_idle_timeout_secs", 120)?),
        max_connections: size(src, "sip.max_connections", 1024, u32::MAX.into())?,
        user_agent,
        rate_limit_per_ip: u32::try_from(rate).ok().and_then(NonZeroU32::new),
    })
}

fn media(src: &Source, default_public_ip: IpAddr) -> Result<MediaConfig, ConfigError> {
    let webrtc_port = bounded(src, "media.webrtc_port", 10000, u16::MAX.into())?;
    let webrtc_port = u16::try_from(webrtc_port).expect("bounded to u16::MAX");
    if webrtc_port == 0 {
        return Err(src.invalid("media.webrtc_port", Problem::Zero));
    }
    let rtp_ports = match src.str("media.rtp_ports")? {
        Some(text) => {
            port_range(text).ok_or_else(|| src.invalid("media.rtp_ports", Problem::BadPortRange))?
        }
        None => 20000..=29999,
    };
    Ok(MediaConfig {
        public_ip: optional_ip(src, "media.public_ip")?.unwrap_or(default_public_ip),
        webrtc_port,
        rtp_ports,
        sip_ip: optional_ip(src, "media.sip_ip")?,
        timeout: Duration::from_secs(positive(src, "media.timeout_secs", 60)?),
    })
}

fn log(src: &Source) -> Result<LogConfig, ConfigError> {
    let format = match src.str("log.format")? {
        None => LogFormat::Text,
        Some(text) => match text.trim().to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(src.invalid("log.format", Problem::UnknownLogFormat)),
        },
    };
    let level = match src.str("log.level")? {
        None => "info".to_owned(),
        Some(level) => {
            if let Err(err) = tracing_subscriber::EnvFilter::try_new(level) {
                let reason = err.to_string();
                return Err(src.invalid("log.level", Problem::BadLogFilter { reason }));
            }
            level.to_owned()
        }
    };
    Ok(LogConfig {
        format,
        level,
        redact: src.bool("log.redact")?.unwrap_or(true),
    })
}

fn cross_checks(config: &Config) -> Result<(), ConfigError> {
    if config.sip.t2 < config.sip.t1 {
        return Err(ConfigError::Conflict {
            first: "sip.t1_ms",
            second: "sip.t2_ms",
            problem: Problem::T2BelowT1,
        });
    }
    let port = config.media.webrtc_port;
    if config.media.rtp_ports.contains(&port) {
        return Err(ConfigError::Conflict {
            first: "media.webrtc_port",
            second: "media.rtp_ports",
            problem: Problem::PortInRange { port },
        });
    }
    Ok(())
}

fn listeners(src: &Source, entries: &[&str]) -> Result<Vec<SipListen>, ConfigError> {
    const KEY: &str = "sip.listen";
    if entries.is_empty() {
        return Err(src.invalid(KEY, Problem::Empty));
    }
    let mut seen = HashSet::new();
    let mut stream_addrs = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let listen: SipListen = entry.parse().map_err(|_| {
            let entry = (*entry).to_owned();
            src.invalid(KEY, Problem::BadListener { entry })
        })?;
        if !seen.insert(listen) {
            let entry = listen.to_string();
            return Err(src.invalid(KEY, Problem::DuplicateListener { entry }));
        }
        if listen.transport.is_stream() && !stream_addrs.insert(listen.addr) {
            let addr = listen.addr;
            return Err(src.invalid(KEY, Problem::TcpAddressClash { addr }));
        }
        out.push(listen);
    }
    Ok(out)
}

/// `FIRST-LAST`, both inclusive, `1 <= FIRST <= LAST`.
fn port_range(text: &str) -> Option<RangeInclusive<u16>> {
    let (first, last) = text.split_once('-')?;
    let first: u16 = first.trim().parse().ok()?;
    let last: u16 = last.trim().parse().ok()?;
    (first >= 1 && first <= last).then_some(first..=last)
}

fn socket_addr(src: &Source, key: &'static str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.trim()
        .parse()
        .map_err(|_| src.invalid(key, Problem::NotASocketAddr))
}

fn optional_ip(src: &Source, key: &'static str) -> Result<Option<IpAddr>, ConfigError> {
    let Some(text) = src.str(key)? else {
        return Ok(None);
    };
    let ip: IpAddr = text
        .trim()
        .parse()
        .map_err(|_| src.invalid(key, Problem::NotAnIp))?;
    if ip.is_unspecified() {
        return Err(src.invalid(key, Problem::Unspecified));
    }
    Ok(Some(ip))
}

fn optional_path(src: &Source, key: &'static str) -> Result<Option<PathBuf>, ConfigError> {
    match src.str(key)? {
        Some("") => Err(src.invalid(key, Problem::Empty)),
        Some(text) => Ok(Some(PathBuf::from(text))),
        None => Ok(None),
    }
}

fn path(src: &Source, key: &'static str, default: &str) -> Result<PathBuf, ConfigError> {
    Ok(optional_path(src, key)?.unwrap_or_else(|| PathBuf::from(default)))
}

/// An integer in `0..=max`, `default` when unset.
fn bounded(src: &Source, key: &'static str, default: u64, max: u64) -> Result<u64, ConfigError> {
    let value = src.uint(key)?.unwrap_or(default);
    if value > max {
        return Err(src.invalid(key, Problem::TooLarge { max }));
    }
    Ok(value)
}

/// An integer in `1..=u32::MAX`, `default` when unset.
fn positive(src: &Source, key: &'static str, default: u64) -> Result<u64, ConfigError> {
    let value = bounded(src, key, default, u32::MAX.into())?;
    if value == 0 {
        return Err(src.invalid(key, Problem::Zero));
    }
    Ok(value)
}

/// A count or size in `1..=max`, `default` when unset.
fn size(src: &Source, key: &'static str, default: u64, max: u64) -> Result<usize, ConfigError> {
    let value = bounded(src, key, default, max)?;
    if value == 0 {
        return Err(src.invalid(key, Problem::Zero));
    }
    usize::try_from(value).map_err(|_| src.invalid(key, Problem::TooLarge { max }))
}

/// Text that goes into a SIP header: non-empty, no control characters.
fn wire_text(src: &Source, key: &'static str, text: &str) -> Result<String, ConfigError> {
    if text.trim().is_empty() {
        return Err(src.invalid(key, Problem::Empty));
    }
    if text.chars().any(char::is_control) {
        return Err(src.invalid(key, Problem::ControlCharacters));
    }
    Ok(text.to_owned())
}

/// Header names or `Prefix*` patterns, checked as the B2BUA reads them.
fn header_patterns(src: &Source, patterns: &[&str]) -> Result<Vec<String>, ConfigError> {
    const KEY: &str = "pbx.header_allow";
    sbc_core::b2bua::HeaderPolicy::new(patterns)
        .map_err(|_| src.invalid(KEY, Problem::HeaderPattern))?;
    Ok(patterns.iter().map(|p| (*p).to_owned()).collect())
}

/// A `sip:`/`sips:` URI; its full grammar is checked by the SIP stack.
fn sip_uri(src: &Source, text: &str) -> Result<String, ConfigError> {
    const KEY: &str = "pbx.uri";
    let uri = wire_text(src, KEY, text.trim())?;
    let lower = uri.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("sip:")
        .or_else(|| lower.strip_prefix("sips:"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.contains(char::is_whitespace) => Ok(uri),
        _ => Err(src.invalid(KEY, Problem::NotASipUri)),
    }
}

fn secret(src: &Source, text: &str) -> Result<Secret, ConfigError> {
    if text.len() < MIN_SECRET_LEN {
        let min = MIN_SECRET_LEN;
        return Err(src.invalid("auth.token_secret", Problem::SecretTooShort { min }));
    }
    Ok(Secret::new(text))
}
