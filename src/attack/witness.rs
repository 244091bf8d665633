//! Witness clients (wkproto only): ordinary users who chat in a ring while the attack runs,
//! the way real users would share the server with an attacker. Each logs in, sends the
//! next witness a numbered message every `interval`, acknowledges what it receives, and
//! the ledger checks the IM guarantee: a message the server acknowledged (SENDACK success)
//! reaches its recipient exactly once. It also records each message's latency (send to
//! delivery) for the p99 comparison against an idle baseline.
//!
//! Problems found: a message acknowledged but not delivered within `deliver_within`,
//! delivered twice, refused (a SENDACK other than success), a RECV that does not verify or
//! decrypt, a witness whose connection fails.

use super::conn::Dialer;
use super::peer::{Peer, PeerError};
use crate::proto::{ChannelType, Frame, Packet, ReasonCode};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the witnesses behave.
#[derive(Clone, Debug)]
pub struct WitnessConfig {
    /// How many (2 or more to chat; 0 for none).
    pub count: usize,
    /// Time between one witness's messages.
    pub interval: Duration,
    /// How long an acknowledged message may take to arrive.
    pub deliver_within: Duration,
    /// Login and read timeout.
    pub timeout: Duration,
}

/// One message's record.
#[derive(Debug)]
struct Message {
    to: usize,
    sent: Instant,
    acked: Option<Instant>,
    deliveries: u32,
}

/// What every witness writes into.
#[derive(Debug, Default)]
struct Ledger {
    /// By text (each text is unique to one message).
    messages: BTreeMap<String, Message>,
    /// ClientSeq -> text, per witness.
    by_seq: BTreeMap<(usize, u32), String>,
    latencies: Vec<Duration>,
    problems: Vec<String>,
}

/// The witnesses of one attack phase.
#[derive(Debug)]
pub struct Witnesses {
    ledger: Arc<Mutex<Ledger>>,
    sending: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    config: WitnessConfig,
}

/// What the witnesses saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WitnessReport {
    /// Messages sent.
    pub sent: usize,
    /// Messages delivered (first deliveries).
    pub delivered: usize,
    /// p50 latency, send to delivery.
    pub p50: Duration,
    /// p99 latency, send to delivery.
    pub p99: Duration,
    /// Every problem, in the order seen.
    pub problems: Vec<String>,
}

fn lock(ledger: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(|p| p.into_inner())
}

/// The `q` quantile (0..=1) of `values`, nearest rank; zero when empty.
pub fn quantile(values: &[Duration], q: f64) -> Duration {
    let mut v = values.to_vec();
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v.get(rank - 1).copied().unwrap_or_default()
}

impl Witnesses {
    /// Logs every witness in (uids `wkfuzz-witness-<tag>-<i>`, witness `i` over
    /// `dialers[i % len]`, so they chat across transports) and starts them chatting.
    ///
    /// # Errors
    /// A witness cannot log in (the server is not serving wkproto).
    pub fn start(
        dialers: &[Dialer],
        config: &WitnessConfig,
        tag: &str,
    ) -> Result<Witnesses, String> {
        let mut peers = Vec::new();
        for i in 0..config.count {
            let Some(dialer) = dialers.get(i % dialers.len().max(1)) else {
                break;
            };
            let uid = format!("wkfuzz-witness-{tag}-{i}");
            let mut secret = [0x55u8; 32];
            secret[0] = u8::try_from(i).unwrap_or(0);
            let peer = Peer::login(dialer, &uid, secret, config.timeout)
                .map_err(|e| format!("witness {uid} cannot log in: {e}"))?;
            peers.push(peer);
        }
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let sending = Arc::new(AtomicBool::new(true));
        let running = Arc::new(AtomicBool::new(true));
        let n = peers.len();
        let mut threads = Vec::new();
        for (i, peer) in peers.into_iter().enumerate() {
            let chat = Chat {
                i,
                to: (i + 1) % n.max(1),
                to_uid: format!("wkfuzz-witness-{tag}-{}", (i + 1) % n.max(1)),
                text_prefix: format!("witness {tag} {i}->"),
                peer,
                ledger: ledger.clone(),
                sending: sending.clone(),
                running: running.clone(),
                interval: config.interval,
            };
            let spawned = std::thread::Builder::new()
                .name(format!("attack-witness-{i}"))
                .spawn(move || chat.run());
            match spawned {
                Ok(t) => threads.push(t),
                Err(e) => lock(&ledger)
                    .problems
                    .push(format!("witness {i} thread: {e}")),
            }
        }
        Ok(Witnesses {
            ledger,
            sending,
            running,
            threads,
            config: config.clone(),
        })
    }

    /// Problems seen so far (the attack stops early on one).
    pub fn problems(&self) -> usize {
        lock(&self.ledger).problems.len()
    }

