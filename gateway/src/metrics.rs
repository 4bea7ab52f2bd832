//! The gateway's Prometheus metrics (prometheus-client, OpenMetrics text at
//! `/metrics`). Names follow Prometheus conventions (base units, `_total`
//! for counters); labels are bounded: methods, classes, directions,
//! results and reasons come from fixed sets, never from call or user data.
//! One [`Metrics`] is shared by every part of the process; [`process`]
//! adds CPU, memory and open files from `/proc`.

pub mod process;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// Which way a call went.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum CallDirection {
    /// Placed by a browser toward the PBX.
    Outbound,
    /// Placed by the PBX toward a browser.
    Inbound,
}

/// How a call ended, for `sbc_calls_total`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum CallResult {
    /// Answered, then ended by either side.
    Answered,
    /// Refused by the far end (a final response of 300 or more).
    Rejected,
    /// Given up by the caller before an answer.
    Cancelled,
    /// Failed in the gateway or the network (timeouts, media, protocol).
    Failed,
}

impl CallDirection {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            CallDirection::Outbound => "outbound",
            CallDirection::Inbound => "inbound",
        }
    }
}

impl CallResult {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            CallResult::Answered => "answered",
            CallResult::Rejected => "rejected",
            CallResult::Cancelled => "cancelled",
            CallResult::Failed => "failed",
        }
    }
}

/// `{direction,result}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// The call's direction ([`CallDirection::as_str`]).
    pub direction: &'static str,
    /// Its outcome ([`CallResult::as_str`]).
    pub result: &'static str,
}

/// `{method}` of SIP requests: the methods the gateway knows, or `other`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    /// The method.
    pub method: &'static str,
}

/// `{class}` of SIP responses: `1xx` … `6xx`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClassLabels {
    /// The class.
    pub class: &'static str,
}

/// `{direction,type}` of WebSocket frames.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FrameLabels {
    /// `in` (from the browser) or `out`.
    pub direction: &'static str,
    /// The frame's protocol type, or `invalid`.
    pub r#type: &'static str,
}

/// `{leg,direction}` of RTP counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RtpLabels {
    /// `browser` or `pbx`.
    pub leg: &'static str,
    /// `in` (received from that leg) or `out` (sent to it).
    pub direction: &'static str,
}

/// `{leg}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LegLabels {
    /// `browser` or `pbx`.
    pub leg: &'static str,
}

/// `{reason}`, from a fixed set per metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// The reason.
    pub reason: &'static str,
}

/// Every metric of the gateway.
#[derive(Debug, Default)]
pub struct Metrics {
    /// `sbc_calls_active`.
    pub calls_active: Gauge,
    /// `sbc_calls_total{direction,result}`.
    pub calls: Family<CallLabels, Counter>,
    /// `sbc_call_setup_seconds`.
    pub call_setup: HistogramFamily,
    /// `sbc_call_duration_seconds`.
    pub call_duration: HistogramFamily,
    /// `sbc_sip_requests_total{method}`.
    pub sip_requests: Family<MethodLabels, Counter>,
    /// `sbc_sip_responses_total{class}`.
    pub sip_responses: Family<ClassLabels, Counter>,
    /// `sbc_sip_transactions_active`.
    pub sip_transactions_active: Gauge,
    /// `sbc_sip_retransmissions_total`.
    pub sip_retransmissions: Counter,
    /// `sbc_ws_sessions_active`.
    pub ws_sessions_active: Gauge,
    /// `sbc_ws_frames_total{direction,type}`.
    pub ws_frames: Family<FrameLabels, Counter>,
    /// `sbc_registrations_active`.
    pub registrations_active: Gauge,
    /// `sbc_registration_failures_total`.
    pub registration_failures: Counter,
    /// `sbc_ice_failures_total{reason}`.
    pub ice_failures: Family<ReasonLabels, Counter>,
    /// `sbc_dtls_failures_total{reason}`.
    pub dtls_failures: Family<ReasonLabels, Counter>,
    /// `sbc_rtp_packets_total{leg,direction}`.
    pub rtp_packets: Family<RtpLabels, Counter>,
    /// `sbc_rtp_bytes_total{leg,direction}`.
    pub rtp_bytes: Family<RtpLabels, Counter>,
    /// `sbc_rtp_packets_lost_total{leg}`.
    pub rtp_lost: Family<LegLabels, Counter>,
    /// `sbc_rtp_jitter_seconds`.
    pub rtp_jitter: HistogramFamily,
    /// `sbc_call_mos`.
    pub call_mos: HistogramFamily,
    /// `sbc_media_rejected_packets_total{reason}`.
    pub media_rejected: Family<ReasonLabels, Counter>,
    /// `sbc_rejected_requests_total{reason}`.
    pub rejected_requests: Family<ReasonLabels, Counter>,
    /// `sbc_pbx_up`: 1 while the PBX answers OPTIONS pings.
    pub pbx_up: Gauge<i64, std::sync::atomic::AtomicI64>,
}

