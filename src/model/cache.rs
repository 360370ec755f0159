//! Per-thread caches of encoded pieces: most words repeat, and a hash lookup is far cheaper than
//! merging again. Caches are per thread so batch threads never contend on a lock; each model
//! has its own id.
//!
//! Pieces of up to `FRONT_KEY` bytes (nearly all of them) go in the front table
//! (`short_table`), which keeps every one until it reaches its bound. Longer pieces go in the
//! main table, bounded in two generations: when the current one is full it becomes the old one
//! (the previous old one is dropped), and a piece found only in the old generation moves back
//! to the current one, so the pieces still in use survive the turnover.

use super::short_table::{hash, pack, pack_in, Key, ShortTable, MAX_KEY};
use super::token_index::{load_le, step};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Pieces longer than this are not cached. A long piece costs far more to merge than to hash
/// and compare (a 4 KB run of one letter: hundreds of microseconds of merging, about one of
/// hashing), and long pieces do repeat: separator lines, indentation, a document's runs of
/// one character. Longer ones are rare and would crowd out the rest.
pub const MAX_PIECE_LEN: usize = 8 << 10;
/// An entry's header holds the key's and the value's lengths in 16 bits each.
const MAX_VALUE_LEN: usize = u16::MAX as usize;
const _: () = assert!(MAX_PIECE_LEN <= u16::MAX as usize);
/// Entries of one generation. On one pass over 30 MB of unseen documents (cl100k), a table
/// of 64k entries dropped whole when full merged 458k pieces, of which 289k were distinct;
/// two generations of 128k merge 304k, for at most twice the memory of one.
const MAX_ENTRIES: usize = 1 << 17;
/// Key and value bytes one generation may hold.
const MAX_BYTES: usize = 16 << 20;
/// Owners whose caches one thread keeps at once (beyond it, the thread starts over).
const MAX_OWNERS: usize = 16;
/// The longest key the front table holds; longer ones go in the main table.
pub const FRONT_KEY: usize = MAX_KEY;

/// One owner's entries, in two flat arrays rather than a map of boxed keys and values: a
/// lookup then touches a slot and one entry (key and value side by side) instead of a control
/// group, a slot, the key's allocation and the value's.
#[derive(Default)]
struct Map {
    /// Open addressing: 0 is empty, else (hash tag << 32) | (entry offset + 1).
    slots: Vec<u64>,
    /// One byte per slot: 0 when empty, else 0x80 | seven more bits of the hash. On a first
    /// pass over unseen text most lookups miss, and a miss ends here (a few hundred KiB, mostly
    /// in L2) rather than in the slots' megabytes.
    tags: Vec<u8>,
    /// Entries back to back: a header word (key length | value length << 16), the key's bytes
    /// in whole words (zero-padded), then the value.
    arena: Vec<u32>,
    entries: usize,
}

const FIRST_SLOTS: usize = 1 << 10;

/// A key's hash. Lighter than the token index's (no finalizer): each step's rotate brings the
/// product's well-mixed high bits down to the low bits the slot index is taken from, and keys
/// are short, so this is a large share of a cache hit.
#[inline]
fn hash_bytes(key: &[u8]) -> u64 {
    let mut h = key.len() as u64;
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        h = step(h, u64::from_le_bytes(c.try_into().unwrap()));
    }
    step(h, load_le(chunks.remainder()))
}

/// A slot's tag byte: hash bits that neither the slot index (the low bits) nor the slot's own
/// tag (the high 32) use much, with the high bit set so that no tag is 0.
#[inline]
fn tag_byte(h: u64) -> u8 {
    0x80 | (h >> 25) as u8
}

/// `words` as bytes.
#[inline]
fn as_bytes(words: &[u32]) -> &[u8] {
    // SAFETY: any u32 is four initialized bytes, u8 has alignment 1, and the length covers
    // exactly the same memory.
    unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), words.len() * 4) }
}

