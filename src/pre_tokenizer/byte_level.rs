//! GPT-2's byte-to-char map: every byte becomes a printable char, so byte-level vocabularies
//! can be stored as text.

use crate::normalized::NormalizedString;
use crate::normalizer::Pattern;
use std::sync::OnceLock;

pub const GPT2_PATTERN: &str = super::scan::GPT2;

pub fn gpt2_pattern() -> &'static Pattern {
    static RE: OnceLock<Pattern> = OnceLock::new();
    RE.get_or_init(|| Pattern::regex(GPT2_PATTERN).expect("static regex"))
}

/// byte -> char
pub fn byte_to_char() -> &'static [char; 256] {
    static T: OnceLock<[char; 256]> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = ['\0'; 256];
        let mut n = 0u32;
        for b in 0..256u32 {
            let printable = (0x21..=0x7e).contains(&b)
                || (0xa1..=0xac).contains(&b)
                || (0xae..=0xff).contains(&b);
            t[b as usize] = if printable {
                char::from_u32(b).expect("latin-1")
            } else {
                let c = char::from_u32(256 + n).expect("small code point");
                n += 1;
                c
            };
        }
        t
    })
}

/// char -> byte, for the chars in the map (all below U+0144).
pub fn char_to_byte(c: char) -> Option<u8> {
    static T: OnceLock<[i16; 0x144]> = OnceLock::new();
    let t = T.get_or_init(|| {
        let mut t = [-1i16; 0x144];
        for (b, c) in byte_to_char().iter().enumerate() {
            t[*c as usize] = b as i16;
        }
        t
    });
    let i = c as usize;
    if i < t.len() && t[i] >= 0 {
        Some(t[i] as u8)
    } else {
        None
    }
}

/// Rewrite each byte as its char; every byte of a multi-byte char keeps that char's alignment.
pub fn to_byte_chars(n: &mut NormalizedString) {
    let map = byte_to_char();
    let mut dest = Vec::with_capacity(n.text.len());
    for c in n.text.chars() {
        let mut buf = [0u8; 4];
        for (i, b) in c.encode_utf8(&mut buf).bytes().enumerate() {
            dest.push((map[b as usize], isize::from(i > 0)));
        }
    }
    n.transform(dest);
}

/// Append the byte-level text of `bytes` to `out`.
pub fn push_byte_text(bytes: &[u8], out: &mut String) {
    let map = byte_to_char();
    out.extend(bytes.iter().map(|b| map[*b as usize]));
}

/// Map a byte string to its byte-level text.
pub fn bytes_to_text(bytes: &[u8]) -> String {
    let map = byte_to_char();
    bytes.iter().map(|b| map[*b as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_is_g_with_dot() {
        assert_eq!(byte_to_char()[b' ' as usize], '\u{120}');
        assert_eq!(char_to_byte('\u{120}'), Some(b' '));
        assert_eq!(char_to_byte('A'), Some(b'A'));
        assert_eq!(char_to_byte('\u{4e00}'), None);
    }
}
