//! Headers with a single scalar or short value: CSeq, Max-Forwards,
//! Content-Length, Expires, Content-Type, and option-tag lists (Supported,
//! Require, Proxy-Require, Unsupported, Allow).

use super::params::Params;
use crate::sip::error::Error;
use crate::sip::method::Method;
use crate::sip::scan::{CommaSplit, Cursor, is_token_str, parse_u64, trim};

/// The CSeq header: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number, below 2^31 (RFC 3261 §8.1.1.5).
    pub seq: u32,
    /// The method.
    pub method: Method,
}

impl CSeq {
    /// Parses `1*DIGIT LWS Method`.
    pub fn parse(value: &[u8]) -> Result<CSeq, Error> {
        let err = Error::Header("CSeq");
        let mut c = Cursor::new(value);
        c.skip_lws();
        let digits = c.take_while(|b| b.is_ascii_digit());
        let seq = parse_u64(digits).ok_or(err.clone())?;
        if seq >= 1 << 31 || !c.skip_lws() {
            return Err(err);
        }
        let method = c.token().ok_or(err.clone())?;
        c.skip_lws();
        if !c.is_empty() {
            return Err(err);
        }
        Ok(CSeq {
            seq: u32::try_from(seq).map_err(|_| err)?,
            method: Method::from_bytes(method),
        })
    }
}

/// Parses a header that is one unsigned decimal number.
pub(crate) fn parse_number(value: &[u8], header: &'static str) -> Result<u64, Error> {
    parse_u64(trim(value)).ok_or(Error::Header(header))
}

/// Max-Forwards: 0..=255.
pub fn parse_max_forwards(value: &[u8]) -> Result<u8, Error> {
    let n = parse_number(value, "Max-Forwards")?;
    u8::try_from(n).map_err(|_| Error::Header("Max-Forwards"))
}

/// Expires (delta-seconds): values past 2^32-1 are read as 2^32-1, as
/// RFC 3261 §25.1 prescribes for delta-seconds.
pub fn parse_expires(value: &[u8]) -> Result<u32, Error> {
    let v = trim(value);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return Err(Error::Header("Expires"));
    }
    Ok(parse_u64(v)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(u32::MAX))
}

/// A media type with parameters (Content-Type, Accept elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// The type (`application`).
    pub kind: &'a [u8],
    /// The subtype (`sdp`).
    pub subtype: &'a [u8],
    /// Parameters (`;charset=…`).
    pub params: Params<'a>,
}

impl<'a> MediaType<'a> {
    /// Parses `type "/" subtype *( ";" param )`.
    pub fn parse(value: &'a [u8]) -> Result<MediaType<'a>, Error> {
        let err = Error::Header("Content-Type");
        let mut c = Cursor::new(value);
        c.skip_lws();
        let kind = c.token().ok_or(err.clone())?;
        if !c.sep(b'/') {
            return Err(err);
        }
        let subtype = c.token().ok_or(err.clone())?;
        let params = Params::parse(&mut c).ok_or(err.clone())?;
        c.skip_lws();
        if !c.is_empty() {
            return Err(err);
        }
        Ok(MediaType {
            kind,
            subtype,
            params,
        })
    }

    /// True when this is `kind/subtype`, ignoring case; `*` matches anything.
    pub fn is(&self, kind: &str, subtype: &str) -> bool {
        let matches =
            |have: &[u8], want: &str| have == b"*" || have.eq_ignore_ascii_case(want.as_bytes());
        matches(self.kind, kind) && matches(self.subtype, subtype)
    }
}

/// Iterates the tokens of a comma-separated option-tag list; an element that
/// is not a token yields an error.
pub fn tokens(value: &[u8]) -> impl Iterator<Item = Result<&[u8], Error>> {
    CommaSplit::new(value).filter(|t| !t.is_empty()).map(|t| {
        if is_token_str(t) {
            Ok(t)
        } else {
            Err(Error::Header("option-tag list"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq() {
        let c = CSeq::parse(b"0009\r\n  INVITE").unwrap();
        assert_eq!((c.seq, c.method), (9, Method::Invite));
        assert!(CSeq::parse(b"36893488147419103232 REGISTER").is_err());
        assert!(CSeq::parse(b"2147483648 INVITE").is_err());
        assert!(CSeq::parse(b"1INVITE").is_err());
        assert!(CSeq::parse(b"1 INVITE x").is_err());
    }

    #[test]
    fn scalars() {
        assert_eq!(parse_max_forwards(b"0068"), Ok(68));
        assert!(parse_max_forwards(b"300").is_err());
        assert_eq!(parse_expires(b"1000000000000000000000000"), Ok(u32::MAX));
        assert!(parse_expires(b"-1").is_err());
    }

    #[test]
    fn media_types_and_tags() {
        let m = MediaType::parse(b"application/sdp;charset=utf-8").unwrap();
        assert!(m.is("application", "SDP"));
        assert!(MediaType::parse(b"application").is_err());
        let t: Vec<_> = tokens(b"timer, 100rel,\r\n replaces")
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(t, vec![&b"timer"[..], b"100rel", b"replaces"]);
    }
}
