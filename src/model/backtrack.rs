//! Linear-time BPE for long pieces of a rank-ordered vocabulary (tiktoken's rule: a pair's rank
//! is the rank of its merged bytes, ties go to the leftmost pair).
//!
//! The merge in `merge.rs` is exact but processes merges in rank order, which jumps all over
//! a long piece: one 10M-byte piece costs seconds, most of it cache misses. This encoder walks
//! the piece left to right instead, using two facts about BPE (van Antwerpen and Neubeck, "So
//! many tokens, so little time", 2024):
//!
//! - A token sequence is the BPE encoding of its text exactly when every adjacent pair is: two
//!   tokens `a b` are a valid pair when BPE on their joined bytes gives `a b` back. That can be
//!   decided by unwinding both tokens' merge trees backwards in time and checking that no merge
//!   across the boundary would have fired first (`pair_is_valid`).
//! - The encoding of every prefix of the text is unique, so which token ends at a position does
//!   not depend on the path taken to it. A position from which no valid continuation exists can be
//!   marked dead once and for all.
//!
//! So the encoder takes the longest token at each position, falls back to shorter prefixes while
//! the pair with the previous token is invalid or the end position is dead, and backtracks when
//! none fits. Tokens that BPE can never produce from their own bytes are left out of the search.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::merge::{merge_all, Scratch, Symbol};
use super::prefix_trie::{with_popcnt, PrefixTrie};

const NONE: u32 = u32::MAX;
/// Bits in the filter of merged pairs: 128 KiB, small enough to stay in cache.
const FILTER_BITS: u32 = 20;

#[derive(Debug)]
pub struct Backtrack {
    /// Longest-match search over every reachable token.
    finder: PrefixTrie,
    /// rank -> token length in bytes (0 for an unused rank).
    len: Vec<u32>,
    /// rank -> the longest reachable token that is a strict prefix of it, or NONE.
    next_prefix: Vec<u32>,
    /// rank -> the two tokens of its last merge; (NONE, NONE) for a single byte.
    split: Vec<(u32, u32)>,
    /// (left, right) of every reachable token's last merge -> that token's rank.
    merged: FxHashMap<u64, u32>,
    /// One bit per hash of a `merged` key. Most pairs looked up are not merges, and the bit
    /// answers that from cache where the map itself would miss it.
    filter: Vec<u64>,
}

#[inline]
fn key(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

#[inline]
fn filter_bit(k: u64) -> usize {
    (k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - FILTER_BITS)) as usize
}

/// A piece at least this long builds the encoder if it is not built yet (the rank-order merge of
/// it alone takes several milliseconds and grows faster than its length)...
const LONG_PIECE: usize = 64 << 10;
/// ...and so does this many bytes of rank-order merging (a few hundred milliseconds of it), so the
/// build (50-200 ms, depending on the vocabulary) is at most a small share of the work.
const BUILD_AFTER_BYTES: usize = 4 << 20;

/// Pieces shorter than this are merged the ordinary way, built or not, and do not count
/// towards the build.
const SHORT_PIECE: usize = 256;

/// An encoder (or anything else costly) built on demand. Building takes tens of milliseconds,
/// so it waits for a long piece, or for enough merging work that the build pays for itself; a
/// process that encodes a few short texts never builds it.
#[derive(Debug)]
pub struct OnDemand<T> {
    cell: OnceLock<Option<T>>,
    /// Bytes merged the slow way so far, counted until the build.
    merged: AtomicUsize,
}

impl<T> OnDemand<T> {
    /// The built value, if built or worth building now for a piece of `len` bytes.
    pub fn get(&self, len: usize, build: impl FnOnce() -> Option<T>) -> Option<&T> {
        if len < SHORT_PIECE {
            return None;
        }
        if let Some(built) = self.cell.get() {
            return built.as_ref();
        }
        let merged = self.merged.fetch_add(len, Ordering::Relaxed) + len;
        if len < LONG_PIECE && merged < BUILD_AFTER_BYTES {
            return None;
        }
        self.cell.get_or_init(build).as_ref()
    }
}

