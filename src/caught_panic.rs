//! Panics that batok catches and reports itself, kept off stderr.
//!
//! A bug that panics inside batok is caught and turned into an error for the caller (the Python
//! layer raises a RuntimeError). Rust's default panic hook would print the panic to stderr first,
//! so the caller would see the same failure twice, once as noise it cannot catch. With
//! `quiet_hook` installed, a panic inside `catch` (or on a batok pool thread, whose panics rayon
//! always hands to the thread waiting on the pool) prints nothing: its message and location are
//! kept for `catch`, which returns them as the panic's payload. Every other panic goes to the
//! hook that was there before, as does a panic raised while an earlier caught one has not been
//! collected yet (a panic during unwinding, which aborts the process and must stay visible).

use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    /// How many `catch` calls this thread is inside (a pool thread counts as one for good).
    static CATCHING: Cell<u32> = const { Cell::new(0) };
    /// The message and location of the last quiet panic on this thread, until collected.
    static CAUGHT: Cell<Option<String>> = const { Cell::new(None) };
}

/// `f`, with a panic caught. The error is the panic's payload: a `String` of its message and
/// location when the quiet hook saw the panic, else what the panic carried.
pub fn catch<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let _ = CAUGHT.try_with(|c| c.take());
    let _ = CATCHING.try_with(|c| c.set(c.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    let _ = CATCHING.try_with(|c| c.set(c.get() - 1));
    result.map_err(
        |payload| match CAUGHT.try_with(|c| c.take()).ok().flatten() {
            Some(described) => Box::new(described) as Box<dyn Any + Send>,
            None => payload,
        },
    )
}

/// Mark the calling thread as one whose panics are always caught and handed on (a pool
/// thread), so that the quiet hook keeps them off stderr too.
pub fn on_pool_thread() {
    let _ = CATCHING.try_with(|c| c.set(c.get() + 1));
}

/// The text of a panic payload (the message for a `panic!` with a string).
pub fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into())
}

/// Install the quiet hook (once; later calls do nothing). It wraps the hook in place, which
/// still handles every panic that batok does not catch.
pub fn quiet_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let catching = CATCHING.try_with(|c| c.get() > 0).unwrap_or(false);
        // A record not yet collected means this panic came while the last one was unwinding.
        let pending = CAUGHT
            .try_with(|c| {
                let p = c.take();
                let pending = p.is_some();
                c.set(p);
                pending
            })
            .unwrap_or(true);
        if !catching || pending {
            return previous(info);
        }
        let what = message(info.payload());
        let described = match info.location() {
            Some(at) => format!("{what}, at {}:{}:{}", at.file(), at.line(), at.column()),
            None => what,
        };
        let _ = CAUGHT.try_with(|c| c.set(Some(described)));
    }));
}

#[cfg(test)]
mod tests {
    use super::{catch, message, quiet_hook};

    #[test]
    fn a_caught_panic_carries_its_message_and_location() {
        quiet_hook();
        let err = catch(|| panic!("bad input {}", 7)).unwrap_err();
        let text = message(err.as_ref());
        assert!(text.starts_with("bad input 7, at "), "{text}");
        assert!(text.contains(file!()), "{text}");
    }

    #[test]
    fn a_value_passes_through() {
        assert_eq!(catch(|| 5).unwrap(), 5);
    }

    #[test]
    fn nested_catches_each_get_their_own_panic() {
        quiet_hook();
        let outer = catch(|| {
            let inner = catch(|| panic!("inner")).unwrap_err();
            assert!(message(inner.as_ref()).starts_with("inner, at "));
            panic!("outer");
        })
        .unwrap_err();
        assert!(message(outer.as_ref()).starts_with("outer, at "));
    }

    #[test]
    fn without_the_hook_the_payload_is_kept() {
        // Another test may have installed the hook; on a thread of its own the message is the
        // same either way, with or without a location.
        let err = std::thread::spawn(|| catch(|| panic!("plain")).unwrap_err())
            .join()
            .unwrap();
        assert!(message(err.as_ref()).starts_with("plain"));
    }
}
