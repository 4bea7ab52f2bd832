//! SRTP and SRTCP (RFC 3711): the suites `AES_CM_128_HMAC_SHA1_80` and
//! `AES_CM_128_HMAC_SHA1_32` for SDES keys toward the PBX (RFC 4568), and
//! the AEAD profiles `AEAD_AES_128_GCM` and `AEAD_AES_256_GCM` (RFC 7714)
//! that browsers negotiate in DTLS-SRTP; key derivation rate 0, no MKI.
//!
//! One [`SrtpContext`] per direction and master key: the gateway's own key
//! protects what it sends, the peer's key unprotects what it receives. Each
//! context keeps, per SSRC, the highest packet index (and so the rollover
//! counter) and a 64-packet replay window (§3.3.2); that, and the header
//! parsing, are the same for every profile. What differs is the
//! per-packet transform: `aes_cm` (encrypt, then HMAC-SHA1) or `aead`
//! (AES-GCM, the headers as associated data). Unprotecting authenticates
//! before any state changes: a packet that fails changes no state. Nothing
//! here panics on any input; every refusal is a [`SrtpError`] the caller
//! counts ([`SrtpDropCounts`]) and drops.
//!
//! The browser leg keys AEAD contexts (what browsers negotiate) or AES-CM
//! ones from DTLS-SRTP; the PBX leg keys AES-CM ones from SDES.

mod aead;
mod aes_cm;
mod keys;
mod profile;
mod replay;
mod transform;

pub use keys::{KEY_LEN, MasterKey, SALT_LEN};
pub use profile::SrtpProfile;
pub use replay::REPLAY_WINDOW;

use keys::{SRTCP_LABELS, SRTP_LABELS};
use replay::{ReplayWindow, Stale, estimate_index};
use std::fmt;
use transform::Transform;

/// Length of the SRTCP authentication tag of the AES-CM suites (80 bits
/// for both); see [`SrtpProfile::srtcp_tag_len`].
pub const SRTCP_TAG_LEN: usize = 10;
/// Length of the SRTCP `E || index` word.
const SRTCP_INDEX_LEN: usize = 4;
/// The fixed RTP header.
const RTP_HEADER_LEN: usize = 12;
/// The RTCP header and sender SSRC, sent in the clear.
const RTCP_HEADER_LEN: usize = 8;
/// Most SSRCs a context tracks; the oldest is forgotten first.
const MAX_STREAMS: usize = 32;

/// Why a packet was not protected or unprotected. All but
/// [`Malformed`](Self::Malformed) on protect are the sender's fault (or an
/// attacker's): the packet is dropped and counted, nothing is sent back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SrtpError {
    /// Shorter than its header and authentication tag.
    #[error("packet too short for SRTP/SRTCP ({len} bytes)")]
    TooShort {
        /// The packet's length.
        len: usize,
    },
    /// Not version 2, or CSRCs/extension run past the packet; or, on
    /// protect only, a payload too long for AES-GCM (2^36 bytes).
    #[error("malformed RTP/RTCP header")]
    Malformed,
    /// The authentication tag does not match.
    #[error("authentication failed")]
    AuthFailed,
    /// The index was already accepted, or lies behind the replay window.
    #[error("replayed packet (index {index})")]
    Replayed {
        /// The packet's index (SRTP: 48-bit; SRTCP: 31-bit).
        index: u64,
    },
}

/// Counts of packets refused by [`SrtpContext`], by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SrtpDropCounts {
    /// [`SrtpError::TooShort`].
    pub too_short: u64,
    /// [`SrtpError::Malformed`].
    pub malformed: u64,
    /// [`SrtpError::AuthFailed`].
    pub auth_failed: u64,
    /// [`SrtpError::Replayed`].
    pub replayed: u64,
}

impl SrtpDropCounts {
    /// Counts one refusal.
    pub fn count(&mut self, e: &SrtpError) {
        let n = match e {
            SrtpError::TooShort { .. } => &mut self.too_short,
            SrtpError::Malformed => &mut self.malformed,
            SrtpError::AuthFailed => &mut self.auth_failed,
            SrtpError::Replayed { .. } => &mut self.replayed,
        };
        *n += 1;
    }

    /// All refused packets.
    pub fn total(&self) -> u64 {
        self.too_short + self.malformed + self.auth_failed + self.replayed
    }
}