impl<T> Default for OnDemand<T> {
    fn default() -> Self {
        OnDemand {
            cell: OnceLock::new(),
            merged: AtomicUsize::new(0),
        }
    }
}

impl<T> Clone for OnDemand<T> {
    /// A clone starts unbuilt; it builds its own when it needs one.
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// What the encoder needs to know about a vocabulary. Ranks order the merges: a merge that
/// makes the token of rank r fires before any merge of a higher rank.
pub trait RankedVocab {
    /// Rank -> the token's bytes, for every rank (None for an unused one).
    fn tokens(&self) -> Vec<Option<&[u8]>>;
    fn rank_of(&self, bytes: &[u8]) -> Option<u32>;
    /// The symbols BPE starts from (one per byte, or one per char) appended to `out`, each
    /// with its byte range; false when one of them is not a token.
    fn units(&self, bytes: &[u8], out: &mut Vec<Symbol>) -> bool;
    /// The rank of the token that `left` and `right` (whose bytes joined are `joined`) merge
    /// into, if they merge at all.
    fn pair(&self, left: u32, right: u32, joined: &[u8]) -> Option<u32>;
}

/// tiktoken's rule: every byte is a unit, and two tokens merge when their joined bytes are a
/// token, at that token's rank.
pub struct ByteRanks<'a>(pub &'a super::token_index::TokenIndex);

impl RankedVocab for ByteRanks<'_> {
    fn tokens(&self) -> Vec<Option<&[u8]>> {
        (0..self.0.rank_end() as u32)
            .map(|r| self.0.bytes(r))
            .collect()
    }

    fn rank_of(&self, bytes: &[u8]) -> Option<u32> {
        self.0.get(bytes)
    }

    fn units(&self, bytes: &[u8], out: &mut Vec<Symbol>) -> bool {
        for (i, b) in bytes.iter().enumerate() {
            let Some(r) = self.0.byte_rank(*b) else {
                return false;
            };
            out.push(Symbol::new(r, i, i + 1));
        }
        true
    }

    fn pair(&self, _: u32, _: u32, joined: &[u8]) -> Option<u32> {
        self.0.get(joined)
    }
}

