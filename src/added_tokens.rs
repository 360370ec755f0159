//! Added and special tokens, found in the text before normalization (or, for tokens marked
//! `normalized`, in each normalized piece), the way Hugging Face `tokenizers` finds them:
//! leftmost-longest matches, then `single_word`, `lstrip` and `rstrip` rules.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Anchored, Input, MatchKind, StartKind};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::normalizer::Normalizer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedToken {
    pub id: u32,
    pub content: String,
    pub special: bool,
    pub lstrip: bool,
    pub rstrip: bool,
    pub single_word: bool,
    pub normalized: bool,
    /// Whether an earlier listing of the same content was `normalized`: `tokenizers` then
    /// reads the id back as the normalized content, whatever the last listing says.
    pub normalized_before: bool,
}

#[derive(Debug, Clone)]
struct Matcher {
    ac: AhoCorasick,
    /// Pattern index -> index into `tokens`.
    which: Vec<usize>,
    /// The bytes that tokens start with, when there are more of them than the automaton's
    /// own search skips to quickly (three): then a match is looked for, anchored, only where
    /// one of them is. Gemma 3's 6 415 added tokens start with five bytes, and skipping to
    /// those is faster than running the automaton over every byte of the text.
    starts: Option<Box<[bool; 256]>>,
    /// Whether a pattern is empty (a `normalized` token whose content the normalizer
    /// empties). Such a pattern matches at every byte, so the match at a byte is the longest
    /// token that starts there, or the empty one: a search anchored at each byte in turn.
    /// `tokenizers` finds these matches so; the automaton's unanchored leftmost-longest
    /// search does not, as it reports no empty match while it is inside a longer token that
    /// then fails (`abac` with `abab`: the empty match at 2 first, none at 1).
    has_empty: bool,
}

impl Matcher {
    /// The leftmost-longest match that starts at or after `from`. Skipping to start bytes,
    /// it is the first of them where some token matches, and the longest token there.
    fn find(&self, text: &str, from: usize) -> Option<aho_corasick::Match> {
        if self.has_empty {
            let input = Input::new(text).range(from..).anchored(Anchored::Yes);
            return self.ac.find(input);
        }
        let Some(starts) = &self.starts else {
            return self.ac.find(Input::new(text).range(from..));
        };
        let bytes = text.as_bytes();
        let mut i = from;
        while i < bytes.len() {
            i += bytes[i..].iter().position(|&b| starts[usize::from(b)])?;
            let input = Input::new(text).range(i..).anchored(Anchored::Yes);
            if let Some(m) = self.ac.find(input) {
                return Some(m);
            }
            i += 1;
        }
        None
    }
}

/// One piece of a split: a byte range and, when it is an added token, that token's id.
pub type Piece = (usize, usize, Option<u32>);

#[derive(Debug, Clone, Default)]
pub struct AddedVocab {
    pub tokens: Vec<AddedToken>,
    by_content: FxHashMap<String, u32>,
    by_id: FxHashMap<u32, usize>,
    /// A `normalized` token's content as the normalizer makes it: what `tokenizers` answers
    /// for its id (`id_to_token`, decoding), e.g. `▁<tok>` under Llama's normalizer.
    normalized_content: FxHashMap<u32, String>,
    /// The contents of the special tokens: decoding with `skip_special_tokens` leaves out a
    /// token whose text is one of these, as `tokenizers` does.
    special_contents: FxHashSet<String>,
    raw: Option<Matcher>,
    normalized: Option<Matcher>,
}

fn word_re() -> &'static (regex::Regex, regex::Regex) {
    static RE: OnceLock<(regex::Regex, regex::Regex)> = OnceLock::new();
    RE.get_or_init(|| {
        (
            regex::Regex::new(r"^\w").expect("static regex"),
            regex::Regex::new(r"\w$").expect("static regex"),
        )
    })
}

fn build(patterns: Vec<String>, which: Vec<usize>) -> Result<Option<Matcher>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut starts = Box::new([false; 256]);
    for p in &patterns {
        match p.as_bytes().first() {
            Some(&b) => starts[usize::from(b)] = true,
            // An empty pattern matches everywhere: no byte to skip to.
            None => starts.fill(true),
        }
    }
    let has_empty = patterns.iter().any(String::is_empty);
    let starts =
        (starts.iter().filter(|&&s| s).count() > 3 && !starts.iter().all(|&s| s)).then_some(starts);
    let ac = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .start_kind(if starts.is_some() || has_empty {
            StartKind::Anchored
        } else {
            StartKind::Unanchored
        })
        .build(&patterns)
        .map_err(|e| Error::config(format!("added_tokens: {e}")))?;
    Ok(Some(Matcher {
        ac,
        which,
        starts,
        has_empty,
    }))
}

