//! The EVENT body: a server-pushed event with opaque data.

use super::{norm_str, Body, Ctx};
use crate::proto::packet::Event;
use crate::proto::reader::Reader;
use crate::proto::writer::Put;
use crate::proto::DecodeError;

/// `Id str, Type str, Timestamp i64, Data = rest`.
impl Body for Event {
    const NAME: &'static str = "Event";

    fn encode(&self, _ctx: Ctx, out: &mut Vec<u8>) {
        out.put_str(&self.id);
        out.put_str(&self.event_type);
        out.put_i64(self.timestamp);
        out.put_bytes(&self.data);
    }

    fn read(r: &mut Reader<'_>, _ctx: Ctx) -> Result<Event, DecodeError> {
        Ok(Event {
            id: r.string("Event.id")?,
            event_type: r.string("Event.event_type")?,
            timestamp: r.i64("Event.timestamp")?,
            data: r.rest().to_vec(),
        })
    }

    fn normalized(self, _ctx: Ctx) -> Event {
        Event {
            id: norm_str(self.id),
            event_type: norm_str(self.event_type),
            ..self
        }
    }
}
