//! A deterministic simulation for tests: well-behaved wkproto clients over plain TCP, each
//! talking to the server's own connection engine ([`ServerConn`]), one hub, a virtual
//! clock, all in one thread. The same engine the tokio shell runs; only the socket is
//! replaced by handing bytes over.
//!
//! Used by the simulation tests of the session and hub (`src/transport/tests.rs`) and by the
//! property tests (`tests/prop_session.rs`).

use crate::client::Client;
use crate::clock::Time;
use crate::hub::{Hub, HubConfig};
use crate::proto::{ChannelType, DeviceFlag, Frame, Packet, ReasonCode, Recv, Sendack, Sub};
use crate::session::{CloseReason, SessionConfig};
use crate::transport::{ConnConfig, ServerConn, Transport};
use std::sync::Arc;

/// The virtual clock's start.
pub const T0: Time = Time::from_unix_millis(1_700_000_000_000);

/// One simulated connection: the server's engine and the client talking to it.
#[derive(Debug)]
pub struct Peer {
    /// The server side.
    pub conn: ServerConn,
    /// The client side.
    pub client: Client,
    /// Frames the client received and the test has not looked at yet.
    pub inbox: Vec<Frame>,
}

/// Clients, engines and one hub.
#[derive(Debug)]
pub struct Sim {
    /// The hub every connection shares.
    pub hub: Hub,
    /// Virtual now.
    pub now: Time,
    /// Every connection opened, in order.
    pub peers: Vec<Peer>,
    config: Arc<ConnConfig>,
    next_secret: u8,
}

impl Sim {
    /// A hub with the default configuration.
    pub fn new() -> Sim {
        Sim::with(HubConfig::default())
    }

    /// A hub with `config`; connections use the server's default session settings.
    pub fn with(config: HubConfig) -> Sim {
        Sim::with_session(config, SessionConfig::default())
    }

    /// A hub with `config`; connections use `session`.
    pub fn with_session(config: HubConfig, session: SessionConfig) -> Sim {
        Sim {
            hub: Hub::new(config),
            now: T0,
            peers: Vec::new(),
            config: Arc::new(ConnConfig {
                session,
                ..ConnConfig::new(Transport::Tcp)
            }),
            next_secret: 1,
        }
    }

    /// Opens a connection and sends `bytes` raw; returns its index.
    pub fn open_raw(&mut self, bytes: &[u8]) -> usize {
        self.open_raw_as(Client::new([1; 32], 4), bytes)
    }

    /// Same, with `client` decoding what the server answers.
    pub fn open_raw_as(&mut self, client: Client, bytes: &[u8]) -> usize {
        let (id, seed) = self.hub.open();
        let mut conn = ServerConn::new(id, seed, self.config.clone(), None, self.now);
        conn.start(self.now, &mut self.hub);
        self.peers.push(Peer {
            conn,
            client,
            inbox: Vec::new(),
        });
        let i = self.peers.len() - 1;
        self.input(i, bytes);
        i
    }

    /// A client with `version` logs in as `uid`; returns its index after CONNACK.
    ///
    /// # Panics
    /// If the login does not succeed.
    pub fn login(&mut self, uid: &str, device: DeviceFlag, version: u8) -> usize {
        self.next_secret = self.next_secret.wrapping_add(1);
        let client = Client::new([self.next_secret; 32], version);
        let connect = client.connect(uid, "tok", device, 1_700_000_000_000);
        let bytes = client.encode(&connect);
        let i = self.open_raw_as(client, &bytes);
        let mut frames = self.take(i).into_iter();
        let connack = match frames.next() {
            Some(Frame {
                packet: Packet::Connack(c),
                ..
            }) => c,
            other => panic!("expected CONNACK, got {other:?}"),
        };
        // Anything after CONNACK (the offline backlog) stays in the inbox.
        self.peers[i].inbox.extend(frames);
        self.peers[i]
            .client
            .handle_connack(&connack)
            .expect("login succeeds");
        i
    }

    /// Connection `i`'s client sends `bytes`; then everyone's output is delivered.
    pub fn input(&mut self, i: usize, bytes: &[u8]) {
        self.feed(i, bytes);
        self.pump();
    }

