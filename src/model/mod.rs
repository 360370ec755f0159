//! Models turn one pre-tokenized piece into token ids. `Model` is keyed by the file's
//! `model.type`; each variant lives in its own module.

pub mod backtrack;
pub mod bpe;
pub mod byte_cuts;
pub mod cache;
pub mod merge;
pub mod pair_map;
pub mod prefix_trie;
pub mod short_table;
pub mod token_index;
pub mod unigram;
pub mod wordlevel;
pub mod wordpiece;

pub use bpe::{Bpe, PieceToken};
pub use unigram::Unigram;
pub use wordlevel::WordLevel;
pub use wordpiece::WordPiece;

use crate::error::Result;
use merge::Scratch;
use rustc_hash::FxHashMap;

// A tokenizer holds one model, so the size of the small variants does not matter, and boxing
// BPE would add a pointer chase to every piece of the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Model {
    Bpe(Bpe),
    WordPiece(WordPiece),
    WordLevel(WordLevel),
    Unigram(Unigram),
}

impl Model {
    /// The model's own vocabulary (added tokens are not in it).
    pub fn vocab(&self) -> &FxHashMap<String, u32> {
        match self {
            Model::Bpe(m) => &m.vocab,
            Model::WordPiece(m) => &m.vocab,
            Model::WordLevel(m) => &m.vocab,
            Model::Unigram(m) => &m.vocab,
        }
    }

    pub fn token_to_id(&self, t: &str) -> Option<u32> {
        match self {
            Model::Bpe(m) => m.token_to_id(t),
            Model::WordPiece(m) => m.token_to_id(t),
            Model::WordLevel(m) => m.token_to_id(t),
            Model::Unigram(m) => m.token_to_id(t),
        }
    }

    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        match self {
            Model::Bpe(m) => m.id_to_token(id),
            Model::WordPiece(m) => m.id_to_token(id),
            Model::WordLevel(m) => m.id_to_token(id),
            Model::Unigram(m) => m.id_to_token(id),
        }
    }

    /// The vocabulary's size as `tokenizers` counts it (a Unigram piece listed twice counts
    /// twice): added tokens outside the vocabulary are numbered from here.
    pub fn vocab_size(&self) -> usize {
        match self {
            Model::Unigram(m) => m.len(),
            m => m.vocab().len(),
        }
    }

    /// The text of a token the model cut from `word`: its piece, except for a Unigram
    /// unknown token, which stands for the text it covers.
    #[inline]
    pub fn token_text<'a>(&'a self, t: &PieceToken, word: &'a str) -> &'a str {
        match self {
            Model::Unigram(m) => m.token_text(t, word),
            m => m.id_to_token(t.id).unwrap_or(""),
        }
    }

    /// The BPE model, for the shortcuts that only BPE pipelines take.
    pub fn as_bpe(&self) -> Option<&Bpe> {
        match self {
            Model::Bpe(m) => Some(m),
            _ => None,
        }
    }

    /// Encode one piece, appending its tokens to `out` (`scratch` is BPE's working memory).
    /// Fails, leaving `out` as it was, where the model cannot encode the piece (an error of
    /// kind `CannotEncode`: BPE and Unigram without a usable unknown token).
    #[inline]
    pub fn tokenize(
        &self,
        word: &str,
        scratch: &mut Scratch,
        out: &mut Vec<PieceToken>,
    ) -> Result<()> {
        match self {
            Model::Bpe(m) => m.tokenize(word, scratch, out),
            Model::WordPiece(m) => {
                m.tokenize(word, out);
                Ok(())
            }
            Model::WordLevel(m) => {
                m.tokenize(word, out);
                Ok(())
            }
            Model::Unigram(m) => m.tokenize(word, out),
        }
    }

    /// `tokenize` without BPE's piece cache, for callers that cache the result themselves.
    #[inline]
    pub fn tokenize_uncached(
        &self,
        word: &str,
        scratch: &mut Scratch,
        out: &mut Vec<PieceToken>,
    ) -> Result<()> {
        match self {
            Model::Bpe(m) => m.tokenize_uncached(word, scratch, out),
            // Only BPE has a cache of its own.
            _ => self.tokenize(word, scratch, out),
        }
    }
}
