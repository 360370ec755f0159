//! Unicode classes as sorted code point ranges, taken from the regex crate's own tables, so the
//! scanners and the normalizers agree with the regex engine on what a class holds.

/// Sorted code point ranges of a regex class, from the regex crate's own Unicode tables.
pub fn class_ranges(src: &str) -> Vec<(u32, u32)> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(src)
        .expect("static class");
    match hir.kind() {
        regex_syntax::hir::HirKind::Class(regex_syntax::hir::Class::Unicode(c)) => c
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        _ => unreachable!("a Unicode class"),
    }
}

pub fn in_ranges(r: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    r.binary_search_by(|&(s, e)| {
        if e < cp {
            std::cmp::Ordering::Less
        } else if s > cp {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    })
    .is_ok()
}

/// Unicode categories as `tokenizers` reads them: from the `unicode_categories` tables, which
/// are older than the regex crate's and differ from them on a few hundred chars (recently
/// assigned punctuation, some spacing marks listed as nonspacing), so parity needs the same
/// tables rather than `\p{P}` or `\p{Mn}`.
pub mod hf {
    use std::sync::OnceLock;
    use unicode_categories::UnicodeCategories;

    const PUNCT: u8 = 1;
    const OTHER: u8 = 2;
    const MN: u8 = 4;

    /// The three properties of a char from the crate's tables (a binary search in each of up
    /// to eleven tables).
    fn lookup(c: char) -> u8 {
        let mut p = 0;
        if c.is_punctuation() {
            p |= PUNCT;
        }
        if c.is_other() {
            p |= OTHER;
        }
        if c.is_mark_nonspacing() {
            p |= MN;
        }
        p
    }

    /// The properties of a Basic Multilingual Plane char, from a table filled one 256-char
    /// block at a time as text reaches it: the searches were most of a BERT encode of
    /// non-Latin text, and a text touches few blocks.
    #[inline]
    fn props(c: char) -> u8 {
        static BLOCKS: [OnceLock<[u8; 256]>; 256] = [const { OnceLock::new() }; 256];
        let cp = c as u32;
        if cp >= 0x10000 {
            return lookup(c);
        }
        let block = BLOCKS[(cp >> 8) as usize].get_or_init(|| {
            let mut t = [0u8; 256];
            for (i, slot) in t.iter_mut().enumerate() {
                if let Some(x) = char::from_u32((cp & !0xff) | i as u32) {
                    *slot = lookup(x);
                }
            }
            t
        });
        block[(cp & 0xff) as usize]
    }

    /// Punctuation for the Punctuation and BertPreTokenizer pre-tokenizers: ASCII punctuation
    /// (which includes symbols such as `$` and `+`) or a char of a Unicode `P*` category.
    #[inline]
    pub fn is_punctuation(c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_punctuation();
        }
        props(c) & PUNCT != 0
    }

    /// Control, format and private-use chars (BertNormalizer's `clean_text` drops them), with
    /// tab, newline and carriage return counted as whitespace instead.
    #[inline]
    pub fn is_control(c: char) -> bool {
        match c {
            '\t' | '\n' | '\r' => false,
            c if c.is_ascii() => c.is_ascii_control(),
            c => props(c) & OTHER != 0,
        }
    }

    /// A nonspacing mark, which BertNormalizer's accent stripping removes after NFD.
    #[inline]
    pub fn is_mark_nonspacing(c: char) -> bool {
        !c.is_ascii() && props(c) & MN != 0
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_block_table_agrees_with_the_crate_tables() {
            for c in (0u32..0x10000).filter_map(char::from_u32) {
                assert_eq!(props(c), lookup(c), "U+{:04X}", c as u32);
            }
        }
    }
}
