//! The pipeline: added tokens, normalizer, pre-tokenizer, model, post-processor, decoder.

use std::cell::RefCell;
use std::sync::OnceLock;

use crate::added_tokens::AddedVocab;
use crate::decoder::Decoder;
use crate::encoding::Encoding;
use crate::error::{Error, ErrorKind, Result};
use crate::model::byte_cuts::{ByteCuts, KEEP_PARTS_BELOW};
use crate::model::cache::{self, Ahead, CacheId, Pending, PieceCache};
use crate::model::merge::Scratch;
use crate::model::{Bpe, Model, PieceToken};
use crate::normalized::NormalizedString;
use crate::normalizer::Normalizer;
use crate::normalizer::{Pattern, UnicodeForm};
use crate::padding::PaddingParams;
use crate::post_processor::PostProcessor;
use crate::pre_tokenizer::{byte_level, Behavior, PreTokenizer, PrependScheme};
use crate::truncation::TruncationParams;

thread_local! {
    static SCRATCH_IDS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    static SCRATCH: RefCell<Work> = RefCell::new(Work::default());
}

/// One thread's reusable buffers for encoding: batch threads encode text after text, and a
/// buffer made per call would be allocated and freed on every one, in an allocator shared with
/// the thread that frees the batch's output.
#[derive(Default)]
struct Work {
    scratch: Scratch,
    tokens: Vec<PieceToken>,
    /// A word as the model reads it (spaces replaced, bytes mapped to chars).
    word: String,
    /// The first word's cache key, with the prepended replacement as a space.
    key: String,
    /// Pieces of a text, for pre-tokenizers applied before the byte-level mapping.
    pieces: Vec<(usize, usize)>,
    /// Sub-pieces of a word, for pre-tokenizers applied after the byte-level mapping.
    subs: Vec<(usize, usize)>,
}

/// Truncation and padding, as a tokenizer.json file sets them (or `enable_truncation` and
/// `enable_padding` do). They apply to whole encodings, so the ids-only shortcuts step aside
/// while either is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub truncation: Option<TruncationParams>,
    pub padding: Option<PaddingParams>,
}

impl Limits {
    pub fn is_none(&self) -> bool {
        self.truncation.is_none() && self.padding.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct Tokenizer {
    /// The file's truncation and padding (callers pass the limits they run under).
    pub limits: Limits,
    pub added: AddedVocab,
    pub normalizer: Option<Normalizer>,
    pub pre_tokenizer: Option<PreTokenizer>,
    pub model: Model,
    pub post_processor: Option<PostProcessor>,
    pub decoder: Option<Decoder>,
    fast: Option<FastIds>,
    /// Whether the normalizer's leading `Prepend` applies to the first segment of a text only
    /// (the one at its start), not to the text after an added token; see
    /// `with_prepend_at_start_only`.
    prepend_at_start_only: bool,
    /// Whether the pre-tokenizer (if any) only cuts the text, so pieces can be byte ranges.
    cuts_only: bool,
    /// The ids-only shortcuts' own piece cache: keyed by the piece as the shortcut sees it
    /// (raw bytes for byte-level pipelines) and holding ids only, so a hit skips the byte-level
    /// mapping and the model's offsets.
    ids_cache: CacheId,
}

/// Shortcuts for ids-only encoding, taken only where they give exactly what the full pipeline
/// gives; offsets always take the full pipeline.
#[derive(Debug, Clone)]
enum FastIds {
    /// Byte-level pipelines (GPT-2, Llama-3, Qwen, ...): split the raw text with the pattern and
    /// map each piece to byte-level chars directly, with no alignment bookkeeping. Requires no
    /// normalizer, or NFC (text not already in NFC is normalized first); added tokens marked
    /// `normalized` are found in that text, as the pipeline finds them.
    ByteLevel {
        pattern: Pattern,
        nfc: bool,
        /// Where a piece to merge may be cut (`Bpe::byte_level_cuts`), found on first use.
        cuts: OnceLock<Option<ByteCuts>>,
    },
    /// SentencePiece-style pipelines (Llama-2, Mistral, Phi-3, Gemma 3): spaces become
    /// `replacement`, which may be prepended, and the whole text is one BPE word. A merge can
    /// cross the start of a word (a `replacement` after another char) only by making one of
    /// the few tokens that hold such a start, so each word is merged (and cached) on its own,
    /// with the same result, except where one of those tokens is written across the start.
    SentencePiece {
        replacement: char,
        prepend: Prepend,
        joins: Vec<Join>,
        /// Where a word may also be cut between two ASCII chars (`Bpe::ascii_cuts`, never
        /// next to a space or `replacement`): shorter parts, more of them met before, so
        /// found in the cache rather than merged again.
        cuts: Option<Box<[u128; 128]>>,
    },
    /// Any other pipeline whose pre-tokenizers only cut the text, with at most one ByteLevel
    /// among them (Falcon, DeepSeek, CLIP, ...): the segment is normalized as a plain string,
    /// and pieces are byte ranges rather than strings that carry alignments.
    Cut(Box<CutPlan>),
    /// Unigram pipelines of T5's shape (WhitespaceSplit, then Metaspace that splits): each
    /// whitespace-separated word gets `replacement` in front (when `prepend` and it does not
    /// start with one) and is cut before each `replacement`; ids are cached per word.
    Words { replacement: char, prepend: bool },
}

/// The pre-tokenizer of a `FastIds::Cut` pipeline, around its ByteLevel step.
#[derive(Debug, Clone)]
struct CutPlan {
    /// Cutting pre-tokenizers that run on the (normalized) text.
    before: Vec<PreTokenizer>,
    /// The ByteLevel step, if any: whether it splits with the GPT-2 pattern. It maps each
    /// piece to byte-level chars; the ids cache is keyed by the piece before that mapping.
    byte_level: Option<bool>,
    /// Cutting pre-tokenizers that run on each piece's byte-level chars.
    after: Vec<PreTokenizer>,
}

impl CutPlan {
    fn new(pre: Option<&PreTokenizer>) -> Option<CutPlan> {
        let mut steps = Vec::new();
        fn flatten<'a>(p: &'a PreTokenizer, out: &mut Vec<&'a PreTokenizer>) {
            match p {
                PreTokenizer::Sequence(list) => list.iter().for_each(|q| flatten(q, out)),
                q => out.push(q),
            }
        }
        if let Some(p) = pre {
            flatten(p, &mut steps);
        }
        let mut plan = CutPlan {
            before: Vec::new(),
            byte_level: None,
            after: Vec::new(),
        };
        for step in steps {
            match step {
                PreTokenizer::ByteLevel {
                    add_prefix_space: false,
                    use_regex,
                } if plan.byte_level.is_none() => plan.byte_level = Some(*use_regex),
                s if s.only_cuts() => match plan.byte_level {
                    None => plan.before.push(s.clone()),
                    Some(_) => plan.after.push(s.clone()),
                },
                _ => return None,
            }
        }
        Some(plan)
    }
}

/// A token that a merge can make across the start of a word, cut at that start: where the
/// text has `before` and then `after`, the two words are merged as one.
#[derive(Debug, Clone)]
struct Join {
    before: String,
    after: String,
}

impl Join {
    /// Whether `seg` (spaces read as `r`, and after a prepended `r` when `lead`) has `before`
    /// ending at byte `i` and `after` starting there.
    fn at(&self, seg: &str, i: usize, lead: bool, r: char) -> bool {
        let read = |x: char| if x == ' ' { r } else { x };
        let mut ahead = seg[i..].chars().map(read);
        if !self.after.chars().all(|y| ahead.next() == Some(y)) {
            return false;
        }
        let mut back = seg[..i].chars().rev().map(read).chain(lead.then_some(r));
        self.before.chars().rev().all(|y| back.next() == Some(y))
    }
}

/// How a SentencePiece-style pipeline reads spaces (see `FastIds::SentencePiece`).
#[derive(Clone, Copy)]
struct Words<'a> {
    r: char,
    prepend: Prepend,
    joins: &'a [Join],
    cuts: Option<&'a [u128; 128]>,
}

/// More joins than this and the words are too often merged together to be worth cutting.
const MAX_JOINS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prepend {
    /// Never (a plain Replace normalizer, Metaspace `never`).
    Never,
    /// The Prepend normalizer: always, on non-empty text.
    Always,
    /// Metaspace `always`: unless the text already starts with the replacement.
    UnlessPresent,
    /// Metaspace `first`: as `UnlessPresent`, and only at the start of the input.
    AtInputStart,
    /// The Prepend normalizer at the start of the input only (`with_prepend_at_start_only`).
    AlwaysAtInputStart,
}

