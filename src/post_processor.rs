//! Post-processors: offsets trimming and the special tokens around a sequence (BOS/EOS, CLS/SEP).

use crate::encoding::Encoding;
use crate::pre_tokenizer::byte_level::byte_to_char;

#[derive(Debug, Clone)]
pub enum TemplatePiece {
    Special { id: String, type_id: u32 },
    Sequence { type_id: u32 },
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
        special_tokens: Vec<(String, SpecialTokens)>,
    },
    Sequence(Vec<PostProcessor>),
}

/// Move offsets past leading and trailing spaces of byte-level tokens (HF's `process_offsets`).
fn trim_offsets(enc: &mut Encoding, add_prefix_space: bool) {
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

fn wrap(enc: Encoding, before: &[(u32, &str, u32)], after: &[(u32, &str, u32)]) -> Encoding {
    let mut out = Encoding::default();
    for (id, t, ty) in before {
        out.push(*id, t.to_string(), (0, 0), true);
        *out.type_ids.last_mut().expect("just pushed") = *ty;
    }
    out.ids.extend(enc.ids);
    out.tokens.extend(enc.tokens);
    out.offsets.extend(enc.offsets);
    out.type_ids.extend(enc.type_ids);
    out.special_tokens_mask.extend(enc.special_tokens_mask);
    for (id, t, ty) in after {
        out.push(*id, t.to_string(), (0, 0), true);
        *out.type_ids.last_mut().expect("just pushed") = *ty;
    }
    out
}

impl PostProcessor {
    pub fn process(&self, mut enc: Encoding, add_special_tokens: bool) -> Encoding {
        match self {
            PostProcessor::ByteLevel {
                trim_offsets: t,
                add_prefix_space,
            } => {
                if *t {
                    trim_offsets(&mut enc, *add_prefix_space);
                }
                enc
            }
            PostProcessor::Roberta {
                sep,
                cls,
                trim_offsets: t,
                add_prefix_space,
            } => {
                if *t {
                    trim_offsets(&mut enc, *add_prefix_space);
                }
                if !add_special_tokens {
                    return enc;
                }
                wrap(enc, &[(cls.1, &cls.0, 0)], &[(sep.1, &sep.0, 0)])
            }
            PostProcessor::Bert { sep, cls } => {
                if !add_special_tokens {
                    return enc;
                }
                wrap(enc, &[(cls.1, &cls.0, 0)], &[(sep.1, &sep.0, 0)])
            }
            PostProcessor::Template {
                single,
                special_tokens,
            } => {
                if !add_special_tokens {
                    return enc;
                }
                let mut out = Encoding::default();
                let mut seq = Some(enc);
                for piece in single {
                    match piece {
                        TemplatePiece::Special { id, type_id } => {
                            if let Some((_, st)) = special_tokens.iter().find(|(k, _)| k == id) {
                                for (i, t) in st.ids.iter().zip(&st.tokens) {
                                    out.push(*i, t.clone(), (0, 0), true);
                                    *out.type_ids.last_mut().expect("just pushed") = *type_id;
                                }
                            }
                        }
                        TemplatePiece::Sequence { type_id } => {
                            if let Some(e) = seq.take() {
                                out.ids.extend(e.ids);
                                out.tokens.extend(e.tokens);
                                out.offsets.extend(e.offsets);
                                out.type_ids.extend(e.type_ids.iter().map(|_| *type_id));
                                out.special_tokens_mask.extend(e.special_tokens_mask);
                            }
                        }
                    }
                }
                out
            }
            PostProcessor::Sequence(list) => list
                .iter()
                .fold(enc, |e, p| p.process(e, add_special_tokens)),
        }
    }

    /// `process(..).ids` for ids alone, appended to `out`: `seq` appends the sequence's ids,
    /// and the special tokens are written around them in place. Offsets trimming cannot change
    /// ids, so only the special tokens around the sequence matter.
    pub fn append_ids(
        &self,
        add_special_tokens: bool,
        out: &mut Vec<u32>,
        seq: &mut dyn FnMut(&mut Vec<u32>),
    ) {
        if !add_special_tokens {
            return seq(out);
        }
        match self {
            PostProcessor::ByteLevel { .. } => seq(out),
            PostProcessor::Roberta { sep, cls, .. } | PostProcessor::Bert { sep, cls } => {
                out.push(cls.1);
                seq(out);
                out.push(sep.1);
            }
            PostProcessor::Template {
                single,
                special_tokens,
            } => {
                // Like `process`, the sequence goes where the template first names it (a
                // template that never names it drops it).
                let mut placed = false;
                for piece in single {
                    match piece {
                        TemplatePiece::Special { id, .. } => {
                            if let Some((_, st)) = special_tokens.iter().find(|(k, _)| k == id) {
                                out.extend_from_slice(&st.ids);
                            }
                        }
                        TemplatePiece::Sequence { .. } if !placed => {
                            placed = true;
                            seq(out);
                        }
                        TemplatePiece::Sequence { .. } => {}
                    }
                }
            }
            // Each processor wraps what the ones before it made.
            PostProcessor::Sequence(list) => append_ids_nested(list, out, seq),
        }
    }
}

/// `list`'s processors over the sequence `seq` appends: each wraps what the ones before it
/// made, so the last is outermost.
fn append_ids_nested(
    list: &[PostProcessor],
    out: &mut Vec<u32>,
    seq: &mut dyn FnMut(&mut Vec<u32>),
) {
    match list.split_last() {
        None => seq(out),
        Some((last, rest)) => last.append_ids(true, out, &mut |o| append_ids_nested(rest, o, seq)),
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
        let e = p.process(enc(&["a", "\u{120}b"], &[(0, 1), (1, 3)]), true);
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
        let e = p.process(enc(&["a"], &[(0, 1)]), true);
        assert_eq!(e.ids, [0, 0, 2]);
        assert_eq!(e.special_tokens_mask, [1, 0, 1]);
        let mut ids = Vec::new();
        p.append_ids(true, &mut ids, &mut |o| o.push(0));
        assert_eq!(ids, [0, 0, 2]);
    }

    fn template(pieces: &[&str]) -> PostProcessor {
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
            single: pieces
                .iter()
                .map(|&p| match p {
                    "$A" => TemplatePiece::Sequence { type_id: 0 },
                    id => TemplatePiece::Special {
                        id: id.into(),
                        type_id: 0,
                    },
                })
                .collect(),
            special_tokens: vec![special("<s>", &[1]), special("</s>", &[2, 3])],
        }
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
            PostProcessor::Bert {
                sep: ("[SEP]".into(), 9),
                cls: ("[CLS]".into(), 8),
            },
            template(&["<s>", "$A", "</s>"]),
            // The sequence goes where the template first names it, and only there.
            template(&["$A", "<s>", "$A"]),
            template(&["<s>", "unknown", "$A"]),
            template(&["<s>", "</s>"]),
            PostProcessor::Sequence(vec![]),
            PostProcessor::Sequence(vec![byte_level, template(&["<s>", "$A"])]),
            // The last processor of a sequence wraps what the first made.
            PostProcessor::Sequence(vec![template(&["<s>", "$A", "</s>"]), roberta()]),
        ];
        for p in &processors {
            for add in [true, false] {
                let expected = p
                    .process(enc(&["a", "b", "c"], &[(0, 1), (1, 2), (2, 3)]), add)
                    .ids;
                let mut out = vec![99];
                p.append_ids(add, &mut out, &mut |o| o.extend([0, 1, 2]));
                assert_eq!(out[0], 99, "{p:?}");
                assert_eq!(out[1..], expected, "{p:?}, add_special_tokens={add}");
            }
        }
    }
}
