//! The `gateway` binary as an operator meets it: flags, `--print-config`,
//! and configuration errors.

use std::process::{Command, Output};

fn gateway(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gateway"));
    command
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    // The tests' own environment must not leak SBC_* settings in.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SBC_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    command.output().expect("the gateway binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_and_help() {
    let out = gateway(&["--version"], &[]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("gateway {}", env!("CARGO_PKG_VERSION"))
    );
    let out = gateway(&["--help"], &[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for needle in ["--config <FILE>", "--print-config", "SBC_<SECTION>_<KEY>"] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}

#[test]
fn print_config_shows_env_overrides_and_hides_secrets() {
    let secret = "s3cr3t-s3cr3t-s3cr3t";
    let env = [
        ("SBC_PBX_URI", "sip:10.0.0.5:5060;transport=udp"),
        ("SBC_AUTH_TOKEN_SECRET", secret),
    ];
    let out = gateway(&["--print-config"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("uri = \"sip:10.0.0.5:5060;transport=udp\""),
        "{printed}"
    );
    assert!(
        printed.contains("token_secret = \"<redacted>\""),
        "{printed}"
    );
    assert!(!printed.contains(secret), "{printed}");
    assert!(
        text(&out.stderr).is_empty(),
        "no logging before --print-config exits"
    );
}

#[test]
fn a_bad_value_fails_with_the_key_and_no_backtrace() {
    let out = gateway(&[], &[("SBC_SIP_T1_MS", "0"), ("RUST_BACKTRACE", "1")]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`sip.t1_ms` from SBC_SIP_T1_MS: must be greater than 0"),
        "{stderr}"
    );
    assert!(!stderr.contains("backtrace"), "{stderr}");
}

#[test]
fn a_missing_config_file_is_named() {
    let out = gateway(&["--config", "/nonexistent/gw.toml"], &[]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("/nonexistent/gw.toml"), "{stderr}");
}
