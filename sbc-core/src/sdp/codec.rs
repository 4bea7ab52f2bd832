//! Codecs and payload types: which codec an RTP payload type names on one
//! side (`rtpmap`, or the static table of RFC 3551 §6), which codecs the
//! gateway relays ([`CodecPolicy`]), and the [`PayloadMap`] that pairs the
//! browser's payload-type numbers with the PBX's for every codec both sides
//! agreed on, telephone-event (RFC 4733) included at each codec's clock rate.

use super::model::MediaDescription;
use super::rtp_attrs::Rtpmap;

/// A codec, identified as SDP identifies it: encoding name, RTP clock rate
/// and channel count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Codec {
    /// `opus/48000/2` (RFC 7587: always written with 2 channels).
    Opus,
    /// `PCMU/8000`, G.711 µ-law, static payload type 0.
    Pcmu,
    /// `PCMA/8000`, G.711 A-law, static payload type 8.
    Pcma,
    /// `G722/8000`, static payload type 9. G.722 samples at 16 kHz but its
    /// RTP clock runs at 8000 Hz (RFC 3551 §4.5.2), so SDP says 8000 and the
    /// matching telephone-event is the 8000 Hz one.
    G722,
    /// `telephone-event/<rate>` (RFC 4733), at 8000 or 48000 Hz in practice.
    TelephoneEvent {
        /// The RTP clock rate, that of the codec it travels with.
        clock_rate: u32,
    },
    /// Any other codec, kept by name.
    Other {
        /// The encoding name, as written.
        name: String,
        /// The RTP clock rate.
        clock_rate: u32,
        /// The channel count (1 when not written).
        channels: u16,
    },
}

impl Codec {
    /// The codec an `rtpmap` names.
    pub fn from_rtpmap(r: &Rtpmap) -> Self {
        Codec::from_parts(&r.encoding, r.clock_rate, r.channels.unwrap_or(1))
    }

    /// The codec of `name/clock_rate/channels`, names compared
    /// case-insensitively.
    pub fn from_parts(name: &str, clock_rate: u32, channels: u16) -> Self {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        match (clock_rate, channels) {
            (48000, 2) if is("opus") => Codec::Opus,
            (8000, 1) if is("PCMU") => Codec::Pcmu,
            (8000, 1) if is("PCMA") => Codec::Pcma,
            (8000, 1) if is("G722") => Codec::G722,
            (rate, 1) if is("telephone-event") => Codec::TelephoneEvent { clock_rate: rate },
            _ => Codec::Other {
                name: name.into(),
                clock_rate,
                channels,
            },
        }
    }

    /// The codec of a static payload type of RFC 3551 §6 that a gateway
    /// might meet without an `rtpmap` (audio only).
    pub fn from_static(pt: u8) -> Option<Self> {
        let other = |name: &str| Codec::from_parts(name, 8000, 1);
        Some(match pt {
            0 => Codec::Pcmu,
            3 => other("GSM"),
            4 => other("G723"),
            8 => Codec::Pcma,
            9 => Codec::G722,
            13 => other("CN"),
            18 => other("G729"),
            _ => return None,
        })
    }

    /// The encoding name as this crate writes it.
    pub fn name(&self) -> &str {
        match self {
            Codec::Opus => "opus",
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::G722 => "G722",
            Codec::TelephoneEvent { .. } => "telephone-event",
            Codec::Other { name, .. } => name,
        }
    }

    /// The RTP clock rate (8000 for G.722, see [`Codec::G722`]).
    pub fn clock_rate(&self) -> u32 {
        match self {
            Codec::Opus => 48000,
            Codec::Pcmu | Codec::Pcma | Codec::G722 => 8000,
            Codec::TelephoneEvent { clock_rate } | Codec::Other { clock_rate, .. } => *clock_rate,
        }
    }

    /// The channel count.
    pub fn channels(&self) -> u16 {
        match self {
            Codec::Opus => 2,
            Codec::Other { channels, .. } => *channels,
            _ => 1,
        }
    }

    /// Whether both name the same codec: same name (case-insensitively),
    /// clock rate and channels.
    pub fn matches(&self, other: &Codec) -> bool {
        self.same_family(other)
            && self.clock_rate() == other.clock_rate()
            && self.channels() == other.channels()
    }

    /// Whether both have the same encoding name, whatever the clock rate.
    pub fn same_family(&self, other: &Codec) -> bool {
        self.name().eq_ignore_ascii_case(other.name())
    }

    /// Whether this is telephone-event.
    pub fn is_telephone_event(&self) -> bool {
        matches!(self, Codec::TelephoneEvent { .. })
    }

    /// The `rtpmap` for this codec on payload type `pt`.
    pub fn rtpmap(&self, pt: u8) -> Rtpmap {
        Rtpmap {
            payload_type: pt,
            encoding: self.name().into(),
            clock_rate: self.clock_rate(),
            channels: (self.channels() != 1).then_some(self.channels()),
        }
    }
}

/// One payload type of one side: its number, codec and format parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFormat {
    /// The payload type.
    pub payload_type: u8,
    /// The codec it carries.
    pub codec: Codec,
    /// The `fmtp` parameters, verbatim.
    pub fmtp: Option<String>,
}

