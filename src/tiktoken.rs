//! tiktoken encodings: a rank file (`base64(token) rank` per line), a split pattern and special
//! tokens. Merging uses the shared BPE loop with the rank of the merged bytes as the pair's rank,
//! which is exactly tiktoken's rule.

use base64::Engine as _;
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::error::{Error, ErrorKind, Result};
use crate::model::backtrack::{Backtrack, ByteRanks, OnDemand};
use crate::model::byte_cuts::{ByteCuts, KEEP_PARTS_BELOW};
use crate::model::cache::{self, Ahead, CacheId, Pending, PieceCache};
use crate::model::merge::{merge_all, Scratch, Symbol};
use crate::model::token_index::TokenIndex;
use crate::normalizer::Pattern;

#[derive(Debug)]
pub struct CoreBpe {
    /// bytes <-> rank, both ways.
    index: TokenIndex,
    special_encoder: FxHashMap<String, u32>,
    special_decoder: FxHashMap<u32, String>,
    pattern: Pattern,
    special_pattern: Option<regex::Regex>,
    cache: CacheId,
    /// The linear-time encoder, built on demand so that loading stays fast.
    backtrack: OnDemand<Backtrack>,
    /// Where a piece to merge may be cut into parts merged (and cached) on their own.
    cuts: ByteCuts,
    /// Per rank, whether merging the token's own bytes gives that token (`SELF_MADE`,
    /// `NOT_SELF_MADE`, or 0 until a part first meets it). A piece that is a token is that
    /// token (tiktoken's rule), but a part is merged: the two differ for a token that BPE
    /// cannot make from its bytes.
    self_made: Box<[AtomicU8]>,
}

const SELF_MADE: u8 = 1;
const NOT_SELF_MADE: u8 = 2;

/// A parsed rank file: every token's bytes back to back, and (start, end, rank) per token.
#[derive(Debug, Default)]
pub struct Ranks {
    bytes: Vec<u8>,
    tokens: Vec<(u32, u32, u32)>,
}

impl Ranks {
    pub fn push(&mut self, token: &[u8], rank: u32) {
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(token);
        self.tokens.push((start, self.bytes.len() as u32, rank));
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = (&[u8], u32)> {
        self.tokens
            .iter()
            .map(|&(s, e, r)| (&self.bytes[s as usize..e as usize], r))
    }
}

/// Parse a rank file's text, decoding straight into one buffer (no allocation per token).
pub fn parse_ranks(data: &[u8]) -> Result<Ranks> {
    let mut out = Ranks::default();
    out.bytes.reserve(data.len() / 2);
    out.tokens.reserve(data.len() / 12);
    let engine = base64::engine::general_purpose::STANDARD;
    let mut token = Vec::with_capacity(256);
    for (n, line) in data.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let bad = || {
            Error::new(
                ErrorKind::RankFile,
                format!(
                    "rank file line {}: expected `base64-token rank`, got {:?}",
                    n + 1,
                    String::from_utf8_lossy(&line[..line.len().min(80)])
                ),
            )
        };
        let sp = line.iter().position(|b| *b == b' ').ok_or_else(bad)?;
        token.clear();
        engine
            .decode_vec(&line[..sp], &mut token)
            .map_err(|_| bad())?;
        let rank: u32 = std::str::from_utf8(&line[sp + 1..])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(bad)?;
        out.push(&token, rank);
    }
    Ok(out)
}

impl CoreBpe {
    pub fn new(
        ranks: Ranks,
        special_tokens: FxHashMap<String, u32>,
        pattern: &str,
    ) -> Result<CoreBpe> {
        let regex = Pattern::regex(pattern)?;
        let index = TokenIndex::new(ranks.iter());
        // Every part merging makes is a token, so the tokens are all the cuts need to know.
        let cuts = ByteCuts::new(ranks.iter().map(|(t, _)| t));
        let self_made = (0..index.rank_end()).map(|_| AtomicU8::new(0)).collect();
        if index.len() != ranks.len() {
            return Err(Error::new(
                ErrorKind::RankFile,
                "the rank file repeats a rank or a token, or has an empty token",
            ));
        }
        let special_pattern = if special_tokens.is_empty() {
            None
        } else {
            let mut keys: Vec<&String> = special_tokens.keys().collect();
            keys.sort();
            let alt = keys
                .iter()
                .map(|k| regex::escape(k))
                .collect::<Vec<_>>()
                .join("|");
            Some(regex::Regex::new(&alt).map_err(|e| Error::new(ErrorKind::Regex, e.to_string()))?)
        };
        let special_decoder = special_tokens
            .iter()
            .map(|(k, v)| (*v, k.clone()))
            .collect();
        Ok(CoreBpe {
            index,
            special_encoder: special_tokens,
            special_decoder,
            pattern: regex,
            special_pattern,
            cache: CacheId::new(),
            backtrack: OnDemand::default(),
            cuts,
            self_made,
        })
    }