impl FastIds {
    /// The fastest shortcut that gives the pipeline's ids, in order of preference.
    fn plan(
        added: &AddedVocab,
        normalizer: Option<&Normalizer>,
        pre: Option<&PreTokenizer>,
        model: &Model,
    ) -> Option<FastIds> {
        // Every shortcut caches ids, which BPE dropout makes random.
        if model.as_bpe().is_some_and(Bpe::has_dropout) {
            return None;
        }
        // The SentencePiece shortcut reads BPE merges; the others suit any model.
        let bpe = model.as_bpe();
        Self::byte_level(normalizer, pre)
            .or_else(|| Self::prepend_replace(added, normalizer, pre, bpe?))
            .or_else(|| Self::metaspace(added, normalizer, pre?, bpe?))
            .or_else(|| Self::replace_space(added, normalizer, pre, bpe?))
            .or_else(|| Some(FastIds::Cut(Box::new(CutPlan::new(pre)?))))
            .or_else(|| Self::words(pre?, model))
    }

    /// T5's pre-tokenizer, for Unigram models (BPE pipelines keep the shortcuts above).
    fn words(pre: &PreTokenizer, model: &Model) -> Option<FastIds> {
        if !matches!(model, Model::Unigram(_)) {
            return None;
        }
        let PreTokenizer::Sequence(list) = pre else {
            return None;
        };
        let [PreTokenizer::WhitespaceSplit, PreTokenizer::Metaspace {
            replacement,
            prepend_scheme,
            split: true,
        }] = list.as_slice()
        else {
            return None;
        };
        let prepend = match prepend_scheme {
            PrependScheme::Always => true,
            PrependScheme::Never => false,
            // Depends on where the word sits in the input: the full pipeline knows that.
            PrependScheme::First => return None,
        };
        Some(FastIds::Words {
            replacement: *replacement,
            prepend,
        })
    }

    fn byte_level(normalizer: Option<&Normalizer>, pre: Option<&PreTokenizer>) -> Option<FastIds> {
        let nfc = match normalizer {
            None => false,
            Some(Normalizer::Unicode(UnicodeForm::Nfc)) => true,
            Some(_) => return None,
        };
        let pattern = match pre? {
            PreTokenizer::ByteLevel {
                add_prefix_space: false,
                use_regex: true,
            } => byte_level::gpt2_pattern().clone(),
            PreTokenizer::Sequence(list) => match list.as_slice() {
                [PreTokenizer::Split {
                    pattern,
                    behavior: Behavior::Isolated,
                    invert: false,
                }, PreTokenizer::ByteLevel {
                    add_prefix_space: false,
                    use_regex: false,
                }] => pattern.clone(),
                _ => return None,
            },
            _ => return None,
        };
        Some(FastIds::ByteLevel {
            pattern,
            nfc,
            cuts: OnceLock::new(),
        })
    }

    /// SentencePiece conversions that prepend and replace in the normalizer (Llama-2).
    fn prepend_replace(
        added: &AddedVocab,
        normalizer: Option<&Normalizer>,
        pre: Option<&PreTokenizer>,
        model: &Bpe,
    ) -> Option<FastIds> {
        // The SentencePiece shortcut reads the raw text, where tokens matched after
        // normalization cannot be found.
        if pre.is_some() || added.has_normalized() {
            return None;
        }
        let Some(Normalizer::Sequence(list)) = normalizer else {
            return None;
        };
        match list.as_slice() {
            [Normalizer::Prepend(p), Normalizer::Replace {
                pattern: Pattern::Literal(space),
                content,
            }] if space == " " && p == content && content.chars().count() == 1 => {
                Self::sentencepiece(model, content.chars().next()?, Prepend::Always)
            }
            _ => None,
        }
    }

    /// SentencePiece conversions that only replace spaces in the normalizer (Gemma 3); a
    /// Split on spaces after that finds none.
    fn replace_space(
        added: &AddedVocab,
        normalizer: Option<&Normalizer>,
        pre: Option<&PreTokenizer>,
        model: &Bpe,
    ) -> Option<FastIds> {
        let Some(Normalizer::Replace {
            pattern: Pattern::Literal(space),
            content,
        }) = normalizer
        else {
            return None;
        };
        let mut chars = content.chars();
        let (Some(r), None) = (chars.next(), chars.next()) else {
            return None;
        };
        if space != " " || r == ' ' || added.has_normalized() {
            return None;
        }
        match pre {
            None => {}
            Some(PreTokenizer::Split {
                pattern: Pattern::Literal(p),
                invert: false,
                ..
            }) if p == " " => {}
            Some(_) => return None,
        }
        Self::sentencepiece(model, r, Prepend::Never)
    }

    /// The SentencePiece shortcut with replacement `r`, unless too many tokens join words, or
    /// the model drops unknown chars: a dropped char between two words leaves their
    /// replacements side by side, where a merge joins them that no word sees alone. Nor when
    /// `r` is no token of its own: then it does not end a run of unknown chars before it (it
    /// joins the run, or its byte-fallback bytes go before the run's unknown token), so a
    /// word cannot be cut at it. Nor with a continuing-subword prefix or an end-of-word
    /// suffix, which make a word's ids depend on where the pipeline cuts words.
    fn sentencepiece(model: &Bpe, r: char, prepend: Prepend) -> Option<FastIds> {
        if model.can_drop_chars()
            || model.has_word_affixes()
            || model.token_to_id(r.encode_utf8(&mut [0; 4])).is_none()
        {
            return None;
        }
        let mut joins = Vec::new();
        for t in model.tokens_crossing(r) {
            let mut prev = None;
            for (k, x) in t.char_indices() {
                if x == r && prev.is_some_and(|p| p != r) {
                    joins.push(Join {
                        before: t[..k].to_string(),
                        after: t[k..].to_string(),
                    });
                }
                prev = Some(x);
            }
            if joins.len() > MAX_JOINS {
                return None;
            }
        }
        let cuts = model.ascii_cuts().map(|mut cuts| {
            // Spaces and the replacement start words by the rules above, never by a cut.
            for sep in [' ', r].into_iter().filter(char::is_ascii) {
                cuts[sep as usize] = 0;
                for row in cuts.iter_mut() {
                    *row &= !(1 << sep as u32);
                }
            }
            cuts
        });
        Some(FastIds::SentencePiece {
            replacement: r,
            prepend,
            joins,
            cuts,
        })
    }

    /// SentencePiece conversions with a Metaspace pre-tokenizer (Mistral, Phi-3).
    fn metaspace(
        added: &AddedVocab,
        normalizer: Option<&Normalizer>,
        pre: &PreTokenizer,
        model: &Bpe,
    ) -> Option<FastIds> {
        if normalizer.is_some() || added.has_normalized() {
            return None;
        }
        let PreTokenizer::Metaspace {
            replacement,
            prepend_scheme,
            split: false,
        } = pre
        else {
            return None;
        };
        let prepend = match prepend_scheme {
            PrependScheme::Always => Prepend::UnlessPresent,
            PrependScheme::First => Prepend::AtInputStart,
            PrependScheme::Never => Prepend::Never,
        };
        Self::sentencepiece(model, *replacement, prepend)
    }
}

/// Byte offsets to char offsets, the way HF's Python binding reports them.
struct CharOffsets {
    /// Char index of every byte; empty when the text is ASCII (identity).
    map: Vec<u32>,
    len: usize,
    chars: usize,
}

/// A model token that ends past its piece: a BPE char given as byte tokens together with
/// its `end_of_word_suffix` (or `continuing_subword_prefix`), one byte each, so the affix's
/// bytes run on past the word. `tokenizers` finds no original range for such a token and
/// keeps its offsets within the piece as they are (not moved to where the piece starts), and
/// batok gives the same; see `CharOffsets::convert` for what becomes of them.
fn beyond(t: &crate::model::PieceToken, piece_len: usize) -> Option<(usize, usize)> {
    (t.end > piece_len && t.start < t.end).then_some((t.start, t.end))
}

impl CharOffsets {
    fn new(text: &str) -> Self {
        if text.is_ascii() {
            return CharOffsets {
                map: Vec::new(),
                len: text.len(),
                chars: text.len(),
            };
        }
        let mut map = Vec::with_capacity(text.len());
        let mut chars = 0u32;
        for c in text.chars() {
            map.extend(std::iter::repeat_n(chars, c.len_utf8()));
            chars += 1;
        }
        CharOffsets {
            map,
            len: text.len(),
            chars: chars as usize,
        }
    }

    /// As `tokenizers` converts: a start past the text keeps both byte offsets; an end at the
    /// text's end is its char count; an end further on (only a token that runs past its
    /// piece, see `beyond`) is one past the char after the start.
    fn convert(&self, (s, e): (usize, usize)) -> (usize, usize) {
        if s >= self.len {
            return (s, e);
        }
        if e > self.len {
            let cs = self.map.get(s).map_or(s, |&c| c as usize);
            return (cs, cs + 2);
        }
        if self.map.is_empty() {
            return (s, e);
        }
        let cs = self.map[s] as usize;
        let ce = if e < self.len {
            self.map[e] as usize
        } else {
            self.chars
        };
        (cs, ce)
    }
}

