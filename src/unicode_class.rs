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
    use unicode_categories::UnicodeCategories;

    /// Punctuation for the Punctuation and BertPreTokenizer pre-tokenizers: ASCII punctuation
    /// (which includes symbols such as `$` and `+`) or a char of a Unicode `P*` category.
    #[inline]
    pub fn is_punctuation(c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_punctuation();
        }
        c.is_punctuation()
    }

    /// Control, format and private-use chars (BertNormalizer's `clean_text` drops them), with
    /// tab, newline and carriage return counted as whitespace instead.
    #[inline]
    pub fn is_control(c: char) -> bool {
        match c {
            '\t' | '\n' | '\r' => false,
            c if c.is_ascii() => c.is_ascii_control(),
            c => c.is_other(),
        }
    }

    /// A nonspacing mark, which StripAccents removes after NFD.
    #[inline]
    pub fn is_mark_nonspacing(c: char) -> bool {
        !c.is_ascii() && c.is_mark_nonspacing()
    }
}
