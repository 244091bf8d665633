//! Counts the session's "session closed" events per connection while a target runs, so a
//! target can assert that every closed session logged exactly once.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// The message of the session's close event (see `session::Session::close`).
const CLOSE_MESSAGE: &str = "session closed";

/// `conn` field value (e.g. `c3`) -> number of close events.
pub(crate) type CloseEvents = BTreeMap<String, u32>;

#[derive(Default)]
struct CloseCounter(Arc<Mutex<CloseEvents>>);

#[derive(Default)]
struct Fields {
    message: String,
    conn: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "conn" => self.conn = format!("{value:?}"),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for CloseCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.message == CLOSE_MESSAGE {
            if let Ok(mut map) = self.0.lock() {
                *map.entry(fields.conn).or_insert(0) += 1;
            }
        }
    }
}

/// Runs `f` with close events counted on this thread.
pub(crate) fn with_close_events<R>(f: impl FnOnce() -> R) -> (R, CloseEvents) {
    let counts = Arc::new(Mutex::new(CloseEvents::new()));
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("wkfuzz::session", tracing::Level::DEBUG);
    let subscriber =
        tracing_subscriber::registry().with(CloseCounter(counts.clone()).with_filter(filter));
    let result = tracing::subscriber::with_default(subscriber, f);
    let events = counts.lock().map(|m| m.clone()).unwrap_or_default();
    (result, events)
}
