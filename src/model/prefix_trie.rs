//! A byte trie that answers one question fast: the longest token at the start of some text.
//!
//! Each node keeps a 256-bit mask of the bytes it has children for; its children sit next to
//! each other in byte order, so a child's index is the node's first child plus the number of mask
//! bits below the byte. One step is one node read and a popcount, with no hashing and no
//! failure links (the search is always anchored).

use super::token_index::load_le;

/// `fn name(&self, args) -> R` that runs `body(args)` compiled with the POPCNT instruction when
/// the CPU has it (`fast` is that copy), else as compiled for the baseline. A trie walk counts
/// the bits of a node's child mask at every step: one instruction with POPCNT, a dozen on the
/// wheel's x86-64 baseline, which lacks it. `body` is `#[inline(always)]`, so each copy gets
/// the walk inlined and compiled for its target.
macro_rules! with_popcnt {
    ($(#[$doc:meta])* $vis:vis fn $name:ident / $fast:ident (&$this:ident $(, $arg:ident: $ty:ty)*)
        $(-> $ret:ty)? = $body:ident) => {
        $(#[$doc])*
        $vis fn $name(&$this $(, $arg: $ty)*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("popcnt") {
                // SAFETY: the CPU has the instruction.
                return unsafe { $this.$fast($($arg),*) };
            }
            $this.$body($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "popcnt")]
        unsafe fn $fast(&$this $(, $arg: $ty)*) $(-> $ret)? {
            $this.$body($($arg),*)
        }
    };
}
pub(crate) use with_popcnt;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Node<X> {
    mask: [u64; 4],
    first_child: u32,
    /// The token that ends here, or NONE.
    value: u32,
    /// What the owner keeps beside the token that ends here (`none` where none does).
    extra: X,
}

#[derive(Debug)]
pub struct PrefixTrie<X = ()> {
    nodes: Vec<Node<X>>,
}

impl PrefixTrie {
    /// `entries` are (bytes, value) with distinct, non-empty bytes.
    pub fn new(entries: Vec<(&[u8], u32)>) -> PrefixTrie {
        PrefixTrie::new_with(entries, |_| (), ())
    }
}

impl<X: Copy> PrefixTrie<X> {
    /// As `new`, the node of each entry also holding `extra(value)`, and every other `none`.
    pub fn new_with(
        mut entries: Vec<(&[u8], u32)>,
        extra: impl Fn(u32) -> X,
        none: X,
    ) -> PrefixTrie<X> {
        // Byte order, compared on the first eight bytes as one integer first: a plain slice
        // sort called `memcmp` for every comparison, a fifth of the time to build the
        // encoder that owns this trie. (Zero padding can tie with a real zero byte, and the
        // tie falls back to the full comparison.)
        let mut keyed: Vec<(u64, &[u8], u32)> = entries
            .iter()
            .map(|&(b, v)| (load_le(&b[..b.len().min(8)]).swap_bytes(), b, v))
            .collect();
        keyed.sort_unstable();
        entries.clear();
        entries.extend(keyed.into_iter().map(|(_, b, v)| (b, v)));
        let empty = Node {
            mask: [0; 4],
            first_child: 0,
            value: NONE,
            extra: none,
        };
        let mut nodes = vec![empty];
        // Breadth first, so every node's children are appended next to each other.
        let mut queue = std::collections::VecDeque::from([(0usize, 0usize, entries.len(), 0usize)]);
        while let Some((node, mut lo, hi, depth)) = queue.pop_front() {
            if lo < hi && entries[lo].0.len() == depth {
                nodes[node].value = entries[lo].1;
                nodes[node].extra = extra(entries[lo].1);
                lo += 1;
            }
            nodes[node].first_child = nodes.len() as u32;
            while lo < hi {
                let b = entries[lo].0[depth];
                let mut end = lo + 1;
                while end < hi && entries[end].0[depth] == b {
                    end += 1;
                }
                nodes[node].mask[(b >> 6) as usize] |= 1 << (b & 63);
                queue.push_back((nodes.len(), lo, end, depth + 1));
                nodes.push(empty);
                lo = end;
            }
        }
        PrefixTrie { nodes }
    }

    /// The value and length of the longest entry that `text` starts with. (Always inlined, so
    /// that a caller compiled with POPCNT counts bits with it.)
    #[inline(always)]
    pub fn longest(&self, text: &[u8]) -> Option<(u32, usize)> {
        let mut node = &self.nodes[0];
        let mut best = None;
        for (i, &b) in text.iter().enumerate() {
            let w = (b >> 6) as usize;
            let bit = 1u64 << (b & 63);
            if node.mask[w] & bit == 0 {
                break;
            }
            let mut below = (node.mask[w] & (bit - 1)).count_ones();
            for m in &node.mask[..w] {
                below += m.count_ones();
            }
            node = &self.nodes[(node.first_child + below) as usize];
            if node.value != NONE {
                best = Some((node.value, i + 1));
            }
        }
        best
    }

    /// Call `f(value, extra, length)` for every node on the path of `text` from the root (not
    /// the root itself), entries or not (value NONE and `none`), shortest first: a caller that
    /// can take `none` as it takes any other extra needs no branch on which nodes are entries.
    #[inline(always)]
    pub fn for_each_node(&self, text: &[u8], mut f: impl FnMut(u32, X, usize)) {
        let mut node = &self.nodes[0];
        for (i, &b) in text.iter().enumerate() {
            let w = (b >> 6) as usize;
            let bit = 1u64 << (b & 63);
            if node.mask[w] & bit == 0 {
                return;
            }
            let mut below = (node.mask[w] & (bit - 1)).count_ones();
            for m in &node.mask[..w] {
                below += m.count_ones();
            }
            node = &self.nodes[(node.first_child + below) as usize];
            f(node.value, node.extra, i + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_longest_prefix() {
        let t = PrefixTrie::new(vec![
            (b"a".as_slice(), 1),
            (b"abc", 2),
            (b"abd", 3),
            (b"b", 4),
            (&[0xff, 0x00], 5),
        ]);
        assert_eq!(t.longest(b"abcd"), Some((2, 3)));
        assert_eq!(t.longest(b"abx"), Some((1, 1)));
        assert_eq!(t.longest(b"abd"), Some((3, 3)));
        assert_eq!(t.longest(b"bbb"), Some((4, 1)));
        assert_eq!(t.longest(&[0xff, 0x00, 0x01]), Some((5, 2)));
        assert_eq!(t.longest(&[0xff]), None);
        assert_eq!(t.longest(b"c"), None);
        assert_eq!(t.longest(b""), None);
    }

    #[test]
    fn every_node_on_the_way_is_met_shortest_first() {
        let t = PrefixTrie::new(vec![
            (b"a".as_slice(), 1),
            (b"abc", 2),
            (b"abd", 3),
            (b"b", 4),
        ]);
        let mut found = Vec::new();
        t.for_each_node(b"abcd", |v, (), n| found.push((v, n)));
        // "ab" is on the way to "abc" but no entry; "abcd" is not in the trie.
        assert_eq!(found, [(1, 1), (NONE, 2), (2, 3)]);
        found.clear();
        t.for_each_node(b"c", |v, (), n| found.push((v, n)));
        assert!(found.is_empty());
    }

    #[test]
    fn entries_that_tie_on_their_first_eight_bytes_are_all_found() {
        // Zero bytes and shared 8-byte heads make the sort fall back to whole-slice order.
        let words: [&[u8]; 7] = [
            b"a",
            b"a\0",
            b"a\0\0b",
            b"abcdefgh",
            b"abcdefghY",
            b"abcdefghX",
            b"abcdefgh\0Z",
        ];
        let t = PrefixTrie::new(
            words
                .iter()
                .enumerate()
                .map(|(i, w)| (*w, i as u32))
                .collect(),
        );
        for (i, w) in words.iter().enumerate() {
            assert_eq!(t.longest(w), Some((i as u32, w.len())), "{w:?}");
        }
        assert_eq!(t.longest(b"a\0\0c"), Some((1, 2)));
        assert_eq!(t.longest(b"abcdefgh\0"), Some((3, 8)));
    }
}
