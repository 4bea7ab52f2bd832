//! A MOS estimate from the ITU-T G.107 E-model, simplified as usual for
//! VoIP monitoring (Cole and Rosenbluth, 2001): all default planning values,
//! so `R = 93.2 − Id − Ie,eff`, with the delay impairment
//! `Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)` for a one-way
//! mouth-to-ear delay `d` in ms, the effective equipment impairment
//! `Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl/BurstR + Bpl)` (G.107 §7.5, random
//! loss: `BurstR = 1`), and `MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶`
//! clamped to 1.0..=4.5 (G.107 Annex B).

/// Codec values of the E-model: equipment impairment and packet-loss
/// robustness (ITU-T G.113 Appendix I).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecImpairment {
    /// Equipment impairment factor `Ie` of the codec without loss.
    pub ie: f64,
    /// Packet-loss robustness factor `Bpl`.
    pub bpl: f64,
}

impl CodecImpairment {
    /// G.711 with packet-loss concealment (G.711 Appendix I): `Ie` 0,
    /// `Bpl` 25.1 (G.113 Appendix I, Table I.3).
    pub const G711_PLC: Self = CodecImpairment { ie: 0.0, bpl: 25.1 };
    /// G.711 without concealment, random loss: `Ie` 0, `Bpl` 4.3
    /// (G.113 Appendix I).
    pub const G711: Self = CodecImpairment { ie: 0.0, bpl: 4.3 };
    /// Opus as browsers send it (20 ms frames, 24–40 kb/s, built-in PLC).
    /// G.113 gives no figures for Opus; these are ours: `Ie` 0 (at those
    /// rates Opus is transparent on the E-model's narrowband scale) and
    /// `Bpl` 25.1, the G.711-with-PLC value, which is conservative since
    /// Opus conceals at least as well and in-band FEC only helps.
    pub const OPUS: Self = CodecImpairment { ie: 0.0, bpl: 25.1 };
}

/// R of a connection with default planning values and no impairment.
pub const R_DEFAULT: f64 = 93.2;

/// The transmission rating R for a one-way delay in ms and a packet loss in
/// percent (0..=100), with the codec's impairment.
pub fn r_factor(one_way_delay_ms: f64, loss_percent: f64, codec: CodecImpairment) -> f64 {
    let d = one_way_delay_ms.max(0.0);
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    let ppl = loss_percent.clamp(0.0, 100.0);
    let ie_eff = codec.ie + (95.0 - codec.ie) * ppl / (ppl + codec.bpl);
    R_DEFAULT - id - ie_eff
}

/// MOS (conversational quality, 1.0..=4.5) from R (G.107 Annex B).
pub fn mos_from_r(r: f64) -> f64 {
    if r.is_nan() || r <= 0.0 {
        return 1.0;
    }
    if r >= 100.0 {
        return 4.5;
    }
    (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6).clamp(1.0, 4.5)
}

/// MOS for a one-way delay in ms and a loss in percent.
pub fn mos(one_way_delay_ms: f64, loss_percent: f64, codec: CodecImpairment) -> f64 {
    mos_from_r(r_factor(one_way_delay_ms, loss_percent, codec))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, eps: f64) -> bool {
        (a - b).abs() < eps
    }

    #[test]
    fn known_figures() {
        // The default connection: R 93.2, MOS 4.41.
        assert!(close(mos_from_r(93.2), 4.41, 0.005));
        assert!(close(
            r_factor(0.0, 0.0, CodecImpairment::G711_PLC),
            93.2,
            1e-9
        ));
        // G.107 Annex B anchors: R 50 → MOS 2.58, R 80 → 4.02, R 70 → 3.60.
        assert!(close(mos_from_r(50.0), 2.58, 0.01));
        assert!(close(mos_from_r(80.0), 4.02, 0.01));
        assert!(close(mos_from_r(70.0), 3.60, 0.01));
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
        assert_eq!(mos_from_r(f64::NAN), 1.0);
    }

    #[test]
    fn delay_and_loss_impairments() {
        // 150 ms one way: Id = 3.6, below the 177.3 ms knee.
        assert!(close(
            r_factor(150.0, 0.0, CodecImpairment::G711),
            89.6,
            1e-9
        ));
        // 300 ms: Id = 7.2 + 0.11·122.7 = 20.697.
        assert!(close(
            r_factor(300.0, 0.0, CodecImpairment::G711),
            72.503,
            1e-9
        ));
        // 1 % random loss, G.711 without PLC: Ie,eff = 95/5.3 = 17.92.
        assert!(close(
            r_factor(0.0, 1.0, CodecImpairment::G711),
            93.2 - 95.0 / 5.3,
            1e-9
        ));
        // With PLC the same loss costs far less.
        assert!(mos(0.0, 1.0, CodecImpairment::G711_PLC) > mos(0.0, 1.0, CodecImpairment::G711));
        assert!(mos(0.0, 5.0, CodecImpairment::OPUS) > 3.5);
        assert!(mos(1000.0, 100.0, CodecImpairment::OPUS) == 1.0);
    }
}
