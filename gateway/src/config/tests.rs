//! Tests of the configuration contract: defaults, file, environment, errors.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::source::{KEYS, Kind};
use super::*;

const NO_ENV: [(&str, &str); 0] = [];

fn detected() -> IpAddr {
    "192.0.2.10".parse().expect("literal IP")
}

fn parse(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_sources(toml, env.iter().copied(), detected())
}

fn ok(toml: &str, env: &[(&str, &str)]) -> Config {
    parse(toml, env).unwrap_or_else(|e| panic!("valid config rejected: {e}"))
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("literal socket address")
}

/// The key and problem of an `Invalid` error, for matching.
fn invalid(err: ConfigError) -> (&'static str, Origin, Problem) {
    match err {
        ConfigError::Invalid {
            key,
            origin,
            problem,
        } => (key, origin, problem),
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn defaults() {
    let c = ok("", &[]);
    assert_eq!(c.http.listen, addr("0.0.0.0:8443"));
    assert_eq!(c.http.cert, Path::new("certs/gateway.pem"));
    assert_eq!(c.http.key, Path::new("certs/gateway-key.pem"));
    let listen: Vec<String> = c.sip.listen.iter().map(ToString::to_string).collect();
    assert_eq!(listen, ["udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"]);
    assert_eq!(c.sip.tls_cert, c.http.cert);
    assert_eq!(c.sip.tls_key, c.http.key);
    assert_eq!(c.sip.t1, Duration::from_millis(500));
    assert_eq!(c.sip.t2, Duration::from_millis(4000));
    assert_eq!(c.sip.t4, Duration::from_millis(5000));
    assert_eq!(c.sip.max_message_size, 65535);
    assert_eq!(c.sip.max_headers, 128);
    assert_eq!(c.sip.tcp_idle_timeout, Duration::from_secs(120));
    assert_eq!(c.sip.max_connections, 1024);
    assert_eq!(
        c.sip.user_agent,
        format!("sbc-gateway/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(c.sip.rate_limit_per_ip.map(|n| n.get()), Some(200));
    assert_eq!(c.pbx.uri, None);
    assert_eq!(c.media.public_ip, detected());
    assert_eq!(c.media.webrtc_port, 10000);
    assert_eq!(c.media.rtp_ports, 20000..=29999);
    assert_eq!(c.media.sip_ip, None);
    assert_eq!(c.media.timeout, Duration::from_secs(60));
    assert_eq!(c.auth.token_secret, None);
    assert_eq!(c.log.format, LogFormat::Text);
    assert_eq!(c.pbx.srtp, PbxMediaSecurity::Off);
    assert_eq!(c.log.level, "info");
    assert!(c.log.redact);
}

const FULL: &str = r#"
[http]
listen = "[::]:443"
cert = "/etc/sbc/cert.pem"
key = "/etc/sbc/key.pem"

[sip]
listen = ["udp:[::1]:5060", "tls:192.0.2.1:5061"]
tls_cert = "/etc/sbc/sip.pem"
tls_key = "/etc/sbc/sip-key.pem"
t1_ms = 250
t2_ms = 2000
t4_ms = 2500
max_message_size = 8192
max_headers = 64
tcp_idle_timeout_secs = 30
max_connections = 10
user_agent = "edge"
rate_limit_per_ip = 0

[pbx]
uri = "sip:10.0.0.5:5060;transport=udp"

[media]
public_ip = "203.0.113.9"
webrtc_port = 3478
rtp_ports = "40000-40099"
sip_ip = "10.0.0.1"

[auth]
token_secret = "0123456789abcdef0123"

[log]
format = "json"
level = "debug,gateway=trace"
redact = false
"#;

#[test]
fn every_key_from_the_file() {
    let c = ok(FULL, &[]);
    assert_eq!(c.http.listen, addr("[::]:443"));
    assert_eq!(c.http.key, Path::new("/etc/sbc/key.pem"));
    assert_eq!(
        c.sip.listen,
        [
            SipListen {
                transport: SipTransport::Udp,
                addr: addr("[::1]:5060")
            },
            SipListen {
                transport: SipTransport::Tls,
                addr: addr("192.0.2.1:5061")
            },
        ]
    );
    assert_eq!(c.sip.tls_cert, Path::new("/etc/sbc/sip.pem"));
    assert_eq!(
        (c.sip.t1, c.sip.t2),
        (Duration::from_millis(250), Duration::from_secs(2))
    );
    assert_eq!(c.sip.tcp_idle_timeout, Duration::from_secs(30));
    assert_eq!((c.sip.max_message_size, c.sip.max_headers), (8192, 64));
    assert_eq!(c.sip.user_agent, "edge");
    assert_eq!(c.sip.rate_limit_per_ip, None, "0 turns the limit off");
    assert_eq!(
        c.pbx.uri.as_deref(),
        Some("sip:10.0.0.5:5060;transport=udp")
    );
    assert_eq!(
        c.media.public_ip,
        "203.0.113.9".parse::<IpAddr>().expect("literal")
    );
    assert_eq!(
        (c.media.webrtc_port, c.media.rtp_ports.clone()),
        (3478, 40000..=40099)
    );
    assert_eq!(c.media.sip_ip, Some("10.0.0.1".parse().expect("literal")));
    let secret = c.auth.token_secret.as_ref().expect("secret set");
    assert_eq!(secret.expose(), "0123456789abcdef0123");
    assert_eq!(
        (c.log.format, c.log.level.as_str()),
        (LogFormat::Json, "debug,gateway=trace")
    );
    assert!(!c.log.redact);
}

#[test]
fn sip_tls_files_follow_the_http_ones_unless_set() {
    let c = ok("[http]\ncert = \"a.pem\"\nkey = \"a-key.pem\"\n", &[]);
    assert_eq!(
        (c.sip.tls_cert.as_path(), c.sip.tls_key.as_path()),
        (Path::new("a.pem"), Path::new("a-key.pem"))
    );
}

#[test]
fn env_overrides_the_file() {
    let env = [
        ("SBC_PBX_URI", "sips:pbx.example.com"),
        ("SBC_SIP_LISTEN", "udp:[::1]:5070, tcp:127.0.0.1:5070,"),
        ("SBC_HTTP_LISTEN", "127.0.0.1:8080"),
        ("SBC_SIP_T1_MS", "100"),
        ("SBC_SIP_RATE_LIMIT_PER_IP", " 5 "),
        ("SBC_SIP_TLS_CERT", "sip.pem"),
        ("SBC_LOG_REDACT", "on"),
        ("SBC_MEDIA_RTP_PORTS", "5000-5001"),
        ("PATH", "/usr/bin"),
    ];
    let c = ok(FULL, &env);
    assert_eq!(c.pbx.uri.as_deref(), Some("sips:pbx.example.com"));
    let listen: Vec<String> = c.sip.listen.iter().map(ToString::to_string).collect();
    assert_eq!(listen, ["udp:[::1]:5070", "tcp:127.0.0.1:5070"]);
    assert_eq!(c.http.listen, addr("127.0.0.1:8080"));
    assert_eq!(c.sip.t1, Duration::from_millis(100));
    assert_eq!(c.sip.t2, Duration::from_millis(2000), "file value kept");
    assert_eq!(c.sip.rate_limit_per_ip.map(|n| n.get()), Some(5));
    assert_eq!(c.sip.tls_cert, Path::new("sip.pem"));
    assert!(c.log.redact);
    assert_eq!(c.media.rtp_ports, 5000..=5001);
}

#[test]
fn every_key_has_an_env_variable() {
    let vars: BTreeMap<&str, String> = KEYS.iter().map(|(key, _)| (*key, env_var(key))).collect();
    assert_eq!(vars["pbx.uri"], "SBC_PBX_URI");
    assert_eq!(vars["sip.listen"], "SBC_SIP_LISTEN");
    assert_eq!(
        vars["sip.tcp_idle_timeout_secs"],
        "SBC_SIP_TCP_IDLE_TIMEOUT_SECS"
    );
    // Each variable is accepted (with a valid value of its kind) and names one key.
    for (key, kind) in KEYS {
        let value = match (*key, kind) {
            ("sip.listen", _) => "udp:127.0.0.1:5060",
            ("http.listen" | "metrics.listen", _) => "127.0.0.1:1",
            ("media.public_ip" | "media.sip_ip", _) => "192.0.2.1",
            ("media.rtp_ports", _) => "1-2",
            ("pbx.uri", _) => "sip:pbx",
            ("pbx.header_allow", _) => "X-*",
            ("auth.token_secret" | "admin.token", _) => "a secret of some length",
            ("log.format", _) => "json",
            ("pbx.srtp", _) => "sdes",
            ("sip.t2_ms" | "media.webrtc_port", _) => "9000",
            (_, Kind::Uint) => "7",
            (_, Kind::Bool) => "false",
            (_, Kind::Str | Kind::List) => "x",
        };
        let var = env_var(key);
        parse("", &[(&var, value)]).unwrap_or_else(|e| panic!("{var}={value}: {e}"));
    }
    let unique: std::collections::HashSet<_> = vars.values().collect();
    assert_eq!(unique.len(), KEYS.len());
}

#[test]
fn print_config_round_trips_and_redacts_secrets() {
    let c = ok(FULL, &[]);
    let printed = c.to_toml();
    assert!(
        printed.contains("token_secret = \"<redacted>\""),
        "{printed}"
    );
    assert!(!printed.contains("0123456789abcdef"), "{printed}");
    assert!(
        !format!("{c:?}").contains("0123456789abcdef"),
        "Debug leaks the secret"
    );

    let mut without_secret = c.clone();
    without_secret.auth.token_secret = None;
    assert_eq!(ok(&without_secret.to_toml(), &[]), without_secret);
    let defaults = ok("", &[]);
    let printed = defaults.to_toml();
    assert!(printed.contains("demo PBX"), "{printed}");
    assert_eq!(ok(&printed, &[]), defaults);
}

#[test]
fn unknown_keys_and_variables_are_errors() {
    let err = parse("[sip]\nt1 = 5\n", &[]).expect_err("typo in key");
    assert!(
        matches!(&err, ConfigError::UnknownKey { key } if key == "sip.t1"),
        "{err}"
    );
    let err = parse("[sipp]\n", &[]).expect_err("typo in section");
    assert!(
        matches!(&err, ConfigError::UnknownKey { key } if key == "sipp"),
        "{err}"
    );
    let err = parse("sip = 3\n", &[]).expect_err("section not a table");
    assert!(matches!(err, ConfigError::NotATable { section: "sip" }));
    let err = parse("", &[("SBC_SIP_T1", "5")]).expect_err("typo in variable");
    assert!(
        matches!(&err, ConfigError::UnknownEnv { var } if var == "SBC_SIP_T1"),
        "{err}"
    );
    let err = parse("[sip\n", &[]).expect_err("not TOML");
    assert!(matches!(err, ConfigError::Syntax { .. }));
}

const INTEGER: Problem = Problem::WrongType {
    expected: "a non-negative integer",
};
const BOOL: Problem = Problem::WrongType {
    expected: "true or false",
};

/// Asserts that the sources fail on `key` for `problem`, with the right origin
/// and a message that starts with the key.
fn assert_invalid(toml: &str, env: &[(&str, &str)], key: &str, problem: Problem) {
    let err = parse(toml, env).expect_err(key);
    let message = err.to_string();
    let (got_key, origin, got) = invalid(err);
    assert_eq!((got_key, got), (key, problem), "{toml:?} {env:?}");
    assert!(message.starts_with(&format!("`{key}` ")), "{message}");
    let expected_origin = match env.first() {
        Some((var, _)) => Origin::Env((*var).to_owned()),
        None => Origin::File,
    };
    assert_eq!(origin, expected_origin, "{message}");
}

#[test]
fn bad_values_name_the_key_and_the_reason() {
    assert_invalid("[sip]\nt1_ms = \"fast\"\n", &[], "sip.t1_ms", INTEGER);
    assert_invalid("[sip]\nt1_ms = -1\n", &[], "sip.t1_ms", INTEGER);
    assert_invalid("[sip]\nt4_ms = 0\n", &[], "sip.t4_ms", Problem::Zero);
    let max = 16 * 1024 * 1024;
    let big = "[sip]\nmax_message_size = 99999999999\n";
    assert_invalid(big, &[], "sip.max_message_size", Problem::TooLarge { max });
    let expected = "a list of strings (comma-separated in the environment)";
    let not_list = "[sip]\nlisten = \"udp:0.0.0.0:5060\"\n";
    assert_invalid(not_list, &[], "sip.listen", Problem::WrongType { expected });
    assert_invalid("[sip]\nlisten = []\n", &[], "sip.listen", Problem::Empty);
    let crlf = "[sip]\nuser_agent = \"a\\r\\nX-Evil: 1\"\n";
    assert_invalid(crlf, &[], "sip.user_agent", Problem::ControlCharacters);
    let host = "[http]\nlisten = \"localhost:80\"\n";
    assert_invalid(host, &[], "http.listen", Problem::NotASocketAddr);
    assert_invalid("[http]\ncert = \"\"\n", &[], "http.cert", Problem::Empty);
    let port = "[media]\nwebrtc_port = 70000\n";
    assert_invalid(
        port,
        &[],
        "media.webrtc_port",
        Problem::TooLarge { max: 65535 },
    );
    let port = "[media]\nwebrtc_port = 0\n";
    assert_invalid(port, &[], "media.webrtc_port", Problem::Zero);
    let any = "[media]\npublic_ip = \"0.0.0.0\"\n";
    assert_invalid(any, &[], "media.public_ip", Problem::Unspecified);
    let name = "[media]\nsip_ip = \"pbx.lan\"\n";
    assert_invalid(name, &[], "media.sip_ip", Problem::NotAnIp);
    let http = "[pbx]\nuri = \"http://pbx\"\n";
    assert_invalid(http, &[], "pbx.uri", Problem::NotASipUri);
    assert_invalid(
        "[pbx]\nuri = \"sip:\"\n",
        &[],
        "pbx.uri",
        Problem::NotASipUri,
    );
    let short = "[auth]\ntoken_secret = \"short\"\n";
    let problem = Problem::SecretTooShort { min: 16 };
    assert_invalid(short, &[], "auth.token_secret", problem);
    let xml = "[log]\nformat = \"xml\"\n";
    assert_invalid(xml, &[], "log.format", Problem::UnknownLogFormat);
    assert_invalid("[log]\nredact = \"yes\"\n", &[], "log.redact", BOOL);
    assert_invalid("", &[("SBC_LOG_REDACT", "maybe")], "log.redact", BOOL);
    let env = [("SBC_SIP_MAX_HEADERS", "many")];
    assert_invalid("", &env, "sip.max_headers", INTEGER);
    assert_invalid("", &[("SBC_SIP_T2_MS", "-5")], "sip.t2_ms", INTEGER);
    assert_invalid("", &[("SBC_SIP_LISTEN", "")], "sip.listen", Problem::Empty);
    let env = [("SBC_LOG_LEVEL", "gateway=loud")];
    let err = parse("", &env).expect_err("bad filter");
    let (key, _, problem) = invalid(err);
    assert_eq!(key, "log.level");
    assert!(matches!(problem, Problem::BadLogFilter { .. }), "{problem}");
}

#[test]
fn bad_listeners_are_explained() {
    let (_, _, problem) = invalid(
        parse("", &[("SBC_SIP_LISTEN", "udp:0.0.0.0:5060,sctp:1.2.3.4:5")]).expect_err("sctp"),
    );
    assert_eq!(
        problem,
        Problem::BadListener {
            entry: "sctp:1.2.3.4:5".to_owned()
        }
    );
    let (_, _, problem) = invalid(
        parse(
            "",
            &[("SBC_SIP_LISTEN", "udp:0.0.0.0:5060,UDP:0.0.0.0:5060")],
        )
        .expect_err("twice"),
    );
    assert_eq!(
        problem,
        Problem::DuplicateListener {
            entry: "udp:0.0.0.0:5060".to_owned()
        }
    );
    let (_, _, problem) = invalid(
        parse(
            "",
            &[("SBC_SIP_LISTEN", "tcp:0.0.0.0:5060,tls:0.0.0.0:5060")],
        )
        .expect_err("clash"),
    );
    assert_eq!(
        problem,
        Problem::TcpAddressClash {
            addr: addr("0.0.0.0:5060")
        }
    );
    // UDP and TCP on one port is the normal case.
    ok(
        "",
        &[(
            "SBC_SIP_LISTEN",
            "udp:0.0.0.0:5060,tcp:0.0.0.0:5060,tls:0.0.0.0:5061",
        )],
    );
}

#[test]
fn port_ranges() {
    for (text, range) in [
        ("1-1", 1..=1),
        ("20000-29999", 20000..=29999),
        (" 5000 - 5001 ", 5000..=5001),
    ] {
        let c = ok(&format!("[media]\nrtp_ports = \"{text}\"\n"), &[]);
        assert_eq!(c.media.rtp_ports, range, "{text}");
    }
    for bad in [
        "",
        "20000",
        "0-10",
        "30000-20000",
        "1-65536",
        "a-b",
        "1-2-3",
    ] {
        let err = parse(&format!("[media]\nrtp_ports = \"{bad}\"\n"), &[]).expect_err(bad);
        let (key, _, problem) = invalid(err);
        assert_eq!(
            (key, problem),
            ("media.rtp_ports", Problem::BadPortRange),
            "{bad}"
        );
    }
}

#[test]
fn conflicts_name_both_keys() {
    let err = parse("[sip]\nt1_ms = 5000\nt2_ms = 4000\n", &[]).expect_err("T2 < T1");
    assert!(matches!(
        err,
        ConfigError::Conflict {
            first: "sip.t1_ms",
            second: "sip.t2_ms",
            problem: Problem::T2BelowT1
        }
    ));
    let err = parse("", &[("SBC_MEDIA_WEBRTC_PORT", "20000")]).expect_err("port in range");
    assert!(
        matches!(
            err,
            ConfigError::Conflict {
                first: "media.webrtc_port",
                problem: Problem::PortInRange { port: 20000 },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn secret_debug_is_redacted() {
    assert_eq!(
        format!("{:?}", Secret::new("hunter2hunter2hunter2")),
        "<redacted>"
    );
}

#[test]
fn load_reads_the_file_and_reports_a_missing_one() {
    let path = std::env::temp_dir().join(format!("sbc-gateway-config-{}.toml", std::process::id()));
    std::fs::write(&path, "[pbx]\nuri = \"sip:pbx.lan\"\n").expect("write temp config");
    let loaded = Config::load(Some(&path), NO_ENV);
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        loaded.expect("valid file").pbx.uri.as_deref(),
        Some("sip:pbx.lan")
    );
    let err =
        Config::load(Some(Path::new("/nonexistent/gateway.toml")), NO_ENV).expect_err("missing");
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(
        err.to_string().contains("/nonexistent/gateway.toml"),
        "{err}"
    );
}

#[test]
fn pbx_srtp_is_off_or_sdes() {
    let c = ok("[pbx]\nsrtp = \"SDES\"\n", &[]);
    assert_eq!(c.pbx.srtp, PbxMediaSecurity::Sdes);
    let c = ok("", &[("SBC_PBX_SRTP", "off")]);
    assert_eq!(c.pbx.srtp, PbxMediaSecurity::Off);
    assert_invalid(
        "[pbx]\nsrtp = \"dtls\"\n",
        &[],
        "pbx.srtp",
        Problem::UnknownPbxSrtp,
    );
}
