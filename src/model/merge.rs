//! The BPE merge loop shared by tokenizer.json models and tiktoken rank files.
//!
//! Symbols sit in a doubly linked list over a vector; the rank of each adjacent pair sits in a
//! tournament tree keyed by (rank, position), so the lowest-ranked pair merges first and ties go
//! to the leftmost pair — the order both Hugging Face `tokenizers` and tiktoken use. Each merge
//! changes at most three pairs, each an O(log n) walk up the tree, so a piece of n symbols costs
//! O(n log n), never O(n^2), even for a megabyte with no whitespace. Short pieces use a plain
//! scan instead (`merge_scan`).

#[derive(Debug, Clone, Copy)]
pub struct Symbol {
    pub id: u32,
    /// Byte range of the symbol in the piece.
    pub start: u32,
    pub end: u32,
    prev: i32,
    next: i32,
}

impl Symbol {
    pub fn new(id: u32, start: usize, end: usize) -> Self {
        Symbol {
            id,
            start: start as u32,
            end: end as u32,
            prev: -1,
            next: -1,
        }
    }
}

/// Reusable buffers, so the loop allocates nothing once warm.
#[derive(Default)]
pub struct Scratch {
    pub symbols: Vec<Symbol>,
    /// `merge_all`'s tournament tree and the id each pair merges into.
    tree: Vec<u64>,
    merged_ids: Vec<u32>,
    /// Spare buffer for callers (cache values).
    pub flat: Vec<u32>,
    /// Dead-position bits for the backtracking encoder.
    pub dead: Vec<u64>,
    /// Spare buffer for the backtracking encoder's output.
    pub ranks: Vec<u32>,
}

/// Up to this many symbols, a linear scan for the lowest pair beats keeping a tree (measured
/// against a heap). (24 until
/// the scan stopped shifting arrays on every merge; at 48, one pass over unseen text ran
/// 1.07-1.15x on Llama-2 and Mistral, whose long words are CJK or Thai runs of one symbol
/// per char, and the same on cl100k and Llama-3.2.)
const SMALL: usize = 48;

/// `merge_all` for a few symbols: keep every adjacent pair's rank in an array and merge the
/// first lowest one until none is left. Same order: lowest rank first, leftmost on a tie.
///
/// A merged-away symbol stays where it is, unlinked (its pair rank set to none), and the
/// survivors are compacted once at the end. Removing it from the vector and shifting the
/// rank array instead was two `memmove` calls per merge, about a sixth of the instructions of
/// a first pass over unseen text (whose pieces are mostly merged, not found in a cache).
fn merge_scan<F>(syms: &mut Vec<Symbol>, pair: F)
where
    F: Fn(&Symbol, &Symbol) -> Option<(u32, u32)>,
{
    const NO: (u32, u32) = (u32::MAX, 0);
    const END: u8 = u8::MAX;
    let n = syms.len();
    debug_assert!((2..=SMALL).contains(&n) && SMALL < END as usize);
    // ranks[i]: the pair of live symbol i and the next live one (NO when none or i is dead).
    let mut ranks = [NO; SMALL];
    let mut next = [END; SMALL];
    let mut prev = [END; SMALL];
    for i in 0..n {
        next[i] = if i + 1 < n { i as u8 + 1 } else { END };
        prev[i] = if i > 0 { i as u8 - 1 } else { END };
    }
    for i in 0..n - 1 {
        ranks[i] = pair(&syms[i], &syms[i + 1]).unwrap_or(NO);
    }
    loop {
        // Dead symbols have NO, so the first lowest is the leftmost lowest live pair.
        let mut at = 0;
        for i in 1..n - 1 {
            if ranks[i].0 < ranks[at].0 {
                at = i;
            }
        }
        if ranks[at].0 == u32::MAX {
            break;
        }
        let right = next[at] as usize;
        syms[at].id = ranks[at].1;
        syms[at].end = syms[right].end;
        ranks[right] = NO;
        let after = next[right];
        next[at] = after;
        if after != END {
            prev[after as usize] = at as u8;
            ranks[at] = pair(&syms[at], &syms[after as usize]).unwrap_or(NO);
        } else {
            ranks[at] = NO;
        }
        if prev[at] != END {
            let p = prev[at] as usize;
            ranks[p] = pair(&syms[p], &syms[at]).unwrap_or(NO);
        }
    }
    // The live symbols, in order, to the front.
    let (mut w, mut i) = (0, 0);
    while i != END as usize {
        syms[w] = syms[i];
        w += 1;
        i = next[i] as usize;
    }
    syms.truncate(w);
}

