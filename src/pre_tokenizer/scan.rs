//! Hand-written scanners for the split regexes that today's tokenizers use.
//!
//! GPT-2's pattern and the cl100k / Llama-3 / Qwen family are a handful of character classes
//! (letters, numbers, whitespace, everything else) with one look-ahead, `\s+(?!\S)`. A general
//! backtracking engine spends most of its time on that look-ahead; these scanners decide each
//! match in one forward pass and give exactly the regex's matches (the unit tests and the parity
//! suite compare them with the regex engine on random text). Any other pattern uses the engine.

use std::sync::OnceLock;

use crate::unicode_class::{class_ranges, in_ranges};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    Gpt2,
    /// cl100k_base, Llama-3 and Qwen2: case-insensitive contractions, a letter run with one
    /// optional leading non-letter, numbers in groups of `digits`, punctuation runs with
    /// trailing newlines, then the whitespace rules. `ws_to_end` is tiktoken's `\s++$`.
    Cl100k { digits: usize, ws_to_end: bool },
    /// o200k_base: cased letter runs (upper/title/modifier/other letters and marks, then lower
    /// ones) with an optional contraction, `/` kept with trailing newlines after punctuation.
    O200k,
    /// CLIP: its two special tokens, contractions, letter runs, single numbers and runs of
    /// everything else. It leaves whitespace unmatched.
    Clip,
    /// `\s+`, runs of whitespace (CLIP's normalizer replaces them). It leaves the rest
    /// unmatched.
    Spaces,
}

pub const GPT2: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
pub const CL100K_TIKTOKEN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";
pub const LLAMA3: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
pub const O200K: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|",
    r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
);
pub const CLIP: &str =
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";
pub const SPACES: &str = r"\s+";
pub const QWEN2: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

impl Kind {
    pub fn for_pattern(src: &str) -> Option<Kind> {
        match src {
            GPT2 => Some(Kind::Gpt2),
            CL100K_TIKTOKEN => Some(Kind::Cl100k {
                digits: 3,
                ws_to_end: true,
            }),
            LLAMA3 => Some(Kind::Cl100k {
                digits: 3,
                ws_to_end: false,
            }),
            QWEN2 => Some(Kind::Cl100k {
                digits: 1,
                ws_to_end: false,
            }),
            O200K => Some(Kind::O200k),
            CLIP => Some(Kind::Clip),
            SPACES => Some(Kind::Spaces),
            _ => None,
        }
    }

    /// Whether the matches tile the text (the tokenizers' own split patterns match every
    /// char).
    pub fn tiles(self) -> bool {
        !matches!(self, Kind::Clip | Kind::Spaces)
    }

    /// Call `f(start, end)` for every match, left to right.
    pub fn for_each(self, text: &str, mut f: impl FnMut(usize, usize)) {
        // One loop per kind, so that each kind's fast paths and `f` make one loop body.
        match self {
            Kind::Gpt2 => tile(text, |i| gpt2_at(text, i), f),
            Kind::Cl100k { digits, ws_to_end } => {
                tile(text, |i| cl100k_at(text, i, digits, ws_to_end), f)
            }
            Kind::O200k => tile(text, |i| o200k_at(text, i), f),
            Kind::Clip => {
                let mut i = 0;
                while i < text.len() {
                    match clip_at(text, i) {
                        Ok(e) => {
                            f(i, e);
                            i = e;
                        }
                        Err(skip) => i = skip,
                    }
                }
            }
            Kind::Spaces => {
                let b = text.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    let (c, len) = decode_at(b, i);
                    if is_space(c) {
                        let e = run(text, i, is_space);
                        f(i, e);
                        i = e;
                    } else {
                        i += len;
                    }
                }
            }
        }
    }
}

/// The end of CLIP's match at `i`, or Err(the end of the whitespace char there, where no
/// match starts).
fn clip_at(t: &str, i: usize) -> Result<usize, usize> {
    let b = t.as_bytes();
    let (c, len) = decode_at(b, i);
    if c == '<' {
        for special in ["<|startoftext|>", "<|endoftext|>"] {
            if b[i..].starts_with(special.as_bytes()) {
                return Ok(i + special.len());
            }
        }
    }
    if c == '\'' {
        if let Some(e) = contraction(t, i, false) {
            return Ok(e);
        }
    }
    if is_letter(c) {
        return Ok(ascii_run8(b, i, LETTER).unwrap_or_else(|| run(t, i, is_letter)));
    }
    if is_number(c) {
        return Ok(i + len);
    }
    if is_other(c) {
        return Ok(run(t, i, is_other));
    }
    Err(i + len)
}

