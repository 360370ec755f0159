//! Pre-tokenizers: cut normalized text into pieces that the model encodes independently.

pub mod byte_level;
pub mod scan;
pub mod space_tail;
mod split;

pub use split::Behavior;

use crate::normalized::NormalizedString;
use crate::normalizer::Pattern;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrependScheme {
    Always,
    First,
    Never,
}

#[derive(Debug, Clone)]
pub enum PreTokenizer {
    Sequence(Vec<PreTokenizer>),
    ByteLevel {
        add_prefix_space: bool,
        use_regex: bool,
    },
    Split {
        pattern: Pattern,
        behavior: Behavior,
        invert: bool,
    },
    Metaspace {
        replacement: char,
        prepend_scheme: PrependScheme,
        split: bool,
    },
    Digits {
        individual: bool,
    },
    Punctuation(Behavior),
    Whitespace,
    WhitespaceSplit,
}

fn whitespace_re() -> &'static Pattern {
    static RE: OnceLock<Pattern> = OnceLock::new();
    RE.get_or_init(|| Pattern::regex(r"\w+|[^\w\s]+").expect("static regex"))
}

fn is_punctuation(c: char) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    if c.is_ascii_punctuation() {
        return true;
    }
    if c.is_ascii() {
        return false;
    }
    let re = RE.get_or_init(|| regex::Regex::new(r"^\p{P}$").expect("static regex"));
    let mut buf = [0u8; 4];
    re.is_match(c.encode_utf8(&mut buf))
}

impl PreTokenizer {
    /// Apply to every piece, keeping order; empty pieces are dropped.
    pub fn pre_tokenize(&self, pieces: Vec<NormalizedString>) -> Vec<NormalizedString> {
        match self {
            PreTokenizer::Sequence(list) => list.iter().fold(pieces, |p, t| t.pre_tokenize(p)),
            _ => {
                let mut out = Vec::with_capacity(pieces.len());
                for p in pieces {
                    self.one(p, &mut out);
                }
                out.retain(|p| !p.is_empty());
                out
            }
        }
    }

    fn one(&self, mut n: NormalizedString, out: &mut Vec<NormalizedString>) {
        match self {
            PreTokenizer::Sequence(_) => unreachable!("handled in pre_tokenize"),
            PreTokenizer::ByteLevel {
                add_prefix_space,
                use_regex,
            } => {
                if *add_prefix_space && !n.text.starts_with(' ') {
                    n.prepend(" ");
                }
                let pieces = if *use_regex {
                    let m = byte_level::gpt2_pattern().split(&n.text);
                    split::apply(&n, m, Behavior::Isolated)
                } else {
                    vec![n]
                };
                for mut p in pieces {
                    byte_level::to_byte_chars(&mut p);
                    out.push(p);
                }
            }
            PreTokenizer::Split {
                pattern,
                behavior,
                invert,
            } => {
                let mut m = pattern.split(&n.text);
                if *invert {
                    m.iter_mut().for_each(|x| x.2 = !x.2);
                }
                out.extend(split::apply(&n, m, *behavior));
            }
            PreTokenizer::Metaspace {
                replacement,
                prepend_scheme,
                split: do_split,
            } => {
                let mut rep = [0u8; 4];
                let rep: &str = replacement.encode_utf8(&mut rep);
                let spaces: Vec<(usize, usize)> =
                    n.text.match_indices(' ').map(|(i, _)| (i, i + 1)).collect();
                n.replace_ranges(&spaces, rep);
                let prepend = match prepend_scheme {
                    PrependScheme::Always => !n.text.starts_with(*replacement),
                    PrependScheme::First => !n.text.starts_with(*replacement) && n.orig_start == 0,
                    PrependScheme::Never => false,
                };
                if prepend {
                    n.prepend(rep);
                }
                if *do_split {
                    let m = split::char_matches(&n.text, |c| c == *replacement);
                    out.extend(split::apply(&n, m, Behavior::MergedWithNext));
                } else {
                    out.push(n);
                }
            }
            PreTokenizer::Digits { individual } => {
                let m = split::char_matches(&n.text, char::is_numeric);
                let b = if *individual {
                    Behavior::Isolated
                } else {
                    Behavior::Contiguous
                };
                out.extend(split::apply(&n, m, b));
            }
            PreTokenizer::Punctuation(b) => {
                let m = split::char_matches(&n.text, is_punctuation);
                out.extend(split::apply(&n, m, *b));
            }
            PreTokenizer::Whitespace => {
                let mut m = whitespace_re().split(&n.text);
                m.iter_mut().for_each(|x| x.2 = !x.2);
                out.extend(split::apply(&n, m, Behavior::Removed));
            }
            PreTokenizer::WhitespaceSplit => {
                let m = split::char_matches(&n.text, char::is_whitespace);
                out.extend(split::apply(&n, m, Behavior::Removed));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(p: &PreTokenizer, s: &str) -> Vec<String> {
        p.pre_tokenize(vec![NormalizedString::from_original(s, 0)])
            .into_iter()
            .map(|n| n.text)
            .collect()
    }

    #[test]
    fn byte_level_gpt2_split() {
        let p = PreTokenizer::ByteLevel {
            add_prefix_space: false,
            use_regex: true,
        };
        assert_eq!(texts(&p, "Hello world!"), ["Hello", "\u{120}world", "!"]);
        assert_eq!(texts(&p, "a  b"), ["a", "\u{120}", "\u{120}b"]);
    }

    #[test]
    fn metaspace_first_only_at_input_start() {
        let p = PreTokenizer::Metaspace {
            replacement: '\u{2581}',
            prepend_scheme: PrependScheme::First,
            split: false,
        };
        assert_eq!(texts(&p, "a b"), ["\u{2581}a\u{2581}b"]);
        let later = p.pre_tokenize(vec![NormalizedString::from_original("a", 3)]);
        assert_eq!(later[0].text, "a");
    }

    #[test]
    fn digits_contiguous_and_individual() {
        let c = PreTokenizer::Digits { individual: false };
        assert_eq!(texts(&c, "ab123c"), ["ab", "123", "c"]);
        let i = PreTokenizer::Digits { individual: true };
        assert_eq!(texts(&i, "12"), ["1", "2"]);
    }
}
