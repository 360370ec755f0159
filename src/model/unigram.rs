//! The Unigram model (SentencePiece's, as T5, ALBERT and XLNet files hold it): every piece of
//! the vocabulary has a score (a log probability), and a word is cut into the pieces whose
//! scores sum highest, found by Viterbi over the word's chars.
//!
//! The results are those of `tokenizers` 0.23, quirks included:
//! - a char that no one-char piece covers is also reachable as the unknown token, scored at
//!   the lowest piece score minus `UNK_PENALTY`;
//! - of two paths with the same score the first found is kept, so at each end the path whose
//!   last piece starts earliest wins;
//! - runs of unknown tokens (and of the unknown token's own piece) are fused into one token,
//!   whose text is the run's text; that text is looked up in the vocabulary again, and with
//!   `byte_fallback` it becomes one `<0xXX>` token per byte when all of them exist, each with
//!   the run's offsets;
//! - without an unknown token, a char that nothing covers is an error (`tokenizers` fails the
//!   whole encode).

use std::cell::RefCell;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::bpe::PieceToken;
use super::prefix_trie::{with_popcnt, PrefixTrie};
use crate::error::{Error, ErrorKind};

/// What `tokenizers` subtracts from the lowest piece score to score an unknown char.
const UNK_PENALTY: f64 = 10.0;

/// The message of the error `tokenizers` gives for a char nothing covers, without an unknown
/// token to stand for it.
const MISSING_UNK: &str = "Encountered an unknown token but `unk_id` is missing";

const NONE: u32 = u32::MAX;

/// The best path that ends at one byte position of the word.
#[derive(Debug, Clone, Copy)]
struct Best {
    score: f64,
    /// Where the path's last token starts, or NONE while no path ends here.
    start: u32,
    id: u32,
}

thread_local! {
    static LATTICE: RefCell<Vec<Best>> = const { RefCell::new(Vec::new()) };
}

#[derive(Debug, Clone)]
pub struct Unigram {
    /// Piece to id; a piece listed twice keeps its last id, as in `tokenizers`.
    pub vocab: FxHashMap<String, u32>,
    /// The pieces and their scores, by id.
    pieces: Vec<(String, f64)>,
    /// Every distinct non-empty piece, valued by its id in `vocab`.
    trie: Arc<PrefixTrie<f64>>,
    pub unk_id: Option<u32>,
    pub byte_fallback: bool,
    unk_score: f64,
    /// The id of `<0xXX>` for each byte, where the vocabulary has it.
    byte_ids: [Option<u32>; 256],
}

impl Unigram {
    /// Errors as `tokenizers` does: an unknown token needs a vocabulary that holds its id.
    pub fn new(
        pieces: Vec<(String, f64)>,
        unk_id: Option<usize>,
        byte_fallback: bool,
    ) -> Result<Unigram, String> {
        if let Some(unk) = unk_id {
            if pieces.is_empty() {
                return Err("the vocabulary is empty but unk_id needs at least one piece".into());
            }
            if unk >= pieces.len() {
                return Err(format!(
                    "unk_id {unk} is not below the vocabulary size {}",
                    pieces.len()
                ));
            }
        }
        if pieces.len() > NONE as usize {
            return Err("the vocabulary has more pieces than 32-bit ids".into());
        }
        let mut vocab = FxHashMap::with_capacity_and_hasher(pieces.len(), Default::default());
        let mut min_score = f64::INFINITY;
        for (id, (piece, score)) in pieces.iter().enumerate() {
            vocab.insert(piece.clone(), id as u32);
            if *score < min_score {
                min_score = *score;
            }
        }
        // The empty piece is never matched (it would make a path that does not advance).
        let entries = vocab
            .iter()
            .filter(|(p, _)| !p.is_empty())
            .map(|(p, &id)| (p.as_bytes(), id))
            .collect();
        let trie = Arc::new(PrefixTrie::new_with(
            entries,
            |id| pieces[id as usize].1,
            f64::NEG_INFINITY,
        ));
        let mut byte_ids = [None; 256];
        for (b, slot) in byte_ids.iter_mut().enumerate() {
            *slot = vocab.get(&format!("<0x{b:02X}>")).copied();
        }
        Ok(Unigram {
            vocab,
            pieces,
            trie,
            unk_id: unk_id.map(|u| u as u32),
            byte_fallback,
            unk_score: min_score - UNK_PENALTY,
            byte_ids,
        })
    }