impl AddedVocab {
    pub fn new(tokens: Vec<AddedToken>, normalizer: Option<&Normalizer>) -> Result<AddedVocab> {
        let mut by_content = FxHashMap::default();
        let mut by_id = FxHashMap::default();
        let mut normalized_content = FxHashMap::default();
        let mut special_contents = FxHashSet::default();
        let mut patterns = Vec::with_capacity(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            by_content.insert(t.content.clone(), t.id);
            by_id.insert(t.id, i);
            if t.special {
                special_contents.insert(t.content.clone());
            }
            if t.content.is_empty() {
                continue;
            }
            let reads_normalized = t.normalized || t.normalized_before;
            let p = match normalizer {
                Some(n) if reads_normalized => n.normalize_str(&t.content),
                _ => t.content.clone(),
            };
            if reads_normalized && p != t.content {
                normalized_content.insert(t.id, p.clone());
            }
            // Matched as the last listing says: normalized, or as written.
            patterns.push((i, if t.normalized { p } else { t.content.clone() }));
        }
        let (mut rp, mut rw, mut np, mut nw) = (vec![], vec![], vec![], vec![]);
        for (i, p) in patterns {
            let id = tokens[i].id;
            // Two tokens can get one id (one numbered after the vocabulary, then one that the
            // vocabulary has under that id): as in `tokenizers`, the later one takes the id,
            // and only it is looked for in text; a `normalized` one as the text recorded for
            // the id, which an earlier token's normalized content can still be.
            if by_id[&id] != i {
                continue;
            }
            if tokens[i].normalized {
                // Content the normalizer empties (whitespace under Strip) is kept as an empty
                // pattern, as `tokenizers` keeps it: it matches between any two bytes.
                np.push(normalized_content.get(&id).cloned().unwrap_or(p));
                nw.push(i);
            } else {
                rp.push(p);
                rw.push(i);
            }
        }
        Ok(AddedVocab {
            raw: build(rp, rw)?,
            normalized: build(np, nw)?,
            tokens,
            by_content,
            by_id,
            normalized_content,
            special_contents,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn token_to_id(&self, content: &str) -> Option<u32> {
        self.by_content.get(content).copied()
    }

    pub fn get(&self, id: u32) -> Option<&AddedToken> {
        self.by_id.get(&id).map(|&i| &self.tokens[i])
    }

    /// The text of added token `id` as `tokenizers` gives it back: a `normalized` token's
    /// content after the normalizer, else its content.
    pub fn text_of(&self, id: u32) -> Option<&str> {
        let token = self.get(id)?;
        Some(self.normalized_content.get(&id).unwrap_or(&token.content))
    }

    /// Whether `text` is the content of a special token.
    pub fn is_special_text(&self, text: &str) -> bool {
        self.special_contents.contains(text)
    }

    pub fn has_normalized(&self) -> bool {
        self.normalized.is_some()
    }

    /// Split text on the tokens that match before normalization.
    pub fn split_raw(&self, text: &str) -> Result<Vec<Piece>> {
        self.split(self.raw.as_ref(), text)
    }

    /// Split normalized text on the tokens that match after normalization.
    pub fn split_normalized(&self, text: &str) -> Result<Vec<Piece>> {
        self.split(self.normalized.as_ref(), text)
    }

    /// Fails (`CannotEncode`) where a token cannot be cut out, as `tokenizers` fails there.
    fn split(&self, m: Option<&Matcher>, text: &str) -> Result<Vec<Piece>> {
        let Some(m) = m else {
            return Ok(vec![(0, text.len(), None)]);
        };
        let (starts_word, ends_word) = word_re();
        let mut out = Vec::new();
        let mut last = 0usize;
        let mut from = 0;
        let mut last_end = None;
        while let Some(mut mat) = m.find(text, from) {
            if mat.is_empty() {
                // An empty pattern (see `new`) matches at every byte, but not again where the
                // last match ended.
                if last_end == Some(mat.end()) {
                    match (from < text.len())
                        .then(|| m.find(text, from + 1))
                        .flatten()
                    {
                        Some(next) => mat = next,
                        None => break,
                    }
                }
                if !text.is_char_boundary(mat.start()) {
                    return Err(Error::cannot_encode(
                        "an added token whose content the normalizer makes empty matches \
                         inside a character, where `tokenizers` fails too; make the token's \
                         content survive the normalizer, or set its normalized to false",
                    ));
                }
            }
            from = mat.end();
            last_end = Some(mat.end());
            let t = &self.tokens[m.which[mat.pattern().as_usize()]];
            let (mut start, mut stop) = (mat.start(), mat.end());
            if t.single_word {
                let start_ok = start == 0 || !ends_word.is_match(&text[..start]);
                let stop_ok = stop == text.len() || !starts_word.is_match(&text[stop..]);
                if !start_ok || !stop_ok {
                    continue;
                }
            }
            if t.lstrip {
                let before = &text[..start];
                let trimmed = before.trim_end_matches(char::is_whitespace).len();
                start = trimmed.max(last);
            }
            if t.rstrip {
                let after = &text[stop..];
                stop += after.len() - after.trim_start_matches(char::is_whitespace).len();
            }
            if start > stop {
                // lstrip ran back into the whitespace an rstrip before it took.
                return Err(Error::cannot_encode(format!(
                    "added token {:?} (lstrip) starts inside the whitespace that the token \
                     before it took (rstrip), where `tokenizers` fails too",
                    t.content
                )));
            }
            if last < start {
                out.push((last, start, None));
            }
            // An empty match is no token, as in `tokenizers`.
            if start < stop {
                out.push((start, stop, Some(t.id)));
            }
            last = stop;
        }
        if last != text.len() {
            out.push((last, text.len(), None));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(id: u32, content: &str) -> AddedToken {
        AddedToken {
            id,
            content: content.into(),
            special: true,
            lstrip: false,
            rstrip: false,
            single_word: false,
            normalized: false,
            normalized_before: false,
        }
    }

    #[test]
    fn leftmost_longest() {
        let v = AddedVocab::new(vec![tok(1, "<s>"), tok(2, "<s><s>")], None).unwrap();
        assert_eq!(
            v.split_raw("a<s><s>b").unwrap(),
            [(0, 1, None), (1, 7, Some(2)), (7, 8, None)]
        );
    }

    #[test]
    fn lstrip_and_rstrip_take_whitespace() {
        let mut t = tok(5, "<m>");
        t.lstrip = true;
        t.rstrip = true;
        let v = AddedVocab::new(vec![t], None).unwrap();
        assert_eq!(
            v.split_raw("a  <m> b").unwrap(),
            [(0, 1, None), (1, 7, Some(5)), (7, 8, None)]
        );
    }

    /// Both searches (the automaton's own, and skipping to tokens' first bytes to search
    /// anchored there) find exactly the matches of one unanchored leftmost-longest search, on
    /// texts dense with overlapping tokens, shared prefixes and multi-byte chars.
    #[test]
    fn added_token_search_finds_the_unanchored_matches() {
        let all = [
            "<s>",
            "<s><s>",
            "<unused1>",
            "<unused12>",
            "<u",
            "\n\n",
            "\n\n\n",
            "\u{2581}\u{2581}",
            "ab",
            "bab",
            "\u{e9}t\u{e9}",
        ];
        let alphabet = [
            "<", "s", ">", "<s>", "unused", "1", "2", "\n", "\u{2581}", "a", "b", "\u{e9}", "t",
            " ",
        ]
        .map(String::from);
        // Six start bytes, then one.
        for (contents, skips) in [(&all[..], true), (&all[..5], false)] {
            let tokens: Vec<AddedToken> =
                (0u32..).zip(contents).map(|(id, c)| tok(id, c)).collect();
            let v = AddedVocab::new(tokens, None).unwrap();
            assert_eq!(v.raw.as_ref().unwrap().starts.is_some(), skips);
            let plain = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(contents)
                .unwrap();
            for text in crate::test_texts::random_texts(&alphabet, 20_000, 24) {
                let expected: Vec<(usize, usize)> = plain
                    .find_iter(&text)
                    .map(|m| (m.start(), m.end()))
                    .collect();
                let got: Vec<(usize, usize)> = v
                    .split_raw(&text)
                    .unwrap()
                    .into_iter()
                    .filter(|p| p.2.is_some())
                    .map(|p| (p.0, p.1))
                    .collect();
                assert_eq!(got, expected, "{text:?}");
            }
        }
    }

    fn cannot_encode_message(split: Result<Vec<Piece>>) -> String {
        let e = split.unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::CannotEncode);
        e.message
    }

    /// An lstrip token that starts inside the whitespace the token before it took (rstrip)
    /// cannot be cut out: `tokenizers` fails there, and so does batok (`CannotEncode`). One
    /// that ends where that whitespace ends is empty, and no token.
    #[test]
    fn lstrip_into_the_whitespace_an_rstrip_took() {
        let mut first = tok(10, "<s>");
        first.rstrip = true;
        let mut second = tok(11, "\n");
        second.lstrip = true;
        let v = AddedVocab::new(vec![first, second], None).unwrap();
        assert_eq!(
            v.split_raw("<s> \na").unwrap(),
            [(0, 5, Some(10)), (5, 6, None)]
        );
        let what = cannot_encode_message(v.split_raw("<s> \n a"));
        assert!(what.starts_with("cannot encode this text: "), "{what}");
    }

    /// A `normalized` token whose content the normalizer empties is an empty pattern, as in
    /// `tokenizers`: it matches at every byte, which cuts the text into chars (the empty
    /// matches are no tokens), lets lstrip/rstrip take whitespace as that token, and cannot
    /// cut inside a multi-byte char.
    #[test]
    fn a_token_the_normalizer_empties_matches_between_bytes() {
        let strip = Normalizer::Strip {
            left: false,
            right: true,
        };
        let mut t = tok(7, " ");
        t.normalized = true;
        let v = AddedVocab::new(vec![t.clone()], Some(&strip)).unwrap();
        assert_eq!(
            v.split_normalized("ab").unwrap(),
            [(0, 1, None), (1, 2, None)]
        );
        assert_eq!(v.split_normalized("").unwrap(), []);
        let what = cannot_encode_message(v.split_normalized("a\u{e9}"));
        assert!(what.starts_with("cannot encode this text: "), "{what}");
        t.lstrip = true;
        t.rstrip = true;
        let v = AddedVocab::new(vec![t], Some(&strip)).unwrap();
        assert_eq!(
            v.split_normalized("a b").unwrap(),
            [(0, 1, None), (1, 2, Some(7)), (2, 3, None)]
        );
    }

    /// With an empty pattern, the match at each byte is the longest token starting there, or
    /// the empty one, even where a longer token starts earlier and then fails (`abab` in
    /// `abac`): every byte of `abac` is cut, as `tokenizers` 0.23 cuts it.
    #[test]
    fn an_empty_pattern_cuts_inside_a_token_that_fails() {
        let strip = Normalizer::Strip {
            left: false,
            right: true,
        };
        let mut empty = tok(7, " ");
        empty.normalized = true;
        let mut long = tok(8, "abab");
        long.normalized = true;
        let v = AddedVocab::new(vec![empty, long], Some(&strip)).unwrap();
        let cases: [(&str, &[Piece]); 3] = [
            (
                "abac",
                &[(0, 1, None), (1, 2, None), (2, 3, None), (3, 4, None)],
            ),
            ("ababc", &[(0, 4, Some(8)), (4, 5, None)]),
            ("xabab", &[(0, 1, None), (1, 5, Some(8))]),
        ];
        for (text, want) in cases {
            assert_eq!(v.split_normalized(text).unwrap(), want, "{text}");
        }
    }

    /// Two tokens with one id: the later one is looked for, as `tokenizers` does; a normalized
    /// one as the normalized text recorded for the id, an earlier token's if its own content
    /// is already normal.
    #[test]
    fn the_later_of_two_tokens_with_one_id_is_looked_for() {
        let v = AddedVocab::new(vec![tok(5, "<X>"), tok(5, "zz")], None).unwrap();
        assert_eq!(
            v.split_raw("<X>zz").unwrap(),
            [(0, 3, None), (3, 5, Some(5))]
        );
        let (mut first, mut second) = (tok(5, "<X>"), tok(5, "zz"));
        first.normalized = true;
        second.normalized = true;
        let v = AddedVocab::new(vec![first, second], Some(&Normalizer::Lowercase)).unwrap();
        assert_eq!(
            v.split_normalized("<x>zz").unwrap(),
            [(0, 3, Some(5)), (3, 5, None)]
        );
        assert_eq!(v.text_of(5), Some("<x>"));
    }

    #[test]
    fn single_word_needs_boundaries() {
        let mut t = tok(5, "ab");
        t.single_word = true;
        let v = AddedVocab::new(vec![t], None).unwrap();
        assert_eq!(v.split_raw("xab").unwrap(), [(0, 3, None)]);
        assert_eq!(
            v.split_raw("x ab").unwrap(),
            [(0, 2, None), (2, 4, Some(5))]
        );
    }
}
