//! Per-source-IP flood protection: a token bucket per address, in a map of
//! bounded size, so one noisy source is slowed down without touching anyone
//! else's traffic.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// Most sources tracked at once; past this the oldest-refilled are evicted.
const MAX_SOURCES: usize = 16_384;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// A token bucket per source IP: `rate` messages per second sustained, with
/// bursts of up to `2 × rate`.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    buckets: HashMap<IpAddr, Bucket>,
    dropped: u64,
}

impl RateLimiter {
    /// A limiter allowing `per_second` messages per source; 0 disables it.
    pub fn new(per_second: u32) -> Self {
        RateLimiter {
            rate: f64::from(per_second),
            buckets: HashMap::new(),
            dropped: 0,
        }
    }

    /// Takes a token for `ip` at `now`; false when the source is over its
    /// rate and the message should be dropped.
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let burst = self.rate * 2.0;
        if self.buckets.len() >= MAX_SOURCES && !self.buckets.contains_key(&ip) {
            self.evict_idle(now);
        }
        let bucket = self.buckets.entry(ip).or_insert(Bucket {
            tokens: burst,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            self.dropped += 1;
            false
        }
    }

    /// Messages refused so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn evict_idle(&mut self, now: Instant) {
        let rate = self.rate;
        let burst = rate * 2.0;
        // Buckets that would be full again carry no state worth keeping.
        self.buckets.retain(|_, b| {
            b.tokens + now.saturating_duration_since(b.refilled).as_secs_f64() * rate < burst
        });
        if self.buckets.len() >= MAX_SOURCES {
            self.buckets.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_limits_then_refills() {
        let mut l = RateLimiter::new(10);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        let allowed = (0..100).filter(|_| l.allow(ip, t0)).count();
        assert_eq!(allowed, 20);
        assert!(l.allow(other, t0), "another source is untouched");
        assert!(l.allow(ip, t0 + Duration::from_millis(150)));
        assert_eq!(l.dropped(), 80);
        let mut off = RateLimiter::new(0);
        assert!((0..1000).all(|_| off.allow(ip, t0)));
    }
}