impl Backtrack {
    /// None when the vocabulary does not suit this encoder: a token that forms only through
    /// merges ranked above its own (not rank-ordered).
    pub fn build(vocab: &impl RankedVocab) -> Option<Backtrack> {
        let tokens = vocab.tokens();
        let n = tokens.len();
        let mut len = vec![0u32; n];
        let mut split = vec![(NONE, NONE); n];
        let mut reachable = vec![false; n];
        let mut merged = FxHashMap::default();
        merged.reserve(n);
        let mut scratch = Scratch::default();
        for (rank, bytes) in tokens.iter().enumerate() {
            let Some(bytes) = bytes else { continue };
            len[rank] = bytes.len() as u32;
            scratch.symbols.clear();
            if !vocab.units(bytes, &mut scratch.symbols) {
                continue;
            }
            if let [unit] = scratch.symbols[..] {
                // A unit of its own: there from the start, never split.
                reachable[rank] = unit.id == rank as u32;
                continue;
            }
            // BPE on the token's own units, stopped just before the token's own rank: a
            // reachable token is then exactly two symbols, the pair its last merge joins.
            let limit = rank as u32;
            let pair = |l: &Symbol, r: &Symbol| {
                vocab
                    .pair(l.id, r.id, &bytes[l.start as usize..r.end as usize])
                    .map(|m| (m, m))
            };
            merge_all(&mut scratch, |l, r| pair(l, r).filter(|&(m, _)| m < limit));
            if let [a, b] = scratch.symbols[..] {
                if pair(&a, &b) == Some((limit, limit)) {
                    reachable[rank] = true;
                    split[rank] = (a.id, b.id);
                    merged.insert(key(a.id, b.id), limit);
                    continue;
                }
            }
            // Unreachable so far. If merges ranked above the token still form it, the
            // vocabulary is not rank-ordered (a token ranks below one of its parts) and the
            // walk-back in `pair_is_valid` would not hold: leave it to the rank-order merge.
            merge_all(&mut scratch, pair);
            if scratch.symbols.len() == 1 {
                return None;
            }
        }
        let mut next_prefix = vec![NONE; n];
        let mut entries: Vec<(&[u8], u32)> = Vec::new();
        for (rank, bytes) in tokens.iter().enumerate() {
            let Some(bytes) = bytes else { continue };
            if !reachable[rank] {
                continue;
            }
            entries.push((bytes, rank as u32));
            // (A walk down the trie of reachable tokens instead of these lookups cost more:
            // 33M instructions against 16M for cl100k.)
            next_prefix[rank] = (1..bytes.len())
                .rev()
                .filter_map(|k| vocab.rank_of(&bytes[..k]))
                .find(|&r| reachable[r as usize])
                .unwrap_or(NONE);
        }
        let finder = PrefixTrie::new(entries);
        let mut filter = vec![0u64; (1 << FILTER_BITS) / 64];
        for k in merged.keys() {
            let bit = filter_bit(*k);
            filter[bit / 64] |= 1 << (bit % 64);
        }
        Some(Backtrack {
            filter,
            finder,
            len,
            next_prefix,
            split,
            merged,
        })
    }

    /// The length in bytes of the token of `rank`.
    #[inline]
    pub fn token_len(&self, rank: u32) -> usize {
        self.len[rank as usize] as usize
    }

    /// The longest reachable token at the start of `text[pos..]`.
    #[inline(always)]
    fn longest_at(&self, text: &[u8], pos: usize) -> u32 {
        self.finder
            .longest(&text[pos..])
            .map_or(NONE, |(rank, _)| rank)
    }

    /// True when BPE on the bytes of `a` followed by those of `b` gives `a b`.
    ///
    /// Walks back in time from the finished pair: at each step `(a, b)` are the right edge of the
    /// left token's merge tree and the left edge of the right token's, and `limit` is when one of
    /// them is next consumed by its own tree. A merge across the boundary that ranks below
    /// `limit` would have fired first and the pair is invalid. Ties go to the leftmost pair, so
    /// a cross merge loses a tie against the left tree and wins one against the right tree.
    fn pair_is_valid(&self, mut a: u32, mut b: u32) -> bool {
        let mut limit = NONE;
        loop {
            let k = key(a, b);
            let bit = filter_bit(k);
            if self.filter[bit / 64] & (1 << (bit % 64)) != 0 {
                if let Some(&m) = self.merged.get(&k) {
                    if m < limit {
                        return false;
                    }
                }
            }
            let (a_left, a_right) = self.split[a as usize];
            let (b_left, _) = self.split[b as usize];
            // Single bytes exist from the start; otherwise the later-formed token unwinds first
            // (of two equal ranks, the right one formed later).
            let unwind_a = match (a_left != NONE, b_left != NONE) {
                (false, false) => return true,
                (true, false) => true,
                (false, true) => false,
                (true, true) => a > b,
            };
            if unwind_a {
                limit = a;
                a = a_right;
            } else {
                limit = b + 1;
                b = b_left;
            }
        }
    }

    with_popcnt! {
        /// Append the BPE encoding of `text` to `out`. False (with `out` as it was) only if the
        /// search dead-ends, which a vocabulary that `build` accepted should never do; the
        /// caller then falls back to the rank-order merge.
        pub fn encode / encode_popcnt(&self, text: &[u8], scratch: &mut Scratch, out: &mut Vec<u32>)
            -> bool = encode_body
    }