    pub fn n_ranks(&self) -> usize {
        self.index.len()
    }

    pub fn max_token_value(&self) -> u32 {
        let a = self.index.rank_end().saturating_sub(1) as u32;
        let b = self.special_encoder.values().copied().max().unwrap_or(0);
        a.max(b)
    }

    pub fn special_tokens(&self) -> &FxHashMap<String, u32> {
        &self.special_encoder
    }

    /// The ids of a piece whose front-table line was requested earlier.
    #[inline(always)]
    fn encode_pending(
        &self,
        text: &[u8],
        p: Pending,
        cache: &mut PieceCache,
        scratch: &mut Scratch,
        out: &mut Vec<u32>,
    ) {
        if p.short && cache.front_get(p.key, p.hash, out) {
            return;
        }
        self.encode_uncached(&text[p.range()], cache, scratch, out);
    }

    #[inline(never)]
    fn encode_uncached(
        &self,
        piece: &[u8],
        cache: &mut PieceCache,
        scratch: &mut Scratch,
        out: &mut Vec<u32>,
    ) {
        // Most pieces are one token: the vocabulary answers them in one probe, where the main
        // table (which holds only pieces of several tokens) would miss first.
        if let Some(r) = self.index.get(piece) {
            out.push(r);
            cache.store(piece, &[r], false);
            return;
        }
        // Short pieces are kept in the front table alone, which the caller has asked already.
        if piece.len() > cache::FRONT_KEY && cache.lookup_main(piece, out) {
            return;
        }
        let start = out.len();
        let cut = match self.cuts.parts(piece) {
            Some(parts) => {
                self.merge_parts(piece, parts, cache, scratch, out);
                true
            }
            None => {
                self.merge(piece, scratch, out);
                false
            }
        };
        // Short pieces go to the front table, which keeps them all. A long piece that was cut
        // is not kept whole: such pieces (runs of emoji, lines of mixed scripts) rarely come
        // back, while their parts do.
        cache.store(piece, &out[start..], !cut);
    }

    /// A piece cut into `parts`: each part is looked up (parts repeat far more than whole
    /// pieces) or merged and cached on its own.
    #[inline(never)]
    fn merge_parts(
        &self,
        piece: &[u8],
        parts: impl Iterator<Item = std::ops::Range<usize>>,
        cache: &mut PieceCache,
        scratch: &mut Scratch,
        out: &mut Vec<u32>,
    ) {
        for range in parts {
            let part = &piece[range];
            match self.index.get(part) {
                // A token: merged once to learn whether it makes itself. (Its cache entries
                // hold what a whole piece of these bytes gives, so they are not read here.)
                Some(r) => match self.self_made[r as usize].load(Ordering::Relaxed) {
                    SELF_MADE => out.push(r),
                    NOT_SELF_MADE => self.merge(part, scratch, out),
                    _ => {
                        let start = out.len();
                        self.merge(part, scratch, out);
                        let made = if out[start..] == [r] {
                            SELF_MADE
                        } else {
                            NOT_SELF_MADE
                        };
                        self.self_made[r as usize].store(made, Ordering::Relaxed);
                    }
                },
                None => {
                    if !cache.lookup(part, out) {
                        let start = out.len();
                        self.merge(part, scratch, out);
                        if piece.len() < KEEP_PARTS_BELOW {
                            cache.store(part, &out[start..], true);
                        }
                    }
                }
            }
        }
    }

    /// BPE on a piece that is not one token: the linear-time encoder once it is built, else
    /// the rank-order merge.
    fn merge(&self, piece: &[u8], scratch: &mut Scratch, out: &mut Vec<u32>) {
        let done = self
            .backtrack(piece.len())
            .is_some_and(|bt| bt.encode(piece, scratch, out));
        if !done {
            self.merge_piece(piece, scratch, out);
        }
    }

