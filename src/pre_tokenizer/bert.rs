//! BertPreTokenizer: words end at whitespace, which is dropped, and every punctuation char is a
//! piece of its own (a WhitespaceSplit then an isolating Punctuation, in one pass).

use crate::unicode_class::hf;

const SPACE: u8 = 1;
const PUNCT: u8 = 2;

/// What each ASCII byte is to the split.
const ASCII: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_whitespace() || c == 0x0b {
            SPACE
        } else if c.is_ascii_punctuation() {
            PUNCT
        } else {
            0
        };
        b += 1;
    }
    t
};

/// Push the pieces of `text` (as byte ranges offset by `base`) onto `out`.
pub fn cut(text: &str, base: usize, out: &mut Vec<(usize, usize)>) {
    let bytes = text.as_bytes();
    let (mut i, mut start) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        let (len, kind) = if b < 0x80 {
            (1, ASCII[b as usize])
        } else {
            let c = text[i..].chars().next().expect("at a char boundary");
            let kind = if c.is_whitespace() {
                SPACE
            } else if hf::is_punctuation(c) {
                PUNCT
            } else {
                0
            };
            (c.len_utf8(), kind)
        };
        if kind != 0 {
            if start < i {
                out.push((base + start, base + i));
            }
            if kind == PUNCT {
                out.push((base + i, base + i + len));
            }
            start = i + len;
        }
        i += len;
    }
    if start < bytes.len() {
        out.push((base + start, base + bytes.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        cut(text, 0, &mut out);
        out.iter().map(|&(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn bert_splits_on_whitespace_and_isolates_punctuation() {
        // Each checked against `tokenizers` 0.23.
        let cases: [(&str, &[&str]); 5] = [
            (
                "Hey friend!  How are you?!?",
                &["Hey", "friend", "!", "How", "are", "you", "?", "!", "?"],
            ),
            ("a$b+c", &["a", "$", "b", "+", "c"]),
            ("\u{3000}x\u{3001}y\u{b}", &["x", "\u{3001}", "y"]),
            ("   ", &[]),
            ("caf\u{e9}\u{2014}ok", &["caf\u{e9}", "\u{2014}", "ok"]),
        ];
        for (text, want) in cases {
            assert_eq!(pieces(text), want, "{text:?}");
        }
    }
}