impl Map {
    /// The value of `key`, whose hash is `h`.
    #[inline]
    fn get(&self, h: u64, key: &[u8]) -> Option<&[u32]> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = h >> 32;
        let byte = tag_byte(h);
        let mut i = h as usize & mask;
        loop {
            let t = self.tags[i];
            if t == 0 {
                return None;
            }
            let s = self.slots[i];
            if t == byte && s >> 32 == tag {
                let at = (s as u32 - 1) as usize;
                let head = self.arena[at];
                let (klen, vlen) = ((head & 0xffff) as usize, (head >> 16) as usize);
                let kw = klen.div_ceil(4);
                if klen == key.len() && &as_bytes(&self.arena[at + 1..at + 1 + kw])[..klen] == key {
                    return Some(&self.arena[at + 1 + kw..at + 1 + kw + vlen]);
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn insert(&mut self, h: u64, key: &[u8], value: &[u32]) {
        if (self.entries + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let at = self.arena.len();
        self.arena
            .push(key.len() as u32 | (value.len() as u32) << 16);
        self.arena.extend(key.chunks(4).map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_ne_bytes(w)
        }));
        self.arena.extend_from_slice(value);
        self.place(h, at);
        self.entries += 1;
    }

    fn place(&mut self, h: u64, at: usize) {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        while self.tags[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (h >> 32) << 32 | (at as u64 + 1);
        self.tags[i] = tag_byte(h);
    }

    /// Double the slots (a small table keeps a small hot set dense) and re-place every entry.
    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(FIRST_SLOTS);
        self.slots = vec![0; n];
        self.tags = vec![0; n];
        let mut at = 0;
        while at < self.arena.len() {
            let head = self.arena[at];
            let (klen, vlen) = ((head & 0xffff) as usize, (head >> 16) as usize);
            let kw = klen.div_ceil(4);
            let h = hash_bytes(&as_bytes(&self.arena[at + 1..at + 1 + kw])[..klen]);
            self.place(h, at);
            at += 1 + kw + vlen;
        }
    }

    fn clear(&mut self) {
        self.slots.fill(0);
        self.tags.fill(0);
        self.arena.clear();
        self.entries = 0;
    }

    /// Bytes held by entries.
    fn bytes(&self) -> usize {
        4 * self.arena.len()
    }
}

/// The front table's key of `text[s..e]` and its hash, where the piece is short enough.
#[inline(always)]
pub fn front_key(text: &[u8], s: usize, e: usize) -> Option<(Key, u64)> {
    let n = e - s;
    if !(1..=MAX_KEY).contains(&n) {
        return None;
    }
    let k = if s + 16 <= text.len() {
        pack_in(text, s, e)
    } else {
        pack(&text[s..e])
    };
    Some((k, hash(k)))
}

/// A piece met by the scanner, its front-table line requested.
#[derive(Clone, Copy, Default)]
pub struct Pending {
    s: usize,
    e: usize,
    /// Whether the piece is short enough for the front table, and then its key and hash.
    pub short: bool,
    pub key: Key,
    pub hash: u64,
}

impl Pending {
    /// Where the piece is in its text.
    #[inline(always)]
    pub fn range(&self) -> std::ops::Range<usize> {
        self.s..self.e
    }
}

/// How many pieces ahead of its lookup a piece's line is requested: enough for the load to
/// arrive from memory, few enough that the requested lines are still in L1.
const AHEAD: usize = 8;

/// A ring of the last `AHEAD` pieces met, each looked up when the ring comes round to it.
#[derive(Default)]
pub struct Ahead {
    ring: [Pending; AHEAD],
    n: usize,
}

impl Ahead {
    /// Add `text[s..e]`, requesting its line, and give back the piece `AHEAD` before it.
    #[inline(always)]
    pub fn push(&mut self, cache: &PieceCache, text: &[u8], s: usize, e: usize) -> Option<Pending> {
        let mut p = Pending {
            s,
            e,
            ..Pending::default()
        };
        if let Some((key, hash)) = front_key(text, s, e) {
            cache.prefetch(hash);
            (p.short, p.key, p.hash) = (true, key, hash);
        }
        let slot = &mut self.ring[self.n % AHEAD];
        let done = (self.n >= AHEAD).then_some(*slot);
        *slot = p;
        self.n += 1;
        done
    }

    /// The pieces still waiting, in order.
    pub fn drain(&self) -> impl Iterator<Item = Pending> + '_ {
        let first = self.n.saturating_sub(AHEAD);
        (first..self.n).map(|i| self.ring[i % AHEAD])
    }
}

/// One owner's caches on one thread.
#[derive(Default)]
pub struct PieceCache {
    /// Every short piece met (up to the table's bound).
    front: ShortTable,
    map: Map,
    /// The generation before `map`: read on a miss there, never written.
    old: Map,
}

/// A thread's caches, by owner.
#[derive(Default)]
struct Owners {
    caches: FxHashMap<u64, Owned>,
    /// `DROPPED` when this thread last let go of the caches of dropped owners.
    dropped_seen: u64,
}

/// One owner's cache on one thread, and whether the owner is still alive.
struct Owned {
    cache: PieceCache,
    alive: Arc<AtomicBool>,
}

impl Owners {
    /// Let go of the caches of owners dropped since the last look: a cache can hold tens of
    /// megabytes, and a program that loads tokenizers one after another (a notebook, a task
    /// per batch) would otherwise keep those of up to `MAX_OWNERS` dead ones on every thread.
    /// (No lock is shared with other threads, so a process forked while another thread was
    /// here cannot find one held forever.)
    fn forget_dropped(&mut self) {
        let dropped = DROPPED.load(Ordering::Acquire);
        if dropped != self.dropped_seen {
            self.dropped_seen = dropped;
            self.caches.retain(|_, o| o.alive.load(Ordering::Acquire));
        }
    }
}

thread_local! {
    static CACHES: RefCell<Owners> = RefCell::new(Owners::default());
}

/// How many owners have been dropped so far.
static DROPPED: AtomicU64 = AtomicU64::new(0);

impl PieceCache {
    /// Append the cached value of `key` to `out`; false (and `out` untouched) on a miss.
    #[inline]
    pub fn lookup(&mut self, key: &[u8], out: &mut Vec<u32>) -> bool {
        self.lookup_in(key, 0, key.len(), out)
    }

