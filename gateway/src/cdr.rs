//! Call records: one JSON line per ended call (`cdr.path`, a file the
//! lines are appended to, or `-` for standard output). A record says when
//! the call started, was answered and ended (RFC 3339, UTC), its
//! direction, who ended it and why, the SIP status, and each leg's codec,
//! packets, loss, jitter and MOS. No phone numbers or addresses are
//! written: the call's name in its session identifies it.

use serde::Serialize;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::warn;

/// One leg's media at the end of the call.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LegRecord {
    /// The codec relayed.
    pub codec: String,
    /// RTP packets received from the leg.
    pub packets_received: u64,
    /// RTP packets sent to the leg.
    pub packets_sent: u64,
    /// Packets lost from the leg.
    pub packets_lost: i64,
    /// Fraction lost, 0 to 1.
    pub loss: f64,
    /// Interarrival jitter, milliseconds.
    pub jitter_ms: f64,
    /// The E-model MOS of what the gateway received from the leg.
    pub mos: f64,
}

/// One ended call.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallRecord {
    /// The call's name in its session.
    pub call: String,
    /// `outbound` (placed by a browser) or `inbound` (from the PBX).
    pub direction: &'static str,
    /// When it was placed or offered.
    pub start: String,
    /// When it was answered, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// When it ended.
    pub end: String,
    /// `answered`, `rejected`, `cancelled` or `failed`.
    pub result: &'static str,
    /// `local` (the browser), `remote` (the far end) or `gateway`.
    pub ended_by: &'static str,
    /// Why.
    pub reason: String,
    /// The SIP status that ended it, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip_status: Option<u16>,
    /// The browser leg's media, once it flowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<LegRecord>,
    /// The PBX leg's media, once it flowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pbx: Option<LegRecord>,
}

/// Where records go.
pub struct CdrSink {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for CdrSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CdrSink")
    }
}

impl CdrSink {
    /// Appends to `path` (created if missing), or writes to standard output
    /// for `-`.
    pub fn open(path: &Path) -> io::Result<Self> {
        let out: Box<dyn Write + Send> = if path.as_os_str() == "-" {
            Box::new(io::stdout())
        } else {
            Box::new(OpenOptions::new().create(true).append(true).open(path)?)
        };
        Ok(CdrSink {
            out: Mutex::new(out),
        })
    }

    /// Writes one record as a line (a failure is logged, never fatal).
    pub fn write(&self, record: &CallRecord) {
        let Ok(mut line) = serde_json::to_vec(record) else {
            return;
        };
        line.push(b'\n');
        let written = self
            .out
            .lock()
            .map_err(|_| io::Error::other("poisoned"))
            .and_then(|mut out| out.write_all(&line).and_then(|()| out.flush()));
        if let Err(e) = written {
            warn!(error = %e, "cannot write a call record");
        }
    }
}

/// `t` as RFC 3339 in UTC with milliseconds (`2026-11-21T05:10:11.123Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{:03}Z",
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_238_779_958);
        assert_eq!(rfc3339(t), "2026-11-21T05:26:19.958Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn records_are_one_json_line_each() {
        let dir = std::env::temp_dir().join(format!("sbc-cdr-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("calls.jsonl");
        let sink = CdrSink::open(&path).unwrap();
        let record = CallRecord {
            call: "c1".into(),
            direction: "outbound",
            start: "s".into(),
            answer: None,
            end: "e".into(),
            result: "rejected",
            ended_by: "remote",
            reason: "Busy Here".into(),
            sip_status: Some(486),
            browser: None,
            pbx: None,
        };
        sink.write(&record);
        sink.write(&record);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["sip_status"], 486);
        assert!(v.get("answer").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