    /// The number of pieces, counting a piece listed twice twice (`tokenizers`' vocab size).
    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The pieces and their scores, by id.
    pub fn pieces(&self) -> &[(String, f64)] {
        &self.pieces
    }

    pub fn token_to_id(&self, t: &str) -> Option<u32> {
        self.vocab.get(t).copied()
    }

    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.pieces.get(id as usize).map(|p| p.0.as_str())
    }

    /// The text of a token of `word`: an unknown token stands for the text it covers, any
    /// other for its piece.
    pub fn token_text<'a>(&'a self, t: &PieceToken, word: &'a str) -> &'a str {
        if Some(t.id) == self.unk_id {
            word.get(t.start..t.end).unwrap_or("")
        } else {
            self.id_to_token(t.id).unwrap_or("")
        }
    }

    /// Cut one word, appending its tokens (byte ranges in `word`) to `out`.
    ///
    /// Fails, with `tokenizers`' message and `out` as it was, where the word has a char
    /// nothing covers and there is no unknown token.
    pub fn tokenize(&self, word: &str, out: &mut Vec<PieceToken>) -> Result<(), Error> {
        if word.is_empty() {
            return Ok(());
        }
        LATTICE.with(|cell| {
            let mut best = cell.borrow_mut();
            self.best_paths(word, &mut best)?;
            self.emit(word, &best, out);
            Ok(())
        })
    }

    with_popcnt! {
        /// `best[i]`: the best path over `word[..i]`, for each char boundary `i`.
        fn best_paths / best_paths_popcnt(&self, word: &str, best: &mut Vec<Best>)
            -> Result<(), Error> = best_paths_body
    }

    #[inline(always)]
    fn best_paths_body(&self, word: &str, best: &mut Vec<Best>) -> Result<(), Error> {
        let bytes = word.as_bytes();
        best.clear();
        // No path ends anywhere yet: every score is below any path's.
        best.resize(
            bytes.len() + 1,
            Best {
                score: f64::NEG_INFINITY,
                start: NONE,
                id: 0,
            },
        );
        best[0].score = 0.0;
        let mut start = 0;
        while start < bytes.len() {
            let here = best[start].score;
            let char_len = utf8_len(bytes[start]);
            let mut one_char_piece = false;
            // Every node on the way is taken as a candidate, those that end no piece scored
            // minus infinity, so that no branch waits on which nodes end pieces.
            self.trie
                .for_each_node(&bytes[start..], |id, piece_score, len| {
                    let score = piece_score + here;
                    let to = &mut best[start + len];
                    // Selected by masks: written as branches, the compiler makes a jump of it.
                    let take = u64::from(score > to.score).wrapping_neg();
                    to.score = f64::from_bits(score.to_bits() & take | to.score.to_bits() & !take);
                    let take = take as u32;
                    to.start = start as u32 & take | to.start & !take;
                    to.id = id & take | to.id & !take;
                    one_char_piece |= (len == char_len) & (id != NONE);
                });
            if !one_char_piece {
                let score = self.unk_score + here;
                let to = &mut best[start + char_len];
                if to.start == NONE || score > to.score {
                    let Some(id) = self.unk_id else {
                        return Err(Error::new(
                            ErrorKind::CannotEncode,
                            format!(
                                "{MISSING_UNK}: the text has a character that no piece of \
                                 this Unigram model covers, and the model has no unknown token"
                            ),
                        ));
                    };
                    *to = Best {
                        score,
                        start: start as u32,
                        id,
                    };
                }
            }
            start += char_len;
        }
        Ok(())
    }

    /// Walk the best path back from the end, fusing runs of unknown tokens.
    fn emit(&self, word: &str, best: &[Best], out: &mut Vec<PieceToken>) {
        let first = out.len();
        let mut end = word.len();
        // The end of the run of unknown tokens being walked, if any.
        let mut run_end = None;
        while end > 0 {
            let b = best[end];
            let start = b.start as usize;
            if Some(b.id) == self.unk_id {
                run_end.get_or_insert(end);
            } else {
                if let Some(e) = run_end.take() {
                    self.push_run(word, end, e, out);
                }
                out.push(PieceToken {
                    id: b.id,
                    start,
                    end,
                });
            }
            end = start;
        }
        if let Some(e) = run_end {
            self.push_run(word, 0, e, out);
        }
        out[first..].reverse();
    }

    /// A fused run of unknown tokens, pushed back to front (`emit` reverses what it pushed).
    fn push_run(&self, word: &str, start: usize, end: usize, out: &mut Vec<PieceToken>) {
        let text = &word[start..end];
        let token = |id| PieceToken { id, start, end };
        if let Some(&id) = self.vocab.get(text) {
            out.push(token(id));
            return;
        }
        if self.byte_fallback && text.bytes().all(|b| self.byte_ids[b as usize].is_some()) {
            for b in text.bytes().rev() {
                out.push(token(self.byte_ids[b as usize].unwrap_or(0)));
            }
            return;
        }
        // A run exists only where there is an unknown token.
        out.push(token(self.unk_id.unwrap_or(0)));
    }
}