/// A histogram with its buckets fixed at construction.
#[derive(Debug)]
pub struct HistogramFamily(Histogram);

impl HistogramFamily {
    fn new(buckets: impl Iterator<Item = f64>) -> Self {
        HistogramFamily(Histogram::new(buckets))
    }

    /// Records one observation.
    pub fn observe(&self, v: f64) {
        self.0.observe(v);
    }
}

impl Default for HistogramFamily {
    fn default() -> Self {
        HistogramFamily::new([1.0].into_iter())
    }
}

impl Metrics {
    /// The metrics and a registry that exposes them (and the process's).
    pub fn new() -> (Arc<Metrics>, Registry) {
        let m = Arc::new(Metrics {
            call_setup: HistogramFamily::new(
                [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0].into_iter(),
            ),
            call_duration: HistogramFamily::new(
                [
                    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0,
                ]
                .into_iter(),
            ),
            rtp_jitter: HistogramFamily::new(
                [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2].into_iter(),
            ),
            call_mos: HistogramFamily::new(
                [1.5, 2.0, 2.5, 3.0, 3.5, 3.8, 4.0, 4.2, 4.4].into_iter(),
            ),
            ..Metrics::default()
        });
        let mut r = Registry::default();
        let s = r.sub_registry_with_prefix("sbc");
        s.register("calls_active", "Calls in progress", m.calls_active.clone());
        s.register(
            "calls",
            "Calls ended, by direction and result",
            m.calls.clone(),
        );
        s.register_with_unit(
            "call_setup",
            "Time from the call request to the answer",
            Unit::Seconds,
            m.call_setup.0.clone(),
        );
        s.register_with_unit(
            "call_duration",
            "Time from the answer to the end of answered calls",
            Unit::Seconds,
            m.call_duration.0.clone(),
        );
        s.register(
            "sip_requests",
            "SIP requests sent and received, by method",
            m.sip_requests.clone(),
        );
        s.register(
            "sip_responses",
            "SIP responses sent and received, by class",
            m.sip_responses.clone(),
        );
        s.register(
            "sip_transactions_active",
            "SIP transactions in progress",
            m.sip_transactions_active.clone(),
        );
        s.register(
            "sip_retransmissions",
            "SIP messages sent again by the transaction layer",
            m.sip_retransmissions.clone(),
        );
        s.register(
            "ws_sessions_active",
            "Browser sessions with a socket",
            m.ws_sessions_active.clone(),
        );
        s.register(
            "ws_frames",
            "WebSocket frames, by direction and type",
            m.ws_frames.clone(),
        );
        s.register(
            "registrations_active",
            "Browser users registered at the PBX",
            m.registrations_active.clone(),
        );
        s.register(
            "registration_failures",
            "Registrations refused or unanswered",
            m.registration_failures.clone(),
        );
        s.register(
            "ice_failures",
            "Browser legs lost at ICE, by reason",
            m.ice_failures.clone(),
        );
        s.register(
            "dtls_failures",
            "Browser legs lost at DTLS, by reason",
            m.dtls_failures.clone(),
        );
        s.register(
            "rtp_packets",
            "RTP packets, by leg and direction",
            m.rtp_packets.clone(),
        );
        s.register_with_unit(
            "rtp",
            "RTP payload bytes, by leg and direction",
            Unit::Bytes,
            m.rtp_bytes.clone(),
        );
        s.register(
            "rtp_packets_lost",
            "RTP packets lost from each leg",
            m.rtp_lost.clone(),
        );
        s.register_with_unit(
            "rtp_jitter",
            "Interarrival jitter of each leg at call end",
            Unit::Seconds,
            m.rtp_jitter.0.clone(),
        );
        s.register(
            "call_mos",
            "Estimated MOS of the PBX leg at call end",
            m.call_mos.0.clone(),
        );
        s.register(
            "media_rejected_packets",
            "Media packets dropped, by reason",
            m.media_rejected.clone(),
        );
        s.register(
            "rejected_requests",
            "SIP requests and browser frames refused, by reason",
            m.rejected_requests.clone(),
        );
        s.register(
            "pbx_up",
            "1 while the PBX answers OPTIONS pings",
            m.pbx_up.clone(),
        );
        r.register_collector(Box::new(process::ProcessCollector::new()));
        (m, r)
    }
}

/// The method label of a SIP method name (a bounded set).
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "OPTIONS",
        "REGISTER",
        "INFO",
        "UPDATE",
        "REFER",
        "NOTIFY",
        "PRACK",
        "SUBSCRIBE",
        "MESSAGE",
        "PUBLISH",
    ];
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(method))
        .copied()
        .unwrap_or("other")
}

