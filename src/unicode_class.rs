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
