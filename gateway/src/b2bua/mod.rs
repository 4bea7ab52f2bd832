//! The gateway's half of the B2BUA: where the sans-IO call legs of
//! [`sbc_core::b2bua`] meet the runtime.
//!
//! - [`sip_calls`]: the table of SIP legs inside the SIP core task; it
//!   routes transaction events to the right leg and hands each leg's
//!   events to the signaling session that owns the call.
//! - [`browser_call`]: one browser-placed call as the signaling session
//!   drives it: media runtime and SIP leg in step, protocol events out.
//! - [`registrations`]: the browser users' registrations at the PBX, in
//!   the SIP core next to the call legs.

pub mod browser_call;
pub mod registrations;
pub mod sip_calls;
