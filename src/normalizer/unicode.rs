//! NFC, NFD, NFKC and NFKD with alignments.
//!
//! Text already in the target form (almost all text) is left alone. Otherwise each char is
//! decomposed, marks are put in canonical order and, for the composed forms, recomposed, with
//! every output char carrying its change so that offsets match Hugging Face `tokenizers`.

use std::sync::OnceLock;

use crate::unicode_class::{class_ranges, in_ranges};

use super::UnicodeForm;
use crate::normalized::NormalizedString;
use unicode_normalization::char::{
    canonical_combining_class, compose as compose_pair, decompose_canonical, decompose_compatible,
};
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
        UnicodeForm::Nfc => return is_nfc_by_segments(s),
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

const QC_YES: u8 = 0;
const QC_NO: u8 = 1;
const QC_MAYBE: u8 = 2;

/// A char's canonical combining class and NFC quick-check value, as the crate's data gives
/// them: from a table for the Basic Multilingual Plane (built once, 128 KiB), since the
/// crate's per-char lookups were a fifth of a multilingual Qwen2.5 encode.
#[inline]
fn nfc_props(c: char) -> (u8, u8) {
    static T: OnceLock<Vec<u16>> = OnceLock::new();
    fn of(c: char) -> (u8, u8) {
        let qc = match is_nfc_quick(std::iter::once(c)) {
            IsNormalized::Yes => QC_YES,
            IsNormalized::No => QC_NO,
            IsNormalized::Maybe => QC_MAYBE,
        };
        (canonical_combining_class(c), qc)
    }
    let t = T.get_or_init(|| {
        (0..0x10000u32)
            .map(|cp| char::from_u32(cp).map_or((0, QC_YES), of))
            .map(|(cc, qc)| cc as u16 | (qc as u16) << 8)
            .collect()
    });
    match t.get(c as usize) {
        Some(&v) => (v as u8, (v >> 8) as u8),
        None => of(c),
    }
}

/// How a segment stands with NFC by the quick check.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Segment {
    Yes,
    Maybe,
    No,
}

/// Split `text` into segments, each starting at a char that is quick-check "yes" with
/// combining class 0: nothing before such a char can compose with or reorder around it, so
/// each segment normalizes on its own. Calls `f(start, end, how it stands)` for each segment
/// the quick check does not pass, left to right, while `f` returns true.
fn nfc_segments(text: &str, mut f: impl FnMut(usize, usize, Segment) -> bool) {
    let (mut last_cc, mut start, mut state) = (0u8, 0, Segment::Yes);
    for (i, c) in text.char_indices() {
        if c < '\u{300}' {
            // Quick-check "yes", class 0 (the common case, kept apart from the rest).
            if state != Segment::Yes && !f(start, i, state) {
                return;
            }
            (start, state, last_cc) = (i, Segment::Yes, 0);
            continue;
        }
        let (cc, qc) = nfc_props(c);
        if qc == QC_YES && cc == 0 {
            if state != Segment::Yes && !f(start, i, state) {
                return;
            }
            (start, state) = (i, Segment::Yes);
        } else if (last_cc > cc && cc != 0) || qc == QC_NO {
            state = Segment::No;
        } else if qc == QC_MAYBE && state == Segment::Yes {
            state = Segment::Maybe;
        }
        last_cc = cc;
    }
    if state != Segment::Yes {
        f(start, text.len(), state);
    }
}

/// Whether `s` is in NFC: the crate's quick check, with a "maybe" settled by normalizing only
/// the segment it lies in rather than the whole text.
fn is_nfc_by_segments(s: &str) -> bool {
    let mut nfc = true;
    nfc_segments(s, |a, b, state| {
        let seg = &s[a..b];
        nfc = state == Segment::Maybe && seg.nfc().eq(seg.chars());
        nfc
    });
    nfc
}

/// Hugging Face `tokenizers` normalizes with Unicode 9.0 data: a char assigned later has no
/// decomposition, no composition and combining class 0 there, so it is treated that way here.
fn known(c: char) -> bool {
    static R: OnceLock<Vec<(u32, u32)>> = OnceLock::new();
    if (c as u32) < 0x370 {
        return true;
    }
    in_ranges(R.get_or_init(|| class_ranges(r"\p{Age=9.0}")), c)
}

