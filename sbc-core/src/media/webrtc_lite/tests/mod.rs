//! Tests of the str0m-free transport: the responder against hand-made
//! checks (`ice`), two endpoints of ours against each other (`dtls`).

mod dtls;
mod ice;
