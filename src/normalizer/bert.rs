//! BertNormalizer and StripAccents: BERT's text cleaning, CJK spacing, accent stripping and
//! lowercasing, with the alignment rules of `tokenizers`.

use super::unicode::{self, is_combining_mark};
use super::UnicodeForm;
use crate::normalized::NormalizedString;
use crate::unicode_class::hf;

/// The options of a BertNormalizer, `strip_accents` resolved (it follows `lowercase` when the
/// file leaves it null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bert {
    pub clean_text: bool,
    pub handle_chinese_chars: bool,
    pub strip_accents: bool,
    pub lowercase: bool,
}

/// Dropped by `clean_text`: NUL, the replacement char and control/format/private-use chars.
#[inline]
fn dropped(c: char) -> bool {
    c == '\0' || c == '\u{fffd}' || hf::is_control(c)
}

/// Whitespace that `clean_text` turns into a space (tab, newline and return included).
#[inline]
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// The CJK Unified Ideograph blocks that BERT writes as words of their own (not Hangul, Kana,
/// or CJK punctuation).
#[inline]
pub fn is_chinese_char(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B920..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

/// Drop the chars `keep` refuses and map the others, as `tokenizers`' `filter` then `map`:
/// a dropped char is swallowed by the kept char before it (dropped chars at the start are
/// skipped), so offsets of the kept chars still cover the dropped ones after them.
fn filter_map(n: &mut NormalizedString, keep: impl Fn(char) -> bool, map: impl Fn(char) -> char) {
    let mut dest: Vec<(char, isize)> = Vec::with_capacity(n.text.len());
    let mut lead = 0usize;
    let mut last: Option<char> = None;
    let mut removed = 0isize;
    for c in n.text.chars() {
        if !keep(c) {
            removed += 1;
            continue;
        }
        match last {
            Some(l) => dest.push((l, -removed)),
            None => lead = removed as usize,
        }
        last = Some(map(c));
        removed = 0;
    }
    if let Some(l) = last {
        dest.push((l, -removed));
    }
    n.transform_skipping(dest, lead);
}

/// ASCII text through `clean_text` and `lowercase` in place, when nothing is dropped (every
/// byte stays one byte, so the alignments stand); false when the slow path is needed.
fn ascii_in_place(text: &mut String, opts: &Bert) -> bool {
    let b = text.as_bytes();
    if !b.is_ascii() || (opts.clean_text && b.iter().any(|&x| dropped(x as char))) {
        return false;
    }
    // Safety of the edit: ASCII bytes are mapped to ASCII bytes.
    let mut bytes = std::mem::take(text).into_bytes();
    for x in bytes.iter_mut() {
        if opts.clean_text && (*x as char).is_ascii_whitespace() {
            *x = b' ';
        } else if opts.lowercase {
            x.make_ascii_lowercase();
        }
    }
    *text = String::from_utf8(bytes).expect("ASCII stays ASCII");
    true
}

impl Bert {
    /// Every step in one pass, char by char: `emit(i, out)` for each output char, `i` being
    /// the byte index of the input char it comes from (every output char takes its source
    /// char's alignment, whichever step made it, as the steps one by one give). False, with
    /// the output incomplete, when decomposition leaves a combining char that stays and may
    /// need canonical reordering; the caller then runs the steps one by one.
    fn one_pass(&self, text: &str, mut emit: impl FnMut(usize, char)) -> bool {
        let lower = self.lowercase;
        let mut out = |i: usize, c: char| {
            if lower && !c.is_ascii() {
                c.to_lowercase().for_each(|l| emit(i, l));
            } else if lower {
                emit(i, c.to_ascii_lowercase());
            } else {
                emit(i, c);
            }
        };
        for (i, mut c) in text.char_indices() {
            if self.clean_text {
                if dropped(c) {
                    continue;
                }
                if is_space(c) {
                    c = ' ';
                }
            }
            if c.is_ascii() {
                out(i, c);
                continue;
            }
            let cjk = self.handle_chinese_chars && is_chinese_char(c);
            if cjk {
                out(i, ' ');
            }
            if self.strip_accents {
                let mut reorder = false;
                unicode::decompose_nfd(c, |d| {
                    if hf::is_mark_nonspacing(d) {
                        return;
                    }
                    reorder |= unicode::ccc(d) != 0;
                    out(i, d);
                });
                if reorder {
                    return false;
                }
            } else {
                out(i, c);
            }
            if cjk {
                out(i, ' ');
            }
        }
        true
    }

    pub fn normalize(&self, n: &mut NormalizedString) {
        if ascii_in_place(&mut n.text, self) {
            return;
        }
        let mut text = String::with_capacity(n.text.len() + 8);
        let mut align = Vec::with_capacity(n.align.len() + 8);
        let done = self.one_pass(&n.text, |i, c| {
            text.push(c);
            align.extend(std::iter::repeat_n(n.align[i], c.len_utf8()));
        });
        if done {
            n.text = text;
            n.align = align;
            return;
        }
        if self.clean_text
            && n.text
                .chars()
                .any(|c| dropped(c) || (is_space(c) && c != ' '))
        {
            filter_map(n, |c| !dropped(c), |c| if is_space(c) { ' ' } else { c });
        }
        if self.handle_chinese_chars && n.text.chars().any(is_chinese_char) {
            let mut dest = Vec::with_capacity(n.text.len() + 8);
            for c in n.text.chars() {
                if is_chinese_char(c) {
                    dest.extend([(' ', 0), (c, 1), (' ', 1)]);
                } else {
                    dest.push((c, 0));
                }
            }
            n.transform(dest);
        }
        if self.strip_accents {
            unicode::normalize(n, UnicodeForm::Nfd);
            if n.text.chars().any(hf::is_mark_nonspacing) {
                filter_map(n, |c| !hf::is_mark_nonspacing(c), |c| c);
            }
        }
        if self.lowercase {
            super::lowercase(n);
        }
    }

    /// `normalize`'s text, without alignments.
    pub fn normalize_str(&self, s: &mut String) {
        if ascii_in_place(s, self) {
            return;
        }
        let mut text = String::with_capacity(s.len() + 8);
        if self.one_pass(s, |_, c| text.push(c)) {
            *s = text;
            return;
        }
        if self.clean_text {
            *s = s
                .chars()
                .filter(|&c| !dropped(c))
                .map(|c| if is_space(c) { ' ' } else { c })
                .collect();
        }
        if self.handle_chinese_chars && s.chars().any(is_chinese_char) {
            let mut out = String::with_capacity(s.len() + 8);
            for c in s.chars() {
                if is_chinese_char(c) {
                    out.push(' ');
                    out.push(c);
                    out.push(' ');
                } else {
                    out.push(c);
                }
            }
            *s = out;
        }
        if self.strip_accents {
            if let Some(t) = unicode::normalized_text(s, UnicodeForm::Nfd) {
                *s = t;
            }
            s.retain(|c| !hf::is_mark_nonspacing(c));
        }
        if self.lowercase {
            super::lowercase_str(s);
        }
    }
}

/// The StripAccents normalizer: drops combining marks (it does not decompose first).
pub fn strip_accents(n: &mut NormalizedString) {
    if n.text.chars().any(is_combining_mark) {
        filter_map(n, |c| !is_combining_mark(c), |c| c);
    }
}

pub fn strip_accents_str(s: &mut String) {
    s.retain(|c| !is_combining_mark(c));
}

#[cfg(test)]
mod tests {
    use super::*;

    const BERT: Bert = Bert {
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: true,
        lowercase: true,
    };

    fn run(opts: &Bert, s: &str) -> NormalizedString {
        let mut n = NormalizedString::from_original(s, 0);
        opts.normalize(&mut n);
        n
    }

    #[test]
    fn bert_cleans_spaces_cjk_accents_and_case() {
        // (input, normalized text), each checked against `tokenizers` 0.23.
        let cases = [
            ("Hello\tWorld\n", "hello world "),
            ("a\u{0}b\u{fffd}c\u{7}", "abc"),
            ("Caf\u{e9} na\u{ef}ve", "cafe naive"),
            ("\u{4e2d}\u{6587}x", " \u{4e2d}  \u{6587} x"),
            ("\u{3000}A\u{200b}B", " ab"),
        ];
        for (input, want) in cases {
            assert_eq!(run(&BERT, input).text, want, "{input:?}");
            let mut s = input.to_string();
            BERT.normalize_str(&mut s);
            assert_eq!(s, want, "plain {input:?}");
        }
    }

    #[test]
    fn bert_kept_chars_keep_their_own_offsets() {
        // As `tokenizers` gives them: dropped chars belong to no output char.
        let n = run(&BERT, "\u{7}ab\u{7}\u{7}c");
        assert_eq!(n.text, "abc");
        assert_eq!(n.original_range(0..1), (1, 2));
        assert_eq!(n.original_range(1..2), (2, 3));
        assert_eq!(n.original_range(2..3), (5, 6));
    }

    #[test]
    fn bert_cjk_spaces_align_to_the_char() {
        let n = run(&BERT, "a\u{4e2d}");
        assert_eq!(n.text, "a \u{4e2d} ");
        assert_eq!(n.original_range(1..2), (1, 4));
        assert_eq!(n.original_range(2..5), (1, 4));
    }

    #[test]
    fn strip_accents_drops_marks_without_decomposing() {
        let mut n = NormalizedString::from_original("e\u{301}\u{e9}", 0);
        strip_accents(&mut n);
        assert_eq!(n.text, "e\u{e9}");
        assert_eq!(n.original_range(0..1), (0, 1));
        assert_eq!(n.original_range(1..3), (3, 5));
    }
}
