//! SentencePiece's precompiled charsmap (the `Precompiled` normalizer of T5, ALBERT, XLNet,
//! mBART files): a table of rewrites (NFKC and its custom rules) compiled into one blob.
//!
//! The blob is a little-endian u32 byte size of a trie, the trie itself as darts-clone
//! double-array units (u32 each), then a pool of NUL-terminated replacement strings that the
//! trie's values point into.
//!
//! It is applied as `tokenizers` 0.23 applies it, which is not SentencePiece's own longest
//! match: the text is read grapheme cluster by grapheme cluster; a cluster shorter than six
//! bytes whose start matches an entry is replaced whole by the *shortest* entry it starts
//! with, and any other cluster char by char, each char replaced by the entry it starts with.
//! The alignments follow `tokenizers` too: a replacement's chars replace the old chars one for
//! one, surplus chars are insertions, and chars left over are removed after the last char
//! pushed so far (for a replacement by nothing, the char before it, in another cluster).

use unicode_segmentation::UnicodeSegmentation;

use super::grapheme;
use crate::normalized::NormalizedString;

#[derive(Debug, Clone)]
pub struct Precompiled {
    units: Vec<u32>,
    /// The replacement strings, each ended by a NUL byte.
    pool: String,
    /// The ASCII bytes that no entry rewrites (bit b), and whether "\r\n" is left as it is:
    /// text of those alone, the most common kind, is passed through without being read.
    ascii_kept: u128,
    crlf_kept: bool,
    /// No entry rewrites a printable ASCII char (space to tilde), so runs of them can be
    /// passed over eight bytes at a time.
    printable_kept: bool,
}

impl Precompiled {
    /// Read the blob. One without a trie is refused, as `tokenizers` refuses it (an empty
    /// blob at load time, an empty trie on the first text it normalizes).
    pub fn new(blob: &[u8]) -> Result<Precompiled, String> {
        let bad = || "cannot parse the precompiled charsmap".to_string();
        let size = u32::from_le_bytes(blob.get(..4).ok_or_else(bad)?.try_into().unwrap());
        let n = (size / 4) as usize;
        if n == 0 {
            return Err("the precompiled charsmap has an empty trie".into());
        }
        let trie = blob.get(4..4 + n * 4).ok_or_else(bad)?;
        let units = trie
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let pool = String::from_utf8(blob[4 + n * 4..].to_vec())
            .map_err(|_| "the precompiled charsmap's strings are not UTF-8".to_string())?;
        let mut p = Precompiled {
            units,
            pool,
            ascii_kept: 0,
            crlf_kept: false,
            printable_kept: false,
        };
        for b in 0u8..128 {
            let mut buf = [0u8; 4];
            if p.rewrite((b as char).encode_utf8(&mut buf)).is_none() {
                p.ascii_kept |= 1 << b;
            }
        }
        p.crlf_kept = p.rewrite("\r\n").is_none();
        p.printable_kept = (0x20..0x7f).all(|b| p.ascii_kept & (1 << b) != 0);
        Ok(p)
    }

    /// The replacement of the shortest entry that `key` starts with (a NUL ends the key).
    /// A malformed trie (an index outside it) matches nothing.
    fn rewrite(&self, key: &str) -> Option<&str> {
        let unit = |i: usize| self.units.get(i).map(|&u| u as usize);
        let offset = |u: usize| (u >> 10) << ((u & (1 << 9)) >> 6);
        let mut pos = offset(unit(0)?);
        for &c in key.as_bytes() {
            if c == 0 {
                return None;
            }
            pos ^= c as usize;
            let u = unit(pos)?;
            // The label: the byte, with bit 31 set on units that are not a child of `pos`.
            if u & ((1 << 31) | 0xff) != c as usize {
                return None;
            }
            pos ^= offset(u);
            if (u >> 8) & 1 == 1 {
                let value = unit(pos)? & ((1 << 31) - 1);
                let rest = self.pool.as_bytes().get(value..)?;
                let len = memchr::memchr(0, rest).unwrap_or(rest.len());
                return self.pool.get(value..value + len);
            }
        }
        None
    }