/// `f(start, end)` for each match, where `end_at(i)` is the end of the match at `i`.
#[inline(always)]
fn tile(text: &str, end_at: impl Fn(usize) -> usize, mut f: impl FnMut(usize, usize)) {
    let mut i = 0;
    while i < text.len() {
        let e = end_at(i);
        debug_assert!(e > i);
        f(i, e);
        i = e;
    }
}

// Character classes. ASCII is decided inline; other chars below `TABLE_END` (nearly all
// non-ASCII text) read one byte of flags from a 256 KiB table built once from the exact
// definitions below, instead of a binary search per class per char.
const LETTER: u8 = 1;
const UPPERISH: u8 = 2;
const LOWERISH: u8 = 4;
const NUMBER: u8 = 8;
const SPACE: u8 = 16;
/// ASCII only: none of the above (`[^\s\p{L}\p{N}]`).
const OTHER: u8 = 32;

/// The same flags for ASCII, for the byte-at-a-time fast paths.
const ASCII: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_uppercase() {
            LETTER | UPPERISH
        } else if c.is_ascii_lowercase() {
            LETTER | LOWERISH
        } else if c.is_ascii_digit() {
            NUMBER
        } else if matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ') {
            SPACE
        } else {
            OTHER
        };
        b += 1;
    }
    t
};

/// The end of the run of ASCII bytes with any of `flags` from `i`, if the run ends at an
/// ASCII byte or the end of the text; None if it reaches a non-ASCII char, whose class only
/// the general path decides.
#[inline]
fn ascii_run(b: &[u8], mut i: usize, flags: u8) -> Option<usize> {
    while let Some(&x) = b.get(i) {
        if x >= 0x80 {
            return None;
        }
        if ASCII[x as usize] & flags == 0 {
            return Some(i);
        }
        i += 1;
    }
    Some(i)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that lies in `lo..=hi` (ASCII bounds, `lo` > 0).
#[inline(always)]
fn bytes_in(x: u64, lo: u8, hi: u8) -> u64 {
    // With the high bits cleared, adding a byte-wide constant never carries into the next byte,
    // and sets the high bit exactly when the byte reaches the threshold.
    let x7 = x & !HIGH;
    let at_least_lo = x7.wrapping_add((0x80 - lo as u64) * ONES);
    let above_hi = x7.wrapping_add((0x7f - hi as u64) * ONES);
    at_least_lo & !above_hi & !x & HIGH
}

/// The high bit of each byte of `x` that is an ASCII char with `flags` (one of `LETTER`,
/// `UPPERISH`, `LOWERISH`, `NUMBER`).
#[inline(always)]
fn ascii_class_bytes(x: u64, flags: u8) -> u64 {
    match flags {
        // Setting bit 5 maps each capital to its small letter and no other byte to a letter.
        LETTER => bytes_in(x | (0x20 * ONES), b'a', b'z'),
        UPPERISH => bytes_in(x, b'A', b'Z'),
        LOWERISH => bytes_in(x, b'a', b'z'),
        NUMBER => bytes_in(x, b'0', b'9'),
        _ => unreachable!("no byte-parallel test for flags {flags}"),
    }
}

/// `ascii_run` for a class that `ascii_class_bytes` tests, eight bytes at a time: a word ends
/// within the first eight bytes without a branch per byte (the loop's exit, taken at a
/// different count for each word, was mispredicted nearly once per word).
#[inline(always)]
fn ascii_run8(b: &[u8], mut i: usize, flags: u8) -> Option<usize> {
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap());
        let outside = !ascii_class_bytes(x, flags) & HIGH;
        if outside != 0 {
            let e = i + outside.trailing_zeros() as usize / 8;
            return (b[e] < 0x80).then_some(e);
        }
        i += 8;
    }
    ascii_run(b, i, flags)
}

