//! A sans-IO wkproto client: builds CONNECT with a real X25519 key, derives the session
//! cipher from CONNACK, encrypts SENDs with their msgKey, splits and decodes server frames,
//! and verifies and decrypts RECVs. Used by the end-to-end tests, the load generator and the
//! fuzz targets that need a well-behaved peer next to a hostile one.

use crate::proto::crypto::{self, AppCipher, MsgKeyFn};
use crate::proto::{
    ChannelType, Connack, Connect, DecodeError, DeviceFlag, Frame, Packet, ReasonCode, Recv,
    Recvack, Send, Setting, LATEST_VERSION,
};
use base64::Engine;

/// Why a server frame could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server's bytes are not wkproto.
    #[error("decode: {0}")]
    Decode(#[from] DecodeError),
    /// CONNACK refused the login.
    #[error("CONNACK reason {0}")]
    Refused(ReasonCode),
    /// CONNACK's ServerKey or Salt is unusable.
    #[error("bad CONNACK key material: {0}")]
    BadKeys(String),
    /// A RECV arrived before CONNACK.
    #[error("not connected")]
    NotConnected,
    /// A RECV's msgKey does not verify.
    #[error("RECV msgKey mismatch")]
    MsgKey,
    /// A RECV's payload does not decrypt.
    #[error("RECV payload: {0}")]
    Payload(crypto::PayloadError),
}

/// One client's protocol state.
#[derive(Debug)]
pub struct Client {
    /// Protocol version sent in CONNECT.
    version: u8,
    /// X25519 secret scalar.
    secret: [u8; 32],
    /// Set by a successful CONNACK.
    cipher: Option<AppCipher>,
    /// Undecoded server bytes.
    inbuf: Vec<u8>,
    /// Next ClientSeq.
    next_seq: u32,
    /// How the session cipher gets msgKeys.
    msg_key_fn: MsgKeyFn,
}

impl Client {
    /// A client speaking `version` with the given X25519 secret.
    pub fn new(secret: [u8; 32], version: u8) -> Client {
        Client {
            version,
            secret,
            cipher: None,
            inbuf: Vec::new(),
            next_seq: 1,
            msg_key_fn: AppCipher::compute_msg_key,
        }
    }

    /// The same client, its session cipher getting msgKeys from `msg_key_fn`.
    pub fn with_msg_key_fn(self, msg_key_fn: MsgKeyFn) -> Client {
        Client { msg_key_fn, ..self }
    }

    /// The version both sides use after CONNECT.
    pub fn negotiated_version(&self) -> u8 {
        self.version.min(LATEST_VERSION)
    }

    /// Speaks `version` from now on: the server negotiates from a CONNECT the harness did
    /// not build (a raw one) as from its own.
    pub fn set_version(&mut self, version: u8) {
        self.version = version;
    }

    /// base64 of this client's public key.
    pub fn client_key(&self) -> String {
        // Remembered per thread (the fuzz targets log in the same clients run after run).
        base64::engine::general_purpose::STANDARD
            .encode(crate::x25519_memo::public_key(self.secret))
    }

    /// CONNECT for `uid` with this client's key.
    pub fn connect(&self, uid: &str, token: &str, device: DeviceFlag, now_ms: i64) -> Frame {
        Frame::new(Packet::Connect(Connect {
            version: self.version,
            device_flag: device,
            device_id: format!("{uid}-device"),
            uid: uid.to_owned(),
            token: token.to_owned(),
            client_timestamp: now_ms,
            client_key: self.client_key(),
        }))
    }

