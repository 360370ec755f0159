//! Split regexes that are runs of one character class, with at most one optional char of
//! another class in front: `[\r\n]`, `\p{N}{1,3}`, `[一-龥]+`, `\s?\p{L}+` (DeepSeek's
//! pre-tokenizers are made of these).
//!
//! The regex engine spends most of such a search on starting it: finding where a match begins
//! takes a forward and a reverse pass, for pieces of a few chars. Here each match is decided in
//! one forward pass. The classes come from the regex crate's own parser, so they hold exactly
//! the chars the engine's do; matches follow its leftmost-first, greedy rules.

use regex_syntax::hir::{Class as HirClass, Hir, HirKind};

use crate::unicode_class::in_ranges;

/// A character class: ASCII from a table, the rest by binary search over its ranges.
#[derive(Debug, Clone)]
struct Class {
    ascii: [bool; 128],
    ranges: Vec<(u32, u32)>,
}

impl Class {
    fn from_hir(hir: &Hir) -> Option<Class> {
        let HirKind::Class(HirClass::Unicode(c)) = hir.kind() else {
            return None;
        };
        let ranges: Vec<(u32, u32)> = c
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect();
        let mut ascii = [false; 128];
        for (b, slot) in ascii.iter_mut().enumerate() {
            *slot = in_ranges(&ranges, char::from(b as u8));
        }
        Some(Class { ascii, ranges })
    }

    #[inline]
    fn has(&self, c: char) -> bool {
        match self.ascii.get(c as usize) {
            Some(&a) => a,
            None => in_ranges(&self.ranges, c),
        }
    }
}

/// `lead? body{1,max}` (greedy).
#[derive(Debug, Clone)]
pub struct ClassRun {
    lead: Option<Class>,
    body: Class,
    /// At most this many chars of `body` (None: no limit).
    max: Option<usize>,
}

impl ClassRun {
    /// The pattern as a class run, if it is one of the shapes handled here.
    pub fn new(src: &str) -> Option<ClassRun> {
        let hir = regex_syntax::ParserBuilder::new().build().parse(src).ok()?;
        // `body`, `body+`, `body{1,n}`, each greedy.
        let repeat = |h: &Hir| -> Option<(Class, Option<usize>)> {
            match h.kind() {
                HirKind::Class(_) => Some((Class::from_hir(h)?, Some(1))),
                HirKind::Repetition(r) if r.greedy && r.min == 1 => {
                    Some((Class::from_hir(&r.sub)?, r.max.map(|m| m as usize)))
                }
                _ => None,
            }
        };
        match hir.kind() {
            HirKind::Concat(parts) => {
                let [lead, body] = parts.as_slice() else {
                    return None;
                };
                let HirKind::Repetition(l) = lead.kind() else {
                    return None;
                };
                let (body, max) = repeat(body)?;
                // With a limit on the body, taking the lead char or not would end the match
                // in different places; only unlimited runs are handled.
                if !(l.greedy && l.min == 0 && l.max == Some(1)) || max.is_some() {
                    return None;
                }
                Some(ClassRun {
                    lead: Some(Class::from_hir(&l.sub)?),
                    body,
                    max,
                })
            }
            _ => {
                let (body, max) = repeat(&hir)?;
                Some(ClassRun {
                    lead: None,
                    body,
                    max,
                })
            }
        }
    }

    /// `f(start, end)` for each match, left to right.
    pub fn for_each(&self, text: &str, mut f: impl FnMut(usize, usize)) {
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            // Greedy: the lead char is taken whenever a body char follows it. (When the lead
            // char is in the body too, the run ends in the same place either way.)
            let lead = self.lead.as_ref().is_some_and(|l| l.has(c))
                && chars.peek().is_some_and(|&(_, d)| self.body.has(d));
            if !lead && !self.body.has(c) {
                continue;
            }
            let mut end = i + c.len_utf8();
            if lead {
                let (j, d) = chars.next().expect("peeked");
                end = j + d.len_utf8();
            }
            let mut taken = 1;
            while self.max.is_none_or(|m| taken < m) {
                match chars.peek() {
                    Some(&(j, d)) if self.body.has(d) => {
                        end = j + d.len_utf8();
                        taken += 1;
                        chars.next();
                    }
                    _ => break,
                }
            }
            f(i, end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_texts::{chars_of, random_texts};

    #[test]
    fn class_runs_equal_the_regex_engine() {
        let sources = [
            r"[\r\n]",
            r"\s?\p{L}+",
            r"\s?\p{P}+",
            r"[一-龥ࠀ-一가-퟿]+",
            r"[一-龥぀-ゟ゠-ヿ]+",
            r"\p{N}{1,3}",
            r"\p{N}",
            r"[a-z]?[a-z0-9]+",
        ];
        let alphabet =
            chars_of("aZé1٣½中한\u{800}ぁア \t\n\r\u{a0}\u{3000}'.,!?-_\u{301}\u{1f600}x9");
        let texts = random_texts(&alphabet, 20_000, 16);
        for src in sources {
            let runs = ClassRun::new(src).unwrap_or_else(|| panic!("{src} is a class run"));
            let re = regex::Regex::new(src).unwrap();
            for text in &texts {
                let mut got = Vec::new();
                runs.for_each(text, |s, e| got.push((s, e)));
                let want: Vec<(usize, usize)> =
                    re.find_iter(text).map(|m| (m.start(), m.end())).collect();
                assert_eq!(got, want, "{src} on {text:?}");
            }
        }
    }

    #[test]
    fn other_shapes_are_left_to_the_engine() {
        for src in [
            r"[0-9][0-9][0-9]",
            r"ab|c",
            r"\p{L}+?",
            r"\s?\p{N}{1,3}",
            r"\p{L}*",
            r"x",
            r"\s?\p{L}?",
        ] {
            assert!(ClassRun::new(src).is_none(), "{src}");
        }
    }
}