/// Where a word may start at `i`: `i`, or `i + 1` after one ASCII char that may lead a word
/// (`[^\r\n\p{L}\p{N}]`, minus the apostrophe when `quote_leads` is false), provided an
/// ASCII letter is there.
#[inline]
fn ascii_word_start(b: &[u8], i: usize, quote_leads: bool) -> Option<usize> {
    let c = b[i];
    let leads = c < 0x80
        && ASCII[c as usize] & (LETTER | NUMBER) == 0
        && c != b'\r'
        && c != b'\n'
        && (quote_leads || c != b'\'');
    let j = if leads { i + 1 } else { i };
    let &d = b.get(j)?;
    (d < 0x80 && ASCII[d as usize] & LETTER != 0).then_some(j)
}

/// ` ?[^\s\p{L}\p{N}]+` at `i` followed by a run of `tail` bytes, decided over ASCII, for a
/// position where the earlier alternatives are known not to match *given* that no word starts
/// here: that is checked too, since a word may start with one leading char (`c`) and a letter,
/// and the letter may be non-ASCII.
#[inline]
fn ascii_punct(b: &[u8], i: usize, tail: &[u8]) -> Option<usize> {
    let c = b[i];
    if c >= 0x80 || ASCII[c as usize] & (LETTER | NUMBER) != 0 {
        return None;
    }
    let leads = c != b'\r' && c != b'\n';
    if leads
        && b.get(i + 1)
            .is_some_and(|&d| d >= 0x80 || ASCII[d as usize] & LETTER != 0)
    {
        return None;
    }
    let j = if c == b' ' { i + 1 } else { i };
    let &d = b.get(j)?;
    if d >= 0x80 || ASCII[d as usize] & OTHER == 0 {
        return None;
    }
    let mut e = ascii_run(b, j, OTHER)?;
    while b.get(e).is_some_and(|x| tail.contains(x)) {
        e += 1;
    }
    Some(e)
}

/// `\p{N}{1,max}` at `i` over ASCII digits; None where a non-ASCII char could extend it.
#[inline]
fn ascii_digits(b: &[u8], i: usize, max: usize) -> Option<usize> {
    let mut e = i;
    while e - i < max {
        match b.get(e) {
            Some(&x) if x >= 0x80 => return None,
            Some(&x) if x.is_ascii_digit() => e += 1,
            _ => break,
        }
    }
    (e > i).then_some(e)
}

fn letter_ranges() -> &'static [(u32, u32)] {
    static R: OnceLock<Vec<(u32, u32)>> = OnceLock::new();
    R.get_or_init(|| class_ranges(r"\p{L}"))
}

/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`
fn upperish_ranges() -> &'static [(u32, u32)] {
    static R: OnceLock<Vec<(u32, u32)>> = OnceLock::new();
    R.get_or_init(|| class_ranges(r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]"))
}

/// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`
fn lowerish_ranges() -> &'static [(u32, u32)] {
    static R: OnceLock<Vec<(u32, u32)>> = OnceLock::new();
    R.get_or_init(|| class_ranges(r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]"))
}

/// The flags of a char, by definition (any code point).
fn flags_of(c: char) -> u8 {
    let mut f = 0;
    if in_ranges(letter_ranges(), c) {
        f |= LETTER;
    }
    if in_ranges(upperish_ranges(), c) {
        f |= UPPERISH;
    }
    if in_ranges(lowerish_ranges(), c) {
        f |= LOWERISH;
    }
    if c.is_numeric() {
        f |= NUMBER;
    }
    if c.is_whitespace() {
        f |= SPACE;
    }
    f
}

/// Flags of every code point below this come from a table: the Basic Multilingual Plane and
/// the next three, where emoji, historic scripts and CJK extensions live (emoji-heavy text
/// otherwise took a binary search per class for each of its chars).
const TABLE_END: u32 = 0x40000;
const BMP_END: u32 = 0x10000;

/// The flags of the code points `start..end`, from the exact definitions.
fn flag_table(start: u32, end: u32) -> Vec<u8> {
    let mut t = vec![0u8; (end - start) as usize];
    for (bit, ranges) in [
        (LETTER, letter_ranges()),
        (UPPERISH, upperish_ranges()),
        (LOWERISH, lowerish_ranges()),
    ] {
        for &(s, e) in ranges.iter().filter(|(s, e)| *s < end && *e >= start) {
            for cp in s.max(start)..=e.min(end - 1) {
                t[(cp - start) as usize] |= bit;
            }
        }
    }
    for (k, f) in t.iter_mut().enumerate() {
        if let Some(c) = char::from_u32(start + k as u32) {
            if c.is_numeric() {
                *f |= NUMBER;
            }
            if c.is_whitespace() {
                *f |= SPACE;
            }
        }
    }
    t
}