/// Each symbol linked to its neighbours in the vector.
#[inline]
fn link(syms: &mut [Symbol]) {
    let n = syms.len();
    for (i, s) in syms.iter_mut().enumerate() {
        s.prev = i as i32 - 1;
        s.next = if i + 1 < n { i as i32 + 1 } else { -1 };
    }
}

/// A pair's place in the tree: lowest rank first, then leftmost.
#[inline]
fn pair_key(rank: u32, pos: usize) -> u64 {
    (rank as u64) << 32 | pos as u64
}

/// No pair at a position (above every real key: ranks are below `u32::MAX`).
const NO_PAIR: u64 = u64::MAX;

/// Merge `scratch.symbols` in place; `pair(left, right)` gives `(rank, merged_id)` when the
/// two may merge. Afterwards `scratch.symbols` holds only the surviving symbols, in order.
pub fn merge_all<F>(scratch: &mut Scratch, pair: F)
where
    F: Fn(&Symbol, &Symbol) -> Option<(u32, u32)>,
{
    let n = scratch.symbols.len();
    if n < 2 {
        return;
    }
    if n <= SMALL {
        return merge_scan(&mut scratch.symbols, pair);
    }
    let syms = &mut scratch.symbols;
    link(syms);
    // A binary heap here cost a pop of O(log n) cache lines per merge plus one per stale entry
    // (each merge leaves up to two behind, and each was looked up again to be told apart): 45 %
    // of merging a 4 KB run of random letters. The tree holds one key per pair, replaced in place.
    // Leaves at `n..2n`, node k the min of 2k and 2k + 1: every leaf's halvings reach the root,
    // so the root is the min of all, with no padding to a power of two.
    let leaves = n;
    let tree = &mut scratch.tree;
    tree.clear();
    tree.resize(2 * leaves, NO_PAIR);
    let ids = &mut scratch.merged_ids;
    ids.clear();
    ids.resize(n, 0);
    for i in 0..n - 1 {
        if let Some((rank, id)) = pair(&syms[i], &syms[i + 1]) {
            tree[leaves + i] = pair_key(rank, i);
            ids[i] = id;
        }
    }
    for k in (1..leaves).rev() {
        tree[k] = tree[2 * k].min(tree[2 * k + 1]);
    }
    // Sets the pair at `pos` (the symbol there and the next) and the mins above it, up to the
    // first that does not change (usually a few levels: few pairs are the lowest of much).
    let set = |tree: &mut Vec<u64>, pos: usize, key: u64| {
        let mut k = leaves + pos;
        tree[k] = key;
        while k > 1 {
            k /= 2;
            let m = tree[2 * k].min(tree[2 * k + 1]);
            if tree[k] == m {
                break;
            }
            tree[k] = m;
        }
    };
    loop {
        let top = tree[1];
        if top == NO_PAIR {
            break;
        }
        let pos = top as u32 as usize;
        let right_pos = syms[pos].next as usize;
        let right = syms[right_pos];
        syms[pos].id = ids[pos];
        syms[pos].end = right.end;
        syms[pos].next = right.next;
        // Removed: an empty range.
        syms[right_pos].start = right.end;
        set(tree, right_pos, NO_PAIR);
        if right.next >= 0 {
            syms[right.next as usize].prev = pos as i32;
        }
        let cur = syms[pos];
        let key = if cur.next >= 0 {
            pair(&cur, &syms[cur.next as usize]).map(|(r, id)| {
                ids[pos] = id;
                pair_key(r, pos)
            })
        } else {
            None
        };
        set(tree, pos, key.unwrap_or(NO_PAIR));
        if cur.prev >= 0 {
            let p = cur.prev as usize;
            let key = pair(&syms[p], &cur).map(|(r, id)| {
                ids[p] = id;
                pair_key(r, p)
            });
            set(tree, p, key.unwrap_or(NO_PAIR));
        }
    }
    syms.retain(|s| s.start != s.end);
}

