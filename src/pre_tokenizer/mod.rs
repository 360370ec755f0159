//! Pre-tokenizers: cut normalized text into pieces that the model encodes independently.

pub mod bert;
pub mod byte_level;
pub mod class_run;
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
    /// BertPreTokenizer.
    Bert,
    CharDelimiterSplit(char),
}

fn whitespace_re() -> &'static Pattern {
    static RE: OnceLock<Pattern> = OnceLock::new();
    RE.get_or_init(|| Pattern::regex(r"\w+|[^\w\s]+").expect("static regex"))
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
                    // At the start of the input: where the text's first char came from, as
                    // `tokenizers` reads it (a piece it cut from the normalized text starts
                    // there), so text whose leading chars a normalizer stripped is not at
                    // the start.
                    PrependScheme::First => {
                        !n.text.starts_with(*replacement)
                            && n.align.first().map_or(n.orig_start, |a| a.0) == 0
                    }
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
            PreTokenizer::Bert => {
                let mut pieces = Vec::new();
                bert::cut(&n.text, 0, &mut pieces);
                out.extend(pieces.into_iter().map(|(s, e)| n.slice(s..e)));
            }
            PreTokenizer::Split { .. }
            | PreTokenizer::Digits { .. }
            | PreTokenizer::Punctuation(_)
            | PreTokenizer::Whitespace
            | PreTokenizer::WhitespaceSplit
            | PreTokenizer::CharDelimiterSplit(_) => {
                let (m, b) = self.cut_matches(&n.text);
                out.extend(split::apply(&n, m, b));
            }
        }
    }

    /// Whether this pre-tokenizer only cuts text into pieces, leaving the text itself as it is
    /// (so it can run on byte ranges of the text, with no alignment bookkeeping).
    pub fn only_cuts(&self) -> bool {
        match self {
            PreTokenizer::Sequence(list) => list.iter().all(PreTokenizer::only_cuts),
            PreTokenizer::Split { .. }
            | PreTokenizer::Digits { .. }
            | PreTokenizer::Punctuation(_)
            | PreTokenizer::Whitespace
            | PreTokenizer::WhitespaceSplit
            | PreTokenizer::Bert
            | PreTokenizer::CharDelimiterSplit(_) => true,
            PreTokenizer::ByteLevel { .. } | PreTokenizer::Metaspace { .. } => false,
        }
    }

    /// Cut each of `pieces` (byte ranges of `text`) further, in place, as `pre_tokenize` would
    /// cut the same pieces. For pre-tokenizers that `only_cuts`.
    pub fn cut(&self, text: &str, pieces: &mut Vec<(usize, usize)>) {
        if let PreTokenizer::Sequence(list) = self {
            return list.iter().for_each(|t| t.cut(text, pieces));
        }
        let whole = std::mem::take(pieces);
        for (s, e) in whole {
            let piece = &text[s..e];
            match self {
                // Isolated keeps every match and every gap: no matches to collect first.
                PreTokenizer::Split {
                    pattern,
                    behavior: Behavior::Isolated,
                    ..
                } => pattern.for_each_isolated(piece, |a, z| pieces.push((s + a, s + z))),
                PreTokenizer::Bert => bert::cut(piece, s, pieces),
                _ => {
                    let (m, b) = self.cut_matches(piece);
                    pieces.extend(split::pieces(m, b).map(|(a, z)| (s + a, s + z)));
                }
            }
        }
    }

    /// A cutting pre-tokenizer's matches in `text`, and how they become pieces.
    fn cut_matches(&self, text: &str) -> (Vec<(usize, usize, bool)>, Behavior) {
        match self {
            PreTokenizer::Split {
                pattern,
                behavior,
                invert,
            } => {
                let mut m = pattern.split(text);
                if *invert {
                    m.iter_mut().for_each(|x| x.2 = !x.2);
                }
                (m, *behavior)
            }
            PreTokenizer::Digits { individual } => {
                let m = split::char_matches(text, char::is_numeric);
                let b = if *individual {
                    Behavior::Isolated
                } else {
                    Behavior::Contiguous
                };
                (m, b)
            }
            PreTokenizer::Punctuation(b) => (
                split::char_matches(text, crate::unicode_class::hf::is_punctuation),
                *b,
            ),
            PreTokenizer::Whitespace => {
                let mut m = whitespace_re().split(text);
                m.iter_mut().for_each(|x| x.2 = !x.2);
                (m, Behavior::Removed)
            }
            PreTokenizer::WhitespaceSplit => (
                split::char_matches(text, char::is_whitespace),
                Behavior::Removed,
            ),
            PreTokenizer::CharDelimiterSplit(d) => {
                (split::char_matches(text, |c| c == *d), Behavior::Removed)
            }
            PreTokenizer::Sequence(_)
            | PreTokenizer::Bert
            | PreTokenizer::ByteLevel { .. }
            | PreTokenizer::Metaspace { .. } => {
                unreachable!("only pre-tokenizers that only cut have cut matches")
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

    /// Every pre-tokenizer that only cuts, alone and in a sequence, on texts mixing words,
    /// digits, punctuation, whitespace runs and non-ASCII.
    #[test]
    fn cut_gives_the_pieces_pre_tokenize_gives() {
        let split = |pattern: &str, behavior, invert| PreTokenizer::Split {
            pattern: Pattern::regex(pattern).unwrap(),
            behavior,
            invert,
        };
        let behaviors = [
            Behavior::Removed,
            Behavior::Isolated,
            Behavior::MergedWithPrevious,
            Behavior::MergedWithNext,
            Behavior::Contiguous,
        ];
        let mut cutters = vec![
            PreTokenizer::Digits { individual: false },
            PreTokenizer::Digits { individual: true },
            PreTokenizer::Whitespace,
            PreTokenizer::WhitespaceSplit,
            PreTokenizer::Bert,
            PreTokenizer::CharDelimiterSplit('a'),
            PreTokenizer::Split {
                pattern: Pattern::Literal(" ".into()),
                behavior: Behavior::MergedWithPrevious,
                invert: false,
            },
        ];
        for b in behaviors {
            cutters.push(PreTokenizer::Punctuation(b));
            cutters.push(split(r"\s?\p{L}+", b, false));
            cutters.push(split(r"[0-9]{3}", b, true));
        }
        cutters.push(PreTokenizer::Sequence(vec![
            PreTokenizer::Punctuation(Behavior::Contiguous),
            PreTokenizer::Digits { individual: false },
            split(r"[0-9]{3}", Behavior::Isolated, false),
        ]));
        let samples = [
            "",
            "Hello, world!! 12345 and 6\u{00b2}7",
            "  lead  and trail  ",
            "x=f(1,22,333);\n\tr\u{e9}sum\u{e9} \u{4e2d}\u{6587}\u{ff0c}\u{0661}\u{0662}",
            "...!?--",
        ];
        for p in &cutters {
            assert!(p.only_cuts());
            for text in samples {
                let mut pieces = vec![(0, text.len())];
                p.cut(text, &mut pieces);
                let cut: Vec<&str> = pieces.iter().map(|&(s, e)| &text[s..e]).collect();
                assert_eq!(cut, texts(p, text), "{p:?} on {text:?}");
            }
        }
        let byte_level = PreTokenizer::ByteLevel {
            add_prefix_space: false,
            use_regex: true,
        };
        assert!(!byte_level.only_cuts());
        assert!(!PreTokenizer::Sequence(vec![cutters[0].clone(), byte_level]).only_cuts());
    }

    #[test]
    fn digits_contiguous_and_individual() {
        let c = PreTokenizer::Digits { individual: false };
        assert_eq!(texts(&c, "ab123c"), ["ab", "123", "c"]);
        let i = PreTokenizer::Digits { individual: true };
        assert_eq!(texts(&i, "12"), ["1", "2"]);
    }
}
