//! `wkfuzz load core`: messages per second through the connection engine ([`ServerConn`]
//! over plain TCP: the server's session and [`Hub`]), no sockets.
//!
//! One hub, `users` connections each logged in by a real [`Client`] (X25519, CONNACK, cipher),
//! some groups, and a fixed plan of messages: a random sender to a random other user, or
//! (a share of them) to a random group the sender is in. One message is counted when its
//! SEND was accepted (SENDACK success), every recipient got it as a RECV, and every
//! recipient's RECVACK took it off the recipient's pending queue.
//!
//! Two loops run over the same plan in the same world:
//! - *full*: the sender's client encrypts and signs the SEND, the sender's session takes the
//!   bytes, every woken session is polled, each recipient's client verifies and decrypts its
//!   RECV and sends RECVACK back through its session. Client and server crypto both count.
//! - *server only*: the SEND and RECVACK bytes are encoded before the clock starts, and the
//!   recipients' output is only split into frames (not decrypted): what is timed is the
//!   server's session and hub work, which is what the 100,000 messages/s target is about.
//!
//! Each run builds a fresh world (setup is not timed), runs both loops in alternating order,
//! and the report quotes the median of the runs.

use super::{median, thousands, verdict, JsonObject, LoadError, Report};
use crate::client::Client;
use crate::clock::Time;
use crate::hub::{ChannelKey, ConnId, Hub, HubConfig};
use crate::proto::{
    split_frame, ChannelType, DeviceFlag, Frame, Packet, PacketType, ReasonCode, Recvack,
};
use crate::transport::{ConnConfig, ServerConn, Transport};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

/// The issue's target for the server-only rate.
pub const TARGET_MESSAGES_PER_SEC: f64 = 100_000.0;

/// Protocol version every simulated client speaks (the newest the JS SDK uses).
const CLIENT_VERSION: u8 = 4;

/// The virtual time of every call: the core takes time as input, and nothing here waits.
const T0: Time = Time::from_unix_millis(1_700_000_000_000);

/// Which timed loops a run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loops {
    /// Both, in alternating order (the default).
    Both,
    /// Only the loop with client crypto.
    Full,
    /// Only the server-side loop (e.g. to profile the server alone).
    ServerOnly,
}

/// What `wkfuzz load core` runs.
#[derive(Clone, Debug)]
pub struct CoreOptions {
    /// Messages per loop per run.
    pub messages: usize,
    /// Runs (each: a fresh world, both loops); the report quotes medians.
    pub runs: usize,
    /// Logged-in users, one session each (at least 2).
    pub users: usize,
    /// Groups; each has `group_size` members, assigned round-robin over the users.
    pub groups: usize,
    /// Members per group (at least 2, at most `users`).
    pub group_size: usize,
    /// Percentage of messages sent to a group instead of a person (0..=100).
    pub group_percent: u8,
    /// Plaintext bytes per message.
    pub payload: usize,
    /// Seed of the plan and of the hub: the same seed gives the same messages.
    pub seed: u64,
    /// Which loops to time.
    pub loops: Loops,
}

impl Default for CoreOptions {
    fn default() -> Self {
        CoreOptions {
            messages: 200_000,
            runs: 5,
            users: 100,
            groups: 10,
            group_size: 10,
            group_percent: 10,
            payload: 64,
            seed: 1,
            loops: Loops::Both,
        }
    }
}

impl CoreOptions {
    fn validate(&self) -> Result<(), LoadError> {
        let bad = |m: &str| Err(LoadError::Options(m.to_owned()));
        if self.messages == 0 || self.runs == 0 {
            return bad("--messages and --runs must be at least 1");
        }
        if self.users < 2 {
            return bad("--users must be at least 2");
        }
        if self.group_percent > 100 {
            return bad("--group-percent must be 0..=100");
        }
        if self.group_percent > 0
            && (self.groups == 0 || self.group_size < 2 || self.group_size > self.users)
        {
            return bad("group messages need --groups >= 1 and 2 <= --group-size <= --users");
        }
        if self.payload < 8 {
            return bad("--payload must be at least 8 bytes (the message number is in it)");
        }
        Ok(())
    }
}

/// One loop's results over all runs.
#[derive(Clone, Debug, Default)]
pub struct CoreSeries {
    /// Messages per second, one per run.
    pub rates: Vec<f64>,
    /// Messages per run (all accepted, delivered and acknowledged, or the run fails).
    pub messages: u64,
    /// RECVs delivered and acknowledged per run (a group message counts once per recipient).
    pub deliveries: u64,
}