/// A combining mark (category M) by the same Unicode 9.0 data, as the StripAccents
/// normalizer of `tokenizers` reads it. Three chars assigned by then have changed category
/// since: two Vedic signs were marks and are letters now, and a Sharada sign was punctuation
/// and is a mark now (the every-code-point parity test pins them).
pub fn is_combining_mark(c: char) -> bool {
    match c {
        '\u{1cf2}' | '\u{1cf3}' => true,
        '\u{111c9}' => false,
        c => !c.is_ascii() && known(c) && unicode_normalization::char::is_combining_mark(c),
    }
}

/// The canonical decomposition of `c` by Unicode 9.0 data (a later char is its own).
pub fn decompose_nfd(c: char, f: impl FnMut(char)) {
    let mut f = f;
    if known(c) {
        decompose_canonical(c, f);
    } else {
        f(c);
    }
}

pub fn ccc(c: char) -> u8 {
    if known(c) {
        canonical_combining_class(c)
    } else {
        0
    }
}

/// Whether `s` is already NFC (so the NFC normalizer leaves it unchanged).
pub fn is_nfc(s: &str) -> bool {
    // ASCII is NFC, and no two ASCII chars compose, so only the text from the last ASCII char
    // before the first non-ASCII one on needs the check (that char may compose with what
    // follows it).
    match s.bytes().position(|b| b >= 0x80) {
        None => true,
        Some(p) => already(UnicodeForm::Nfc, &s[p.saturating_sub(1)..]),
    }
}

/// The text `normalize` makes of `text`, or None when it leaves it as it is.
pub fn normalized_text(text: &str, form: UnicodeForm) -> Option<String> {
    if already(form, text) {
        return None;
    }
    let mut out: Vec<(char, isize)> = Vec::with_capacity(text.len());
    changes(text, form, &mut out);
    Some(out.into_iter().map(|(c, _)| c).collect())
}

/// The normalized chars of `text` (not already in `form`), each with its change.
fn changes(text: &str, form: UnicodeForm, out: &mut Vec<(char, isize)>) {
    if form == UnicodeForm::Nfc {
        normalize_nfc_by_segment(text, out);
    } else {
        normalize_chars(text, form, out);
    }
}

/// Decompose, reorder and (for NFC/NFKC) recompose, carrying each char's change with it: a
/// decomposition's first char replaces its source (0), the others are inserted (+1), and a char
/// absorbed by composition takes its change into the starter, minus one.
pub fn normalize(n: &mut NormalizedString, form: UnicodeForm) {
    if already(form, &n.text) {
        return;
    }
    let mut out: Vec<(char, isize)> = Vec::with_capacity(n.text.len());
    changes(&n.text, form, &mut out);
    n.transform(out);
}

/// NFC of `text` (not already NFC), segment by segment (see `nfc_segments`): a segment the
/// quick check passes is kept as it is, and only the others are decomposed and recomposed.
/// This is the whole text's normalization, without the per-char work on the (nearly always)
/// clean rest of a text that has a few chars to change.
fn normalize_nfc_by_segment(text: &str, out: &mut Vec<(char, isize)>) {
    let mut kept = 0;
    nfc_segments(text, |a, b, _| {
        out.extend(text[kept..a].chars().map(|c| (c, 0)));
        normalize_chars(&text[a..b], UnicodeForm::Nfc, out);
        kept = b;
        true
    });
    out.extend(text[kept..].chars().map(|c| (c, 0)));
}

