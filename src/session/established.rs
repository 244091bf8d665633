//! A logged-in connection: SEND, RECVACK, SUB, PING, DISCONNECT in; SENDACK, RECV, SUBACK,
//! PONG out. A refused SEND or SUB is a typed error whose code [`wire`] chooses.

use super::{wire, CloseReason, SendError};
use crate::clock::Time;
use crate::hub::{Accepted, ConnId, Hub, Message, SendRequest};
use crate::proto::crypto::{self, AppCipher};
use crate::proto::{Frame, Packet, ReasonCode, Recv, Send, Sendack, Setting, Sub, Suback};

/// State valid once CONNECT succeeded.
#[derive(Debug)]
pub(super) struct Established {
    /// Logged-in user.
    pub(super) uid: String,
    /// Negotiated version, used for every frame both ways.
    pub(super) version: u8,
    /// The session's app-layer key and IV.
    pub(super) cipher: AppCipher,
    /// Closed as idle at this time unless a frame arrives.
    pub(super) idle_deadline: Time,
}

impl Established {
    /// Handles one frame; `Err` closes the connection.
    pub(super) fn handle(
        &mut self,
        frame: Frame,
        conn: ConnId,
        now: Time,
        hub: &mut Hub,
        out: &mut Vec<u8>,
    ) -> Result<(), CloseReason> {
        match frame.packet {
            Packet::Send(send) => {
                let ack = self.handle_send(send, conn, now, hub);
                self.emit(Packet::Sendack(ack), out);
            }
            Packet::Recvack(ack) => {
                #[cfg(feature = "planted-bugs")]
                let known = hub.recvack_planted(conn, ack.message_id, ack.message_seq);
                #[cfg(not(feature = "planted-bugs"))]
                let known = hub.recvack(conn, ack.message_id);
                if !known {
                    tracing::debug!(%conn, message_id = ack.message_id, "RECVACK for no pending message");
                }
            }
            Packet::Sub(sub) => {
                let ack = self.handle_sub(sub, conn, hub);
                self.emit(Packet::Suback(ack), out);
            }
            Packet::Ping => self.emit(Packet::Pong, out),
            Packet::Pong => {}
            Packet::Disconnect(_) => return Err(CloseReason::ClientDisconnect),
            #[cfg(feature = "planted-bugs")]
            Packet::Event(e) if crate::planted::enabled(crate::planted::Bug::AmpL7) => {
                crate::planted::amp_l7_event(&e.data, &e.event_type);
            }
            other => {
                return Err(CloseReason::UnexpectedPacket(
                    Frame::new(other).packet_type(),
                ));
            }
        }
        Ok(())
    }

    /// Verifies, decrypts and hands a SEND to the hub; returns the SENDACK.
    fn handle_send(&self, send: Send, conn: ConnId, now: Time, hub: &mut Hub) -> Sendack {
        let client_seq = send.client_seq;
        let mut ack = Sendack {
            message_id: 0,
            client_seq,
            message_seq: 0,
            reason: ReasonCode::SUCCESS,
        };
        match self.accept_send(send, conn, now, hub) {
            Ok(accepted) => {
                ack.message_id = accepted.message_id;
                ack.message_seq = self.wire_seq(accepted.message_seq);
            }
            Err(error) => {
                let reason = wire::sendack_reason(&error);
                match &error {
                    SendError::MsgKey => {
                        tracing::debug!(%conn, client_seq, "SEND msgKey does not verify")
                    }
                    SendError::Payload(e) => {
                        tracing::debug!(%conn, client_seq, error = %e, "SEND payload does not decrypt")
                    }
                    SendError::Refused(e) => {
                        tracing::debug!(%conn, client_seq, %reason, error = %e, "SEND refused")
                    }
                }
                ack.reason = reason;
            }
        }
        ack
    }

    /// The SEND's msgKey and payload checked and decrypted, then the hub's verdict.
    fn accept_send(
        &self,
        send: Send,
        conn: ConnId,
        now: Time,
        hub: &mut Hub,
    ) -> Result<Accepted, SendError> {
        let payload = if send.setting.has(Setting::NO_ENCRYPT) {
            send.payload.clone()
        } else if !self
            .cipher
            .verify_msg_key(&crypto::send_sign(&send), &send.msg_key)
        {
            return Err(SendError::MsgKey);
        } else {
            self.cipher
                .decrypt(&send.payload)
                .map_err(SendError::Payload)?
        };
        let req = SendRequest {
            channel_id: send.channel_id,
            channel_type: send.channel_type,
            client_msg_no: send.client_msg_no,
            setting: send.setting,
            expire: send.expire.unwrap_or(0),
            topic: send.topic,
            payload,
        };
        hub.send(conn, req, now).map_err(SendError::Refused)
    }

    fn handle_sub(&self, sub: Sub, conn: ConnId, hub: &mut Hub) -> Suback {
        let reason = match hub.subscribe(conn, &sub.channel_id, sub.channel_type, sub.action) {
            Ok(()) => ReasonCode::SUCCESS,
            Err(error) => {
                let reason = wire::suback_reason(&error);
                tracing::debug!(%conn, channel = %sub.channel_id, action = sub.action, %reason, %error, "SUB refused");
                reason
            }
        };
        Suback {
            sub_no: sub.sub_no,
            channel_id: sub.channel_id,
            channel_type: sub.channel_type,
            action: sub.action,
            reason,
        }
    }

    /// Encodes a message as this recipient's RECV: encrypted with its key, msgKey over the
    /// fields exactly as they travel at its version.
    pub(super) fn encode_recv(&self, msg: &Message, out: &mut Vec<u8>) {
        let encrypted = !msg.setting.has(Setting::NO_ENCRYPT);
        let payload = if encrypted {
            self.cipher.encrypt(&msg.payload).into_bytes()
        } else {
            msg.payload.clone()
        };
        let mut setting = msg.setting.0 & !Setting::STREAM & !Setting::TOPIC;
        if msg.topic.is_some() {
            setting |= Setting::TOPIC;
        }
        let mut recv = Recv {
            setting: Setting(setting),
            msg_key: String::new(),
            from_uid: msg.from_uid.clone(),
            channel_id: msg.channel_id_for(&self.uid).to_owned(),
            channel_type: msg.channel_type,
            expire: (self.version >= 3).then_some(msg.expire),
            client_msg_no: msg.client_msg_no.clone(),
            stream: None,
            message_id: msg.message_id,
            message_seq: self.wire_seq(msg.message_seq),
            timestamp: msg.timestamp,
            topic: msg.topic.clone(),
            payload,
        };
        recv.msg_key = self.cipher.msg_key(&crypto::recv_sign(&recv));
        self.emit(Packet::Recv(recv), out);
    }

    /// MessageSeq as it travels at this version (32 bits below v6).
    fn wire_seq(&self, seq: u64) -> u64 {
        if self.version >= 6 {
            seq
        } else {
            seq & u64::from(u32::MAX)
        }
    }

    fn emit(&self, packet: Packet, out: &mut Vec<u8>) {
        Frame::new(packet).encode(self.version, out);
    }
}
