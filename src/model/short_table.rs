//! The table of short pieces in front of a piece cache: every piece of up to `MAX_KEY` bytes
//! that a thread has encoded, kept until the table reaches `MAX_BITS`, answered in one read.
//!
//! A table of fixed size that evicts sends each piece pushed out back through the slow path
//! (the token index, the main table, or merging again) when it comes back; over one pass of
//! 36 MB of unseen documents (cl100k) a 64k-entry table missed 850k times for 373k distinct
//! pieces. Growing instead keeps every piece, at the cost of a table of megabytes whose
//! lines are not all in cache; `prefetch` lets a caller that knows its next pieces request
//! their lines ahead. (The table is advised onto huge pages only after `alloc_zeroed` has
//! touched every page, so it starts on small pages, which the kernel may merge later; a
//! table on huge pages from its first write was measured and not kept: see benches/NOTES.md.)

use super::token_index::load_le;
use std::alloc::{alloc_zeroed, dealloc, Layout};

/// Keys of 1 to 15 bytes: a key and its length pack into two words.
pub const MAX_KEY: usize = 15;
/// Values of up to this many ids sit in the entry; longer ones in `long_values`.
const INLINE: usize = 3;
/// The table starts small (a thread that encodes one short text allocates 128 KiB) and
/// doubles at half full, up to 2^20 entries (32 MiB), where it starts over empty.
const FIRST_BITS: u32 = 12;
const MAX_BITS: u32 = 20;
/// Tables this large are advised onto huge pages (where the system has them).
const HUGE: usize = 2 << 20;

/// A key: its bytes, zero-padded, with its length in the last byte (so no key is all zero,
/// which marks an empty entry).
pub type Key = [u64; 2];

#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Entry {
    key: Key,
    /// The ids, or where `n > INLINE`, the offset of the ids in `long_values`.
    vals: [u32; INLINE],
    n: u32,
}

pub struct ShortTable {
    entries: *mut Entry,
    bits: u32,
    len: usize,
    long_values: Vec<u32>,
}

impl Default for ShortTable {
    fn default() -> Self {
        ShortTable {
            entries: std::ptr::null_mut(),
            bits: 0,
            len: 0,
            long_values: Vec::new(),
        }
    }
}

