//! Packet-index estimation (RFC 3711 §3.3.1, Appendix A) and the sliding
//! replay window (§3.3.2).

/// Packets behind the highest one still told apart from replays.
pub const REPLAY_WINDOW: u64 = 64;

/// The highest index accepted on a stream and which of the
/// [`REPLAY_WINDOW`] indices below it were seen.
#[derive(Debug, Clone, Copy)]
pub(super) struct ReplayWindow {
    highest: u64,
    /// Bit `i` set: index `highest - i` was accepted.
    seen: u64,
}

/// Why an index is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stale {
    /// Already accepted.
    Replayed,
    /// Behind the window: cannot be told from a replay.
    TooOld,
}

impl ReplayWindow {
    /// A window whose first accepted index is `index`.
    pub(super) fn starting_at(index: u64) -> Self {
        ReplayWindow {
            highest: index,
            seen: 1,
        }
    }

    /// The highest accepted index.
    pub(super) fn highest(&self) -> u64 {
        self.highest
    }

    /// Whether `index` may still be accepted.
    pub(super) fn check(&self, index: u64) -> Result<(), Stale> {
        let Some(behind) = self.highest.checked_sub(index) else {
            return Ok(());
        };
        if behind >= REPLAY_WINDOW {
            return Err(Stale::TooOld);
        }
        if self.seen & (1 << behind) != 0 {
            return Err(Stale::Replayed);
        }
        Ok(())
    }

    /// Records `index` as accepted (after [`check`](Self::check) and
    /// authentication).
    pub(super) fn accept(&mut self, index: u64) {
        match index.checked_sub(self.highest) {
            Some(0) => self.seen |= 1,
            Some(ahead) => {
                self.seen = if ahead >= REPLAY_WINDOW {
                    0
                } else {
                    self.seen << ahead
                };
                self.seen |= 1;
                self.highest = index;
            }
            None => {
                let behind = self.highest - index;
                if behind < REPLAY_WINDOW {
                    self.seen |= 1 << behind;
                }
            }
        }
    }
}

/// The 48-bit index of sequence number `seq` given the highest index so
/// far (RFC 3711 Appendix A); `None` for a packet from before ROC 0.
pub(super) fn estimate_index(highest: u64, seq: u16) -> Option<u64> {
    let roc = highest >> 16;
    let s_l = highest as u16;
    let v = if s_l < 0x8000 {
        if seq > s_l && seq - s_l > 0x8000 {
            roc.checked_sub(1)?
        } else {
            roc
        }
    } else if seq < s_l - 0x8000 {
        roc + 1
    } else {
        roc
    };
    // The ROC is 32 bits: past that the index space is exhausted.
    (v <= u64::from(u32::MAX)).then_some((v << 16) | u64::from(seq))
}