/// `f(start, end)` for each run of chars that are not whitespace (`char::is_whitespace`), in
/// order: `text.split(char::is_whitespace)` without its empty parts, reading ASCII bytes
/// without decoding them.
fn for_each_word(text: &str, mut f: impl FnMut(usize, usize)) {
    // ASCII's whitespace chars: tab, line feed, vertical tab, form feed, carriage return, space.
    const ASCII_SPACE: u64 = 0b11111 << 9 | 1 << 32;
    let b = text.as_bytes();
    let mut start = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let (space, len) = if c < 0x80 {
            (c < 64 && ASCII_SPACE >> c & 1 == 1, 1)
        } else {
            let ch = text[i..].chars().next().expect("i is at a char");
            (ch.is_whitespace(), ch.len_utf8())
        };
        match (space, start) {
            (true, Some(s)) => {
                f(s, i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
        i += len;
    }
    if let Some(s) = start {
        f(s, b.len());
    }
}

/// The first error of fallible steps that a callback-driven loop runs (one that cannot stop
/// early, such as a pattern's `for_each_isolated`): once a step fails, the rest are skipped.
#[derive(Default)]
struct FirstError(Option<Error>);

impl FirstError {
    #[inline]
    fn step(&mut self, f: impl FnOnce() -> Result<()>) {
        if self.0.is_none() {
            if let Err(e) = f() {
                self.0 = Some(e);
            }
        }
    }

    /// The error, if a step failed.
    fn check(&mut self) -> Result<()> {
        self.0.take().map_or(Ok(()), Err)
    }
}

impl Tokenizer {
    pub fn new(
        added: AddedVocab,
        normalizer: Option<Normalizer>,
        pre_tokenizer: Option<PreTokenizer>,
        model: Model,
        post_processor: Option<PostProcessor>,
        decoder: Option<Decoder>,
    ) -> Tokenizer {
        let fast = FastIds::plan(&added, normalizer.as_ref(), pre_tokenizer.as_ref(), &model);
        let cuts_only = pre_tokenizer.as_ref().is_none_or(PreTokenizer::only_cuts);
        Tokenizer {
            limits: Limits::default(),
            cuts_only,
            added,
            normalizer,
            pre_tokenizer,
            model,
            post_processor,
            decoder,
            fast,
            prepend_at_start_only: false,
            ids_cache: CacheId::new(),
        }
    }

    /// This tokenizer with its normalizer's leading `Prepend` applied to the start of a text
    /// only: the segment after an added token (`<s>[INST]`) gets nothing in front. That is how
    /// transformers 5 and Transformers.js both run a `LlamaTokenizer` whose config says
    /// `legacy: false`, where the file (and `tokenizers`) prepends to every segment. None when
    /// the normalizer does not start with a `Prepend`.
    pub fn with_prepend_at_start_only(&self) -> Option<Tokenizer> {
        let leading = match &self.normalizer {
            Some(Normalizer::Prepend(_)) => true,
            Some(Normalizer::Sequence(list)) => {
                matches!(list.first(), Some(Normalizer::Prepend(_)))
            }
            _ => false,
        };
        if !leading {
            return None;
        }
        let mut t = self.clone();
        t.prepend_at_start_only = true;
        // The SentencePiece shortcut knows where a segment starts; the others normalize each
        // segment whole, so they give way to the full pipeline.
        t.fast = match t.fast.take() {
            Some(FastIds::SentencePiece {
                replacement,
                prepend: Prepend::Always,
                joins,
                cuts,
            }) => Some(FastIds::SentencePiece {
                replacement,
                prepend: Prepend::AlwaysAtInputStart,
                joins,
                cuts,
            }),
            _ => None,
        };
        Some(t)
    }

    /// Normalize the segment of a text that starts at byte `start`.
    fn normalize_segment(&self, n: &mut NormalizedString, start: usize) {
        let Some(norm) = &self.normalizer else {
            return;
        };
        if self.prepend_at_start_only && start != 0 {
            // The leading Prepend (checked in `with_prepend_at_start_only`) is left out.
            if let Normalizer::Sequence(list) = norm {
                list[1..].iter().for_each(|x| x.normalize(n));
            }
            return;
        }
        norm.normalize(n);
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.added
            .token_to_id(token)
            .or_else(|| self.model.token_to_id(token))
    }

    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.added
            .text_of(id)
            .or_else(|| self.model.id_to_token(id))
    }

    pub fn vocab_size(&self, with_added_tokens: bool) -> usize {
        if !with_added_tokens {
            return self.model.vocab_size();
        }
        self.model.vocab_size()
            + self
                .added
                .tokens
                .iter()
                .filter(|t| !self.model.vocab().contains_key(&t.content))
                .count()
    }

    /// The largest id this tokenizer can produce.
    pub fn max_id(&self) -> Option<u32> {
        let model = self.model.vocab().values().copied().max();
        let added = self.added.tokens.iter().map(|t| t.id).max();
        model.max(added)
    }

    /// Every (token, id) pair, added tokens overriding the model's.
    pub fn vocab(&self, with_added_tokens: bool) -> Vec<(String, u32)> {
        let mut v: rustc_hash::FxHashMap<String, u32> = self.model.vocab().clone();
        if with_added_tokens {
            for t in &self.added.tokens {
                v.insert(t.content.clone(), t.id);
            }
        }
        v.into_iter().collect()
    }

    /// Run the pipeline up to the model, calling `emit(id, token, byte offsets)` per token.
    /// Every token of `text`: id, token string, byte offsets in `text`, and its word (the index
    /// of the piece it comes from, counted as `tokenizers` counts its splits: each added token
    /// and each non-empty pre-tokenized piece is one).
    /// Fails (`CannotEncode`) on a text this tokenizer cannot encode, once the tokens before
    /// the failure are emitted.
    fn run<F: FnMut(u32, &str, (usize, usize), u32)>(&self, text: &str, mut emit: F) -> Result<()> {
        let mut word = 0;
        for (s, e, id) in self.added.split_raw(text)? {
            match id {
                Some(id) => {
                    emit(id, &text[s..e], (s, e), word);
                    word += 1;
                }
                None if s < e => self.run_segment(text, s, e, true, &mut word, &mut emit)?,
                None => {}
            }
        }
        Ok(())
    }

    /// Everything after added-token matching, for `text[s..e]`; `word` counts pieces. With
    /// `match_added` false, no added token is looked for in the normalized text either.
    fn run_segment<F: FnMut(u32, &str, (usize, usize), u32)>(
        &self,
        text: &str,
        s: usize,
        e: usize,
        match_added: bool,
        word: &mut u32,
        emit: &mut F,
    ) -> Result<()> {
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let Work {
                scratch,
                tokens: out,
                pieces,
                ..
            } = &mut *guard;
            let mut n = NormalizedString::from_original(&text[s..e], s);
            self.normalize_segment(&mut n, s);
            if n.is_empty() {
                return Ok(());
            }
            let parts = if match_added {
                self.added.split_normalized(&n.text)?
            } else {
                vec![(0, n.text.len(), None)]
            };
            for (ns, ne, nid) in parts {
                if let Some(id) = nid {
                    emit(id, &n.text[ns..ne], n.original_range(ns..ne), *word);
                    *word += 1;
                    continue;
                }
                if ns == ne {
                    continue;
                }
                if self.cuts_only {
                    // Pieces as byte ranges of the normalized text: no piece is copied out
                    // with its alignments, which the offsets are read from in place.
                    pieces.clear();
                    pieces.push((ns, ne));
                    if let Some(p) = &self.pre_tokenizer {
                        p.cut(&n.text, pieces);
                    }
                    for &(a, b) in pieces.iter() {
                        if a == b {
                            continue;
                        }
                        out.clear();
                        self.model.tokenize(&n.text[a..b], scratch, out)?;
                        for t in out.iter() {
                            let tok = self.model.token_text(t, &n.text[a..b]);
                            let off = match beyond(t, b - a) {
                                Some(raw) => raw,
                                None => n.original_range(a + t.start..a + t.end),
                            };
                            emit(t.id, tok, off, *word);
                        }
                        *word += 1;
                    }
                    continue;
                }
                let piece = if ns == 0 && ne == n.text.len() {
                    std::mem::take(&mut n)
                } else {
                    n.slice(ns..ne)
                };
                let pieces = match &self.pre_tokenizer {
                    Some(p) => p.pre_tokenize(vec![piece]),
                    None => vec![piece],
                };
                for p in pieces {
                    if p.is_empty() {
                        continue;
                    }
                    out.clear();
                    self.model.tokenize(&p.text, scratch, out)?;
                    for t in out.iter() {
                        let tok = self.model.token_text(t, &p.text);
                        let off = match beyond(t, p.text.len()) {
                            Some(raw) => raw,
                            None => p.original_range(t.start..t.end),
                        };
                        emit(t.id, tok, off, *word);
                    }
                    *word += 1;
                }
            }
            Ok(())
        })
    }

    /// Ids only, through a shortcut where one applies.
    fn run_ids(&self, text: &str, ids: &mut Vec<u32>) -> Result<()> {
        let Some(fast) = &self.fast else {
            return self.run(text, |id, _, _, _| ids.push(id));
        };
        for (s, e, id) in self.added.split_raw(text)? {
            if let Some(id) = id {
                ids.push(id);
                continue;
            }
            if s == e {
                continue;
            }
            match fast {
                FastIds::ByteLevel { pattern, nfc, cuts } => {
                    let seg = &text[s..e];
                    let normalized;
                    let seg = if *nfc && !crate::normalizer::is_nfc(seg) {
                        // Ids depend only on the normalized text, so normalize it (as the
                        // pipeline would) and take the same shortcut.
                        let norm = self.normalizer.as_ref().expect("planned with NFC");
                        normalized = norm.normalize_str(seg);
                        normalized.as_str()
                    } else {
                        seg
                    };
                    if !self.added.has_normalized() {
                        self.byte_level_ids(seg, pattern, cuts, ids)?;
                        continue;
                    }
                    // Tokens marked `normalized` are found in the normalized text, between
                    // the raw tokens, and each piece between them is split on its own.
                    for (a, b, id) in self.added.split_normalized(seg)? {
                        match id {
                            Some(id) => ids.push(id),
                            None if a < b => self.byte_level_ids(&seg[a..b], pattern, cuts, ids)?,
                            None => {}
                        }
                    }
                }
                FastIds::SentencePiece {
                    replacement,
                    prepend,
                    joins,
                    cuts,
                } => {
                    let at_start = s == 0;
                    let words = Words {
                        r: *replacement,
                        prepend: *prepend,
                        joins,
                        cuts: cuts.as_deref(),
                    };
                    self.sentencepiece_ids(&text[s..e], at_start, &words, ids)?
                }
                FastIds::Words {
                    replacement,
                    prepend,
                } => self.normalized_ids(&text[s..e], ids, |piece, ids| {
                    self.word_ids(piece, *replacement, *prepend, ids)
                })?,
                FastIds::Cut(plan) => self.normalized_ids(&text[s..e], ids, |piece, ids| {
                    self.cut_ids(piece, plan, ids)
                })?,
            }
        }
        Ok(())
    }

    /// Ids of a piece of normalized text through a `FastIds::Cut` plan.
    fn cut_ids(&self, seg: &str, plan: &CutPlan, ids: &mut Vec<u32>) -> Result<()> {
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let Work {
                scratch,
                tokens: out,
                word,
                pieces,
                subs,
                ..
            } = &mut *guard;
            pieces.clear();
            pieces.push((0, seg.len()));
            plan.before.iter().for_each(|t| t.cut(seg, pieces));
            cache::with(&self.ids_cache, |cache| {
                let mut piece = |a: usize, b: usize| {
                    if a == b || cache.lookup_in(seg.as_bytes(), a, b, ids) {
                        return Ok(());
                    }
                    let first = ids.len();
                    let word = match plan.byte_level {
                        Some(_) => {
                            word.clear();
                            byte_level::push_byte_text(&seg.as_bytes()[a..b], word);
                            word.as_str()
                        }
                        None => &seg[a..b],
                    };
                    subs.clear();
                    subs.push((0, word.len()));
                    plan.after.iter().for_each(|t| t.cut(word, subs));
                    for &(x, y) in subs.iter() {
                        self.model_ids(&word[x..y], scratch, out, ids)?;
                    }
                    cache.store(&seg.as_bytes()[a..b], &ids[first..], true);
                    Ok(())
                };
                let mut failed = FirstError::default();
                for &(a, b) in pieces.iter() {
                    match plan.byte_level {
                        Some(true) => byte_level::gpt2_pattern()
                            .for_each_isolated(&seg[a..b], |x, y| {
                                failed.step(|| piece(a + x, a + y))
                            }),
                        _ => piece(a, b)?,
                    }
                    failed.check()?;
                }
                Ok(())
            })
        })
    }

    /// `text` normalized as a plain string: its normalized added tokens pushed as ids, every
    /// other non-empty piece handed to `piece`.
    fn normalized_ids(
        &self,
        text: &str,
        ids: &mut Vec<u32>,
        mut piece: impl FnMut(&str, &mut Vec<u32>) -> Result<()>,
    ) -> Result<()> {
        let normalized;
        let seg = match &self.normalizer {
            Some(norm) => {
                normalized = norm.normalize_str(text);
                normalized.as_str()
            }
            None => text,
        };
        for (a, b, id) in self.added.split_normalized(seg)? {
            match id {
                Some(id) => ids.push(id),
                None if a < b => piece(&seg[a..b], ids)?,
                None => {}
            }
        }
        Ok(())
    }

    /// Ids of a piece of normalized text through `FastIds::Words`.
    fn word_ids(&self, seg: &str, r: char, prepend: bool, ids: &mut Vec<u32>) -> Result<()> {
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let Work {
                scratch,
                tokens: out,
                word,
                ..
            } = &mut *guard;
            cache::with(&self.ids_cache, |cache| {
                let text = seg.as_bytes();
                let mut piece = |cache: &mut PieceCache, p: Pending| {
                    if cache.lookup_pending(text, p, ids) {
                        return Ok(());
                    }
                    let w = &seg[p.range()];
                    let first = ids.len();
                    word.clear();
                    if prepend && !w.starts_with(r) {
                        word.push(r);
                    }
                    word.push_str(w);
                    // Metaspace's split: a new piece starts at each replacement.
                    let mut start = 0;
                    for (i, _) in word.match_indices(r) {
                        if i > start {
                            self.model_ids(&word[start..i], scratch, out, ids)?;
                            start = i;
                        }
                    }
                    self.model_ids(&word[start..], scratch, out, ids)?;
                    cache.store(w.as_bytes(), &ids[first..], true);
                    Ok(())
                };
                let mut failed = FirstError::default();
                // Each word's front-table line is requested a few words ahead of its lookup.
                let mut ahead = Ahead::default();
                for_each_word(seg, |a, b| {
                    if let Some(p) = ahead.push(cache, text, a, b) {
                        failed.step(|| piece(cache, p));
                    }
                });
                for p in ahead.drain() {
                    failed.step(|| piece(cache, p));
                }
                failed.check()
            })
        })
    }

    fn byte_level_ids(
        &self,
        seg: &str,
        pattern: &Pattern,
        cuts: &OnceLock<Option<ByteCuts>>,
        ids: &mut Vec<u32>,
    ) -> Result<()> {
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let Work {
                scratch,
                tokens: out,
                word,
                ..
            } = &mut *guard;
            cache::with(&self.ids_cache, |cache| {
                let text = seg.as_bytes();
                let mut piece = |cache: &mut PieceCache, p: Pending| {
                    if p.range().is_empty() || cache.lookup_pending(text, p, ids) {
                        return Ok(());
                    }
                    let a = p.range().start;
                    let raw = &text[p.range()];
                    let cuts = cuts.get_or_init(|| self.model.as_bpe()?.byte_level_cuts());
                    let Some(parts) = cuts.as_ref().and_then(|c| c.parts(raw)) else {
                        word.clear();
                        byte_level::push_byte_text(raw, word);
                        self.model_ids(word, scratch, out, ids)?;
                        cache.store(raw, &ids[ids.len() - out.len()..], true);
                        return Ok(());
                    };
                    // Parts repeat far more than whole pieces: each is looked up, or merged and
                    // cached on its own.
                    let start = ids.len();
                    for part in parts {
                        if !cache.lookup_in(text, a + part.start, a + part.end, ids) {
                            word.clear();
                            byte_level::push_byte_text(&raw[part.clone()], word);
                            self.model_ids(word, scratch, out, ids)?;
                            if raw.len() < KEEP_PARTS_BELOW {
                                cache.store(&raw[part], &ids[ids.len() - out.len()..], true);
                            }
                        }
                    }
                    cache.store(raw, &ids[start..], false);
                    Ok(())
                };
                let mut failed = FirstError::default();
                // Each piece's front-table line is requested a few pieces ahead of its lookup.
                let mut ahead = Ahead::default();
                pattern.for_each_isolated(seg, |a, b| {
                    if let Some(p) = ahead.push(cache, text, a, b) {
                        failed.step(|| piece(cache, p));
                    }
                });
                for p in ahead.drain() {
                    failed.step(|| piece(cache, p));
                }
                failed.check()
            })
        })
    }

    /// The model's ids for `word`, appended to `ids` (`out` is scratch, left holding the
    /// word's tokens). The model's own cache is skipped: the caller caches ids.
    fn model_ids(
        &self,
        word: &str,
        scratch: &mut Scratch,
        out: &mut Vec<PieceToken>,
        ids: &mut Vec<u32>,
    ) -> Result<()> {
        out.clear();
        self.model.tokenize_uncached(word, scratch, out)?;
        ids.extend(out.iter().map(|t| t.id));
        Ok(())
    }

    /// SentencePiece-style ids: spaces read as `r`, and a word starts at each `r` that follows
    /// another char. Words are found and cached as written (a space and `r` both read as
    /// `r`), so the replaced text is built only for a word the cache lacks; the first word,
    /// when `r` is prepended to it, is keyed with a space in front.
    fn sentencepiece_ids(
        &self,
        seg: &str,
        at_start: bool,
        words: &Words,
        ids: &mut Vec<u32>,
    ) -> Result<()> {
        let Words {
            r,
            prepend,
            joins,
            cuts,
        } = *words;
        let mut buf = [0u8; 4];
        let r_bytes = r.encode_utf8(&mut buf).as_bytes();
        let bytes = seg.as_bytes();
        let starts_with_r = bytes.first() == Some(&b' ') || bytes.starts_with(r_bytes);
        let add = match prepend {
            Prepend::Never => false,
            Prepend::Always => true,
            Prepend::UnlessPresent => !starts_with_r,
            Prepend::AtInputStart => !starts_with_r && at_start,
            Prepend::AlwaysAtInputStart => at_start,
        };
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let Work {
                scratch,
                tokens: out,
                word,
                key: first_key,
                ..
            } = &mut *guard;
            first_key.clear();
            cache::with(&self.ids_cache, |cache| {
                let mut flush = |a: usize, b: usize, first: bool| {
                    let key = if first && add {
                        first_key.push(' ');
                        first_key.push_str(&seg[a..b]);
                        first_key.as_str()
                    } else {
                        &seg[a..b]
                    };
                    if key.is_empty() || cache.lookup(key.as_bytes(), ids) {
                        return Ok(());
                    }
                    word.clear();
                    word.extend(key.chars().map(|c| if c == ' ' { r } else { c }));
                    self.model_ids(word, scratch, out, ids)?;
                    cache.store(key.as_bytes(), &ids[ids.len() - out.len()..], true);
                    Ok(())
                };
                let lead = r_bytes[0];
                let (mut start, mut first) = (0, true);
                // Where the last separator ended: a separator starting there follows another
                // (at 0 it follows the prepended `r`, or nothing), so it starts no word.
                let mut sep_end = 0;
                let mut i = 0;
                while i < bytes.len() {
                    let b = bytes[i];
                    let len = if b == b' ' {
                        1
                    } else if b == lead && bytes[i..].starts_with(r_bytes) {
                        r_bytes.len()
                    } else {
                        if let Some(cuts) = cuts.filter(|_| i > start) {
                            let a = bytes[i - 1];
                            if a < 0x80 && b < 0x80 && cuts[a as usize] >> b & 1 != 0 {
                                flush(start, i, first)?;
                                (start, first) = (i, false);
                            }
                        }
                        i += 1;
                        continue;
                    };
                    if i != sep_end && !joins.iter().any(|j| j.at(seg, i, add, r)) {
                        flush(start, i, first)?;
                        (start, first) = (i, false);
                    }
                    sep_end = i + len;
                    i += len;
                }
                flush(start, bytes.len(), first)
            })
        })
    }

    /// One text through the pipeline up to the post-processor, every token with `type_id`.
    fn encode_sequence(&self, text: &str, type_id: u32) -> Result<Encoding> {
        let conv = CharOffsets::new(text);
        let mut enc = Encoding::default();
        self.run(text, |id, tok, off, word| {
            enc.push(id, tok.to_string(), conv.convert(off), false);
            *enc.words.last_mut().expect("just pushed") = Some(word);
        })?;
        if type_id != 0 {
            enc.type_ids.iter_mut().for_each(|t| *t = type_id);
        }
        Ok(enc)
    }

    /// Fails (`ErrorKind::CannotEncode`) on a text this tokenizer cannot encode, where
    /// `tokenizers` fails too; so does every other encode.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Encoding> {
        let enc = self.encode_sequence(text, 0)?;
        self.post_process(enc, None, add_special_tokens)
    }

    /// A pair of texts as `tokenizers` encodes it: each text on its own (the second with type
    /// id 1), then the post-processor's pair template around both. Offsets are relative to
    /// each token's own text.
    pub fn encode_pair(&self, a: &str, b: &str, add_special_tokens: bool) -> Result<Encoding> {
        let first = self.encode_sequence(a, 0)?;
        let second = self.encode_sequence(b, 1)?;
        self.post_process(first, Some(second), add_special_tokens)
    }

    fn post_process(
        &self,
        first: Encoding,
        second: Option<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Encoding> {
        match &self.post_processor {
            Some(p) => p.process_pair(first, second, add_special_tokens),
            None => {
                let mut parts = vec![first];
                parts.extend(second);
                if parts.len() > 1 {
                    for (i, e) in parts.iter_mut().enumerate() {
                        e.set_sequence_id(i);
                    }
                }
                Ok(Encoding::merge(parts))
            }
        }
    }

    /// Words given already split (`tokenizers`' pre-tokenized input): each word through the
    /// pipeline as a whole text of its own, its tokens numbered with the word's index and
    /// their offsets within the word.
    fn encode_words_sequence<S: AsRef<str>>(&self, words: &[S], type_id: u32) -> Result<Encoding> {
        let parts = words.iter().enumerate().map(|(i, w)| {
            let mut e = self.encode_sequence(w.as_ref(), type_id)?;
            e.words.iter_mut().for_each(|x| *x = Some(i as u32));
            Ok(e)
        });
        Ok(Encoding::merge(parts.collect::<Result<_>>()?))
    }

    /// A text, or a pair, under `limits`: truncated before the special tokens are added (each
    /// text encoded on its own first), padded after, as `tokenizers` runs its pipeline.
    pub fn encode_limited<I: Input + ?Sized>(
        &self,
        a: &I,
        b: Option<&I>,
        add_special_tokens: bool,
        limits: &Limits,
    ) -> Result<Encoding> {
        let mut e = self.encode_truncated(a, b, add_special_tokens, limits)?;
        if let Some(p) = &limits.padding {
            p.apply(std::slice::from_mut(&mut e))?;
        }
        Ok(e)
    }

    fn encode_truncated<I: Input + ?Sized>(
        &self,
        a: &I,
        b: Option<&I>,
        add_special_tokens: bool,
        limits: &Limits,
    ) -> Result<Encoding> {
        let mut first = a.encode_in(self, 0)?;
        let mut second = b.map(|b| b.encode_in(self, 1)).transpose()?;
        if let Some(t) = &limits.truncation {
            let added = match &self.post_processor {
                Some(p) if add_special_tokens => p.added_tokens(second.is_some()),
                _ => 0,
            };
            t.apply(&mut first, second.as_mut(), added)?;
        }
        self.post_process(first, second, add_special_tokens)
    }

    /// `encode_limited` over many texts or pairs on `threads` threads (0: all); padding to
    /// the longest pads to the longest of the batch.
    pub fn encode_batch_limited<I: Input + ?Sized>(
        &self,
        items: &[(&I, Option<&I>)],
        add_special_tokens: bool,
        threads: usize,
        limits: &Limits,
    ) -> Result<Vec<Encoding>> {
        let mut out = crate::batch::map(items, threads, |&(a, b)| {
            self.encode_truncated(a, b, add_special_tokens, limits)
        })
        .into_iter()
        .collect::<Result<Vec<Encoding>>>()?;
        if let Some(p) = &limits.padding {
            p.apply(&mut out)?;
        }
        Ok(out)
    }

    /// `encode_pair` over many pairs, or `encode` where an item has no second text, on
    /// `threads` threads (0: all).
    pub fn encode_pair_batch<S: AsRef<str> + Sync>(
        &self,
        items: &[(S, Option<S>)],
        add_special_tokens: bool,
        threads: usize,
    ) -> Result<Vec<Encoding>> {
        crate::batch::map(items, threads, |(a, b)| match b {
            Some(b) => self.encode_pair(a.as_ref(), b.as_ref(), add_special_tokens),
            None => self.encode(a.as_ref(), add_special_tokens),
        })
        .into_iter()
        .collect()
    }

    /// Ids only: the same result as `encode(..).ids` without building tokens and offsets.
    pub fn encode_ids(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 8);
        self.encode_ids_append(text, add_special_tokens, &mut ids)?;
        Ok(ids)
    }

    /// The ids of `text` as plain text: the normalizer, pre-tokenizer and model over the whole
    /// text, with no added token (special or not) matched and no post-processor, as a copy of
    /// this tokenizer without its added tokens and post-processor encodes it. Truncation and
    /// padding do not apply.
    pub fn encode_ids_without_added(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        if !text.is_empty() {
            let mut word = 0;
            self.run_segment(text, 0, text.len(), false, &mut word, &mut |id, _, _, _| {
                ids.push(id)
            })?;
        }
        Ok(ids)
    }

    /// `encode_ids`, appended to `out`: batch runs encode text after text into one vector. On
    /// an error, `out` may hold part of the text's ids.
    pub fn encode_ids_append(
        &self,
        text: &str,
        add_special_tokens: bool,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        match &self.post_processor {
            Some(p) => p.append_ids(add_special_tokens, out, &mut |o| self.run_ids(text, o)),
            None => self.run_ids(text, out),
        }
    }

    /// `encode_ids(..).len()`, with the ids written into a per-thread buffer rather than a new
    /// vector (so a template that drops or repeats the sequence counts as it encodes).
    pub fn count_tokens(&self, text: &str, add_special_tokens: bool) -> Result<usize> {
        SCRATCH_IDS.with(|v| {
            let mut v = v.borrow_mut();
            v.clear();
            self.encode_ids_append(text, add_special_tokens, &mut v)?;
            Ok(v.len())
        })
    }

    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        let mut tokens = Vec::with_capacity(ids.len());
        for &id in ids {
            // As `tokenizers`: an id's text (a normalized added token's as normalized), left out
            // when skipping special tokens if that text is a special token's content.
            if let Some(text) = self.id_to_token(id) {
                if !(skip_special_tokens && self.added.is_special_text(text)) {
                    tokens.push(text.to_string());
                }
            } else {
                return Err(Error::new(
                    ErrorKind::UnknownId,
                    format!(
                        "token id {id} is not in the vocabulary (size {})",
                        self.vocab_size(true)
                    ),
                ));
            }
        }
        Ok(match &self.decoder {
            Some(d) => d.decode(tokens),
            None => tokens.join(" "),
        })
    }
}

