//! Replaying wire regressions: `wkfuzz attack --replay FILE TARGET` against any server,
//! and the gate's replay of every wire regression against the in-process reference server.

use super::conn::Dialer;
use super::finding::Symptom;
use super::play::Player;
use super::reference::ReferenceServer;
use super::regression::{self as wire, WireRegression};
use super::subject::Subject;
use super::target::{Protocol, Scheme};
use crate::triage::gate::WireResult;
use std::path::Path;
use std::time::{Duration, Instant};

/// Replays `reg` on target 0 of `subject` `times` times; returns what each replay showed.
///
/// # Errors
/// The server could not be brought to serve before a replay.
pub fn replay(
    reg: &WireRegression,
    subject: &mut Subject,
    times: usize,
) -> Result<Vec<Option<Symptom>>, String> {
    (0..times).map(|_| subject.try_case(0, &reg.case)).collect()
}

/// Replays every wire regression under `regressions_root` twice against an in-process
/// reference server (with a PROXY front end for those found behind one): each must leave
/// it serving, with no connection panicking.
///
/// # Errors
/// The regressions cannot be read, or the reference server cannot start.
pub fn gate(regressions_root: &Path) -> Result<Vec<WireResult>, String> {
    let regs = wire::load_dir(&regressions_root.join(wire::DIR))?;
    if regs.is_empty() {
        return Ok(Vec::new());
    }
    let mut servers: Vec<(bool, ReferenceServer)> = Vec::new();
    let mut results = Vec::new();
    for reg in regs {
        let start = Instant::now();
        let proxy = reg.meta.proxy;
        if !servers.iter().any(|(p, _)| *p == proxy) {
            servers.push((
                proxy,
                ReferenceServer::start(proxy).map_err(|e| format!("reference server: {e}"))?,
            ));
        }
        let Some((_, server)) = servers.iter().find(|(p, _)| *p == proxy) else {
            continue;
        };
        let failure = gate_one(&reg, server).err();
        results.push(WireResult {
            path: reg.bin.clone(),
            slug: reg.slug.clone(),
            failure,
            elapsed: start.elapsed(),
            replay: replay_command(&reg),
        });
    }
    Ok(results)
}

/// The command that replays `reg` against `wkfuzz serve` on its default ports.
pub fn replay_command(reg: &WireRegression) -> String {
    let url = match reg.meta.transport.as_str() {
        "tls" => "tls://127.0.0.1:5110",
        "ws" => "ws://127.0.0.1:5200/",
        "wss" => "wss://127.0.0.1:5210/",
        _ => "tcp://127.0.0.1:5100",
    };
    let proxy = if reg.meta.proxy {
        " --proxy-protocol"
    } else {
        ""
    };
    format!(
        "wkfuzz attack --replay {} {url} --protocol {} --spawn \"wkfuzz serve{proxy}\"",
        reg.bin.display(),
        reg.meta.protocol
    )
}

/// Replays one wire regression twice against a reference server of its own (the
/// regressions test: one test per file).
///
/// # Errors
/// Why it failed.
pub fn check(reg: &WireRegression) -> Result<(), String> {
    let server =
        ReferenceServer::start(reg.meta.proxy).map_err(|e| format!("reference server: {e}"))?;
    gate_one(reg, &server)
}

/// Timeouts of the gate's replays: the reference server answers on loopback in
/// milliseconds.
const GATE_TIMEOUT: Duration = Duration::from_secs(5);

fn gate_one(reg: &WireRegression, server: &ReferenceServer) -> Result<(), String> {
    let scheme = Scheme::from_name(&reg.meta.transport).unwrap_or(Scheme::Tcp);
    let protocol = match reg.meta.protocol.as_str() {
        "tls" => Protocol::Tls,
        "raw" => Protocol::Raw,
        _ => Protocol::Wkproto,
    };
    let dialer =
        Dialer::new(server.url(scheme), reg.meta.proxy, GATE_TIMEOUT).map_err(|e| e.to_string())?;
    let player = Player::new(dialer, GATE_TIMEOUT).map_err(|e| e.to_string())?;
    let mut subject = Subject::new(vec![player], protocol, None, GATE_TIMEOUT, GATE_TIMEOUT);
    for run in 1..=2 {
        let panics = server.panics();
        let seen = subject.try_case(0, &reg.case)?;
        if let Some(s) = seen {
            return Err(format!("replay {run}: {}: {}", s.oracle, s.evidence));
        }
        let after = server.panics();
        if after > panics {
            return Err(format!(
                "replay {run}: {} connection task(s) of the reference server panicked",
                after - panics
            ));
        }
    }
    Ok(())
}