/// `merge_all` with BPE dropout, as `tokenizers` runs it: each time a pair comes off the queue
/// it is put aside with probability `p`, and whatever was put aside goes back on the queue
/// when the next pair comes off and is not (whether or not that one still merges); merging
/// stops when the queue runs out. So a pair may be skipped and merged later, and at `p = 1`
/// nothing merges. Stale entries draw too, as there. No tree here: this path is random by
/// design and runs only for files that ask for it.
pub fn merge_all_dropout<F>(syms: &mut Vec<Symbol>, pair: F, p: f32)
where
    F: Fn(&Symbol, &Symbol) -> Option<(u32, u32)>,
{
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = syms.len();
    link(syms);
    // (rank, position, merged id), lowest rank first, then leftmost.
    let mut queue: BinaryHeap<Reverse<(u32, usize, u32)>> = (0..n.saturating_sub(1))
        .filter_map(|i| pair(&syms[i], &syms[i + 1]).map(|(r, id)| Reverse((r, i, id))))
        .collect();
    let mut skipped = Vec::new();
    while let Some(top) = queue.pop() {
        if dropout_draw() < p {
            skipped.push(top);
            continue;
        }
        queue.extend(skipped.drain(..));
        let Reverse((_, pos, id)) = top;
        let cur = syms[pos];
        // Merged away, last, or no longer the pair this entry was made for.
        if cur.start == cur.end || cur.next < 0 {
            continue;
        }
        let right_pos = cur.next as usize;
        let right = syms[right_pos];
        if pair(&cur, &right).is_none_or(|(_, now)| now != id) {
            continue;
        }
        syms[pos].id = id;
        syms[pos].end = right.end;
        syms[pos].next = right.next;
        syms[right_pos].start = right.end;
        if right.next >= 0 {
            syms[right.next as usize].prev = pos as i32;
        }
        let cur = syms[pos];
        if cur.prev >= 0 {
            let prev = cur.prev as usize;
            if let Some((r, id)) = pair(&syms[prev], &cur) {
                queue.push(Reverse((r, prev, id)));
            }
        }
        if cur.next >= 0 {
            if let Some((r, id)) = pair(&cur, &syms[cur.next as usize]) {
                queue.push(Reverse((r, pos, id)));
            }
        }
    }
    syms.retain(|s| s.start != s.end);
}