    /// `lookup` of the key `text[s..e]`, reading the bytes around it when that saves work.
    #[inline(always)]
    pub fn lookup_in(&mut self, text: &[u8], s: usize, e: usize, out: &mut Vec<u32>) -> bool {
        match front_key(text, s, e) {
            Some((k, h)) => self.front_get(k, h, out),
            None => self.lookup_main(&text[s..e], out),
        }
    }

    /// Request the front table's line for a key from `front_key`, to be looked up soon.
    #[inline(always)]
    pub fn prefetch(&self, h: u64) {
        self.front.prefetch(h);
    }

    /// `lookup` of a piece from `Ahead`, in `text`.
    #[inline(always)]
    pub fn lookup_pending(&mut self, text: &[u8], p: Pending, out: &mut Vec<u32>) -> bool {
        if p.short {
            self.front_get(p.key, p.hash, out)
        } else {
            self.lookup_main(&text[p.range()], out)
        }
    }

    /// The front table alone, for a key from `front_key`.
    #[inline(always)]
    pub fn front_get(&self, k: Key, h: u64, out: &mut Vec<u32>) -> bool {
        self.front.get(k, h, out)
    }

    /// The main table, behind the front one.
    #[inline(never)]
    pub fn lookup_main(&mut self, key: &[u8], out: &mut Vec<u32>) -> bool {
        if key.len() > MAX_PIECE_LEN {
            return false;
        }
        let h = hash_bytes(key);
        if let Some(v) = self.map.get(h, key) {
            out.extend_from_slice(v);
            return true;
        }
        if self.old.entries == 0 {
            return false;
        }
        let Some(v) = self.old.get(h, key) else {
            return false;
        };
        // Still in use: back to the current generation.
        let start = out.len();
        out.extend_from_slice(v);
        self.insert_main(h, key, &out[start..]);
        true
    }

    /// Into the current generation, turning it over first when it is full.
    fn insert_main(&mut self, h: u64, key: &[u8], value: &[u32]) {
        if self.map.entries >= MAX_ENTRIES || self.map.bytes() >= MAX_BYTES {
            std::mem::swap(&mut self.map, &mut self.old);
            self.map.clear();
        }
        self.map.insert(h, key, value);
    }

