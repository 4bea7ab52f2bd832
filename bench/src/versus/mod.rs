//! The workload of the comparison of our media relay with rtpengine: so
//! far rtpengine's NG control protocol ([`ng`]) and its encoding
//! ([`bencode`]), the host that runs our media runtime in a process of its
//! own and answers the same NG requests ([`host`]), and the per-process
//! accounting read from `/proc` ([`proc_stat`]).

pub mod bencode;
pub mod host;
pub mod ng;
pub mod proc_stat;