impl PayloadFormat {
    /// The formats of a media section in `m=` order. A payload type is read
    /// from its `rtpmap`, else from the static table; one that is neither
    /// (a dynamic type without `rtpmap`) is left out.
    pub fn all_of(m: &MediaDescription) -> Vec<PayloadFormat> {
        let mut out: Vec<PayloadFormat> = Vec::new();
        for pt in m.payload_types() {
            if out.iter().any(|f| f.payload_type == pt) {
                continue;
            }
            let codec = match m.rtpmap(pt) {
                Some(r) => Codec::from_rtpmap(&r),
                None => match Codec::from_static(pt) {
                    Some(c) => c,
                    None => continue,
                },
            };
            out.push(PayloadFormat {
                payload_type: pt,
                codec,
                fmtp: m.fmtp(pt).map(|f| f.params),
            });
        }
        out
    }
}

/// Which codecs the gateway relays between the two sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecPolicy {
    /// The allowed codecs, matched by name ([`Codec::same_family`]); order
    /// does not matter, the offerer's order is kept.
    pub allowed: Vec<Codec>,
}

impl Default for CodecPolicy {
    /// Opus, PCMU, PCMA, G722 and telephone-event: the codecs both browsers
    /// and PBXs speak, relayed without transcoding.
    fn default() -> Self {
        CodecPolicy {
            allowed: vec![
                Codec::Opus,
                Codec::Pcmu,
                Codec::Pcma,
                Codec::G722,
                Codec::TelephoneEvent { clock_rate: 8000 },
            ],
        }
    }
}

impl CodecPolicy {
    /// Whether `codec` may be relayed.
    pub fn allows(&self, codec: &Codec) -> bool {
        self.allowed.iter().any(|a| a.same_family(codec))
    }

    /// The allowed formats of `formats`, in their order; telephone-event
    /// is kept only at the clock rate of an audio codec that is kept.
    pub fn filter(&self, formats: &[PayloadFormat]) -> Vec<PayloadFormat> {
        let audio: Vec<&PayloadFormat> = formats
            .iter()
            .filter(|f| !f.codec.is_telephone_event() && self.allows(&f.codec))
            .collect();
        formats
            .iter()
            .filter(|f| match f.codec {
                Codec::TelephoneEvent { clock_rate } => {
                    self.allows(&f.codec)
                        && audio.iter().any(|a| a.codec.clock_rate() == clock_rate)
                }
                _ => self.allows(&f.codec),
            })
            .cloned()
            .collect()
    }
}

/// One codec both sides agreed on, with each side's payload type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadPair {
    /// The codec.
    pub codec: Codec,
    /// Its payload type on the browser leg.
    pub browser: u8,
    /// Its payload type on the PBX leg.
    pub pbx: u8,
}

/// The payload-type translation the relay applies, both ways.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayloadMap {
    pairs: Vec<PayloadPair>,
}

impl PayloadMap {
    /// Pairs every format of `chosen` (the answer's side, in its order of
    /// preference) with the first format of `offered` that carries the same
    /// codec; each payload type is used once. `chosen_is_pbx` says which
    /// side `chosen` is.
    pub fn negotiate(
        offered: &[PayloadFormat],
        chosen: &[PayloadFormat],
        chosen_is_pbx: bool,
    ) -> Self {
        let mut pairs: Vec<PayloadPair> = Vec::new();
        for c in chosen {
            let taken = |pt: u8| {
                pairs
                    .iter()
                    .any(|p| (if chosen_is_pbx { p.browser } else { p.pbx }) == pt)
            };
            let Some(o) = offered
                .iter()
                .find(|o| o.codec.matches(&c.codec) && !taken(o.payload_type))
            else {
                continue;
            };
            let (browser, pbx) = if chosen_is_pbx {
                (o.payload_type, c.payload_type)
            } else {
                (c.payload_type, o.payload_type)
            };
            if pairs.iter().any(|p| p.browser == browser || p.pbx == pbx) {
                continue;
            }
            pairs.push(PayloadPair {
                codec: c.codec.clone(),
                browser,
                pbx,
            });
        }
        PayloadMap { pairs }
    }

    /// The pairs, in the answerer's order.
    pub fn pairs(&self) -> &[PayloadPair] {
        &self.pairs
    }

    /// Whether at least one codec other than telephone-event is shared.
    pub fn has_audio(&self) -> bool {
        self.pairs.iter().any(|p| !p.codec.is_telephone_event())
    }

    /// The PBX payload type for a browser payload type.
    pub fn to_pbx(&self, browser_pt: u8) -> Option<u8> {
        self.pairs
            .iter()
            .find(|p| p.browser == browser_pt)
            .map(|p| p.pbx)
    }

    /// The browser payload type for a PBX payload type.
    pub fn to_browser(&self, pbx_pt: u8) -> Option<u8> {
        self.pairs
            .iter()
            .find(|p| p.pbx == pbx_pt)
            .map(|p| p.browser)
    }

    /// The telephone-event pair that goes with `codec` (same clock rate).
    pub fn telephone_event_for(&self, codec: &Codec) -> Option<&PayloadPair> {
        self.pairs
            .iter()
            .find(|p| p.codec.is_telephone_event() && p.codec.clock_rate() == codec.clock_rate())
    }
}