    /// Whether `text` comes out as it went in without reading it cluster by cluster.
    fn keeps(&self, text: &str) -> bool {
        text.is_ascii()
            && text.bytes().all(|b| self.ascii_kept & (1 << b) != 0)
            && (self.crlf_kept || !text.contains("\r\n"))
    }

    /// The rewrite of one grapheme cluster, as `tokenizers` reads it: the whole cluster when it
    /// is shorter than six bytes and starts with an entry, else each char on its own.
    /// `part(from, to)` gets each part of the cluster in order with its replacement, or None
    /// where the part stays; the result says whether anything was rewritten.
    #[inline]
    fn rewrite_cluster<'a>(
        &'a self,
        g: &'a str,
        mut part: impl FnMut(&'a str, Option<&'a str>),
    ) -> bool {
        if let Some(to) = (g.len() < 6).then(|| self.rewrite(g)).flatten() {
            part(g, Some(to));
            return true;
        }
        let mut modified = false;
        for (i, c) in g.char_indices() {
            let one = &g[i..i + c.len_utf8()];
            let to = self.rewrite(one);
            modified |= to.is_some();
            part(one, to);
        }
        modified
    }

    /// Each output char with its change (as `NormalizedString::transform` takes them), or
    /// None where nothing is rewritten.
    fn changes(&self, text: &str) -> Option<Vec<(char, isize)>> {
        if self.keeps(text) {
            return None;
        }
        let mut out = Vec::with_capacity(text.len());
        let mut modified = false;
        // Each replacement char replaces one char; the surplus ones are insertions, and a
        // shortfall is removed after the last char pushed so far (which may belong to an
        // earlier replacement, or be missing at the start of the text).
        let push = |from: &str, to: &str, out: &mut Vec<(char, isize)>| {
            let diff = to.chars().count() as isize - from.chars().count() as isize;
            let first = out.len();
            out.extend(to.chars().map(|c| (c, 0)));
            if diff > 0 {
                let n = out.len();
                let from = n.saturating_sub(diff as usize).max(first);
                out[from..].iter_mut().for_each(|x| x.1 = 1);
            } else if let Some(last) = out.last_mut() {
                last.1 += diff;
            }
        };
        for g in text.graphemes(true) {
            modified |= self.rewrite_cluster(g, |from, to| match to {
                Some(to) => push(from, to, &mut out),
                None => out.extend(from.chars().map(|c| (c, 0))),
            });
        }
        modified.then_some(out)
    }

    pub fn normalize(&self, n: &mut NormalizedString) {
        if let Some(changes) = self.changes(&n.text) {
            n.transform(changes);
        }
    }

    /// `normalize`'s text without its alignments. Only the clusters that may change are read
    /// as clusters: an ASCII char that no entry rewrites and that another ASCII char follows
    /// (CR LF apart) is a cluster of its own (no cluster joins two ASCII chars but CR LF), so
    /// it is passed over, and text that needs no rewrite is copied in runs.
    pub fn normalize_str(&self, s: &mut String) {
        if self.keeps(s) {
            return;
        }
        let b = s.as_bytes();
        let kept = |x: u8| x < 0x80 && self.ascii_kept & (1 << x) != 0;
        let mut out = String::new();
        // `s[done..i]` is text that stays and is not yet in `out`.
        let (mut done, mut i) = (0, 0);
        let mut rewritten = String::new();
        while i < b.len() {
            if self.printable_kept {
                // Each char of a printable run but the last is followed by an ASCII char, so
                // is a cluster of its own, and kept.
                i += printable_run(&b[i..]).saturating_sub(1);
            }
            let alone = match b.get(i + 1) {
                None => true,
                Some(&next) => next < 0x80 && !(b[i] == b'\r' && next == b'\n'),
            };
            if alone && kept(b[i]) {
                i += 1;
                continue;
            }
            let g = match grapheme::single_char_cluster(s, i) {
                Some(end) => &s[i..end],
                None => s[i..].graphemes(true).next().expect("i is inside the text"),
            };
            rewritten.clear();
            let modified =
                self.rewrite_cluster(g, |from, to| rewritten.push_str(to.unwrap_or(from)));
            if modified {
                out.push_str(&s[done..i]);
                out.push_str(&rewritten);
                done = i + g.len();
            }
            i += g.len();
        }
        if done > 0 {
            out.push_str(&s[done..]);
            *s = out;
        }
    }
}

