//! Bytes -> rank lookup for the hot path of tiktoken encodings.
//!
//! Most pre-tokenized pieces are one token, so the first thing done with every piece is this
//! lookup, and the merge loop does it again for every candidate pair. A general hash map keyed
//! by `Vec<u8>` costs a hash over the bytes, a probe, a pointer chase to the key and a `memcmp`:
//! three cache misses on a vocabulary of 100k+ tokens. Here a token of up to 7 bytes is packed
//! with its length into one u64, so its lookup is one probe of a flat table and an integer
//! compare; longer tokens keep a 32-bit hash tag beside the rank and compare bytes only when
//! the tag matches.

const EMPTY: u64 = 0;
/// Tokens up to this long are copied as one fixed-size block when decoding.
const PAD: usize = 16;
const LONG_EMPTY: u64 = u64::MAX;

#[derive(Debug, Clone)]
pub struct TokenIndex {
    /// (packed key, rank); a packed key is never 0 because its top byte is the length (>= 1).
    short: Vec<(u64, u32)>,
    /// One byte per slot of `short`: 0 when empty, else 0x80 | seven bits of the key's hash.
    /// Most lookups while merging are of bytes that are not a token; their probe ends in
    /// this table (a few hundred KiB, mostly in L2) without reading `short`'s megabytes.
    short_tags: Vec<u8>,
    /// (tag << 32 | rank) of tokens of 8 bytes or more.
    long: Vec<u64>,
    /// Every rank's bytes back to back, then `PAD` zero bytes, and rank -> (start, end) in it;
    /// (0, u32::MAX) when the rank has no token.
    arena: Vec<u8>,
    spans: Vec<(u32, u32)>,
    len: usize,
    /// The longest token's length: longer input is not looked up (nor hashed) at all.
    max_len: usize,
    /// byte -> the rank of that one byte (u32::MAX when it is not a token). Merging starts
    /// from one symbol per byte, and a table read is several times cheaper than a probe.
    byte_ranks: [u32; 256],
    /// (first byte << 8 | second byte) -> the rank of those two bytes (u32::MAX when not a
    /// token), 256 KiB. Merging a piece first looks up every adjacent pair of bytes; from this
    /// table (which stays in L2) rather than probing the tables of megabytes, a first pass over
    /// unseen text spends far less on the pieces it has to merge.
    byte_pairs: Box<[u32]>,
}

/// Up to 8 bytes as a little-endian u64, without a variable-length copy (which compiles to a
/// `memcpy` call: on a first pass over unseen text, one per vocabulary lookup).
#[inline]
pub(crate) fn load_le(s: &[u8]) -> u64 {
    let n = s.len();
    match n {
        8 => u64::from_le_bytes(s.try_into().unwrap()),
        4..=7 => {
            let a = u32::from_le_bytes(s[..4].try_into().unwrap()) as u64;
            let b = u32::from_le_bytes(s[n - 4..].try_into().unwrap()) as u64;
            a | b << (8 * (n - 4))
        }
        1..=3 => {
            let (a, b, c) = (s[0] as u64, s[n / 2] as u64, s[n - 1] as u64);
            a | b << (8 * (n / 2)) | c << (8 * (n - 1))
        }
        _ => 0,
    }
}

/// The bytes of a token of at most 7 bytes with its length in the top byte.
#[inline]
fn pack(bytes: &[u8]) -> u64 {
    debug_assert!(bytes.len() < 8);
    load_le(bytes) | (bytes.len() as u64) << 56
}

/// A full 64-bit finalizer (SplitMix64's): the table index is taken from the low bits, and a
/// single multiply leaves those depending on the key's first bytes only, which for SentencePiece
/// vocabularies (nearly every token starts with the 3 bytes of `▁`) piled tokens into long
/// probe runs.
#[inline]
fn mix(x: u64) -> u64 {
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One multiply per 8 bytes: cheap, and the full `mix` at the end spreads every byte's effect
/// over the bits the table index uses.
#[inline]
pub(crate) fn step(h: u64, chunk: u64) -> u64 {
    (h ^ chunk)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .rotate_left(26)
}

/// A hash over all bytes, 8 at a time.
#[inline]
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = step(h, u64::from_le_bytes(c.try_into().unwrap()));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = step(h, load_le(rest));
    }
    mix(h)
}

