//! Normalizers: rewrite a piece of text before pre-tokenization, keeping alignments.

mod replace;
mod unicode;

pub use replace::Pattern;
pub use unicode::is_nfc;

use crate::normalized::NormalizedString;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnicodeForm {
    Nfc,
    Nfd,
    Nfkc,
    Nfkd,
}

#[derive(Debug, Clone)]
pub enum Normalizer {
    Sequence(Vec<Normalizer>),
    Unicode(UnicodeForm),
    Lowercase,
    Replace { pattern: Pattern, content: String },
    Prepend(String),
    Strip { left: bool, right: bool },
}

impl Normalizer {
    pub fn normalize(&self, n: &mut NormalizedString) {
        match self {
            Normalizer::Sequence(list) => list.iter().for_each(|x| x.normalize(n)),
            Normalizer::Unicode(form) => unicode::normalize(n, *form),
            Normalizer::Lowercase => lowercase(n),
            Normalizer::Replace { pattern, content } => {
                let ranges = pattern.find(&n.text);
                n.replace_ranges(&ranges, content);
            }
            Normalizer::Prepend(s) => {
                if !n.is_empty() && !s.is_empty() {
                    n.prepend(s)
                }
            }
            Normalizer::Strip { left, right } => strip(n, *left, *right),
        }
    }

    /// Normalize a plain string (used for added tokens' own content).
    pub fn normalize_str(&self, s: &str) -> String {
        let mut n = NormalizedString::from_original(s, 0);
        self.normalize(&mut n);
        n.text
    }
}

fn lowercase(n: &mut NormalizedString) {
    if !n.text.chars().any(|c| c.is_uppercase() || !c.is_ascii()) {
        return;
    }
    let mut dest = Vec::with_capacity(n.text.len());
    for c in n.text.chars() {
        for (i, l) in c.to_lowercase().enumerate() {
            dest.push((l, isize::from(i > 0)));
        }
    }
    n.transform(dest);
}

fn strip(n: &mut NormalizedString, left: bool, right: bool) {
    let lead = if left {
        n.text.chars().take_while(|c| c.is_whitespace()).count()
    } else {
        0
    };
    let trail = if right {
        n.text
            .chars()
            .rev()
            .take_while(|c| c.is_whitespace())
            .count()
    } else {
        0
    };
    if lead == 0 && trail == 0 {
        return;
    }
    let count = n.text.chars().count();
    let keep = count.saturating_sub(lead + trail);
    let dest: Vec<(char, isize)> = n
        .text
        .chars()
        .skip(lead)
        .take(keep)
        .map(|c| (c, 0))
        .collect();
    n.transform_skipping(dest, lead);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_keeps_offsets() {
        let mut n = NormalizedString::from_original("AB", 0);
        Normalizer::Lowercase.normalize(&mut n);
        assert_eq!(n.text, "ab");
        assert_eq!(n.original_range(1..2), (1, 2));
    }

    #[test]
    fn strip_both_sides() {
        let mut n = NormalizedString::from_original("  ab ", 0);
        Normalizer::Strip {
            left: true,
            right: true,
        }
        .normalize(&mut n);
        assert_eq!(n.text, "ab");
        assert_eq!(n.original_range(0..2), (2, 4));
    }

    #[test]
    fn prepend_skips_empty() {
        let mut n = NormalizedString::from_original("", 0);
        Normalizer::Prepend("x".into()).normalize(&mut n);
        assert_eq!(n.text, "");
    }
}
