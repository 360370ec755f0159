//! The result of encoding one text, or a pair of texts.

use std::ops::Range;

use crate::error::{Error, ErrorKind, Result};

/// Which end truncation cuts, or padding fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    Left,
    #[default]
    Right,
}

/// The token padding adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pad {
    pub id: u32,
    pub type_id: u32,
    pub token: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
    /// Character offsets into the original text (of its own sequence, for a pair).
    pub offsets: Vec<(usize, usize)>,
    pub type_ids: Vec<u32>,
    pub special_tokens_mask: Vec<u32>,
    /// The word (pre-tokenized piece) of each token, None for special and padding tokens.
    pub words: Vec<Option<u32>>,
    /// 1 for a token, 0 for padding.
    pub attention_mask: Vec<u32>,
    /// The windows that truncation cut off, each encoded as this one is (special tokens
    /// included).
    pub overflowing: Vec<Encoding>,
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
        self.attention_mask.push(1);
        self.words.push(None);
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
    ///
    /// Overflowing windows combine as `tokenizers` combines them: each of ours with `other`
    /// (carrying `other`'s windows along, nested) and with each of `other`'s windows, then
    /// this encoding (with its own windows, nested) with each of `other`'s windows.
    pub fn merge_with(&mut self, other: Encoding) {
        let mut overflowing = Vec::new();
        if !self.overflowing.is_empty() || !other.overflowing.is_empty() {
            for mine in &self.overflowing {
                let mut e = mine.clone();
                e.merge_with(other.clone());
                overflowing.push(e);
                for theirs in &other.overflowing {
                    let mut e = mine.clone();
                    e.merge_with(theirs.clone());
                    overflowing.push(e);
                }
            }
            for theirs in &other.overflowing {
                let mut e = self.clone();
                e.merge_with(theirs.clone());
                overflowing.push(e);
            }
        }
        let shift = self.len();
        for (id, r) in other.sequence_ranges {
            self.set_sequence_range(id, r.start + shift..r.end + shift);
        }
        self.ids.extend(other.ids);
        self.tokens.extend(other.tokens);
        self.offsets.extend(other.offsets);
        self.type_ids.extend(other.type_ids);
        self.special_tokens_mask.extend(other.special_tokens_mask);
        self.words.extend(other.words);
        self.attention_mask.extend(other.attention_mask);
        self.overflowing = overflowing;
    }

    /// The tokens `range`, with no windows and no sequence ranges.
    fn slice(&self, range: Range<usize>) -> Encoding {
        Encoding {
            ids: self.ids[range.clone()].to_vec(),
            tokens: self.tokens[range.clone()].to_vec(),
            offsets: self.offsets[range.clone()].to_vec(),
            type_ids: self.type_ids[range.clone()].to_vec(),
            special_tokens_mask: self.special_tokens_mask[range.clone()].to_vec(),
            words: self.words[range.clone()].to_vec(),
            attention_mask: self.attention_mask[range].to_vec(),
            overflowing: Vec::new(),
            sequence_ranges: Vec::new(),
        }
    }

    /// Keep the first (`Right`) or last (`Left`) `max_len` tokens; the rest become
    /// overflowing windows of `max_len` tokens, each overlapping the one before by `stride`
    /// tokens, as `tokenizers` cuts them. `max_len` 0 moves everything into one window.
    /// The caller checks `stride < max_len` (for `max_len` above 0).
    pub fn truncate(&mut self, max_len: usize, stride: usize, direction: Direction) {
        let n = self.len();
        if max_len >= n {
            return;
        }
        if max_len == 0 {
            let all = std::mem::take(self);
            self.overflowing.push(all);
            return;
        }
        debug_assert!(stride < max_len);
        let step = max_len - stride;
        let mut windows = Vec::new();
        match direction {
            Direction::Right => {
                let mut start = 0;
                loop {
                    let stop = (start + max_len).min(n);
                    windows.push(start..stop);
                    if stop == n {
                        break;
                    }
                    start += step;
                }
            }
            Direction::Left => {
                let mut stop = n;
                loop {
                    let start = stop.saturating_sub(max_len);
                    windows.push(start..stop);
                    if start == 0 || stop <= step {
                        break;
                    }
                    stop -= step;
                }
            }
        }
        let mut first = self.slice(windows[0].clone());
        first.overflowing = windows[1..].iter().map(|w| self.slice(w.clone())).collect();
        *self = first;
    }

    /// Pad to `len` tokens (this encoding and each overflowing window) with `pad`, on the
    /// `direction` side; an encoding already that long is left as it is.
    pub fn pad(&mut self, len: usize, pad: &Pad, direction: Direction) -> Result<()> {
        for w in &mut self.overflowing {
            w.pad(len, pad, direction)?;
        }
        let Some(n) = len.checked_sub(self.len()).filter(|&n| n > 0) else {
            return Ok(());
        };
        // Room for every field first: a length no memory can hold (a file may ask for any)
        // is an error, with the encoding as it was.
        let room = (|| {
            self.ids.try_reserve_exact(n)?;
            self.type_ids.try_reserve_exact(n)?;
            self.tokens.try_reserve_exact(n)?;
            self.attention_mask.try_reserve_exact(n)?;
            self.special_tokens_mask.try_reserve_exact(n)?;
            self.words.try_reserve_exact(n)?;
            self.offsets.try_reserve_exact(n)
        })();
        if room.is_err() {
            return Err(Error::new(
                ErrorKind::Input,
                format!(
                    "cannot pad to {len} tokens: more than memory can hold; \
                     pad to a smaller length (enable_padding(length=...), or the file's \
                     padding section)"
                ),
            ));
        }
        fn fill<T: Clone>(v: &mut Vec<T>, value: T, n: usize, left: bool) {
            if left {
                v.splice(0..0, std::iter::repeat_n(value, n));
            } else {
                v.extend(std::iter::repeat_n(value, n));
            }
        }
        let left = direction == Direction::Left;
        fill(&mut self.ids, pad.id, n, left);
        fill(&mut self.type_ids, pad.type_id, n, left);
        fill(&mut self.tokens, pad.token.clone(), n, left);
        fill(&mut self.attention_mask, 0, n, left);
        fill(&mut self.special_tokens_mask, 1, n, left);
        fill(&mut self.words, None, n, left);
        fill(&mut self.offsets, (0, 0), n, left);
        if left {
            for (_, r) in &mut self.sequence_ranges {
                *r = r.start + n..r.end + n;
            }
        }
        Ok(())
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
