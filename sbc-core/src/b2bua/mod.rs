//! The B2BUA: a call is a browser leg and a SIP leg with independent
//! dialogs. This module owns the SIP side of that split, sans-IO:
//!
//! - [`target`]: where a browser's `call` goes (the Request-URI made from
//!   its `to`, toward the configured PBX);
//! - [`header_policy`]: which browser-supplied headers may reach the PBX
//!   (an allow-list, `X-*` by default), and which never may;
//! - [`sip_leg`]: the SIP leg of a call, placed by the browser (UAC) or
//!   by the PBX to a registered browser (UAS): INVITE with
//!   the gateway's own Call-ID, tags, Via and Contact; provisional and
//!   final responses, digest challenges, ACK, CANCEL and BYE; and the
//!   events the signaling layer turns into protocol frames;
//! - [`registration`]: a browser user's registration at the PBX with the
//!   gateway's Contact (digest, refresh, removal).
//!
//! Nothing of the browser's side is copied into the SIP leg but the dialled
//! target, the translated SDP and the headers the policy lets through, so
//! topology hiding holds by construction.

pub mod header_policy;
pub mod registration;
pub mod sip_leg;
pub mod target;

pub use header_policy::{HeaderError, HeaderPolicy};
pub use registration::{Registration, RegistrationConfig, RegistrationEvent};
pub use sip_leg::{EndCause, LegConfig, LegError, LegEvent, SipLeg};
pub use target::{PbxTarget, RouteError};
