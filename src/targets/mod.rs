//! Fuzz targets: one module per target, each `pub fn run(data: &[u8]) -> Outcome`, and
//! [`REGISTRY`], the one table that names them. `wkfuzz fuzz`, the gate, `wkfuzz repro`,
//! `seed-corpus`, the regression and corpus tests, `wkfuzz targets` (which the CI matrix
//! reads) and ClusterFuzzLite's build all go through it.
//!
//! A target panics when an oracle is violated (that is the crash libFuzzer reports);
//! otherwise it returns a deterministic [`Outcome`]: the same bytes give the same outcome on
//! every run and machine.
//!
//! Adding a target touches three files (plus its corpus directory):
//! 1. `src/targets/<name>.rs`: `run`, and `describe` and `seeds` if it has them (the `net`
//!    target's module is `shell`: it drives the tokio shell, [`crate::serve`]);
//! 2. this file: its `mod` line and its row in [`REGISTRY`];
//! 3. `fuzz/src/bin/<name>.rs`: the 3-line libFuzzer wrapper (cargo discovers it).

pub mod codec;
pub mod corpus;
pub mod crypto;
mod det_crypto;
mod edge_seeds;
mod fixture;
pub mod frame;
pub mod handshake;
pub mod keys;
mod outcome;
pub mod proxy;
pub mod records;
pub mod seeds;
pub mod selftest;
pub mod session;
pub mod shell;
mod tls_files;
mod tls_server;
pub mod ws;

pub(crate) use outcome::hexdump;
pub use outcome::Outcome;

/// Which tools run a target without being asked for it by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// Fuzzed by `wkfuzz fuzz` and the CI matrix, shipped to ClusterFuzzLite, replayed by
    /// the gate.
    Gate,
    /// Shipped to ClusterFuzzLite and fuzzable by name, not gated (it needs sockets).
    ByName,
    /// Only for the triage pipeline's own tests: never fuzzed, shipped or gated.
    TestOnly,
}

/// One fuzz target as every tool sees it.
#[derive(Debug)]
pub struct Spec {
    /// The name of its directories (`corpus/<name>`, `regressions/<name>`) and fuzz binary.
    pub name: &'static str,
    /// What it feeds and what it reaches, one line.
    pub summary: &'static str,
    /// Runs one input (panics on an oracle violation).
    pub run: fn(&[u8]) -> Outcome,
    /// The input as the target reads it (its Debug form), for `repro` and regressions.
    pub describe: fn(&[u8]) -> String,
    /// The generated seed inputs `seed-corpus` writes.
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Which tools run it.
    pub membership: Membership,
}

/// Every target, in a fixed order.
pub static REGISTRY: &[Spec] = &[
    Spec {
        name: "frame",
        summary: "raw wkproto bytes: splitter and decoders at every version, then a logged-in session",
        run: frame::run,
        describe: outcome::hexdump,
        seeds: || [seeds::frame_seeds(), edge_seeds::frame_edges()].concat(),
        membership: Membership::Gate,
    },
    Spec {
        name: "codec",
        summary: "a structured frame and version: encode/decode round trip of all 12 packet types",
        run: codec::run,
        describe: codec::describe,
        seeds: || seeds::random_seeds("codec", 48),
        membership: Membership::Gate,
    },
    Spec {
        name: "proxy",
        summary: "raw bytes: the PROXY v1/v2 header parser",
        run: proxy::run,
        describe: outcome::hexdump,
        seeds: || [seeds::proxy_seeds(), edge_seeds::proxy_edges()].concat(),
        membership: Membership::Gate,
    },
    Spec {
        name: "crypto",
        summary: "structured operations: payload decrypt, PKCS7, base64, msgKey, X25519",
        run: crypto::run,
        describe: crypto::describe,
        seeds: || seeds::random_seeds("crypto", 48),
        membership: Membership::Gate,
    },
    Spec {
        name: "keys",
        summary: "raw bytes: PEM/DER certificate and key loading, ClientKey decoding; from 0xF0 whole key material and session tickets",
        run: keys::run,
        describe: outcome::hexdump,
        seeds: seeds::key_seeds,
        membership: Membership::Gate,
    },
    Spec {
        name: "session",
        summary: "a script of client actions, up to 4 clients each on tcp/tls/ws/wss, one hub: every field malformed, delivery checked end to end",
        run: session::run,
        describe: session::describe,
        seeds: session::seeds::seeds,
        membership: Membership::Gate,
    },
    Spec {
        name: "handshake",
        summary: "a modelled ClientHello and later flights with record damage: the rustls acceptor and config",
        run: handshake::run,
        describe: handshake::describe,
        seeds: || [seeds::handshake_seeds(), edge_seeds::handshake_edges()].concat(),
        membership: Membership::Gate,
    },
    Spec {
        name: "records",
        summary: "raw bytes into the TLS acceptor (the byte-level baseline)",
        run: records::run,
        describe: outcome::hexdump,
        seeds: || [seeds::record_seeds(), edge_seeds::record_edges()].concat(),
        membership: Membership::Gate,
    },
    Spec {
        name: "ws",
        summary: "a WebSocket client stream (raw or modelled): upgrade, frames, reassembly into the session",
        run: ws::run,
        describe: ws::describe,
        seeds: || [seeds::ws_seeds(), edge_seeds::ws_edges()].concat(),
        membership: Membership::Gate,
    },
    Spec {
        name: "net",
        summary: "raw bytes after a CONNECT through the real tokio shell over loopback (isolation)",
        run: shell::run,
        describe: outcome::hexdump,
        seeds: seeds::frame_seeds,
        membership: Membership::ByName,
    },
    Spec {
        name: "selftest",
        summary: "two planted bugs that test the triage pipeline itself",
        run: selftest::run,
        describe: outcome::hexdump,
        seeds: || vec![b"hello".to_vec()],
        membership: Membership::TestOnly,
    },
];

