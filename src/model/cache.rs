//! Per-thread caches of encoded pieces: most words repeat, and a hash lookup is far cheaper than
//! merging again. Caches are per thread so batch threads never contend on a lock; each model
//! has its own id, and a cache is dropped whole when it grows past its bound.

use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Pieces longer than this are rare repeats; caching them would only churn memory. (Code
/// indentation plus a word easily passes 48 bytes once spaces are `▁`, three bytes each.)
pub const MAX_PIECE_LEN: usize = 128;
const MAX_ENTRIES: usize = 1 << 16;
/// Key and value bytes one cache may hold before it is dropped.
const MAX_BYTES: usize = 8 << 20;
const MAX_OWNERS: usize = 16;

#[derive(Default)]
struct Map {
    entries: FxHashMap<Box<[u8]>, Box<[u32]>>,
    bytes: usize,
}

thread_local! {
    static CACHES: RefCell<FxHashMap<u64, Map>> = RefCell::new(FxHashMap::default());
}

/// A cache owner; every model gets a distinct one.
#[derive(Debug)]
pub struct CacheId(u64);

impl CacheId {
    pub fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        CacheId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl Default for CacheId {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for CacheId {
    /// A clone may be configured differently later, so it gets its own cache.
    fn clone(&self) -> Self {
        CacheId::new()
    }
}

/// Append the cached value of `key` to `out`, computing and storing it on a miss. `compute`
/// must append the value to the vector it is given and must not use this cache itself.
pub fn get_or_compute(
    id: &CacheId,
    key: &[u8],
    out: &mut Vec<u32>,
    compute: impl FnOnce(&mut Vec<u32>),
) {
    let hit = CACHES.with(|c| {
        let c = c.borrow();
        match c.get(&id.0).and_then(|m| m.entries.get(key)) {
            Some(v) => {
                out.extend_from_slice(v);
                true
            }
            None => false,
        }
    });
    if hit {
        return;
    }
    let start = out.len();
    compute(out);
    CACHES.with(|c| {
        let mut c = c.borrow_mut();
        if !c.contains_key(&id.0) && c.len() >= MAX_OWNERS {
            c.clear();
        }
        let m = c.entry(id.0).or_default();
        if m.entries.len() >= MAX_ENTRIES || m.bytes >= MAX_BYTES {
            m.entries.clear();
            m.bytes = 0;
        }
        let value = &out[start..];
        m.bytes += key.len() + 4 * value.len();
        m.entries.insert(key.into(), value.into());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once_per_key() {
        let id = CacheId::new();
        let mut calls = 0;
        let mut out = Vec::new();
        for _ in 0..3 {
            get_or_compute(&id, b"abc", &mut out, |o| {
                calls += 1;
                o.push(7);
            });
        }
        assert_eq!(calls, 1);
        assert_eq!(out, [7, 7, 7]);
    }

    #[test]
    fn owners_do_not_share() {
        let (a, b) = (CacheId::new(), CacheId::new());
        let mut out = Vec::new();
        get_or_compute(&a, b"k", &mut out, |o| o.push(1));
        get_or_compute(&b, b"k", &mut out, |o| o.push(2));
        assert_eq!(out, [1, 2]);
    }
}
