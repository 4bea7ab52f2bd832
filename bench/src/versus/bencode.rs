//! Bencode (the BitTorrent encoding that rtpengine's NG control protocol
//! carries): integers, byte strings, lists and dictionaries with byte-string
//! keys. [`Value::encode`] writes canonical bencode (keys sorted);
//! [`Value::decode`] reads exactly one value, refusing truncated input,
//! trailing bytes, malformed numbers and non-string keys; nesting is
//! bounded, so a hostile datagram cannot exhaust the stack.

use std::collections::BTreeMap;

/// Deepest nesting of lists and dictionaries [`Value::decode`] accepts.
const MAX_DEPTH: usize = 32;

/// One bencoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `i…e`
    Int(i64),
    /// `len:bytes`
    Bytes(Vec<u8>),
    /// `l…e`
    List(Vec<Value>),
    /// `d…e`, keys sorted (a `BTreeMap` keeps them so).
    Dict(BTreeMap<Vec<u8>, Value>),
}

/// Why a byte string is not one bencoded value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a value.
    #[error("bencode ends early")]
    Truncated,
    /// A byte that cannot start or continue a value, at this offset.
    #[error("unexpected byte at offset {0}")]
    Unexpected(usize),
    /// An integer or length that does not parse or does not fit.
    #[error("bad number at offset {0}")]
    BadNumber(usize),
    /// A dictionary key that is not a byte string, at this offset.
    #[error("dictionary key at offset {0} is not a string")]
    KeyNotString(usize),
    /// Nesting deeper than the limit.
    #[error("nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// Bytes after the value.
    #[error("{0} bytes after the value")]
    Trailing(usize),
}

impl Value {
    /// A byte string from text.
    pub fn str(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    /// A list of byte strings from text.
    pub fn str_list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::str(s)).collect())
    }

    /// A dictionary from text keys.
    pub fn dict<'a>(entries: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        Value::Dict(
            entries
                .into_iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v))
                .collect(),
        )
    }

    /// The entry `key` of a dictionary.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(d) => d.get(key.as_bytes()),
            _ => None,
        }
    }

    /// A byte string as UTF-8 text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The text of dictionary entry `key`.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// The first byte string under `key` anywhere in the value, depth first.
    pub fn find_str(&self, key: &str) -> Option<&str> {
        match self {
            Value::Dict(d) => d
                .get(key.as_bytes())
                .and_then(Value::as_str)
                .or_else(|| d.values().find_map(|v| v.find_str(key))),
            Value::List(items) => items.iter().find_map(|v| v.find_str(key)),
            _ => None,
        }
    }

    /// Appends the value's canonical encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(i) => {
                out.push(b'i');
                out.extend_from_slice(i.to_string().as_bytes());
                out.push(b'e');
            }
            Value::Bytes(b) => encode_bytes(b, out),
            Value::List(items) => {
                out.push(b'l');
                for item in items {
                    item.encode(out);
                }
                out.push(b'e');
            }
            Value::Dict(entries) => {
                out.push(b'd');
                for (k, v) in entries {
                    encode_bytes(k, out);
                    v.encode(out);
                }
                out.push(b'e');
            }
        }
    }

    /// The value's canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Reads exactly one value from `input`.
    pub fn decode(input: &[u8]) -> Result<Value, DecodeError> {
        let mut d = Decoder { input, at: 0 };
        let v = d.value(0)?;
        match input.len() - d.at {
            0 => Ok(v),
            n => Err(DecodeError::Trailing(n)),
        }
    }
}

fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

struct Decoder<'a> {
    input: &'a [u8],
    at: usize,
}

