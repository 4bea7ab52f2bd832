//! User agents built on the SIP stack, for testing the stack against real
//! peers and for load tests: [`uac`] places calls at a given rate and
//! answers digest challenges; [`uas`] answers calls. Both are
//! [`TransactionUser`](crate::runtime::sip_core::TransactionUser)s driven by
//! the same runtime as the gateway itself.

pub mod uac;
pub mod uas;
