//! Counts the session's "session closed" events per connection while a target runs, so a
//! target can assert that every closed session logged exactly once.
//!
//! A thread-local subscriber (`with_default`) would be simplest, but tracing caches each
//! callsite's interest globally, and with several threads coming and going that cache races
//! (an event can be skipped). So the capture is a [`CaptureLayer`] in the *global*
//! subscriber, which counts only on threads that asked for it. [`install`] sets it as the
//! global subscriber when none is set; a program with its own subscriber (the CLI) adds
//! [`layer`] to it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// The message of the session's close event (see `session::Session::close`).
const CLOSE_MESSAGE: &str = "session closed";

/// `conn` field value (e.g. `c3`) -> number of close events.
pub(crate) type CloseEvents = BTreeMap<String, u32>;

thread_local! {
    /// `Some` while this thread is capturing.
    static CAPTURE: RefCell<Option<CloseEvents>> = const { RefCell::new(None) };
}

/// Counts close events on capturing threads; does nothing elsewhere.
#[derive(Debug, Default)]
pub struct CaptureLayer;

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

impl<S: tracing::Subscriber> Layer<S> for CaptureLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if !CAPTURE.with(|c| c.borrow().is_some()) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.message == CLOSE_MESSAGE {
            CAPTURE.with(|c| {
                if let Some(map) = c.borrow_mut().as_mut() {
                    *map.entry(fields.conn).or_insert(0) += 1;
                }
            });
        }
    }
}

/// The capture layer with its own filter (the session's debug events only), for programs
/// that build their own subscriber.
pub fn layer<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("wkfuzz::session", tracing::Level::DEBUG);
    CaptureLayer.with_filter(filter)
}

/// Makes the capture layer the global subscriber unless one is already set.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ =
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer()));
    });
}

/// Runs `f` with close events counted on this thread.
pub(crate) fn with_close_events<R>(f: impl FnOnce() -> R) -> (R, CloseEvents) {
    install();
    CAPTURE.with(|c| *c.borrow_mut() = Some(CloseEvents::new()));
    let result = f();
    let events = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (result, events)
}
