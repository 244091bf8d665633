//! CONNECT and CONNACK bodies: the login request and its answer.

use super::{gate, norm_str, Body, Ctx};
use crate::proto::packet::{Connack, Connect};
use crate::proto::reader::Reader;
use crate::proto::types::{DeviceFlag, ReasonCode};
use crate::proto::writer::Put;
use crate::proto::DecodeError;

/// `Version u8, DeviceFlag u8, DeviceID str, UID str, Token str, ClientTimestamp i64,
/// ClientKey str`. No field is version-gated: the version travels inside.
impl Body for Connect {
    const NAME: &'static str = "Connect";

    fn encode(&self, _ctx: Ctx, out: &mut Vec<u8>) {
        out.put_u8(self.version);
        out.put_u8(self.device_flag.0);
        out.put_str(&self.device_id);
        out.put_str(&self.uid);
        out.put_str(&self.token);
        out.put_i64(self.client_timestamp);
        out.put_str(&self.client_key);
    }

    fn read(r: &mut Reader<'_>, _ctx: Ctx) -> Result<Connect, DecodeError> {
        Ok(Connect {
            version: r.u8("Connect.version")?,
            device_flag: DeviceFlag(r.u8("Connect.device_flag")?),
            device_id: r.string("Connect.device_id")?,
            uid: r.string("Connect.uid")?,
            token: r.string("Connect.token")?,
            client_timestamp: r.i64("Connect.client_timestamp")?,
            client_key: r.string("Connect.client_key")?,
        })
    }

    fn normalized(self, _ctx: Ctx) -> Connect {
        Connect {
            device_id: norm_str(self.device_id),
            uid: norm_str(self.uid),
            token: norm_str(self.token),
            client_key: norm_str(self.client_key),
            ..self
        }
    }
}

/// `[ServerVersion u8 if HasServerVersion], TimeDiff i64, ReasonCode u8, ServerKey str,
/// Salt str, [NodeId u64 if v >= 4]`. The frame encoder sets HasServerVersion iff
/// `server_version.is_some()`, so `encode` writes it iff it is `Some`.
impl Body for Connack {
    const NAME: &'static str = "Connack";

    fn encode(&self, ctx: Ctx, out: &mut Vec<u8>) {
        if let Some(server_version) = self.server_version {
            out.put_u8(server_version);
        }
        out.put_i64(self.time_diff);
        out.put_u8(self.reason.0);
        out.put_str(&self.server_key);
        out.put_str(&self.salt);
        if ctx.has_node_id() {
            out.put_u64(self.node_id.unwrap_or_default());
        }
    }

    fn read(r: &mut Reader<'_>, ctx: Ctx) -> Result<Connack, DecodeError> {
        Ok(Connack {
            server_version: ctx
                .has_server_version()
                .then(|| r.u8("Connack.server_version"))
                .transpose()?,
            time_diff: r.i64("Connack.time_diff")?,
            reason: ReasonCode(r.u8("Connack.reason")?),
            server_key: r.string("Connack.server_key")?,
            salt: r.string("Connack.salt")?,
            node_id: ctx
                .has_node_id()
                .then(|| r.u64("Connack.node_id"))
                .transpose()?,
        })
    }

    fn normalized(self, ctx: Ctx) -> Connack {
        Connack {
            server_key: norm_str(self.server_key),
            salt: norm_str(self.salt),
            node_id: gate(ctx.has_node_id(), self.node_id),
            ..self
        }
    }
}
