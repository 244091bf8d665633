//! The server under test, as the oracles see it: its targets (one [`Player`] per URL),
//! the process if the attack spawned it, and the checks that turn what is seen into a
//! [`Symptom`]: the process ended, it printed crash text, or a probe (retried once) failed
//! or ran past the hang threshold.
//!
//! Also the one-case replay the culprit search, minimization, confirmation and `--replay`
//! share: make sure the server serves (restart a spawned one that died), send one case,
//! then look.

use super::case::WireCase;
use super::finding::{Oracle, Symptom};
use super::play::Player;
use super::probe::{probe, ProbeFailure};
use super::spawn::{describe_exit, CrashText, Spawned};
use super::target::Protocol;
use crate::attack::crash_text::mask_numbers;
use std::time::{Duration, Instant};

/// After crash text, how long stderr must stay quiet before a process that has not ended
/// counts as surviving (a crash that kills it is a death, not crash text; a panicking Rust
/// server may print a backtrace before it aborts) ...
const DEATH_QUIET: Duration = Duration::from_secs(1);
/// ... and the most that wait takes.
const DEATH_CAP: Duration = Duration::from_secs(3);
/// How long after a failed probe to wait for the process to end.
const DEATH_GRACE: Duration = Duration::from_millis(150);
/// A death this soon after reported crash text is that crash's.
const CRASH_THEN_DEATH: Duration = Duration::from_secs(10);
/// How long after a replayed case to wait for crash text the stderr reader has not taken
/// in yet.
const CRASH_TEXT_GRACE: Duration = Duration::from_millis(20);
/// Pause between a failed probe and its retry.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The server under test.
#[derive(Debug)]
pub struct Subject {
    /// One per target URL.
    pub players: Vec<Player>,
    /// What it speaks.
    pub protocol: Protocol,
    /// The process, when the attack started it.
    pub spawned: Option<Spawned>,
    /// How long it may take to serve after a (re)start.
    pub ready_within: Duration,
    /// A probe slower than this is a hang.
    pub hang_after: Duration,
    /// Crash reports already reported (or seen before the current observation).
    crash_mark: usize,
    /// The last crash text reported, and when: a death right after it is its death.
    last_crash: Option<(CrashText, Instant)>,
    /// Crash text of other crashes seen in the same look as a death (the death took the
    /// last report): not yet reported.
    pending: Vec<Symptom>,
}

impl Subject {
    /// A subject over `players`.
    pub fn new(
        players: Vec<Player>,
        protocol: Protocol,
        spawned: Option<Spawned>,
        ready_within: Duration,
        hang_after: Duration,
    ) -> Subject {
        Subject {
            players,
            protocol,
            spawned,
            ready_within,
            hang_after,
            crash_mark: 0,
            last_crash: None,
            pending: Vec::new(),
        }
    }

    /// The target URL `i`, as text.
    pub fn url(&self, i: usize) -> String {
        self.players
            .get(i)
            .map(|p| p.dialer.url.to_string())
            .unwrap_or_default()
    }

