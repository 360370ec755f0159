//! The pattern shared by the Replace normalizer, the Split pre-tokenizer and the Replace decoder:
//! a literal string or a regex.

use crate::error::{Error, ErrorKind, Result};

use crate::pre_tokenizer::class_run::ClassRun;
use crate::pre_tokenizer::scan;
use crate::pre_tokenizer::space_tail::SpaceTail;

#[derive(Debug, Clone)]
pub enum Pattern {
    Literal(String),
    /// A pattern that needs backtracking (lookaround, backreferences).
    Regex(Box<fancy_regex::Regex>),
    /// Any other regex, on the regex crate directly: fancy-regex hands such patterns to it
    /// whole, so the matches are the same, without its wrapper's cost on every search.
    Plain(Box<regex::Regex>),
    /// A known split regex, run by a hand-written scanner with the same matches.
    Scan(scan::Kind),
    /// A regex ending in `|\s+(?!\S)|\s+`, run without the lookahead (see `space_tail`).
    SpaceTail(Box<SpaceTail>),
    /// A run of one class, maybe led by a char of another (see `class_run`).
    Runs(Box<ClassRun>),
}

/// fancy-regex stops on input that needs more backtracking than its limit. Skipping the match
/// would lose text silently, so this fails loudly instead (the Python layer turns the panic into
/// a RuntimeError).
fn unwrap_match(
    m: std::result::Result<fancy_regex::Match<'_>, fancy_regex::Error>,
) -> fancy_regex::Match<'_> {
    match m {
        Ok(m) => m,
        Err(e) => panic!("the split regex gave up on this input: {e}"),
    }
}

impl Pattern {
    pub fn regex(src: &str) -> Result<Pattern> {
        if let Some(k) = scan::Kind::for_pattern(src) {
            return Ok(Pattern::Scan(k));
        }
        if let Some(t) = SpaceTail::new(src) {
            return Ok(Pattern::SpaceTail(Box::new(t)));
        }
        if let Some(r) = ClassRun::new(src) {
            return Ok(Pattern::Runs(Box::new(r)));
        }
        if let Ok(re) = regex::Regex::new(src) {
            return Ok(Pattern::Plain(Box::new(re)));
        }
        Self::regex_engine(src)
    }

    /// Always the general regex engine (for tests that check the scanners against it).
    pub fn regex_engine(src: &str) -> Result<Pattern> {
        fancy_regex::Regex::new(src)
            .map(|r| Pattern::Regex(Box::new(r)))
            .map_err(|e| Error::new(ErrorKind::Regex, format!("invalid regex {src:?}: {e}")))
    }

    /// Call `f(start, end)` for each non-empty match, left to right.
    pub fn for_each(&self, text: &str, mut f: impl FnMut(usize, usize)) {
        match self {
            Pattern::Scan(k) => k.for_each(text, f),
            Pattern::SpaceTail(t) => t.for_each(text, f),
            Pattern::Runs(r) => r.for_each(text, f),
            Pattern::Regex(re) => {
                for m in re.find_iter(text).map(unwrap_match) {
                    if m.start() < m.end() {
                        f(m.start(), m.end());
                    }
                }
            }
            Pattern::Plain(re) => {
                for m in re.find_iter(text) {
                    if m.start() < m.end() {
                        f(m.start(), m.end());
                    }
                }
            }
            Pattern::Literal(_) => self.find(text).into_iter().for_each(|(s, e)| f(s, e)),
        }
    }

    /// Non-empty match ranges, left to right, non-overlapping.
    pub fn find(&self, text: &str) -> Vec<(usize, usize)> {
        match self {
            Pattern::Scan(_) | Pattern::SpaceTail(_) | Pattern::Runs(_) | Pattern::Plain(_) => {
                let mut v = Vec::new();
                self.for_each(text, |s, e| v.push((s, e)));
                v
            }
            Pattern::Literal(s) => {
                if s.is_empty() {
                    return Vec::new();
                }
                text.match_indices(s.as_str())
                    .map(|(i, m)| (i, i + m.len()))
                    .collect()
            }
            Pattern::Regex(re) => re
                .find_iter(text)
                .map(unwrap_match)
                .map(|m| (m.start(), m.end()))
                .filter(|(s, e)| s < e)
                .collect(),
        }
    }

    /// Call `f(start, end)` for each piece of an `Isolated` split: the matches and the
    /// non-empty text between them, left to right. An empty match makes no piece but still
    /// cuts the text around it, as in Hugging Face's split.
    pub fn for_each_isolated(&self, text: &str, mut f: impl FnMut(usize, usize)) {
        match self {
            // Where the scanner's matches tile the text, they are all the pieces.
            Pattern::Scan(k) if k.tiles() => k.for_each(text, f),
            p => {
                let mut last = 0;
                p.for_each_cut(text, |a, b| {
                    if last < a {
                        f(last, a);
                    }
                    if a < b {
                        f(a, b);
                    }
                    last = b;
                });
                if last < text.len() {
                    f(last, text.len());
                }
            }
        }
    }

