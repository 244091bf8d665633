//! SEND and SENDACK bodies: a client's message and the server's acknowledgement.

use super::{gate, norm_str, Body, Ctx};
use crate::proto::packet::{Send, Sendack};
use crate::proto::reader::Reader;
use crate::proto::types::{ChannelType, ReasonCode, Setting};
use crate::proto::writer::Put;
use crate::proto::DecodeError;

/// `Setting u8, ClientSeq u32, ClientMsgNo str, [StreamNo str if 2 <= v < 5 and Stream],
/// ChannelID str, ChannelType u8, [Expire u32 if v >= 3], MsgKey str, [Topic str if Topic],
/// Payload = rest`.
impl Body for Send {
    const NAME: &'static str = "Send";

    fn encode(&self, ctx: Ctx, out: &mut Vec<u8>) {
        out.put_u8(self.setting.0);
        out.put_u32(self.client_seq);
        out.put_str(&self.client_msg_no);
        if ctx.has_stream(self.setting) {
            out.put_str(self.stream_no.as_deref().unwrap_or_default());
        }
        out.put_str(&self.channel_id);
        out.put_u8(self.channel_type.0);
        if ctx.has_expire() {
            out.put_u32(self.expire.unwrap_or_default());
        }
        out.put_str(&self.msg_key);
        if ctx.has_topic(self.setting) {
            out.put_str(self.topic.as_deref().unwrap_or_default());
        }
        out.put_bytes(&self.payload);
    }

    fn read(r: &mut Reader<'_>, ctx: Ctx) -> Result<Send, DecodeError> {
        let setting = Setting(r.u8("Send.setting")?);
        Ok(Send {
            setting,
            client_seq: r.u32("Send.client_seq")?,
            client_msg_no: r.string("Send.client_msg_no")?,
            stream_no: ctx
                .has_stream(setting)
                .then(|| r.string("Send.stream_no"))
                .transpose()?,
            channel_id: r.string("Send.channel_id")?,
            channel_type: ChannelType(r.u8("Send.channel_type")?),
            expire: ctx.has_expire().then(|| r.u32("Send.expire")).transpose()?,
            msg_key: r.string("Send.msg_key")?,
            topic: ctx
                .has_topic(setting)
                .then(|| r.string("Send.topic"))
                .transpose()?,
            payload: r.rest().to_vec(),
        })
    }

    fn normalized(self, ctx: Ctx) -> Send {
        Send {
            client_msg_no: norm_str(self.client_msg_no),
            stream_no: gate(ctx.has_stream(self.setting), self.stream_no).map(norm_str),
            channel_id: norm_str(self.channel_id),
            expire: gate(ctx.has_expire(), self.expire),
            msg_key: norm_str(self.msg_key),
            topic: gate(ctx.has_topic(self.setting), self.topic).map(norm_str),
            ..self
        }
    }
}

/// `MessageID i64, ClientSeq u32, MessageSeq u32 (u64 if v >= 6), ReasonCode u8`.
impl Body for Sendack {
    const NAME: &'static str = "Sendack";

    fn encode(&self, ctx: Ctx, out: &mut Vec<u8>) {
        out.put_i64(self.message_id);
        out.put_u32(self.client_seq);
        ctx.put_seq(out, self.message_seq);
        out.put_u8(self.reason.0);
    }

    fn read(r: &mut Reader<'_>, ctx: Ctx) -> Result<Sendack, DecodeError> {
        Ok(Sendack {
            message_id: r.i64("Sendack.message_id")?,
            client_seq: r.u32("Sendack.client_seq")?,
            message_seq: ctx.read_seq(r, "Sendack.message_seq")?,
            reason: ReasonCode(r.u8("Sendack.reason")?),
        })
    }

    fn normalized(self, ctx: Ctx) -> Sendack {
        Sendack {
            message_seq: ctx.normalized_seq(self.message_seq),
            ..self
        }
    }
}