    /// Probes every target until all answer; returns the slowest answer.
    ///
    /// # Errors
    /// A spawned process ended, or a target did not answer within `ready_within`.
    pub fn wait_ready(&mut self) -> Result<Duration, String> {
        let deadline = Instant::now() + self.ready_within;
        let mut slowest = Duration::ZERO;
        for i in 0..self.players.len() {
            loop {
                if let Some(p) = self.spawned.as_mut() {
                    if let Some(status) = p.exit_status() {
                        p.drain_stderr();
                        return Err(format!(
                            "the server {} before serving; stderr:\n{}",
                            describe_exit(status),
                            p.tail().join("\n")
                        ));
                    }
                }
                let Some(player) = self.players.get(i) else {
                    break;
                };
                match self.probe(i) {
                    Ok(t) => {
                        slowest = slowest.max(t);
                        break;
                    }
                    Err(e) if Instant::now() >= deadline => {
                        return Err(format!(
                            "{} does not serve within {:?}: {e}",
                            player.dialer.url, self.ready_within
                        ))
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        self.crash_mark = self.spawned.as_ref().map_or(0, Spawned::crash_count);
        self.last_crash = None;
        Ok(slowest)
    }

    /// Restarts a spawned server and waits until it serves.
    ///
    /// # Errors
    /// It cannot be started or does not serve in time.
    pub fn restart(&mut self) -> Result<(), String> {
        if let Some(p) = self.spawned.as_mut() {
            p.restart()
                .map_err(|e| format!("restart {}: {e}", p.command()))?;
        }
        self.wait_ready().map(drop)
    }

    /// Probes target `i` once (bounded by the hang threshold).
    ///
    /// # Errors
    /// The probe failed.
    pub fn probe(&self, i: usize) -> Result<Duration, ProbeFailure> {
        let Some(player) = self.players.get(i) else {
            return Ok(Duration::ZERO);
        };
        probe(&player.dialer.with_timeout(self.hang_after), self.protocol)
    }

    /// Whether the process has ended, or printed crash text not yet reported.
    pub fn process_symptom(&mut self) -> Option<Symptom> {
        let p = self.spawned.as_mut()?;
        let ended = match p.exit_status() {
            Some(s) => Some(s),
            None if p.crash_count() > self.crash_mark => {
                p.wait_exit_while_writing(DEATH_QUIET, DEATH_CAP)
            }
            None => None,
        };
        if let Some(status) = ended {
            p.drain_stderr();
            // The crash report closest to the end is the one that ended it (or the one
            // reported as crash text just before the process went).
            let mut crashes = p.crashes_since(self.crash_mark);
            if crashes.is_empty() {
                if let Some((c, at)) = self.last_crash.take() {
                    if at.elapsed() < CRASH_THEN_DEATH {
                        crashes.push(c);
                    }
                }
            }
            let how = describe_exit(status);
            if let Some((_, earlier)) = crashes.split_last() {
                let pid = p.pid();
                let last = crashes.last().map(|c| c.line.signature.clone());
                for c in earlier {
                    if Some(&c.line.signature) != last.as_ref()
                        && !self.pending.iter().any(|s| s.signature == c.line.signature)
                    {
                        self.pending.push(crash_text(pid, c));
                    }
                }
            }
            let signature = match crashes.last() {
                Some(c) => format!("{how}; {}", c.line.signature),
                None => how.clone(),
            };
            let mut evidence = format!("process {} {how}", p.pid());
            match crashes.last() {
                Some(c) => evidence.push_str(&format!("\nstderr:\n{}", c.text)),
                None => {
                    evidence.push_str(&format!("\nlast stderr lines:\n{}", p.tail().join("\n")))
                }
            }
            self.crash_mark = p.crash_count();
            return Some(Symptom {
                oracle: Oracle::Death,
                target: None,
                evidence,
                signature,
            });
        }
        let crashes = p.crashes_since(self.crash_mark);
        let first = crashes.first()?;
        self.crash_mark = p.crash_count();
        self.last_crash = Some((first.clone(), Instant::now()));
        Some(crash_text(p.pid(), first))
    }

    /// Crash text seen together with a death and not reported yet (see
    /// [`Subject::process_symptom`]).
    pub fn take_pending(&mut self) -> Vec<Symptom> {
        std::mem::take(&mut self.pending)
    }

    /// Lets a process that printed crash text finish dying, if it is going to (see
    /// [`DEATH_QUIET`]).
    pub fn settle_crash(&mut self) {
        if let Some(p) = self.spawned.as_mut() {
            p.wait_exit_while_writing(DEATH_QUIET, DEATH_CAP);
        }
    }

    /// Probes target `i`, and once more if that fails: both failing is a symptom (a hang
    /// if the last one ran out of time).
    pub fn probe_symptom(&self, i: usize) -> Option<Symptom> {
        let first = self.probe(i).err()?;
        std::thread::sleep(RETRY_PAUSE);
        let second = self.probe(i).err()?;
        Some(probe_failed(i, &self.url(i), &first, &second))
    }

    /// Sends `case` to target `i` on a serving server and reports what it did: the
    /// process's symptom first, then the probe's.
    ///
    /// # Errors
    /// The server could not be brought back to serving before the case.
    pub fn try_case(&mut self, i: usize, case: &WireCase) -> Result<Option<Symptom>, String> {
        self.ensure_serving()?;
        let Some(player) = self.players.get(i) else {
            return Ok(None);
        };
        player.play(case);
        if let Some(s) = self.process_symptom() {
            return Ok(Some(s));
        }
        let probed = self.probe_symptom(i);
        if let Some(p) = self.spawned.as_mut() {
            // A process that is going down: give it the moment to go.
            if probed.is_some() {
                p.wait_exit(DEATH_GRACE);
            } else if p.crash_count() <= self.crash_mark {
                std::thread::sleep(CRASH_TEXT_GRACE);
            }
        }
        Ok(self.process_symptom().or(probed))
    }

    /// Makes sure the server serves: restarts a spawned one that ended or does not answer;
    /// waits for an external one to come back.
    ///
    /// # Errors
    /// It does not serve within `ready_within`.
    pub fn ensure_serving(&mut self) -> Result<(), String> {
        let ended = self
            .spawned
            .as_mut()
            .is_some_and(|p| p.exit_status().is_some());
        if ended {
            return self.restart();
        }
        let failing = (0..self.players.len()).any(|i| self.probe(i).is_err());
        if !failing {
            return Ok(());
        }
        if self.spawned.is_some() {
            self.restart()
        } else {
            self.wait_ready().map(drop)
        }
    }
}

/// The crash-text symptom of `crash` in process `pid`.
fn crash_text(pid: u32, crash: &CrashText) -> Symptom {
    Symptom {
        oracle: Oracle::CrashText,
        target: None,
        evidence: format!("process {pid} printed:\n{}", crash.text),
        signature: crash.line.signature.clone(),
    }
}

/// The symptom of two failed probes of target `i`.
pub fn probe_failed(i: usize, url: &str, first: &ProbeFailure, second: &ProbeFailure) -> Symptom {
    let oracle = if second.timed_out {
        Oracle::Hang
    } else {
        Oracle::Liveness
    };
    let signature = if second.timed_out {
        "probe timed out".to_owned()
    } else {
        format!("probe failed: {}", mask_numbers(&second.error))
    };
    Symptom {
        oracle,
        target: Some(i),
        evidence: format!("{url}: probe failed twice: {first}; then {second}"),
        signature,
    }
}