/// The Basic Multilingual Plane's flags.
fn bmp_table() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| flag_table(0, BMP_END))
}

/// Code points per page of the table above the BMP.
const PAGE: u32 = 1 << 12;

/// The flags of the page of `cp` (`BMP_END <= cp < TABLE_END`), built on first use: a text
/// with emoji needs two or three of the 48 pages, and building them all cost more than
/// encoding a short file.
fn astral_page(cp: u32) -> &'static [u8] {
    const PAGES: usize = ((TABLE_END - BMP_END) / PAGE) as usize;
    static T: [OnceLock<Vec<u8>>; PAGES] = [const { OnceLock::new() }; PAGES];
    let start = cp & !(PAGE - 1);
    T[((start - BMP_END) / PAGE) as usize].get_or_init(|| flag_table(start, start + PAGE))
}

/// Flags of a non-ASCII char.
#[inline]
fn flags(c: char) -> u8 {
    let cp = c as u32;
    if cp < BMP_END {
        bmp_table()[cp as usize]
    } else if cp < TABLE_END {
        astral_page(cp)[(cp & (PAGE - 1)) as usize]
    } else {
        flags_of(c)
    }
}

#[inline]
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    flags(c) & LETTER != 0
}

#[inline]
fn is_upperish(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_uppercase();
    }
    flags(c) & UPPERISH != 0
}

#[inline]
fn is_lowerish(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_lowercase();
    }
    flags(c) & LOWERISH != 0
}

#[inline]
fn is_number(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        flags(c) & NUMBER != 0
    }
}

#[inline]
fn is_space(c: char) -> bool {
    if c.is_ascii() {
        // Rust's ASCII whitespace lacks U+000B, which White_Space (and `\s`) includes.
        matches!(c, '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ')
    } else {
        flags(c) & SPACE != 0
    }
}

#[inline]
fn is_other(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_alphanumeric() && !is_space(c);
    }
    flags(c) & (LETTER | NUMBER | SPACE) == 0
}

#[inline]
fn char_at(t: &str, i: usize) -> Option<char> {
    t[i..].chars().next()
}

/// The char that starts at byte `i` of `b` (valid UTF-8, `i` on a char boundary) and its
/// length: decoded from its bytes directly, without re-slicing the text for each char.
#[inline(always)]
fn decode_at(b: &[u8], i: usize) -> (char, usize) {
    let x = b[i] as u32;
    let tail = |k: usize| (b[i + k] & 0x3f) as u32;
    let (cp, len) = match x {
        0..=0x7f => return (x as u8 as char, 1),
        0xc0..=0xdf => ((x & 0x1f) << 6 | tail(1), 2),
        0xe0..=0xef => ((x & 0x0f) << 12 | tail(1) << 6 | tail(2), 3),
        _ => ((x & 0x07) << 18 | tail(1) << 12 | tail(2) << 6 | tail(3), 4),
    };
    (char::from_u32(cp).expect("valid UTF-8"), len)
}

/// End of the run of chars satisfying `p` starting at `i`.
#[inline]
fn run(t: &str, mut i: usize, p: impl Fn(char) -> bool) -> usize {
    let b = t.as_bytes();
    while i < b.len() {
        let (c, len) = decode_at(b, i);
        if !p(c) {
            break;
        }
        i += len;
    }
    i
}

/// `'s|'t|'re|'ve|'m|'ll|'d` at `i` (which holds the apostrophe); end of the match.
fn contraction(t: &str, i: usize, fold: bool) -> Option<usize> {
    let mut it = t[i + 1..].chars();
    let a = it.next()?;
    let norm = |c: char| {
        if !fold {
            c
        } else if c == '\u{17f}' {
            // Unicode simple case folding maps LONG S to 's'.
            's'
        } else {
            c.to_ascii_lowercase()
        }
    };
    let a2 = norm(a);
    if matches!(a2, 's' | 't' | 'm' | 'd') {
        return Some(i + 1 + a.len_utf8());
    }
    let b = it.next().map(norm);
    match (a2, b) {
        ('r', Some('e')) | ('v', Some('e')) | ('l', Some('l')) => Some(i + 1 + a.len_utf8() + 1),
        _ => None,
    }
}