/// The length of the UTF-8 char that starts with byte `b`.
#[inline]
fn utf8_len(b: u8) -> usize {
    match b {
        0..0xc0 => 1,
        0xc0..0xe0 => 2,
        0xe0..0xf0 => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(pieces: &[(&str, f64)], unk_id: Option<usize>, byte_fallback: bool) -> Unigram {
        let pieces = pieces.iter().map(|&(p, s)| (p.to_string(), s)).collect();
        Unigram::new(pieces, unk_id, byte_fallback).unwrap()
    }

    fn cut(m: &Unigram, word: &str) -> Vec<(u32, usize, usize)> {
        let mut out = Vec::new();
        m.tokenize(word, &mut out).unwrap();
        out.iter().map(|t| (t.id, t.start, t.end)).collect()
    }

    fn texts(m: &Unigram, word: &str) -> Vec<String> {
        let mut out = Vec::new();
        m.tokenize(word, &mut out).unwrap();
        out.iter()
            .map(|t| m.token_text(t, word).to_string())
            .collect()
    }

    const ABCD: [(&str, f64); 9] = [
        ("<unk>", 0.0),
        ("a", 0.0),
        ("b", 0.0),
        ("c", 0.0),
        ("d", 0.0),
        ("cd", 1.0),
        ("ab", 2.0),
        ("abc", 5.0),
        ("abcd", 10.0),
    ];

    #[test]
    fn the_popcnt_copy_finds_the_paths_of_the_plain_one() {
        let m = model(
            &[
                ("<unk>", 0.0),
                ("ab", -1.0),
                ("a", -2.0),
                ("b", -2.5),
                ("\u{e9}", -3.0),
                ("\u{e9}a", -2.0),
                ("\u{4e2d}\u{6587}", -1.5),
                ("\u{4e2d}", -4.0),
            ],
            Some(0),
            false,
        );
        let alphabet = crate::test_texts::chars_of("ab\u{e9}\u{4e2d}\u{6587}z");
        let key = |v: &[Best]| {
            v.iter()
                .map(|b| (b.score.to_bits(), b.start, b.id))
                .collect::<Vec<_>>()
        };
        for word in crate::test_texts::random_texts(&alphabet, 2000, 16) {
            let (mut plain, mut dispatched) = (Vec::new(), Vec::new());
            m.best_paths_body(&word, &mut plain).unwrap();
            m.best_paths(&word, &mut dispatched).unwrap();
            assert_eq!(key(&plain), key(&dispatched), "{word:?}");
        }
    }

    #[test]
    fn viterbi_takes_the_highest_scoring_cut() {
        // Each checked against `tokenizers` 0.23 with the same vocabulary.
        let m = model(&ABCD, Some(0), false);
        assert_eq!(
            texts(&m, "abcdacdxx"),
            ["abcd", "a", "cd", "xx"],
            "unknown chars are fused"
        );
        assert_eq!(
            cut(&m, "abcdacdxx"),
            [(8, 0, 4), (1, 4, 5), (5, 5, 7), (0, 7, 9)]
        );
    }

    #[test]
    fn viterbi_ties_keep_the_last_piece_that_starts_earliest() {
        // "ab" + "c" and "a" + "bc" both score 0; the path whose last piece starts
        // earliest ("a" + "bc") was found first and is kept.
        let m = model(
            &[
                ("<unk>", 0.0),
                ("a", 0.0),
                ("ab", 0.0),
                ("bc", 0.0),
                ("c", 0.0),
            ],
            Some(0),
            false,
        );
        assert_eq!(texts(&m, "abc"), ["a", "bc"]);
    }

    #[test]
    fn unknown_chars_cost_the_lowest_score_minus_the_penalty() {
        // Unknown "x" + "ab" against "xa" + "b" (both at the lowest score m): m - 10 against
        // 2m, so the unknown char wins below m = -10 only.
        let pieces = |m| [("<unk>", 0.0), ("ab", 0.0), ("xa", m), ("b", m)];
        let m = model(&pieces(-10.5), Some(0), false);
        assert_eq!(texts(&m, "xab"), ["x", "ab"]);
        let m = model(&pieces(-9.5), Some(0), false);
        assert_eq!(texts(&m, "xab"), ["xa", "b"]);
    }

    #[test]
    fn unknown_runs_fuse_with_the_unknown_piece_itself() {
        let m = model(
            &[("<unk>", 0.0), ("a", -1.0), ("b", -2.0), ("ab", -2.5)],
            Some(0),
            false,
        );
        assert_eq!(
            texts(&m, "abxz\u{e9}<unk>ab"),
            ["ab", "xz\u{e9}<unk>", "ab"]
        );
        // Byte offsets: "\u{e9}" is two bytes.
        assert_eq!(
            cut(&m, "abxz\u{e9}<unk>ab"),
            [(3, 0, 2), (0, 2, 11), (3, 11, 13)]
        );
    }

    #[test]
    fn byte_fallback_spells_unknown_runs_in_bytes() {
        let m = model(
            &[
                ("<unk>", 0.0),
                ("a", -1.0),
                ("b", -2.0),
                ("ab", -2.5),
                ("<0x78>", -3.0),
                ("<0x79>", -3.0),
            ],
            Some(0),
            true,
        );
        assert_eq!(
            cut(&m, "abxxyab"),
            [(3, 0, 2), (4, 2, 5), (4, 2, 5), (5, 2, 5), (3, 5, 7)]
        );
        // "z" has no byte piece: the whole run stays one unknown token.
        assert_eq!(cut(&m, "abxzab"), [(3, 0, 2), (0, 2, 4), (3, 4, 6)]);
        assert_eq!(texts(&m, "abxzab"), ["ab", "xz", "ab"]);
    }

    #[test]
    fn a_fused_run_that_is_a_piece_takes_its_id() {
        // "xx" is a piece too, but scores below two unknown "x" (2 * (25 - 10) = 30).
        let m = model(&[("<unk>", 30.0), ("xx", 25.0)], Some(0), false);
        assert_eq!(cut(&m, "xx"), [(1, 0, 2)]);
    }

    #[test]
    fn uncovered_chars_without_an_unknown_token_fail() {
        let m = model(&[("a", -1.0)], None, false);
        let mut out = Vec::new();
        let e = m.tokenize("ab", &mut out).unwrap_err();
        assert_eq!(e.kind, ErrorKind::CannotEncode);
        assert!(e.message.starts_with(MISSING_UNK), "{e}");
        assert!(out.is_empty());
    }

    #[test]
    fn without_an_unknown_token_covered_text_encodes() {
        let m = model(&[("a", -1.0), ("b", -1.0), ("", 5.0)], None, true);
        assert_eq!(cut(&m, "ab"), [(0, 0, 1), (1, 1, 2)]);
    }

    #[test]
    fn a_piece_listed_twice_keeps_its_last_id() {
        let m = model(&[("<unk>", 0.0), ("a", -5.0), ("a", -1.0)], Some(0), false);
        assert_eq!(cut(&m, "aa"), [(2, 0, 1), (2, 1, 2)]);
        assert_eq!(m.len(), 3);
        assert_eq!(m.id_to_token(1), Some("a"));
    }

    #[test]
    fn unknown_id_outside_the_vocabulary_is_refused() {
        let pieces = vec![("a".to_string(), 0.0)];
        assert!(Unigram::new(pieces.clone(), Some(1), false).is_err());
        assert!(Unigram::new(Vec::new(), Some(0), false).is_err());
        assert!(Unigram::new(pieces, None, false).is_ok());
    }
}
