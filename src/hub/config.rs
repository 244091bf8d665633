//! What the hub is configured with: seed, auth table, preconfigured groups, bounds.

use std::collections::BTreeMap;

/// Hub settings. Every bound exists so one peer cannot grow the server's memory without limit.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Seed of the hub RNG; each connection's RNG (server key, salt) is derived from it.
    /// The server seeds it from the OS; fuzz targets fix it.
    pub seed: [u8; 32],
    /// `uid -> token`. `None`: any token is accepted (upstream's dev default).
    pub tokens: Option<BTreeMap<String, String>>,
    /// Groups that exist at start: `group id -> member uids`.
    pub groups: BTreeMap<String, Vec<String>>,
    /// CONNACK NodeId (v >= 4).
    pub node_id: u64,
    /// Messages kept per user until acknowledged (offline queue + unacked RECVs).
    pub max_pending_per_user: usize,
    /// Payload bytes kept across all users' pending queues.
    pub max_pending_bytes: usize,
    /// Deliveries waiting to be written to one connection; over it the connection is a slow
    /// reader and is closed (its messages stay pending for its next login). Raised to
    /// `max_pending_per_user + 1` if lower, so a login's backlog always fits.
    pub max_outbox: usize,
    /// Number of groups the hub keeps (SUB creates groups).
    pub max_groups: usize,
    /// Members per group.
    pub max_group_members: usize,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            seed: [0; 32],
            tokens: None,
            groups: BTreeMap::new(),
            node_id: 1,
            max_pending_per_user: 1000,
            max_pending_bytes: 256 * 1024 * 1024,
            max_outbox: 4096,
            max_groups: 100_000,
            max_group_members: 10_000,
        }
    }
}