/// Per-SSRC state: the last SRTCP index sent, and the highest index
/// accepted (or sent) with its replay window.
#[derive(Debug, Clone, Copy)]
struct Stream<T> {
    ssrc: u32,
    state: T,
}

/// A small SSRC-keyed table; a few SSRCs per call, so a `Vec`.
#[derive(Debug)]
struct Streams<T>(Vec<Stream<T>>);

impl<T> Streams<T> {
    fn get(&mut self, ssrc: u32) -> Option<&mut T> {
        self.0
            .iter_mut()
            .find(|s| s.ssrc == ssrc)
            .map(|s| &mut s.state)
    }

    fn insert(&mut self, ssrc: u32, state: T) {
        if self.0.len() >= MAX_STREAMS {
            self.0.remove(0);
        }
        self.0.push(Stream { ssrc, state });
    }
}

/// The SRTP/SRTCP state of one master key; see the module docs. Its
/// `Debug` shows no key material.
pub struct SrtpContext {
    profile: SrtpProfile,
    rtp: Transform,
    rtcp: Transform,
    rtp_streams: Streams<ReplayWindow>,
    rtcp_streams: Streams<ReplayWindow>,
    rtcp_next: Streams<u32>,
}

impl fmt::Debug for SrtpContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpContext")
            .field("profile", &self.profile)
            .field("rtp_streams", &self.rtp_streams.0.len())
            .finish_non_exhaustive()
    }
}