    /// Takes CONNACK: on success derives the session cipher.
    pub fn handle_connack(&mut self, connack: &Connack) -> Result<(), ClientError> {
        if connack.reason != ReasonCode::SUCCESS {
            return Err(ClientError::Refused(connack.reason));
        }
        let server_public: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(&connack.server_key)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| ClientError::BadKeys("ServerKey".into()))?;
        let salt: [u8; 16] = connack
            .salt
            .as_bytes()
            .get(..16)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| ClientError::BadKeys("Salt".into()))?;
        let shared = crate::x25519_memo::shared_secret(self.secret, server_public)
            .map_err(|e| ClientError::BadKeys(e.to_string()))?;
        self.cipher = Some(AppCipher::from_shared(&shared, &salt).with_msg_key_fn(self.msg_key_fn));
        Ok(())
    }

    /// The session cipher, once connected.
    pub fn cipher(&self) -> Option<&AppCipher> {
        self.cipher.as_ref()
    }

    /// An encrypted SEND with a valid msgKey. Returns the frame and its ClientSeq.
    pub fn send(
        &mut self,
        channel_id: &str,
        channel_type: ChannelType,
        plaintext: &[u8],
    ) -> Result<(Frame, u32), ClientError> {
        let (mut send, client_seq) = self.send_unsigned(channel_id, channel_type, plaintext)?;
        if let Some(cipher) = &self.cipher {
            send.msg_key = cipher.msg_key(&crypto::send_sign(&send));
        }
        Ok((Frame::new(Packet::Send(send)), client_seq))
    }

    /// An encrypted SEND with an empty msgKey, for callers that change fields before they
    /// sign (the msgKey of a megabyte payload costs as much as its encryption).
    pub fn send_unsigned(
        &mut self,
        channel_id: &str,
        channel_type: ChannelType,
        plaintext: &[u8],
    ) -> Result<(Send, u32), ClientError> {
        let (mut send, client_seq) = self.send_template(channel_id, channel_type)?;
        let cipher = self.cipher.as_ref().ok_or(ClientError::NotConnected)?;
        send.payload = cipher.encrypt(plaintext).into_bytes();
        Ok((send, client_seq))
    }

    /// The next SEND of a connected client with neither payload nor msgKey: the caller
    /// fills both in. Takes a ClientSeq.
    pub fn send_template(
        &mut self,
        channel_id: &str,
        channel_type: ChannelType,
    ) -> Result<(Send, u32), ClientError> {
        if self.cipher.is_none() {
            return Err(ClientError::NotConnected);
        }
        let client_seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let v = self.negotiated_version();
        let send = Send {
            setting: Setting::default(),
            client_seq,
            client_msg_no: format!("m{client_seq}"),
            stream_no: None,
            channel_id: channel_id.to_owned(),
            channel_type,
            expire: (v >= 3).then_some(0),
            msg_key: String::new(),
            topic: None,
            payload: Vec::new(),
        };
        Ok((send, client_seq))
    }

    /// Verifies and decrypts a RECV.
    pub fn open(&self, recv: &Recv) -> Result<Vec<u8>, ClientError> {
        let cipher = self.cipher.as_ref().ok_or(ClientError::NotConnected)?;
        if !cipher.verify_msg_key(&crypto::recv_sign(recv), &recv.msg_key) {
            return Err(ClientError::MsgKey);
        }
        if recv.setting.has(Setting::NO_ENCRYPT) {
            return Ok(recv.payload.clone());
        }
        cipher.decrypt(&recv.payload).map_err(ClientError::Payload)
    }

    /// Checks and decrypts a SEND as the server will, for SENDs the harness did not build:
    /// `None` if its msgKey does not verify under this session's cipher (or there is none).
    pub fn open_send(&self, send: &Send) -> Option<Result<Vec<u8>, crypto::PayloadError>> {
        let cipher = self.cipher.as_ref()?;
        cipher
            .verify_msg_key(&crypto::send_sign(send), &send.msg_key)
            .then(|| cipher.decrypt(&send.payload))
    }

    /// RECVACK for a RECV.
    pub fn recvack(recv: &Recv) -> Frame {
        Frame::new(Packet::Recvack(Recvack {
            message_id: recv.message_id,
            message_seq: recv.message_seq,
        }))
    }

    /// Encodes a frame at the negotiated version.
    pub fn encode(&self, frame: &Frame) -> Vec<u8> {
        let mut out = Vec::new();
        frame.encode(self.negotiated_version(), &mut out);
        out
    }

    /// Feeds server bytes; returns every complete frame.
    pub fn handle_bytes(&mut self, bytes: &[u8]) -> Result<Vec<Frame>, ClientError> {
        self.inbuf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        let mut used = 0usize;
        let result = loop {
            let rest = self.inbuf.get(used..).unwrap_or_default();
            match Frame::read(rest, self.negotiated_version(), usize::MAX) {
                Ok(Some((frame, n))) => {
                    used = used.saturating_add(n);
                    frames.push(frame);
                }
                Ok(None) => break Ok(frames),
                Err(e) => break Err(ClientError::Decode(e)),
            }
        };
        self.inbuf.drain(..used.min(self.inbuf.len()));
        result
    }
}
