//! Per-thread caches of encoded pieces: most words repeat, and a hash lookup is far cheaper than
//! merging again. Caches are per thread so batch threads never contend on a lock; each model
//! has its own id. The main table is bounded in two generations: when the current one is full
//! it becomes the old one (the previous old one is dropped), and a piece found only in the old
//! generation moves back to the current one, so the pieces still in use survive the turnover.

use super::token_index::{load_le, step};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

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
const MAX_OWNERS: usize = 16;

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

/// Pieces of up to this many bytes, whose value is at most `FRONT_VALS` u32s, also go in the
/// front table.
const FRONT_KEY: usize = 15;
const FRONT_VALS: usize = 3;
/// 64k entries of 32 bytes, in 32k buckets of two (one cache line). With 16k entries,
/// frequent pieces evicted each other often enough that 64k made cl100k/o200k `count_tokens`
/// 3-12 % faster (prose and code most), for 2 MiB per thread and owner, filled on the thread's
/// first piece of that owner (about 0.5 ms once).
const FRONT_BITS: u32 = 16;

/// A table in front of everything else (the token index and the main table), 2 MiB per owner
/// and thread. Those live in megabytes that the shared L3 keeps only loosely, so each lookup
/// was a miss to memory; the most frequent pieces, which make up most of any text, are
/// answered from here in one read of a cache line.
///
/// Each key has a bucket of two entries, the more recently used first: two frequent pieces
/// that share a bucket both stay, where a direct-mapped table made them evict each other.
#[derive(Default)]
struct Front {
    buckets: Vec<Bucket>,
}

#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Bucket([FrontEntry; 2]);

#[derive(Clone, Copy, Default)]
struct FrontEntry {
    /// The key's bytes with its length in the last byte; all zero (never a key) when empty.
    key: [u64; 2],
    vals: [u32; FRONT_VALS],
    n: u32,
}

impl FrontEntry {
    #[inline(always)]
    fn push_to(&self, out: &mut Vec<u32>) {
        // Nearly always one id: a push, not a copy call.
        match self.n {
            1 => out.push(self.vals[0]),
            n => out.extend_from_slice(&self.vals[..n as usize]),
        }
    }
}

/// `pack16(&text[s..e])` for a key of 1 to `FRONT_KEY` bytes with 16 bytes of text from `s`:
/// two loads and masks, with no branch on the length (whose mispredictions cost more than the
/// rest of a front-table hit).
#[inline(always)]
fn pack16_in(text: &[u8], s: usize, e: usize) -> [u64; 2] {
    let n = e - s;
    debug_assert!((1..=FRONT_KEY).contains(&n) && s + 16 <= text.len());
    let lo = u64::from_le_bytes(text[s..s + 8].try_into().unwrap());
    let hi = u64::from_le_bytes(text[s + 8..s + 16].try_into().unwrap());
    let lo_mask = u64::MAX >> (64 - 8 * n.min(8));
    let hi_mask = (1u64 << (8 * n.saturating_sub(8))) - 1;
    [lo & lo_mask, (hi & hi_mask) | (n as u64) << 56]
}

/// A key of at most `FRONT_KEY` bytes, packed with its length.
#[inline]
fn pack16(key: &[u8]) -> [u64; 2] {
    let n = key.len();
    let (lo, hi) = if n <= 8 {
        (load_le(key), 0)
    } else {
        (load_le(&key[..8]), load_le(&key[8..]))
    };
    [lo, hi | (n as u64) << 56]
}

impl Front {
    #[inline]
    fn bucket(k: [u64; 2]) -> usize {
        ((k[0] ^ k[1].rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (65 - FRONT_BITS))
            as usize
    }

    /// Append the value of `key` to `out`; false on a miss.
    #[inline]
    fn get(&mut self, key: &[u8], out: &mut Vec<u32>) -> bool {
        if key.is_empty() || key.len() > FRONT_KEY {
            return false;
        }
        self.get_packed(pack16(key), out)
    }

    /// `get` for a packed key.
    #[inline(always)]
    fn get_packed(&mut self, k: [u64; 2], out: &mut Vec<u32>) -> bool {
        let Some(b) = self.buckets.get_mut(Self::bucket(k)) else {
            return false;
        };
        if b.0[0].key == k {
            b.0[0].push_to(out);
            return true;
        }
        if b.0[1].key == k {
            b.0[1].push_to(out);
            b.0.swap(0, 1);
            return true;
        }
        false
    }

    fn put(&mut self, key: &[u8], value: &[u32]) {
        if key.is_empty() || key.len() > FRONT_KEY || value.len() > FRONT_VALS {
            return;
        }
        if self.buckets.is_empty() {
            self.buckets = vec![Bucket::default(); 1 << (FRONT_BITS - 1)];
        }
        let k = pack16(key);
        let mut vals = [0; FRONT_VALS];
        vals[..value.len()].copy_from_slice(value);
        let entry = FrontEntry {
            key: k,
            vals,
            n: value.len() as u32,
        };
        let b = &mut self.buckets[Self::bucket(k)];
        if b.0[0].key != k {
            b.0[1] = b.0[0];
        }
        b.0[0] = entry;
    }
}

/// One owner's caches on one thread.
#[derive(Default)]
pub struct PieceCache {
    front: Front,
    map: Map,
    /// The generation before `map`: read on a miss there, never written.
    old: Map,
}

thread_local! {
    static CACHES: RefCell<FxHashMap<u64, PieceCache>> = RefCell::new(FxHashMap::default());
}

impl PieceCache {
    /// Append the cached value of `key` to `out`; false (and `out` untouched) on a miss.
    #[inline]
    pub fn lookup(&mut self, key: &[u8], out: &mut Vec<u32>) -> bool {
        self.front.get(key, out) || self.lookup_main(key, out)
    }

