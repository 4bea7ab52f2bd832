//! The browser side of the gateway: protocol v1 over one WebSocket per
//! browser. [`protocol`] parses and checks frames and builds the answers
//! and events; [`session`] is one browser's session: its state, its calls
//! and its limits; [`resume`] keeps sessions whose socket dropped for
//! their grace period; [`token`] checks the browsers' tokens.

pub mod protocol;
pub mod resume;
pub mod session;
pub mod token;
