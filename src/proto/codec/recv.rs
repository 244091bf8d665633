//! RECV and RECVACK bodies: a message delivered to a client and the client's acknowledgement.

use super::{gate, norm_str, Body, Ctx};
use crate::proto::packet::{Recv, RecvStream, Recvack};
use crate::proto::reader::Reader;
use crate::proto::types::{ChannelType, Setting};
use crate::proto::writer::Put;
use crate::proto::DecodeError;

/// `Setting u8, MsgKey str, FromUID str, ChannelID str, ChannelType u8, [Expire u32 if
/// v >= 3], ClientMsgNo str, [StreamFlag u8, StreamNo str, StreamId u64 if 2 <= v < 5 and
/// Stream], MessageID i64, MessageSeq u32 (u64 if v >= 6), Timestamp i32, [Topic str if
/// Topic], Payload = rest`.
impl Body for Recv {
    const NAME: &'static str = "Recv";

    fn encode(&self, ctx: Ctx, out: &mut Vec<u8>) {
        out.put_u8(self.setting.0);
        out.put_str(&self.msg_key);
        out.put_str(&self.from_uid);
        out.put_str(&self.channel_id);
        out.put_u8(self.channel_type.0);
        if ctx.has_expire() {
            out.put_u32(self.expire.unwrap_or_default());
        }
        out.put_str(&self.client_msg_no);
        if ctx.has_stream(self.setting) {
            let default = RecvStream::default();
            let stream = self.stream.as_ref().unwrap_or(&default);
            out.put_u8(stream.flag);
            out.put_str(&stream.no);
            out.put_u64(stream.id);
        }
        out.put_i64(self.message_id);
        ctx.put_seq(out, self.message_seq);
        out.put_i32(self.timestamp);
        if ctx.has_topic(self.setting) {
            out.put_str(self.topic.as_deref().unwrap_or_default());
        }
        out.put_bytes(&self.payload);
    }

    fn read(r: &mut Reader<'_>, ctx: Ctx) -> Result<Recv, DecodeError> {
        let setting = Setting(r.u8("Recv.setting")?);
        Ok(Recv {
            setting,
            msg_key: r.string("Recv.msg_key")?,
            from_uid: r.string("Recv.from_uid")?,
            channel_id: r.string("Recv.channel_id")?,
            channel_type: ChannelType(r.u8("Recv.channel_type")?),
            expire: ctx.has_expire().then(|| r.u32("Recv.expire")).transpose()?,
            client_msg_no: r.string("Recv.client_msg_no")?,
            stream: ctx
                .has_stream(setting)
                .then(|| read_stream(r))
                .transpose()?,
            message_id: r.i64("Recv.message_id")?,
            message_seq: ctx.read_seq(r, "Recv.message_seq")?,
            timestamp: r.i32("Recv.timestamp")?,
            topic: ctx
                .has_topic(setting)
                .then(|| r.string("Recv.topic"))
                .transpose()?,
            payload: r.rest().to_vec(),
        })
    }

    fn normalized(self, ctx: Ctx) -> Recv {
        Recv {
            msg_key: norm_str(self.msg_key),
            from_uid: norm_str(self.from_uid),
            channel_id: norm_str(self.channel_id),
            expire: gate(ctx.has_expire(), self.expire),
            client_msg_no: norm_str(self.client_msg_no),
            stream: gate(ctx.has_stream(self.setting), self.stream).map(|s| RecvStream {
                no: norm_str(s.no),
                ..s
            }),
            message_seq: ctx.normalized_seq(self.message_seq),
            topic: gate(ctx.has_topic(self.setting), self.topic).map(norm_str),
            ..self
        }
    }
}

/// `StreamFlag u8, StreamNo str, StreamId u64` (the current order; the JS SDK 1.0.4 reads
/// an older one, which is why the server never sets Stream toward it).
fn read_stream(r: &mut Reader<'_>) -> Result<RecvStream, DecodeError> {
    Ok(RecvStream {
        flag: r.u8("Recv.stream.flag")?,
        no: r.string("Recv.stream.no")?,
        id: r.u64("Recv.stream.id")?,
    })
}

/// `MessageID i64, MessageSeq u32 (u64 if v >= 6)`.
impl Body for Recvack {
    const NAME: &'static str = "Recvack";

    fn encode(&self, ctx: Ctx, out: &mut Vec<u8>) {
        out.put_i64(self.message_id);
        ctx.put_seq(out, self.message_seq);
    }

    fn read(r: &mut Reader<'_>, ctx: Ctx) -> Result<Recvack, DecodeError> {
        Ok(Recvack {
            message_id: r.i64("Recvack.message_id")?,
            message_seq: ctx.read_seq(r, "Recvack.message_seq")?,
        })
    }

    fn normalized(self, ctx: Ctx) -> Recvack {
        Recvack {
            message_seq: ctx.normalized_seq(self.message_seq),
            ..self
        }
    }
}