/// The class label of a status code.
pub fn class_label(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "6xx",
    }
}

/// Counts a SIP message seen on the wire by its start line.
pub fn count_sip(m: &Metrics, message: &[u8]) {
    let line_end = memchr_newline(message);
    let line = &message[..line_end];
    if let Some(status) = line.strip_prefix(b"SIP/2.0 ") {
        let code = std::str::from_utf8(status.get(..3).unwrap_or_default())
            .ok()
            .and_then(|c| c.parse().ok());
        if let Some(code) = code {
            m.sip_responses
                .get_or_create(&ClassLabels {
                    class: class_label(code),
                })
                .inc();
        }
    } else if let Some(space) = line.iter().position(|&b| b == b' ') {
        let method = std::str::from_utf8(&line[..space]).unwrap_or("other");
        m.sip_requests
            .get_or_create(&MethodLabels {
                method: method_label(method),
            })
            .inc();
    }
}

/// The OpenMetrics exposition of prometheus-client rewritten in the classic
/// Prometheus text format (version 0.0.4), for scrapers that ask for
/// `text/plain` (and `promtool check metrics`): a counter family's HELP and
/// TYPE name its `_total` samples, and the `# UNIT` and `# EOF` lines,
/// which that format does not have, are left out.
pub fn to_classic_text(openmetrics: &str) -> String {
    let mut counters = std::collections::HashSet::new();
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ")
            && let Some(name) = rest.strip_suffix(" counter")
        {
            counters.insert(name.to_owned());
        }
    }
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let rewritten = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match rewritten {
            Some(l) => out.push_str(&l),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

fn memchr_newline(b: &[u8]) -> usize {
    b.iter().position(|&c| c == b'\n').unwrap_or(b.len())
}

/// Adds a raw count to a counter (counters only move forward).
pub fn add(counter: &Counter<u64, AtomicU64>, v: u64) {
    counter.inc_by(v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    #[test]
    fn the_classic_text_names_counters_by_their_samples() {
        let om = "# HELP sbc_calls Calls.\n# TYPE sbc_calls counter\nsbc_calls_total 1\n\
# HELP sbc_calls_active Active.\n# TYPE sbc_calls_active gauge\nsbc_calls_active 0\n\
# HELP sbc_rtp_jitter_seconds J.\n# TYPE sbc_rtp_jitter_seconds histogram\n# UNIT sbc_rtp_jitter_seconds seconds\n# EOF\n";
        assert_eq!(
            to_classic_text(om),
            "# HELP sbc_calls_total Calls.\n# TYPE sbc_calls_total counter\nsbc_calls_total 1\n\
# HELP sbc_calls_active Active.\n# TYPE sbc_calls_active gauge\nsbc_calls_active 0\n\
# HELP sbc_rtp_jitter_seconds J.\n# TYPE sbc_rtp_jitter_seconds histogram\n"
        );
    }

    #[test]
    fn the_exposition_has_every_metric_of_the_contract() {
        let (m, r) = Metrics::new();
        count_sip(&m, b"INVITE sip:a@b SIP/2.0\r\n");
        count_sip(&m, b"SIP/2.0 486 Busy Here\r\n");
        count_sip(&m, b"FOO sip:a@b SIP/2.0\r\n");
        let mut text = String::new();
        encode(&mut text, &r).unwrap();
        for name in [
            "sbc_calls_active gauge",
            "sbc_calls counter",
            "sbc_call_setup_seconds histogram",
            "sbc_call_duration_seconds histogram",
            "sbc_sip_requests counter",
            "sbc_sip_responses counter",
            "sbc_sip_transactions_active gauge",
            "sbc_sip_retransmissions counter",
            "sbc_ws_sessions_active gauge",
            "sbc_ws_frames counter",
            "sbc_registrations_active gauge",
            "sbc_registration_failures counter",
            "sbc_ice_failures counter",
            "sbc_dtls_failures counter",
            "sbc_rtp_packets counter",
            "sbc_rtp_bytes counter",
            "sbc_rtp_packets_lost counter",
            "sbc_rtp_jitter_seconds histogram",
            "sbc_call_mos histogram",
            "sbc_media_rejected_packets counter",
            "sbc_rejected_requests counter",
            "process_cpu_seconds counter",
            "process_resident_memory_bytes gauge",
            "process_open_fds gauge",
        ] {
            let name = format!("# TYPE {name}");
            assert!(text.contains(&name), "{name} missing:\n{text}");
        }
        assert!(
            text.contains("sbc_sip_requests_total{method=\"INVITE\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("sbc_sip_requests_total{method=\"other\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("sbc_sip_responses_total{class=\"4xx\"} 1"),
            "{text}"
        );
    }
}
