//! The workload of the comparison of our media relay with rtpengine: so
//! far rtpengine's NG control protocol ([`ng`]) and its encoding
//! ([`bencode`]).

pub mod bencode;
pub mod ng;
