//! What can be wrong with a configuration: which key, where it was set, and why.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the value of a key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The TOML file given with `--config`.
    File,
    /// The named `SBC_<SECTION>_<KEY>` environment variable.
    Env(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File => f.write_str("in the config file"),
            Origin::Env(var) => write!(f, "from {var}"),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file named with `--config` could not be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("the config file is not valid TOML: {source}")]
    Syntax {
        /// The TOML parser's account, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// The file names a section or key the gateway does not know (most likely a typo).
    #[error("unknown key `{key}` in the config file")]
    UnknownKey {
        /// The dotted key as written.
        key: String,
    },
    /// A top-level entry of the file that should be a `[section]` table is not one.
    #[error("`{section}` in the config file must be a [{section}] table")]
    NotATable {
        /// The section name.
        section: &'static str,
    },
    /// An `SBC_*` environment variable that names no key (most likely a typo).
    #[error("unknown environment variable {var}: no config key has that name")]
    UnknownEnv {
        /// The variable's name.
        var: String,
    },
    /// One key has an unusable value.
    #[error("`{key}` {origin}: {problem}")]
    Invalid {
        /// The dotted key, e.g. `sip.t1_ms`.
        key: &'static str,
        /// Where the value was set.
        origin: Origin,
        /// What is wrong with it.
        problem: Problem,
    },
    /// Two keys are each fine but cannot be used together.
    #[error("`{first}` and `{second}` conflict: {problem}")]
    Conflict {
        /// One key.
        first: &'static str,
        /// The other key.
        second: &'static str,
        /// Why they cannot go together.
        problem: Problem,
    },
}

/// Why a value is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The value has the wrong TOML type (or an env value does not parse as that type).
    #[error("expected {expected}")]
    WrongType {
        /// What was expected, e.g. "a non-negative integer".
        expected: &'static str,
    },
    /// A number above the allowed maximum.
    #[error("must be at most {max}")]
    TooLarge {
        /// The largest allowed value.
        max: u64,
    },
    /// Zero where only a positive number makes sense.
    #[error("must be greater than 0")]
    Zero,
    /// An empty string or list.
    #[error("must not be empty")]
    Empty,
    /// A `pbx.header_allow` entry that is not a header name or `Prefix*`.
    #[error("expected header names or Prefix* patterns, e.g. X-* or User-to-User")]
    HeaderPattern,
    /// Not `IP:PORT`.
    #[error("expected IP:PORT, e.g. 0.0.0.0:8443 or [::]:8443")]
    NotASocketAddr,
    /// Not an IP address.
    #[error("expected an IP address, e.g. 192.0.2.10 or 2001:db8::10")]
    NotAnIp,
    /// `0.0.0.0` or `::` where a peer must be able to reach the address.
    #[error("must be an address peers can reach, not 0.0.0.0 or ::")]
    Unspecified,
    /// A `sip.listen` entry that is not `TRANSPORT:IP:PORT`.
    #[error(
        "`{entry}` is not TRANSPORT:IP:PORT with TRANSPORT one of udp, tcp, tls \
         (e.g. udp:0.0.0.0:5060, tls:[::1]:5061)"
    )]
    BadListener {
        /// The entry as written.
        entry: String,
    },
    /// The same listener twice.
    #[error("`{entry}` is listed twice")]
    DuplicateListener {
        /// The entry.
        entry: String,
    },
    /// A `tcp:` and a `tls:` listener on the same TCP address.
    #[error("tcp and tls listeners cannot share the TCP address {addr}")]
    TcpAddressClash {
        /// The shared address.
        addr: SocketAddr,
    },
    /// Not `FIRST-LAST`.
    #[error("expected FIRST-LAST with 1 <= FIRST <= LAST <= 65535, e.g. 20000-29999")]
    BadPortRange,
    /// Not a `sip:`/`sips:` URI.
    #[error("expected a sip: or sips: URI, e.g. sip:10.0.0.5:5060;transport=udp")]
    NotASipUri,
    /// CR, LF or other control characters in a value that goes on the wire.
    #[error("must not contain control characters such as CR or LF")]
    ControlCharacters,
    /// A secret too short to resist guessing.
    #[error("must be at least {min} bytes long (leave the key out to turn authentication off)")]
    SecretTooShort {
        /// The minimum length in bytes.
        min: usize,
    },
    /// Neither `off` nor `sdes`.
    #[error("expected `off` or `sdes`")]
    UnknownPbxSrtp,
    /// Neither `text` nor `json`.
    #[error("expected `text` or `json`")]
    UnknownLogFormat,
    /// Not a `tracing` filter directive.
    #[error("not a log filter such as `info` or `info,gateway=debug`: {reason}")]
    BadLogFilter {
        /// The filter parser's explanation.
        reason: String,
    },
    /// `sip.t2_ms` below `sip.t1_ms` (RFC 3261 §17.1.2.2 needs T2 >= T1).
    #[error("T2 must not be shorter than T1")]
    T2BelowT1,
    /// The WebRTC port inside the RTP range.
    #[error("port {port} lies inside the RTP port range")]
    PortInRange {
        /// The clashing port.
        port: u16,
    },
}