/// One sequence to encode: a text, or a text already split into words.
pub trait Input: Sync {
    /// Through the pipeline up to the post-processor, every token with `type_id`.
    fn encode_in(&self, t: &Tokenizer, type_id: u32) -> Result<Encoding>;
}

impl Input for str {
    fn encode_in(&self, t: &Tokenizer, type_id: u32) -> Result<Encoding> {
        t.encode_sequence(self, type_id)
    }
}

impl<S: AsRef<str> + Sync> Input for [S] {
    fn encode_in(&self, t: &Tokenizer, type_id: u32) -> Result<Encoding> {
        t.encode_words_sequence(self, type_id)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::from_json;

    /// The ids-only shortcut gives the full pipeline's ids on `count` random texts of up to
    /// `max_parts` parts drawn from `alphabet`.
    fn shortcut_agrees(
        t: &super::Tokenizer,
        alphabet: &[&str],
        count: usize,
        max_parts: u64,
        add: bool,
    ) {
        let alphabet: Vec<String> = alphabet.iter().map(|s| s.to_string()).collect();
        for text in crate::test_texts::random_texts(&alphabet, count, max_parts) {
            assert_eq!(
                t.encode_ids(&text, add).unwrap(),
                t.encode(&text, add).unwrap().ids,
                "{text:?}"
            );
        }
    }

    fn tiny(post_processor: &str) -> super::Tokenizer {
        let file = format!(
            r#"{{"model": {{"type": "BPE", "vocab": {{"a": 0, "b": 1, "é": 2, "<s>": 3}},
                "merges": []}}, "post_processor": {post_processor}}}"#
        );
        from_json(&file).unwrap()
    }

    /// A text the model cannot encode fails every encode with `CannotEncode`, on the full
    /// pipeline and on each ids shortcut, every time (a failure is not cached), and leaves the
    /// tokenizer as it was for the next text.
    #[test]
    fn a_text_the_model_cannot_encode_fails_every_encode() {
        let bpe = r#""model": {"type": "BPE", "unk_token": "<missing>", "merges": [["a", "b"]],
            "vocab": {"a": 0, "b": 1, "ab": 2, "\u2581": 3, "\u2581a": 4, " ": 5}}"#;
        let byte_bpe = r#""model": {"type": "BPE", "unk_token": "<missing>", "merges": [],
            "vocab": {"a": 0, "b": 1, "\u0120": 2}}"#;
        let unigram = r#""model": {"type": "Unigram", "unk_id": null,
            "vocab": [["\u2581", -1.0], ["a", -1.0], ["b", -1.0], ["ab", -0.5]]}"#;
        let metaspace = r#"{"type": "Metaspace", "replacement": "\u2581",
            "prepend_scheme": "always", "split": true}"#;
        let files = [
            // Cut (no pre-tokenizer), then ByteLevel, SentencePiece and Words shortcuts.
            format!("{{{bpe}}}"),
            format!(
                r#"{{"pre_tokenizer": {{"type": "ByteLevel", "add_prefix_space": false,
                    "trim_offsets": true, "use_regex": true}}, {byte_bpe}}}"#
            ),
            format!(
                r#"{{"normalizer": {{"type": "Sequence", "normalizers": [
                    {{"type": "Prepend", "prepend": "\u2581"}},
                    {{"type": "Replace", "pattern": {{"String": " "}}, "content": "\u2581"}}]}},
                    {bpe}}}"#
            ),
            format!(
                r#"{{"pre_tokenizer": {{"type": "Sequence", "pretokenizers": [
                    {{"type": "WhitespaceSplit"}}, {metaspace}]}}, {unigram}}}"#
            ),
        ];
        for file in &files {
            let t = from_json(file).unwrap();
            let good = t.encode_ids("ab ab", true).unwrap();
            assert!(!good.is_empty(), "{file}");
            for _ in 0..2 {
                let errors = [
                    t.encode("ab x", true).map(|_| ()).unwrap_err(),
                    t.encode_pair("ab", "x", true).map(|_| ()).unwrap_err(),
                    t.encode_ids("ab x", true).map(|_| ()).unwrap_err(),
                    t.count_tokens("ab x", true).map(|_| ()).unwrap_err(),
                ];
                for e in errors {
                    assert_eq!(e.kind, super::ErrorKind::CannotEncode, "{file}: {e}");
                }
                assert_eq!(t.encode_ids("ab ab", true).unwrap(), good, "{file}");
                assert_eq!(t.encode("ab ab", true).unwrap().ids, good, "{file}");
            }
        }
    }

    /// Ids alone (which may take the SentencePiece shortcut) are the pipeline's ids when the
    /// replacement `▁` is no token: its byte-fallback bytes then go before a pending unknown
    /// token, across what the shortcut would take for a word boundary.
    #[test]
    fn ids_alone_match_the_pipeline_when_the_replacement_is_no_token() {
        let mut vocab: Vec<String> = vec!["<unk>".into(), "a".into(), "x".into()];
        vocab.extend(
            (0..=255u8)
                .filter(|&b| b != b'\n')
                .map(|b| format!("<0x{b:02X}>")),
        );
        let vocab: Vec<String> = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{t:?}: {i}"))
            .collect();
        let file = format!(
            r#"{{"normalizer": {{"type": "Sequence", "normalizers": [
                    {{"type": "Prepend", "prepend": "\u2581"}},
                    {{"type": "Replace", "pattern": {{"String": " "}}, "content": "\u2581"}}]}},
                "model": {{"type": "BPE", "vocab": {{{}}}, "merges": [], "unk_token": "<unk>",
                    "fuse_unk": true, "byte_fallback": true}}}}"#,
            vocab.join(", ")
        );
        let t = from_json(&file).unwrap();
        for text in ["\n\n x", " \n a", "a\n\nx x\n", "\n"] {
            assert_eq!(
                t.encode_ids(text, true).unwrap(),
                t.encode(text, true).unwrap().ids,
                "{text:?}"
            );
        }
    }

    /// Ids alone are the pipeline's ids with an end-of-word suffix or a continuing-subword
    /// prefix, where the pipeline does not cut words at `▁` (Metaspace without split).
    #[test]
    fn ids_alone_match_the_pipeline_with_word_affixes() {
        for affix in [
            r#""end_of_word_suffix": "</w>""#,
            r#""continuing_subword_prefix": "@@""#,
        ] {
            let file = format!(
                r#"{{"pre_tokenizer": {{"type": "Metaspace", "replacement": "\u2581",
                    "prepend_scheme": "first", "split": false}},
                "model": {{"type": "BPE", "unk_token": "<unk>", {affix}, "merges": [],
                    "vocab": {{"<unk>": 0, "\u2581": 1, "a": 2, "b": 3, "\u2581a": 4,
                        "b</w>": 5, "@@b": 6, "@@\u2581": 7, "\u2581</w>": 8}}}}}}"#
            );
            let t = from_json(&file).unwrap();
            for text in ["a  b", "a b", "ab  ", " b"] {
                assert_eq!(
                    t.encode_ids(text, true).unwrap(),
                    t.encode(text, true).unwrap().ids,
                    "{text:?}"
                );
            }
        }
    }

    /// As `tokenizers` answers them: a `normalized` added token's id gives its content as the
    /// normalizer makes it, and skipping special tokens leaves out a text that is a special
    /// token's content (a normalized special token that the normalizer changes stays).
    #[test]
    fn normalized_added_tokens_decode_as_normalized() {
        let file = r#"{"model": {"type": "WordLevel", "vocab": {"a": 0, "[UNK]": 1},
            "unk_token": "[UNK]"}, "normalizer": {"type": "Lowercase"},
            "pre_tokenizer": {"type": "WhitespaceSplit"},
            "added_tokens": [
              {"id": 2, "content": "NewTok", "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": true, "special": false},
              {"id": 3, "content": "SpecTok", "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": true, "special": true},
              {"id": 4, "content": "[SEP]", "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": false, "special": true},
              {"id": 5, "content": "lower", "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": true, "special": true}]}"#;
        let t = from_json(file).unwrap();
        assert_eq!(t.id_to_token(2), Some("newtok"));
        assert_eq!(t.id_to_token(3), Some("spectok"));
        assert_eq!(t.id_to_token(4), Some("[SEP]"));
        let ids = [0, 2, 3, 4, 5];
        assert_eq!(
            t.decode(&ids, false).unwrap(),
            "a newtok spectok [SEP] lower"
        );
        assert_eq!(t.decode(&ids, true).unwrap(), "a newtok spectok");
    }

    /// The ids shortcut of T5-shaped Unigram pipelines gives the full pipeline's ids, on
    /// text with whitespace runs, literal `▁`, added tokens and unknown chars.
    #[test]
    fn unigram_word_shortcut_gives_the_pipeline_ids() {
        for scheme in [
            "\"add_prefix_space\": true",
            "\"prepend_scheme\": \"never\"",
        ] {
            let file = format!(
                r#"{{"added_tokens": [{{"id": 7, "content": "</s>", "special": true,
                    "single_word": false, "lstrip": false, "rstrip": false, "normalized": false}}],
                "pre_tokenizer": {{"type": "Sequence", "pretokenizers": [
                    {{"type": "WhitespaceSplit"}},
                    {{"type": "Metaspace", "replacement": "\u2581", {scheme}}}]}},
                "model": {{"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0],
                    ["\u2581", -2.0], ["\u2581a", -1.0], ["a", -1.5], ["b", -1.5],
                    ["ab", -2.5], ["\u2581ab", -2.0], ["\u2581\u2581", -3.0]]}}}}"#
            );
            let t = from_json(&file).unwrap();
            assert!(matches!(t.fast, Some(super::FastIds::Words { .. })));
            let alphabet = [
                "a", "b", "ab", " ", "\t", "\n", "\u{2581}", "\u{3000}", "x", "\u{e9}", "</s>",
            ];
            shortcut_agrees(&t, &alphabet, 3_000, 14, true);
        }
    }

    /// The SentencePiece shortcut, with words also cut between ASCII chars that no merged
    /// token holds side by side, gives the full pipeline's ids: on text of chars that merge,
    /// chars that never do, a char spelled in byte-fallback tokens and an unknown one.
    #[test]
    fn sentencepiece_cuts_give_the_pipeline_ids() {
        let file = r#"{"normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": "\u2581"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
            "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true,
                "vocab": {"<unk>": 0, "<0x0A>": 1, "\u2581": 2, "a": 3, "b": 4, ".": 5, "c": 6,
                    "ab": 7, "b.": 8, "\u2581a": 9, "\u2581ab": 10, "ab.": 11, "\u2581\u2581": 12},
                "merges": [["a", "b"], ["b", "."], ["\u2581", "a"], ["\u2581", "ab"],
                    ["ab", "."], ["\u2581", "\u2581"]]}}"#;
        let t = from_json(file).unwrap();
        let Some(super::FastIds::SentencePiece {
            cuts: Some(cuts), ..
        }) = &t.fast
        else {
            panic!("the SentencePiece shortcut, with cuts");
        };
        let cut = |x: char, y: char| cuts[x as usize] >> y as u32 & 1 != 0;
        assert!(!cut('a', 'b') && !cut('b', '.') && cut('.', 'a') && cut('c', 'a'));
        assert!(cut('\n', 'a') && !cut('x', 'a') && !cut(' ', 'a') && !cut('a', ' '));
        let alphabet = ["a", "b", ".", "c", "\n", " ", "x", "\u{2581}", "ab."];
        let agree = |t: &super::Tokenizer| shortcut_agrees(t, &alphabet, 3_000, 16, false);
        agree(&t);
        // "c" sharing the id of "a": the merge of "a" and "b" joins "c" and "b" too, although
        // no token is spelled with "cb", so nothing is cut.
        let c_as_a = file.replacen(r#""c": 6"#, r#""c": 3"#, 1);
        let t = from_json(&c_as_a).unwrap();
        assert!(matches!(
            t.fast,
            Some(super::FastIds::SentencePiece { cuts: None, .. })
        ));
        assert_eq!(
            t.encode_ids("cb", false).unwrap(),
            t.encode("cb", false).unwrap().ids
        );
        agree(&t);
        // With a token for every byte no char is unknown: two chars spelled in bytes are cut
        // apart too.
        let bytes: String = (0..=255u32)
            .map(|b| format!(r#", "<0x{b:02X}>": {}"#, 100 + b))
            .collect();
        let every_byte = file.replace(
            r#""\u2581\u2581": 12}"#,
            &format!(r#""\u2581\u2581": 12{bytes}}}"#),
        );
        let t = from_json(&every_byte).unwrap();
        let Some(super::FastIds::SentencePiece {
            cuts: Some(cuts), ..
        }) = &t.fast
        else {
            panic!("the SentencePiece shortcut, with cuts");
        };
        assert!(
            cuts['\n' as usize] >> '\n' as u32 & 1 != 0
                && cuts['x' as usize] >> 'x' as u32 & 1 != 0
        );
        agree(&t);
    }

    /// The byte-level shortcut cuts pieces where no token holds two bytes side by side, and
    /// gets the full pipeline's ids: on text whose parts merge (ASCII, "é" made of two
    /// byte-level chars), and on runs of emoji, which no token joins.
    #[test]
    fn byte_level_cuts_give_the_pipeline_ids() {
        let chars = crate::pre_tokenizer::byte_level::byte_to_char();
        let vocab: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
        let merges = [
            ("a", "b"),
            ("ab", "c"),
            ("\u{120}", "a"),
            ("\u{120}a", "b"),
            ("c", "a"),
            ("\u{c3}", "\u{a9}"),
            ("\u{f0}", "\u{141}"),
        ];
        let json = |t: &str| serde_json::to_string(t).unwrap();
        let mut entries: Vec<String> = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{}: {i}", json(t)))
            .collect();
        for (i, (a, b)) in merges.iter().enumerate() {
            entries.push(format!("{}: {}", json(&format!("{a}{b}")), 256 + i));
        }
        let merges_json: Vec<String> = merges
            .iter()
            .map(|(a, b)| format!("[{}, {}]", json(a), json(b)))
            .collect();
        let file = format!(
            r#"{{"pre_tokenizer": {{"type": "ByteLevel", "add_prefix_space": false,
                "trim_offsets": true, "use_regex": true}},
              "model": {{"type": "BPE", "vocab": {{{}}}, "merges": [{}]}}}}"#,
            entries.join(", "),
            merges_json.join(", ")
        );
        let t = from_json(&file).unwrap();
        let alphabet = [
            "a",
            "b",
            "c",
            "ab",
            " ",
            "\u{e9}",
            "\u{1F600}",
            "\u{1F642}",
            "x",
        ];
        shortcut_agrees(&t, &alphabet, 3_000, 24, false);
        let Some(super::FastIds::ByteLevel { cuts, .. }) = &t.fast else {
            panic!("the byte-level shortcut");
        };
        let cuts = cuts
            .get()
            .and_then(Option::as_ref)
            .expect("cuts found while encoding");
        assert!(
            !cuts.between(b'a', b'b') && !cuts.between(0xC3, 0xA9) && !cuts.between(b' ', b'a')
        );
        assert!(cuts.between(b'b', b'a') && cuts.between(0x80, 0xF0));
        // "x" sharing the id of "a": merging "Ġ" with "a" joins "Ġ" and "x" too, although no
        // token is spelled with " x", so nothing is cut.
        let x_as_a = file.replacen(r#""x": 120"#, r#""x": 97"#, 1);
        assert_ne!(x_as_a, file);
        let t = from_json(&x_as_a).unwrap();
        assert_eq!(t.encode(" x", false).unwrap().ids, [256 + 2]);
        shortcut_agrees(&t, &alphabet, 3_000, 24, false);
        let Some(super::FastIds::ByteLevel { cuts, .. }) = &t.fast else {
            panic!("the byte-level shortcut");
        };
        assert!(cuts.get().is_some_and(Option::is_none));
    }

    /// `encode_ids_without_added` cuts an added token's content as plain text, with the prefix
    /// on the first piece and no post-processor: the ids a copy of the file without its added
    /// tokens and post-processor gives.
    #[test]
    fn ids_without_added_read_added_tokens_as_text() {
        let body = r#""pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
                "prepend_scheme": "first", "split": true},
            "model": {"type": "BPE", "unk_token": "<unk>",
                "merges": [["\u2581", "a"], ["\u2581", "<"]],
                "vocab": {"<unk>": 0, "\u2581": 1, "<": 2, "s": 3, ">": 4, "a": 5,
                    "\u2581a": 6, "<s>": 7, "\u2581<": 8}}"#;
        let full = format!(
            r#"{{{body}, "added_tokens": [
                {{"id": 7, "content": "<s>", "single_word": false, "lstrip": false,
                  "rstrip": false, "normalized": false, "special": true}},
                {{"id": 9, "content": "as", "single_word": false, "lstrip": false,
                  "rstrip": false, "normalized": true, "special": false}}],
            "post_processor": {{"type": "TemplateProcessing",
                "single": [{{"SpecialToken": {{"id": "<s>", "type_id": 0}}}},
                           {{"Sequence": {{"id": "A", "type_id": 0}}}}],
                "pair": [{{"Sequence": {{"id": "A", "type_id": 0}}}},
                         {{"Sequence": {{"id": "B", "type_id": 1}}}}],
                "special_tokens": {{"<s>": {{"id": "<s>", "ids": [7], "tokens": ["<s>"]}}}}}}}}"#
        );
        let t = from_json(&full).unwrap();
        let bare = from_json(&format!("{{{body}}}")).unwrap();
        let text = "<s>a <s>as";
        assert!(t.encode_ids(text, true).unwrap().contains(&7));
        assert!(t.encode_ids(text, false).unwrap().contains(&9));
        let ids = t.encode_ids_without_added(text).unwrap();
        assert_eq!(ids, [8, 3, 4, 5, 8, 3, 4, 5, 3]);
        assert_eq!(ids, bare.encode_ids(text, true).unwrap());
        assert_eq!(ids, bare.encode(text, true).unwrap().ids);
        for text in ["", " ", "as", " <s>", "a<s> as "] {
            assert_eq!(
                t.encode_ids_without_added(text).unwrap(),
                bare.encode(text, true).unwrap().ids,
                "{text:?}"
            );
        }
    }

    #[test]
    fn pair_offsets_are_relative_to_each_text_in_chars() {
        let t = tiny("null");
        let e = t.encode_pair("éa", "bé", true).unwrap();
        assert_eq!(e.ids, [2, 0, 1, 2]);
        assert_eq!(e.offsets, [(0, 1), (1, 2), (0, 1), (1, 2)]);
        assert_eq!(e.type_ids, [0, 0, 1, 1]);
        assert_eq!(e.sequence_ids(), [Some(0), Some(0), Some(1), Some(1)]);
    }

    #[test]
    fn pair_takes_the_pair_template() {
        let t = tiny(
            r#"{"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                         {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "<s>", "type_id": 1}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"<s>": {"id": "<s>", "ids": [3], "tokens": ["<s>"]}}}"#,
        );
        let e = t.encode_pair("a", "b", true).unwrap();
        assert_eq!(e.ids, [3, 0, 3, 1]);
        assert_eq!(e.type_ids, [0, 0, 1, 1]);
        assert_eq!(e.special_tokens_mask, [1, 0, 1, 0]);
        assert_eq!(e.tokens, ["<s>", "a", "<s>", "b"]);
        let batch = t
            .encode_pair_batch(&[("a", Some("b")), ("b", Some("")), ("a", None)], true, 2)
            .unwrap();
        assert_eq!(batch[0], e);
        assert_eq!(batch[1].ids, [3, 1, 3]);
        assert_eq!(batch[2].ids, [3, 0]);
    }

    /// A char given as byte tokens with the end-of-word suffix: the suffix's bytes run on past
    /// the word, and their offsets are what `tokenizers` 0.23 gives (checked on these texts):
    /// within the word while they fall in the text, else the raw bytes past the piece.
    #[test]
    fn suffix_bytes_past_the_word_keep_tokenizers_offsets() {
        let mut vocab: Vec<String> = (0..=255u8)
            .map(|b| format!(r#""<0x{b:02X}>": {b}"#))
            .collect();
        vocab.push(r#""a": 256, "a</w>": 257"#.into());
        let file = format!(
            r#"{{"model": {{"type": "BPE", "vocab": {{{}}}, "merges": [],
                "end_of_word_suffix": "</w>", "byte_fallback": true}},
                "pre_tokenizer": {{"type": "WhitespaceSplit"}}}}"#,
            vocab.join(", ")
        );
        let t = from_json(&file).unwrap();
        let cases: [(&str, &[(usize, usize)]); 4] = [
            ("x", &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]),
            ("ax", &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]),
            ("\u{e9}", &[(0, 1), (0, 1), (2, 3), (3, 4), (4, 5), (5, 6)]),
            (
                "a \u{1F600}",
                &[
                    (0, 1),
                    (2, 3),
                    (2, 3),
                    (2, 3),
                    (2, 3),
                    (2, 2),
                    (2, 3),
                    (6, 7),
                    (7, 8),
                ],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(t.encode(text, false).unwrap().offsets, want, "{text:?}");
        }
    }

    /// With `with_prepend_at_start_only`, the segment after an added token gets no `▁` in
    /// front, the one at the start of the text does (even before a space), and the ids
    /// shortcut agrees with the full pipeline; without it every segment gets one.
    #[test]
    fn prepend_at_start_only_leaves_segments_after_added_tokens_bare() {
        let file = r#"{"normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": "\u2581"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
            "added_tokens": [{"id": 6, "content": "<s>", "special": true, "lstrip": false,
                "rstrip": false, "normalized": false, "single_word": false}],
            "model": {"type": "BPE", "merges": [["\u2581", "x"], ["\u2581", "\u2581"]],
                "vocab": {"x": 0, "y": 1, "\u2581": 2, "\u2581x": 3, "\u2581\u2581": 4,
                    "z": 5, "<s>": 6}}}"#;
        let file_tokenizer = from_json(file).unwrap();
        let t = file_tokenizer.with_prepend_at_start_only().unwrap();
        let tokens = |t: &super::Tokenizer, text: &str| t.encode(text, false).unwrap().tokens;
        assert_eq!(
            tokens(&file_tokenizer, "<s>x y"),
            ["<s>", "\u{2581}x", "\u{2581}", "y"]
        );
        assert_eq!(tokens(&t, "<s>x y"), ["<s>", "x", "\u{2581}", "y"]);
        assert_eq!(tokens(&t, "x<s> x"), ["\u{2581}x", "<s>", "\u{2581}x"]);
        assert_eq!(tokens(&t, " x"), ["\u{2581}", "\u{2581}x"]);
        assert_eq!(t.encode("<s>x", false).unwrap().offsets, [(0, 3), (3, 4)]);
        shortcut_agrees(&t, &["x", "y", " ", "<s>", "z", "\u{2581}"], 300, 8, false);
        let plain = from_json(r#"{"model": {"type": "BPE", "vocab": {"x": 0}, "merges": []}}"#);
        assert!(plain.unwrap().with_prepend_at_start_only().is_none());
    }

    #[test]
    fn words_are_the_non_empty_parts_between_whitespace() {
        for text in [
            "",
            " ",
            "a",
            " a  b\tc\n",
            "x\u{85}y\u{a0}z\u{3000}",
            "é  ü\u{2028}",
            "\u{1c}a",
        ] {
            let mut got = Vec::new();
            super::for_each_word(text, |s, e| got.push(&text[s..e]));
            let want: Vec<&str> = text
                .split(char::is_whitespace)
                .filter(|w| !w.is_empty())
                .collect();
            assert_eq!(got, want, "{text:?}");
        }
        for c in (0..=0x3000u32).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            let mut n = 0;
            super::for_each_word(&text, |_, _| n += 1);
            assert_eq!(n, if c.is_whitespace() { 2 } else { 1 }, "{c:?}");
        }
    }
}
