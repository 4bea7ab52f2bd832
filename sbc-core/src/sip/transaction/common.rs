//! What every state machine shares: its handle, its peer and its timers
//! (`Common`), and the output queues the layer drains (`Output`), reached
//! through the per-call context (`Ctx`).

use super::key::TransactionId;
use super::timer::{Timer, TimerConfig, TimerTable};
use super::{Peer, TransactionEvent, Transmit};
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Transmits and events waiting to be polled, and the metrics counter.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<TransactionEvent>,
    pub(crate) retransmissions: u64,
}

/// The inputs and outputs of one call into a state machine.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Instant,
    pub(crate) config: &'a TimerConfig,
    pub(crate) out: &'a mut Output,
}

impl Ctx<'_> {
    pub(crate) fn event(&mut self, event: TransactionEvent) {
        self.out.events.push_back(event);
    }
}

/// The part of a transaction that is not its state.
#[derive(Debug)]
pub(crate) struct Common {
    pub(crate) id: TransactionId,
    pub(crate) peer: Peer,
    pub(crate) timers: TimerTable,
}

impl Common {
    pub(crate) fn new(id: TransactionId, peer: Peer) -> Common {
        Common {
            id,
            peer,
            timers: TimerTable::default(),
        }
    }

    /// Arms `timer` for its duration from the table; returns that duration,
    /// or `None` (nothing armed) where the transport does not use it.
    pub(crate) fn arm(&mut self, timer: Timer, ctx: &Ctx<'_>) -> Option<Duration> {
        let d = timer.duration(ctx.config, self.peer.transport.is_reliable())?;
        self.arm_in(timer, d, ctx);
        Some(d)
    }

    /// Arms `timer` to fire `d` from now.
    pub(crate) fn arm_in(&mut self, timer: Timer, d: Duration, ctx: &Ctx<'_>) {
        self.timers.set(timer, ctx.now + d);
    }

    /// Queues `message` for the peer.
    pub(crate) fn send(&self, message: Bytes, ctx: &mut Ctx<'_>) {
        tracing::trace!(id = %self.id, transport = %self.peer.transport, "transmit");
        ctx.out.transmits.push_back(Transmit {
            to: self.peer,
            message,
        });
    }

    /// Queues `message` again, counting it as a retransmission.
    pub(crate) fn resend(&self, message: Bytes, ctx: &mut Ctx<'_>) {
        ctx.out.retransmissions += 1;
        self.send(message, ctx);
    }
}
