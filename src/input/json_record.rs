//! The usual JSON lines record, an object of plain values with the text at one key, read
//! without the general JSON parser.
//!
//! A general parser builds the text in a scratch buffer that regrows as the text goes on (a
//! document of a few KB with escaped newlines regrows it about ten times), checks the bytes as
//! UTF-8 piece by piece, and then copies the text out; reading a 50 MB file that way took as
//! long as encoding a fifth of it. Here the line is checked as UTF-8 once, the text is
//! unescaped into a string allocated once at its final size or more, and the other values
//! (ids, URLs, dates, scores, nested metadata) are checked as the general parser checks a
//! value it skips, without being built. Anything this reader does not take on (an escaped
//! key, a text that is not a string, a lone surrogate in the text, an error of any kind) is
//! left to the general parser, which gives the same text, or the error, as it always did.

/// How deep skipped values may nest here (the general parser allows 128 levels in all).
const MAX_DEPTH: usize = 64;

/// The text at `field` of `line` when the line is one JSON object whose keys are written
/// without escapes and whose value at `field` (the last, if the key repeats) is a string;
/// None for any other line, which the general parser then reads. `field` must need no
/// escaping in JSON (`plain_key`).
pub fn field_text(line: &[u8], field: &str) -> Option<String> {
    // One check for the whole line; every slice copied below then holds whole chars.
    std::str::from_utf8(line).ok()?;
    let mut at = skip_ws(line, 0);
    at = expect(line, at, b'{')?;
    at = skip_ws(line, at);
    let mut text = None;
    if line.get(at) != Some(&b'}') {
        loop {
            at = expect(line, at, b'"')?;
            let key_end = at + plain_run(&line[at..]);
            let key = &line[at..key_end];
            at = expect(line, key_end, b'"')?;
            at = skip_ws(line, at);
            at = expect(line, at, b':')?;
            at = skip_ws(line, at);
            if key == field.as_bytes() {
                at = expect(line, at, b'"')?;
                let (value, end) = string_body(line, at)?;
                text = Some(value);
                at = end;
            } else {
                at = skip_value(line, at, 1)?;
            }
            at = skip_ws(line, at);
            match line.get(at)? {
                b',' => at = skip_ws(line, at + 1),
                b'}' => break,
                _ => return None,
            }
        }
    }
    at = expect(line, at, b'}')?;
    if skip_ws(line, at) != line.len() {
        return None;
    }
    text
}

/// The index just past the JSON value at `at`, checked as the general parser checks a value
/// it skips: strings with valid escapes and no control chars (surrogates are not paired up),
/// numbers by JSON's grammar, the three literals, arrays and objects of such values.
fn skip_value(line: &[u8], at: usize, depth: usize) -> Option<usize> {
    match *line.get(at)? {
        b'"' => skip_string(line, at + 1),
        b'-' | b'0'..=b'9' => skip_number(line, at),
        b't' => literal(line, at, b"true"),
        b'f' => literal(line, at, b"false"),
        b'n' => literal(line, at, b"null"),
        open @ (b'[' | b'{') if depth < MAX_DEPTH => {
            let close = if open == b'[' { b']' } else { b'}' };
            let mut at = skip_ws(line, at + 1);
            if line.get(at) == Some(&close) {
                return Some(at + 1);
            }
            loop {
                if open == b'{' {
                    at = skip_string(line, expect(line, at, b'"')?)?;
                    at = skip_ws(line, at);
                    at = skip_ws(line, expect(line, at, b':')?);
                }
                at = skip_ws(line, skip_value(line, at, depth + 1)?);
                match *line.get(at)? {
                    b',' => at = skip_ws(line, at + 1),
                    b if b == close => return Some(at + 1),
                    _ => return None,
                }
            }
        }
        _ => None,
    }
}

