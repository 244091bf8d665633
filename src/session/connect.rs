//! CONNECT: version negotiation, ClientKey, token, key exchange, CONNACK
//! (wkproto.md sections 3 and 6). A refusal is a [`ConnectError`]; its CONNACK code is
//! [`wire::connack_reason`]'s.

use super::established::Established;
use super::{wire, CloseReason, ConnectError, Session, State};
use crate::clock::Time;
use crate::hub::Hub;
use crate::proto::crypto::{self, AppCipher};
use crate::proto::{Connack, Connect, Frame, Packet, ReasonCode, LATEST_VERSION, MIN_VERSION};
use base64::Engine;
use rand::RngCore;

impl Session {
    /// Handles the first frame. Every refusal answers CONNACK with a reason and closes.
    pub(super) fn handle_connect(&mut self, c: Connect, now: Time, hub: &mut Hub) {
        // Test builds only: a uid that panics, so the shell's isolation can be tested.
        #[cfg(test)]
        if c.uid == super::PANIC_UID {
            panic!("test-only panic for uid {}", c.uid);
        }
        // Section 3: v = min(client, latest); ServerVersion only for clients above v3,
        // because older decoders (the v2 JS SDK) do not skip it.
        let version = c.version.min(LATEST_VERSION);
        let now_ms = i64::try_from(now.unix_millis()).unwrap_or(i64::MAX);
        let mut connack = Connack {
            server_version: (c.version > 3).then_some(version),
            time_diff: now_ms.saturating_sub(c.client_timestamp),
            reason: ReasonCode::SUCCESS,
            server_key: String::new(),
            salt: String::new(),
            node_id: (version >= 4).then_some(hub.config().node_id),
        };

        let outcome = (|| {
            if c.version < MIN_VERSION {
                return Err(ConnectError::VersionTooOld { version: c.version });
            }
            let client_public =
                crypto::decode_client_key(&c.client_key).map_err(ConnectError::ClientKey)?;
            if let Some(required) = &self.required_uid {
                if required.is_empty() || *required != c.uid {
                    return Err(ConnectError::NotCertificateUid {
                        uid: c.uid.clone(),
                        required: required.clone(),
                    });
                }
            }
            hub.authenticate(&c.uid, &c.token)
                .map_err(|why| ConnectError::Auth {
                    uid: c.uid.clone(),
                    why,
                })?;
            let mut secret = [0u8; 32];
            self.rng.fill_bytes(&mut secret);
            let keys = self.config.key_agreement;
            let shared =
                (keys.shared_secret)(&secret, &client_public).map_err(ConnectError::ClientKey)?;
            let salt = crypto::random_salt(&mut self.rng);
            let engine = base64::engine::general_purpose::STANDARD;
            Ok((engine.encode((keys.public_key)(&secret)), salt, shared))
        })();

        match outcome {
            Err(error) => {
                let reason = wire::connack_reason(&error);
                connack.reason = reason;
                Frame::new(Packet::Connack(connack)).encode(version, &mut self.out);
                tracing::debug!(conn = %self.id, %reason, detail = %error, "CONNECT refused");
                self.close(CloseReason::ConnectRefused { reason, error }, hub);
            }
            Ok((server_key, salt, shared)) => {
                connack.server_key = server_key;
                connack.salt = String::from_utf8_lossy(&salt).into_owned();
                Frame::new(Packet::Connack(connack)).encode(version, &mut self.out);
                let kicked = hub.login(self.id, &c.uid, c.device_flag);
                tracing::debug!(
                    conn = %self.id, uid = %c.uid, device = %c.device_flag, version,
                    kicked = ?kicked, "logged in"
                );
                self.uid = Some(c.uid.clone());
                self.state = State::Established(Box::new(Established {
                    uid: c.uid,
                    version,
                    cipher: AppCipher::from_shared(&shared, &salt)
                        .with_msg_key_fn(self.config.msg_key_fn),
                    idle_deadline: now.saturating_add(self.config.idle_timeout),
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::client::Client;
    use crate::clock::Time;
    use crate::hub::{Hub, HubConfig};
    use crate::proto::{DeviceFlag, Packet, ReasonCode};
    use crate::session::{Session, SessionConfig};

    /// CONNECT as `uid` on a session restricted to `required`; the CONNACK reason.
    fn connack(required: Option<&str>, uid: &str) -> ReasonCode {
        let now = Time::from_unix_millis(1_700_000_000_000);
        let mut hub = Hub::new(HubConfig::default());
        let (id, seed) = hub.open();
        let mut session = Session::new(id, seed, SessionConfig::default(), now);
        if let Some(r) = required {
            session.require_uid(r.to_owned());
        }
        let mut client = Client::new([7; 32], 4);
        let connect = client.connect(uid, "t", DeviceFlag::APP, 0);
        session.handle_bytes(&client.encode(&connect), now, &mut hub);
        let mut out = Vec::new();
        session.poll_transmit(&mut hub, &mut out);
        let frames = client.handle_bytes(&out).unwrap();
        match frames.first().map(|f| &f.packet) {
            Some(Packet::Connack(c)) => c.reason,
            other => panic!("no CONNACK: {other:?}"),
        }
    }

    #[test]
    fn certificate_uid_must_match_connect_uid() {
        assert_eq!(connack(None, "bob"), ReasonCode::SUCCESS);
        assert_eq!(connack(Some("alice"), "alice"), ReasonCode::SUCCESS);
        assert_eq!(connack(Some("alice"), "bob"), ReasonCode::AUTH_FAIL);
        assert_eq!(connack(Some("alice"), "Alice"), ReasonCode::AUTH_FAIL);
        assert_eq!(connack(Some(""), ""), ReasonCode::AUTH_FAIL);
    }
}