/// The whitespace alternatives once nothing earlier matched at `i` (a whitespace char).
fn whitespace_at(t: &str, i: usize, newline_rule: bool, ws_to_end: bool) -> usize {
    let b = t.as_bytes();
    let j = ascii_run(b, i, SPACE).unwrap_or_else(|| run(t, i, is_space));
    if ws_to_end && j == t.len() {
        return j;
    }
    if newline_rule {
        // `\s*[\r\n]`: backtracks to the last newline of the run. (These bytes are never
        // inside a multi-byte char.)
        if let Some(p) = b[i..j].iter().rposition(|&x| x == b'\r' || x == b'\n') {
            return i + p + 1;
        }
    }
    if j == t.len() {
        return j;
    }
    // `\s+(?!\S)`: all but the last whitespace char, when that leaves at least one.
    let k = if b[j - 1] < 0x80 {
        j - 1
    } else {
        let last = t[i..j].chars().next_back().expect("non-empty run");
        j - last.len_utf8()
    };
    if k > i {
        k
    } else {
        j
    }
}

/// Whether the char at `i` is ASCII whitespace where no alternative before the whitespace
/// ones can match: none starts with whitespace except with one leading char (a space for
/// ` ?...`, or, when `any_leads`, any whitespace but `\r` and `\n` before a letter), so it is
/// enough that the next char is ASCII and cannot continue such a match.
#[inline]
fn ascii_space_only(b: &[u8], i: usize, any_leads: bool) -> bool {
    let c = b[i];
    if c >= 0x80 || ASCII[c as usize] & SPACE == 0 {
        return false;
    }
    let next = match b.get(i + 1) {
        None => return true,
        Some(&d) if d >= 0x80 => return false,
        Some(&d) => ASCII[d as usize],
    };
    if c == b' ' {
        next & SPACE != 0
    } else if any_leads && c != b'\r' && c != b'\n' {
        next & LETTER == 0
    } else {
        true
    }
}

fn gpt2_at(t: &str, i: usize) -> usize {
    // Fast path: ` ?\p{L}+` and ` ?\p{N}+` over ASCII.
    let b = t.as_bytes();
    let j = if b[i] == b' ' { i + 1 } else { i };
    if let Some(&d) = b.get(j) {
        let class = if d < 0x80 { ASCII[d as usize] } else { 0 };
        for flag in [LETTER, NUMBER] {
            if class & flag != 0 {
                if let Some(e) = ascii_run8(b, j, flag) {
                    return e;
                }
            }
        }
        // ` ?[^\s\p{L}\p{N}]+`, unless it starts with an apostrophe (maybe a contraction).
        if class & OTHER != 0 && b[i] != b'\'' {
            if let Some(e) = ascii_run(b, j, OTHER) {
                return e;
            }
        }
    }
    if ascii_space_only(b, i, false) {
        return whitespace_at(t, i, false, false);
    }
    let c = char_at(t, i).expect("in bounds");
    if c == '\'' {
        if let Some(e) = contraction(t, i, false) {
            return e;
        }
    }
    let j = if c == ' ' { i + 1 } else { i };
    if let Some(d) = if j < t.len() { char_at(t, j) } else { None } {
        if is_letter(d) {
            return run(t, j, is_letter);
        }
        if is_number(d) {
            return run(t, j, is_number);
        }
        if is_other(d) {
            return run(t, j, is_other);
        }
    }
    whitespace_at(t, i, false, false)
}

/// The end of the match at `i`. The ASCII fast paths are inlined into the caller's loop; the
/// rest is a call.
#[inline(always)]
fn cl100k_at(t: &str, i: usize, digits: usize, ws_to_end: bool) -> usize {
    // Fast path: `[^\r\n\p{L}\p{N}]?\p{L}+` over ASCII. An apostrophe first may be a
    // contraction, which comes earlier in the pattern, so it takes the general path.
    // Then numbers and punctuation runs, decided over ASCII too.
    let b = t.as_bytes();
    if b[i] != b'\'' {
        if let Some(e) = ascii_word_start(b, i, false).and_then(|j| ascii_run8(b, j, LETTER)) {
            return e;
        }
        if let Some(e) = ascii_digits(b, i, digits).or_else(|| ascii_punct(b, i, b"\r\n")) {
            return e;
        }
        if ascii_space_only(b, i, true) {
            return whitespace_at(t, i, true, ws_to_end);
        }
    }
    cl100k_general(t, i, digits, ws_to_end)
}

