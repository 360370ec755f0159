//! Decoders: turn tokens back into text.

use crate::normalizer::Pattern;
use crate::pre_tokenizer::byte_level::char_to_byte;
use crate::pre_tokenizer::PrependScheme;

#[derive(Debug, Clone)]
pub enum Decoder {
    ByteLevel,
    Replace {
        pattern: Pattern,
        content: String,
    },
    ByteFallback,
    Fuse,
    Strip {
        content: char,
        start: usize,
        stop: usize,
    },
    Metaspace {
        replacement: char,
        prepend_scheme: PrependScheme,
    },
    Bpe {
        suffix: String,
    },
    WordPiece {
        prefix: String,
        cleanup: bool,
    },
    Sequence(Vec<Decoder>),
}

/// The WordPiece decoder's cleanup of spaces the tokens' joining left before punctuation and
/// English contractions; like `tokenizers`, it runs on each token (with its joining space), so
/// only rules within one token apply.
fn wordpiece_cleanup(s: &str) -> String {
    const RULES: [(&str, &str); 11] = [
        (" .", "."),
        (" ?", "?"),
        (" !", "!"),
        (" ,", ","),
        (" ' ", "'"),
        (" n't", "n't"),
        (" 'm", "'m"),
        (" do not", " don't"),
        (" 's", "'s"),
        (" 've", "'ve"),
        (" 're", "'re"),
    ];
    let mut out = s.to_string();
    for (from, to) in RULES {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out
}

fn byte_token(t: &str) -> Option<u8> {
    if t.len() == 6 && t.starts_with("<0x") && t.ends_with('>') {
        u8::from_str_radix(&t[3..5], 16).ok()
    } else {
        None
    }
}

fn flush_bytes(bytes: &mut Vec<u8>, out: &mut Vec<String>) {
    if bytes.is_empty() {
        return;
    }
    match String::from_utf8(std::mem::take(bytes)) {
        Ok(s) => out.push(s),
        Err(e) => out.extend(std::iter::repeat_n(
            "\u{fffd}".to_string(),
            e.into_bytes().len(),
        )),
    }
}

impl Decoder {
    pub fn decode(&self, tokens: Vec<String>) -> String {
        self.decode_chain(tokens).concat()
    }

    pub fn decode_chain(&self, tokens: Vec<String>) -> Vec<String> {
        match self {
            Decoder::Sequence(list) => list.iter().fold(tokens, |t, d| d.decode_chain(t)),
            Decoder::ByteLevel => {
                let mut bytes = Vec::new();
                for t in &tokens {
                    let start = bytes.len();
                    let mut ok = true;
                    for c in t.chars() {
                        match char_to_byte(c) {
                            Some(b) => bytes.push(b),
                            None => {
                                ok = false;
                                break;
                            }
                        }
                    }
                    if !ok {
                        bytes.truncate(start);
                        bytes.extend_from_slice(t.as_bytes());
                    }
                }
                vec![String::from_utf8_lossy(&bytes).into_owned()]
            }
            Decoder::Replace { pattern, content } => tokens
                .into_iter()
                .map(|t| pattern.replace_all(&t, content))
                .collect(),
            Decoder::ByteFallback => {
                let mut out = Vec::with_capacity(tokens.len());
                let mut pending = Vec::new();
                for t in tokens {
                    if let Some(b) = byte_token(&t) {
                        pending.push(b);
                    } else {
                        flush_bytes(&mut pending, &mut out);
                        out.push(t);
                    }
                }
                flush_bytes(&mut pending, &mut out);
                out
            }
            Decoder::Fuse => vec![tokens.concat()],
            Decoder::Strip {
                content,
                start,
                stop,
            } => tokens
                .into_iter()
                .map(|t| {
                    let chars: Vec<char> = t.chars().collect();
                    let lead = chars
                        .iter()
                        .take(*start)
                        .take_while(|c| **c == *content)
                        .count();
                    let trail = chars
                        .iter()
                        .rev()
                        .take(*stop)
                        .take_while(|c| **c == *content)
                        .count();
                    let end = chars.len().saturating_sub(trail).max(lead);
                    chars[lead..end].iter().collect()
                })
                .collect(),
            Decoder::Metaspace {
                replacement,
                prepend_scheme,
            } => tokens
                .into_iter()
                .enumerate()
                .map(|(i, t)| {
                    // As `tokenizers` decodes: the first token loses every replacement char
                    // (not only the one the pre-tokenizer prepended), unless none is prepended.
                    let drop = i == 0 && *prepend_scheme != PrependScheme::Never;
                    t.chars()
                        .filter_map(|c| match c {
                            c if c != *replacement => Some(c),
                            _ if drop => None,
                            _ => Some(' '),
                        })
                        .collect()
                })
                .collect(),
            Decoder::Bpe { suffix } => {
                let n = tokens.len();
                tokens
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| t.replace(suffix.as_str(), if i + 1 == n { "" } else { " " }))
                    .collect()
            }
            Decoder::WordPiece { prefix, cleanup } => tokens
                .into_iter()
                .enumerate()
                .map(|(i, t)| {
                    let t = match t.strip_prefix(prefix.as_str()) {
                        _ if i == 0 => t,
                        Some(rest) => rest.to_string(),
                        None => format!(" {t}"),
                    };
                    if *cleanup {
                        wordpiece_cleanup(&t)
                    } else {
                        t
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn sentencepiece_chain() {
        let d = Decoder::Sequence(vec![
            Decoder::Replace {
                pattern: Pattern::Literal("\u{2581}".into()),
                content: " ".into(),
            },
            Decoder::ByteFallback,
            Decoder::Fuse,
            Decoder::Strip {
                content: ' ',
                start: 1,
                stop: 0,
            },
        ]);
        assert_eq!(
            d.decode(s(&["\u{2581}Hi", "<0xE2>", "<0x82>", "<0xAC>"])),
            "Hi\u{20ac}"
        );
        assert_eq!(d.decode(s(&["<0xE2>", "x"])), "\u{fffd}x");
    }

    #[test]
    fn wordpiece_joins_continuations_and_cleans_up() {
        // Each checked against `tokenizers` 0.23.
        let d = Decoder::WordPiece {
            prefix: "##".into(),
            cleanup: true,
        };
        assert_eq!(
            d.decode(s(&[
                "##uelo", "ara", "##uj", "##o", "do", "n't", ",", "it", "'", "s", "."
            ])),
            "##uelo araujo don't, it ' s."
        );
        let raw = Decoder::WordPiece {
            prefix: "##".into(),
            cleanup: false,
        };
        assert_eq!(raw.decode(s(&["a", "##b", ",", "c"])), "ab , c");
    }

    #[test]
    fn metaspace_drops_every_replacement_of_the_first_token_unless_never_prepended() {
        // Each checked against `tokenizers` 0.23.
        let decoder = |prepend_scheme| Decoder::Metaspace {
            replacement: '\u{2581}',
            prepend_scheme,
        };
        let tokens = || s(&["\u{2581}\u{2581}a\u{2581}b", " x", "\u{2581}c"]);
        for scheme in [PrependScheme::Always, PrependScheme::First] {
            assert_eq!(decoder(scheme).decode(tokens()), "ab x c");
        }
        assert_eq!(decoder(PrependScheme::Never).decode(tokens()), "  a b x c");
        assert_eq!(
            decoder(PrependScheme::Always).decode(s(&[" x\u{2581}y"])),
            " xy"
        );
    }

    #[test]
    fn byte_level_restores_bytes() {
        assert_eq!(
            Decoder::ByteLevel.decode(s(&["Hello", "\u{120}world"])),
            "Hello world"
        );
    }
}