    /// Stops sending, lets acknowledged messages arrive (up to `deliver_within`), stops
    /// the witnesses and judges the ledger.
    pub fn finish(mut self) -> WitnessReport {
        self.sending.store(false, Ordering::Relaxed);
        let deadline = Instant::now() + self.config.deliver_within;
        while Instant::now() < deadline {
            let waiting = lock(&self.ledger)
                .messages
                .values()
                .any(|m| m.acked.is_some() && m.deliveries == 0);
            if !waiting {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.running.store(false, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let mut ledger = lock(&self.ledger);
        let mut lost = Vec::new();
        for (text, m) in &ledger.messages {
            if m.acked.is_some() && m.deliveries == 0 {
                lost.push(format!(
                    "message {text:?} to witness {} acknowledged by the server but not delivered within {:?}",
                    m.to, self.config.deliver_within
                ));
            }
        }
        ledger.problems.extend(lost);
        WitnessReport {
            sent: ledger.messages.len(),
            delivered: ledger
                .messages
                .values()
                .filter(|m| m.deliveries > 0)
                .count(),
            p50: quantile(&ledger.latencies, 0.50),
            p99: quantile(&ledger.latencies, 0.99),
            problems: ledger.problems.clone(),
        }
    }
}

impl Drop for Witnesses {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
    }
}

/// One witness's loop.
struct Chat {
    i: usize,
    to: usize,
    to_uid: String,
    text_prefix: String,
    peer: Peer,
    ledger: Arc<Mutex<Ledger>>,
    sending: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
    interval: Duration,
}

impl Chat {
    fn run(mut self) {
        let mut next_send = Instant::now();
        let mut n = 0u64;
        while self.running.load(Ordering::Relaxed) {
            if self.sending.load(Ordering::Relaxed) && Instant::now() >= next_send {
                n += 1;
                if let Err(e) = self.send(n) {
                    self.problem(format!("witness {} dropped while sending: {e}", self.i));
                    return;
                }
                next_send += self.interval;
            }
            let wait = next_send
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(1), Duration::from_millis(50));
            match self.peer.next_frame(wait) {
                Ok(Some(frame)) => self.take(frame),
                Ok(None) => {}
                Err(e) => {
                    if self.running.load(Ordering::Relaxed) {
                        self.problem(format!("witness {} dropped: {e}", self.i));
                    }
                    return;
                }
            }
        }
    }

    fn problem(&self, what: String) {
        lock(&self.ledger).problems.push(what);
    }

    fn send(&mut self, n: u64) -> Result<(), PeerError> {
        let text = format!("{}{} #{n}", self.text_prefix, self.to);
        let (frame, seq) = self
            .peer
            .wk
            .send(&self.to_uid, ChannelType::PERSON, text.as_bytes())?;
        {
            let mut ledger = lock(&self.ledger);
            ledger.by_seq.insert((self.i, seq), text.clone());
            ledger.messages.insert(
                text,
                Message {
                    to: self.to,
                    sent: Instant::now(),
                    acked: None,
                    deliveries: 0,
                },
            );
        }
        self.peer.write_frame(&frame)?;
        Ok(())
    }

    fn take(&mut self, frame: Frame) {
        match frame.packet {
            Packet::Sendack(ack) => {
                let mut ledger = lock(&self.ledger);
                let Some(text) = ledger.by_seq.remove(&(self.i, ack.client_seq)) else {
                    return;
                };
                if ack.reason != ReasonCode::SUCCESS {
                    ledger
                        .problems
                        .push(format!("message {text:?} refused: SENDACK {}", ack.reason));
                } else if let Some(m) = ledger.messages.get_mut(&text) {
                    m.acked = Some(Instant::now());
                }
            }
            Packet::Recv(recv) => {
                let opened = self.peer.wk.open(&recv);
                let _ = self
                    .peer
                    .write_frame(&crate::client::Client::recvack(&recv));
                let text = match opened {
                    Ok(plain) => String::from_utf8_lossy(&plain).into_owned(),
                    Err(e) => {
                        self.problem(format!("witness {} got a RECV it cannot open: {e}", self.i));
                        return;
                    }
                };
                let mut ledger = lock(&self.ledger);
                let Some(m) = ledger.messages.get_mut(&text) else {
                    return; // not this phase's (an earlier phase's queued message)
                };
                m.deliveries += 1;
                let (deliveries, latency) = (m.deliveries, m.sent.elapsed());
                if deliveries == 1 {
                    ledger.latencies.push(latency);
                } else {
                    ledger
                        .problems
                        .push(format!("message {text:?} delivered {deliveries} times"));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let ms = |v: u64| Duration::from_millis(v);
        let values: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(quantile(&values, 0.99), ms(99));
        assert_eq!(quantile(&values, 0.50), ms(50));
        assert_eq!(quantile(&[ms(7)], 0.99), ms(7));
        assert_eq!(quantile(&[], 0.99), Duration::ZERO);
    }
}
