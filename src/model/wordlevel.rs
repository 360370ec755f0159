//! The WordLevel model: each word is one token, or the unknown token.

use rustc_hash::FxHashMap;

use super::bpe::PieceToken;

#[derive(Debug, Clone)]
pub struct WordLevel {
    pub vocab: FxHashMap<String, u32>,
    vocab_r: FxHashMap<u32, String>,
    pub unk_token: String,
    unk_id: u32,
}

impl WordLevel {
    /// Errors when the unknown token is not in the vocabulary (see `WordPiece::new`).
    pub fn new(vocab: FxHashMap<String, u32>, unk_token: String) -> Result<WordLevel, String> {
        let unk_id = *vocab.get(&unk_token).ok_or_else(|| {
            format!(
                "unk_token {unk_token:?} is not in the vocabulary (tokenizers fails on any word \
                 outside it)"
            )
        })?;
        let vocab_r = vocab.iter().map(|(k, &v)| (v, k.clone())).collect();
        Ok(WordLevel {
            vocab,
            vocab_r,
            unk_token,
            unk_id,
        })
    }

    pub fn token_to_id(&self, t: &str) -> Option<u32> {
        self.vocab.get(t).copied()
    }

    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.vocab_r.get(&id).map(String::as_str)
    }

    pub fn tokenize(&self, word: &str, out: &mut Vec<PieceToken>) {
        if word.is_empty() {
            return;
        }
        let id = self.vocab.get(word).copied().unwrap_or(self.unk_id);
        out.push(PieceToken {
            id,
            start: 0,
            end: word.len(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordlevel_maps_words_and_unknowns() {
        let vocab = [("a".to_string(), 0), ("<unk>".to_string(), 1)]
            .into_iter()
            .collect();
        let m = WordLevel::new(vocab, "<unk>".into()).unwrap();
        let mut out = Vec::new();
        m.tokenize("a", &mut out);
        m.tokenize("bc", &mut out);
        let got: Vec<_> = out.iter().map(|t| (t.id, t.start, t.end)).collect();
        assert_eq!(got, [(0, 0, 1), (1, 0, 2)]);
    }
}