    #[inline(always)]
    fn encode_body(&self, text: &[u8], scratch: &mut Scratch, out: &mut Vec<u32>) -> bool {
        let base = out.len();
        let n = text.len();
        // One bit per position: set once no valid encoding continues from there.
        let dead = &mut scratch.dead;
        dead.clear();
        dead.resize(n / 64 + 1, 0);
        let mut pos = 0;
        let mut candidate = if n > 0 {
            self.longest_at(text, 0)
        } else {
            NONE
        };
        while pos < n {
            let mut tok = candidate;
            let prev = if out.len() > base {
                out.last().copied()
            } else {
                None
            };
            loop {
                if tok == NONE {
                    out.truncate(base);
                    return false;
                }
                let end = pos + self.len[tok as usize] as usize;
                let alive = dead[end / 64] & (1 << (end % 64)) == 0;
                if alive && prev.is_none_or(|p| self.pair_is_valid(p, tok)) {
                    out.push(tok);
                    pos = end;
                    candidate = if pos < n {
                        self.longest_at(text, pos)
                    } else {
                        NONE
                    };
                    break;
                }
                let shorter = self.next_prefix[tok as usize];
                if shorter != NONE {
                    tok = shorter;
                    continue;
                }
                // Nothing fits after `prev`: this position is dead; retry before `prev`.
                dead[pos / 64] |= 1 << (pos % 64);
                let Some(p) = prev else {
                    out.truncate(base);
                    return false;
                };
                out.pop();
                pos -= self.len[p as usize] as usize;
                candidate = p;
                break;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::token_index::TokenIndex;

    /// Bytes, then the given tokens in rank order.
    fn vocab(extra: &[&str]) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
        v.extend(extra.iter().map(|s| s.as_bytes().to_vec()));
        v
    }

    fn rank_order_encode(v: &[Vec<u8>], text: &[u8]) -> Vec<u32> {
        let index: FxHashMap<&[u8], u32> = v
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_slice(), i as u32))
            .collect();
        let mut sc = Scratch::default();
        sc.symbols = text
            .iter()
            .enumerate()
            .map(|(i, b)| Symbol::new(*b as u32, i, i + 1))
            .collect();
        merge_all(&mut sc, |l, r| {
            index
                .get(&text[l.start as usize..r.end as usize])
                .map(|&m| (m, m))
        });
        sc.symbols.iter().map(|s| s.id).collect()
    }

