//! Where raw values come from: the list of every key, the TOML file and the
//! `SBC_<SECTION>_<KEY>` environment overlay, merged into one map of raw values.
//!
//! This layer knows each key's TOML type but nothing of its meaning; turning a
//! raw value into a typed one is `build`'s job.

use std::collections::BTreeMap;

use toml::Value;

use super::error::{ConfigError, Origin, Problem};

/// The TOML type of a key, which is also how its environment form is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string, taken verbatim from the environment.
    Str,
    /// A non-negative integer.
    Uint,
    /// `true`/`false` (`1`/`0`, `yes`/`no`, `on`/`off` in the environment).
    Bool,
    /// A list of strings; comma-separated in the environment.
    List,
}

/// Every key of the configuration contract, with its TOML type.
pub(crate) const KEYS: &[(&str, Kind)] = &[
    ("http.listen", Kind::Str),
    ("http.cert", Kind::Str),
    ("http.key", Kind::Str),
    ("http.resume_grace_secs", Kind::Uint),
    ("sip.listen", Kind::List),
    ("sip.tls_cert", Kind::Str),
    ("sip.tls_key", Kind::Str),
    ("sip.t1_ms", Kind::Uint),
    ("sip.t2_ms", Kind::Uint),
    ("sip.t4_ms", Kind::Uint),
    ("sip.max_message_size", Kind::Uint),
    ("sip.max_headers", Kind::Uint),
    ("sip.tcp_idle_timeout_secs", Kind::Uint),
    ("sip.max_connections", Kind::Uint),
    ("sip.user_agent", Kind::Str),
    ("sip.rate_limit_per_ip", Kind::Uint),
    ("pbx.uri", Kind::Str),
    ("pbx.username", Kind::Str),
    ("pbx.password", Kind::Str),
    ("pbx.header_allow", Kind::List),
    ("pbx.options_interval_secs", Kind::Uint),
    ("pbx.srtp", Kind::Str),
    ("media.public_ip", Kind::Str),
    ("media.webrtc_port", Kind::Uint),
    ("media.rtp_ports", Kind::Str),
    ("media.sip_ip", Kind::Str),
    ("media.timeout_secs", Kind::Uint),
    ("auth.token_secret", Kind::Str),
    ("log.format", Kind::Str),
    ("log.level", Kind::Str),
    ("log.redact", Kind::Bool),
    ("shutdown.grace_secs", Kind::Uint),
    ("cdr.path", Kind::Str),
    ("metrics.listen", Kind::Str),
    ("admin.token", Kind::Str),
];

/// The sections, i.e. the `[tables]` a file may contain.
const SECTIONS: &[&str] = &[
    "http", "sip", "pbx", "media", "auth", "log", "shutdown", "cdr", "metrics", "admin",
];

/// Prefix of every configuration environment variable.
pub(crate) const ENV_PREFIX: &str = "SBC_";

/// The environment variable that sets `key`: `sip.t1_ms` is `SBC_SIP_T1_MS`.
pub fn env_var(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "_").to_ascii_uppercase())
}

/// The raw values that were set, by key; keys left unset are absent.
#[derive(Debug, Default)]
pub(crate) struct Source {
    values: BTreeMap<&'static str, (Value, Origin)>,
}

