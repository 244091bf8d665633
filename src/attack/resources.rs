//! The resource oracle: does a spawned server's resident memory or descriptor count grow
//! with the connections it has served? Samples are taken once a second during an attack
//! phase; growth is judged per 10,000 connections between the quietest samples of the
//! phase's start and of its end (minimums, so connections in flight at a sample do not
//! count as growth), after a warm-up (allocator pools and caches fill first).

use super::spawn::Resources;
use serde::Serialize;

/// One sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Connections the attack had opened when it was taken.
    pub connections: u64,
    /// The process's resources then.
    pub resources: Resources,
}

/// Limits of the oracle.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct GrowthLimits {
    /// Connections before the baseline is taken.
    pub warmup: u64,
    /// Most resident memory growth per 10,000 connections, MiB.
    pub rss_mib_per_10k: f64,
    /// Growth below this many MiB in total is noise whatever the rate.
    pub rss_mib_floor: f64,
    /// Most descriptor growth per 10,000 connections.
    pub fds_per_10k: f64,
    /// Descriptor growth below this is noise (connections in flight).
    pub fds_floor: f64,
}

impl Default for GrowthLimits {
    fn default() -> Self {
        GrowthLimits {
            warmup: 10_000,
            rss_mib_per_10k: 8.0,
            rss_mib_floor: 32.0,
            fds_per_10k: 50.0,
            fds_floor: 100.0,
        }
    }
}

/// What the samples show.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Growth {
    /// Connections between the baseline and the end.
    pub connections: u64,
    /// Resident memory at the baseline and at the end, MiB.
    pub rss_mib: (f64, f64),
    /// Descriptors at the baseline and at the end.
    pub fds: (u64, u64),
    /// Memory growth per 10,000 connections, MiB.
    pub rss_mib_per_10k: f64,
    /// Descriptor growth per 10,000 connections.
    pub fds_per_10k: f64,
}

/// The growth over `samples` (in time order), once there are enough connections after the
/// warm-up to judge (at least two windows of 10,000).
pub fn measure(samples: &[Sample], limits: &GrowthLimits) -> Option<Growth> {
    let after: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.connections >= limits.warmup)
        .collect();
    let first = after.first()?.connections;
    let last = after.last()?.connections;
    if last.saturating_sub(first) < 20_000 || after.len() < 4 {
        return None;
    }
    let window = (after.len() / 5).max(1);
    let head = after.get(..window)?;
    let tail = after.get(after.len() - window..)?;
    let quiet = |ss: &[&Sample]| {
        (
            ss.iter().map(|s| s.resources.rss_kib).min().unwrap_or(0),
            ss.iter().map(|s| s.resources.fds).min().unwrap_or(0),
        )
    };
    let (rss0, fds0) = quiet(head);
    let (rss1, fds1) = quiet(tail);
    let connections = tail
        .last()?
        .connections
        .saturating_sub(head.first()?.connections);
    let per_10k = 10_000.0 / connections.max(1) as f64;
    let mib = |kib: u64| kib as f64 / 1024.0;
    Some(Growth {
        connections,
        rss_mib: (mib(rss0), mib(rss1)),
        fds: (fds0, fds1),
        rss_mib_per_10k: (mib(rss1) - mib(rss0)) * per_10k,
        fds_per_10k: (fds1 as f64 - fds0 as f64) * per_10k,
    })
}

/// What is wrong with `growth`, if anything.
pub fn judge(growth: &Growth, limits: &GrowthLimits) -> Option<String> {
    let rss_total = growth.rss_mib.1 - growth.rss_mib.0;
    let fds_total = growth.fds.1 as f64 - growth.fds.0 as f64;
    let mut problems = Vec::new();
    if growth.rss_mib_per_10k > limits.rss_mib_per_10k && rss_total > limits.rss_mib_floor {
        problems.push(format!(
            "resident memory grew {:.1} -> {:.1} MiB over {} connections ({:.1} MiB per 10,000; limit {})",
            growth.rss_mib.0, growth.rss_mib.1, growth.connections, growth.rss_mib_per_10k, limits.rss_mib_per_10k
        ));
    }
    if growth.fds_per_10k > limits.fds_per_10k && fds_total > limits.fds_floor {
        problems.push(format!(
            "open descriptors grew {} -> {} over {} connections ({:.0} per 10,000; limit {})",
            growth.fds.0, growth.fds.1, growth.connections, growth.fds_per_10k, limits.fds_per_10k
        ));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(rss_per_conn_kib: u64, fds_every: u64) -> Vec<Sample> {
        (0..=60)
            .map(|i| {
                let connections = i * 2_000;
                Sample {
                    connections,
                    resources: Resources {
                        // Noise: every third sample has 40 MiB of connections in flight.
                        rss_kib: 50_000
                            + connections * rss_per_conn_kib
                            + if i % 3 == 0 { 40_960 } else { 0 },
                        fds: 12 + connections / fds_every + if i % 3 == 0 { 64 } else { 0 },
                    },
                }
            })
            .collect()
    }

    #[test]
    fn a_steady_server_passes_and_a_leaking_one_does_not() {
        let limits = GrowthLimits::default();
        let steady = measure(&series(0, u64::MAX), &limits).unwrap();
        assert_eq!(judge(&steady, &limits), None, "{steady:?}");
        let leaking = measure(&series(2, u64::MAX), &limits).unwrap();
        let why = judge(&leaking, &limits).expect("2 KiB per connection is a leak");
        assert!(why.contains("resident memory"), "{why}");
        let fd_leak = measure(&series(0, 10), &limits).unwrap();
        assert!(judge(&fd_leak, &limits).unwrap().contains("descriptors"));
    }

    #[test]
    fn too_few_connections_are_not_judged() {
        let limits = GrowthLimits::default();
        assert_eq!(measure(&series(2, 10)[..10], &limits), None);
        assert_eq!(measure(&[], &limits), None);
    }
}