/// The hash a token's probe starts from: its packed bytes mixed when shorter than 8 bytes,
/// else the hash over its bytes (whose top half is also the long table's tag).
#[inline]
fn slot_hash(bytes: &[u8]) -> u64 {
    if bytes.len() < 8 {
        mix(pack(bytes))
    } else {
        hash_bytes(bytes)
    }
}

/// A slot's tag: the hash's top seven bits (the slot index comes from its low bits), with the
/// high bit set so that no tag is 0, the empty slot's.
#[inline]
fn tag_of(h: u64) -> u8 {
    0x80 | (h >> 57) as u8
}

/// A hint to bring the cache line at `p` in; it never faults, whatever the address.
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing into the program and cannot fault.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p.cast::<i8>(), std::arch::x86_64::_MM_HINT_T0)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

fn table_size(n: usize) -> usize {
    (n * 2).max(16).next_power_of_two()
}

impl TokenIndex {
    /// `tokens` are (bytes, rank). A rank or bytes seen twice is kept once (the lowest rank),
    /// and empty bytes are dropped, so `len()` tells the caller whether there were any.
    pub fn new<'a>(tokens: impl IntoIterator<Item = (&'a [u8], u32)>) -> TokenIndex {
        let mut by_rank: Vec<(u32, &[u8])> = tokens.into_iter().map(|(b, r)| (r, b)).collect();
        by_rank.sort_unstable();
        by_rank.dedup_by_key(|(r, _)| *r);
        let max = by_rank.last().map_or(0, |(r, _)| *r as usize + 1);
        let n_short = by_rank.iter().filter(|(_, b)| b.len() < 8).count();
        let n_long = by_rank.len() - n_short;
        let mut ix = TokenIndex {
            short: vec![(EMPTY, 0); table_size(n_short)],
            short_tags: vec![0; table_size(n_short)],
            long: vec![LONG_EMPTY; table_size(n_long)],
            arena: Vec::with_capacity(by_rank.iter().map(|(_, b)| b.len()).sum()),
            spans: vec![(0, u32::MAX); max],
            len: by_rank.len(),
            max_len: by_rank.iter().map(|(_, b)| b.len()).max().unwrap_or(0),
            byte_ranks: [u32::MAX; 256],
            byte_pairs: vec![u32::MAX; 1 << 16].into_boxed_slice(),
        };
        // Each token lands in a random slot of tables of megabytes, so filling them in rank
        // order waits on a cache miss per token. The home slot of the token `AHEAD` places on
        // is fetched meanwhile, which overlaps the misses (o200k: about half the build time).
        const AHEAD: usize = 16;
        for (k, &(rank, bytes)) in by_rank.iter().enumerate() {
            if let Some(&(_, ahead)) = by_rank.get(k + AHEAD) {
                prefetch(ix.home(ahead));
            }
            // The same bytes at two ranks: the lower rank wins (the later one is dropped). An
            // empty token can never match and is dropped too.
            if bytes.is_empty() || !ix.insert(bytes, rank) {
                ix.len -= 1;
                continue;
            }
            if let &[a, b] = bytes {
                ix.byte_pairs[(a as usize) << 8 | b as usize] = rank;
            }
            let start = ix.arena.len() as u32;
            ix.arena.extend_from_slice(bytes);
            ix.spans[rank as usize] = (start, ix.arena.len() as u32);
        }
        ix.arena.extend_from_slice(&[0; PAD]);
        for b in 0..=255u8 {
            ix.byte_ranks[b as usize] = ix.probe(&[b]).unwrap_or(u32::MAX);
        }
        ix
    }

    /// The rank of the single byte `b`, if it is a token (`get(&[b])`, from a table).
    #[inline]
    pub fn byte_rank(&self, b: u8) -> Option<u32> {
        Some(self.byte_ranks[b as usize]).filter(|&r| r != u32::MAX)
    }

    /// Where the probe for a token of `bytes` starts.
    fn home(&self, bytes: &[u8]) -> *const u8 {
        let h = slot_hash(bytes);
        if bytes.len() < 8 {
            let i = h as usize & (self.short.len() - 1);
            self.short[i..].as_ptr().cast()
        } else {
            let i = h as usize & (self.long.len() - 1);
            self.long[i..].as_ptr().cast()
        }
    }

    /// Places `bytes` (not empty) at `rank` in one probe, unless the same bytes are already
    /// there: false then. The caller records the rank's bytes after a true.
    fn insert(&mut self, bytes: &[u8], rank: u32) -> bool {
        let Err(slot) = self.probe(bytes) else {
            return false;
        };
        if bytes.len() < 8 {
            self.short[slot] = (pack(bytes), rank);
            self.short_tags[slot] = tag_of(slot_hash(bytes));
        } else {
            self.long[slot] = (hash_bytes(bytes) >> 32) << 32 | rank as u64;
        }
        true
    }

    /// The rank of `bytes` (not empty), or the empty slot where its probe ended (in the short
    /// table under 8 bytes, else the long one).
    #[inline]
    fn probe(&self, bytes: &[u8]) -> Result<u32, usize> {
        if bytes.len() < 8 {
            let key = pack(bytes);
            let h = mix(key);
            let tag = tag_of(h);
            let mask = self.short.len() - 1;
            let mut i = h as usize & mask;
            loop {
                let t = self.short_tags[i];
                if t == tag {
                    let (k, r) = self.short[i];
                    if k == key {
                        return Ok(r);
                    }
                }
                if t == 0 {
                    return Err(i);
                }
                i = (i + 1) & mask;
            }
        }
        let h = hash_bytes(bytes);
        let tag = h >> 32;
        let mask = self.long.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let e = self.long[i];
            if e == LONG_EMPTY {
                return Err(i);
            }
            if e >> 32 == tag {
                let rank = e as u32;
                if self.bytes(rank) == Some(bytes) {
                    return Ok(rank);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Append the bytes of the tokens in `ids` to `out`, stopping at the first id that is not
    /// a token: Err(its position).
    #[inline]
    pub fn extend_bytes(&self, ids: &[u32], out: &mut Vec<u8>) -> Result<(), usize> {
        out.reserve(ids.len() * 4 + PAD);
        for (i, &id) in ids.iter().enumerate() {
            let Some(&(start, end)) = self.spans.get(id as usize) else {
                return Err(i);
            };
            if end == u32::MAX {
                return Err(i);
            }
            let (start, len) = (start as usize, (end - start) as usize);
            if len <= PAD {
                // One fixed-size copy instead of a memcpy call per token: the arena ends in PAD
                // spare bytes, and `out` is given PAD spare bytes of capacity first.
                out.reserve(PAD);
                // SAFETY: `start + PAD <= arena.len()` (the padding), `out` has PAD bytes of spare
                // capacity, the ranges do not overlap, and only the first `len` bytes (all
                // initialized) become part of `out`.
                unsafe {
                    let dst = out.as_mut_ptr().add(out.len());
                    std::ptr::copy_nonoverlapping(self.arena.as_ptr().add(start), dst, PAD);
                    out.set_len(out.len() + len);
                }
            } else {
                out.extend_from_slice(&self.arena[start..start + len]);
            }
        }
        Ok(())
    }

    #[inline]
    pub fn get(&self, bytes: &[u8]) -> Option<u32> {
        let r = match *bytes {
            [b] => self.byte_ranks[b as usize],
            [a, b] => self.byte_pairs[(a as usize) << 8 | b as usize],
            _ if bytes.is_empty() || bytes.len() > self.max_len => return None,
            _ => return self.probe(bytes).ok(),
        };
        Some(r).filter(|&r| r != u32::MAX)
    }

    /// The bytes of `rank`, if it is a token.
    #[inline]
    pub fn bytes(&self, rank: u32) -> Option<&[u8]> {
        match self.spans.get(rank as usize) {
            Some(&(start, end)) if end != u32::MAX => {
                Some(&self.arena[start as usize..end as usize])
            }
            _ => None,
        }
    }

    /// One past the largest rank.
    pub fn rank_end(&self) -> usize {
        self.spans.len()
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_token_and_nothing_else() {
        let words: Vec<Vec<u8>> = (0..3000u32)
            .map(|i| {
                // Distinct digits, padded with NUL bytes to lengths from 1 to 20, so both
                // tables and the length byte of packed keys are exercised.
                let mut w = i.to_string().into_bytes();
                w.resize(w.len().max(1 + i as usize % 20), 0);
                w
            })
            .collect();
        let ix = TokenIndex::new(
            words
                .iter()
                .enumerate()
                .map(|(r, w)| (w.as_slice(), r as u32 * 2)),
        );
        assert_eq!(ix.len(), 3000);
        for b in 0..=255u8 {
            assert_eq!(ix.byte_rank(b), ix.get(&[b]));
        }
        for (r, w) in words.iter().enumerate() {
            assert_eq!(ix.get(w), Some(r as u32 * 2));
            assert_eq!(ix.bytes(r as u32 * 2), Some(w.as_slice()));
            let mut other = w.clone();
            other.push(0);
            if !words.contains(&other) {
                assert_eq!(ix.get(&other), None);
            }
        }
        assert_eq!(ix.bytes(1), None);
        let mut out = b"x".to_vec();
        assert_eq!(ix.extend_bytes(&[0, 38, 2], &mut out), Ok(()));
        assert_eq!(
            out,
            [b"x".as_slice(), &words[0], &words[19], &words[1]].concat()
        );
        assert_eq!(ix.extend_bytes(&[0, 1], &mut out), Err(1));
        assert_eq!(ix.get(b""), None);
        assert_eq!(ix.get(b"nope"), None);
        assert_eq!(ix.get(b"a much longer piece that is not a token"), None);
    }

    #[test]
    fn load_le_reads_short_slices_zero_padded() {
        let text = b"\x01\x82\x03\xf4\x05\x06\x07\x88\x09";
        for start in 0..2 {
            for n in 0..=8 {
                let s = &text[start..start + n];
                let mut buf = [0u8; 8];
                buf[..n].copy_from_slice(s);
                assert_eq!(load_le(s), u64::from_le_bytes(buf), "{s:?}");
            }
        }
    }

    #[test]
    fn bytes_at_two_ranks_keep_the_lower_rank() {
        let long = b"a token of more than eight bytes".as_slice();
        let ix = TokenIndex::new([
            (b"ab".as_slice(), 5),
            (long, 7),
            (b"ab".as_slice(), 2),
            (b"".as_slice(), 3),
            (long, 9),
            (b"cd".as_slice(), 4),
        ]);
        assert_eq!(ix.len(), 3);
        assert_eq!(ix.get(b"ab"), Some(2));
        assert_eq!(ix.get(long), Some(7));
        assert_eq!(ix.get(b"cd"), Some(4));
        for dropped in [3, 5, 9] {
            assert_eq!(ix.bytes(dropped), None);
        }
    }

    #[test]
    fn one_and_two_byte_lookups_agree_with_the_probe() {
        // Some pairs twice (the lower rank wins), some bytes missing.
        let mut tokens: Vec<(Vec<u8>, u32)> = Vec::new();
        for a in (0..=255u8).step_by(3) {
            tokens.push((vec![a], tokens.len() as u32));
            for b in (0..=255u8).step_by(7) {
                tokens.push((vec![a, b], tokens.len() as u32));
                if (a ^ b) % 11 == 0 {
                    tokens.push((vec![a, b], tokens.len() as u32));
                }
            }
        }
        let ix = TokenIndex::new(tokens.iter().map(|(b, r)| (b.as_slice(), *r)));
        for a in 0..=255u8 {
            assert_eq!(ix.get(&[a]), ix.probe(&[a]).ok());
            for b in 0..=255u8 {
                assert_eq!(ix.get(&[a, b]), ix.probe(&[a, b]).ok(), "{a} {b}");
            }
        }
        assert!(ix.get(&[0, 0]).is_some() && ix.get(&[1, 0]).is_none());
    }
}
