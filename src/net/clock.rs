//! The one place the server reads the wall clock.

use crate::clock::Time;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, as the core's [`Time`].
pub fn now() -> Time {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Time::from_unix_millis(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
}

/// The tokio instant at which `deadline` is reached (for `sleep_until`).
pub fn instant_at(deadline: Time) -> tokio::time::Instant {
    let wait = deadline.saturating_duration_since(now());
    tokio::time::Instant::now() + wait
}
