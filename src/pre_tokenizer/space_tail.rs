//! Split regexes that end in `|\s+(?!\S)|\s+` (the GPT-4 style tail), run without lookahead.
//!
//! The lookahead puts the whole pattern on fancy-regex's backtracking VM, whose stack is
//! bounded: a long run of letters (a million, say) makes it give up. Over a whitespace run
//! `[p, q)`, the two alternatives together match `[p, q)` when the run ends the text or is one
//! char long, and otherwise all of it but the last char (which then leads the next piece). So
//! the pattern runs as `(?:head)|(\s+)` on the regex crate (linear time), and a match of that
//! last group is shortened by that rule.

/// The tail this module handles, as it is written in the pattern.
const TAIL: &str = r"|\s+(?!\S)|\s+";
/// The group name the whitespace alternative gets (not a name a tokenizer file would use).
const GROUP: &str = "batok_space_run";

#[derive(Debug, Clone)]
pub struct SpaceTail {
    re: regex::Regex,
    group: usize,
}

impl SpaceTail {
    /// The pattern without its lookahead, when `src` ends in the tail and the rest needs no
    /// backtracking engine.
    pub fn new(src: &str) -> Option<SpaceTail> {
        let head = src.strip_suffix(TAIL)?;
        let re = regex::Regex::new(&format!("(?:{head})|(?P<{GROUP}>\\s+)")).ok()?;
        let group = re.capture_names().position(|n| n == Some(GROUP))?;
        Some(SpaceTail { re, group })
    }

    /// `f(start, end)` for each non-empty match, left to right.
    pub fn for_each(&self, text: &str, f: impl FnMut(usize, usize)) {
        self.walk(text, false, f)
    }

    /// `f(start, end)` for each match, left to right, the empty ones included but for one
    /// right where the previous match ended (an iterator's rule). An empty match makes no
    /// piece, yet in an `Isolated` split it still cuts the text between matches.
    pub fn for_each_cut(&self, text: &str, f: impl FnMut(usize, usize)) {
        self.walk(text, true, f)
    }

    fn walk(&self, text: &str, empty: bool, mut f: impl FnMut(usize, usize)) {
        let mut locs = self.re.capture_locations();
        let mut at = 0;
        let mut last_end = None;
        while at <= text.len() {
            let Some((s, mut e)) = self.re.find_at(text, at).map(|m| (m.start(), m.end())) else {
                break;
            };
            if s == e {
                if empty && last_end != Some(e) {
                    f(s, e);
                    last_end = Some(e);
                }
                // Search again from the next char, as an iterator would.
                match text[e..].chars().next() {
                    Some(c) => at = e + c.len_utf8(),
                    None => break,
                }
                continue;
            }
            // Only a match of whitespace alone may be the last group's; which alternative
            // matched takes the (slower) search with groups, over the same match.
            if e < text.len()
                && text[s..e].chars().all(char::is_whitespace)
                && self.re.captures_read_at(&mut locs, text, at).is_some()
                && locs.get(self.group).is_some()
            {
                let last = text[s..e].chars().next_back().map_or(0, char::len_utf8);
                if e - last > s {
                    e -= last;
                }
            }
            f(s, e);
            at = e;
            last_end = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SpaceTail;

    const GPT4: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    fn pieces<'a>(src: &str, text: &'a str) -> Vec<&'a str> {
        split(&SpaceTail::new(src).expect("handled"), text)
    }

    fn split<'a>(t: &SpaceTail, text: &'a str) -> Vec<&'a str> {
        let mut v = Vec::new();
        t.for_each(text, |s, e| v.push(&text[s..e]));
        v
    }

    fn fancy<'a>(src: &str, text: &'a str) -> Vec<&'a str> {
        fancy_split(&fancy_regex::Regex::new(src).unwrap(), text)
    }

    fn fancy_split<'a>(re: &fancy_regex::Regex, text: &'a str) -> Vec<&'a str> {
        re.find_iter(text)
            .map(|m| m.unwrap().as_str())
            .filter(|m| !m.is_empty())
            .collect()
    }

    #[test]
    fn same_pieces_as_the_lookahead() {
        for text in [
            "Hello  world",
            "a \u{3000}\u{3000}b",
            "trailing   ",
            "x \ny",
            "  lead",
            " ",
            "a\t\tb",
            "one two  three   four\n\n five\u{a0}\u{a0}six",
            "",
        ] {
            assert_eq!(pieces(GPT4, text), fancy(GPT4, text), "{text:?}");
        }
    }

    #[test]
    fn same_pieces_on_random_text() {
        // Deepseek-v4's split pattern too: a different head before the same tail.
        let deepseek = r##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"##;
        let alphabet: Vec<char> = " \t\n\r\u{a0}\u{3000}\u{2028}aZé中1٣.,'!-_\u{301}"
            .chars()
            .collect();
        let both = [GPT4, deepseek].map(|src| {
            (
                SpaceTail::new(src).expect("handled"),
                fancy_regex::Regex::new(src).unwrap(),
            )
        });
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (x >> 59) as usize;
            let text: String = (0..len)
                .map(|i| alphabet[((x >> (i * 2 % 48)) as usize + i * 7) % alphabet.len()])
                .collect();
            for (t, re) in &both {
                assert_eq!(
                    split(t, &text),
                    fancy_split(re, &text),
                    "{re:?} on {text:?}"
                );
            }
        }
    }

    #[test]
    fn empty_matches_cut_as_the_lookahead_does() {
        // A head that can match nothing: its empty matches are reported as cuts, but for one
        // right where the previous match ended.
        let src = r"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{0,3}|\s*[\r\n]+|\s+(?!\S)|\s+";
        let t = SpaceTail::new(src).expect("handled");
        let re = fancy_regex::Regex::new(src).unwrap();
        for text in ["  \n\n x", "\n\n", "a1234  b", "", " ", "é\n \n", "12\n\n3"] {
            let mut cuts = Vec::new();
            t.for_each_cut(text, |s, e| cuts.push((s, e)));
            let expected: Vec<(usize, usize)> = re
                .find_iter(text)
                .map(|m| m.map(|m| (m.start(), m.end())).unwrap())
                .collect();
            assert_eq!(cuts, expected, "{text:?}");
            assert_eq!(split(&t, text), fancy(src, text), "{text:?}");
        }
    }

    #[test]
    fn a_million_letters_is_one_piece() {
        let text = "ab".repeat(500_000);
        assert_eq!(pieces(GPT4, &text), vec![text.as_str()]);
    }

    #[test]
    fn other_patterns_are_left_to_the_regex_engine() {
        assert!(SpaceTail::new(r"\s+(?!\S)").is_none());
        assert!(SpaceTail::new(r"(?<=a)b|\s+(?!\S)|\s+").is_none()); // lookbehind in the head
    }
}