    fn build(v: &[Vec<u8>]) -> Option<Backtrack> {
        let index: FxHashMap<&[u8], u32> = v
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_slice(), i as u32))
            .collect();
        let ix = TokenIndex::new(index.iter().map(|(b, r)| (*b, *r)));
        Backtrack::build(&ByteRanks(&ix))
    }

    fn run(bt: &Backtrack, text: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        assert!(bt.encode(text, &mut Scratch::default(), &mut out));
        out
    }

    fn backtrack_encode(v: &[Vec<u8>], text: &[u8]) -> Vec<u32> {
        run(&build(v).expect("a rank-ordered vocabulary"), text)
    }

    #[test]
    fn ties_go_left() {
        let v = vocab(&["aa"]);
        assert_eq!(backtrack_encode(&v, b"aaa"), [256, 97]);
        assert_eq!(
            backtrack_encode(&v, b"aaaaa"),
            rank_order_encode(&v, b"aaaaa")
        );
    }

    #[test]
    fn longest_token_is_not_always_right() {
        // "bc" ranks below "ab", so "abc" is a + bc even though "ab" is a longer first match.
        let v = vocab(&["bc", "ab", "abd"]);
        assert_eq!(backtrack_encode(&v, b"abc"), rank_order_encode(&v, b"abc"));
        assert_eq!(backtrack_encode(&v, b"abc"), [97, 256]);
        assert_eq!(backtrack_encode(&v, b"abd"), [258]);
    }

    #[test]
    fn unreachable_tokens_are_never_emitted() {
        // "abc" is in the vocabulary, but no pair inside it is, so BPE never forms it.
        let v = vocab(&["abc", "cd"]);
        assert_eq!(rank_order_encode(&v, b"abc"), [97, 98, 99]);
        assert_eq!(backtrack_encode(&v, b"abc"), [97, 98, 99]);
        assert_eq!(backtrack_encode(&v, b"abcd"), [97, 98, 257]);
    }

    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }

        fn word(&mut self, alphabet: &[u8], max: u64) -> Vec<u8> {
            let n = self.below(max + 1);
            (0..n)
                .map(|_| alphabet[self.below(alphabet.len() as u64) as usize])
                .collect()
        }
    }

    #[test]
    fn refuses_a_token_ranked_below_its_parts() {
        // "abd" (257) forms only after "ab" (258): not rank-ordered.
        assert!(build(&vocab(&["xy", "abd", "ab"])).is_none());
    }

    #[test]
    fn matches_the_rank_order_merge_on_random_vocabularies() {
        // Vocabularies grown the way training grows them (each token joins two earlier ones),
        // with some random tokens mixed in, many of them unreachable or out of order.
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0;
        for _ in 0..400 {
            let mut v = vocab(&[]);
            let alphabet = b"abc";
            for _ in 0..rng.below(60) + 1 {
                let w = if rng.below(5) == 0 {
                    rng.word(alphabet, 6)
                } else {
                    let mut pick = || {
                        let a = alphabet.len();
                        let k = rng.below((v.len() - 256 + a) as u64) as usize;
                        if k < a {
                            vec![alphabet[k]]
                        } else {
                            v[256 + k - a].clone()
                        }
                    };
                    let mut w = pick();
                    w.extend(pick());
                    w
                };
                if w.len() >= 2 && !v.contains(&w) {
                    v.push(w);
                }
            }
            let Some(bt) = build(&v) else { continue };
            accepted += 1;
            for _ in 0..40 {
                let text = rng.word(b"abcd", 80);
                assert_eq!(
                    run(&bt, &text),
                    rank_order_encode(&v, &text),
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
        assert!(
            accepted > 100,
            "only {accepted} vocabularies were rank-ordered"
        );
    }

    #[test]
    fn the_popcnt_copy_encodes_as_the_plain_one() {
        // Non-ASCII bytes walk the trie through the masks' upper words.
        let v = vocab(&[
            "\u{e9}\u{e9}",
            "a\u{e9}",
            "\u{4e2d}\u{6587}",
            "ab",
            "\u{e9}a",
            "bab",
        ]);
        let bt = build(&v).expect("a rank-ordered vocabulary");
        let alphabet = crate::test_texts::chars_of("ab\u{e9}\u{4e2d}\u{6587}z");
        for text in crate::test_texts::random_texts(&alphabet, 2000, 30) {
            let (mut plain, mut dispatched) = (Vec::new(), Vec::new());
            assert!(bt.encode_body(text.as_bytes(), &mut Scratch::default(), &mut plain));
            assert!(bt.encode(text.as_bytes(), &mut Scratch::default(), &mut dispatched));
            assert_eq!(plain, dispatched, "{text:?}");
        }
    }

    #[test]
    fn matches_the_rank_order_merge_on_random_text() {
        // A small vocabulary over a three-letter alphabet, so that merges interact a lot.
        let v = vocab(&[
            "ab", "ba", "aa", "bc", "abc", "cab", "bb", "aab", "cc", "bab", "abab", "ca", "ccc",
            "aaa", "bcab", "ac", "cba", "abba", "baa", "cabc",
        ]);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let n = (seed % 40) as usize;
            let text: Vec<u8> = (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    b"abc"[(seed % 3) as usize]
                })
                .collect();
            assert_eq!(
                backtrack_encode(&v, &text),
                rank_order_encode(&v, &text),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }
}
