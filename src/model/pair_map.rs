//! (left id, right id) -> (rank, merged id) for the merges of a tokenizer.json BPE model.
//!
//! Merging a piece that no cache holds looks up every adjacent pair of symbols first, then two
//! new pairs after each merge. Pairs of two ids under 256 (the byte-level alphabet of GPT-2,
//! Llama-3 and Qwen vocabularies, where every word's first lookups fall) come from a table of
//! their own that stays in L2; the rest from a hash map, whose one-byte control groups answer
//! most lookups (pairs that do not merge) without reading the entries' megabytes.

/// No merge, in the small table.
const NONE: u64 = u64::MAX;
/// Ids under this pair up in the small table.
const SMALL_IDS: u32 = 256;

use rustc_hash::FxHashMap;

#[derive(Debug, Clone)]
pub struct PairMap {
    /// key(left, right) -> (rank, merged id), for the other pairs.
    big: FxHashMap<u64, (u32, u32)>,
    /// left << 8 | right -> rank << 32 | merged id, for ids under `SMALL_IDS`.
    small: Box<[u64]>,
    len: usize,
}

#[inline]
fn key(a: u32, b: u32) -> u64 {
    (a as u64) << 32 | b as u64
}

impl PairMap {
    /// `pairs` are ((left, right), (rank, merged id)); a pair given twice keeps its last value.
    pub fn new(pairs: impl ExactSizeIterator<Item = ((u32, u32), (u32, u32))>) -> PairMap {
        let mut map = PairMap {
            big: FxHashMap::default(),
            small: vec![NONE; (SMALL_IDS * SMALL_IDS) as usize].into_boxed_slice(),
            len: 0,
        };
        map.big.reserve(pairs.len());
        for ((a, b), (rank, id)) in pairs {
            if a < SMALL_IDS && b < SMALL_IDS {
                let slot = &mut map.small[(a << 8 | b) as usize];
                map.len += usize::from(*slot == NONE);
                *slot = (rank as u64) << 32 | id as u64;
            } else if map.big.insert(key(a, b), (rank, id)).is_none() {
                map.len += 1;
            }
        }
        map
    }

    /// (rank, merged id) of the pair, if it merges.
    #[inline]
    pub fn get(&self, a: u32, b: u32) -> Option<(u32, u32)> {
        if a < SMALL_IDS && b < SMALL_IDS {
            let v = self.small[(a << 8 | b) as usize];
            return (v != NONE).then_some(((v >> 32) as u32, v as u32));
        }
        self.big.get(&key(a, b)).copied()
    }

    /// Every (rank, merged id), in no particular order.
    pub fn values(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let small = self.small.iter().copied().filter(|&v| v != NONE);
        let small = small.map(|v| ((v >> 32) as u32, v as u32));
        self.big.values().copied().chain(small)
    }

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
    use std::collections::HashMap;

    #[test]
    fn answers_as_a_hash_map_does() {
        // Small and large ids, both tables, and pairs given twice (the last value wins).
        let mut pairs = Vec::new();
        for i in 0..20_000u32 {
            let a = (i * 7919) % 300;
            let b = (i * 104_729) % 70_000;
            pairs.push(((a, b), (i, i + 1)));
            pairs.push(((b % 256, a), (i, i + 2)));
        }
        let map = PairMap::new(pairs.iter().copied());
        let mut want = HashMap::new();
        for &(k, v) in &pairs {
            want.insert(k, v);
        }
        assert_eq!(map.len(), want.len());
        for (&(a, b), &v) in &want {
            assert_eq!(map.get(a, b), Some(v), "{a} {b}");
        }
        for (a, b) in [
            (299, 69_999),
            (1, 1),
            (255, 255),
            (u32::MAX - 1, 3),
            (70_000, 70_000),
        ] {
            assert_eq!(map.get(a, b), want.get(&(a, b)).copied(), "{a} {b}");
        }
        let mut values: Vec<(u32, u32)> = map.values().collect();
        let mut expected: Vec<(u32, u32)> = want.values().copied().collect();
        values.sort_unstable();
        expected.sort_unstable();
        assert_eq!(values, expected);
    }

    #[test]
    fn an_empty_map_finds_nothing() {
        let map = PairMap::new(std::iter::empty());
        assert!(map.is_empty());
        assert_eq!(map.get(0, 0), None);
        assert_eq!(map.get(1000, 2000), None);
        assert_eq!(map.values().count(), 0);
    }
}