/// The RTP header length of `buf`, checked against `len`.
fn rtp_header_len(buf: &[u8], len: usize) -> Result<usize, SrtpError> {
    if buf[0] >> 6 != 2 {
        return Err(SrtpError::Malformed);
    }
    let mut header = RTP_HEADER_LEN + 4 * usize::from(buf[0] & 0x0f);
    if buf[0] & 0x10 != 0 {
        let ext = buf
            .get(header..header + 4)
            .filter(|_| header + 4 <= len)
            .ok_or(SrtpError::Malformed)?;
        header += 4 + 4 * usize::from(u16::from_be_bytes([ext[2], ext[3]]));
    }
    if header > len {
        return Err(SrtpError::Malformed);
    }
    Ok(header)
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn stale(e: Stale, index: u64) -> SrtpError {
    match e {
        Stale::Replayed | Stale::TooOld => SrtpError::Replayed { index },
    }
}

impl SrtpContext {
    /// A context for `master` under `profile`, with no stream yet.
    ///
    /// # Panics
    ///
    /// If `master` is not a key of `profile` ([`MasterKey::fits`]): a bug
    /// in the caller, never a packet's doing. [`Self::try_new`] returns
    /// `None` instead.
    pub fn new(profile: SrtpProfile, master: &MasterKey) -> Self {
        Self::try_new(profile, master).expect("the master key is one of the profile's")
    }

    /// A context for `master` under `profile`, with no stream yet; `None`
    /// if `master`'s lengths are not `profile`'s.
    pub fn try_new(profile: SrtpProfile, master: &MasterKey) -> Option<Self> {
        if !master.fits(profile) {
            return None;
        }
        Some(Self::with_keys(
            profile,
            Transform::derive(profile, master, SRTP_LABELS, profile.rtp_tag_len()),
            Transform::derive(profile, master, SRTCP_LABELS, SRTCP_TAG_LEN),
        ))
    }

    fn with_keys(profile: SrtpProfile, rtp: Transform, rtcp: Transform) -> Self {
        SrtpContext {
            profile,
            rtp,
            rtcp,
            rtp_streams: Streams(Vec::new()),
            rtcp_streams: Streams(Vec::new()),
            rtcp_next: Streams(Vec::new()),
        }
    }

    /// The suite in use.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// The rollover counter of `ssrc` (the highest index's upper 32 bits).
    pub fn roc(&self, ssrc: u32) -> Option<u32> {
        let s = self.rtp_streams.0.iter().find(|s| s.ssrc == ssrc)?;
        Some((s.state.highest() >> 16) as u32)
    }

    /// Encrypts the RTP packet in `packet` in place and appends its tag.
    /// The sender's index follows its sequence numbers (rollover counted
    /// on the 16-bit wrap), so they must not jump by 2^15 or more. An index
    /// already sealed (or older than the window) is refused: sealing two
    /// payloads under one index reuses keystream (RFC 3711 §9.1).
    pub fn protect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        if packet.len() < RTP_HEADER_LEN {
            return Err(SrtpError::TooShort { len: packet.len() });
        }
        let header = rtp_header_len(packet, packet.len())?;
        let ssrc = be32(&packet[8..12]);
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let index = match self.rtp_streams.get(ssrc) {
            Some(w) => {
                let index = estimate_index(w.highest(), seq).ok_or(SrtpError::Replayed {
                    index: u64::from(seq),
                })?;
                w.check(index).map_err(|e| stale(e, index))?;
                index
            }
            None => u64::from(seq),
        };
        self.rtp.seal_rtp(ssrc, index, header, packet)?;
        match self.rtp_streams.get(ssrc) {
            Some(w) => w.accept(index),
            None => self
                .rtp_streams
                .insert(ssrc, ReplayWindow::starting_at(index)),
        }
        Ok(())
    }

    /// Authenticates and decrypts the SRTP packet in `buf` in place;
    /// returns the length of the RTP packet (the tag cut off). On error
    /// the context does not change, and neither does `buf`, but for one
    /// case: under an AEAD profile a packet that fails authentication has
    /// its payload zeroed (GCM decrypts as it authenticates; no
    /// unauthenticated plaintext is left behind).
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, SrtpError> {
        let tag_len = self.profile.rtp_tag_len();
        let Some(len) = buf
            .len()
            .checked_sub(tag_len)
            .filter(|l| *l >= RTP_HEADER_LEN)
        else {
            return Err(SrtpError::TooShort { len: buf.len() });
        };
        let header = rtp_header_len(buf, len)?;
        let ssrc = be32(&buf[8..12]);
        let seq = u16::from_be_bytes([buf[2], buf[3]]);
        let window = self.rtp_streams.get(ssrc).copied();
        let index = match &window {
            Some(w) => {
                let index = estimate_index(w.highest(), seq).ok_or(SrtpError::Replayed {
                    index: u64::from(seq),
                })?;
                w.check(index).map_err(|e| stale(e, index))?;
                index
            }
            None => u64::from(seq),
        };
        self.rtp.open_rtp(ssrc, index, header, len, buf)?;
        match self.rtp_streams.get(ssrc) {
            Some(w) => w.accept(index),
            None => self
                .rtp_streams
                .insert(ssrc, ReplayWindow::starting_at(index)),
        }
        Ok(len)
    }

    /// Encrypts the (compound) RTCP packet in `packet` in place (all but
    /// its first 8 bytes) and appends `E || SRTCP index` and the tag, in
    /// the profile's order. The index counts per sender SSRC from 0; E is
    /// always set.
    pub fn protect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        if packet.len() < RTCP_HEADER_LEN {
            return Err(SrtpError::TooShort { len: packet.len() });
        }
        if packet[0] >> 6 != 2 {
            return Err(SrtpError::Malformed);
        }
        let ssrc = be32(&packet[4..8]);
        let index = match self.rtcp_next.get(ssrc) {
            Some(next) => {
                let index = *next;
                *next = (index + 1) & 0x7fff_ffff;
                index
            }
            None => {
                self.rtcp_next.insert(ssrc, 1);
                0
            }
        };
        self.rtcp.seal_rtcp(ssrc, index, packet)
    }

    /// Authenticates and (if its E flag is set) decrypts the SRTCP packet
    /// in `buf` in place; returns the length of the RTCP packet. On error
    /// the context does not change, and `buf` does not either but for
    /// what [`Self::unprotect_rtp`] says of the AEAD profiles.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, SrtpError> {
        let (trailer, index_at) = self.rtcp.srtcp_trailer();
        let Some(len) = buf
            .len()
            .checked_sub(trailer)
            .filter(|l| *l >= RTCP_HEADER_LEN)
        else {
            return Err(SrtpError::TooShort { len: buf.len() });
        };
        if buf[0] >> 6 != 2 {
            return Err(SrtpError::Malformed);
        }
        let ssrc = be32(&buf[4..8]);
        let e_index = be32(&buf[len + index_at..]);
        let index = u64::from(e_index & 0x7fff_ffff);
        if let Some(w) = self.rtcp_streams.get(ssrc) {
            w.check(index).map_err(|e| stale(e, index))?;
        }
        self.rtcp.open_rtcp(ssrc, e_index, len, buf)?;
        match self.rtcp_streams.get(ssrc) {
            Some(w) => w.accept(index),
            None => self
                .rtcp_streams
                .insert(ssrc, ReplayWindow::starting_at(index)),
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests;