/// A fuzz target: a handle on its row of [`REGISTRY`].
#[derive(Clone, Copy)]
pub struct Target(&'static Spec);

impl Target {
    /// Every target, in registry order.
    pub fn every() -> Vec<Target> {
        REGISTRY.iter().map(Target).collect()
    }

    /// The targets the gate replays and `wkfuzz fuzz` fuzzes by default.
    pub fn gated() -> Vec<Target> {
        Target::with(Membership::Gate)
    }

    /// The targets shipped to ClusterFuzzLite/OSS-Fuzz (the fuzz binaries it builds).
    pub fn shipped() -> Vec<Target> {
        REGISTRY
            .iter()
            .filter(|s| s.membership != Membership::TestOnly)
            .map(Target)
            .collect()
    }

    fn with(membership: Membership) -> Vec<Target> {
        REGISTRY
            .iter()
            .filter(|s| s.membership == membership)
            .map(Target)
            .collect()
    }

    /// The target called `name`.
    pub fn from_name(name: &str) -> Option<Target> {
        REGISTRY.iter().find(|s| s.name == name).map(Target)
    }

    /// Its registry row.
    pub fn spec(self) -> &'static Spec {
        self.0
    }

    /// The name used for directories and the fuzz binaries.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// Whether the gate replays it.
    pub fn is_gated(self) -> bool {
        self.0.membership == Membership::Gate
    }

    /// Runs the target on `data`, starting from a fresh fixture.
    pub fn run(self, data: &[u8]) -> Outcome {
        fixture::new_run();
        (self.0.run)(data)
    }

    /// The structured form of `data` as this target interprets it (its Debug form), for
    /// `repro` and readable regressions.
    pub fn describe(self, data: &[u8]) -> String {
        (self.0.describe)(data)
    }

    /// Its generated seed inputs.
    pub fn seeds(self) -> Vec<Vec<u8>> {
        (self.0.seeds)()
    }
}

impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Target {}

impl PartialOrd for Target {
    fn partial_cmp(&self, other: &Target) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Registry order.
impl Ord for Target {
    fn cmp(&self, other: &Target) -> std::cmp::Ordering {
        let index = |t: &Target| REGISTRY.iter().position(|s| s.name == t.name());
        index(self).cmp(&index(other))
    }
}

impl std::hash::Hash for Target {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_target_has_its_fuzz_wrapper() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<&str> = REGISTRY.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len(), "duplicate target names");
        let mut wrappers: Vec<String> = std::fs::read_dir(root.join("fuzz/src/bin"))
            .expect("fuzz/src/bin")
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".rs")
                    .map(str::to_owned)
            })
            .collect();
        wrappers.sort();
        let mut shipped: Vec<&str> = Target::shipped().iter().map(|t| t.name()).collect();
        shipped.sort_unstable();
        assert_eq!(
            wrappers, shipped,
            "fuzz/src/bin/ must hold one wrapper per shipped target"
        );
        for t in Target::shipped() {
            let wrapper = std::fs::read_to_string(root.join(format!("fuzz/src/bin/{t}.rs")))
                .expect("wrapper readable");
            // The module is named after the target, but for `net`, whose module is
            // `shell` (it drives the tokio shell, whose own module is `net`).
            let module = if t.name() == "net" { "shell" } else { t.name() };
            assert!(
                wrapper.contains(&format!("wkfuzz::targets::{module}::run(")),
                "fuzz/src/bin/{t}.rs must call wkfuzz::targets::{module}::run"
            );
        }
    }

    #[test]
    fn handles_compare_by_registry_order() {
        let frame = Target::from_name("frame").expect("registered");
        let selftest = Target::from_name("selftest").expect("registered");
        assert!(frame < selftest);
        assert_eq!(frame, Target::every()[0]);
        assert!(Target::gated().iter().all(|t| t.is_gated()));
        assert!(!Target::gated().contains(&selftest));
        assert!(Target::from_name("nope").is_none());
    }
}