    /// Every match that cuts the text, left to right: the non-empty ones, and for the regex
    /// engines also the empty ones, except one right where the previous match ended (the
    /// iteration rule of the engines Hugging Face's split runs on).
    fn for_each_cut(&self, text: &str, mut f: impl FnMut(usize, usize)) {
        match self {
            Pattern::Regex(re) => {
                for m in re.find_iter(text).map(unwrap_match) {
                    f(m.start(), m.end());
                }
            }
            Pattern::Plain(re) => {
                for m in re.find_iter(text) {
                    f(m.start(), m.end());
                }
            }
            Pattern::SpaceTail(t) => t.for_each_cut(text, f),
            // The empty regex `tokenizers` compiles an empty literal to: a match at every char
            // boundary, the end included.
            Pattern::Literal(s) if s.is_empty() => {
                text.char_indices().for_each(|(i, _)| f(i, i));
                f(text.len(), text.len());
            }
            p => p.for_each(text, f),
        }
    }

    /// Split `text` into (start, end, is_match) covering all of it (HF's `find_matches`);
    /// an empty match is kept as an empty range, since it cuts the text.
    pub fn split(&self, text: &str) -> Vec<(usize, usize, bool)> {
        let mut out = Vec::new();
        let mut prev = 0;
        self.for_each_cut(text, |s, e| {
            if prev != s {
                out.push((prev, s, false));
            }
            out.push((s, e, true));
            prev = e;
        });
        if prev != text.len() {
            out.push((prev, text.len(), false));
        }
        out
    }

    /// The matches that a Replace acts on, left to right: `for_each_cut`'s, empty ones
    /// included (where the content is inserted). In an empty text there are none
    /// (`tokenizers` leaves it as it is).
    pub fn replace_ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        if !text.is_empty() {
            self.for_each_cut(text, |s, e| v.push((s, e)));
        }
        v
    }

    /// Replace every match by `content` in a plain string (an empty match inserts it).
    pub fn replace_all(&self, text: &str, content: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (s, e) in self.replace_ranges(text) {
            out.push_str(&text[last..s]);
            out.push_str(content);
            last = e;
        }
        out.push_str(&text[last..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_texts::{chars_of, random_texts};

    /// Patterns without lookaround or backreferences run as class runs or on the regex crate,
    /// with the matches fancy-regex gives (the split patterns of DeepSeek and Falcon among
    /// them); the rest run on fancy-regex.
    #[test]
    fn patterns_match_as_fancy_regex_does() {
        let kind = |p: &Pattern| match p {
            Pattern::Runs(_) => "runs",
            Pattern::Plain(_) => "plain",
            Pattern::Regex(_) => "fancy",
            _ => "other",
        };
        let sources = [
            (r"[\r\n]", "runs"),
            (r"\s?\p{L}+", "runs"),
            (r"\s?\p{P}+", "runs"),
            (r"[一-龥ࠀ-一가-퟿]+", "runs"),
            (r"\p{N}{1,3}", "runs"),
            (r"[0-9][0-9][0-9]", "plain"),
            (r"(?i:'s|'t)|\w+|[^\w\s]+", "plain"),
            (r"'s|\p{L}+(?=\s)", "fancy"),
        ];
        let alphabet = chars_of("aZé1٣½中한\u{800} \t\n\r\u{a0}'sT.,!?-_\u{301}");
        let texts = random_texts(&alphabet, 5_000, 16);
        for (src, expected) in sources {
            let pattern = Pattern::regex(src).unwrap();
            assert_eq!(kind(&pattern), expected, "{src}");
            let fancy = Pattern::regex_engine(src).unwrap();
            for text in &texts {
                assert_eq!(pattern.find(text), fancy.find(text), "{src} on {text:?}");
            }
        }
    }

    /// An empty match cuts the text (the regex engines skip one right where a match ended).
    #[test]
    fn empty_matches_cut() {
        let any = Pattern::regex(".*").unwrap();
        assert_eq!(
            any.split("ab\n\n x"),
            [
                (0, 2, true),
                (2, 3, false),
                (3, 3, true),
                (3, 4, false),
                (4, 6, true)
            ]
        );
        let mut pieces = Vec::new();
        Pattern::regex("a*")
            .unwrap()
            .for_each_isolated("bab", |s, e| pieces.push((s, e)));
        assert_eq!(pieces, [(0, 1), (1, 2), (2, 3)]);
    }
}
