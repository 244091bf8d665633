//! A global allocator wrapper that counts bytes allocated per thread, so the gate can hold
//! each input to a memory limit (and the BUF-L5 class, buffering before a limit is
//! checked, shows up as a number). A binary opts in with
//! `#[global_allocator] static A: CountingAlloc = CountingAlloc;`; without it the counters
//! stay at zero and memory limits are not enforced ([`is_installed`] tells).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Counts live and peak bytes of the allocating thread.
#[derive(Debug, Default)]
pub struct CountingAlloc;

static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Bytes allocated minus bytes freed by this thread (frees of other threads' memory can
    /// make it dip; it saturates at zero).
    static LIVE: Cell<usize> = const { Cell::new(0) };
    /// Highest `LIVE` since the last [`reset_peak`].
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn add(n: usize) {
    let _ = LIVE.try_with(|live| {
        let v = live.get().saturating_add(n);
        live.set(v);
        let _ = PEAK.try_with(|p| {
            if v > p.get() {
                p.set(v);
            }
        });
    });
}

fn sub(n: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(n)));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s contract is the caller's; the counters are thread-local `Cell`s (no allocation).
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        add(layout.size());
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        sub(layout.size());
        System.dealloc(ptr, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        add(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            add(new_size - layout.size());
        } else {
            sub(layout.size() - new_size);
        }
        System.realloc(ptr, layout, new_size)
    }
}

/// Whether a [`CountingAlloc`] is the global allocator of this process.
pub fn is_installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Starts a measurement on this thread: the peak becomes the current live bytes.
pub fn reset_peak() -> usize {
    let live = LIVE.try_with(Cell::get).unwrap_or(0);
    let _ = PEAK.try_with(|p| p.set(live));
    live
}

/// Peak live bytes of this thread since [`reset_peak`].
pub fn peak() -> usize {
    PEAK.try_with(Cell::get).unwrap_or(0)
}
