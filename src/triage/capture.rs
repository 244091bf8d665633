//! Runs a target in-process and catches a panic with everything needed to triage it.
//!
//! A panic hook records the message, location and a backtrace into a thread-local slot, and
//! the default hook's output is suppressed for threads that are capturing (the gate prints its
//! own report). Threads that are not capturing keep the previous hook's behaviour.

use super::signature::{signature, Signature};
use crate::targets::{Outcome, Target};
use std::backtrace::Backtrace;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

/// A caught panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crash {
    /// The panic message.
    pub message: String,
    /// `file:line:col` of the panic.
    pub location: String,
    /// Rendered backtrace.
    pub backtrace: String,
    /// Its signature.
    pub signature: Signature,
}

impl std::fmt::Display for Crash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "panicked at {}: {}", self.location, self.message)
    }
}

thread_local! {
    /// `Some` while this thread runs under [`run_caught`]; filled by the hook.
    static SLOT: RefCell<Option<Option<Crash>>> = const { RefCell::new(None) };
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let capturing = SLOT.with(|s| s.borrow().is_some());
            if !capturing {
                previous(info);
                return;
            }
            let message = match (
                info.payload().downcast_ref::<&str>(),
                info.payload().downcast_ref::<String>(),
            ) {
                (Some(s), _) => (*s).to_owned(),
                (_, Some(s)) => s.clone(),
                _ => "non-string panic payload".to_owned(),
            };
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            let backtrace = Backtrace::force_capture().to_string();
            let signature = signature(&message, &location, &backtrace);
            SLOT.with(|s| {
                *s.borrow_mut() = Some(Some(Crash {
                    message,
                    location,
                    backtrace,
                    signature,
                }))
            });
        }));
    });
}

/// Runs `target` on `data`; a panic becomes `Err(Crash)`.
pub fn run_caught(target: Target, data: &[u8]) -> Result<Outcome, Crash> {
    install_hook();
    SLOT.with(|s| *s.borrow_mut() = Some(None));
    let result = catch_unwind(AssertUnwindSafe(|| target.run(data)));
    let crash = SLOT.with(|s| s.borrow_mut().take()).flatten();
    match (result, crash) {
        (Ok(outcome), _) => Ok(outcome),
        (Err(_), Some(crash)) => Err(crash),
        (Err(_), None) => Err(Crash {
            message: "panic with no hook record".into(),
            location: String::new(),
            backtrace: String::new(),
            signature: Signature("panic with no hook record".into()),
        }),
    }
}