impl CoreSeries {
    /// Median messages per second.
    pub fn median_rate(&self) -> f64 {
        median(&self.rates)
    }

    fn json(&self) -> JsonObject {
        JsonObject::new()
            .num("median_messages_per_sec", self.median_rate())
            .nums("messages_per_sec", &self.rates)
            .int("messages_per_run", self.messages)
            .int("deliveries_per_run", self.deliveries)
    }
}

/// What `wkfuzz load core` measured.
#[derive(Clone, Debug)]
pub struct CoreReport {
    /// The options it ran with.
    pub options: CoreOptions,
    /// Client crypto included.
    pub full: CoreSeries,
    /// Session + hub only.
    pub server_only: CoreSeries,
}

impl CoreReport {
    /// Whether the server-only median reaches [`TARGET_MESSAGES_PER_SEC`] (`None` if that
    /// loop did not run).
    pub fn target_met(&self) -> Option<bool> {
        (!self.server_only.rates.is_empty())
            .then(|| self.server_only.median_rate() >= TARGET_MESSAGES_PER_SEC)
    }
}

impl Report for CoreReport {
    fn table(&self) -> String {
        let o = &self.options;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "core: {} users, {} groups of {}, {}% to groups, {}-byte payloads, {} messages x {} runs (seed {})",
            o.users, o.groups, o.group_size, o.group_percent, o.payload, o.messages, o.runs, o.seed
        );
        let _ = writeln!(
            t,
            "{:<13} {:>14} {:>16} {:>12}  per-run messages/s",
            "loop", "median msg/s", "deliveries/msg", "us/message"
        );
        for (name, s) in [("full", &self.full), ("server only", &self.server_only)] {
            if s.rates.is_empty() {
                continue;
            }
            let m = s.median_rate();
            let runs: Vec<String> = s.rates.iter().map(|r| thousands(*r)).collect();
            let _ = writeln!(
                t,
                "{:<13} {:>14} {:>16.2} {:>12.2}  {}",
                name,
                thousands(m),
                s.deliveries as f64 / s.messages.max(1) as f64,
                1e6 / m,
                runs.join(" ")
            );
        }
        if let Some(met) = self.target_met() {
            let _ = writeln!(
                t,
                "target: server only >= {} messages/s: {} ({:.2}x)",
                thousands(TARGET_MESSAGES_PER_SEC),
                verdict(met),
                self.server_only.median_rate() / TARGET_MESSAGES_PER_SEC
            );
        }
        t
    }

    fn json(&self) -> String {
        let o = &self.options;
        JsonObject::new()
            .str("mode", "core")
            .obj(
                "options",
                JsonObject::new()
                    .int("messages", o.messages as u64)
                    .int("runs", o.runs as u64)
                    .int("users", o.users as u64)
                    .int("groups", o.groups as u64)
                    .int("group_size", o.group_size as u64)
                    .int("group_percent", u64::from(o.group_percent))
                    .int("payload", o.payload as u64)
                    .int("seed", o.seed),
            )
            .obj("full", self.full.json())
            .obj("server_only", self.server_only.json())
            .num("target_messages_per_sec", TARGET_MESSAGES_PER_SEC)
            .raw_opt_bool("target_met", self.target_met())
            .render()
    }
}

/// Runs the benchmark.
///
/// # Errors
/// [`LoadError::Options`] for options that cannot run; [`LoadError::Check`] if any message
/// is refused, lost, duplicated, altered, or left unacknowledged.
pub fn run(options: &CoreOptions) -> Result<CoreReport, LoadError> {
    options.validate()?;
    let plan = Plan::new(options);
    let mut full = CoreSeries::default();
    let mut server_only = CoreSeries::default();
    for run in 0..options.runs {
        // Alternate which loop goes first, so a machine that slows down (or warms up)
        // during a run does not favour one of them.
        let order = if run % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for server_side in order {
            let wanted = match options.loops {
                Loops::Both => true,
                Loops::Full => !server_side,
                Loops::ServerOnly => server_side,
            };
            if !wanted {
                continue;
            }
            let mut world = World::new(options)?;
            let (series, result) = if server_side {
                let input = world.pre_encode(&plan)?;
                (&mut server_only, world.run_server_only(&plan, &input)?)
            } else {
                (&mut full, world.run_full(&plan)?)
            };
            world.check_drained()?;
            series.rates.push(result.messages as f64 / result.seconds);
            series.messages = result.messages;
            series.deliveries = result.deliveries;
        }
    }
    Ok(CoreReport {
        options: options.clone(),
        full,
        server_only,
    })
}

