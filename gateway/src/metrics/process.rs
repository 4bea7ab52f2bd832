//! Process metrics read from `/proc/self` at each scrape: CPU seconds,
//! resident and virtual memory, open file descriptors and their limit,
//! and the start time, under the standard `process_*` names.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// Clock ticks per second of `/proc/self/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;
/// Page size of `/proc/self/statm` on the platforms this runs on.
const PAGE_SIZE: f64 = 4096.0;

/// See the module docs.
#[derive(Debug)]
pub struct ProcessCollector {
    start_time: f64,
}

impl ProcessCollector {
    /// A collector; the process start time is taken now.
    pub fn new() -> Self {
        let start_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        ProcessCollector { start_time }
    }
}

impl Default for ProcessCollector {
    fn default() -> Self {
        Self::new()
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        if let Some(cpu) = cpu_seconds() {
            let c = ConstCounter::new(cpu);
            let e = encoder.encode_descriptor(
                "process_cpu",
                "User and system CPU time",
                Some(&Unit::Seconds),
                c.metric_type(),
            )?;
            c.encode(e)?;
        }
        if let Some((virt, rss)) = memory() {
            for (name, help, v) in [
                ("process_resident_memory", "Resident memory", rss),
                ("process_virtual_memory", "Virtual memory", virt),
            ] {
                let g = ConstGauge::new(v);
                let e =
                    encoder.encode_descriptor(name, help, Some(&Unit::Bytes), g.metric_type())?;
                g.encode(e)?;
            }
        }
        if let Some(fds) = open_fds() {
            let g = ConstGauge::new(fds);
            let e = encoder.encode_descriptor(
                "process_open_fds",
                "Open file descriptors",
                None,
                g.metric_type(),
            )?;
            g.encode(e)?;
        }
        if let Some(max) = max_fds() {
            let g = ConstGauge::new(max);
            let e = encoder.encode_descriptor(
                "process_max_fds",
                "Limit of open file descriptors",
                None,
                g.metric_type(),
            )?;
            g.encode(e)?;
        }
        let g = ConstGauge::new(self.start_time);
        let e = encoder.encode_descriptor(
            "process_start_time",
            "Start time since the Unix epoch",
            Some(&Unit::Seconds),
            g.metric_type(),
        )?;
        g.encode(e)
    }
}

/// utime + stime of `/proc/self/stat`, in seconds.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line, the 12th and 13th after it.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// Virtual and resident bytes from `/proc/self/statm`.
fn memory() -> Option<(f64, f64)> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let mut f = statm.split_whitespace();
    let size: f64 = f.next()?.parse().ok()?;
    let resident: f64 = f.next()?.parse().ok()?;
    Some((size * PAGE_SIZE, resident * PAGE_SIZE))
}

fn open_fds() -> Option<i64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as i64)
}

fn max_fds() -> Option<i64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}
