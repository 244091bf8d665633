//! The shell's one clock: the wall clock is read once, when the server starts, and every
//! later `now` is that start plus the monotonic time elapsed since. A wall-clock step (NTP,
//! a resumed VM) therefore moves no deadline: idle and connect timeouts keep their length.

use crate::clock::Time;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Monotonic time since start, expressed as the core's [`Time`].
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// The monotonic instant the clock started at.
    start: Instant,
    /// Unix time at `start`.
    start_unix: Time,
}

impl Clock {
    /// A clock starting now, at the system's wall-clock time.
    pub fn start() -> Clock {
        Clock::start_with_wall(SystemTime::now)
    }

    /// A clock starting now, at the time `wall` tells. `wall` is called exactly once.
    pub fn start_with_wall(wall: impl FnOnce() -> SystemTime) -> Clock {
        let since_epoch = wall().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Clock {
            start: Instant::now(),
            start_unix: Time::from_unix_millis(
                u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX),
            ),
        }
    }

    /// Now, as the core's [`Time`].
    pub fn now(&self) -> Time {
        self.start_unix.saturating_add(self.start.elapsed())
    }

    /// The tokio instant at which `deadline` is reached (for `sleep_until`).
    pub fn instant_at(&self, deadline: Time) -> Instant {
        self.start + deadline.saturating_duration_since(self.start_unix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn time_follows_the_monotonic_clock_only() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = Clock::start_with_wall(|| t0);
        assert_eq!(clock.now().unix_millis(), 1_700_000_000_000);
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(clock.now().unix_millis(), 1_700_000_090_000);
        let deadline = clock.now().saturating_add(Duration::from_secs(5));
        assert_eq!(
            clock.instant_at(deadline) - Instant::now(),
            Duration::from_secs(5)
        );
    }
}