    fn backtrack(&self, len: usize) -> Option<&Backtrack> {
        self.backtrack
            .get(len, || Backtrack::build(&ByteRanks(&self.index)))
    }

    fn merge_piece(&self, piece: &[u8], scratch: &mut Scratch, out: &mut Vec<u32>) {
        scratch.symbols.clear();
        for (i, b) in piece.iter().enumerate() {
            // Every single byte has a rank in tiktoken's encodings.
            let id = self.index.byte_rank(*b).unwrap_or(u32::MAX);
            scratch.symbols.push(Symbol::new(id, i, i + 1));
        }
        let index = &self.index;
        merge_all(scratch, |l, r| {
            index
                .get(&piece[l.start as usize..r.end as usize])
                .map(|rank| (rank, rank))
        });
        out.extend(scratch.symbols.iter().map(|s| s.id));
    }

    /// Ordinary text only: special tokens are encoded as text.
    pub fn encode_ordinary_into(&self, text: &str, scratch: &mut Scratch, out: &mut Vec<u32>) {
        cache::with(&self.cache, |cache| {
            let bytes = text.as_bytes();
            let mut ahead = Ahead::default();
            self.pattern.for_each(text, |s, e| {
                if let Some(p) = ahead.push(cache, bytes, s, e) {
                    self.encode_pending(bytes, p, cache, scratch, out);
                }
            });
            for p in ahead.drain() {
                self.encode_pending(bytes, p, cache, scratch, out);
            }
        });
    }

    pub fn encode_ordinary(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        self.encode_ordinary_append(text, &mut out);
        out
    }

    /// `encode_ordinary`, appending to `out` (batch work fills one vector per run of texts).
    pub fn encode_ordinary_append(&self, text: &str, out: &mut Vec<u32>) {
        with_scratch(|s| self.encode_ordinary_into(text, s, out));
    }

    /// Specials in `allowed` become their ids; everything else is ordinary text.
    pub fn encode(&self, text: &str, allowed: &dyn Fn(&str) -> bool) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        with_scratch(|scratch| {
            let mut start = 0;
            loop {
                let mut next = None;
                if let Some(sp) = &self.special_pattern {
                    let mut from = start;
                    while from <= text.len() {
                        match sp.find_at(text, from) {
                            Some(m) if allowed(m.as_str()) => {
                                next = Some(m);
                                break;
                            }
                            Some(m) => {
                                from = m.start() + 1;
                                while from < text.len() && !text.is_char_boundary(from) {
                                    from += 1;
                                }
                            }
                            None => break,
                        }
                    }
                }
                let end = next.map_or(text.len(), |m| m.start());
                self.encode_ordinary_into(&text[start..end], scratch, &mut out);
                match next {
                    Some(m) => {
                        out.push(self.special_encoder[m.as_str()]);
                        start = m.end();
                    }
                    None => break,
                }
            }
        });
        out
    }

    pub fn count_ordinary(&self, text: &str) -> usize {
        // Counting reuses the encoder; the ids vector is scratch that is never handed out.
        thread_local! {
            static IDS: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        IDS.with(|ids| {
            let mut ids = ids.borrow_mut();
            ids.clear();
            with_scratch(|s| self.encode_ordinary_into(text, s, &mut ids));
            ids.len()
        })
    }

    /// Whether `text` holds any special token.
    pub fn has_special(&self, text: &str) -> bool {
        self.special_pattern
            .as_ref()
            .is_some_and(|sp| sp.is_match(text))
    }

    /// The first special token (of those `wanted` accepts) that occurs in `text`.
    pub fn find_special(&self, text: &str, wanted: &dyn Fn(&str) -> bool) -> Option<String> {
        let sp = self.special_pattern.as_ref()?;
        // Overlapping candidates matter: search from every start.
        let mut from = 0;
        while from <= text.len() {
            let m = sp.find_at(text, from)?;
            if wanted(m.as_str()) {
                return Some(m.as_str().to_string());
            }
            from = m.start() + 1;
            while from < text.len() && !text.is_char_boundary(from) {
                from += 1;
            }
        }
        None
    }

    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        if let Some(b) = self.index.bytes(id) {
            return Some(b);
        }
        self.special_decoder.get(&id).map(|s| s.as_bytes())
    }

    pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.decode_into(ids, &mut out)?;
        Ok(out)
    }

    /// Append the bytes of `ids` to `out`.
    pub fn decode_into(&self, mut ids: &[u32], out: &mut Vec<u8>) -> Result<()> {
        while let Err(at) = self.index.extend_bytes(ids, out) {
            // Not a rank: a special token, or an error.
            let id = ids[at];
            match self.special_decoder.get(&id) {
                Some(s) => out.extend_from_slice(s.as_bytes()),
                None => {
                    return Err(Error::new(
                        ErrorKind::UnknownId,
                        format!("token id {id} is not in this encoding"),
                    ))
                }
            }
            ids = &ids[at + 1..];
        }
        Ok(())
    }

    pub fn encode_single_token(&self, piece: &[u8]) -> Option<u32> {
        if let Some(r) = self.index.get(piece) {
            return Some(r);
        }
        std::str::from_utf8(piece)
            .ok()
            .and_then(|s| self.special_encoder.get(s).copied())
    }
}

fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    thread_local! {
        static S: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
    }
    S.with(|s| f(&mut s.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> CoreBpe {
        let mut ranks = Ranks::default();
        for b in 0..=255u8 {
            ranks.push(&[b], b as u32);
        }
        ranks.push(b"ab", 256);
        ranks.push(b"abc", 257);
        let special = [("<|end|>".to_string(), 300)].into_iter().collect();
        CoreBpe::new(ranks, special, r"\w+|\s+|[^\w\s]+").unwrap()
    }

    #[test]
    fn merges_by_rank() {
        let t = tiny();
        assert_eq!(t.encode_ordinary("abcab"), [257, 256]);
        assert_eq!(t.decode_bytes(&[257, 256]).unwrap(), b"abcab");
    }

    #[test]
    fn specials_only_when_allowed() {
        let t = tiny();
        assert_eq!(t.encode("ab<|end|>", &|_| true), [256, 300]);
        assert!(!t.encode("ab<|end|>", &|_| false).contains(&300));
        assert_eq!(
            t.find_special("x<|end|>", &|_| true).as_deref(),
            Some("<|end|>")
        );
    }

    /// Pieces cut where no token holds the two bytes side by side give what merging each
    /// whole piece gives, also where a part is a token that merging cannot make ("xyz", with
    /// neither "xy" nor "yz" a token): a whole piece of those bytes is that token, a part is
    /// not.
    #[test]
    fn cut_pieces_give_the_ids_of_whole_pieces() {
        let mut ranks = Ranks::default();
        for b in 0..=255u8 {
            ranks.push(&[b], b as u32);
        }
        let tokens: [&[u8]; 7] = [
            b"ab",
            b"abc",
            b"xyz",
            b"ca",
            b"bca",
            b"\xf0\x9f",
            b"\x98\x80",
        ];
        for (i, t) in tokens.iter().enumerate() {
            ranks.push(t, 256 + i as u32);
        }
        let t = CoreBpe::new(ranks, FxHashMap::default(), r"\w+|\s+|[^\w\s]+").unwrap();
        assert!(t.cuts.between(b'z', b'q') && !t.cuts.between(b'x', b'y'));
        assert_eq!(t.encode_ordinary("xyz"), [256 + 2]);
        assert_eq!(
            t.encode_ordinary("xyzq"),
            [b'x' as u32, b'y' as u32, b'z' as u32, b'q' as u32]
        );
        // What tiktoken does: a piece that is a token is that token, any other is merged.
        let whole_pieces = |text: &str| {
            let mut out = Vec::new();
            t.pattern.for_each(text, |s, e| {
                let piece = &text.as_bytes()[s..e];
                match t.index.get(piece) {
                    Some(r) => out.push(r),
                    None => with_scratch(|sc| t.merge_piece(piece, sc, &mut out)),
                }
            });
            out
        };
        let alphabet: Vec<String> = ["a", "b", "c", "x", "y", "z", "q", " ", "\u{1F600}", "abc"]
            .map(String::from)
            .into();
        for text in crate::test_texts::random_texts(&alphabet, 3_000, 24) {
            assert_eq!(t.encode_ordinary(&text), whole_pieces(&text), "{text:?}");
        }
    }

    #[test]
    fn parses_rank_lines() {
        let r = parse_ranks(b"YQ== 0\nYg== 1\n").unwrap();
        assert_eq!(
            r.iter().collect::<Vec<_>>(),
            [(b"a".as_slice(), 0), (b"b", 1)]
        );
        assert!(parse_ranks(b"nonsense").is_err());
    }
}