impl Decoder<'_> {
    fn peek(&self) -> Result<u8, DecodeError> {
        self.input
            .get(self.at)
            .copied()
            .ok_or(DecodeError::Truncated)
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        match self.peek()? {
            b'i' => {
                self.at += 1;
                let start = self.at;
                let digits = self.until(b'e')?;
                let n = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(DecodeError::BadNumber(start))?;
                Ok(Value::Int(n))
            }
            b'0'..=b'9' => self.bytes().map(Value::Bytes),
            b'l' => {
                let depth = nested(depth)?;
                self.at += 1;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth)?);
                }
                self.at += 1;
                Ok(Value::List(items))
            }
            b'd' => {
                let depth = nested(depth)?;
                self.at += 1;
                let mut entries = BTreeMap::new();
                while self.peek()? != b'e' {
                    if !self.peek()?.is_ascii_digit() {
                        return Err(DecodeError::KeyNotString(self.at));
                    }
                    let key = self.bytes()?;
                    let value = self.value(depth)?;
                    entries.insert(key, value);
                }
                self.at += 1;
                Ok(Value::Dict(entries))
            }
            _ => Err(DecodeError::Unexpected(self.at)),
        }
    }

    /// `len:bytes`
    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let start = self.at;
        let digits = self.until(b':')?;
        let len: usize = std::str::from_utf8(digits)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or(DecodeError::BadNumber(start))?;
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.input.len())
            .ok_or(DecodeError::Truncated)?;
        let b = self.input[self.at..end].to_vec();
        self.at = end;
        Ok(b)
    }

    /// The bytes up to `end`, which is consumed too.
    fn until(&mut self, end: u8) -> Result<&[u8], DecodeError> {
        let rest = &self.input[self.at..];
        let n = rest
            .iter()
            .position(|&b| b == end)
            .ok_or(DecodeError::Truncated)?;
        self.at += n + 1;
        Ok(&rest[..n])
    }
}

fn nested(depth: usize) -> Result<usize, DecodeError> {
    if depth >= MAX_DEPTH {
        Err(DecodeError::TooDeep)
    } else {
        Ok(depth + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_an_ng_offer_canonically() {
        let v = Value::dict([
            ("sdp", Value::str("v=0")),
            ("command", Value::str("offer")),
            ("rtcp-mux", Value::str_list(&["demux"])),
            ("n", Value::Int(-3)),
        ]);
        assert_eq!(
            v.to_bytes(),
            b"d7:command5:offer1:ni-3e8:rtcp-muxl5:demuxe3:sdp3:v=0e".to_vec()
        );
    }

    #[test]
    fn round_trips() {
        let v = Value::dict([
            ("result", Value::str("ok")),
            (
                "list",
                Value::List(vec![Value::Int(0), Value::Bytes(vec![0, 255])]),
            ),
            ("empty", Value::dict([])),
        ]);
        assert_eq!(Value::decode(&v.to_bytes()), Ok(v));
    }

    #[test]
    fn reads_rtpengine_replies() {
        let v = Value::decode(b"d6:result4:ponge").unwrap();
        assert_eq!(v.get_str("result"), Some("pong"));
        assert_eq!(v.get_str("sdp"), None);
    }

    #[test]
    fn finds_a_nested_string() {
        let v = Value::dict([(
            "tags",
            Value::List(vec![Value::dict([("crypto suite", Value::str("X"))])]),
        )]);
        assert_eq!(v.find_str("crypto suite"), Some("X"));
        assert_eq!(v.find_str("nothing"), None);
    }

    #[test]
    fn refuses_what_is_not_one_value() {
        for (input, err) in [
            (&b""[..], DecodeError::Truncated),
            (b"5:abc", DecodeError::Truncated),
            (b"i12", DecodeError::Truncated),
            (b"ixe", DecodeError::BadNumber(1)),
            (b"-1:a", DecodeError::Unexpected(0)),
            (b"d1:a", DecodeError::Truncated),
            (b"di1ei2ee", DecodeError::KeyNotString(1)),
            (b"le5", DecodeError::Trailing(1)),
            (b"x", DecodeError::Unexpected(0)),
            (b"99999999999999999999999:a", DecodeError::BadNumber(0)),
            (b"18446744073709551615:a", DecodeError::Truncated),
        ] {
            assert_eq!(Value::decode(input), Err(err), "{input:?}");
        }
    }

    #[test]
    fn bounds_nesting() {
        let deep = [vec![b'l'; 40], vec![b'e'; 40]].concat();
        assert_eq!(Value::decode(&deep), Err(DecodeError::TooDeep));
        let ok = [vec![b'l'; 32], vec![b'e'; 32]].concat();
        assert!(Value::decode(&ok).is_ok());
    }
}
