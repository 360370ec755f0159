//! The BPE model of tokenizer.json files.

use super::backtrack::{Backtrack, OnDemand, RankedVocab};
use super::byte_cuts::ByteCuts;
use super::cache::{get_or_compute, CacheId, MAX_PIECE_LEN};
use super::merge::{merge_all, merge_all_dropout, Scratch, Symbol};
use super::pair_map::PairMap;
use crate::error::Error;
use crate::pre_tokenizer::byte_level;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, Default)]
pub struct BpeOptions {
    pub unk_token: Option<String>,
    pub fuse_unk: bool,
    pub byte_fallback: bool,
    pub continuing_subword_prefix: Option<String>,
    pub end_of_word_suffix: Option<String>,
    pub ignore_merges: bool,
    /// BPE dropout: the chance, above 0 and at most 1, that a merge is skipped when it comes
    /// up (see `merge_all_dropout`). Every encode is then random, so nothing is cached.
    pub dropout: Option<f32>,
}

/// Chars below this have their single-char token ids in a table: ASCII, and the chars that
/// byte-level vocabularies (GPT-2, Llama-3, Qwen) spell bytes with (U+0100 to U+0143), the
/// first char of every word after a space or newline.
/// In the error of a file that `tokenizers` cannot load at all (it panics), where other
/// errors are ones it reports: a model without a type is then not tried as another kind.
pub const FAILS_IN_TOKENIZERS: &str = "(tokenizers fails to load this file)";

const LOW_CHARS: usize = 0x180;

#[derive(Debug, Clone)]
pub struct Bpe {
    pub vocab: FxHashMap<String, u32>,
    /// id -> token, for the model's own ids.
    pub vocab_r: FxHashMap<u32, String>,
    /// The ids of single-char tokens: a word's chars are looked up by value, not hashed and
    /// compared as strings.
    char_ids: FxHashMap<char, u32>,
    /// `char_ids` of the chars below `LOW_CHARS` as a table (u32::MAX: no token): most chars
    /// of most words, each a hash and a probe otherwise.
    low_ids: [u32; LOW_CHARS],
    /// (left id, right id) -> (rank, merged id).
    merges: PairMap,
    opts: BpeOptions,
    unk_id: Option<u32>,
    byte_ids: [Option<u32>; 256],
    cache: CacheId,
    /// The linear-time encoder for long pieces, when the merges suit it (see `ranked`).
    backtrack: OnDemand<RankedBacktrack>,
}

/// The backtracking encoder over this model's ranks, and rank -> id.
#[derive(Debug)]
struct RankedBacktrack {
    encoder: Backtrack,
    ids: Vec<u32>,
}

/// The model in the backtracking encoder's terms. Single-char tokens are the units and rank
/// first; every other token ranks as the merge that makes it. That only describes the model
/// when each token is made by one merge, so `ranked` checks it.
struct MergeRanks<'a> {
    bpe: &'a Bpe,
    /// rank -> id.
    ids: Vec<u32>,
    id_rank: FxHashMap<u32, u32>,
    units: u32,
}

impl Bpe {
    /// Whether a word's first or last token differs from the same text inside a word (a
    /// continuing-subword prefix or an end-of-word suffix): then where words are cut matters.
    pub fn has_word_affixes(&self) -> bool {
        let set = |a: &Option<String>| a.as_deref().is_some_and(|s| !s.is_empty());
        set(&self.opts.continuing_subword_prefix) || set(&self.opts.end_of_word_suffix)
    }

