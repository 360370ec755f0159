//! Where a byte-level piece may be cut into parts that merge on their own.
//!
//! A merge joins two adjacent symbols into a token that holds both. So where no token that
//! merging can make holds byte `x` right before byte `y`, no symbol ever spans that point: the
//! merges on each side are the ones the whole piece would make, in the same order, and the
//! piece's tokens are its parts' tokens one after the other. Of the 65,536 byte pairs, cl100k's
//! tokens hold about 6,600: no token joins the last byte of one emoji to the first of the next,
//! for instance, so a run of emoji is cut into single emoji, which repeat, where the whole run
//! is seen once and would be merged as a whole.

use std::ops::Range;

/// Parts of a piece this long or longer are not cached: a long run of random letters is cut
/// at about half its places, into parts seen once that would only fill the caches.
pub const KEEP_PARTS_BELOW: usize = 256;

/// One bit per byte pair `(x, y)`: set when a piece may be cut between `x` and `y`.
#[derive(Clone)]
pub struct ByteCuts {
    bits: Box<[u64; 1024]>,
}

impl std::fmt::Debug for ByteCuts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n: u32 = self.bits.iter().map(|w| w.count_ones()).sum();
        write!(f, "ByteCuts({n} pairs apart)")
    }
}

impl ByteCuts {
    /// The cuts that `tokens` (the bytes of every token merging can make, or more) allow.
    pub fn new<'a>(tokens: impl IntoIterator<Item = &'a [u8]>) -> ByteCuts {
        let mut cuts = ByteCuts::everywhere();
        for t in tokens {
            for w in t.windows(2) {
                cuts.join(w[0], w[1]);
            }
        }
        cuts
    }

    /// Every pair apart, until `join`ed.
    pub fn everywhere() -> ByteCuts {
        ByteCuts {
            bits: Box::new([u64::MAX; 1024]),
        }
    }

    /// Some token holds `x` right before `y`: never cut between them.
    #[inline]
    pub fn join(&mut self, x: u8, y: u8) {
        let pair = (x as usize) << 8 | y as usize;
        self.bits[pair >> 6] &= !(1 << (pair & 63));
    }

    /// Whether a piece may be cut between `x` and `y`.
    #[inline]
    pub fn between(&self, x: u8, y: u8) -> bool {
        let pair = (x as usize) << 8 | y as usize;
        self.bits[pair >> 6] >> (pair & 63) & 1 == 1
    }

    /// The parts of `piece` between its cuts, as ranges in order; None when it has no cut.
    #[inline]
    pub fn parts<'a>(&'a self, piece: &'a [u8]) -> Option<impl Iterator<Item = Range<usize>> + 'a> {
        let mut end = self.next_cut(piece, 0);
        if end == piece.len() {
            return None;
        }
        let mut start = 0;
        Some(std::iter::from_fn(move || {
            if start == piece.len() {
                return None;
            }
            let part = start..end;
            start = end;
            if end < piece.len() {
                end = self.next_cut(piece, end);
            }
            Some(part)
        }))
    }

    /// The first place after `start` where `piece` may be cut (`piece.len()` if none).
    #[inline]
    fn next_cut(&self, piece: &[u8], start: usize) -> usize {
        let mut i = start + 1;
        while i < piece.len() {
            if self.between(piece[i - 1], piece[i]) {
                return i;
            }
            i += 1;
        }
        piece.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_held_by_a_token_are_never_cut() {
        let cuts = ByteCuts::new([b"ab".as_slice(), b"bcd", b"x"]);
        assert!(!cuts.between(b'a', b'b'));
        assert!(!cuts.between(b'b', b'c'));
        assert!(!cuts.between(b'c', b'd'));
        assert!(cuts.between(b'b', b'a'));
        assert!(cuts.between(b'a', b'c'));
        assert!(cuts.between(b'x', b'x'));
    }

    #[test]
    fn parts_end_at_each_cut() {
        assert!(ByteCuts::new([b"ab".as_slice()]).parts(b"abab").is_some());
        assert!(ByteCuts::new([b"ab".as_slice(), b"ba"])
            .parts(b"abab")
            .is_none());
        let cuts = ByteCuts::new([b"ab".as_slice(), b"bc"]);
        let piece = b"abcxab";
        let parts: Vec<&[u8]> = cuts.parts(piece).unwrap().map(|r| &piece[r]).collect();
        assert_eq!(parts, [b"abc".as_slice(), b"x", b"ab"]);
    }
}