/// Past the string whose body starts at `at`.
fn skip_string(line: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += plain_run(&line[at..]);
        match *line.get(at)? {
            b'"' => return Some(at + 1),
            b'\\' => {
                at += match *line.get(at + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                    b'u' => {
                        hex4(line, at + 2)?;
                        6
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
}

/// Past the number at `at`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn skip_number(line: &[u8], mut at: usize) -> Option<usize> {
    let digits = |at: usize| at + line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    if line.get(at) == Some(&b'-') {
        at += 1;
    }
    at = match *line.get(at)? {
        b'0' => at + 1,
        b'1'..=b'9' => digits(at),
        _ => return None,
    };
    if line.get(at) == Some(&b'.') {
        let end = digits(at + 1);
        if end == at + 1 {
            return None;
        }
        at = end;
    }
    if matches!(line.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(line.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let end = digits(at);
        if end == at {
            return None;
        }
        at = end;
    }
    // A digit right after a leading zero ("01") is left for the caller, which takes only
    // `,` `}` or `]` after a value.
    Some(at)
}

fn literal(line: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    (line.get(at..at + word.len())? == word).then_some(at + word.len())
}

/// Whether `field` is written in JSON as itself between quotes (no `"`, `\` or control char),
/// the condition for `field_text` to compare it with a key byte for byte.
pub fn plain_key(field: &str) -> bool {
    field.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

fn skip_ws(line: &[u8], mut at: usize) -> usize {
    while matches!(line.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

fn expect(line: &[u8], at: usize, byte: u8) -> Option<usize> {
    (line.get(at) == Some(&byte)).then_some(at + 1)
}

/// The unescaped string that starts at `start` (just after its opening quote), and the index
/// just past its closing quote. `line` is valid UTF-8.
fn string_body(line: &[u8], start: usize) -> Option<(String, usize)> {
    // Escapes only shorten the text, so this is its final size or more.
    let mut out = Vec::with_capacity(line.len() - start);
    let mut at = start;
    loop {
        let run = plain_run(&line[at..]);
        out.extend_from_slice(&line[at..at + run]);
        at += run;
        match *line.get(at)? {
            b'"' => {
                // SAFETY: `out` holds runs of the UTF-8 `line` that end before an ASCII byte
                // (a quote or a backslash), so whole chars, and chars pushed from valid code
                // points.
                let text = unsafe { String::from_utf8_unchecked(out) };
                return Some((text, at + 1));
            }
            b'\\' => {}
            // JSON allows no raw control chars in a string; the general parser reports them.
            _ => return None,
        }
        let (c, next) = escape(line, at)?;
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        at = next;
    }
}

/// The char of the escape at `at` (a backslash) and the index after it; None for an escape
/// JSON does not have and for a surrogate that is not half of a pair.
fn escape(line: &[u8], at: usize) -> Option<(char, usize)> {
    let c = match *line.get(at + 1)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let high = hex4(line, at + 2)?;
            if !(0xD800..0xE000).contains(&high) {
                return Some((char::from_u32(high)?, at + 6));
            }
            // A leading surrogate, which must be followed by an escaped trailing one.
            if high >= 0xDC00 || line.get(at + 6..at + 8)? != b"\\u" {
                return None;
            }
            let low = hex4(line, at + 8)?;
            if !(0xDC00..0xE000).contains(&low) {
                return None;
            }
            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            return Some((char::from_u32(code)?, at + 12));
        }
        _ => return None,
    };
    Some((c, at + 2))
}

/// How many bytes at the start of `bytes` a string holds as they are: all but a quote, a
/// backslash and control chars. Eight at a time: in a word, a byte's high bit is set below
/// where it equals the quote, the backslash or is below 0x20, and the lowest such bit is
/// exact (a borrow only moves up).
fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = ONES * 0x80;
    let zero_at = |w: u64| w.wrapping_sub(ONES) & !w;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let stops = (zero_at(w ^ (ONES * b'"' as u64))
            | zero_at(w ^ (ONES * b'\\' as u64))
            | (w.wrapping_sub(ONES * 0x20) & !w))
            & HIGHS;
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + bytes[i..]
        .iter()
        .take_while(|&&b| b >= 0x20 && b != b'"' && b != b'\\')
        .count()
}

fn hex4(line: &[u8], at: usize) -> Option<u32> {
    line.get(at..at + 4)?
        .iter()
        .try_fold(0u32, |acc, &b| Some(acc << 4 | (b as char).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::jsonl::parse_field;
    use crate::test_texts::random_texts;

    #[test]
    fn plain_run_stops_at_the_first_quote_backslash_or_control_char() {
        for len in 0..20 {
            for stop in [b'"', b'\\', 0, 0x1f, b'\n'] {
                for at in 0..=len {
                    let mut bytes = vec![b'a'; len];
                    // Bytes around the stop that must not stop a run: 0x20, 0x7f, 0x80, 0xff.
                    for (k, b) in bytes.iter_mut().enumerate() {
                        *b = [b'a', 0x20, 0x7f, 0x80, 0xff, b'!', b'#', b']'][k % 8];
                    }
                    if at < len {
                        bytes[at] = stop;
                        if at + 1 < len {
                            bytes[at + 1] = b'"';
                        }
                    }
                    assert_eq!(plain_run(&bytes), at, "{bytes:?}");
                }
            }
        }
    }

    #[test]
    fn takes_the_usual_record() {
        let cases = [
            (r#"{"text": "hi"}"#, "hi"),
            (
                r#"{"text":"a\nb\u00e9\u00E9\/\\\"\t\b\f\r"}"#,
                "a\nb\u{e9}\u{e9}/\\\"\t\u{8}\u{c}\r",
            ),
            (r#"{"text": "\ud83d\ude00 é"}"#, "\u{1F600} é"),
            ("  {\t\"text\" :\r\"x\"  }  \n", "x"),
            (r#"{"text": ""}"#, ""),
            (r#"{"text": "a", "id": 1}"#, "a"),
            (
                r#"{"id": -1.5e+3, "text": "a", "ok": true, "no": null, "f": false}"#,
                "a",
            ),
            (r#"{"text": "first", "text": "last"}"#, "last"),
            (
                r#"{"meta": {"url": "\ud800", "tags": [1, [], {}, {"x": [0]}]}, "text": "a"}"#,
                "a",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(
                field_text(line.as_bytes(), "text").as_deref(),
                Some(want),
                "{line}"
            );
        }
    }

    #[test]
    fn leaves_everything_else_to_the_parser() {
        let cases = [
            r#"{"text": 1}"#,
            r#"{"text": "a", "text": 1}"#,
            r#"{"text": "a", "id": 01}"#,
            r#"{"text": "a", "id": 1.}"#,
            r#"{"text": "a", "id": -}"#,
            r#"{"text": "a", "id": 1e}"#,
            r#"{"text": "a", "id": .5}"#,
            r#"{"text": "a", "id": tru}"#,
            r#"{"text": "a", "id": "\q"}"#,
            r#"{"text": "a", "id": [1,]}"#,
            r#"{"text": "a",}"#,
            r#"{"text": "a" "id": 1}"#,
            r#"{"text": "a", "x\u0041": 1}"#,
            r#"{}"#,
            r#"{"te\u0078t": "escaped key"}"#,
            r#"{"texts": "a"}"#,
            r#"{"text": null}"#,
            r#"{"text": "a"} {"text": "b"}"#,
            r#"{"text": "a"}x"#,
            r#"{"text": "unterminated}"#,
            r#"{"text": "\ud800"}"#,
            r#"{"text": "\udc00\ud800"}"#,
            r#"{"text": "\ud800\u0041"}"#,
            r#"{"text": "\x"}"#,
            r#"{"text": "\u12"}"#,
            "{\"text\": \"raw\ttab\"}",
            "{\"text\": \"a\"}\u{a0}",
        ];
        for line in cases {
            assert_eq!(field_text(line.as_bytes(), "text"), None, "{line}");
        }
        assert_eq!(field_text(b"{\"text\": \"\xff\"}", "text"), None);
        assert!(plain_key("text") && plain_key("é") && !plain_key("a\"b") && !plain_key("a\\b"));
    }

    /// Random records built from string fragments (escapes valid and not, raw quotes and
    /// control chars, surrogates alone and in pairs) in several record shapes: where this
    /// reader takes a line, the general parser gives the same text, and on the usual shapes
    /// it takes every line the general parser reads.
    #[test]
    fn agrees_with_the_general_parser() {
        let fragments: Vec<String> = [
            "a",
            "Z",
            " ",
            "é",
            "中",
            "😀",
            "\\n",
            "\\\"",
            "\\\\",
            "\\/",
            "\\b",
            "\\f",
            "\\r",
            "\\t",
            "\\u0041",
            "\\u00e9",
            "\\u00E9",
            "\\u4e2D",
            "\\ud83d\\ude00",
            "\\uD83D\\uDE00",
            "\\ud800",
            "\\udc00",
            "\\ud83d",
            "\\ude00",
            "\\u0000",
            "\\u001f",
            "\\x",
            "\\u12",
            "\\",
            "\"",
            "\t",
            "\u{1}",
            "\u{7f}",
            "\u{a0}",
            "}",
            "{",
            ":",
            ",",
            "0",
            "1",
            "-",
            ".",
            "e",
            "+",
            "[",
            "]",
            "true",
            "null",
        ]
        .map(String::from)
        .to_vec();
        let shapes: [(&str, &str, bool); 8] = [
            ("{\"text\": \"", "\"}", true),
            ("  {\"text\":\"", "\"}\r\n", true),
            ("{ \"text\" : \"", "\" }", true),
            ("{\"text\": \"", "\", \"id\": 3}", true),
            // The fragments in a value that is skipped, then in a nested one.
            ("{\"id\": \"", "\", \"text\": \"b\"}", true),
            (
                "{\"m\": {\"a\": [1, -2.5e3, true, null, \"",
                "\"]}, \"text\": \"x\"}",
                true,
            ),
            // The fragments as a value of their own (numbers, literals, arrays).
            ("{\"text\": \"a\", \"n\": ", "}", true),
            ("[\"", "\"]", false),
        ];
        let mut taken = 0;
        for (i, body) in random_texts(&fragments, 6000, 12).iter().enumerate() {
            let (open, close, usual) = shapes[i % shapes.len()];
            let line = format!("{open}{body}{close}");
            let fast = field_text(line.as_bytes(), "text");
            let general = parse_field(line.as_bytes(), "text");
            if let Some(text) = &fast {
                assert_eq!(Ok(text), general.as_ref().map_err(|e| &e.1), "{line}");
                taken += 1;
            } else if usual {
                assert!(
                    general.is_err(),
                    "{line}: the general parser reads it, this did not"
                );
            }
        }
        assert!(taken > 500, "only {taken} lines taken");
    }
}