/// The hash of a key; slots come from its top bits.
#[inline(always)]
pub fn hash(k: Key) -> u64 {
    (k[0] ^ k[1].rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// `pack(&text[s..e])` for a key of 1 to `MAX_KEY` bytes with 16 bytes of text from `s`: two
/// loads and masks, with no branch on the length (whose mispredictions cost more than the
/// rest of a hit).
#[inline(always)]
pub fn pack_in(text: &[u8], s: usize, e: usize) -> Key {
    let n = e - s;
    debug_assert!((1..=MAX_KEY).contains(&n) && s + 16 <= text.len());
    let lo = u64::from_le_bytes(text[s..s + 8].try_into().unwrap());
    let hi = u64::from_le_bytes(text[s + 8..s + 16].try_into().unwrap());
    let lo_mask = u64::MAX >> (64 - 8 * n.min(8));
    let hi_mask = (1u64 << (8 * n.saturating_sub(8))) - 1;
    [lo & lo_mask, (hi & hi_mask) | (n as u64) << 56]
}

/// The key of 1 to `MAX_KEY` bytes, packed with its length.
#[inline]
pub fn pack(key: &[u8]) -> Key {
    let n = key.len();
    debug_assert!((1..=MAX_KEY).contains(&n));
    let (lo, hi) = if n <= 8 {
        (load_le(key), 0)
    } else {
        (load_le(&key[..8]), load_le(&key[8..]))
    };
    [lo, hi | (n as u64) << 56]
}

fn layout(bits: u32) -> Layout {
    let bytes = std::mem::size_of::<Entry>() << bits;
    Layout::from_size_align(bytes, bytes.min(HUGE)).expect("a valid table layout")
}

/// A zeroed table of `2^bits` entries (all empty).
fn allocate(bits: u32) -> *mut Entry {
    let layout = layout(bits);
    // SAFETY: the layout is not zero-sized; a zeroed Entry is a valid (empty) one.
    let p = unsafe { alloc_zeroed(layout) };
    if p.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    #[cfg(target_os = "linux")]
    if layout.size() >= HUGE {
        // A hint only: where huge pages are off this does nothing.
        // SAFETY: the range is this allocation, aligned to a huge page.
        unsafe { libc::madvise(p.cast(), layout.size(), libc::MADV_HUGEPAGE) };
    }
    p.cast()
}

impl ShortTable {
    #[inline(always)]
    fn slot(&self, h: u64) -> usize {
        (h >> (64 - self.bits)) as usize
    }

    /// Request the line of the key whose hash is `h`, for a `get` soon after.
    #[inline(always)]
    pub fn prefetch(&self, h: u64) {
        #[cfg(target_arch = "x86_64")]
        if !self.entries.is_null() {
            // SAFETY: the slot is inside the table; a prefetch reads nothing.
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch(self.entries.add(self.slot(h)).cast(), _MM_HINT_T0);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = h;
    }

    /// Append the value of `k` (whose hash is `h`) to `out`; false on a miss.
    #[inline(always)]
    pub fn get(&self, k: Key, h: u64, out: &mut Vec<u32>) -> bool {
        if self.entries.is_null() {
            return false;
        }
        let mask = (1usize << self.bits) - 1;
        let mut i = self.slot(h);
        loop {
            // SAFETY: i is masked into the table.
            let e = unsafe { &*self.entries.add(i) };
            if e.key == k {
                self.push_value(e, out);
                return true;
            }
            if e.key[1] == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    #[inline(always)]
    fn push_value(&self, e: &Entry, out: &mut Vec<u32>) {
        match e.n {
            // Nearly always one id: a push, not a copy call.
            1 => out.push(e.vals[0]),
            n if n as usize <= INLINE => out.extend_from_slice(&e.vals[..n as usize]),
            n => {
                let at = e.vals[0] as usize;
                out.extend_from_slice(&self.long_values[at..at + n as usize]);
            }
        }
    }

    /// Keep `value` for `k`. Values too long for a u32 count are not kept.
    pub fn put(&mut self, k: Key, h: u64, value: &[u32]) {
        if value.is_empty() || value.len() > u32::MAX as usize {
            return;
        }
        if (self.len + 1) * 2 > 1 << self.bits {
            self.grow();
        }
        let mut vals = [0; INLINE];
        if value.len() <= INLINE {
            vals[..value.len()].copy_from_slice(value);
        } else {
            vals[0] = self.long_values.len() as u32;
            self.long_values.extend_from_slice(value);
        }
        let entry = Entry {
            key: k,
            vals,
            n: value.len() as u32,
        };
        if self.place(entry, h) {
            self.len += 1;
        }
    }

    /// Put `entry` in its slot, or over the entry of the same key; true when it was new.
    fn place(&mut self, entry: Entry, h: u64) -> bool {
        let mask = (1usize << self.bits) - 1;
        let mut i = self.slot(h);
        loop {
            // SAFETY: i is masked into the table.
            let e = unsafe { &mut *self.entries.add(i) };
            if e.key[1] == 0 || e.key == entry.key {
                let new = e.key[1] == 0;
                *e = entry;
                return new;
            }
            i = (i + 1) & mask;
        }
    }

    /// Double the table, or at `MAX_BITS` start over empty (the pieces still in use come
    /// back at their next miss).
    fn grow(&mut self) {
        let (old, old_bits) = (self.entries, self.bits);
        if old_bits >= MAX_BITS {
            // SAFETY: the table has 2^bits entries; all-zero bytes are empty entries.
            unsafe { std::ptr::write_bytes(old, 0, 1 << old_bits) };
            self.len = 0;
            self.long_values.clear();
            return;
        }
        self.bits = if old.is_null() {
            FIRST_BITS
        } else {
            old_bits + 1
        };
        self.entries = allocate(self.bits);
        if old.is_null() {
            return;
        }
        for i in 0..1usize << old_bits {
            // SAFETY: i is inside the old table, which is freed only below.
            let e = unsafe { *old.add(i) };
            if e.key[1] != 0 {
                self.place(e, hash(e.key));
            }
        }
        // SAFETY: allocated by `allocate(old_bits)`, and not used after this.
        unsafe { dealloc(old.cast(), layout(old_bits)) };
    }
}

impl Drop for ShortTable {
    fn drop(&mut self) {
        if !self.entries.is_null() {
            // SAFETY: allocated by `allocate(self.bits)`, and dropped once.
            unsafe { dealloc(self.entries.cast(), layout(self.bits)) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(t: &ShortTable, key: &[u8]) -> Option<Vec<u32>> {
        let k = pack(key);
        let mut out = Vec::new();
        t.get(k, hash(k), &mut out).then_some(out)
    }

    fn put(t: &mut ShortTable, key: &[u8], value: &[u32]) {
        let k = pack(key);
        t.put(k, hash(k), value);
    }

    #[test]
    fn packing_in_place_matches_packing_the_key() {
        let text: Vec<u8> = (0..64u8).map(|b| b.wrapping_mul(37) | 1).collect();
        for s in 0..=text.len() - 16 {
            for n in 1..=MAX_KEY {
                assert_eq!(pack_in(&text, s, s + n), pack(&text[s..s + n]), "{s} {n}");
            }
        }
    }

    #[test]
    fn keys_pack_every_length_apart() {
        let text = b"abcdefghijklmnop";
        let keys: Vec<Key> = (1..=MAX_KEY).map(|n| pack(&text[..n])).collect();
        for (i, k) in keys.iter().enumerate() {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&k[0].to_le_bytes());
            bytes[8..].copy_from_slice(&k[1].to_le_bytes());
            assert_eq!(&bytes[..=i], &text[..=i]);
            assert!(bytes[i + 1..15].iter().all(|&b| b == 0));
            assert_eq!(bytes[15] as usize, i + 1);
        }
        assert_ne!(pack(b"a"), pack(b"a\0"));
    }

    #[test]
    fn keeps_every_value_through_growth() {
        let mut t = ShortTable::default();
        assert_eq!(get(&t, b"abc"), None, "an unallocated table misses");
        let key = |i: u32| format!("k{i}").into_bytes();
        let value = |i: u32| (0..1 + i % 6).map(|k| i * 10 + k).collect::<Vec<u32>>();
        for i in 0..20_000 {
            put(&mut t, &key(i), &value(i));
        }
        assert_eq!(t.len, 20_000);
        assert!(t.bits > FIRST_BITS && t.len * 2 <= 1 << t.bits);
        for i in 0..20_000 {
            assert_eq!(get(&t, &key(i)), Some(value(i)), "{i}");
        }
        assert_eq!(get(&t, b"absent"), None);
        put(&mut t, &key(5), &[1, 2, 3, 4, 5]);
        assert_eq!(get(&t, &key(5)), Some(vec![1, 2, 3, 4, 5]), "replaced");
        assert_eq!(t.len, 20_000);
        put(&mut t, b"empty", &[]);
        assert_eq!(get(&t, b"empty"), None, "an empty value is not kept");
    }

    #[test]
    fn starts_over_when_full() {
        let mut t = ShortTable::default();
        let full = 1usize << (MAX_BITS - 1);
        for i in 0..full as u32 {
            let k = [i as u64 + 1, 1 << 56];
            t.put(k, hash(k), &[i]);
        }
        assert_eq!(t.len, full);
        put(&mut t, b"one more", &[1, 2, 3, 4]);
        assert_eq!((t.len, t.bits), (1, MAX_BITS));
        assert_eq!(get(&t, b"one more"), Some(vec![1, 2, 3, 4]));
        let k = [1, 1 << 56];
        assert!(!t.get(k, hash(k), &mut Vec::new()));
    }
}
