//! The result of encoding one text, or a pair of texts.

use std::ops::Range;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
    /// Character offsets into the original text (of its own sequence, for a pair).
    pub offsets: Vec<(usize, usize)>,
    pub type_ids: Vec<u32>,
    pub special_tokens_mask: Vec<u32>,
    /// Which tokens come from which input sequence, as `tokenizers` records it: a map from
    /// sequence id to token range, in insertion order, where setting an id again replaces its
    /// range. Tokens outside every range belong to no sequence (special tokens).
    pub sequence_ranges: Vec<(usize, Range<usize>)>,
}

impl Encoding {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn push(&mut self, id: u32, token: String, offsets: (usize, usize), special: bool) {
        self.ids.push(id);
        self.tokens.push(token);
        self.offsets.push(offsets);
        self.type_ids.push(0);
        self.special_tokens_mask.push(u32::from(special));
    }

    /// Record that `range` of the tokens comes from sequence `id`.
    pub fn set_sequence_range(&mut self, id: usize, range: Range<usize>) {
        match self.sequence_ranges.iter_mut().find(|(k, _)| *k == id) {
            Some((_, r)) => *r = range,
            None => self.sequence_ranges.push((id, range)),
        }
    }

    /// Mark every token as coming from sequence `id`.
    pub fn set_sequence_id(&mut self, id: usize) {
        self.set_sequence_range(id, 0..self.len());
    }

    /// The sequence each token comes from (None for special tokens), as `tokenizers` computes
    /// it: with no ranges recorded, every token is in sequence 0; otherwise each id below the
    /// number of ranges claims its range (or, when it has none, every token).
    pub fn sequence_ids(&self) -> Vec<Option<usize>> {
        let mut out = vec![None; self.len()];
        let n = self.sequence_ranges.len().max(1);
        for id in 0..n {
            let range = self
                .sequence_ranges
                .iter()
                .find(|(k, _)| *k == id)
                .map_or(0..self.len(), |(_, r)| r.clone());
            let end = range.end.min(self.len());
            for slot in &mut out[range.start.min(end)..end] {
                *slot = Some(id);
            }
        }
        out
    }

    /// Append `other` after this encoding (offsets stay relative to each one's own text).
    pub fn merge_with(&mut self, other: Encoding) {
        let shift = self.len();
        for (id, r) in other.sequence_ranges {
            self.set_sequence_range(id, r.start + shift..r.end + shift);
        }
        self.ids.extend(other.ids);
        self.tokens.extend(other.tokens);
        self.offsets.extend(other.offsets);
        self.type_ids.extend(other.type_ids);
        self.special_tokens_mask.extend(other.special_tokens_mask);
    }

    /// All of `parts`, one after the other.
    pub fn merge(parts: Vec<Encoding>) -> Encoding {
        let mut parts = parts.into_iter();
        let mut out = parts.next().unwrap_or_default();
        for p in parts {
            out.merge_with(p);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of_len(n: usize) -> Encoding {
        let mut e = Encoding::default();
        for i in 0..n {
            e.push(i as u32, String::new(), (0, 0), false);
        }
        e
    }

    #[test]
    fn sequence_ids_without_ranges_are_all_zero() {
        assert_eq!(of_len(2).sequence_ids(), [Some(0), Some(0)]);
    }

    #[test]
    fn merged_ranges_shift_and_leave_gaps_unassigned() {
        let mut a = of_len(2);
        a.set_sequence_id(0);
        let mut b = of_len(2);
        b.set_sequence_id(1);
        let mut out = of_len(1);
        out.merge_with(a);
        out.merge_with(b);
        assert_eq!(
            out.sequence_ids(),
            [None, Some(0), Some(0), Some(1), Some(1)]
        );
    }

    #[test]
    fn a_range_set_again_replaces_the_first() {
        let mut a = of_len(2);
        a.set_sequence_id(0);
        let mut out = a.clone();
        out.merge_with(a);
        assert_eq!(out.sequence_ids(), [None, None, Some(0), Some(0)]);
    }
}
