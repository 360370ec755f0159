//! The WordPiece model (BERT): each word is cut greedily into the longest vocabulary tokens
//! from its start, every token after the first looked up with `continuing_subword_prefix` in
//! front; a word with a part no token covers, or longer than `max_input_chars_per_word`
//! chars, is one unknown token.
//!
//! Each token is one walk down a byte trie, which ends at the longest token the rest of the
//! word starts with (a lookup per candidate length, longest first, hashed and compared the same
//! bytes again and again). Lookups never build the prefixed string: tokens that start with the
//! prefix are also kept in a second trie under the rest of their text.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::bpe::PieceToken;
use super::prefix_trie::{with_popcnt, PrefixTrie};

#[derive(Debug, Clone)]
pub struct WordPiece {
    pub vocab: FxHashMap<String, u32>,
    vocab_r: FxHashMap<u32, String>,
    /// The vocabulary's tokens, for the first token of a word.
    first: Arc<PrefixTrie>,
    /// Tokens that start with the prefix, under the text after it.
    continuing: Arc<PrefixTrie>,
    pub unk_token: String,
    unk_id: u32,
    pub continuing_subword_prefix: String,
    pub max_input_chars_per_word: usize,
}

impl WordPiece {
    /// Errors when the unknown token is not in the vocabulary: `tokenizers` loads such a file
    /// but fails on the first word it cannot cut, so batok refuses it up front.
    pub fn new(
        vocab: FxHashMap<String, u32>,
        unk_token: String,
        continuing_subword_prefix: String,
        max_input_chars_per_word: usize,
    ) -> Result<WordPiece, String> {
        let unk_id = *vocab.get(&unk_token).ok_or_else(|| {
            format!(
                "unk_token {unk_token:?} is not in the vocabulary (tokenizers fails on any word \
                 it cannot cut)"
            )
        })?;
        let vocab_r = vocab.iter().map(|(k, &v)| (v, k.clone())).collect();
        let first = vocab
            .iter()
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, &v)| (k.as_bytes(), v))
            .collect();
        let continuing = vocab
            .iter()
            .filter_map(|(k, &v)| {
                let rest = k.strip_prefix(continuing_subword_prefix.as_str())?;
                (!rest.is_empty()).then_some((rest.as_bytes(), v))
            })
            .collect();
        let first = Arc::new(PrefixTrie::new(first));
        let continuing = Arc::new(PrefixTrie::new(continuing));
        Ok(WordPiece {
            vocab,
            vocab_r,
            first,
            continuing,
            unk_token,
            unk_id,
            continuing_subword_prefix,
            max_input_chars_per_word,
        })
    }

    pub fn token_to_id(&self, t: &str) -> Option<u32> {
        self.vocab.get(t).copied()
    }

    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.vocab_r.get(&id).map(String::as_str)
    }

    with_popcnt! {
        /// Cut one word, appending its tokens (byte ranges in `word`) to `out`.
        pub fn tokenize / tokenize_popcnt(&self, word: &str, out: &mut Vec<PieceToken>)
            = tokenize_body
    }

    #[inline(always)]
    fn tokenize_body(&self, word: &str, out: &mut Vec<PieceToken>) {
        if word.is_empty() {
            return;
        }
        let unknown = PieceToken {
            id: self.unk_id,
            start: 0,
            end: word.len(),
        };
        // A word of at most that many bytes has at most that many chars.
        if word.len() > self.max_input_chars_per_word
            && word.chars().count() > self.max_input_chars_per_word
        {
            out.push(unknown);
            return;
        }
        let first = out.len();
        let mut start = 0;
        while start < word.len() {
            let trie = if start == 0 {
                &self.first
            } else {
                &self.continuing
            };
            // A token is whole UTF-8, so a prefix of the word that is one ends at a char
            // boundary: the longest is the greedy search's answer.
            match trie.longest(&word.as_bytes()[start..]) {
                Some((id, len)) => {
                    out.push(PieceToken {
                        id,
                        start,
                        end: start + len,
                    });
                    start += len;
                }
                None => {
                    out.truncate(first);
                    out.push(unknown);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(prefix: &str, max_chars: usize) -> WordPiece {
        let vocab = [
            "[UNK]",
            "un",
            "##aff",
            "##able",
            "a",
            "##a",
            "\u{e9}t\u{e9}",
            "##\u{e9}",
            "##",
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| (t.replace("##", prefix), i as u32))
        .collect();
        WordPiece::new(vocab, "[UNK]".into(), prefix.into(), max_chars).unwrap()
    }

    fn cut(m: &WordPiece, word: &str) -> Vec<(u32, usize, usize)> {
        let mut out = Vec::new();
        m.tokenize(word, &mut out);
        out.iter().map(|t| (t.id, t.start, t.end)).collect()
    }

    #[test]
    fn the_popcnt_copy_cuts_as_the_plain_one() {
        let m = model("##", 100);
        let alphabet = crate::test_texts::chars_of("unaffble\u{e9}t#x");
        for word in crate::test_texts::random_texts(&alphabet, 3000, 12) {
            let (mut plain, mut dispatched) = (Vec::new(), Vec::new());
            m.tokenize_body(&word, &mut plain);
            m.tokenize(&word, &mut dispatched);
            let key =
                |v: &[PieceToken]| v.iter().map(|t| (t.id, t.start, t.end)).collect::<Vec<_>>();
            assert_eq!(key(&plain), key(&dispatched), "{word:?}");
        }
    }

    #[test]
    fn wordpiece_takes_the_longest_token_first() {
        // Each checked against `tokenizers` 0.23 with the same vocabulary.
        let m = model("##", 100);
        assert_eq!(cut(&m, "unaffable"), [(1, 0, 2), (2, 2, 5), (3, 5, 9)]);
        assert_eq!(cut(&m, "aaa"), [(4, 0, 1), (5, 1, 2), (5, 2, 3)]);
        assert_eq!(cut(&m, "\u{e9}t\u{e9}\u{e9}"), [(6, 0, 5), (7, 5, 7)]);
        // A part no token covers makes the whole word unknown.
        assert_eq!(cut(&m, "unx"), [(0, 0, 3)]);
        // "##" written in the text is a word start, looked up as it is.
        assert_eq!(cut(&m, "##"), [(8, 0, 2)]);
    }

    #[test]
    fn wordpiece_long_words_are_unknown() {
        let m = model("##", 3);
        assert_eq!(cut(&m, "aaa"), [(4, 0, 1), (5, 1, 2), (5, 2, 3)]);
        assert_eq!(cut(&m, "aaaa"), [(0, 0, 4)]);
        // Chars, not bytes, are counted.
        assert_eq!(cut(&m, "\u{e9}t\u{e9}"), [(6, 0, 5)]);
    }

    #[test]
    fn wordpiece_empty_prefix_continues_with_plain_tokens() {
        let vocab = [("[UNK]", 0), ("a", 1), ("aff", 2)]
            .into_iter()
            .map(|(t, i)| (t.to_string(), i))
            .collect();
        let m = WordPiece::new(vocab, "[UNK]".into(), String::new(), 100).unwrap();
        assert_eq!(cut(&m, "aaff"), [(1, 0, 1), (2, 1, 4)]);
    }

    #[test]
    fn wordpiece_without_its_unknown_token_is_refused() {
        let vocab = [("a".to_string(), 0)].into_iter().collect();
        let e = WordPiece::new(vocab, "[UNK]".into(), "##".into(), 100).unwrap_err();
        assert!(e.contains("unk_token"), "{e}");
    }
}