/// A uniform draw from [0, 1), as an f32 (the type `tokenizers` compares the dropout in):
/// xorshift64* over a per-thread state seeded from the process's hash keys (random per run).
fn dropout_draw() -> f32 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new(
            std::collections::hash_map::RandomState::new().build_hasher().finish() | 1,
        );
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        // The top 24 bits: every f32 step of [0, 1) at 2^-24, none rounding up to 1.
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u32 << 24) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ids are the bytes themselves; "ab" -> 300 (rank 0), "bc" -> 301 (rank 1).
    fn pair(l: &Symbol, r: &Symbol) -> Option<(u32, u32)> {
        match (l.id, r.id) {
            (97, 98) => Some((0, 300)),
            (98, 99) => Some((1, 301)),
            (300, 99) => Some((2, 302)),
            _ => None,
        }
    }

    fn run(s: &str) -> Vec<u32> {
        let mut sc = Scratch {
            symbols: s
                .bytes()
                .enumerate()
                .map(|(i, b)| Symbol::new(b as u32, i, i + 1))
                .collect(),
            ..Default::default()
        };
        merge_all(&mut sc, pair);
        sc.symbols.iter().map(|s| s.id).collect()
    }

    #[test]
    fn lowest_rank_first() {
        assert_eq!(run("abc"), [302]);
        assert_eq!(run("bcab"), [301, 300]);
    }

    #[test]
    fn leftmost_on_tie() {
        assert_eq!(run("abab"), [300, 300]);
    }

    #[test]
    fn scan_and_tree_agree() {
        // Pair (a, b) merges when (a + b) % 7 == 0 at rank (a * b) % 13, so merges chain and
        // ranks tie often; both paths must pick the same pairs.
        let pair = |l: &Symbol, r: &Symbol| {
            let (a, b) = (l.id, r.id);
            ((a + b) % 7 == 0).then_some(((a * b) % 13, (a + b) % 50))
        };
        let mut seed = 7u64;
        for _ in 0..3000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = 2 + (seed >> 59) as usize % (SMALL - 1);
            let syms: Vec<Symbol> = (0..n)
                .map(|i| Symbol::new(((seed >> (i * 2 % 56)) % 50) as u32, i, i + 1))
                .collect();
            let mut scan = syms.clone();
            merge_scan(&mut scan, pair);
            // The tree path, forced by padding past SMALL with symbols that never merge.
            let mut sc = Scratch {
                symbols: syms.clone(),
                ..Default::default()
            };
            sc.symbols
                .extend((n..n + SMALL).map(|i| Symbol::new(1000, i, i + 1)));
            merge_all(&mut sc, |l, r| {
                if l.id >= 1000 || r.id >= 1000 {
                    None
                } else {
                    pair(l, r)
                }
            });
            sc.symbols.truncate(sc.symbols.len() - SMALL);
            let ids = |v: &[Symbol]| v.iter().map(|s| (s.id, s.start, s.end)).collect::<Vec<_>>();
            assert_eq!(ids(&scan), ids(&sc.symbols));
        }
    }

    fn dropout_run(s: &str, p: f32) -> Vec<u32> {
        let mut syms: Vec<Symbol> = s
            .bytes()
            .enumerate()
            .map(|(i, b)| Symbol::new(b as u32, i, i + 1))
            .collect();
        merge_all_dropout(&mut syms, pair, p);
        syms.iter().map(|s| s.id).collect()
    }

    #[test]
    fn dropout_zero_merges_as_without_dropout_and_one_merges_nothing() {
        for s in ["abc", "bcab", "abab", "cabcbabcab", "aaabbbccc"] {
            assert_eq!(dropout_run(s, 0.0), run(s), "{s}");
            assert_eq!(
                dropout_run(s, 1.0),
                s.bytes().map(u32::from).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn dropout_skips_a_merge_until_the_next_one_that_is_not_skipped() {
        // "abc" with "ab" (rank 0), "bc" (rank 1), "ab" + "c" (rank 2). "ab" comes off first.
        // Skipped (p), it waits for "bc": skipped too (p), the queue is empty, nothing merged;
        // "bc" merged (1 - p), "ab" is back but stale. "ab" merged (1 - p): rank 2 is skipped
        // (p) with the stale "bc" drawn before it either way, or merged. So a b c: p^2,
        // a bc: p(1 - p), ab c: p(1 - p), abc: (1 - p)^2.
        let (n, p) = (20_000, 0.3f32);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..n {
            *counts.entry(dropout_run("abc", p)).or_insert(0usize) += 1;
        }
        let share = |ids: &[u32]| counts.get(ids).copied().unwrap_or(0) as f64 / n as f64;
        // Five standard deviations of a share near 0.5 over 20,000 draws: 0.018.
        assert!((share(&[97, 98, 99]) - 0.09).abs() < 0.018, "{counts:?}");
        assert!((share(&[97, 301]) - 0.21).abs() < 0.018, "{counts:?}");
        assert!((share(&[300, 99]) - 0.21).abs() < 0.018, "{counts:?}");
        assert!((share(&[302]) - 0.49).abs() < 0.018, "{counts:?}");
        assert_eq!(counts.len(), 4, "{counts:?}");
    }

    #[test]
    fn dropout_draws_are_spread_over_zero_to_one() {
        let draws: Vec<f32> = (0..10_000).map(|_| dropout_draw()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let low = draws.iter().filter(|&&d| d < 0.25).count();
        assert!((2_300..2_700).contains(&low), "{low}");
    }

    #[test]
    fn long_input_is_fast() {
        let s = "ab".repeat(500_000);
        assert_eq!(run(&s).len(), 500_000);
    }
}
