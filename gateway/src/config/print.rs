//! `--print-config`: the effective configuration as TOML, secrets redacted.

use serde::Serialize;

use super::Config;

/// What a redacted secret prints as.
const REDACTED: &str = "<redacted>";

#[derive(Serialize)]
struct Printed<'a> {
    http: Http,
    sip: Sip<'a>,
    pbx: Pbx<'a>,
    media: Media,
    auth: Auth,
    log: Log<'a>,
    shutdown: Shutdown,
    cdr: Cdr,
    metrics: MetricsSection,
    admin: AdminSection,
}

#[derive(Serialize)]
struct AdminSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'static str>,
}

#[derive(Serialize)]
struct MetricsSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<String>,
}

#[derive(Serialize)]
struct Cdr {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

#[derive(Serialize)]
struct Shutdown {
    grace_secs: u64,
}

#[derive(Serialize)]
struct Http {
    listen: String,
    cert: String,
    key: String,
    resume_grace_secs: u64,
}

#[derive(Serialize)]
struct Sip<'a> {
    listen: Vec<String>,
    tls_cert: String,
    tls_key: String,
    t1_ms: u64,
    t2_ms: u64,
    t4_ms: u64,
    max_message_size: usize,
    max_headers: usize,
    tcp_idle_timeout_secs: u64,
    max_connections: usize,
    user_agent: &'a str,
    rate_limit_per_ip: u32,
}

#[derive(Serialize)]
struct Pbx<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'static str>,
    header_allow: &'a [String],
    options_interval_secs: u64,
    srtp: &'static str,
}

#[derive(Serialize)]
struct Media {
    public_ip: String,
    webrtc_port: u16,
    rtp_ports: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sip_ip: Option<String>,
    timeout_secs: u64,
}

#[derive(Serialize)]
struct Auth {
    #[serde(skip_serializing_if = "Option::is_none")]
    token_secret: Option<&'static str>,
}

#[derive(Serialize)]
struct Log<'a> {
    format: &'static str,
    level: &'a str,
    redact: bool,
}

pub(super) fn to_toml(config: &Config) -> String {
    let Config {
        http,
        sip,
        pbx,
        media,
        auth,
        log,
        shutdown,
        cdr,
        metrics,
        admin,
    } = config;
    let printed = Printed {
        http: Http {
            listen: http.listen.to_string(),
            cert: http.cert.display().to_string(),
            key: http.key.display().to_string(),
            resume_grace_secs: http.resume_grace.as_secs(),
        },
        sip: Sip {
            listen: sip.listen.iter().map(ToString::to_string).collect(),
            tls_cert: sip.tls_cert.display().to_string(),
            tls_key: sip.tls_key.display().to_string(),
            t1_ms: millis(sip.t1),
            t2_ms: millis(sip.t2),
            t4_ms: millis(sip.t4),
            max_message_size: sip.max_message_size,
            max_headers: sip.max_headers,
            tcp_idle_timeout_secs: sip.tcp_idle_timeout.as_secs(),
            max_connections: sip.max_connections,
            user_agent: &sip.user_agent,
            rate_limit_per_ip: sip.rate_limit_per_ip.map_or(0, |n| n.get()),
        },
        pbx: Pbx {
            uri: pbx.uri.as_deref(),
            username: pbx.username.as_deref(),
            password: pbx.password.as_ref().map(|_| REDACTED),
            header_allow: &pbx.header_allow,
            options_interval_secs: pbx.options_interval.as_secs(),
            srtp: pbx.srtp.as_str(),
        },
        media: Media {
            public_ip: media.public_ip.to_string(),
            webrtc_port: media.webrtc_port,
            rtp_ports: format!("{}-{}", media.rtp_ports.start(), media.rtp_ports.end()),
            sip_ip: media.sip_ip.map(|ip| ip.to_string()),
            timeout_secs: media.timeout.as_secs(),
        },
        auth: Auth {
            token_secret: auth.token_secret.as_ref().map(|_| REDACTED),
        },
        log: Log {
            format: log.format.as_str(),
            level: &log.level,
            redact: log.redact,
        },
        shutdown: Shutdown {
            grace_secs: shutdown.grace.as_secs(),
        },
        cdr: Cdr {
            path: cdr.path.as_ref().map(|p| p.display().to_string()),
        },
        metrics: MetricsSection {
            listen: metrics.listen.map(|a| a.to_string()),
        },
        admin: AdminSection {
            token: admin.token.as_ref().map(|_| REDACTED),
        },
    };
    let body = toml::to_string(&printed).expect("the printed config is plain TOML tables");
    let mut out = String::from(
        "# Effective configuration: defaults, then the config file, then SBC_* variables.\n",
    );
    if pbx.uri.is_none() {
        out.push_str("# pbx.uri is unset: browser calls go to the embedded demo PBX.\n");
    }
    out.push('\n');
    out.push_str(&body);
    out
}

/// Timer values were read as milliseconds in a `u32`, so they fit.
fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
