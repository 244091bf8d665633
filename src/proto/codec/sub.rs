//! SUB and SUBACK bodies: (un)subscribing to a channel and the answer.

use super::{norm_str, Body, Ctx};
use crate::proto::packet::{Sub, Suback};
use crate::proto::reader::Reader;
use crate::proto::types::{ChannelType, ReasonCode, Setting};
use crate::proto::writer::Put;
use crate::proto::DecodeError;

/// `Setting u8, SubNo str, ChannelID str, ChannelType u8, Action u8, Param str`.
impl Body for Sub {
    const NAME: &'static str = "Sub";

    fn encode(&self, _ctx: Ctx, out: &mut Vec<u8>) {
        out.put_u8(self.setting.0);
        out.put_str(&self.sub_no);
        out.put_str(&self.channel_id);
        out.put_u8(self.channel_type.0);
        out.put_u8(self.action);
        out.put_str(&self.param);
    }

    fn read(r: &mut Reader<'_>, _ctx: Ctx) -> Result<Sub, DecodeError> {
        Ok(Sub {
            setting: Setting(r.u8("Sub.setting")?),
            sub_no: r.string("Sub.sub_no")?,
            channel_id: r.string("Sub.channel_id")?,
            channel_type: ChannelType(r.u8("Sub.channel_type")?),
            action: r.u8("Sub.action")?,
            param: r.string("Sub.param")?,
        })
    }

    fn normalized(self, _ctx: Ctx) -> Sub {
        Sub {
            sub_no: norm_str(self.sub_no),
            channel_id: norm_str(self.channel_id),
            param: norm_str(self.param),
            ..self
        }
    }
}

/// `SubNo str, ChannelID str, ChannelType u8, Action u8, ReasonCode u8` (no Setting byte).
impl Body for Suback {
    const NAME: &'static str = "Suback";

    fn encode(&self, _ctx: Ctx, out: &mut Vec<u8>) {
        out.put_str(&self.sub_no);
        out.put_str(&self.channel_id);
        out.put_u8(self.channel_type.0);
        out.put_u8(self.action);
        out.put_u8(self.reason.0);
    }

    fn read(r: &mut Reader<'_>, _ctx: Ctx) -> Result<Suback, DecodeError> {
        Ok(Suback {
            sub_no: r.string("Suback.sub_no")?,
            channel_id: r.string("Suback.channel_id")?,
            channel_type: ChannelType(r.u8("Suback.channel_type")?),
            action: r.u8("Suback.action")?,
            reason: ReasonCode(r.u8("Suback.reason")?),
        })
    }

    fn normalized(self, _ctx: Ctx) -> Suback {
        Suback {
            sub_no: norm_str(self.sub_no),
            channel_id: norm_str(self.channel_id),
            ..self
        }
    }
}