    fn ranked(&self) -> Option<MergeRanks<'_>> {
        let no_affix = |a: &Option<String>| a.as_deref().is_none_or(str::is_empty);
        if !no_affix(&self.opts.continuing_subword_prefix)
            || !no_affix(&self.opts.end_of_word_suffix)
        {
            return None;
        }
        let mut ids: Vec<u32> = self
            .vocab
            .iter()
            .filter(|(t, _)| t.chars().count() == 1)
            .map(|(_, id)| *id)
            .collect();
        ids.sort_unstable();
        let units = ids.len() as u32;
        let mut by_rank: Vec<(u32, u32)> = self.merges.values().collect();
        by_rank.sort_unstable();
        ids.extend(by_rank.iter().map(|(_, id)| *id));
        let mut id_rank = FxHashMap::default();
        for (rank, id) in ids.iter().enumerate() {
            if id_rank.insert(*id, rank as u32).is_some() {
                return None; // a token made by two merges, or a merge that makes a unit
            }
        }
        Some(MergeRanks {
            bpe: self,
            ids,
            id_rank,
            units,
        })
    }

    fn backtrack(&self, len: usize) -> Option<&RankedBacktrack> {
        self.backtrack.get(len, || {
            let ranks = self.ranked()?;
            let encoder = Backtrack::build(&ranks)?;
            Some(RankedBacktrack {
                encoder,
                ids: ranks.ids,
            })
        })
    }

    /// `word` by the backtracking encoder, if it is built and every char of `word` is a token.
    fn tokenize_backtracking(
        &self,
        word: &str,
        scratch: &mut Scratch,
        out: &mut Vec<PieceToken>,
    ) -> bool {
        let Some(rb) = self.backtrack(word.len()) else {
            return false;
        };
        let mut ranks = std::mem::take(&mut scratch.ranks);
        ranks.clear();
        let done = rb.encoder.encode(word.as_bytes(), scratch, &mut ranks);
        if done {
            let mut at = 0;
            out.extend(ranks.iter().map(|&r| {
                let start = at;
                at += rb.encoder.token_len(r);
                PieceToken {
                    id: rb.ids[r as usize],
                    start,
                    end: at,
                }
            }));
        }
        scratch.ranks = ranks;
        done
    }
}

impl RankedVocab for MergeRanks<'_> {
    fn tokens(&self) -> Vec<Option<&[u8]>> {
        self.ids
            .iter()
            .map(|id| self.bpe.vocab_r.get(id).map(|t| t.as_bytes()))
            .collect()
    }

    fn rank_of(&self, bytes: &[u8]) -> Option<u32> {
        let t = std::str::from_utf8(bytes).ok()?;
        self.id_rank.get(self.bpe.vocab.get(t)?).copied()
    }

    fn units(&self, bytes: &[u8], out: &mut Vec<Symbol>) -> bool {
        let Ok(t) = std::str::from_utf8(bytes) else {
            return false;
        };
        for (i, c) in t.char_indices() {
            let end = i + c.len_utf8();
            match self.rank_of(&bytes[i..end]) {
                Some(r) if r < self.units => out.push(Symbol::new(r, i, end)),
                _ => return false,
            }
        }
        true
    }

    fn pair(&self, left: u32, right: u32, _: &[u8]) -> Option<u32> {
        let (l, r) = (self.ids[left as usize], self.ids[right as usize]);
        let (_, id) = self.bpe.merges.get(l, r)?;
        self.id_rank.get(&id).copied()
    }
}

#[inline]
fn key(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

/// A token of one piece: id and byte range in the piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PieceToken {
    pub id: u32,
    pub start: usize,
    pub end: usize,
}