#[inline(never)]
fn cl100k_general(t: &str, i: usize, digits: usize, ws_to_end: bool) -> usize {
    let c = char_at(t, i).expect("in bounds");
    if c == '\'' {
        if let Some(e) = contraction(t, i, true) {
            return e;
        }
    }
    let next = || char_at(t, i + c.len_utf8());
    if is_letter(c) {
        return run(t, i, is_letter);
    }
    if c != '\r' && c != '\n' && !is_number(c) {
        if let Some(d) = if i + c.len_utf8() < t.len() {
            next()
        } else {
            None
        } {
            if is_letter(d) {
                return run(t, i + c.len_utf8(), is_letter);
            }
        }
    }
    if is_number(c) {
        let mut e = i;
        for _ in 0..digits {
            match char_at(t, e) {
                Some(d) if e < t.len() && is_number(d) => e += d.len_utf8(),
                _ => break,
            }
        }
        return e;
    }
    let j = if c == ' ' { i + 1 } else { i };
    if j < t.len() {
        let d = char_at(t, j).expect("in bounds");
        if is_other(d) {
            let e = run(t, j, is_other);
            return run(t, e, |x| x == '\r' || x == '\n');
        }
    }
    whitespace_at(t, i, true, ws_to_end)
}

/// An optional contraction after a letter run ending at `e`.
fn with_contraction(t: &str, e: usize) -> usize {
    if t.as_bytes().get(e) == Some(&b'\'') {
        if let Some(x) = contraction(t, e, true) {
            return x;
        }
    }
    e
}

/// `[U]*[L]+` at `j` with the regex's backtracking: the upper-ish run, then a lower-ish run;
/// failing that, the run gives back chars until one of them is lower-ish too.
fn o200k_first(t: &str, j: usize) -> Option<usize> {
    if j >= t.len() {
        return None;
    }
    let k = run(t, j, is_upperish);
    if let Some(c) = if k < t.len() { char_at(t, k) } else { None } {
        if is_lowerish(c) {
            return Some(with_contraction(t, run(t, k, is_lowerish)));
        }
    }
    let (p, c) = t[j..k]
        .char_indices()
        .rev()
        .find(|(_, c)| is_lowerish(*c))?;
    Some(with_contraction(t, j + p + c.len_utf8()))
}

/// `[U]+[L]*` at `j`.
fn o200k_second(t: &str, j: usize) -> Option<usize> {
    let c = if j < t.len() {
        char_at(t, j)?
    } else {
        return None;
    };
    if !is_upperish(c) {
        return None;
    }
    let k = run(t, j, is_upperish);
    Some(with_contraction(t, run(t, k, is_lowerish)))
}

/// The end of the match at `i`, with the ASCII fast paths inlined as in `cl100k_at`.
#[inline(always)]
fn o200k_at(t: &str, i: usize) -> usize {
    // Fast path over ASCII: with an optional leading char, an upper-case run then a lower-case
    // run is the first alternative; an upper-case run alone is the second (ASCII capitals
    // are never lower-ish, so the first cannot match by giving some back). Either may end in
    // a contraction.
    let b = t.as_bytes();
    if let Some(e) = ascii_word_start(b, i, true)
        .and_then(|j| ascii_run8(b, j, UPPERISH))
        .and_then(|k| ascii_run8(b, k, LOWERISH))
    {
        return with_contraction(t, e);
    }
    if let Some(e) = ascii_digits(b, i, 3).or_else(|| ascii_punct(b, i, b"\r\n/")) {
        return e;
    }
    if ascii_space_only(b, i, true) {
        return whitespace_at(t, i, true, false);
    }
    o200k_general(t, i)
}

