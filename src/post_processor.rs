//! Post-processors: offsets trimming and the special tokens around a sequence (BOS/EOS, CLS/SEP).

use crate::encoding::Encoding;
use crate::error::{Error, Result};
use crate::pre_tokenizer::byte_level::byte_to_char;

#[derive(Debug, Clone)]
pub enum TemplatePiece {
    Special {
        id: String,
        type_id: u32,
    },
    /// `$A` (`second: false`) or `$B` (`second: true`), with the type id its tokens get.
    Sequence {
        second: bool,
        type_id: u32,
    },
}

#[derive(Debug, Clone)]
pub struct SpecialTokens {
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum PostProcessor {
    ByteLevel {
        trim_offsets: bool,
        add_prefix_space: bool,
    },
    Roberta {
        sep: (String, u32),
        cls: (String, u32),
        trim_offsets: bool,
        add_prefix_space: bool,
    },
    Bert {
        sep: (String, u32),
        cls: (String, u32),
    },
    Template {
        single: Vec<TemplatePiece>,
        pair: Vec<TemplatePiece>,
        special_tokens: Vec<(String, SpecialTokens)>,
    },
    Sequence(Vec<PostProcessor>),
}

/// The special token a template names. `tokenizers` loads a template that names one missing
/// from its `special_tokens` and fails only when it adds that template's special tokens, so
/// batok stops there too.
fn special_token<'a>(
    special_tokens: &'a [(String, SpecialTokens)],
    id: &str,
) -> Result<&'a SpecialTokens> {
    match special_tokens.iter().find(|(k, _)| k == id) {
        Some((_, st)) => Ok(st),
        None => Err(Error::cannot_encode(format!(
            "the template uses special token {id:?}, which its special_tokens lacks (tokenizers \
             fails here too); add {id:?} to special_tokens or encode with \
             add_special_tokens=False"
        ))),
    }
}

/// Move offsets past leading and trailing spaces of byte-level tokens (HF's `process_offsets`).
fn trim_offsets(enc: &mut Encoding, add_prefix_space: bool) {
    for w in &mut enc.overflowing {
        trim_offsets(w, add_prefix_space);
    }
    let space = byte_to_char()[b' ' as usize];
    let is_space = |c: &char| *c == space || c.is_whitespace();
    for (i, (tok, off)) in enc.tokens.iter().zip(enc.offsets.iter_mut()).enumerate() {
        let mut lead = tok.chars().take_while(is_space).count();
        let trail = tok.chars().rev().take_while(is_space).count();
        if lead == 0 && trail == 0 {
            continue;
        }
        if lead > 0 {
            let is_first = i == 0 || off.0 == 0;
            if is_first && add_prefix_space && lead == 1 {
                lead = 0;
            }
            off.0 = (off.0 + lead).min(off.1);
        }
        if trail > 0 && off.1 >= trail {
            off.1 = (off.1 - trail).max(off.0);
        }
    }
}

/// Give every token of `e` and of its overflowing windows type id `type_id`.
fn set_type_ids(e: &mut Encoding, type_id: u32) {
    e.type_ids.iter_mut().for_each(|x| *x = type_id);
    for w in &mut e.overflowing {
        set_type_ids(w, type_id);
    }
}

/// Mark `e` and its overflowing windows as sequence `seq`.
fn set_sequence_ids(e: &mut Encoding, seq: usize) {
    e.set_sequence_id(seq);
    for w in &mut e.overflowing {
        set_sequence_ids(w, seq);
    }
}

/// An encoding of special tokens only, each with type id `type_id`.
fn specials(ids: &[u32], tokens: &[String], type_id: u32) -> Encoding {
    let n = ids.len();
    Encoding {
        ids: ids.to_vec(),
        tokens: tokens.to_vec(),
        offsets: vec![(0, 0); n],
        type_ids: vec![type_id; n],
        special_tokens_mask: vec![1; n],
        words: vec![None; n],
        attention_mask: vec![1; n],
        overflowing: Vec::new(),
        sequence_ranges: Vec::new(),
    }
}