impl Bpe {
    /// `merges` are (left, right) token strings in rank order. Errors name the first merge whose
    /// parts or result are not in the vocabulary.
    pub fn new<S: AsRef<str> + Sync>(
        vocab: FxHashMap<String, u32>,
        merges: Vec<(S, S)>,
        opts: BpeOptions,
    ) -> Result<Bpe, String> {
        let prefix_len = opts
            .continuing_subword_prefix
            .as_ref()
            .map_or(0, |p| p.len());
        // Resolving a merge is three vocabulary lookups; a 128k-vocab file has ~300k merges,
        // so they are resolved on all cores while the id -> token map is built.
        let resolve = |(rank, (a, b)): (usize, &(S, S)), merged: &mut String| {
            let (a, b) = (a.as_ref(), b.as_ref());
            let a_id = *vocab
                .get(a)
                .ok_or_else(|| format!("merges[{rank}]: token {a:?} is not in the vocab"))?;
            let b_id = *vocab
                .get(b)
                .ok_or_else(|| format!("merges[{rank}]: token {b:?} is not in the vocab"))?;
            // Joined as `tokenizers` joins them: the right part less the prefix's length in
            // bytes (whether or not it starts with the prefix), in a buffer as long as the
            // longest token. It panics while loading, rather than report the merge, where the
            // right part is shorter than the prefix or the join does not fit the buffer.
            let fails = |joined_len: usize| {
                let longest = vocab.keys().map(String::len).max().unwrap_or(0);
                if joined_len > longest {
                    format!(" {FAILS_IN_TOKENIZERS}")
                } else {
                    String::new()
                }
            };
            let Some(tail_len) = b.len().checked_sub(prefix_len) else {
                return Err(format!(
                    "merges[{rank}]: token {b:?} cannot lose the {prefix_len} bytes of \
                     continuing_subword_prefix {FAILS_IN_TOKENIZERS}; fix the merge or the \
                     prefix"
                ));
            };
            let Some(tail) = b.get(prefix_len..) else {
                // Cut inside a char: the join is no string, so no token.
                return Err(format!(
                    "merges[{rank}]: token {b:?} less the {prefix_len} bytes of \
                     continuing_subword_prefix is cut inside a char, so the merged token is \
                     not in the vocab{}",
                    fails(a.len() + tail_len)
                ));
            };
            merged.clear();
            merged.push_str(a);
            merged.push_str(tail);
            let new_id = *vocab.get(merged.as_str()).ok_or_else(|| {
                format!(
                    "merges[{rank}]: merged token {merged:?} is not in the vocab{}",
                    fails(merged.len())
                )
            })?;
            Ok((key(a_id, b_id), (rank as u32, new_id)))
        };
        // The id -> token map and the single-char ids in one pass over the vocabulary.
        let (resolved, (vocab_r, char_ids)) = crate::batch::install(|| {
            rayon::join(
                || {
                    merges
                        .par_iter()
                        .enumerate()
                        .with_min_len(4096)
                        .map_init(String::new, |buf, m| resolve(m, buf))
                        .collect::<Result<Vec<(u64, (u32, u32))>, String>>()
                },
                || {
                    let mut vocab_r = FxHashMap::default();
                    vocab_r.reserve(vocab.len());
                    let mut char_ids = FxHashMap::default();
                    for (k, &v) in &vocab {
                        vocab_r.insert(v, k.clone());
                        let mut chars = k.chars();
                        if let (Some(c), None) = (chars.next(), chars.next()) {
                            char_ids.insert(c, v);
                        }
                    }
                    (vocab_r, char_ids)
                },
            )
        });
        // Which bad merge a parallel run reports first is up to scheduling; name the first.
        let resolved = resolved.or_else(|_| {
            let mut buf = String::new();
            merges
                .iter()
                .enumerate()
                .map(|m| resolve(m, &mut buf))
                .collect::<Result<Vec<_>, String>>()
        })?;
        // In rank order, so a pair listed twice keeps its last rank.
        let m = PairMap::new(
            resolved
                .into_iter()
                .map(|(k, v)| (((k >> 32) as u32, k as u32), v)),
        );
        let unk_id = match &opts.unk_token {
            Some(u) => vocab.get(u).copied(),
            None => None,
        };
        let mut byte_ids = [None; 256];
        if opts.byte_fallback {
            for (b, slot) in byte_ids.iter_mut().enumerate() {
                *slot = vocab.get(&format!("<0x{b:02X}>")).copied();
            }
        }
        let mut low_ids = [u32::MAX; LOW_CHARS];
        for (c, slot) in low_ids.iter_mut().enumerate() {
            if let Some(&id) = char::from_u32(c as u32).and_then(|c| char_ids.get(&c)) {
                *slot = id;
            }
        }
        Ok(Bpe {
            vocab,
            vocab_r,
            char_ids,
            low_ids,
            merges: m,
            opts,
            unk_id,
            byte_ids,
            cache: CacheId::new(),
            backtrack: OnDemand::default(),
        })
    }