/// The normalization of `text` by Unicode 9.0 rules (see `known`), with each output char's
/// change, appended to `out`.
fn normalize_chars(text: &str, form: UnicodeForm, out: &mut Vec<(char, isize)>) {
    let compat = matches!(form, UnicodeForm::Nfkc | UnicodeForm::Nfkd);
    let compose = matches!(form, UnicodeForm::Nfc | UnicodeForm::Nfkc);
    let base = out.len();
    for c in text.chars() {
        let mut first = true;
        let mut push = |d: char| {
            out.push((d, isize::from(!first)));
            first = false;
        };
        if !known(c) {
            push(c);
        } else if compat {
            decompose_compatible(c, &mut push);
        } else {
            decompose_canonical(c, &mut push);
        }
    }
    // Canonical ordering: stable sort of each run of non-starters by combining class.
    let mut i = base;
    while i < out.len() {
        if ccc(out[i].0) == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < out.len() && ccc(out[i].0) != 0 {
            i += 1;
        }
        out[start..i].sort_by_key(|(c, _)| ccc(*c));
    }
    if compose {
        let decomposed: Vec<(char, isize)> = out.drain(base..).collect();
        let res = out;
        let mut starter: Option<usize> = None;
        // Highest combining class seen since the starter (0 = none), for the blocking rule.
        let mut last_ccc: Option<u8> = None;
        for (c, change) in decomposed {
            let ccc = ccc(c);
            if let Some(si) = starter {
                let blocked = match last_ccc {
                    None => false,
                    Some(l) => l == 0 || l >= ccc,
                };
                if !blocked && known(c) && known(res[si].0) {
                    if let Some(composed) = compose_pair(res[si].0, c) {
                        res[si].0 = composed;
                        res[si].1 += change - 1;
                        continue;
                    }
                }
            }
            if ccc == 0 {
                starter = Some(res.len());
                last_ccc = None;
            } else {
                last_ccc = Some(ccc);
            }
            res.push((c, change));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_check_sees_an_ascii_char_compose_with_what_follows() {
        for (s, nfc) in [
            ("plain ascii", true),
            ("abc\u{e9}", true),
            ("abce\u{301}", false),
            ("e\u{301}", false),
            ("\u{301}", true),
            ("abc \u{301}", true),
            ("ab\u{1100}\u{1161}", false),
        ] {
            assert_eq!(is_nfc(s), nfc, "{s:?}");
            let expected: String = s.nfc().collect();
            assert_eq!(nfc, expected == s, "{s:?}");
        }
    }

    /// Chars that compose, reorder or may compose (Latin marks, Hangul jamo, Indic vowel
    /// signs, kana marks), ones that NFC replaces, and ones newer than Unicode 9.0.
    const TRICKY: &str = "ae\u{300}\u{301}\u{316}\u{327}\u{344}\u{e9}\u{1100}\u{1161}\u{11a8}\u{ac00}\u{9c7}\u{9be}\u{9d7}\u{958}\u{93c}\u{915}\u{b95}\u{bbe}\u{bc6}\u{1f71}\u{3b1}\u{304b}\u{3099}\u{212b}\u{1abf}\u{f73}\u{1d15e}\u{110a5}\u{110ba} x";

    /// Short texts over `TRICKY`.
    fn tricky_texts(n: usize) -> Vec<String> {
        crate::test_texts::random_texts(&crate::test_texts::chars_of(TRICKY), n, 10)
    }

    #[test]
    fn nfc_check_by_segments_equals_normalizing_everything() {
        for text in tricky_texts(200_000) {
            let whole = text.nfc().eq(text.chars());
            assert_eq!(is_nfc_by_segments(&text), whole, "{text:?}");
        }
        for cp in (0..0x30000u32).step_by(7) {
            if let Some(c) = char::from_u32(cp) {
                let text: String = ['e', c, '\u{301}', c].iter().collect();
                let whole = text.nfc().eq(text.chars());
                assert_eq!(is_nfc_by_segments(&text), whole, "{text:?}");
            }
        }
    }

    /// Normalizing segment by segment against normalizing every char, changes included.
    #[test]
    fn nfc_by_segment_equals_normalizing_every_char() {
        for text in tricky_texts(200_000) {
            let (mut whole, mut by_segment) = (Vec::new(), Vec::new());
            normalize_chars(&text, UnicodeForm::Nfc, &mut whole);
            normalize_nfc_by_segment(&text, &mut by_segment);
            assert_eq!(by_segment, whole, "{text:?}");
        }
    }

    #[test]
    fn composes_with_alignment_to_base() {
        let mut n = NormalizedString::from_original("e\u{301}x", 0);
        normalize(&mut n, UnicodeForm::Nfc);
        assert_eq!(n.text, "\u{e9}x");
        assert_eq!(n.original_range(2..3), (3, 4));
    }

    #[test]
    fn chars_newer_than_unicode_9_stay_put() {
        // U+1ABF (Unicode 14) is a mark below today, an unassigned starter in Unicode 9.
        let mut n = NormalizedString::from_original("A\u{1abf}\u{300}", 0);
        normalize(&mut n, UnicodeForm::Nfc);
        assert_eq!(n.text, "A\u{1abf}\u{300}");
        assert!(known('\u{300}') && !known('\u{d3b}'));
    }

    #[test]
    fn normalized_text_untouched() {
        let mut n = NormalizedString::from_original("plain", 0);
        normalize(&mut n, UnicodeForm::Nfkc);
        assert_eq!(n.text, "plain");
    }
}
