//! Tests of the str0m-free transport: the responder against hand-made
//! checks (`ice`).

mod ice;
