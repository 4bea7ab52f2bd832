//! A global allocator that counts the allocations of the current thread, and
//! the bytes it holds, so a test or benchmark can say how many allocations a
//! piece of code makes, and how much memory a structure keeps, while other
//! threads run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // Const-initialised and without a destructor: safe to touch from inside
    // the allocator, it never allocates itself.
    static COUNT: Cell<u64> = const { Cell::new(0) };
    // Bytes allocated minus bytes freed by this thread (negative when it
    // frees what another thread allocated).
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: during thread teardown the slot may be gone; not counted.
    let _ = COUNT.try_with(|c| c.set(c.get() + 1));
}

fn live_add(bytes: usize, sign: i64) {
    let _ = LIVE.try_with(|l| l.set(l.get() + sign * bytes as i64));
}

/// The system allocator, counting every `alloc`, `alloc_zeroed` and
/// `realloc` made by each thread, and the bytes each thread holds (requested
/// sizes, without the system allocator's own overhead). Install it with
/// `#[global_allocator] static A: CountingAlloc = CountingAlloc;`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAlloc;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the only additions are thread-local counters that never
// allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        live_add(layout.size(), 1);
        // SAFETY: forwarded as received.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        live_add(layout.size(), 1);
        // SAFETY: forwarded as received.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: forwarded as received.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        // On failure the old block stays allocated.
        if !new.is_null() {
            live_add(layout.size(), -1);
            live_add(new_size, 1);
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        live_add(layout.size(), -1);
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` and returns its result with the number of allocations this
/// thread made meanwhile. Meaningful only where [`CountingAlloc`] is the
/// global allocator (otherwise the count is 0).
pub fn count_allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = COUNT.with(Cell::get);
    let r = f();
    (r, COUNT.with(Cell::get) - before)
}

/// Bytes this thread allocated and has not freed (see [`CountingAlloc`]);
/// the difference of two readings is what the code between them kept.
/// Meaningful only where [`CountingAlloc`] is the global allocator.
pub fn live_bytes() -> i64 {
    LIVE.with(Cell::get)
}