impl Source {
    /// Reads a TOML document; unknown sections and keys are errors.
    pub(crate) fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let table: toml::Table = text
            .parse()
            .map_err(|source| ConfigError::Syntax { source })?;
        let mut values = BTreeMap::new();
        for (section, body) in table {
            let Some(&section) = SECTIONS.iter().find(|s| **s == section) else {
                return Err(ConfigError::UnknownKey { key: section });
            };
            let Value::Table(body) = body else {
                return Err(ConfigError::NotATable { section });
            };
            for (name, value) in body {
                let dotted = format!("{section}.{name}");
                let Some(&(key, _)) = KEYS.iter().find(|(k, _)| *k == dotted) else {
                    return Err(ConfigError::UnknownKey { key: dotted });
                };
                values.insert(key, (value, Origin::File));
            }
        }
        Ok(Source { values })
    }

    /// Lays the `SBC_*` variables of `env` over the file's values. Other
    /// variables are ignored; an `SBC_*` variable that names no key is an error.
    pub(crate) fn apply_env<I, K, V>(&mut self, env: I) -> Result<(), ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        for (var, raw) in env {
            let (var, raw) = (var.as_ref(), raw.as_ref());
            if !var.starts_with(ENV_PREFIX) {
                continue;
            }
            let Some(&(key, kind)) = KEYS.iter().find(|(k, _)| env_var(k) == var) else {
                return Err(ConfigError::UnknownEnv {
                    var: var.to_owned(),
                });
            };
            let origin = Origin::Env(var.to_owned());
            let value = match env_value(kind, raw) {
                Ok(value) => value,
                Err(problem) => {
                    return Err(ConfigError::Invalid {
                        key,
                        origin,
                        problem,
                    });
                }
            };
            self.values.insert(key, (value, origin));
        }
        Ok(())
    }

    /// Where `key` was set, if it was.
    pub(crate) fn origin(&self, key: &'static str) -> Option<&Origin> {
        self.values.get(key).map(|(_, origin)| origin)
    }

    /// The error for an unusable value of `key`, which must have been set.
    pub(crate) fn invalid(&self, key: &'static str, problem: Problem) -> ConfigError {
        let origin = self.origin(key).cloned().unwrap_or(Origin::File);
        ConfigError::Invalid {
            key,
            origin,
            problem,
        }
    }

    fn get(&self, key: &'static str, kind: Kind) -> Option<&Value> {
        debug_assert!(
            KEYS.contains(&(key, kind)),
            "{key} is not a {kind:?} key of KEYS"
        );
        self.values.get(key).map(|(value, _)| value)
    }

    /// The string value of `key`, if set.
    pub(crate) fn str(&self, key: &'static str) -> Result<Option<&str>, ConfigError> {
        match self.get(key, Kind::Str) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.invalid(key, wrong_type(Kind::Str))),
        }
    }

    /// The non-negative integer value of `key`, if set.
    pub(crate) fn uint(&self, key: &'static str) -> Result<Option<u64>, ConfigError> {
        match self.get(key, Kind::Uint) {
            None => Ok(None),
            Some(Value::Integer(n)) => u64::try_from(*n)
                .map(Some)
                .map_err(|_| self.invalid(key, wrong_type(Kind::Uint))),
            Some(_) => Err(self.invalid(key, wrong_type(Kind::Uint))),
        }
    }

    /// The boolean value of `key`, if set.
    pub(crate) fn bool(&self, key: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.get(key, Kind::Bool) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(_) => Err(self.invalid(key, wrong_type(Kind::Bool))),
        }
    }

    /// The list-of-strings value of `key`, if set.
    pub(crate) fn list(&self, key: &'static str) -> Result<Option<Vec<&str>>, ConfigError> {
        let Some(value) = self.get(key, Kind::List) else {
            return Ok(None);
        };
        let items = value
            .as_array()
            .and_then(|items| items.iter().map(Value::as_str).collect::<Option<Vec<_>>>());
        items
            .map(Some)
            .ok_or_else(|| self.invalid(key, wrong_type(Kind::List)))
    }
}

fn wrong_type(kind: Kind) -> Problem {
    let expected = match kind {
        Kind::Str => "a string",
        Kind::Uint => "a non-negative integer",
        Kind::Bool => "true or false",
        Kind::List => "a list of strings (comma-separated in the environment)",
    };
    Problem::WrongType { expected }
}

/// Reads the environment form of a value of `kind`.
fn env_value(kind: Kind, raw: &str) -> Result<Value, Problem> {
    match kind {
        Kind::Str => Ok(Value::String(raw.to_owned())),
        Kind::Uint => raw
            .trim()
            .parse::<u64>()
            .map_err(|_| wrong_type(kind))
            .and_then(|n| {
                i64::try_from(n).map_err(|_| Problem::TooLarge {
                    max: i64::MAX.unsigned_abs(),
                })
            })
            .map(Value::Integer),
        Kind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Boolean(false)),
            _ => Err(wrong_type(kind)),
        },
        Kind::List => Ok(Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_owned()))
                .collect(),
        )),
    }
}
