//! The four state machines behind one type, so the layer can hold them in
//! one table and dispatch inputs, timers and queries to the right one.

use super::client::{InviteClient, NonInviteClient};
use super::common::{Common, Ctx};
use super::server::{InviteServer, NonInviteServer};
use super::timer::Timer;
use super::{TransactionKind, TransactionState};
use crate::sip::message::Message;

/// One of the four state machines.
#[derive(Debug)]
pub(crate) enum Machine {
    InviteClient(InviteClient),
    NonInviteClient(NonInviteClient),
    InviteServer(InviteServer),
    NonInviteServer(NonInviteServer),
}

impl Machine {
    pub(crate) fn common(&self) -> &Common {
        match self {
            Machine::InviteClient(m) => &m.common,
            Machine::NonInviteClient(m) => &m.common,
            Machine::InviteServer(m) => &m.common,
            Machine::NonInviteServer(m) => &m.common,
        }
    }

    pub(crate) fn common_mut(&mut self) -> &mut Common {
        match self {
            Machine::InviteClient(m) => &mut m.common,
            Machine::NonInviteClient(m) => &mut m.common,
            Machine::InviteServer(m) => &mut m.common,
            Machine::NonInviteServer(m) => &mut m.common,
        }
    }

    pub(crate) fn state(&self) -> TransactionState {
        match self {
            Machine::InviteClient(m) => m.state(),
            Machine::NonInviteClient(m) => m.state(),
            Machine::InviteServer(m) => m.state(),
            Machine::NonInviteServer(m) => m.state(),
        }
    }

    pub(crate) fn kind(&self) -> TransactionKind {
        match self {
            Machine::InviteClient(_) => TransactionKind::InviteClient,
            Machine::NonInviteClient(_) => TransactionKind::NonInviteClient,
            Machine::InviteServer(_) => TransactionKind::InviteServer,
            Machine::NonInviteServer(_) => TransactionKind::NonInviteServer,
        }
    }

    pub(crate) fn is_terminated(&self) -> bool {
        match self {
            Machine::InviteClient(m) => m.is_terminated(),
            Machine::NonInviteClient(m) => m.is_terminated(),
            Machine::InviteServer(m) => m.is_terminated(),
            Machine::NonInviteServer(m) => m.is_terminated(),
        }
    }

    /// Returns a CANCEL the layer must send (Timer C).
    pub(crate) fn on_timer(&mut self, timer: Timer, ctx: &mut Ctx<'_>) -> Option<Message> {
        match self {
            Machine::InviteClient(m) => return m.on_timer(timer, ctx),
            Machine::NonInviteClient(m) => m.on_timer(timer, ctx),
            Machine::InviteServer(m) => m.on_timer(timer, ctx),
            Machine::NonInviteServer(m) => m.on_timer(timer),
        }
        None
    }

    pub(crate) fn on_transport_error(&mut self, ctx: &mut Ctx<'_>) {
        match self {
            Machine::InviteClient(m) => m.on_transport_error(ctx),
            Machine::NonInviteClient(m) => m.on_transport_error(ctx),
            Machine::InviteServer(m) => m.on_transport_error(ctx),
            Machine::NonInviteServer(m) => m.on_transport_error(ctx),
        }
    }

    pub(crate) fn on_retransmission(&mut self, ctx: &mut Ctx<'_>) {
        match self {
            Machine::InviteServer(m) => m.on_retransmission(ctx),
            Machine::NonInviteServer(m) => m.on_retransmission(ctx),
            Machine::InviteClient(_) | Machine::NonInviteClient(_) => {}
        }
    }
}
