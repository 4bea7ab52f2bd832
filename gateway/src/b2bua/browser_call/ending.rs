//! How a call ends: the SIP leg told to hang up, the media call ended,
//! the call counted in the metrics (result, duration, RTP counters, MOS)
//! and its record written.

use super::*;

impl BrowserCall {
    pub(super) async fn end_by_gateway(&mut self, svc: &CallServices, reason: &str) -> Vec<Value> {
        let result = if self.answered_at.is_some() {
            CallResult::Answered
        } else {
            CallResult::Failed
        };
        let end = Ending {
            by: EndedBy::Gateway,
            sip_status: None,
            reason,
        };
        self.finish(svc, result, end).await;
        vec![p::ended(&self.name, EndedBy::Gateway, None, reason)]
    }

    /// Ends both legs (the SIP leg is told to hang up; if it already ended
    /// that does nothing).
    pub(super) async fn finish(&mut self, svc: &CallServices, result: CallResult, end: Ending<'_>) {
        if self.state == CallState::Ended {
            return;
        }
        self.state = CallState::Ended;
        let key = self.sip;
        svc.sip
            .spawn(move |gw, now, sip| gw.calls.hangup(now, key, sip));
        svc.media_router.unregister(self.media);
        let stats = svc.media.stats(self.media).await.ok().flatten();
        if let Some(stats) = &stats {
            record_media(&svc.metrics, stats);
        }
        if let Some(cdr) = &svc.cdr {
            cdr.write(&self.record(result, end, stats.as_ref()));
        }
        let _ = svc.media.end_call(self.media).await;
        let m = &svc.metrics;
        m.calls_active.dec();
        let direction = if self.from_pbx {
            CallDirection::Inbound
        } else {
            CallDirection::Outbound
        };
        let labels = CallLabels {
            direction: direction.as_str(),
            result: result.as_str(),
        };
        m.calls.get_or_create(&labels).inc();
        if let Some(at) = self.answered_at {
            m.call_duration
                .observe(now().duration_since(at).as_secs_f64());
        }
    }
}

/// How a call ended, for its record.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ending<'a> {
    pub by: EndedBy,
    pub sip_status: Option<u16>,
    pub reason: &'a str,
}

impl BrowserCall {
    /// The call's record.
    fn record(
        &self,
        result: CallResult,
        end: Ending<'_>,
        stats: Option<&CallMediaStats>,
    ) -> CallRecord {
        let leg = |s: &LegStats, codec: &str| LegRecord {
            codec: codec.to_owned(),
            packets_received: s.packets_received,
            packets_sent: s.packets_sent,
            packets_lost: s.packets_lost,
            loss: s.loss_fraction,
            jitter_ms: s.jitter.as_secs_f64() * 1000.0,
            mos: s.mos,
        };
        CallRecord {
            call: self.name.clone(),
            direction: if self.from_pbx { "inbound" } else { "outbound" },
            start: rfc3339(self.created_wall),
            answer: self.answered_wall.map(rfc3339),
            end: rfc3339(SystemTime::now()),
            result: result.as_str(),
            ended_by: end.by.as_str(),
            reason: end.reason.to_owned(),
            sip_status: end.sip_status,
            browser: stats.map(|s| leg(&s.browser, &s.codec)),
            pbx: stats.map(|s| leg(&s.pbx, &s.codec)),
        }
    }
}

/// A finished call's media counters: packets, bytes and losses of both
/// legs, their jitter, and the PBX leg's MOS.
fn record_media(m: &Metrics, stats: &CallMediaStats) {
    let (browser, pbx) = (&stats.browser, &stats.pbx);
    for (leg, s) in [("browser", browser), ("pbx", pbx)] {
        let count = |direction, packets: u64, bytes: u64| {
            let labels = RtpLabels { leg, direction };
            m.rtp_packets.get_or_create(&labels).inc_by(packets);
            m.rtp_bytes.get_or_create(&labels).inc_by(bytes);
        };
        count("in", s.packets_received, s.bytes_received);
        count("out", s.packets_sent, s.bytes_sent);
        m.rtp_lost
            .get_or_create(&LegLabels { leg })
            .inc_by(u64::try_from(s.packets_lost).unwrap_or(0));
        m.rtp_jitter.observe(s.jitter.as_secs_f64());
        let dropped = s.dropped_unknown_pt + s.dropped_malformed + s.dropped_late;
        if dropped > 0 {
            m.media_rejected
                .get_or_create(&ReasonLabels { reason: "bridge" })
                .inc_by(dropped);
        }
    }
    if pbx.packets_received > 0 {
        m.call_mos.observe(pbx.mos);
    }
}

/// Counts a lost browser leg under ICE or DTLS, by reason.
pub(super) fn count_leg_failure(m: &Metrics, reason: DisconnectReason) {
    let (family, reason) = match reason {
        DisconnectReason::ConsentExpired => (&m.ice_failures, "consent_expired"),
        DisconnectReason::FingerprintMismatch => (&m.dtls_failures, "fingerprint_mismatch"),
        DisconnectReason::DtlsFailed => (&m.dtls_failures, "handshake"),
        DisconnectReason::ClosedByPeer => (&m.dtls_failures, "closed_by_peer"),
        _ => (&m.ice_failures, "other"),
    };
    family.get_or_create(&ReasonLabels { reason }).inc();
}