    /// `lookup` of the key `text[s..e]`, reading the bytes around it when that saves work.
    #[inline(always)]
    pub fn lookup_in(&mut self, text: &[u8], s: usize, e: usize, out: &mut Vec<u32>) -> bool {
        self.front_in(text, s, e, out) || self.lookup_main(&text[s..e], out)
    }

    /// The front table alone, for the key `text[s..e]`.
    #[inline(always)]
    pub fn front_in(&mut self, text: &[u8], s: usize, e: usize, out: &mut Vec<u32>) -> bool {
        let n = e - s;
        if (1..=FRONT_KEY).contains(&n) && s + 16 <= text.len() {
            self.front.get_packed(pack16_in(text, s, e), out)
        } else {
            self.front.get(&text[s..e], out)
        }
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
            self.front.put(key, v);
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
        self.front.put(key, &out[start..]);
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

    /// Remember `value` for `key`: in the front table when it fits there, and in the main
    /// table when `keep`. (A caller that finds one-token pieces in its vocabulary before the
    /// main table passes `keep = false` for them: the main table would only grow.)
    pub fn store(&mut self, key: &[u8], value: &[u32], keep: bool) {
        self.front.put(key, value);
        if keep && key.len() <= MAX_PIECE_LEN && value.len() <= MAX_VALUE_LEN {
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
            if !c.contains_key(&id.0) && c.len() >= MAX_OWNERS {
                c.clear();
            }
            f(c.entry(id.0).or_default())
        }
        Err(_) => f(&mut PieceCache::default()),
    })
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
    fn packing_in_place_matches_packing_the_key() {
        let text: Vec<u8> = (0..64u8).map(|b| b.wrapping_mul(37) | 1).collect();
        for s in 0..=text.len() - 16 {
            for n in 1..=FRONT_KEY {
                assert_eq!(
                    pack16_in(&text, s, s + n),
                    pack16(&text[s..s + n]),
                    "{s} {n}"
                );
            }
        }
    }

    #[test]
    fn front_keys_pack_every_length_apart() {
        let text = b"abcdefghijklmnop";
        let keys: Vec<[u64; 2]> = (1..=FRONT_KEY).map(|n| pack16(&text[..n])).collect();
        for (i, k) in keys.iter().enumerate() {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&k[0].to_le_bytes());
            bytes[8..].copy_from_slice(&k[1].to_le_bytes());
            assert_eq!(&bytes[..=i], &text[..=i]);
            assert!(bytes[i + 1..15].iter().all(|&b| b == 0));
            assert_eq!(bytes[15] as usize, i + 1);
        }
        assert_ne!(pack16(b"a"), pack16(b"a\0"));
        let mut f = Front::default();
        let mut out = Vec::new();
        f.put(b"abc", &[1, 2]);
        f.put(b"x", &[3]);
        assert!(f.get(b"abc", &mut out) && f.get(b"x", &mut out));
        assert_eq!(out, [1, 2, 3]);
        assert!(!f.get(b"abd", &mut out));
        f.put(b"abcd", &[1, 2, 3, 4]); // too many values: not kept
        assert!(!f.get(b"abcd", &mut out));
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn a_bucket_keeps_its_two_most_recently_used_keys() {
        let keys: Vec<Vec<u8>> = (0..100_000).map(|i| format!("k{i}").into_bytes()).collect();
        let bucket = |k: &[u8]| Front::bucket(pack16(k));
        let first = bucket(&keys[0]);
        let same: Vec<&[u8]> = keys
            .iter()
            .map(|k| k.as_slice())
            .filter(|k| bucket(k) == first)
            .take(3)
            .collect();
        let [a, b, c] = same[..] else {
            panic!("three keys in one bucket expected")
        };
        let mut f = Front::default();
        let mut out = Vec::new();
        f.put(a, &[1]);
        f.put(b, &[2]);
        assert!(
            f.get(a, &mut out) && f.get(b, &mut out),
            "both keys of a bucket stay"
        );
        assert!(f.get(a, &mut out)); // a is now the more recently used
        f.put(c, &[3]);
        assert!(f.get(a, &mut out) && f.get(c, &mut out));
        assert!(!f.get(b, &mut out), "the least recently used key goes");
        assert_eq!(out, [1, 2, 1, 1, 3]);
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
}
