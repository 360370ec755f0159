//! How a split's matches become pieces (HF's `SplitDelimiterBehavior`).

use crate::normalized::NormalizedString;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// Every char for which `pred` holds is a one-char match; the rest fills the gaps.
pub fn char_matches(text: &str, pred: impl Fn(char) -> bool) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut last = 0;
    for (i, c) in text.char_indices() {
        if pred(c) {
            if last < i {
                out.push((last, i, false));
            }
            let e = i + c.len_utf8();
            out.push((i, e, true));
            last = e;
        }
    }
    if last < text.len() {
        out.push((last, text.len(), false));
    }
    out
}

/// Turn (start, end, is_match) ranges into pieces according to `behavior`.
pub fn apply(
    n: &NormalizedString,
    matches: Vec<(usize, usize, bool)>,
    behavior: Behavior,
) -> Vec<NormalizedString> {
    pieces(matches, behavior)
        .map(|(s, e)| n.slice(s..e))
        .collect()
}

/// The byte ranges of the pieces that (start, end, is_match) ranges make under `behavior`,
/// in order, none empty.
pub fn pieces(
    matches: Vec<(usize, usize, bool)>,
    behavior: Behavior,
) -> impl Iterator<Item = (usize, usize)> {
    // (start, end, remove)
    let ranges: Vec<(usize, usize, bool)> = match behavior {
        Behavior::Isolated => matches.into_iter().map(|(s, e, _)| (s, e, false)).collect(),
        Behavior::Removed => matches,
        Behavior::Contiguous => {
            let mut acc: Vec<(usize, usize, bool)> = Vec::new();
            let mut prev = false;
            for (s, e, m) in matches {
                match acc.last_mut() {
                    Some(last) if m == prev => last.1 = e,
                    _ => acc.push((s, e, false)),
                }
                prev = m;
            }
            acc
        }
        Behavior::MergedWithPrevious => {
            let mut acc: Vec<(usize, usize, bool)> = Vec::new();
            let mut prev = false;
            for (s, e, m) in matches {
                match acc.last_mut() {
                    Some(last) if m && !prev => last.1 = e,
                    _ => acc.push((s, e, false)),
                }
                prev = m;
            }
            acc
        }
        Behavior::MergedWithNext => {
            let mut acc: Vec<(usize, usize, bool)> = Vec::new();
            let mut prev = false;
            for (s, e, m) in matches.into_iter().rev() {
                match acc.last_mut() {
                    Some(last) if m && !prev => last.0 = s,
                    _ => acc.push((s, e, false)),
                }
                prev = m;
            }
            acc.reverse();
            acc
        }
    };
    ranges
        .into_iter()
        .filter(|&(s, e, remove)| !remove && s < e)
        .map(|(s, e, _)| (s, e))
}
