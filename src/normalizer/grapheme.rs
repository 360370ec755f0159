//! Grapheme clusters of one char, found without the segmenter.
//!
//! Between two chars whose Grapheme_Cluster_Break property is Other there is always a
//! cluster boundary (UAX #29): every rule that joins two chars needs one of them to be
//! something else (Extend, ZWJ, SpacingMark, Prepend, a regional indicator, a Hangul jamo or
//! syllable, a control), and the rules that look further back, emoji ZWJ sequences and Indic
//! conjuncts, need a ZWJ or a linker (both Extend-like) right before the second char. Most
//! chars of most scripts are Other, so most clusters outside ASCII are one char, and telling
//! so from two table lookups is several times cheaper than starting the segmenter there.

use std::sync::atomic::{AtomicU64, Ordering};

use unicode_segmentation::UnicodeSegmentation;

/// Chars of the Basic Multilingual Plane are remembered; the others are left to the segmenter.
const BMP: usize = 0x10000;

/// Two bits per BMP char: 0 not yet known, 1 Other, 2 anything else. Filled as chars are met,
/// so that loading a tokenizer builds nothing.
static KNOWN: [AtomicU64; BMP / 32] = [const { AtomicU64::new(0) }; BMP / 32];

/// The end of the cluster that starts at `i` (a cluster boundary of `s`) when that cluster is
/// the one char there; None when the segmenter must decide.
#[inline]
pub fn single_char_cluster(s: &str, i: usize) -> Option<usize> {
    let mut chars = s[i..].chars();
    let first = chars.next()?;
    let end = i + first.len_utf8();
    let next = chars.next();
    // A control char is a cluster of its own (CR apart, which joins an LF after it), and
    // there is a boundary before every control, CR and LF.
    if is_ascii_control(first) {
        return (first != '\r' || next != Some('\n')).then_some(end);
    }
    match next {
        None => Some(end),
        Some(next) => {
            (is_other(first) && (is_other(next) || is_ascii_control(next))).then_some(end)
        }
    }
}

fn is_ascii_control(c: char) -> bool {
    c < ' ' || c == '\u{7f}'
}

/// Whether `c`'s Grapheme_Cluster_Break property is Other (false for chars beyond the BMP,
/// which are not looked at).
fn is_other(c: char) -> bool {
    let i = c as usize;
    if i < 0x80 {
        // Printable ASCII is Other; the controls (tab, newline, DEL, ...) are not.
        return (0x20..0x7f).contains(&i);
    }
    if i >= BMP {
        return false;
    }
    let word = &KNOWN[i / 32];
    let shift = (i % 32) * 2;
    match (word.load(Ordering::Relaxed) >> shift) & 3 {
        1 => true,
        2 => false,
        _ => {
            let other = probe(c);
            word.fetch_or(if other { 1 } else { 2 } << shift, Ordering::Relaxed);
            other
        }
    }
}

/// Whether `c` behaves as Other in the segmenter beside a char of each other kind: it joins
/// an Extend char after it (a control does not) and nothing else joins it on either side (an
/// Extend, ZWJ or SpacingMark char joins what comes before it, a Prepend char what follows,
/// a regional indicator its twin, Hangul jamo and syllables their own kinds).
fn probe(c: char) -> bool {
    let mut buf = [0u8; 4];
    let c = &*c.encode_utf8(&mut buf);
    let apart = |a: &str, b: &str| [a, b].concat().graphemes(true).count() == 2;
    const L: &str = "\u{1100}";
    const V: &str = "\u{1161}";
    const T: &str = "\u{11A8}";
    !apart(c, "\u{300}")
        && apart("a", c)
        && apart(c, "a")
        && apart(c, c)
        && [L, V, T].iter().all(|j| apart(c, j) && apart(j, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every BMP char that `is_other` takes, beside a sample of chars of every kind on both
    /// sides, and beside each other char `is_other` takes at a stride: the segmenter puts a
    /// boundary between two of them every time.
    #[test]
    fn two_other_chars_are_always_apart() {
        let kinds = [
            'a',
            ' ',
            '\u{e9}',
            '\u{4e2d}',
            '\u{300}',
            '\u{200d}',
            '\u{903}',
            '\u{600}',
            '\u{1100}',
            '\u{1161}',
            '\u{11a8}',
            '\u{ac00}',
            '\u{ac01}',
            '\u{1f1e6}',
            '\u{1f600}',
            '\u{94d}',
            '\u{915}',
            '\n',
            '\r',
            '\u{7f}',
            '\u{e33}',
            '\u{ff9e}',
        ];
        let others: Vec<char> = (0..BMP as u32)
            .filter_map(char::from_u32)
            .filter(|&c| is_other(c))
            .collect();
        assert!(others.len() > 50_000, "{} chars", others.len());
        let apart = |s: String| s.graphemes(true).count() == 2;
        for (k, &a) in others.iter().enumerate() {
            let b = others[(k * 7919 + 13) % others.len()];
            assert!(apart(format!("{a}{b}")), "{a:?} {b:?}");
            for &x in &kinds {
                // A char of any kind and an Other one: the cluster starting at the Other char
                // ends there only if the char after it is Other too, which `is_other` says.
                let s = format!("{a}{x}");
                let first = s.graphemes(true).next().unwrap();
                if is_other(x) {
                    assert_eq!(first.len(), a.len_utf8(), "{a:?} {x:?}");
                }
                let lone = is_other(x) || is_ascii_control(x);
                assert_eq!(single_char_cluster(&s, 0).is_some(), lone, "{a:?} {x:?}");
                if lone {
                    assert_eq!(first.len(), a.len_utf8(), "{a:?} {x:?}");
                }
            }
        }
        for c in [
            '\u{300}', '\u{200d}', '\u{903}', '\u{600}', '\u{1100}', '\u{ac00}', '\n',
        ] {
            assert!(!is_other(c), "{c:?}");
        }
        assert!(
            !is_other('\u{1f600}'),
            "beyond the BMP: left to the segmenter"
        );
    }

    /// An ASCII control char, then a char of any kind: the cluster is the control char alone
    /// exactly when the segmenter says so.
    #[test]
    fn a_control_char_is_a_cluster_of_its_own() {
        let after = [
            'a', '\n', '\r', '\u{300}', '\u{200d}', '\u{903}', '\u{1161}', '\u{e9}',
        ];
        for c in (0u8..0x20).chain([0x7f]).map(char::from) {
            for x in after {
                let s = format!("{c}{x}");
                let first = s.graphemes(true).next().unwrap();
                assert_eq!(
                    single_char_cluster(&s, 0),
                    (first.len() == 1).then_some(1),
                    "{s:?}"
                );
            }
        }
    }

    #[test]
    fn the_cluster_of_a_lone_char_is_found_without_the_segmenter() {
        assert_eq!(single_char_cluster("中文", 0), Some(3));
        assert_eq!(single_char_cluster("中文", 3), Some(6));
        assert_eq!(single_char_cluster("e\u{301}", 0), None);
        assert_eq!(single_char_cluster("\u{e9}", 0), Some(2));
        assert_eq!(single_char_cluster("", 0), None);
        assert_eq!(single_char_cluster("\n\u{301}", 0), Some(1));
        assert_eq!(single_char_cluster("\r\n", 0), None);
        assert_eq!(single_char_cluster("\ra", 0), Some(1));
        assert_eq!(single_char_cluster("\u{e9}\n", 0), Some(2));
        assert_eq!(single_char_cluster("a\u{301}", 0), None);
    }
}