/// How many bytes `b` starts with that are printable ASCII (0x20 to 0x7e).
fn printable_run(b: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut n = 0;
    for w in b.chunks_exact(8) {
        let w = u64::from_ne_bytes(w.try_into().unwrap());
        // A byte's high bit, or its high bit after subtracting 0x20 (below 0x20) or adding 1
        // (0x7f): nonzero if any byte is outside the range. Borrows and carries only run up
        // from a byte that is itself outside, so the test is exact for the word.
        if (w | w.wrapping_add(ONES) | (w.wrapping_sub(0x20 * ONES) & !w)) & HIGH != 0 {
            break;
        }
        n += 8;
    }
    n + b[n..]
        .iter()
        .position(|&x| !(0x20..0x7f).contains(&x))
        .unwrap_or(b.len() - n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob as SentencePiece lays it out, with a double array built by hand: the root at
    /// unit 0 (children at offset 0), "a" -> "x" at unit 97, "ab" -> "yz" at unit 98 ^ ...
    fn blob(units: &[u32], pool: &[u8]) -> Vec<u8> {
        let mut b = ((units.len() * 4) as u32).to_le_bytes().to_vec();
        for u in units {
            b.extend(u.to_le_bytes());
        }
        b.extend_from_slice(pool);
        b
    }

    /// A unit with a child offset of `offset` (< 2^21), a label and a leaf flag.
    fn unit(offset: u32, label: u8, leaf: bool) -> u32 {
        (offset << 10) | (u32::from(leaf) << 8) | u32::from(label)
    }

    /// Entries "a" -> "x" and "ab" -> "yz" (pool "x\0yz\0"). Root: unit 0, children at
    /// 1 ^ byte. Node "a" at 1 ^ 97 = 96, its children at 96 ^ 200 = 160: the leaf value of
    /// "a" at 160 ^ 0 (the NUL label) = 160, child "b" at 160 ^ 98 = 194, whose leaf value
    /// sits at 194 ^ 2 = 192.
    fn two_entries() -> Precompiled {
        let mut units = vec![0u32; 256];
        units[0] = unit(1, 0, false);
        units[96] = unit(96 ^ 160, b'a', true);
        units[160] = 0; // value: pool offset 0 ("x")
        units[194] = unit(194 ^ 192, b'b', true);
        units[192] = 2; // value: pool offset 2 ("yz")
        Precompiled::new(&blob(&units, b"x\0yz\0")).unwrap()
    }

    #[test]
    fn the_shortest_entry_a_key_starts_with_is_its_rewrite() {
        let p = two_entries();
        assert_eq!(p.rewrite("a"), Some("x"));
        // "ab" is an entry too, but `tokenizers` takes the first (shortest) match.
        assert_eq!(p.rewrite("ab"), Some("x"));
        assert_eq!(p.rewrite("b"), None);
        assert_eq!(p.rewrite("\0a"), None);
    }

    #[test]
    fn a_cluster_is_rewritten_whole_or_part_by_part() {
        let p = two_entries();
        type Part<'a> = (&'a str, Option<&'a str>);
        let cases: [(&str, &[Part], bool); 4] = [
            ("b", &[("b", None)], false),
            // Short and starts with an entry: one part, the whole cluster.
            ("a\u{301}", &[("a\u{301}", Some("x"))], true),
            // Short, but no entry it starts with: char by char.
            ("ba", &[("b", None), ("a", Some("x"))], true),
            // Six bytes or more: char by char, though it starts with an entry.
            (
                "a\u{301}\u{301}\u{301}",
                &[
                    ("a", Some("x")),
                    ("\u{301}", None),
                    ("\u{301}", None),
                    ("\u{301}", None),
                ],
                true,
            ),
        ];
        for (g, parts, modified) in cases {
            let mut got = Vec::new();
            let m = p.rewrite_cluster(g, |from, to| got.push((from, to)));
            assert_eq!((&got[..], m), (parts, modified), "{g:?}");
        }
    }

    #[test]
    fn clusters_are_rewritten_whole_when_short() {
        let p = two_entries();
        let mut s = "ba\u{301}c".to_string();
        p.normalize_str(&mut s);
        // "a" + combining acute is one cluster that starts with "a": all of it becomes "x".
        assert_eq!(s, "bxc");
        let mut n = NormalizedString::from_original("ba\u{301}c", 0);
        p.normalize(&mut n);
        assert_eq!(n.text, "bxc");
    }

    #[test]
    fn long_clusters_are_rewritten_char_by_char() {
        let p = two_entries();
        // Six bytes or more: "a" and three combining marks (2 bytes each).
        let text = "a\u{301}\u{301}\u{301}";
        let mut s = text.to_string();
        p.normalize_str(&mut s);
        assert_eq!(s, "x\u{301}\u{301}\u{301}");
    }

    #[test]
    fn rewrites_align_as_tokenizers_aligns_them() {
        let mut units = vec![0u32; 256];
        units[0] = unit(1, 0, false);
        // "a" -> "yz" at pool offset 0, "b" -> "" at pool offset 3.
        units[96] = unit(96 ^ 160, b'a', true);
        units[160] = 0;
        units[1 ^ 98] = unit(99 ^ 164, b'b', true);
        units[164] = 3;
        let p = Precompiled::new(&blob(&units, b"yz\0\0")).unwrap();
        let mut n = NormalizedString::from_original("cabd", 0);
        p.normalize(&mut n);
        assert_eq!(n.text, "cyzd");
        // "y" replaces "a" and "z" is inserted after it; then "b", replaced by nothing, is
        // removed after "z", whose insertion (+1) and removal (-1) add up to replacing "b".
        let ranges: Vec<_> = (0..4).map(|i| n.original_range(i..i + 1)).collect();
        assert_eq!(ranges, [(0, 1), (1, 2), (2, 3), (3, 4)]);
        let mut n = NormalizedString::from_original("cad", 0);
        p.normalize(&mut n);
        let ranges: Vec<_> = (0..4).map(|i| n.original_range(i..i + 1)).collect();
        assert_eq!(ranges, [(0, 1), (1, 2), (1, 2), (2, 3)]);
        // Removed at the very start, nothing swallows it: the next char takes its place.
        let mut n = NormalizedString::from_original("bd", 0);
        p.normalize(&mut n);
        assert_eq!(n.text, "d");
        assert_eq!(n.original_range(0..1), (0, 1));
    }

    #[test]
    fn plain_text_is_the_aligned_text() {
        let p = two_entries();
        let alphabet =
            crate::test_texts::chars_of("abAB \r\n\u{301}\u{200d}\u{e9}\u{1f600}\u{1f1e6}x.");
        for text in crate::test_texts::random_texts(&alphabet, 5_000, 10) {
            let mut n = NormalizedString::from_original(&text, 0);
            p.normalize(&mut n);
            let mut plain = text.clone();
            p.normalize_str(&mut plain);
            assert_eq!(plain, n.text, "{text:?}");
        }
    }

    #[test]
    fn printable_runs_end_at_the_first_other_byte() {
        for len in 0..20 {
            for &stop in &[0x00u8, 0x1f, 0x7f, 0x80, 0xff, b'\n'] {
                for at in 0..=len {
                    let mut b = vec![b'a'; len];
                    b.extend_from_slice(b" ~!");
                    if at < b.len() {
                        b[at] = stop;
                    }
                    let want = b.iter().position(|&x| !(0x20..0x7f).contains(&x));
                    assert_eq!(printable_run(&b), want.unwrap_or(b.len()), "{b:?}");
                }
            }
        }
    }

    #[test]
    fn a_truncated_or_empty_charsmap_is_refused() {
        assert!(Precompiled::new(&[8, 0, 0, 0, 1, 2]).is_err());
        assert!(Precompiled::new(&[1, 2]).is_err());
        assert!(Precompiled::new(&[]).is_err());
        assert!(Precompiled::new(&[0, 0, 0, 0]).is_err());
        assert!(Precompiled::new(&blob(&[0], b"\xff\0")).is_err());
    }
}