    /// Connection `i`'s client sends `bytes`, and nothing is delivered yet (a client that
    /// does not read).
    pub fn feed(&mut self, i: usize, bytes: &[u8]) {
        let now = self.now;
        if let Some(p) = self.peers.get_mut(i) {
            p.conn.handle_wire(bytes, now, &mut self.hub);
        }
    }

    /// Everything connection `i`'s server side sends now (the hub's deliveries included),
    /// as raw bytes the client has not seen.
    pub fn transmit(&mut self, i: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let now = self.now;
        if let Some(p) = self.peers.get_mut(i) {
            p.conn.handle_wake(now, &mut self.hub);
            p.conn.poll_transmit(&mut out);
        }
        out
    }

    /// Encodes `frame` with connection `i`'s client and sends it.
    pub fn send_frame(&mut self, i: usize, frame: &Frame) {
        let bytes = self.peers[i].client.encode(frame);
        self.input(i, &bytes);
    }

    /// Fires connection `i`'s timers as of `now` (the clock moves there), then delivers.
    pub fn timeout(&mut self, i: usize, now: Time) {
        self.now = now;
        self.peers[i].conn.handle_timeout(now, &mut self.hub);
        self.pump();
    }

    /// Moves every connection's output (and the hub's deliveries) to its client.
    ///
    /// # Panics
    /// If the server sends bytes the client cannot decode.
    pub fn pump(&mut self) {
        let now = self.now;
        for p in &mut self.peers {
            p.conn.handle_wake(now, &mut self.hub);
            let mut out = Vec::new();
            p.conn.poll_transmit(&mut out);
            while p.conn.poll_event().is_some() {}
            let frames = p.client.handle_bytes(&out).expect("server output decodes");
            p.inbox.extend(frames);
        }
    }

    /// The frames connection `i` received since the last call.
    pub fn take(&mut self, i: usize) -> Vec<Frame> {
        std::mem::take(&mut self.peers[i].inbox)
    }

    /// The RECVs connection `i` received since the last call (other frames are dropped).
    pub fn recvs(&mut self, i: usize) -> Vec<Recv> {
        self.take(i)
            .into_iter()
            .filter_map(|f| match f.packet {
                Packet::Recv(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    /// Connection `i` sends `text` to `to`; returns its SENDACK.
    ///
    /// # Panics
    /// Unless exactly one SENDACK answers.
    pub fn send_text(&mut self, i: usize, to: &str, ty: ChannelType, text: &str) -> Sendack {
        let (frame, seq) = self.peers[i]
            .client
            .send(to, ty, text.as_bytes())
            .expect("logged in");
        self.send_frame(i, &frame);
        let acks: Vec<_> = self.peers[i]
            .inbox
            .iter()
            .filter_map(|f| match &f.packet {
                Packet::Sendack(a) if a.client_seq == seq => Some(a.clone()),
                _ => None,
            })
            .collect();
        self.peers[i]
            .inbox
            .retain(|f| !matches!(f.packet, Packet::Sendack(_)));
        assert_eq!(acks.len(), 1, "exactly one SENDACK per SEND");
        acks[0].clone()
    }

    /// Connection `i` joins (action 0) or leaves (1) `group`; returns the SUBACK reason.
    ///
    /// # Panics
    /// Unless exactly one SUBACK answers.
    pub fn subscribe(&mut self, i: usize, group: &str, action: u8) -> ReasonCode {
        let sub = Sub {
            sub_no: "s1".into(),
            channel_id: group.into(),
            channel_type: ChannelType::GROUP,
            action,
            ..Sub::default()
        };
        self.send_frame(i, &Frame::new(Packet::Sub(sub)));
        match self.take(i).as_slice() {
            [Frame {
                packet: Packet::Suback(a),
                ..
            }] => a.reason,
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    /// Why connection `i`'s session closed (`None` while open or before it started).
    pub fn closed(&self, i: usize) -> Option<CloseReason> {
        let session = self.peers.get(i)?.conn.session()?;
        session.close_reason().map(|(r, _)| r.clone())
    }

    /// The plaintext of a RECV connection `i` received.
    ///
    /// # Panics
    /// If it does not verify, decrypt or decode as UTF-8.
    pub fn open_text(&self, i: usize, r: &Recv) -> String {
        String::from_utf8(
            self.peers[i]
                .client
                .open(r)
                .expect("RECV verifies and decrypts"),
        )
        .expect("UTF-8 text")
    }
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}