    /// Remember `value` for `key`: in the front table when the key is short enough for it,
    /// else in the main table when `keep`. (A caller that finds one-token pieces in its
    /// vocabulary before the main table passes `keep = false` for them: the main table would
    /// only grow. Short keys are kept either way: the front table is the only place they are
    /// looked for.)
    pub fn store(&mut self, key: &[u8], value: &[u32], keep: bool) {
        if (1..=MAX_KEY).contains(&key.len()) {
            let k = pack(key);
            self.front.put(k, hash(k), value);
        } else if keep && key.len() <= MAX_PIECE_LEN && value.len() <= MAX_VALUE_LEN {
            self.insert_main(hash_bytes(key), key, value);
        }
    }
}

/// `f` with this thread's cache for `id`, looked up once for a whole call rather than once per
/// piece. Should `f` reach here again on the same thread, the inner call gets a fresh cache
/// that is then dropped, rather than a second borrow.
pub fn with<R>(id: &CacheId, f: impl FnOnce(&mut PieceCache) -> R) -> R {
    CACHES.with(|c| match c.try_borrow_mut() {
        Ok(mut c) => {
            c.forget_dropped();
            let caches = &mut c.caches;
            if !caches.contains_key(&id.id) && caches.len() >= MAX_OWNERS {
                caches.clear();
            }
            let owned = caches.entry(id.id).or_insert_with(|| Owned {
                cache: PieceCache::default(),
                alive: id.alive.clone(),
            });
            f(&mut owned.cache)
        }
        Err(_) => f(&mut PieceCache::default()),
    })
}

/// A cache owner; every model gets a distinct one. When it is dropped, each thread lets go
/// of its cache the next time it looks up any cache.
#[derive(Debug)]
pub struct CacheId {
    id: u64,
    /// Cleared when the owner is dropped; each thread's cache holds a clone.
    alive: Arc<AtomicBool>,
}

impl CacheId {
    pub fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        CacheId {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(AtomicBool::new(true)),
        }
    }
}