    /// The tokens that merges make with `c` right after a different char: the only tokens
    /// that can join a word beginning with `c` to the text before it. Sorted.
    pub fn tokens_crossing(&self, c: char) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .merges
            .values()
            .filter_map(|(_, id)| self.vocab_r.get(&id).map(String::as_str))
            .filter(|t| {
                let mut prev: Option<char> = None;
                t.chars().any(|x| {
                    let crosses = x == c && prev.is_some_and(|p| p != c);
                    prev = Some(x);
                    crosses
                })
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether every merge joins the spellings of its two tokens into the spelling of the
    /// token it makes, so that where no token holds two chars side by side no merge spans
    /// them (the rule behind `ascii_cuts` and `byte_level_cuts`). Merges join ids, so this
    /// needs one token per id: where two tokens share an id ("!" and "I" both 0), the merge
    /// of "Ġ" and "I" also joins "Ġ" and "!". It also fails where the ids depend on where
    /// words end (affixes, or `ignore_merges`, which looks the whole word up first).
    fn merges_join_spellings(&self) -> bool {
        !self.opts.ignore_merges
            && !self.has_word_affixes()
            && self.vocab_r.len() == self.vocab.len()
    }

    /// For each pair of ASCII chars `x`, `y`: whether a word may be cut between them, its two
    /// parts merged on their own, with the ids of the whole (bit `y` of `cuts[x]`). A merge
    /// joins two symbols into a token that holds both, so where no token a merge makes holds
    /// `x` right before `y`, no symbol ever spans that point, and the merges on each side are
    /// the ones the whole would make, in the same order. Both chars must be single-char
    /// tokens, or chars spelled in byte-fallback tokens that no merge uses; an unknown char
    /// may fuse with its neighbour into one unknown token, so none is cut around. Between two
    /// chars spelled in bytes a cut needs every byte to have its token too: an unknown token
    /// waits for the next char with a token of its own, and the bytes of the chars between go
    /// before it, which a cut there would reverse. None where `merges_join_spellings` does
    /// not hold.
    pub fn ascii_cuts(&self) -> Option<Box<[u128; 128]>> {
        if !self.merges_join_spellings() {
            return None;
        }
        let mut joined = [0u128; 128];
        let mut byte_tokens_merge = false;
        for (_, id) in self.merges.values() {
            let Some(t) = self.vocab_r.get(&id) else {
                continue;
            };
            // A byte-fallback token is written `<0xXX>`: a merge with one makes a token
            // holding that text.
            byte_tokens_merge |= t.contains("<0x");
            for (a, b) in t.chars().zip(t.chars().skip(1)) {
                if a.is_ascii() && b.is_ascii() {
                    joined[a as usize] |= 1 << b as u32;
                }
            }
        }
        let known = |c: u8| self.char_id(c as char).is_some();
        let spelled_in_bytes = |c: u8| {
            !known(c)
                && self.opts.byte_fallback
                && self.byte_ids[c as usize].is_some()
                && !byte_tokens_merge
        };
        let no_unknown_chars = self.opts.byte_fallback && self.byte_ids.iter().all(Option::is_some);
        let mut cuts = Box::new([0u128; 128]);
        for x in 0..128u8 {
            for y in 0..128u8 {
                let apart = match (known(x), known(y)) {
                    (true, true) => joined[x as usize] >> y & 1 == 0,
                    (true, false) => spelled_in_bytes(y),
                    (false, true) => spelled_in_bytes(x),
                    (false, false) => {
                        no_unknown_chars && spelled_in_bytes(x) && spelled_in_bytes(y)
                    }
                };
                if apart {
                    cuts[x as usize] |= 1 << y;
                }
            }
        }
        Some(cuts)
    }

    /// For byte-level vocabularies (every byte's char a token of its own): where a piece of
    /// raw bytes may be cut, its parts merged on their own with the ids of the whole (see
    /// `ByteCuts`). Every token of the vocabulary joins its pairs of byte-level chars: more
    /// than the tokens merges make, so a few cuts are missed, but reading the vocabulary is
    /// several times faster than resolving every merge's token. None where
    /// `merges_join_spellings` does not hold, or when some byte's char is no token (an
    /// unknown char may fuse with its neighbour, or be dropped so that the chars around it
    /// meet).
    pub fn byte_level_cuts(&self) -> Option<ByteCuts> {
        if !self.merges_join_spellings() {
            return None;
        }
        let chars = byte_level::byte_to_char();
        if chars.iter().any(|&c| self.char_id(c).is_none()) {
            return None;
        }
        let mut cuts = ByteCuts::everywhere();
        for t in self.vocab.keys() {
            let mut prev = None;
            for c in t.chars() {
                let b = byte_level::char_to_byte(c);
                if let (Some(x), Some(y)) = (prev, b) {
                    cuts.join(x, y);
                }
                prev = b;
            }
        }
        Some(cuts)
    }

    /// Whether a char can be left out of the tokens: with no unknown token, a char in no token
    /// (and, with byte fallback, with a byte in no token either) is dropped, as `tokenizers`
    /// drops it, and the chars around it merge as if they were neighbours.
    pub fn can_drop_chars(&self) -> bool {
        self.unk_id.is_none()
            && !(self.opts.byte_fallback && self.byte_ids.iter().all(Option::is_some))
    }

    /// The id of the single-char token `c`.
    #[inline]
    fn char_id(&self, c: char) -> Option<u32> {
        match self.low_ids.get(c as usize) {
            Some(&id) if id != u32::MAX => Some(id),
            // u32::MAX marks "no token" in the table, but it is also a valid id: look it up
            // (only for a char of the table that is no token, or whose id is u32::MAX).
            _ => self.char_ids.get(&c).copied(),
        }
    }

    pub fn token_to_id(&self, t: &str) -> Option<u32> {
        self.vocab.get(t).copied()
    }

    /// Whether merges are skipped at random (BPE dropout), so that no result may be cached.
    pub fn has_dropout(&self) -> bool {
        self.opts.dropout.is_some()
    }

    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.vocab_r.get(&id).map(|s| s.as_str())
    }

    /// Encode one piece, appending its tokens to `out`. An error (see `tokenize_uncached`)
    /// leaves `out` as it was.
    pub fn tokenize(
        &self,
        word: &str,
        scratch: &mut Scratch,
        out: &mut Vec<PieceToken>,
    ) -> Result<(), Error> {
        if word.is_empty() {
            return Ok(());
        }
        if word.len() > MAX_PIECE_LEN || self.has_dropout() {
            return self.tokenize_uncached(word, scratch, out);
        }
        // Cached as (id, start, end) triples.
        let mut flat = std::mem::take(&mut scratch.flat);
        flat.clear();
        let done = get_or_compute(&self.cache, word.as_bytes(), &mut flat, |f| {
            let mut toks = Vec::new();
            self.tokenize_uncached(word, scratch, &mut toks)?;
            for t in toks {
                f.extend_from_slice(&[t.id, t.start as u32, t.end as u32]);
            }
            Ok(())
        });
        out.extend(flat.chunks_exact(3).map(|c| PieceToken {
            id: c[0],
            start: c[1] as usize,
            end: c[2] as usize,
        }));
        scratch.flat = flat;
        done
    }

    /// `tokenize` without the model's piece cache, for callers that cache the result
    /// themselves. The one error: a char that is in no token, where the model names an
    /// unknown token that is not in its vocabulary (`tokenizers` fails there too); `out` is
    /// then left as it was.
    pub fn tokenize_uncached(
        &self,
        word: &str,
        scratch: &mut Scratch,
        out: &mut Vec<PieceToken>,
    ) -> Result<(), Error> {
        // With dropout, `tokenizers` merges every word, one in the vocabulary included.
        if self.opts.ignore_merges && !self.has_dropout() {
            if let Some(&id) = self.vocab.get(word) {
                out.push(PieceToken {
                    id,
                    start: 0,
                    end: word.len(),
                });
                return Ok(());
            }
        }
        if !self.has_dropout() && self.tokenize_backtracking(word, scratch, out) {
            return Ok(());
        }
        let syms = &mut scratch.symbols;
        syms.clear();
        let plain = self
            .opts
            .continuing_subword_prefix
            .as_deref()
            .unwrap_or("")
            .is_empty()
            && self
                .opts
                .end_of_word_suffix
                .as_deref()
                .unwrap_or("")
                .is_empty();
        // Offsets are running sums of the symbols' byte lengths, as in HF: a dropped unknown
        // char (no unk token, no byte fallback) shifts the offsets after it.
        let mut cum = 0usize;
        let mut push = |syms: &mut Vec<Symbol>, id: u32, len: usize| {
            syms.push(Symbol::new(id, cum, cum + len));
            cum += len;
        };
        // A pending unknown run: (id, byte length).
        let mut unk: Option<(u32, usize)> = None;
        let mut buf = String::new();
        for (i, c) in word.char_indices() {
            let len = c.len_utf8();
            let end = i + len;
            let s: &str = if plain {
                &word[i..end]
            } else {
                buf.clear();
                if i != 0 {
                    if let Some(p) = &self.opts.continuing_subword_prefix {
                        buf.push_str(p);
                    }
                }
                buf.push_str(&word[i..end]);
                if end == word.len() {
                    if let Some(sfx) = &self.opts.end_of_word_suffix {
                        buf.push_str(sfx);
                    }
                }
                &buf
            };
            let id = if plain {
                self.char_id(c)
            } else {
                self.vocab.get(s).copied()
            };
            if let Some(id) = id {
                if let Some((u, ul)) = unk.take() {
                    push(syms, u, ul);
                }
                push(syms, id, len);
                continue;
            }
            if self.opts.byte_fallback {
                let bytes = s.as_bytes();
                if bytes.iter().all(|b| self.byte_ids[*b as usize].is_some()) {
                    // A pending unknown run waits for the next char in the vocabulary: byte
                    // tokens go before it, as `tokenizers` orders them.
                    for b in bytes {
                        push(syms, self.byte_ids[*b as usize].expect("checked above"), 1);
                    }
                    continue;
                }
            }
            if let Some(u) = self.unk_id {
                unk = match unk {
                    Some((uid, ul)) if self.opts.fuse_unk => Some((uid, ul + len)),
                    Some((uid, ul)) => {
                        push(syms, uid, ul);
                        Some((u, len))
                    }
                    None => Some((u, len)),
                };
            } else if let Some(name) = &self.opts.unk_token {
                // An unknown token that is not in the vocabulary: `tokenizers` fails here.
                return Err(Error::cannot_encode(format!(
                    "Unk token `{name}` not found in the vocabulary (the text has a char \
                     that is in no token; add {name:?} to model.vocab, or remove \
                     model.unk_token to drop such chars)"
                )));
            }
        }
        if let Some((u, ul)) = unk {
            push(syms, u, ul);
        }
        let merges = &self.merges;
        match self.opts.dropout {
            Some(p) => merge_all_dropout(&mut scratch.symbols, |l, r| merges.get(l.id, r.id), p),
            None => merge_all(scratch, |l, r| merges.get(l.id, r.id)),
        }
        out.extend(scratch.symbols.iter().map(|s| PieceToken {
            id: s.id,
            start: s.start as usize,
            end: s.end as usize,
        }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(opts: BpeOptions) -> Bpe {
        let vocab: FxHashMap<String, u32> = ["a", "b", "ab", "<unk>", "<0x63>", "c</w>", "ac</w>"]
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), i as u32))
            .collect();
        let merges = vec![("a".to_string(), "b".to_string())];
        Bpe::new(vocab, merges, opts).unwrap()
    }

    fn ids(m: &Bpe, w: &str) -> Vec<(u32, usize, usize)> {
        try_ids(m, w).unwrap()
    }

    fn try_ids(m: &Bpe, w: &str) -> Result<Vec<(u32, usize, usize)>, Error> {
        let mut out = Vec::new();
        m.tokenize(w, &mut Scratch::default(), &mut out)?;
        Ok(out.iter().map(|t| (t.id, t.start, t.end)).collect())
    }

    #[test]
    fn single_char_ids_match_the_vocabulary_in_and_out_of_ascii() {
        let vocab: FxHashMap<String, u32> = ["a", "\u{7f}", "é", "▁", "ab", "\0"]
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), i as u32 + 10))
            .collect();
        let m = Bpe::new(
            vocab.clone(),
            Vec::<(String, String)>::new(),
            BpeOptions::default(),
        )
        .unwrap();
        for c in ['a', '\u{7f}', 'é', '▁', '\0', 'b', 'ß', '\u{80}'] {
            assert_eq!(m.char_id(c), vocab.get(&c.to_string()).copied(), "{c:?}");
        }
        // The largest id is an id like any other, for an ASCII char too.
        let vocab: FxHashMap<String, u32> = [("!".to_string(), u32::MAX), ("a".to_string(), 0)]
            .into_iter()
            .collect();
        let m = Bpe::new(vocab, Vec::<(String, String)>::new(), BpeOptions::default()).unwrap();
        assert_eq!(
            (m.char_id('!'), m.char_id('a'), m.char_id('b')),
            (Some(u32::MAX), Some(0), None)
        );
    }

    #[test]
    fn merges_and_offsets() {
        let m = model(BpeOptions::default());
        assert_eq!(ids(&m, "abab"), [(2, 0, 2), (2, 2, 4)]);
    }

    #[test]
    fn unknown_chars_fuse_or_drop() {
        let fused = model(BpeOptions {
            unk_token: Some("<unk>".into()),
            fuse_unk: true,
            ..Default::default()
        });
        assert_eq!(ids(&fused, "xya"), [(3, 0, 2), (0, 2, 3)]);
        let split = model(BpeOptions {
            unk_token: Some("<unk>".into()),
            ..Default::default()
        });
        assert_eq!(ids(&split, "xy"), [(3, 0, 1), (3, 1, 2)]);
        let none = model(BpeOptions::default());
        assert_eq!(ids(&none, "xa"), [(0, 0, 1)]);
    }

    /// A word may be cut between two chars that no merged token holds side by side, and
    /// between a char and one spelled in byte-fallback tokens that no merge uses; never next
    /// to an unknown char, nor when merges make a byte-fallback token into more.
    #[test]
    fn ascii_cuts_follow_the_merged_tokens() {
        let fallback = BpeOptions {
            unk_token: Some("<unk>".into()),
            fuse_unk: true,
            byte_fallback: true,
            ..Default::default()
        };
        let cut =
            |m: &Bpe, x: char, y: char| m.ascii_cuts().unwrap()[x as usize] >> y as u32 & 1 != 0;
        let m = model(fallback.clone());
        assert!(!cut(&m, 'a', 'b'), "the merge makes \"ab\"");
        assert!(cut(&m, 'b', 'a') && cut(&m, 'a', 'a'));
        // "c" is no token, but its byte token "<0x63>" is, and no merge uses it; two such
        // chars are not cut apart while some chars have no byte token (an unknown token
        // before them waits until after both).
        assert!(cut(&m, 'a', 'c') && cut(&m, 'c', 'b') && !cut(&m, 'c', 'c'));
        // "x" has no byte token: it becomes the unknown token, which fuses with the next.
        assert!(!cut(&m, 'x', 'a') && !cut(&m, 'a', 'x') && !cut(&m, 'x', 'x'));
        // Without byte fallback, "c" is unknown too.
        let plain = model(BpeOptions {
            unk_token: Some("<unk>".into()),
            ..Default::default()
        });
        assert!(!cut(&plain, 'a', 'c') && cut(&plain, 'b', 'a'));
        // A merge that uses a byte token: no byte-spelled char is cut around.
        let vocab: FxHashMap<String, u32> = ["a", "<0x63>", "<0x63>a", "<unk>"]
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), i as u32))
            .collect();
        let merges = vec![("<0x63>".to_string(), "a".to_string())];
        let m = Bpe::new(vocab, merges, fallback).unwrap();
        assert!(!cut(&m, 'c', 'a') && !cut(&m, 'a', 'c'));
        assert!(cut(&m, 'a', 'a'));
        // Where the ids depend on the whole word, nothing is cut.
        for opts in [
            BpeOptions {
                ignore_merges: true,
                ..Default::default()
            },
            BpeOptions {
                end_of_word_suffix: Some("</w>".into()),
                ..Default::default()
            },
        ] {
            assert!(model(opts).ascii_cuts().is_none());
        }
    }

    /// An unknown token missing from the vocabulary cannot stand for an unknown char: the
    /// encode fails with `CannotEncode` there (`tokenizers` fails the same way), and only
    /// there, every time (a failure is not cached).
    #[test]
    fn unknown_chars_without_the_unknown_token_in_the_vocabulary_cannot_encode() {
        let m = model(BpeOptions {
            unk_token: Some("<missing>".into()),
            ..Default::default()
        });
        assert_eq!(ids(&m, "ab"), [(2, 0, 2)]);
        for word in ["x", "abx", "\u{e9}", "x"] {
            let e = try_ids(&m, word).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::CannotEncode);
            assert!(e.message.starts_with("cannot encode this text: "), "{e}");
            assert!(e.message.contains("`<missing>`"), "{e}");
        }
    }

    #[test]
    fn byte_fallback_then_suffix() {
        let m = model(BpeOptions {
            byte_fallback: true,
            ..Default::default()
        });
        assert_eq!(ids(&m, "c"), [(4, 0, 1)]);
        let s = model(BpeOptions {
            end_of_word_suffix: Some("</w>".into()),
            ..Default::default()
        });
        assert_eq!(ids(&s, "ac"), [(0, 0, 1), (5, 1, 2)]);
    }

    /// A char given as byte tokens does not end a pending unknown run: the unknown token
    /// comes after the bytes, with offsets in that order (`tokenizers` 0.23's ids and offsets
    /// for the same vocabulary).
    #[test]
    fn byte_fallback_tokens_go_before_a_pending_unknown() {
        let m = model(BpeOptions {
            unk_token: Some("<unk>".into()),
            byte_fallback: true,
            ..Default::default()
        });
        assert_eq!(ids(&m, "xca"), [(4, 0, 1), (3, 1, 2), (0, 2, 3)]);
        assert_eq!(
            ids(&m, "xxcc a"),
            [
                (3, 0, 1),
                (4, 1, 2),
                (4, 2, 3),
                (3, 3, 4),
                (3, 4, 5),
                (0, 5, 6)
            ]
        );
        assert_eq!(ids(&m, "xc"), [(4, 0, 1), (3, 1, 2)]);
    }

    #[test]
    fn merge_outside_vocab_is_an_error() {
        let vocab: FxHashMap<String, u32> = [("a".to_string(), 0)].into_iter().collect();
        let err = Bpe::new(vocab, vec![("a", "a")], BpeOptions::default());
        assert!(err.unwrap_err().contains("merges[0]"));
    }

    /// A right part shorter than the continuing-subword prefix (or cut inside a char by it)
    /// is an error, as it is for `tokenizers` (which panics on it while loading).
    #[test]
    fn merge_part_shorter_than_the_prefix_is_an_error() {
        let vocab: FxHashMap<String, u32> = [("an", 0), ("s", 1), ("é", 2), ("ans", 3)]
            .into_iter()
            .map(|(t, i)| (t.to_string(), i))
            .collect();
        for (prefix, right) in [("##", "s"), ("#", "é")] {
            let opts = BpeOptions {
                continuing_subword_prefix: Some(prefix.into()),
                ..Default::default()
            };
            let err = Bpe::new(vocab.clone(), vec![("an", right)], opts);
            let Err(message) = err else {
                panic!("{prefix:?} {right:?} must be refused")
            };
            assert!(message.contains("continuing_subword_prefix"), "{message}");
        }
    }
}
