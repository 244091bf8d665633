//! Which "module" a source file belongs to, for the per-module coverage table: one table of
//! path prefixes, longest match wins, so moving files (e.g. `net/ws.rs` to `transport/`)
//! means editing a line here. Files outside the table (the CLI, triage, benchmarks) are
//! tooling, not server code, and are left out of the report.

/// A group of source files reported together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Module {
    /// Its name in the tables.
    pub name: &'static str,
    /// Whether it parses or acts on what a peer sends (the 85% goal and the
    /// unreached-code list cover these).
    pub peer_input: bool,
}

const fn peer(name: &'static str) -> Module {
    Module {
        name,
        peer_input: true,
    }
}

const fn other(name: &'static str) -> Module {
    Module {
        name,
        peer_input: false,
    }
}

/// Path prefix (relative to the crate root) -> module. Both the old `net/` paths of the
/// sans-IO layers and their new home `transport/` are listed, so the table holds on either
/// side of that move.
pub const MODULES: &[(&str, Module)] = &[
    ("src/proto/", peer("proto")),
    ("src/session/", peer("session")),
    ("src/hub/", peer("hub")),
    ("src/transport/", peer("transport")),
    ("src/net/layer.rs", peer("transport")),
    ("src/net/ws.rs", peer("transport")),
    ("src/net/upgrade.rs", peer("transport")),
    ("src/net/proxy.rs", peer("transport")),
    ("src/net/", other("net")),
    ("src/tls/", peer("tls")),
    // Started by hand or by a signal, never by a peer's bytes.
    ("src/tls/devcert.rs", other("tls-admin")),
    ("src/tls/reload.rs", other("tls-admin")),
    ("src/clock.rs", other("core")),
    ("src/config.rs", other("config")),
    ("src/client.rs", other("harness")),
    ("src/x25519_memo.rs", other("harness")),
    ("src/sim.rs", other("harness")),
    ("src/targets/", other("harness")),
    ("src/gen/", other("harness")),
];

/// The module of `path` (relative to the crate root, `/`-separated), if it is reported.
pub fn module_of(path: &str) -> Option<Module> {
    MODULES
        .iter()
        .filter(|(prefix, _)| path.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|&(_, m)| m)
}

/// Every module name, in table order, once.
pub fn names() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (_, m) in MODULES {
        if !out.contains(&m.name) {
            out.push(m.name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(
            module_of("src/net/ws.rs").map(|m| m.name),
            Some("transport")
        );
        assert_eq!(module_of("src/net/handler.rs").map(|m| m.name), Some("net"));
        assert_eq!(module_of("src/tls/load.rs"), Some(peer("tls")));
        assert_eq!(module_of("src/tls/devcert.rs"), Some(other("tls-admin")));
        assert_eq!(
            module_of("src/transport/engine.rs"),
            Some(peer("transport"))
        );
        assert_eq!(module_of("src/cli/fuzz.rs"), None);
        assert_eq!(module_of("src/triage/gate.rs"), None);
    }

    #[test]
    fn names_are_listed_once_in_table_order() {
        let n = names();
        assert_eq!(&n[..4], &["proto", "session", "hub", "transport"]);
        assert_eq!(n.iter().filter(|&&x| x == "transport").count(), 1);
    }
}
