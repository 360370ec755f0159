//! Normalizers: rewrite a piece of text before pre-tokenization, keeping alignments.

mod bert;
mod grapheme;
mod precompiled;
mod replace;
mod unicode;

pub use bert::Bert;
pub use precompiled::Precompiled;

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
    Bert(Bert),
    StripAccents,
    Precompiled(Box<Precompiled>),
}

impl Normalizer {
    pub fn normalize(&self, n: &mut NormalizedString) {
        match self {
            Normalizer::Sequence(list) => list.iter().for_each(|x| x.normalize(n)),
            Normalizer::Unicode(form) => unicode::normalize(n, *form),
            Normalizer::Lowercase => lowercase(n),
            Normalizer::Replace { pattern, content } => {
                let ranges = pattern.replace_ranges(&n.text);
                n.replace_ranges(&ranges, content);
            }
            Normalizer::Prepend(s) => {
                if !n.is_empty() {
                    n.prepend(s)
                }
            }
            Normalizer::Strip { left, right } => strip(n, *left, *right),
            Normalizer::Bert(b) => b.normalize(n),
            Normalizer::StripAccents => bert::strip_accents(n),
            Normalizer::Precompiled(p) => p.normalize(n),
        }
    }

    /// The text `normalize` makes of `s`, without the alignments: for added tokens' own
    /// content, and for ids, which depend on the normalized text only.
    pub fn normalize_str(&self, s: &str) -> String {
        let mut out = s.to_string();
        self.normalize_plain(&mut out);
        out
    }

    fn normalize_plain(&self, s: &mut String) {
        match self {
            Normalizer::Sequence(list) => list.iter().for_each(|x| x.normalize_plain(s)),
            Normalizer::Unicode(form) => {
                if let Some(t) = unicode::normalized_text(s, *form) {
                    *s = t;
                }
            }
            Normalizer::Lowercase => lowercase_str(s),
            Normalizer::Replace { pattern, content } => *s = pattern.replace_all(s, content),
            Normalizer::Prepend(p) => {
                if !s.is_empty() {
                    s.insert_str(0, p);
                }
            }
            Normalizer::Strip { left, right } => {
                let mut t = s.as_str();
                if *left {
                    t = t.trim_start_matches(char::is_whitespace);
                }
                if *right {
                    t = t.trim_end_matches(char::is_whitespace);
                }
                *s = t.to_string();
            }
            Normalizer::Bert(b) => b.normalize_str(s),
            Normalizer::StripAccents => bert::strip_accents_str(s),
            Normalizer::Precompiled(p) => p.normalize_str(s),
        }
    }
}

/// Whether lowercasing may change `s` (it has an uppercase or a non-ASCII char).
fn may_change_case(s: &str) -> bool {
    s.chars().any(|c| c.is_uppercase() || !c.is_ascii())
}

fn lowercase_str(s: &mut String) {
    if s.is_ascii() {
        s.make_ascii_lowercase();
    } else {
        *s = s.chars().flat_map(char::to_lowercase).collect();
    }
}

fn lowercase(n: &mut NormalizedString) {
    if !may_change_case(&n.text) {
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

    /// `normalize_str` (plain text) gives the text of `normalize` (with alignments) for every
    /// normalizer, on texts of mixed case, whitespace runs, composing and compatibility chars.
    #[test]
    fn plain_normalization_gives_the_aligned_text() {
        let re = |src: &str| Pattern::regex(src).unwrap();
        let replace = |pattern: Pattern, content: &str| Normalizer::Replace {
            pattern,
            content: content.into(),
        };
        let mut list = vec![
            Normalizer::Lowercase,
            Normalizer::Prepend("\u{2581}".into()),
            replace(Pattern::Literal(" ".into()), "\u{2581}"),
            replace(re(r"\s+"), " "),
        ];
        for form in [
            UnicodeForm::Nfc,
            UnicodeForm::Nfd,
            UnicodeForm::Nfkc,
            UnicodeForm::Nfkd,
        ] {
            list.push(Normalizer::Unicode(form));
        }
        for (left, right) in [(true, false), (false, true), (true, true)] {
            list.push(Normalizer::Strip { left, right });
        }
        for bits in 0..16u8 {
            list.push(Normalizer::Bert(Bert {
                clean_text: bits & 1 != 0,
                handle_chinese_chars: bits & 2 != 0,
                strip_accents: bits & 4 != 0,
                lowercase: bits & 8 != 0,
            }));
        }
        list.push(Normalizer::StripAccents);
        list.push(Normalizer::Sequence(list.clone()));
        let alphabet = crate::test_texts::chars_of("aZ \t\n\u{3000}e\u{301}\u{e9}\u{3a3}\u{130}\u{df}\u{fb01}\u{2460}\u{1e9b}\u{323}\u{ac00}\u{11a8}x\u{0}\u{7}\u{85}\u{200b}\u{fffd}\u{4e2d}\u{102b}");
        for text in crate::test_texts::random_texts(&alphabet, 5_000, 12) {
            for norm in &list {
                let mut n = NormalizedString::from_original(&text, 0);
                norm.normalize(&mut n);
                assert_eq!(norm.normalize_str(&text), n.text, "{norm:?} on {text:?}");
            }
        }
    }

    #[test]
    fn prepend_skips_empty() {
        let mut n = NormalizedString::from_original("", 0);
        Normalizer::Prepend("x".into()).normalize(&mut n);
        assert_eq!(n.text, "");
    }
}
