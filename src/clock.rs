//! Time as the sans-IO core sees it: milliseconds since the Unix epoch, passed in by the
//! caller. The core never reads a clock; the tokio shell reads it in one place
//! (`net::clock`), fuzz targets and tests use a fixed start and advance it by hand.

use std::time::Duration;

/// A point in time: milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(u64);

impl Time {
    /// From Unix milliseconds.
    pub const fn from_unix_millis(ms: u64) -> Time {
        Time(ms)
    }

    /// Unix milliseconds.
    pub const fn unix_millis(self) -> u64 {
        self.0
    }

    /// Unix seconds clamped into an i32 (the RECV Timestamp field).
    pub fn unix_secs_i32(self) -> i32 {
        i32::try_from(self.0 / 1000).unwrap_or(i32::MAX)
    }

    /// `self + d`, saturating at the end of time.
    pub fn saturating_add(self, d: Duration) -> Time {
        let add = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Time(self.0.saturating_add(add))
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Time) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Time::from_unix_millis(u64::MAX - 1);
        assert_eq!(
            t.saturating_add(Duration::from_secs(5)).unix_millis(),
            u64::MAX
        );
        assert_eq!(
            Time::from_unix_millis(1).saturating_duration_since(t),
            Duration::ZERO
        );
        assert_eq!(t.unix_secs_i32(), i32::MAX);
        assert_eq!(
            Time::from_unix_millis(1_700_000_000_999).unix_secs_i32(),
            1_700_000_000
        );
    }
}