/// `enc` between `before` and `after` (special tokens, or nothing), as BERT and RoBERTa write
/// them: the content's special-tokens mask is cleared, and only the content gets sequence `seq`.
/// Overflowing windows are wrapped the same way.
fn wrap(
    mut enc: Encoding,
    before: Option<(&(String, u32), u32)>,
    after: (&(String, u32), u32),
    seq: usize,
) -> Encoding {
    let windows = std::mem::take(&mut enc.overflowing);
    let n = enc.len();
    let mut out = match before {
        Some(((t, id), ty)) => specials(&[*id], std::slice::from_ref(t), ty),
        None => Encoding::default(),
    };
    let start = out.len();
    out.ids.extend(enc.ids);
    out.tokens.extend(enc.tokens);
    out.offsets.extend(enc.offsets);
    out.type_ids.extend(enc.type_ids);
    out.special_tokens_mask.extend(std::iter::repeat_n(0, n));
    out.words.extend(enc.words);
    out.attention_mask.extend(enc.attention_mask);
    let ((t, id), ty) = after;
    out.merge_with(specials(&[*id], std::slice::from_ref(t), ty));
    out.sequence_ranges = vec![(seq, start..start + n)];
    out.overflowing = windows
        .into_iter()
        .map(|w| wrap(w, before, after, seq))
        .collect();
    out
}