#[inline(never)]
fn o200k_general(t: &str, i: usize) -> usize {
    let c = char_at(t, i).expect("in bounds");
    let prefix = c != '\r' && c != '\n' && !is_letter(c) && !is_number(c);
    let after = i + c.len_utf8();
    let try_alt = |f: fn(&str, usize) -> Option<usize>| {
        if prefix {
            if let Some(e) = f(t, after) {
                return Some(e);
            }
        }
        f(t, i)
    };
    if let Some(e) = try_alt(o200k_first) {
        return e;
    }
    if let Some(e) = try_alt(o200k_second) {
        return e;
    }
    if is_number(c) {
        let mut e = i;
        for _ in 0..3 {
            match char_at(t, e) {
                Some(d) if e < t.len() && is_number(d) => e += d.len_utf8(),
                _ => break,
            }
        }
        return e;
    }
    let j = if c == ' ' { i + 1 } else { i };
    if j < t.len() {
        let d = char_at(t, j).expect("in bounds");
        if is_other(d) {
            let e = run(t, j, is_other);
            return run(t, e, |x| x == '\r' || x == '\n' || x == '/');
        }
    }
    whitespace_at(t, i, true, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_texts::chars_of;

    #[test]
    fn class_table_agrees_with_the_definitions_for_every_char() {
        for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
            let f = flags_of(c);
            assert_eq!(is_letter(c), f & LETTER != 0, "{c:?}");
            assert_eq!(is_upperish(c), f & UPPERISH != 0, "{c:?}");
            assert_eq!(is_lowerish(c), f & LOWERISH != 0, "{c:?}");
            assert_eq!(is_number(c), c.is_numeric(), "{c:?}");
            assert_eq!(is_space(c), c.is_whitespace(), "{c:?}");
            assert_eq!(is_other(c), f & (LETTER | NUMBER | SPACE) == 0, "{c:?}");
        }
    }

    fn regex_matches(re: &fancy_regex::Regex, text: &str) -> Vec<(usize, usize)> {
        re.find_iter(text)
            .map(|m| m.unwrap())
            .map(|m| (m.start(), m.end()))
            .collect()
    }

    fn scan_matches(k: Kind, text: &str) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        k.for_each(text, |s, e| v.push((s, e)));
        v
    }

    /// Short texts over the chars where the rules differ.
    fn random_texts() -> Vec<String> {
        let alphabet = chars_of("aZé1٣½ǅʰ中\u{627}ÀÉ\u{903} \t\n\r\u{a0}\u{3000}'sStTrReElLvVmMdD\u{17f}.,!?-_/\u{4e00}\u{301}\u{1f600}\u{2028}\u{85}xQ9\"\u{b}  ee<|>");
        crate::test_texts::random_texts(&alphabet, 20_000, 24)
    }

    #[test]
    fn scanners_equal_the_regex_engine() {
        for src in [GPT2, CL100K_TIKTOKEN, LLAMA3, QWEN2, O200K, CLIP, SPACES] {
            let k = Kind::for_pattern(src).unwrap();
            let re = fancy_regex::Regex::new(src).unwrap();
            let specials = [
                "<|startoftext|>a b<|endoftext|>",
                "x<|endoftext|>",
                "!<|endoftext|> '<|startoftext|>",
                "<|endoftext <|startoftext|",
                "'s<|startoftext|>'ll",
            ];
            for t in random_texts().into_iter().chain(specials.map(String::from)) {
                assert_eq!(
                    scan_matches(k, &t),
                    regex_matches(&re, &t),
                    "{src} on {t:?}"
                );
            }
        }
    }

    #[test]
    fn eight_bytes_at_a_time_runs_equal_byte_runs() {
        for (flags, fill) in [
            (LETTER, b'q'),
            (UPPERISH, b'Q'),
            (LOWERISH, b'q'),
            (NUMBER, b'7'),
        ] {
            for len in 0..20 {
                for at in 0..len {
                    for v in 0..=255u8 {
                        let mut b = vec![fill; len];
                        b[at] = v;
                        for start in 0..len {
                            assert_eq!(
                                ascii_run8(&b, start, flags),
                                ascii_run(&b, start, flags),
                                "flags {flags} byte {v:#x} at {at} of {len}, from {start}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn decodes_every_char_as_the_standard_library_does() {
        for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            assert_eq!(decode_at(text.as_bytes(), 1), (c, c.len_utf8()), "{c:?}");
        }
    }

    #[test]
    fn letters_include_non_latin_scripts() {
        assert!(is_letter('\u{4e00}'));
        assert!(is_letter('\u{e9}'));
        assert!(!is_letter('\u{301}'));
        assert!(!is_letter('1'));
    }
}