impl Drop for CacheId {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Release);
        DROPPED.fetch_add(1, Ordering::Release);
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
/// must append the value to the vector it is given; should it fail, nothing is stored, `out`
/// is left as it was, and its error is returned.
pub fn get_or_compute<E>(
    id: &CacheId,
    key: &[u8],
    out: &mut Vec<u32>,
    compute: impl FnOnce(&mut Vec<u32>) -> Result<(), E>,
) -> Result<(), E> {
    if with(id, |c| c.lookup(key, out)) {
        return Ok(());
    }
    let start = out.len();
    if let Err(e) = compute(out) {
        out.truncate(start);
        return Err(e);
    }
    with(id, |c| c.store(key, &out[start..], true));
    Ok(())
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
                Ok::<_, ()>(())
            })
            .unwrap();
        }
        assert_eq!(calls, 1);
        assert_eq!(out, [7, 7, 7]);
    }

    #[test]
    fn a_failed_compute_stores_nothing() {
        let id = CacheId::new();
        let mut out = vec![1];
        let failed = get_or_compute(&id, b"abc", &mut out, |o| {
            o.push(7);
            Err("no")
        });
        assert_eq!((failed, &out[..]), (Err("no"), &[1][..]));
        get_or_compute(&id, b"abc", &mut out, |o| {
            o.push(8);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(out, [1, 8]);
    }

    #[test]
    fn keeps_every_entry_through_growth() {
        let mut m = Map::default();
        let key = |i: u32| format!("piece {i}").into_bytes();
        let value = |i: u32| (0..i % 7).map(|k| i * 10 + k).collect::<Vec<u32>>();
        for i in 0..5000 {
            m.insert(hash_bytes(&key(i)), &key(i), &value(i));
        }
        assert!(m.slots.len() >= 2 * m.entries);
        for i in 0..5000 {
            assert_eq!(m.get(hash_bytes(&key(i)), &key(i)), Some(&value(i)[..]));
        }
        assert!(m.get(hash_bytes(b"absent"), b"absent").is_none());
        m.clear();
        assert!(m.get(hash_bytes(&key(1)), &key(1)).is_none());
    }

    #[test]
    fn pieces_in_use_survive_a_turnover() {
        let mut c = PieceCache::default();
        let mut out = Vec::new();
        // Longer than the front table holds, so every lookup reaches the main table.
        let key = |i: usize| format!("a piece longer than the front holds {i}").into_bytes();
        c.store(&key(0), &[7, 8], true);
        for i in 1..=2 * MAX_ENTRIES {
            c.store(&key(i), &[i as u32], true);
            if i % 1000 == 0 {
                assert!(c.lookup(&key(0), &mut out), "used piece lost at {i}");
            }
        }
        assert!(
            !c.lookup(&key(1), &mut out),
            "an unused piece goes after two turnovers"
        );
        assert!(c.lookup(&key(2 * MAX_ENTRIES), &mut out));
        assert_eq!(&out[out.len() - 3..], [7, 8, 2 * MAX_ENTRIES as u32]);
    }

    #[test]
    fn long_pieces_are_kept_up_to_the_bound() {
        let mut c = PieceCache::default();
        let mut out = Vec::new();
        // A run of one letter, as long as the bound, whose value is as long as the header allows.
        let run = vec![b'a'; MAX_PIECE_LEN];
        let ids: Vec<u32> = (0..MAX_PIECE_LEN as u32).collect();
        c.store(&run, &ids, true);
        assert!(c.lookup(&run, &mut out));
        assert_eq!(out, ids);
        // One byte longer is not kept, nor is a value longer than the header can say.
        let longer = vec![b'a'; MAX_PIECE_LEN + 1];
        c.store(&longer, &[1], true);
        assert!(!c.lookup(&longer, &mut out));
        let other = vec![b'b'; 300];
        c.store(&other, &vec![2; MAX_VALUE_LEN + 1], true);
        assert!(!c.lookup(&other, &mut out));
        assert_eq!(out.len(), MAX_PIECE_LEN);
    }

    #[test]
    fn short_pieces_are_all_kept() {
        let mut c = PieceCache::default();
        let key = |i: u32| format!("w{i}").into_bytes();
        for i in 0..200_000 {
            c.store(&key(i), &[i, i + 1], false);
        }
        let mut out = Vec::new();
        for i in (0..200_000).step_by(997) {
            out.clear();
            assert!(c.lookup(&key(i), &mut out), "{i}");
            assert_eq!(out, [i, i + 1]);
        }
    }

    #[test]
    fn ahead_gives_back_every_piece_once_in_order() {
        let text = b"one two three four five six seven eight nine ten eleven twelve";
        let mut c = PieceCache::default();
        let words: Vec<(usize, usize)> = text
            .split(|&b| b == b' ')
            .scan(0, |at, w| {
                let s = *at;
                *at += w.len() + 1;
                Some((s, s + w.len()))
            })
            .collect();
        for n in [0, 1, AHEAD - 1, AHEAD, AHEAD + 1, words.len()] {
            let mut ahead = Ahead::default();
            let mut seen = Vec::new();
            for &(s, e) in &words[..n] {
                seen.extend(ahead.push(&c, text, s, e).map(|p| p.range()));
            }
            seen.extend(ahead.drain().map(|p| p.range()));
            let want: Vec<_> = words[..n].iter().map(|&(s, e)| s..e).collect();
            assert_eq!(seen, want, "{n} pieces");
        }
        // A piece's key is the one its lookup uses.
        c.store(b"three", &[3], false);
        let mut ahead = Ahead::default();
        let p = ahead.push(&c, text, 8, 13);
        assert!(p.is_none());
        let p = ahead.drain().next().unwrap();
        let mut out = Vec::new();
        assert!(p.short && c.lookup_pending(text, p, &mut out));
        assert_eq!(out, [3]);
    }

    #[test]
    fn owners_do_not_share() {
        let (a, b) = (CacheId::new(), CacheId::new());
        let mut out = Vec::new();
        let mut put = |id, v| {
            get_or_compute::<()>(id, b"k", &mut out, |o| {
                o.push(v);
                Ok(())
            })
        };
        put(&a, 1).unwrap();
        put(&b, 2).unwrap();
        assert_eq!(out, [1, 2]);
    }

    fn owners_here() -> Vec<u64> {
        let mut ids: Vec<u64> = CACHES.with(|c| c.borrow().caches.keys().copied().collect());
        ids.sort();
        ids
    }

    #[test]
    fn a_dropped_owners_cache_is_let_go_at_the_next_lookup() {
        let (kept, dropped) = (CacheId::new(), CacheId::new());
        let mut out = Vec::new();
        for (id, v) in [(&kept, 1), (&dropped, 2)] {
            get_or_compute::<()>(id, b"piece", &mut out, |o| {
                o.push(v);
                Ok(())
            })
            .unwrap();
        }
        let gone = dropped.id;
        assert!(owners_here().contains(&gone));
        drop(dropped);
        // Any lookup on this thread, here the surviving owner's, lets the dead cache go.
        out.clear();
        assert!(with(&kept, |c| c.lookup(b"piece", &mut out)));
        assert_eq!(out, [1], "the live owner's cache is kept");
        assert!(!owners_here().contains(&gone));
        assert!(owners_here().contains(&kept.id));
    }
}
