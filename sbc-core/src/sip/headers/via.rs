//! The Via header (RFC 3261 §20.42, §18.2.1, RFC 3581 `rport`): where
//! responses go back to, and the branch that names a transaction.

use super::params::Params;
use crate::sip::error::Error;
use crate::sip::scan::{Cursor, is_token};
use crate::sip::uri::{Host, split_host_port};

/// The magic cookie that marks an RFC 3261 branch.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

/// One Via element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    /// The transport token (`UDP`, `TCP`, `TLS`, `WS`, …), as written.
    pub transport: &'a [u8],
    /// The host of `sent-by`.
    pub host: Host<'a>,
    /// The port of `sent-by`, if given.
    pub port: Option<u16>,
    /// The Via parameters.
    pub params: Params<'a>,
}

const ERR: Error = Error::Header("Via");

impl<'a> Via<'a> {
    /// Parses one Via element (not a comma-separated list).
    pub fn parse(value: &'a [u8]) -> Result<Via<'a>, Error> {
        let mut c = Cursor::new(value);
        c.skip_lws();
        let name = c.token().ok_or(ERR)?;
        if !name.eq_ignore_ascii_case(b"SIP") || !c.sep(b'/') {
            return Err(ERR);
        }
        if c.token().ok_or(ERR)? != b"2.0" || !c.sep(b'/') {
            return Err(ERR);
        }
        let transport = c.token().ok_or(ERR)?;
        if !c.skip_lws() {
            return Err(ERR);
        }
        let host_start = c.pos();
        if c.peek() == Some(b'[') {
            c.take_while(|b| b != b']');
            if !c.eat(b']') {
                return Err(ERR);
            }
        } else {
            c.take_while(|b| is_token(b) && b != b'%');
        }
        let host_end = c.pos();
        let port = if c.sep(b':') {
            let digits = c.take_while(|b| b.is_ascii_digit());
            let n = crate::sip::scan::parse_u64(digits).ok_or(ERR)?;
            Some(u16::try_from(n).map_err(|_| ERR)?)
        } else {
            None
        };
        let (host_text, _) = split_host_port(c.slice(host_start, host_end)).map_err(|_| ERR)?;
        let host = Host::parse(host_text).map_err(|_| ERR)?;
        let params = Params::parse(&mut c).ok_or(ERR)?;
        c.skip_lws();
        if !c.is_empty() {
            return Err(ERR);
        }
        Ok(Via {
            transport,
            host,
            port,
            params,
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a [u8]> {
        self.params.get("branch").flatten()
    }

    /// True when the branch carries the RFC 3261 magic cookie and something
    /// after it, so it alone identifies the transaction.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| {
            b.len() > BRANCH_COOKIE.len() && b.starts_with(BRANCH_COOKIE.as_bytes())
        })
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&'a [u8]> {
        self.params.get("received").flatten()
    }

    /// `rport`: `None` if absent, `Some(None)` if requested without a value.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params.get("rport").map(|v| {
            v.and_then(|p| crate::sip::scan::parse_u64(p).and_then(|n| u16::try_from(n).ok()))
        })
    }

    /// The `sent-by` text, `host[:port]`, as it would be written.
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_via_with_spaces() {
        let v = Via::parse(b"SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v.transport, b"UDP");
        assert_eq!(v.host, Host::V4("192.0.2.2".parse().unwrap()));
        assert_eq!(v.branch(), Some(&b"390skdjuw"[..]));
        assert!(!v.has_rfc3261_branch());
    }

    #[test]
    fn ipv6_port_and_rport() {
        let v = Via::parse(b"SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKab;rport").unwrap();
        assert_eq!(v.port, Some(5061));
        assert_eq!(v.rport(), Some(None));
        assert!(v.has_rfc3261_branch());
        assert_eq!(v.sent_by(), "[2001:db8::1]:5061");
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"SIP/2.0/UDP 192.0.2.15;;"[..],
            b"SIP/7.0/UDP host",
            b"SIP/2.0/UDP",
            b"SIP/2.0/UDP host:99999",
            b"SIP/2.0/UDP host junk",
        ] {
            assert!(Via::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
