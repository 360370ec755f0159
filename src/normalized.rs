//! A string being normalized, with the original byte range behind every normalized byte.
//!
//! Offsets are the reason this exists: each transformation records, per output char, whether it
//! replaces an input char (change 0), is inserted (change > 0, it borrows the alignment of the
//! char before it) or swallows following input chars (change < 0). These are the alignment rules
//! of Hugging Face `tokenizers`, so offsets come out identical to theirs.

use std::ops::Range;

#[derive(Debug, Clone, Default)]
pub struct NormalizedString {
    /// The normalized text.
    pub text: String,
    /// For every byte of `text`, the (start, end) byte range in the original input it came from.
    pub align: Vec<(u32, u32)>,
    /// Where this piece starts in the original input (kept even when `text` is empty).
    pub orig_start: u32,
}

impl NormalizedString {
    /// A piece of the original input starting at byte `base`, not yet normalized.
    pub fn from_original(s: &str, base: usize) -> Self {
        let mut align = Vec::with_capacity(s.len());
        for (i, c) in s.char_indices() {
            let n = c.len_utf8();
            let r = ((base + i) as u32, (base + i + n) as u32);
            align.extend(std::iter::repeat_n(r, n));
        }
        NormalizedString {
            text: s.to_owned(),
            align,
            orig_start: base as u32,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The original byte range of a normalized byte range (HF's `convert_offsets`).
    pub fn original_range(&self, r: Range<usize>) -> (usize, usize) {
        if r.start >= r.end || r.end > self.align.len() {
            let s = self
                .align
                .get(r.start)
                .map(|a| a.0 as usize)
                .or_else(|| self.align.last().map(|a| a.1 as usize))
                .unwrap_or(self.orig_start as usize);
            return (s, s);
        }
        (
            self.align[r.start].0 as usize,
            self.align[r.end - 1].1 as usize,
        )
    }

    /// A sub-piece by normalized byte range.
    pub fn slice(&self, r: Range<usize>) -> NormalizedString {
        let orig_start = match self.align.get(r.start) {
            Some(a) if r.start < r.end => a.0,
            _ => self.original_range(r.clone()).0 as u32,
        };
        NormalizedString {
            text: self.text[r.clone()].to_owned(),
            align: self.align[r].to_vec(),
            orig_start,
        }
    }

    /// Replace the whole text by `dest`, where each item is an output char and its change
    /// relative to the input chars, consumed left to right.
    pub fn transform<I: IntoIterator<Item = (char, isize)>>(&mut self, dest: I) {
        self.transform_skipping(dest, 0)
    }

    /// `transform`, after dropping the first `skip` input chars.
    pub fn transform_skipping<I: IntoIterator<Item = (char, isize)>>(
        &mut self,
        dest: I,
        skip: usize,
    ) {
        let mut new_text = String::with_capacity(self.text.len());
        let mut new_align = Vec::with_capacity(self.align.len());
        let mut old = self.text.chars();
        let mut offset = 0usize;
        for _ in 0..skip {
            if let Some(r) = old.next() {
                offset += r.len_utf8();
            }
        }
        let fallback = (self.orig_start, self.orig_start);
        for (c, change) in dest {
            let align = if change > 0 {
                if offset == 0 {
                    self.align.first().map(|a| (a.0, a.0)).unwrap_or(fallback)
                } else {
                    self.align[offset - 1]
                }
            } else {
                self.align.get(offset).copied().unwrap_or(fallback)
            };
            if change <= 0 {
                if let Some(r) = old.next() {
                    offset += r.len_utf8();
                }
            }
            if change < 0 {
                for _ in 0..(-change) {
                    if let Some(r) = old.next() {
                        offset += r.len_utf8();
                    }
                }
            }
            new_align.extend(std::iter::repeat_n(align, c.len_utf8()));
            new_text.push(c);
        }
        self.text = new_text;
        self.align = new_align;
    }

    /// Insert `s` before the first char (HF's `prepend`); nothing happens to an empty string.
    pub fn prepend(&mut self, s: &str) {
        let Some(first) = self.text.chars().next() else {
            return;
        };
        let n = first.len_utf8();
        if s.is_empty() {
            // `tokenizers` re-inserts the first char after the (no) prepended chars; an
            // inserted char borrows the alignment before it, and at the start there is none,
            // so it maps to the empty range at the piece's start.
            let at = (self.orig_start, self.orig_start);
            self.align[..n].fill(at);
            return;
        }
        let mut text = String::with_capacity(self.text.len() + s.len());
        text.push_str(s);
        text.push_str(&self.text);
        let mut align = Vec::with_capacity(self.align.len() + s.len());
        // The prepended chars replace the first char's alignment; the first char is re-inserted
        // and borrows the same alignment.
        let a0 = self.align[0];
        align.extend(std::iter::repeat_n(a0, s.len()));
        align.extend(std::iter::repeat_n(a0, n));
        align.extend_from_slice(&self.align[n..]);
        self.text = text;
        self.align = align;
    }

    /// Replace each `(start, end)` normalized range (sorted, disjoint) by `content`; the
    /// inserted chars take the alignment of the last replaced byte (HF's `replace`).
    pub fn replace_ranges(&mut self, ranges: &[(usize, usize)], content: &str) {
        if ranges.is_empty() {
            return;
        }
        let mut text = String::with_capacity(self.text.len());
        let mut align = Vec::with_capacity(self.align.len());
        let mut last = 0;
        for &(s, e) in ranges {
            text.push_str(&self.text[last..s]);
            align.extend_from_slice(&self.align[last..s]);
            let a = if e == 0 {
                (self.orig_start, self.orig_start)
            } else {
                self.align[e - 1]
            };
            text.push_str(content);
            align.extend(std::iter::repeat_n(a, content.len()));
            last = e;
        }
        text.push_str(&self.text[last..]);
        align.extend_from_slice(&self.align[last..]);
        self.text = text;
        self.align = align;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepend_shares_first_char_alignment() {
        let mut n = NormalizedString::from_original("ab", 0);
        n.prepend("\u{2581}");
        assert_eq!(n.text, "\u{2581}ab");
        assert_eq!(n.original_range(0..3), (0, 1));
        assert_eq!(n.original_range(0..4), (0, 1));
        assert_eq!(n.original_range(4..5), (1, 2));
    }

    #[test]
    fn prepending_nothing_leaves_the_first_char_an_empty_range_at_the_start() {
        let mut n = NormalizedString::from_original("éb", 7);
        n.prepend("");
        assert_eq!(n.text, "éb");
        assert_eq!(n.original_range(0..2), (7, 7));
        assert_eq!(n.original_range(0..3), (7, 10));
        assert_eq!(n.original_range(2..3), (9, 10));
    }

    #[test]
    fn replace_aligns_to_replaced_text() {
        let mut n = NormalizedString::from_original("a b", 10);
        n.replace_ranges(&[(1, 2)], "\u{2581}");
        assert_eq!(n.text, "a\u{2581}b");
        assert_eq!(n.original_range(1..4), (11, 12));
    }

    #[test]
    fn transform_insertions_borrow_previous() {
        let mut n = NormalizedString::from_original("\u{e9}", 0);
        // One char to two bytes-as-chars, as the byte-level pre-tokenizer does.
        n.transform([('\u{c3}', 0), ('\u{a9}', 1)]);
        assert_eq!(n.original_range(0..2), (0, 2));
        assert_eq!(n.original_range(2..4), (0, 2));
    }
}
