//! The DISCONNECT body, sent by either side before it closes.

use super::{norm_str, Body, Ctx};
use crate::proto::packet::Disconnect;
use crate::proto::reader::Reader;
use crate::proto::types::ReasonCode;
use crate::proto::writer::Put;
use crate::proto::DecodeError;

/// `ReasonCode u8, Reason str`.
impl Body for Disconnect {
    const NAME: &'static str = "Disconnect";

    fn encode(&self, _ctx: Ctx, out: &mut Vec<u8>) {
        out.put_u8(self.reason.0);
        out.put_str(&self.reason_text);
    }

    fn read(r: &mut Reader<'_>, _ctx: Ctx) -> Result<Disconnect, DecodeError> {
        #[cfg(feature = "planted-bugs")]
        if crate::planted::enabled(crate::planted::Bug::Trunc) {
            crate::planted::trunc_disconnect(r.peek());
        }
        Ok(Disconnect {
            reason: ReasonCode(r.u8("Disconnect.reason")?),
            reason_text: r.string("Disconnect.reason_text")?,
        })
    }

    fn normalized(self, _ctx: Ctx) -> Disconnect {
        Disconnect {
            reason_text: norm_str(self.reason_text),
            ..self
        }
    }
}
