//! NFC, NFD, NFKC and NFKD with alignments.
//!
//! Text that is already in the target form (almost all text) is left alone. Otherwise the text
//! is cut into segments that normalize independently (a starter and the marks after it, joined
//! with the next segment when they compose across the cut), and each segment's output chars are
//! aligned to its input chars position by position.

use super::UnicodeForm;
use crate::normalized::NormalizedString;
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfc_quick, is_nfd_quick, is_nfkc_quick, is_nfkd_quick};
use unicode_normalization::{IsNormalized, UnicodeNormalization};

fn run(form: UnicodeForm, s: &str) -> String {
    match form {
        UnicodeForm::Nfc => s.nfc().collect(),
        UnicodeForm::Nfd => s.nfd().collect(),
        UnicodeForm::Nfkc => s.nfkc().collect(),
        UnicodeForm::Nfkd => s.nfkd().collect(),
    }
}

fn already(form: UnicodeForm, s: &str) -> bool {
    let q = match form {
        UnicodeForm::Nfc => is_nfc_quick(s.chars()),
        UnicodeForm::Nfd => is_nfd_quick(s.chars()),
        UnicodeForm::Nfkc => is_nfkc_quick(s.chars()),
        UnicodeForm::Nfkd => is_nfkd_quick(s.chars()),
    };
    match q {
        IsNormalized::Yes => true,
        IsNormalized::No => false,
        IsNormalized::Maybe => run(form, s) == s,
    }
}

pub fn normalize(n: &mut NormalizedString, form: UnicodeForm) {
    if already(form, &n.text) {
        return;
    }
    // Segment boundaries: before each starter, unless composing across it changes the result.
    let chars: Vec<char> = n.text.chars().collect();
    let mut segments: Vec<(usize, usize)> = Vec::new(); // char index ranges
    let mut start = 0;
    for i in 1..=chars.len() {
        let boundary = i == chars.len() || canonical_combining_class(chars[i]) == 0;
        if boundary {
            segments.push((start, i));
            start = i;
        }
    }
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(segments.len());
    for seg in segments {
        if let Some(last) = merged.last_mut() {
            let a: String = chars[last.0..last.1].iter().collect();
            let b: String = chars[seg.0..seg.1].iter().collect();
            let joined = run(form, &(a.clone() + &b));
            if joined != run(form, &a) + &run(form, &b) {
                last.1 = seg.1;
                continue;
            }
        }
        merged.push(seg);
    }
    let mut dest: Vec<(char, isize)> = Vec::with_capacity(chars.len());
    for (s, e) in merged {
        let input: String = chars[s..e].iter().collect();
        let output: Vec<char> = run(form, &input).chars().collect();
        let k = e - s;
        let m = output.len();
        for (j, c) in output.into_iter().enumerate() {
            let change = if m >= k {
                isize::from(j >= k)
            } else if j == 0 {
                -((k - m) as isize)
            } else {
                0
            };
            dest.push((c, change));
        }
    }
    n.transform(dest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_with_alignment_to_base() {
        let mut n = NormalizedString::from_original("e\u{301}x", 0);
        normalize(&mut n, UnicodeForm::Nfc);
        assert_eq!(n.text, "\u{e9}x");
        assert_eq!(n.original_range(2..3), (3, 4));
    }

    #[test]
    fn normalized_text_untouched() {
        let mut n = NormalizedString::from_original("plain", 0);
        normalize(&mut n, UnicodeForm::Nfkc);
        assert_eq!(n.text, "plain");
    }
}
