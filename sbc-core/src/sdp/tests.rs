//! Tests of the SDP module: parser and printer, typed attributes, codecs.

mod attributes;
pub(crate) mod fixtures;
mod parse;
mod properties;
mod sdes;
mod translate;
