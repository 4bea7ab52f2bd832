//! Tests of the str0m-free transport: the responder against hand-made
//! checks (`ice`), two endpoints of ours against each other (`dtls`), both
//! against a str0m peer playing the browser on a virtual clock (`peer`,
//! whose media, protected with `media::srtp` from the exported keys, str0m
//! opens), and mutated and random input that must never panic
//! (`mutation`).

mod dtls;
pub(crate) mod ice;
mod mutation;
mod peer;