impl PostProcessor {
    /// The special tokens around one sequence (`b` None) or a pair, exactly as `tokenizers`
    /// places them: type ids, special-tokens mask, offsets (each sequence's relative to its own
    /// text) and sequence ranges. `b`'s tokens come with type id 1, as the tokenizer encodes
    /// a second sequence.
    pub fn process_pair(
        &self,
        a: Encoding,
        b: Option<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Encoding> {
        let mut list = vec![a];
        list.extend(b);
        for (i, e) in list.iter_mut().enumerate() {
            e.set_sequence_id(i);
        }
        Ok(Encoding::merge(
            self.process_encodings(list, add_special_tokens)?,
        ))
    }

    pub fn process(&self, enc: Encoding, add_special_tokens: bool) -> Result<Encoding> {
        self.process_pair(enc, None, add_special_tokens)
    }

    /// One step over the list of encodings (the sequences at first; after a template, its
    /// pieces), as each `tokenizers` post-processor's `process_encodings` does.
    fn process_encodings(
        &self,
        mut list: Vec<Encoding>,
        add_special_tokens: bool,
    ) -> Result<Vec<Encoding>> {
        match self {
            PostProcessor::ByteLevel {
                trim_offsets: t,
                add_prefix_space,
            } => {
                for (i, e) in list.iter_mut().enumerate() {
                    if *t {
                        trim_offsets(e, *add_prefix_space);
                    }
                    e.set_sequence_id(i);
                    for w in &mut e.overflowing {
                        w.set_sequence_id(i);
                    }
                }
                Ok(list)
            }
            PostProcessor::Roberta {
                sep,
                cls,
                trim_offsets: t,
                add_prefix_space,
            } => {
                for e in list.iter_mut() {
                    if *t {
                        trim_offsets(e, *add_prefix_space);
                    }
                    // RoBERTa gives every token type id 0, with or without special tokens
                    // (overflowing windows too).
                    set_type_ids(e, 0);
                }
                if !add_special_tokens {
                    return Ok(list);
                }
                Ok(list
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| match i {
                        0 => wrap(e, Some((cls, 0)), (sep, 0), 0),
                        _ => wrap(e, Some((sep, 0)), (sep, 0), 1),
                    })
                    .collect())
            }
            PostProcessor::Bert { sep, cls } => {
                if !add_special_tokens {
                    return Ok(list);
                }
                Ok(list
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| match i {
                        0 => wrap(e, Some((cls, 0)), (sep, 0), 0),
                        _ => wrap(e, None, (sep, 1), 1),
                    })
                    .collect())
            }
            PostProcessor::Template {
                single,
                pair,
                special_tokens,
            } => {
                // After another template (or a processor that makes more than two
                // encodings), a template sees that one's pieces: one is read with the single
                // template, two with the pair template, more `tokenizers` cannot run.
                let template = match list.len() {
                    0 | 1 => single,
                    2 => pair,
                    n => {
                        return Err(Error::cannot_encode(format!(
                            "a TemplateProcessing is given {n} encodings (the pieces a template \
                             before it made), where tokenizers fails too; use one template"
                        )))
                    }
                };
                // Each piece naming a sequence gets a copy of it; the last one takes it.
                let last_use = |second: bool| {
                    template.iter().rposition(
                        |p| matches!(p, TemplatePiece::Sequence { second: s, .. } if *s == second),
                    )
                };
                let last = [last_use(false), last_use(true)];
                let mut out = Vec::with_capacity(template.len());
                for (k, piece) in template.iter().enumerate() {
                    match piece {
                        TemplatePiece::Sequence { second, type_id } => {
                            let i = usize::from(*second);
                            let Some(e) = list.get_mut(i) else { continue };
                            // As `tokenizers` does: the type id on this encoding only (its
                            // windows keep the one they were encoded with), the sequence id on
                            // its windows too.
                            e.type_ids.iter_mut().for_each(|x| *x = *type_id);
                            set_sequence_ids(e, i);
                            out.push(if last[i] == Some(k) {
                                std::mem::take(e)
                            } else {
                                e.clone()
                            });
                        }
                        TemplatePiece::Special { id, type_id } if add_special_tokens => {
                            let st = special_token(special_tokens, id)?;
                            out.push(specials(&st.ids, &st.tokens, *type_id));
                        }
                        TemplatePiece::Special { .. } => {}
                    }
                }
                Ok(out)
            }
            PostProcessor::Sequence(steps) => steps
                .iter()
                .try_fold(list, |l, p| p.process_encodings(l, add_special_tokens)),
        }
    }

    /// How many special tokens `process` adds around one text (`pair` false) or a pair: what
    /// truncation leaves room for, as `tokenizers` counts them.
    pub fn added_tokens(&self, pair: bool) -> usize {
        match self {
            PostProcessor::ByteLevel { .. } => 0,
            PostProcessor::Roberta { .. } => 2 + 2 * usize::from(pair),
            PostProcessor::Bert { .. } => 2 + usize::from(pair),
            PostProcessor::Template {
                single,
                pair: pair_template,
                special_tokens,
            } => {
                let template = if pair { pair_template } else { single };
                template
                    .iter()
                    .filter_map(|p| match p {
                        TemplatePiece::Special { id, .. } => special_tokens
                            .iter()
                            .find(|(k, _)| k == id)
                            .map(|(_, st)| st.ids.len()),
                        TemplatePiece::Sequence { .. } => None,
                    })
                    .sum()
            }
            PostProcessor::Sequence(steps) => steps.iter().map(|p| p.added_tokens(pair)).sum(),
        }
    }

    /// `process(..).ids` for ids alone, appended to `out`: `seq` appends the sequence's ids,
    /// and the special tokens are written around them in place. Offsets trimming cannot change
    /// ids, so only the special tokens around the sequence matter. An error of `seq` is
    /// returned as it is, with whatever was appended before it.
    pub fn append_ids(
        &self,
        add_special_tokens: bool,
        out: &mut Vec<u32>,
        seq: &mut dyn FnMut(&mut Vec<u32>) -> Result<()>,
    ) -> Result<()> {
        match self {
            PostProcessor::ByteLevel { .. } => seq(out)?,
            PostProcessor::Roberta { .. } | PostProcessor::Bert { .. } if !add_special_tokens => {
                seq(out)?
            }
            PostProcessor::Roberta { sep, cls, .. } | PostProcessor::Bert { sep, cls } => {
                out.push(cls.1);
                seq(out)?;
                out.push(sep.1);
            }
            PostProcessor::Template {
                single,
                special_tokens,
                ..
            } => {
                // Like `process`: the sequence goes wherever the template names it, the
                // special tokens only when asked for.
                for piece in single {
                    match piece {
                        TemplatePiece::Special { id, .. } if add_special_tokens => {
                            out.extend_from_slice(&special_token(special_tokens, id)?.ids);
                        }
                        TemplatePiece::Sequence { second: false, .. } => seq(out)?,
                        _ => {}
                    }
                }
            }
            PostProcessor::Sequence(steps) => {
                // ByteLevel steps only move offsets; with at most one other step, that step
                // alone gives the ids.
                let mut rest = steps
                    .iter()
                    .filter(|p| !matches!(p, PostProcessor::ByteLevel { .. }));
                match (rest.next(), rest.next()) {
                    (None, _) => seq(out)?,
                    (Some(p), None) => p.append_ids(add_special_tokens, out, seq)?,
                    // Later steps see the pieces the first one made: run them on the ids.
                    _ => {
                        let mut ids = Vec::new();
                        seq(&mut ids)?;
                        let mut e = Encoding::default();
                        for id in ids {
                            e.push(id, String::new(), (0, 0), false);
                        }
                        out.extend(self.process(e, add_special_tokens)?.ids);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(tokens: &[&str], offsets: &[(usize, usize)]) -> Encoding {
        let mut e = Encoding::default();
        for (i, (t, o)) in tokens.iter().zip(offsets).enumerate() {
            e.push(i as u32, t.to_string(), *o, false);
        }
        e
    }

    #[test]
    fn byte_level_trims_leading_space() {
        let p = PostProcessor::ByteLevel {
            trim_offsets: true,
            add_prefix_space: false,
        };
        let e = p
            .process(enc(&["a", "\u{120}b"], &[(0, 1), (1, 3)]), true)
            .unwrap();
        assert_eq!(e.offsets, [(0, 1), (2, 3)]);
    }

    fn roberta() -> PostProcessor {
        PostProcessor::Roberta {
            sep: ("</s>".into(), 2),
            cls: ("<s>".into(), 0),
            trim_offsets: false,
            add_prefix_space: false,
        }
    }

    #[test]
    fn roberta_wraps_with_cls_and_sep() {
        let p = roberta();
        let e = p.process(enc(&["a"], &[(0, 1)]), true).unwrap();
        assert_eq!(e.ids, [0, 0, 2]);
        assert_eq!(e.special_tokens_mask, [1, 0, 1]);
        let mut ids = Vec::new();
        p.append_ids(true, &mut ids, &mut |o| {
            o.push(0);
            Ok(())
        })
        .unwrap();
        assert_eq!(ids, [0, 0, 2]);
    }

    /// A template from `tokenizers`' short form: `$A`, `$B:1`, `<s>`, `</s>:1`.
    fn pieces(spec: &str) -> Vec<TemplatePiece> {
        spec.split_whitespace()
            .map(|p| {
                let (name, ty) = p.split_once(':').unwrap_or((p, "0"));
                let type_id = ty.parse().unwrap();
                match name {
                    "$A" => TemplatePiece::Sequence {
                        second: false,
                        type_id,
                    },
                    "$B" => TemplatePiece::Sequence {
                        second: true,
                        type_id,
                    },
                    id => TemplatePiece::Special {
                        id: id.into(),
                        type_id,
                    },
                }
            })
            .collect()
    }

    fn template_pair(single: &str, pair: &str) -> PostProcessor {
        let special = |name: &str, ids: &[u32]| {
            let tokens = vec![name.to_string(); ids.len()];
            (
                name.to_string(),
                SpecialTokens {
                    ids: ids.to_vec(),
                    tokens,
                },
            )
        };
        PostProcessor::Template {
            single: pieces(single),
            pair: pieces(pair),
            special_tokens: vec![special("<s>", &[1]), special("</s>", &[2, 3])],
        }
    }

    fn template(single: &str) -> PostProcessor {
        template_pair(single, "$A $B:1")
    }

    fn bert() -> PostProcessor {
        PostProcessor::Bert {
            sep: ("[SEP]".into(), 9),
            cls: ("[CLS]".into(), 8),
        }
    }

    fn abc() -> Encoding {
        enc(&["a", "b", "c"], &[(0, 1), (1, 2), (2, 3)])
    }

    /// The second sequence of a pair, as the tokenizer encodes it (type id 1).
    fn de() -> Encoding {
        let mut e = enc(&["d", "e"], &[(0, 1), (1, 2)]);
        e.ids = vec![5, 6];
        e.type_ids = vec![1, 1];
        e
    }

    #[test]
    fn ids_appended_in_place_are_the_ids_process_gives() {
        let byte_level = PostProcessor::ByteLevel {
            trim_offsets: true,
            add_prefix_space: false,
        };
        let processors = [
            byte_level.clone(),
            roberta(),
            bert(),
            template("<s> $A </s>"),
            // The sequence goes wherever the template names it, with or without specials.
            template("$A <s> $A"),
            template("<s> </s>"),
            PostProcessor::Sequence(vec![]),
            PostProcessor::Sequence(vec![byte_level, template("<s> $A")]),
            // A later processor sees the pieces the template made, not one sequence.
            PostProcessor::Sequence(vec![template("<s> $A </s>"), roberta()]),
            PostProcessor::Sequence(vec![bert(), bert()]),
        ];
        for p in &processors {
            for add in [true, false] {
                let expected = p.process(abc(), add).unwrap().ids;
                let mut out = vec![99];
                p.append_ids(add, &mut out, &mut |o| {
                    o.extend([0, 1, 2]);
                    Ok(())
                })
                .unwrap();
                assert_eq!(out[0], 99, "{p:?}");
                assert_eq!(out[1..], expected, "{p:?}, add_special_tokens={add}");
            }
        }
    }

    // The expected values below are what `tokenizers` 0.23 gives for the same processors.

    #[test]
    fn bert_pair_gives_the_second_sequence_and_its_sep_type_id_1() {
        let e = bert().process_pair(abc(), Some(de()), true).unwrap();
        assert_eq!(e.ids, [8, 0, 1, 2, 9, 5, 6, 9]);
        assert_eq!(e.type_ids, [0, 0, 0, 0, 0, 1, 1, 1]);
        assert_eq!(e.special_tokens_mask, [1, 0, 0, 0, 1, 0, 0, 1]);
        let seqs = e.sequence_ids();
        assert_eq!(
            seqs,
            [
                None,
                Some(0),
                Some(0),
                Some(0),
                None,
                Some(1),
                Some(1),
                None
            ]
        );
        assert_eq!(e.offsets[5..7], [(0, 1), (1, 2)]);
    }

    #[test]
    fn roberta_pair_doubles_the_separator_and_keeps_type_id_0() {
        let e = roberta().process_pair(abc(), Some(de()), true).unwrap();
        assert_eq!(e.ids, [0, 0, 1, 2, 2, 2, 5, 6, 2]);
        assert_eq!(e.type_ids, [0; 9]);
        assert_eq!(e.special_tokens_mask, [1, 0, 0, 0, 1, 1, 0, 0, 1]);
        let bare = roberta().process_pair(abc(), Some(de()), false).unwrap();
        assert_eq!(bare.type_ids, [0; 5]);
        assert_eq!(
            bare.sequence_ids(),
            [Some(0), Some(0), Some(0), Some(1), Some(1)]
        );
    }

    #[test]
    fn template_pair_places_both_sequences_with_their_type_ids() {
        let p = template_pair("<s> $A", "<s> $A </s>:1 $B:2");
        let e = p.process_pair(abc(), Some(de()), true).unwrap();
        assert_eq!(e.ids, [1, 0, 1, 2, 2, 3, 5, 6]);
        assert_eq!(e.type_ids, [0, 0, 0, 0, 1, 1, 2, 2]);
        assert_eq!(e.special_tokens_mask, [1, 0, 0, 0, 1, 1, 0, 0]);
        // Without special tokens the template still sets the type ids.
        let bare = p.process_pair(abc(), Some(de()), false).unwrap();
        assert_eq!(bare.ids, [0, 1, 2, 5, 6]);
        assert_eq!(bare.type_ids, [0, 0, 0, 2, 2]);
    }

    #[test]
    fn template_naming_a_sequence_twice_repeats_it() {
        let e = template("$A:1 <s> $A:2").process(abc(), true).unwrap();
        assert_eq!(e.ids, [0, 1, 2, 1, 0, 1, 2]);
        assert_eq!(e.type_ids, [1, 1, 1, 0, 2, 2, 2]);
        // The second copy's range replaces the first's.
        let seqs = e.sequence_ids();
        assert_eq!(seqs, [None, None, None, None, Some(0), Some(0), Some(0)]);
    }

    #[test]
    fn roberta_after_a_template_wraps_each_piece() {
        let p = PostProcessor::Sequence(vec![template("<s> $A"), roberta()]);
        let e = p.process(abc(), true).unwrap();
        // <s> [<s>] </s>, then </s> [a b c] </s>
        assert_eq!(e.ids, [0, 1, 2, 2, 0, 1, 2, 2]);
        assert_eq!(e.special_tokens_mask, [1, 0, 1, 1, 0, 0, 0, 1]);
    }

    #[test]
    fn no_special_tokens_pair_keeps_each_sequence_type_id() {
        let p = PostProcessor::ByteLevel {
            trim_offsets: false,
            add_prefix_space: false,
        };
        let e = p.process_pair(abc(), Some(de()), true).unwrap();
        assert_eq!(e.type_ids, [0, 0, 0, 1, 1]);
        assert_eq!(
            e.sequence_ids(),
            [Some(0), Some(0), Some(0), Some(1), Some(1)]
        );
    }

    fn cannot_encode_message(r: Result<Encoding>) -> String {
        let e = r.expect_err("a text this template cannot encode");
        assert_eq!(e.kind, crate::error::ErrorKind::CannotEncode, "{e}");
        e.to_string()
    }

    /// A template after another one reads that one's pieces: two with its pair template (as
    /// `tokenizers` 0.23 does), more than two it cannot run.
    #[test]
    fn a_template_after_a_template_reads_its_pieces() {
        let two_pieces = template_pair("$A </s>", "$A </s> $B:1");
        let three_pieces = template_pair("<s> $A </s>", "<s> $A </s> $B:1 </s>:1");
        let p = PostProcessor::Sequence(vec![two_pieces.clone(), three_pieces.clone()]);
        let e = p.process(enc(&["a"], &[(0, 1)]), true).unwrap();
        // <s> A </s> B </s>, with B the first template's </s>.
        assert_eq!(e.ids, [1, 0, 2, 3, 2, 3, 2, 3]);
        assert_eq!(e.type_ids, [0, 0, 0, 0, 1, 1, 1, 1]);
        // Without special tokens a template gives its sequences only: one stays one.
        assert_eq!(p.process(enc(&["a"], &[(0, 1)]), false).unwrap().ids, [0]);
        let p = PostProcessor::Sequence(vec![three_pieces, two_pieces]);
        let what = cannot_encode_message(p.process(enc(&["a"], &[(0, 1)]), true));
        assert!(what.contains("3 encodings"), "{what}");
    }

    /// A template naming a special token its special_tokens lacks runs until it has to add
    /// that token, as in `tokenizers`: without special tokens, or with the other template.
    #[test]
    fn a_missing_special_token_stops_only_the_template_that_adds_it() {
        let p = template_pair("<s> $A <x>", "$A $B:1");
        let what = cannot_encode_message(p.process(enc(&["a"], &[(0, 1)]), true));
        assert!(what.contains("\"<x>\""), "{what}");
        assert_eq!(p.process(enc(&["a"], &[(0, 1)]), false).unwrap().ids, [0]);
        let pair = p
            .process_pair(enc(&["a"], &[(0, 1)]), Some(enc(&["b"], &[(0, 1)])), true)
            .unwrap();
        assert_eq!(pair.ids, [0, 0]);
        // The tokens it leaves room for when truncating: the ones it has.
        assert_eq!(p.added_tokens(false), 1);
    }
}