/// Where one message goes.
#[derive(Clone, Copy, Debug)]
enum To {
    /// A user (index into the users).
    Person(usize),
    /// A group (index into the groups).
    Group(usize),
}

/// The messages of a run, drawn once from the seed.
#[derive(Debug)]
struct Plan {
    /// (sender index, destination).
    messages: Vec<(usize, To)>,
    /// Member indices of each group.
    groups: Vec<Vec<usize>>,
    /// Plaintext length.
    payload: usize,
}

impl Plan {
    fn new(o: &CoreOptions) -> Plan {
        let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
        let groups = group_members(o);
        let messages = (0..o.messages)
            .map(|_| {
                if !groups.is_empty() && rng.gen_range(0..100u8) < o.group_percent {
                    let g = rng.gen_range(0..groups.len());
                    let members = groups.get(g).map_or(&[][..], Vec::as_slice);
                    let sender = members
                        .get(rng.gen_range(0..members.len().max(1)))
                        .copied()
                        .unwrap_or(0);
                    (sender, To::Group(g))
                } else {
                    let sender = rng.gen_range(0..o.users);
                    // Anyone but the sender.
                    let r = (sender + rng.gen_range(1..o.users)) % o.users;
                    (sender, To::Person(r))
                }
            })
            .collect();
        Plan {
            messages,
            groups,
            payload: o.payload,
        }
    }

    /// The plaintext of message `i`: its number, then filler.
    fn payload(&self, i: usize, buf: &mut Vec<u8>) {
        buf.clear();
        buf.extend_from_slice(&(i as u64).to_le_bytes());
        buf.resize(self.payload, b'x');
    }
}

/// Member indices of each group: consecutive users, round-robin (none when no message
/// goes to a group).
fn group_members(o: &CoreOptions) -> Vec<Vec<usize>> {
    if o.group_percent == 0 {
        return Vec::new();
    }
    (0..o.groups)
        .map(|g| {
            (0..o.group_size)
                .map(|k| (g * o.group_size + k) % o.users)
                .collect()
        })
        .collect()
}

fn uid(i: usize) -> String {
    format!("u{i}")
}

fn group_id(g: usize) -> String {
    format!("g{g}")
}

/// One user: the server's connection engine and the client talking to it.
#[derive(Debug)]
struct Peer {
    uid: String,
    conn: ServerConn,
    client: Client,
}

/// Wire bytes prepared before the server-only loop starts.
#[derive(Debug)]
struct PreEncoded {
    /// Each message's SEND, encrypted by its sender's client.
    sends: Vec<Vec<u8>>,
    /// Each message's RECVACK (same bytes for every recipient: all speak one version).
    recvacks: Vec<Vec<u8>>,
    /// Recipients of each message.
    fanout: Vec<u64>,
}

/// What one timed loop did.
#[derive(Debug)]
struct LoopResult {
    messages: u64,
    deliveries: u64,
    seconds: f64,
}

/// A hub and its logged-in sessions.
#[derive(Debug)]
struct World {
    hub: Hub,
    peers: Vec<Peer>,
    /// Session index of each connection id (the hub wakes by id).
    by_conn: HashMap<ConnId, usize>,
    groups: Vec<String>,
    /// Reused output buffer.
    out: Vec<u8>,
    /// Every connection's settings: the server's defaults over plain TCP.
    config: Arc<ConnConfig>,
}

impl World {
    fn new(o: &CoreOptions) -> Result<World, LoadError> {
        let plan_groups = group_members(o);
        let groups: Vec<String> = (0..plan_groups.len()).map(group_id).collect();
        let hub_groups: BTreeMap<String, Vec<String>> = plan_groups
            .iter()
            .zip(&groups)
            .map(|(members, g)| (g.clone(), members.iter().map(|m| uid(*m)).collect()))
            .collect();
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&o.seed.to_le_bytes());
        let mut world = World {
            hub: Hub::new(HubConfig {
                seed,
                groups: hub_groups,
                ..HubConfig::default()
            }),
            peers: Vec::with_capacity(o.users),
            by_conn: HashMap::new(),
            groups,
            out: Vec::new(),
            config: Arc::new(ConnConfig::new(Transport::Tcp)),
        };
        for i in 0..o.users {
            world.login(i)?;
        }
        Ok(world)
    }

    /// Opens a session for user `i` and logs its client in.
    fn login(&mut self, i: usize) -> Result<(), LoadError> {
        let (id, seed) = self.hub.open();
        let mut conn = ServerConn::new(id, seed, self.config.clone(), None, T0);
        conn.start(T0, &mut self.hub);
        // A distinct, valid X25519 secret per user.
        let mut secret = [0x5a; 32];
        secret[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        let mut client = Client::new(secret, CLIENT_VERSION);
        let uid = uid(i);
        let connect = client.connect(&uid, "token", DeviceFlag::APP, 1_700_000_000_000);
        conn.handle_wire(&client.encode(&connect), T0, &mut self.hub);
        let mut out = Vec::new();
        conn.poll_transmit(&mut out);
        let frames = client
            .handle_bytes(&out)
            .map_err(|e| LoadError::Check(format!("{uid}: CONNACK: {e}")))?;
        let connack = match frames.as_slice() {
            [Frame {
                packet: Packet::Connack(c),
                ..
            }] => c,
            other => {
                return Err(LoadError::Check(format!(
                    "{uid}: expected one CONNACK, got {other:?}"
                )))
            }
        };
        client
            .handle_connack(connack)
            .map_err(|e| LoadError::Check(format!("{uid}: login: {e}")))?;
        self.hub.take_woken();
        self.by_conn.insert(id, self.peers.len());
        self.peers.push(Peer { uid, conn, client });
        Ok(())
    }

    /// The channel a message is sent to, and its recipients.
    fn destination(&self, plan: &Plan, to: To) -> (String, ChannelType, u64) {
        match to {
            To::Person(r) => (uid(r), ChannelType::PERSON, 1),
            To::Group(g) => {
                let members = plan.groups.get(g).map_or(0, Vec::len) as u64;
                let name = self.groups.get(g).cloned().unwrap_or_default();
                (name, ChannelType::GROUP, members.saturating_sub(1))
            }
        }
    }

    fn peer(&mut self, i: usize) -> Result<&mut Peer, LoadError> {
        self.peers
            .get_mut(i)
            .ok_or_else(|| LoadError::Check(format!("no user {i}")))
    }

    /// The timed loop with client crypto in it.
    fn run_full(&mut self, plan: &Plan) -> Result<LoopResult, LoadError> {
        let mut payload = Vec::new();
        let mut deliveries = 0u64;
        let start = Instant::now();
        for (i, &(sender, to)) in plan.messages.iter().enumerate() {
            plan.payload(i, &mut payload);
            let (channel, ty, fanout) = self.destination(plan, to);
            let mut out = std::mem::take(&mut self.out);
            {
                let hub = &mut self.hub;
                let p = self
                    .peers
                    .get_mut(sender)
                    .ok_or_else(|| LoadError::Check(format!("no user {sender}")))?;
                let (frame, seq) = p
                    .client
                    .send(&channel, ty, &payload)
                    .map_err(|e| LoadError::Check(format!("SEND: {e}")))?;
                p.conn.handle_wire(&p.client.encode(&frame), T0, hub);
                out.clear();
                p.conn.poll_transmit(&mut out);
                let frames = p
                    .client
                    .handle_bytes(&out)
                    .map_err(|e| LoadError::Check(format!("SENDACK: {e}")))?;
                match frames.as_slice() {
                    [Frame {
                        packet: Packet::Sendack(a),
                        ..
                    }] if a.reason == ReasonCode::SUCCESS && a.client_seq == seq => {}
                    other => {
                        return Err(LoadError::Check(format!(
                            "message {i}: expected SENDACK success, got {other:?}"
                        )))
                    }
                }
            }
            let mut got = 0u64;
            for conn in self.hub.take_woken() {
                let r = *self
                    .by_conn
                    .get(&conn)
                    .ok_or_else(|| LoadError::Check(format!("woke unknown {conn}")))?;
                let hub = &mut self.hub;
                let p = self
                    .peers
                    .get_mut(r)
                    .ok_or_else(|| LoadError::Check(format!("no user {r}")))?;
                out.clear();
                p.conn.handle_wake(T0, hub);
                p.conn.poll_transmit(&mut out);
                let frames = p
                    .client
                    .handle_bytes(&out)
                    .map_err(|e| LoadError::Check(format!("{}: RECV: {e}", p.uid)))?;
                for f in frames {
                    let Packet::Recv(recv) = f.packet else {
                        return Err(LoadError::Check(format!(
                            "{}: expected RECV, got {:?}",
                            p.uid, f.packet
                        )));
                    };
                    let plain = p
                        .client
                        .open(&recv)
                        .map_err(|e| LoadError::Check(format!("{}: RECV: {e}", p.uid)))?;
                    if plain != payload {
                        return Err(LoadError::Check(format!(
                            "{}: message {i} arrived altered",
                            p.uid
                        )));
                    }
                    let ack = p.client.encode(&Client::recvack(&recv));
                    p.conn.handle_wire(&ack, T0, hub);
                    got += 1;
                }
            }
            self.out = out;
            if got != fanout {
                return Err(LoadError::Check(format!(
                    "message {i}: {got} deliveries, expected {fanout}"
                )));
            }
            deliveries += got;
        }
        Ok(LoopResult {
            messages: plan.messages.len() as u64,
            deliveries,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Encodes every SEND (with the senders' clients) and every RECVACK, untimed. Message
    /// ids and sequences are predictable: ids count from 1 in acceptance order, sequences
    /// per channel, and every message is accepted (the run checks that).
    fn pre_encode(&mut self, plan: &Plan) -> Result<PreEncoded, LoadError> {
        let mut payload = Vec::new();
        let mut seqs: HashMap<ChannelKey, u64> = HashMap::new();
        let n = plan.messages.len();
        let mut pre = PreEncoded {
            sends: Vec::with_capacity(n),
            recvacks: Vec::with_capacity(n),
            fanout: Vec::with_capacity(n),
        };
        for (i, &(sender, to)) in plan.messages.iter().enumerate() {
            plan.payload(i, &mut payload);
            let (channel, ty, fanout) = self.destination(plan, to);
            let p = self.peer(sender)?;
            let (frame, _) = p
                .client
                .send(&channel, ty, &payload)
                .map_err(|e| LoadError::Check(format!("SEND: {e}")))?;
            pre.sends.push(p.client.encode(&frame));
            let key = match to {
                To::Person(_) => ChannelKey::person(&p.uid, &channel),
                To::Group(_) => ChannelKey::Group(channel),
            };
            let seq = seqs.entry(key).or_insert(0);
            *seq += 1;
            let ack = Frame::new(Packet::Recvack(Recvack {
                message_id: i as i64 + 1,
                message_seq: *seq,
            }));
            pre.recvacks.push(ack.to_bytes(CLIENT_VERSION));
            pre.fanout.push(fanout);
        }
        Ok(pre)
    }

    /// The timed loop without client work: pre-encoded input, output only split.
    fn run_server_only(&mut self, plan: &Plan, pre: &PreEncoded) -> Result<LoopResult, LoadError> {
        let mut deliveries = 0u64;
        let mut out = std::mem::take(&mut self.out);
        let start = Instant::now();
        for (i, ((send, ack), &(sender, _))) in pre
            .sends
            .iter()
            .zip(&pre.recvacks)
            .zip(&plan.messages)
            .enumerate()
        {
            let hub = &mut self.hub;
            let p = self
                .peers
                .get_mut(sender)
                .ok_or_else(|| LoadError::Check(format!("no user {sender}")))?;
            p.conn.handle_wire(send, T0, hub);
            out.clear();
            p.conn.poll_transmit(&mut out);
            check_sendack(&out, i)?;
            let mut got = 0u64;
            for conn in hub.take_woken() {
                let r = *self
                    .by_conn
                    .get(&conn)
                    .ok_or_else(|| LoadError::Check(format!("woke unknown {conn}")))?;
                let p = self
                    .peers
                    .get_mut(r)
                    .ok_or_else(|| LoadError::Check(format!("no user {r}")))?;
                out.clear();
                p.conn.handle_wake(T0, hub);
                p.conn.poll_transmit(&mut out);
                let recvs = count_frames(&out, PacketType::RECV)
                    .map_err(|e| LoadError::Check(format!("{}: message {i}: {e}", p.uid)))?;
                for _ in 0..recvs {
                    p.conn.handle_wire(ack, T0, hub);
                }
                got += recvs;
            }
            let want = pre.fanout.get(i).copied().unwrap_or(0);
            if got != want {
                return Err(LoadError::Check(format!(
                    "message {i}: {got} deliveries, expected {want}"
                )));
            }
            deliveries += got;
        }
        let seconds = start.elapsed().as_secs_f64();
        self.out = out;
        Ok(LoopResult {
            messages: plan.messages.len() as u64,
            deliveries,
            seconds,
        })
    }

    /// After a loop: nothing left pending or queued, every session still open.
    fn check_drained(&mut self) -> Result<(), LoadError> {
        for p in &mut self.peers {
            if let Some((reason, _)) = p.conn.session().and_then(|s| s.close_reason()) {
                return Err(LoadError::Check(format!("{} was closed: {reason}", p.uid)));
            }
            let left = self.hub.pending_count(&p.uid);
            if left != 0 {
                return Err(LoadError::Check(format!(
                    "{}: {left} messages never acknowledged",
                    p.uid
                )));
            }
            self.out.clear();
            p.conn.handle_wake(T0, &mut self.hub);
            p.conn.poll_transmit(&mut self.out);
            if !self.out.is_empty() {
                return Err(LoadError::Check(format!(
                    "{}: {} bytes of output left over",
                    p.uid,
                    self.out.len()
                )));
            }
        }
        Ok(())
    }
}

/// Checks that `out` is exactly one successful SENDACK for message `i` (id `i + 1`).
fn check_sendack(out: &[u8], i: usize) -> Result<(), LoadError> {
    match Frame::read(out, CLIENT_VERSION, usize::MAX) {
        Ok(Some((
            Frame {
                packet: Packet::Sendack(a),
                ..
            },
            n,
        ))) if n == out.len()
            && a.reason == ReasonCode::SUCCESS
            && a.message_id == i as i64 + 1 =>
        {
            Ok(())
        }
        other => Err(LoadError::Check(format!(
            "message {i}: expected SENDACK success with id {}, got {other:?}",
            i + 1
        ))),
    }
}

/// How many frames `out` holds, all of type `want`; an error for anything else.
fn count_frames(mut out: &[u8], want: PacketType) -> Result<u64, String> {
    let mut n = 0u64;
    while !out.is_empty() {
        let bounds = split_frame(out, usize::MAX)
            .map_err(|e| e.to_string())?
            .ok_or("incomplete frame")?;
        let ty = PacketType(bounds.first_byte >> 4);
        if ty != want {
            return Err(format!("expected {want}, got {ty}"));
        }
        out = out.get(bounds.total_len()..).unwrap_or_default();
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> CoreOptions {
        CoreOptions {
            messages: 300,
            runs: 2,
            users: 12,
            groups: 3,
            group_size: 4,
            group_percent: 30,
            payload: 32,
            seed: 7,
            loops: Loops::Both,
        }
    }

    #[test]
    fn every_message_is_accepted_delivered_and_acked() {
        let report = run(&small()).unwrap();
        for s in [&report.full, &report.server_only] {
            assert_eq!(s.messages, 300);
            assert_eq!(s.rates.len(), 2);
            assert!(s.rates.iter().all(|r| *r > 0.0));
        }
        // Both loops ran the same plan: the same fan-out.
        assert_eq!(report.full.deliveries, report.server_only.deliveries);
        // 30% of messages went to groups of 4 (3 recipients each), so more deliveries
        // than messages; the exact number is fixed by the seed.
        assert!(report.full.deliveries > 300, "{}", report.full.deliveries);
        let json = report.json();
        assert!(json.starts_with(r#"{"mode":"core""#), "{json}");
        assert!(report.table().contains("server only"));
    }

    #[test]
    fn a_lost_ack_is_detected() {
        let o = small();
        let plan = Plan::new(&o);
        let mut world = World::new(&o).unwrap();
        let mut pre = world.pre_encode(&plan).unwrap();
        // Acknowledge the wrong message id for message 5: its recipient keeps it pending.
        pre.recvacks[5] = pre.recvacks[6].clone();
        world.run_server_only(&plan, &pre).unwrap();
        let err = world.check_drained().unwrap_err();
        assert!(err.to_string().contains("never acknowledged"), "{err}");
    }

    #[test]
    fn bad_options_are_refused() {
        let o = CoreOptions {
            users: 1,
            ..small()
        };
        assert!(matches!(run(&o), Err(LoadError::Options(_))));
    }
}
