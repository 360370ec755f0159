//! tokenizer.json: the one place that knows its JSON shape.
//!
//! Every component is read from a `serde_json::Value` with its path, so an unsupported or
//! malformed component is reported where it is, e.g.
//! `normalizer.normalizers[2].type = "Foo" is not supported`.

use std::borrow::Cow;
use std::ops::Range;

use rustc_hash::FxHashMap;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::added_tokens::{AddedToken, AddedVocab};
use crate::decoder::Decoder;
use crate::error::{Error, ErrorKind, Result};
use crate::json_read::{read_fields, Checked, CowStr};
use crate::model::bpe::{Bpe, BpeOptions};
use crate::model::{Model, Unigram, WordLevel, WordPiece};
use crate::normalizer::{Bert, Normalizer, Pattern, Precompiled, UnicodeForm};
use crate::post_processor::{PostProcessor, SpecialTokens, TemplatePiece};
use crate::pre_tokenizer::{Behavior, PreTokenizer, PrependScheme};
use crate::repeated_keys::{repeated_key, Fields};
use crate::tokenizer::{Limits, Tokenizer};

fn err(path: &str, msg: impl std::fmt::Display) -> Error {
    Error::config(format!("{path}: {msg}"))
}

fn field<'a>(v: &'a Value, path: &str, key: &str) -> Result<&'a Value> {
    v.get(key)
        .ok_or_else(|| err(path, format!("missing field {key:?}")))
}

fn string(v: &Value, path: &str, key: &str) -> Result<String> {
    field(v, path, key)?
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| err(&format!("{path}.{key}"), "expected a string"))
}

fn boolean(v: &Value, path: &str, key: &str, default: bool) -> Result<bool> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(err(&format!("{path}.{key}"), "expected true or false")),
    }
}

/// A flag of an added token: `tokenizers` refuses a token without each of them (or with
/// null), so batok does too rather than guess a default.
fn flag(v: &Value, path: &str, key: &str) -> Result<bool> {
    match v.get(key) {
        Some(Value::Bool(b)) => Ok(*b),
        None => Err(err(
            path,
            format!(
                "missing field {key:?}; an added token must give each of \"special\", \
                 \"lstrip\", \"rstrip\", \"single_word\" and \"normalized\" as true or false"
            ),
        )),
        Some(_) => Err(err(&format!("{path}.{key}"), "expected true or false")),
    }
}

/// A field that may be left out (for `default`) but, when there, must be true or false (not
/// null), as `tokenizers` reads it.
fn bool_or_absent(v: &Value, path: &str, key: &str, default: bool) -> Result<bool> {
    match v.get(key) {
        None => Ok(default),
        Some(x) => x
            .as_bool()
            .ok_or_else(|| err(&format!("{path}.{key}"), "expected true or false")),
    }
}

/// A field that `tokenizers` requires to be true or false.
fn required_bool(v: &Value, path: &str, key: &str) -> Result<bool> {
    field(v, path, key)?
        .as_bool()
        .ok_or_else(|| err(&format!("{path}.{key}"), "expected true or false"))
}

fn uint(v: &Value, path: &str, key: &str) -> Result<u64> {
    field(v, path, key)?
        .as_u64()
        .ok_or_else(|| err(&format!("{path}.{key}"), "expected a non-negative integer"))
}

fn one_char(s: &str, path: &str) -> Result<char> {
    let mut it = s.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(err(path, format!("expected one character, got {s:?}"))),
    }
}

/// A component must be an object. `tokenizers` also reads a list there, as the fields, in
/// order, of the first kind of component they fit; batok does not, and says so.
fn object(v: &Value, path: &str) -> Result<()> {
    match v {
        Value::Object(_) => Ok(()),
        Value::Array(_) => Err(Error::config(format!(
            "{path}: a list in place of an object is not supported (tokenizers reads its items \
             as the fields, in order, of the first kind of component they fit); write the \
             component as an object with a \"type\""
        ))),
        _ => Err(err(path, "expected an object")),
    }
}

fn type_of<'a>(v: &'a Value, path: &str) -> Result<&'a str> {
    object(v, path)?;
    field(v, path, "type")?
        .as_str()
        .ok_or_else(|| err(&format!("{path}.type"), "expected a string"))
}

fn unsupported(path: &str, ty: &str) -> Error {
    Error::config(format!("{path}.type = {ty:?} is not supported"))
}

/// One error for many: every problem of a file is reported at once, in file order, so a file
/// with several unsupported parts is not fixed one error at a time.
fn joined(mut errors: Vec<Error>) -> Error {
    if errors.len() == 1 {
        return errors.remove(0);
    }
    let kind = errors[0].kind;
    let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
    Error::new(kind, messages.join("; "))
}

/// Each item of a list (a Sequence's parts) read with `f`, every item's error collected.
fn each<T>(
    v: &Value,
    path: &str,
    key: &str,
    f: impl Fn(&Value, &str) -> Result<T>,
) -> Result<Vec<T>> {
    let items = list(v, path, key)?;
    let (mut out, mut errors) = (Vec::with_capacity(items.len()), Vec::new());
    for (i, x) in items.iter().enumerate() {
        match f(x, &format!("{path}.{key}[{i}]")) {
            Ok(t) => out.push(t),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(joined(errors))
    }
}

fn list<'a>(v: &'a Value, path: &str, key: &str) -> Result<&'a Vec<Value>> {
    field(v, path, key)?
        .as_array()
        .ok_or_else(|| err(&format!("{path}.{key}"), "expected a list"))
}

/// A pattern is `{"String": ...}` or `{"Regex": ...}`, one key only, as `tokenizers` reads it.
fn pattern(v: &Value, path: &str) -> Result<Pattern> {
    let p = field(v, path, "pattern")?;
    let one = p.as_object().filter(|o| o.len() == 1);
    if let Some(Value::String(s)) = one.and_then(|o| o.get("String")) {
        return Ok(Pattern::Literal(s.clone()));
    }
    if let Some(Value::String(s)) = one.and_then(|o| o.get("Regex")) {
        let at = format!("{path}.pattern.Regex");
        let src = onig_escapes(s).map_err(|e| err(&at, e))?;
        return Pattern::regex(&src).map_err(|e| err(&at, e));
    }
    Err(err(
        &format!("{path}.pattern"),
        "expected {\"String\": ...} or {\"Regex\": ...}",
    ))
}

/// A file's regex with its Unicode properties (`\p{...}`, `\P{...}`) as Oniguruma, the
/// engine `tokenizers` compiles it with, reads them: `\p{^L}` is `\P{L}` (and `\P{^L}` is
/// `\p{L}`), `\pL` without braces is the letters "pL", and a name with a char beyond ASCII,
/// `=` or `:` is refused, where the regex crate would drop the char (`\p{L\u{fffd}}` as
/// `\p{L}`) or read a `name=value` form Oniguruma does not have.
/// Escapes the regex crates do not have, outside a class: `\R` is Oniguruma's line break
/// (`\r\n`, kept whole atomically, or one of `\n \v \f \r` U+0085 U+2028 U+2029), `\O` any
/// char, `\N` any char but `\n`, `\Z` the end or a last `\n`; inside a class each is its
/// letter. `\o{...}` is a char by its octal code, in a class or not.
/// `^` and `$` outside a class are line anchors, as in Oniguruma's Ruby syntax: `$` is the end
/// of the text or a place before a `\n`, `^` the start of the text or a place after a `\n`
/// except the very end (a text's last `\n` starts no line); such a pattern runs in multi-line
/// mode, its `^` as `(?:\A|^(?!\z))`.
fn onig_escapes(src: &str) -> std::result::Result<Cow<'_, str>, String> {
    const ESCAPES: [&str; 7] = ["\\p", "\\P", "\\R", "\\O", "\\N", "\\Z", "\\o{"];
    let digit_escape = src
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b'\\' && w[1].is_ascii_digit());
    if !digit_escape && !ESCAPES.iter().any(|e| src.contains(e)) && !src.contains(['^', '$']) {
        return Ok(Cow::Borrowed(src));
    }
    // With a named group, Oniguruma refuses a backreference by number.
    let named = src.contains("(?<")
        && src
            .match_indices("(?<")
            .any(|(i, _)| !matches!(src.as_bytes().get(i + 3), Some(b'=' | b'!')));
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    // How many classes (`[...]`, nested as Oniguruma nests them) the text so far is inside;
    // an escaped bracket is an escape below, never counted.
    let mut classes = 0usize;
    // Capturing groups opened so far: a `\N` of several digits is a backreference only
    // when there are that many.
    let mut groups = 0usize;
    // Whether an anchor stands outside a class.
    let mut anchors = false;
    while let Some(i) = rest.find('\\') {
        plain(
            &rest[..i],
            &mut classes,
            &mut groups,
            &mut anchors,
            &mut out,
        );
        let after = &rest[i + 1..];
        let Some(c) = after.chars().next() else {
            out.push('\\');
            rest = after;
            break;
        };
        let body = after[c.len_utf8()..].strip_prefix('{');
        match (c, body) {
            ('p' | 'P', Some(body)) => {
                let end = body
                    .find('}')
                    .ok_or_else(|| format!("unclosed \\{c}{{ in {src:?}"))?;
                let name = &body[..end];
                if name
                    .chars()
                    .any(|ch| !ch.is_ascii() || ch == '=' || ch == ':')
                {
                    return Err(format!(
                        "invalid character property name {{{name}}} in {src:?} (tokenizers' \
                         regex engine refuses it)"
                    ));
                }
                let (negated, name) = match name.strip_prefix('^') {
                    Some(n) => (c == 'p', n),
                    None => (c == 'P', name),
                };
                out.push_str(if negated { "\\P{" } else { "\\p{" });
                out.push_str(name);
                out.push('}');
                rest = &body[end + 1..];
            }
            ('R' | 'O' | 'N' | 'Z', _) => {
                out.push_str(match (c, classes) {
                    ('R', 0) => r"(?>\r\n|[\n\x0B\x0C\r\x{85}\x{2028}\x{2029}])",
                    ('O', 0) => r"(?s:.)",
                    ('N', 0) => r"[^\n]",
                    ('Z', 0) => r"(?=\n?\z)",
                    ('R', _) => "R",
                    ('O', _) => "O",
                    ('N', _) => "N",
                    _ => "Z",
                });
                rest = &after[1..];
            }
            ('o', Some(body)) => {
                let end = body
                    .find('}')
                    .ok_or_else(|| format!("unclosed \\o{{ in {src:?}"))?;
                let code = u32::from_str_radix(&body[..end], 8)
                    .ok()
                    .filter(|c| char::from_u32(*c).is_some())
                    .ok_or_else(|| {
                        format!("invalid octal char code \\o{{{}}} in {src:?}", &body[..end])
                    })?;
                out.push_str(&format!("\\x{{{code:X}}}"));
                rest = &body[end + 1..];
            }
            ('0'..='9', _) => {
                let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                let number: usize = after[..digits].parse().unwrap_or(usize::MAX);
                if classes == 0 && c != '0' && (number <= 9 || number <= groups) {
                    // A backreference, which the regex engine reads as it is.
                    if named {
                        return Err(format!(
                            "the backreference \\{number} in {src:?} is by number, which \
                             tokenizers' regex engine refuses beside a named group (use the \
                             name)"
                        ));
                    }
                    out.push('\\');
                    out.push_str(&after[..digits]);
                    rest = &after[digits..];
                } else if c == '8' || c == '9' {
                    // Not octal: the digit itself.
                    out.push(c);
                    rest = &after[1..];
                } else {
                    rest = octal_chars(&rest[i..], classes > 0, &mut out).ok_or_else(|| {
                        format!(
                            "invalid octal escape in {src:?}: bytes that are not UTF-8, or a \
                             code above \\377 in a class (tokenizers' regex engine refuses them)"
                        )
                    })?;
                }
            }
            ('p' | 'P', None) => {
                // Without braces Oniguruma reads `\pL` as the letters "pL".
                out.push(c);
                rest = &after[1..];
            }
            _ => {
                // Any other escape, kept whole (`\\p{` is a backslash, then `p{`).
                out.push('\\');
                out.push(c);
                rest = &after[c.len_utf8()..];
            }
        }
    }
    plain(rest, &mut classes, &mut groups, &mut anchors, &mut out);
    if anchors {
        out.insert_str(0, "(?m)");
    }
    Ok(Cow::Owned(out))
}

/// `text`, a part of a regex without escapes, into `out`: its classes (`[...]`, nested as
/// Oniguruma nests them) and capturing groups counted, and an anchor outside a class noted,
/// `^` written as `onig_escapes` says.
fn plain(
    text: &str,
    classes: &mut usize,
    groups: &mut usize,
    anchors: &mut bool,
    out: &mut String,
) {
    for (j, ch) in text.char_indices() {
        match ch {
            '[' => *classes += 1,
            ']' => *classes = classes.saturating_sub(1),
            '(' if *classes == 0 => {
                let next = &text[j + 1..];
                let lookaround = ["?<=", "?<!"].iter().any(|p| next.starts_with(p));
                if !next.starts_with('?') || (next.starts_with("?<") && !lookaround) {
                    *groups += 1;
                }
            }
            '^' if *classes == 0 => {
                *anchors = true;
                out.push_str(r"(?:\A|^(?!\z))");
                continue;
            }
            '$' if *classes == 0 => *anchors = true,
            _ => {}
        }
        out.push(ch);
    }
}

/// A run of Oniguruma's octal escapes (`\101`: up to three octal digits each, a byte) at the
/// start of `text`, pushed to `out` as the chars their bytes spell in UTF-8 (`\303\251` is
/// "é"), and the text after it; None where Oniguruma refuses the run (a continuation byte
/// first, a char cut short, a code above a byte inside a class). A byte that no UTF-8 char
/// starts with (0xF5 to 0xFF), or a code above a byte outside a class, matches nothing there.
fn octal_chars<'a>(mut text: &'a str, in_class: bool, out: &mut String) -> Option<&'a str> {
    const NOTHING: &str = r"[^\s\S]";
    let mut bytes = Vec::new();
    while let Some(after) = text.strip_prefix('\\') {
        let n = after
            .bytes()
            .take(3)
            .take_while(|b| (b'0'..=b'7').contains(b))
            .count();
        if n == 0 {
            break;
        }
        let code = u32::from_str_radix(&after[..n], 8).ok()?;
        text = &after[n..];
        if bytes.is_empty() && (code > 0xFF && !in_class || (0xF5..=0xFF).contains(&code)) {
            out.push_str(NOTHING);
            continue;
        }
        bytes.push(u8::try_from(code).ok()?);
        if let Ok(chars) = std::str::from_utf8(&bytes) {
            // A whole char: pushed, and the next escape starts another.
            chars
                .chars()
                .for_each(|ch| out.push_str(&format!("\\x{{{:X}}}", ch as u32)));
            bytes.clear();
        }
    }
    bytes.is_empty().then_some(text)
}

/// The normalizer types that `tokenizers` 0.23 reads by their type (with all their fields).
const TAGGED_NORMALIZERS: [&str; 13] = [
    "Sequence",
    "NFC",
    "NFD",
    "NFKC",
    "NFKD",
    "Lowercase",
    "Replace",
    "Prepend",
    "Strip",
    "StripAccents",
    "Precompiled",
    "Nmt",
    "ByteLevel",
];

/// Which normalizer `tokenizers` 0.23 reads a component as. A type of `TAGGED_NORMALIZERS`
/// is read as that type. Any other component (a BertNormalizer, a type it does not know, no
/// type) is read by its fields: the first of BertNormalizer (clean_text,
/// handle_chinese_chars, lowercase), Strip (strip_left, strip_right), Sequence (normalizers),
/// Replace (pattern, content) and Prepend (prepend) whose fields are all there, of the right
/// kind. So a "BertNormalizer" with only a `prepend` runs as a Prepend there, and batok reads
/// it so too. A Precompiled charsmap is read only under its own type: `tokenizers` refuses one
/// without it.
fn normalizer_kind(v: &Value) -> Option<&'static str> {
    if let Some(t) = v.get("type").and_then(Value::as_str) {
        if let Some(&tagged) = TAGGED_NORMALIZERS.iter().find(|&&k| k == t) {
            return Some(tagged);
        }
    }
    let is = |k: &str, f: fn(&Value) -> bool| v.get(k).is_some_and(f);
    if ["clean_text", "handle_chinese_chars", "lowercase"]
        .iter()
        .all(|k| is(k, Value::is_boolean))
        && v.get("strip_accents")
            .is_none_or(|x| x.is_boolean() || x.is_null())
    {
        return Some("BertNormalizer");
    }
    if is("strip_left", Value::is_boolean) && is("strip_right", Value::is_boolean) {
        return Some("Strip");
    }
    if is("normalizers", Value::is_array) {
        return Some("Sequence");
    }
    if is("content", Value::is_string) && pattern(v, "").is_ok() {
        return Some("Replace");
    }
    if is("prepend", Value::is_string) {
        return Some("Prepend");
    }
    None
}

/// The file's normalizer, refused where it prepends nothing and then normalizes further.
///
/// `tokenizers` prepends by re-inserting the first char after the prepended ones; with none,
/// that char is an insertion at the start and maps to an empty range of the input (batok
/// gives it the same). The normalizers after it that rewrite the whole text find that text
/// through the input's range, which now misses the first char: they rewrite the rest with
/// the whole text's replacement (Lowercase makes "İx" into "İi̇x") or index past the end
/// and panic. Nothing in that is worth copying.
fn top_normalizer(v: &Value, path: &str) -> Result<Normalizer> {
    fn flat<'a>(n: &'a Normalizer, out: &mut Vec<&'a Normalizer>) {
        match n {
            Normalizer::Sequence(list) => list.iter().for_each(|x| flat(x, out)),
            other => out.push(other),
        }
    }
    let n = normalizer(v, path)?;
    let mut steps = Vec::new();
    flat(&n, &mut steps);
    let empty = |x: &&Normalizer| matches!(x, Normalizer::Prepend(p) if p.is_empty());
    if let Some(at) = steps.iter().position(empty) {
        if at + 1 < steps.len() {
            return Err(err(
                path,
                "a Prepend of \"\" followed by other normalizers is not supported (tokenizers \
                 misaligns the text after it); remove the empty Prepend, which adds nothing",
            ));
        }
    }
    Ok(n)
}

fn normalizer(v: &Value, path: &str) -> Result<Normalizer> {
    let Some(ty) = normalizer_kind(v) else {
        return Err(match type_of(v, path)? {
            "BertNormalizer" => err(
                path,
                "a BertNormalizer needs clean_text, handle_chinese_chars and lowercase (true or \
                 false), as tokenizers requires",
            ),
            other => unsupported(path, other),
        });
    };
    Ok(match ty {
        "Sequence" => Normalizer::Sequence(each(v, path, "normalizers", normalizer)?),
        "NFC" => Normalizer::Unicode(UnicodeForm::Nfc),
        "NFD" => Normalizer::Unicode(UnicodeForm::Nfd),
        "NFKC" => Normalizer::Unicode(UnicodeForm::Nfkc),
        "NFKD" => Normalizer::Unicode(UnicodeForm::Nfkd),
        "Lowercase" => Normalizer::Lowercase,
        "Replace" => Normalizer::Replace {
            pattern: pattern(v, path)?,
            content: string(v, path, "content")?,
        },
        "Prepend" => Normalizer::Prepend(string(v, path, "prepend")?),
        "Strip" => Normalizer::Strip {
            left: required_bool(v, path, "strip_left")?,
            right: required_bool(v, path, "strip_right")?,
        },
        "BertNormalizer" => {
            let lowercase = boolean(v, path, "lowercase", true)?;
            Normalizer::Bert(Bert {
                clean_text: boolean(v, path, "clean_text", true)?,
                handle_chinese_chars: boolean(v, path, "handle_chinese_chars", true)?,
                // Null (the usual value) means: strip accents when lowercasing.
                strip_accents: boolean(v, path, "strip_accents", lowercase)?,
                lowercase,
            })
        }
        "StripAccents" => Normalizer::StripAccents,
        "Precompiled" => Normalizer::Precompiled(Box::new(precompiled(v, path)?)),
        other => return Err(unsupported(path, other)),
    })
}

/// A SentencePiece charsmap, base64 in the file. `tokenizers` refuses a file without one, or
/// with an empty one, and so does batok.
fn precompiled(v: &Value, path: &str) -> Result<Precompiled> {
    use base64::Engine as _;
    let key = format!("{path}.precompiled_charsmap");
    let text = string(v, path, "precompiled_charsmap")?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| err(&key, format!("invalid base64: {e}")))?;
    Precompiled::new(&blob).map_err(|e| err(&key, e))
}

fn behavior(v: &Value, path: &str) -> Result<Behavior> {
    let s = string(v, path, "behavior")?;
    Ok(match s.as_str() {
        "Removed" => Behavior::Removed,
        "Isolated" => Behavior::Isolated,
        "MergedWithPrevious" => Behavior::MergedWithPrevious,
        "MergedWithNext" => Behavior::MergedWithNext,
        "Contiguous" => Behavior::Contiguous,
        other => {
            return Err(err(
                &format!("{path}.behavior"),
                format!("{other:?} is not supported"),
            ))
        }
    })
}

/// A Metaspace's prepend scheme. Its other legacy fields are checked here too: `tokenizers`
/// requires `add_prefix_space` to be true, false or null and `str_rep` a string or null,
/// even where they are not used.
fn prepend_scheme(v: &Value, path: &str) -> Result<PrependScheme> {
    if v.get("str_rep")
        .is_some_and(|x| !x.is_string() && !x.is_null())
    {
        return Err(err(&format!("{path}.str_rep"), "expected a string or null"));
    }
    boolean(v, path, "add_prefix_space", true)?;
    // When there, a string: `tokenizers` refuses null too.
    let given = match v.get("prepend_scheme") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(err(
                &format!("{path}.prepend_scheme"),
                "expected \"always\", \"first\" or \"never\"",
            ))
        }
    };
    // A missing scheme is "always" (also in files older than the field, which say
    // `add_prefix_space` instead).
    let scheme = match given.as_deref() {
        None | Some("always") => PrependScheme::Always,
        Some("first") => PrependScheme::First,
        Some("never") => PrependScheme::Never,
        Some(other) => {
            return Err(err(
                &format!("{path}.prepend_scheme"),
                format!("{other:?} is not supported"),
            ))
        }
    };
    // `tokenizers` refuses a file whose `add_prefix_space` is false unless the scheme is
    // "never", a missing scheme included.
    if v.get("add_prefix_space") == Some(&Value::Bool(false)) && scheme != PrependScheme::Never {
        let declared = given.map_or("missing, so \"always\"".to_string(), |s| format!("{s:?}"));
        return Err(err(
            path,
            format!(
                "add_prefix_space = false does not match prepend_scheme ({declared}); set \
                 prepend_scheme to \"never\" and drop add_prefix_space"
            ),
        ));
    }
    Ok(scheme)
}

fn pre_tokenizer(v: &Value, path: &str) -> Result<PreTokenizer> {
    let ty = type_of(v, path)?;
    Ok(match ty {
        "Sequence" => PreTokenizer::Sequence(each(v, path, "pretokenizers", pre_tokenizer)?),
        "ByteLevel" => {
            // Unused by batok's pre-tokenizer, but `tokenizers` requires it.
            required_bool(v, path, "trim_offsets")?;
            PreTokenizer::ByteLevel {
                add_prefix_space: required_bool(v, path, "add_prefix_space")?,
                use_regex: bool_or_absent(v, path, "use_regex", true)?,
            }
        }
        "Split" => PreTokenizer::Split {
            pattern: pattern(v, path)?,
            behavior: behavior(v, path)?,
            invert: required_bool(v, path, "invert")?,
        },
        "Metaspace" => PreTokenizer::Metaspace {
            replacement: one_char(
                &string(v, path, "replacement")?,
                &format!("{path}.replacement"),
            )?,
            prepend_scheme: prepend_scheme(v, path)?,
            split: boolean(v, path, "split", true)?,
        },
        "Digits" => PreTokenizer::Digits {
            individual: required_bool(v, path, "individual_digits")?,
        },
        "Punctuation" => PreTokenizer::Punctuation(if v.get("behavior").is_some() {
            behavior(v, path)?
        } else {
            Behavior::Isolated
        }),
        "Whitespace" => PreTokenizer::Whitespace,
        "WhitespaceSplit" => PreTokenizer::WhitespaceSplit,
        "BertPreTokenizer" => PreTokenizer::Bert,
        "CharDelimiterSplit" => PreTokenizer::CharDelimiterSplit(one_char(
            &string(v, path, "delimiter")?,
            &format!("{path}.delimiter"),
        )?),
        other => return Err(unsupported(path, other)),
    })
}

fn token_and_id(v: &Value, path: &str, key: &str) -> Result<(String, u32)> {
    let p = format!("{path}.{key}");
    let a = field(v, path, key)?
        .as_array()
        .ok_or_else(|| err(&p, "expected [token, id]"))?;
    match (
        a.first().and_then(Value::as_str),
        a.get(1).and_then(Value::as_u64),
    ) {
        (Some(t), Some(id)) if a.len() == 2 => Ok((t.to_string(), id as u32)),
        _ => Err(err(&p, "expected [token, id]")),
    }
}

/// A template piece's type id: below 2**32, as `tokenizers` requires (never cut to 32 bits).
fn type_id(v: &Value, path: &str) -> Result<u32> {
    u32::try_from(uint(v, path, "type_id")?).map_err(|_| {
        err(
            &format!("{path}.type_id"),
            "expected an integer below 2**32",
        )
    })
}

/// A `TemplateProcessing` template: special tokens and the sequences `A` and `B`.
fn template(v: &Value, path: &str, key: &str) -> Result<Vec<TemplatePiece>> {
    let items = list(v, path, key)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, x) in items.iter().enumerate() {
        let p = format!("{path}.{key}[{i}]");
        // One key, the piece's kind, as `tokenizers` reads it: a second key beside it (even
        // an unknown one) makes the file unreadable there, so batok refuses it too.
        let (kind, body) = match x.as_object().map(|m| (m.len(), m.iter().next())) {
            Some((1, Some((kind, body)))) => (kind.as_str(), piece_fields(body, &p)?),
            _ => {
                return Err(err(
                    &p,
                    "expected {\"SpecialToken\": {\"id\", \"type_id\"}} or \
                     {\"Sequence\": {\"id\", \"type_id\"}}, one key only",
                ))
            }
        };
        let s = &body;
        match kind {
            "SpecialToken" => out.push(TemplatePiece::Special {
                id: string(s, &p, "id")?,
                type_id: type_id(s, &p)?,
            }),
            "Sequence" => {
                let second = match string(s, &p, "id")?.as_str() {
                    "A" => false,
                    "B" => true,
                    _ => return Err(err(&format!("{p}.id"), "expected \"A\" or \"B\"")),
                };
                out.push(TemplatePiece::Sequence {
                    second,
                    type_id: type_id(s, &p)?,
                });
            }
            other => {
                return Err(err(
                    &p,
                    format!("{other:?} is not a template piece (SpecialToken or Sequence)"),
                ))
            }
        }
    }
    Ok(out)
}

/// A piece's fields, `{"id": .., "type_id": ..}` (other keys ignored, as in `tokenizers`) or
/// the same two as a list `[id, type_id]`, which `tokenizers` also reads.
fn piece_fields(body: &Value, path: &str) -> Result<Value> {
    match body {
        Value::Object(_) => Ok(body.clone()),
        Value::Array(a) if a.len() == 2 => Ok(serde_json::json!({"id": a[0], "type_id": a[1]})),
        _ => Err(err(
            path,
            "expected the piece's fields {\"id\", \"type_id\"} (or [id, type_id])",
        )),
    }
}

/// Which post-processor `tokenizers` 0.23 reads a component as. It goes mostly by the fields:
/// the first of RobertaProcessing (sep, cls, trim_offsets, add_prefix_space), BertProcessing
/// (sep, cls), ByteLevel (its type, add_prefix_space, trim_offsets), TemplateProcessing
/// (single, pair, special_tokens) and Sequence (its type and processors) whose fields are all
/// there, of the right kind. So a "RobertaProcessing" without trim_offsets runs as
/// BertProcessing there, and batok reads it so too.
fn post_processor_kind(v: &Value) -> Option<&'static str> {
    let flag = |k: &str| v.get(k).is_some_and(Value::is_boolean);
    let token_and_id = |k: &str| match v.get(k).and_then(Value::as_array).map(Vec::as_slice) {
        Some([token, id]) => token.is_string() && id.as_u64().is_some_and(|i| i <= u32::MAX.into()),
        _ => false,
    };
    if token_and_id("sep") && token_and_id("cls") {
        return Some(if flag("trim_offsets") && flag("add_prefix_space") {
            "RobertaProcessing"
        } else {
            "BertProcessing"
        });
    }
    let ty = v.get("type").and_then(Value::as_str);
    if ty == Some("ByteLevel")
        && flag("add_prefix_space")
        && flag("trim_offsets")
        && v.get("use_regex").is_none_or(Value::is_boolean)
    {
        return Some("ByteLevel");
    }
    if ["single", "pair", "special_tokens"]
        .iter()
        .all(|k| v.get(k).is_some())
    {
        return Some("TemplateProcessing");
    }
    if ty == Some("Sequence") && v.get("processors").is_some() {
        return Some("Sequence");
    }
    None
}

fn post_processor(v: &Value, path: &str) -> Result<PostProcessor> {
    let Some(ty) = post_processor_kind(v) else {
        let ty = type_of(v, path)?;
        return Err(match ty {
            "RobertaProcessing" | "BertProcessing" | "ByteLevel" | "TemplateProcessing"
            | "Sequence" => err(
                path,
                format!(
                    "{ty:?} lacks a field that tokenizers requires: RobertaProcessing needs \
                     sep, cls, trim_offsets and add_prefix_space; BertProcessing sep and cls \
                     ([token, id] each); ByteLevel add_prefix_space and trim_offsets (true or \
                     false); TemplateProcessing single, pair and special_tokens; Sequence \
                     processors"
                ),
            ),
            other => unsupported(path, other),
        });
    };
    Ok(match ty {
        // A template after another one runs as long as it is given one or two encodings, as
        // in `tokenizers` (see `PostProcessor::process_encodings`).
        "Sequence" => PostProcessor::Sequence(each(v, path, "processors", post_processor)?),
        "ByteLevel" => PostProcessor::ByteLevel {
            trim_offsets: boolean(v, path, "trim_offsets", true)?,
            add_prefix_space: boolean(v, path, "add_prefix_space", true)?,
        },
        "RobertaProcessing" => PostProcessor::Roberta {
            sep: token_and_id(v, path, "sep")?,
            cls: token_and_id(v, path, "cls")?,
            trim_offsets: boolean(v, path, "trim_offsets", true)?,
            add_prefix_space: boolean(v, path, "add_prefix_space", true)?,
        },
        "BertProcessing" => PostProcessor::Bert {
            sep: token_and_id(v, path, "sep")?,
            cls: token_and_id(v, path, "cls")?,
        },
        "TemplateProcessing" => {
            let single = template(v, path, "single")?;
            let pair = template(v, path, "pair")?;
            let names = |t: &[TemplatePiece], second: bool| {
                t.iter()
                    .any(|p| matches!(p, TemplatePiece::Sequence { second: s, .. } if *s == second))
            };
            if names(&single, true) {
                return Err(err(path, "the single template cannot use sequence B"));
            }
            // A pair template may leave out A or B, or name one twice: `tokenizers` loads it
            // and gives each sequence where the template names it, so batok does too.
            let mut special_tokens = Vec::new();
            let map = field(v, path, "special_tokens")?
                .as_object()
                .ok_or_else(|| {
                    err(
                        &format!("{path}.special_tokens"),
                        "expected an object of name: {\"id\", \"ids\", \"tokens\"}",
                    )
                })?;
            for (k, s) in map {
                let p = format!("{path}.special_tokens.{k}");
                // Unused (a template names the token by its key), but `tokenizers`
                // requires it.
                string(s, &p, "id")?;
                let ids = list(s, &p, "ids")?
                    .iter()
                    .map(|x| x.as_u64().and_then(|i| u32::try_from(i).ok()))
                    .collect::<Option<Vec<u32>>>()
                    .ok_or_else(|| err(&p, "ids must be integers below 2**32"))?;
                let tokens = list(s, &p, "tokens")?
                    .iter()
                    .map(|x| x.as_str().map(str::to_string))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(|| err(&p, "tokens must be strings"))?;
                special_tokens.push((k.clone(), SpecialTokens { ids, tokens }));
            }
            // A template may name a special token that special_tokens lacks: `tokenizers`
            // loads it and fails only when it adds that template's special tokens, as batok
            // does (see `post_processor::special_token`).
            PostProcessor::Template {
                single,
                pair,
                special_tokens,
            }
        }
        other => return Err(unsupported(path, other)),
    })
}

/// The decoder types that `tokenizers` 0.23 reads by their type (with all their fields).
const TAGGED_DECODERS: [&str; 10] = [
    "BPEDecoder",
    "ByteLevel",
    "WordPiece",
    "Metaspace",
    "CTC",
    "Sequence",
    "Replace",
    "Fuse",
    "Strip",
    "ByteFallback",
];

/// Which decoder `tokenizers` 0.23 reads a component as. A type of `TAGGED_DECODERS` is read
/// as that type. Any other component (no type, null, a type it does not know) is read by its
/// fields: the first of BPEDecoder (suffix), WordPiece (prefix, cleanup), CTC (pad_token,
/// word_delimiter_token, cleanup), Replace (pattern, content) and Strip (content of one char,
/// start, stop) whose fields are all there, of the right kind. The other decoders (ByteLevel,
/// Metaspace, Sequence, Fuse, ByteFallback) are read only by their type.
fn decoder_kind(v: &Value) -> Option<&'static str> {
    if let Some(t) = v.get("type").and_then(Value::as_str) {
        if let Some(&tagged) = TAGGED_DECODERS.iter().find(|&&k| k == t) {
            return Some(tagged);
        }
    }
    let is = |k: &str, f: fn(&Value) -> bool| v.get(k).is_some_and(f);
    let size = |x: &Value| x.as_u64().is_some();
    if is("suffix", Value::is_string) {
        return Some("BPEDecoder");
    }
    if is("prefix", Value::is_string) && is("cleanup", Value::is_boolean) {
        return Some("WordPiece");
    }
    if is("pad_token", Value::is_string)
        && is("word_delimiter_token", Value::is_string)
        && is("cleanup", Value::is_boolean)
    {
        return Some("CTC");
    }
    if is("content", Value::is_string) && pattern(v, "").is_ok() {
        return Some("Replace");
    }
    let one_char = |x: &Value| x.as_str().is_some_and(|s| s.chars().count() == 1);
    if is("content", one_char) && is("start", size) && is("stop", size) {
        return Some("Strip");
    }
    None
}

fn decoder(v: &Value, path: &str) -> Result<Decoder> {
    object(v, path)?;
    let Some(ty) = decoder_kind(v) else {
        return Err(match v.get("type").and_then(Value::as_str) {
            Some(other) => unsupported(path, other),
            None => err(
                path,
                "no \"type\", and its fields fit no decoder; tokenizers reads a decoder without \
                 a known type by its fields: BPEDecoder needs suffix, WordPiece prefix and \
                 cleanup, Replace pattern and content, Strip content, start and stop (give \
                 \"type\" to name the decoder)",
            ),
        });
    };
    Ok(match ty {
        "Sequence" => Decoder::Sequence(each(v, path, "decoders", decoder)?),
        "ByteLevel" => {
            // Unused when decoding, but `tokenizers` requires them.
            required_bool(v, path, "add_prefix_space")?;
            required_bool(v, path, "trim_offsets")?;
            bool_or_absent(v, path, "use_regex", true)?;
            Decoder::ByteLevel
        }
        "Replace" => Decoder::Replace {
            pattern: pattern(v, path)?,
            content: string(v, path, "content")?,
        },
        "ByteFallback" => Decoder::ByteFallback,
        "Fuse" => Decoder::Fuse,
        "Strip" => Decoder::Strip {
            content: one_char(&string(v, path, "content")?, &format!("{path}.content"))?,
            start: uint(v, path, "start")? as usize,
            stop: uint(v, path, "stop")? as usize,
        },
        "Metaspace" => {
            // Unused when decoding, but `tokenizers` requires true, false or null.
            boolean(v, path, "split", true)?;
            Decoder::Metaspace {
                replacement: one_char(
                    &string(v, path, "replacement")?,
                    &format!("{path}.replacement"),
                )?,
                prepend_scheme: prepend_scheme(v, path)?,
            }
        }
        "WordPiece" => Decoder::WordPiece {
            prefix: string(v, path, "prefix")?,
            cleanup: required_bool(v, path, "cleanup")?,
        },
        "BPEDecoder" => Decoder::Bpe {
            suffix: string(v, path, "suffix")?,
        },
        other => return Err(unsupported(path, other)),
    })
}

type Merge<'a> = (Cow<'a, str>, Cow<'a, str>);

/// One merge, either `"a b"` or `["a", "b"]`, read without buffering (the files hold
/// hundreds of thousands of them) and borrowed from the file's text when it has no escapes.
/// The flag says whether it was a list: `tokenizers` reads the merges all as strings or all
/// as lists, and refuses a file that mixes them.
struct RawMerge<'a>(std::result::Result<Merge<'a>, String>, bool);

fn split_merge<'a>(s: Cow<'a, str>) -> std::result::Result<Merge<'a>, String> {
    let two = |s: &str| {
        let mut parts = s.split(' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), None) => Some((a.len(), b.len())),
            _ => None,
        }
    };
    let Some((la, _)) = two(&s) else {
        return Err(format!("expected \"a b\", got {s:?}"));
    };
    Ok(match s {
        Cow::Borrowed(b) => (Cow::Borrowed(&b[..la]), Cow::Borrowed(&b[la + 1..])),
        Cow::Owned(o) => (
            Cow::Owned(o[..la].to_string()),
            Cow::Owned(o[la + 1..].to_string()),
        ),
    })
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for RawMerge<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawMerge<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"a b\" or [\"a\", \"b\"]")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                s: &'de str,
            ) -> std::result::Result<RawMerge<'de>, E> {
                Ok(RawMerge(split_merge(Cow::Borrowed(s)), false))
            }
            fn visit_str<E: serde::de::Error>(
                self,
                s: &str,
            ) -> std::result::Result<RawMerge<'de>, E> {
                Ok(RawMerge(split_merge(Cow::Owned(s.to_string())), false))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<RawMerge<'de>, A::Error> {
                let a: Option<CowStr<'de>> = seq.next_element()?;
                let b: Option<CowStr<'de>> = seq.next_element()?;
                let extra: Option<Checked> = seq.next_element()?;
                Ok(RawMerge(
                    match (a, b, extra) {
                        (Some(a), Some(b), None) => Ok((a.0, b.0)),
                        _ => Err("expected [\"a\", \"b\"]".to_string()),
                    },
                    true,
                ))
            }
        }
        d.deserialize_any(V)
    }
}

/// The BPE model's fields, read straight into their final types.
struct RawBpe<'a> {
    ty: Option<String>,
    vocab: FxHashMap<String, u32>,
    merges: Vec<RawMerge<'a>>,
    dropout: Option<f64>,
    unk_token: Option<String>,
    fuse_unk: Option<bool>,
    byte_fallback: Option<bool>,
    continuing_subword_prefix: Option<String>,
    end_of_word_suffix: Option<String>,
    ignore_merges: Option<bool>,
}

/// The fields of a BPE model.
const BPE_FIELDS: [&str; 10] = [
    "type",
    "vocab",
    "merges",
    "dropout",
    "unk_token",
    "fuse_unk",
    "byte_fallback",
    "continuing_subword_prefix",
    "end_of_word_suffix",
    "ignore_merges",
];

impl<'de: 'a, 'a> serde::Deserialize<'de> for RawBpe<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawBpe<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a BPE model (an object)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<RawBpe<'de>, A::Error> {
                use serde::de::Error as _;
                let (mut vocab, mut merges) = (None, None);
                let mut m = RawBpe {
                    ty: None,
                    vocab: FxHashMap::default(),
                    merges: Vec::new(),
                    dropout: None,
                    unk_token: None,
                    fuse_unk: None,
                    byte_fallback: None,
                    continuing_subword_prefix: None,
                    end_of_word_suffix: None,
                    ignore_merges: None,
                };
                read_fields(&mut map, &BPE_FIELDS, |i, map| {
                    match BPE_FIELDS[i] {
                        "type" => m.ty = map.next_value()?,
                        "vocab" => vocab = Some(map.next_value::<Vocab>()?.0),
                        "merges" => merges = Some(map.next_value()?),
                        "dropout" => m.dropout = map.next_value()?,
                        "unk_token" => m.unk_token = map.next_value()?,
                        "fuse_unk" => m.fuse_unk = map.next_value()?,
                        "byte_fallback" => m.byte_fallback = map.next_value()?,
                        "continuing_subword_prefix" => {
                            m.continuing_subword_prefix = map.next_value()?
                        }
                        "end_of_word_suffix" => m.end_of_word_suffix = map.next_value()?,
                        "ignore_merges" => m.ignore_merges = map.next_value()?,
                        other => unreachable!("{other} is not in BPE_FIELDS"),
                    }
                    Ok(())
                })?;
                m.vocab = vocab.ok_or_else(|| A::Error::missing_field("vocab"))?;
                m.merges = merges.ok_or_else(|| A::Error::missing_field("merges"))?;
                Ok(m)
            }
        }
        d.deserialize_map(V)
    }
}

/// A vocabulary of token -> id (see `vocab`).
struct Vocab(FxHashMap<String, u32>);

impl<'de> serde::Deserialize<'de> for Vocab {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        vocab(d).map(Vocab)
    }
}

/// The vocabulary, gathered before the map is built so the map is sized once instead of
/// growing (and rehashing) its way to 100k+ entries.
fn vocab<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<FxHashMap<String, u32>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = FxHashMap<String, u32>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of token to id")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut a: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut pairs: Vec<(CowStr<'de>, VocabId)> = Vec::new();
            while let Some(pair) = a.next_entry()? {
                pairs.push(pair);
            }
            // `tokenizers` reads the map whole before its ids, so of a token listed twice only
            // the last id must be one: an earlier copy may hold anything.
            if pairs.iter().any(|(_, id)| id.0.is_err()) {
                let last: FxHashMap<&str, usize> = pairs
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.0.as_ref(), i))
                    .collect();
                for (i, (k, id)) in pairs.iter().enumerate() {
                    if let (Err(e), true) = (&id.0, last[k.0.as_ref()] == i) {
                        return Err(serde::de::Error::custom(format!("{e} (token {:?})", k.0)));
                    }
                }
            }
            let mut m = FxHashMap::with_capacity_and_hasher(pairs.len(), Default::default());
            // In file order, so a token listed twice keeps its last id, as a map read would.
            m.extend(
                pairs
                    .into_iter()
                    .filter_map(|(k, v)| Some((k.0.into_owned(), v.0.ok()?))),
            );
            Ok(m)
        }
    }
    d.deserialize_map(V)
}

/// A vocabulary id as read, or why it is none (said as serde says it), kept until it is known
/// whether a later copy of the token replaces it.
/// (16 bytes: a vocabulary's pairs are gathered before the map is built, and an owned
/// String here made loading a 128k vocabulary 6-10 % slower.)
struct VocabId(std::result::Result<u32, Box<str>>);

impl<'de> serde::Deserialize<'de> for VocabId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::{MapAccess, SeqAccess};
        struct V;
        fn not(what: impl std::fmt::Display) -> VocabId {
            VocabId(Err(format!("{what}, expected u32").into()))
        }
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = VocabId;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a token id")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<VocabId, E> {
                match u32::try_from(v) {
                    Ok(id) => Ok(VocabId(Ok(id))),
                    Err(_) => Ok(not(format!("invalid value: integer `{v}`"))),
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<VocabId, E> {
                match u32::try_from(v) {
                    Ok(id) => Ok(VocabId(Ok(id))),
                    Err(_) => Ok(not(format!("invalid value: integer `{v}`"))),
                }
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<VocabId, E> {
                // With a decimal point, as serde writes a float ("1.0", not "1").
                let mut s = v.to_string();
                if v.is_finite() && !s.contains(['.', 'e']) {
                    s.push_str(".0");
                }
                Ok(not(format!("invalid type: floating point `{s}`")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<VocabId, E> {
                Ok(not(format!("invalid type: string {v:?}")))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<VocabId, E> {
                Ok(not(format!("invalid type: boolean `{v}`")))
            }
            fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<VocabId, E> {
                Ok(not("invalid type: null"))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<VocabId, A::Error> {
                while a.next_element::<Checked>()?.is_some() {}
                Ok(not("invalid type: sequence"))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<VocabId, A::Error> {
                while a.next_entry::<Checked, Checked>()?.is_some() {}
                Ok(not("invalid type: map"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Just enough of the model to know what it is. Every field is parsed (`Checked`), as
/// `tokenizers` parses the whole model before its kind: a model whose kind skips a field that
/// does not parse is refused there.
struct ModelKind {
    ty: Option<String>,
    merges: Option<Checked>,
    vocab: Option<Shape>,
    continuing_subword_prefix: Option<Checked>,
    max_input_chars_per_word: Option<Checked>,
}

const KIND_FIELDS: [&str; 5] = [
    "type",
    "merges",
    "vocab",
    "continuing_subword_prefix",
    "max_input_chars_per_word",
];

impl<'de> serde::Deserialize<'de> for ModelKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ModelKind;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<ModelKind, A::Error> {
                let mut k = ModelKind {
                    ty: None,
                    merges: None,
                    vocab: None,
                    continuing_subword_prefix: None,
                    max_input_chars_per_word: None,
                };
                read_fields(&mut map, &KIND_FIELDS, |i, map| {
                    match KIND_FIELDS[i] {
                        "type" => k.ty = map.next_value()?,
                        "merges" => k.merges = map.next_value()?,
                        "vocab" => k.vocab = map.next_value()?,
                        "continuing_subword_prefix" => {
                            k.continuing_subword_prefix = map.next_value()?
                        }
                        "max_input_chars_per_word" => {
                            k.max_input_chars_per_word = map.next_value()?
                        }
                        other => unreachable!("{other} is not in KIND_FIELDS"),
                    }
                    Ok(())
                })?;
                Ok(k)
            }
        }
        d.deserialize_map(V)
    }
}

/// Whether a value is a list or something else, found without building it (a vocabulary
/// has tens of thousands of entries).
enum Shape {
    List,
    Other,
}

impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Shape;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Shape, A::Error> {
                while seq.next_element::<Checked>()?.is_some() {}
                Ok(Shape::List)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Shape, A::Error> {
                while map.next_entry::<Checked, Checked>()?.is_some() {}
                Ok(Shape::Other)
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_unit<E>(self) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The WordPiece model's fields; `tokenizers` requires every one of them.
#[derive(serde::Deserialize)]
struct RawWordPiece {
    #[serde(deserialize_with = "vocab")]
    vocab: FxHashMap<String, u32>,
    unk_token: String,
    continuing_subword_prefix: String,
    max_input_chars_per_word: usize,
}

#[derive(serde::Deserialize)]
struct RawWordLevel {
    #[serde(deserialize_with = "vocab")]
    vocab: FxHashMap<String, u32>,
    unk_token: String,
}

/// The Unigram model's fields: its pieces with their scores, in id order.
#[derive(serde::Deserialize)]
struct RawUnigram {
    vocab: Vec<(String, f64)>,
    #[serde(default)]
    unk_id: Option<usize>,
    #[serde(default)]
    byte_fallback: Option<bool>,
}

/// The model; a model that fails to load because it gives a field twice gets an error that
/// says so. (`tokenizers` reads such a model, keeping one copy of the field; batok's readers
/// refuse a repeated field, and the first one to meet it would name something else.)
fn model(raw: &RawValue) -> Result<Model> {
    model_of(raw).map_err(|e| match serde_json::from_str::<Fields>(raw.get()) {
        Ok(fields) => match fields.repeated() {
            Some(key) => given_twice("model", key, ""),
            None => e,
        },
        Err(_) => e,
    })
}

/// The error for an object that gives the field `key` twice (`why`: what `tokenizers` does
/// with it, in brackets, or nothing).
fn given_twice(path: &str, key: &str, why: &str) -> Error {
    err(
        path,
        format!("the field {key:?} is given twice, which is not supported{why}; keep one"),
    )
}

/// The model, read in two steps so that a model of a kind batok does not run, or not an
/// object, gets an error that says so rather than one about the first field that does not fit.
fn model_of(raw: &RawValue) -> Result<Model> {
    let path = "model";
    let kind: ModelKind = serde_json::from_str(raw.get()).map_err(|e| {
        if e.is_syntax() {
            // A value in it does not parse (a lone surrogate escape, a number beyond f64).
            err(path, e)
        } else {
            err(path, format!("expected an object with a \"type\" ({e})"))
        }
    })?;
    if kind.ty.is_none() {
        if let Some(m) = untagged_model(raw.get())? {
            return Ok(m);
        }
    }
    // A model of no kind: the error of the kind its fields point to.
    let ty = match &kind {
        ModelKind { ty: Some(t), .. } => t.as_str(),
        ModelKind {
            merges: Some(_), ..
        } => "BPE",
        ModelKind {
            vocab: Some(Shape::List),
            ..
        } => "Unigram",
        ModelKind {
            continuing_subword_prefix: Some(_),
            ..
        }
        | ModelKind {
            max_input_chars_per_word: Some(_),
            ..
        } => "WordPiece",
        ModelKind { vocab: Some(_), .. } => "WordLevel",
        _ => return Err(err(path, "missing field \"type\"")),
    };
    let text = raw.get();
    match ty {
        "BPE" => bpe(serde_json::from_str(text).map_err(|e| err(path, e))?).map(Model::Bpe),
        "WordPiece" => {
            let m: RawWordPiece = serde_json::from_str(text).map_err(|e| err(path, e))?;
            WordPiece::new(
                m.vocab,
                m.unk_token,
                m.continuing_subword_prefix,
                m.max_input_chars_per_word,
            )
            .map(Model::WordPiece)
            .map_err(|e| err(path, e))
        }
        "WordLevel" => {
            let m: RawWordLevel = serde_json::from_str(text).map_err(|e| err(path, e))?;
            WordLevel::new(m.vocab, m.unk_token)
                .map(Model::WordLevel)
                .map_err(|e| err(path, e))
        }
        "Unigram" => {
            let m: RawUnigram = serde_json::from_str(text).map_err(|e| err(path, e))?;
            Unigram::new(m.vocab, m.unk_id, m.byte_fallback.unwrap_or(false))
                .map(Model::Unigram)
                .map_err(|e| err(path, e))
        }
        other => Err(Error::config(format!(
            "model.type = {other:?} is not supported (batok runs BPE, WordPiece, WordLevel and \
             Unigram models)"
        ))),
    }
}

/// A model without a type (older files leave it out), read as `tokenizers` 0.23 reads one: as
/// the first of BPE (vocab, merges), WordPiece (vocab, unk_token, continuing_subword_prefix,
/// max_input_chars_per_word), WordLevel (vocab, unk_token) and Unigram (a list vocab) whose
/// fields are all there, of the right kind. A BPE whose merges name tokens the vocabulary
/// lacks is no BPE there either, and the next kind is tried. `None` when no kind fits.
fn untagged_model(text: &str) -> Result<Option<Model>> {
    let path = "model";
    match serde_json::from_str::<RawBpe>(text) {
        Ok(m) => {
            // A dropout outside 0..1 fails BPE in `tokenizers`, and in `bpe` here: the next
            // kind is tried.
            match bpe(m) {
                Ok(b) => return Ok(Some(Model::Bpe(b))),
                Err(e) if e.message.contains(crate::model::bpe::FAILS_IN_TOKENIZERS) => {
                    return Err(e)
                }
                Err(_) => {}
            }
        }
        // `tokenizers` reads the whole model before trying a kind, so a number no f64 holds
        // (1e400) fails them all, where a kind that skips that field would load here.
        Err(e) if e.to_string().starts_with("number out of range") => return Err(err(path, e)),
        Err(_) => {}
    }
    if let Ok(m) = serde_json::from_str::<RawWordPiece>(text) {
        return WordPiece::new(
            m.vocab,
            m.unk_token,
            m.continuing_subword_prefix,
            m.max_input_chars_per_word,
        )
        .map(|w| Some(Model::WordPiece(w)))
        .map_err(|e| err(path, e));
    }
    if let Ok(m) = serde_json::from_str::<RawWordLevel>(text) {
        return WordLevel::new(m.vocab, m.unk_token)
            .map(|w| Some(Model::WordLevel(w)))
            .map_err(|e| err(path, e));
    }
    if let Ok(m) = serde_json::from_str::<RawUnigram>(text) {
        return Unigram::new(m.vocab, m.unk_id, m.byte_fallback.unwrap_or(false))
            .map(|u| Some(Model::Unigram(u)))
            .map_err(|e| err(path, e));
    }
    Ok(None)
}

fn bpe(m: RawBpe<'_>) -> Result<Bpe> {
    let path = "model";
    // `tokenizers` keeps the dropout as an f32: it checks and compares that.
    let dropout = match m.dropout.map(|d| d as f32) {
        Some(d) if !(0.0..=1.0).contains(&d) => {
            return Err(err(
                "model.dropout",
                format!("{d} is not a probability; BPE dropout must be from 0 to 1"),
            ))
        }
        Some(d) if d != 0.0 => Some(d),
        _ => None,
    };
    let lists = m.merges.first().is_some_and(|r| r.1);
    if let Some(i) = m.merges.iter().position(|r| r.1 != lists) {
        return Err(err(
            &format!("model.merges[{i}]"),
            "merges must be all \"a b\" strings or all [\"a\", \"b\"] lists, not a mix \
             (tokenizers refuses a mix too)",
        ));
    }
    let mut merges = Vec::with_capacity(m.merges.len());
    for (i, r) in m.merges.into_iter().enumerate() {
        merges.push(r.0.map_err(|e| err(&format!("model.merges[{i}]"), e))?);
    }
    let opts = BpeOptions {
        unk_token: m.unk_token,
        fuse_unk: m.fuse_unk.unwrap_or(false),
        byte_fallback: m.byte_fallback.unwrap_or(false),
        continuing_subword_prefix: m.continuing_subword_prefix,
        end_of_word_suffix: m.end_of_word_suffix,
        ignore_merges: m.ignore_merges.unwrap_or(false),
        dropout,
    };
    Bpe::new(m.vocab, merges, opts).map_err(|e| err(path, e))
}

fn added_tokens(v: Option<&Value>) -> Result<Vec<AddedToken>> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let items = v
        .as_array()
        .ok_or_else(|| err("added_tokens", "expected a list"))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, t) in items.iter().enumerate() {
        let p = format!("added_tokens[{i}]");
        out.push(AddedToken {
            // An id beyond u32 is an error, as in `tokenizers`, never silently truncated.
            id: u32::try_from(uint(t, &p, "id")?)
                .map_err(|_| err(&format!("{p}.id"), "expected an id below 2**32"))?,
            content: string(t, &p, "content")?,
            special: flag(t, &p, "special")?,
            lstrip: flag(t, &p, "lstrip")?,
            rstrip: flag(t, &p, "rstrip")?,
            single_word: flag(t, &p, "single_word")?,
            normalized: flag(t, &p, "normalized")?,
            normalized_before: false,
        });
    }
    Ok(out)
}

/// The ids added tokens really get, which are not always the ids the file lists.
///
/// As `tokenizers` loads a file: tokens are taken in file order; one with empty content is
/// dropped (it takes no id and matches nothing), one whose content is in the model's
/// vocabulary gets the vocabulary's id, a repeated content keeps its first id but takes the
/// flags listed last (how it is matched; special if any listing is, and read back normalized
/// if any listing is), and any other
/// gets the next free id counted from the vocabulary's size (the number of entries, whatever
/// the largest vocabulary id). A file whose listed ids disagree with that (a token already in
/// the vocabulary under another id, ids that collide with the vocabulary, a cut-down
/// vocabulary) would otherwise give other ids than `tokenizers`.
///
/// Tokens come out in the order of their last listing: where two contents share an id (the
/// vocabulary gives both the same one), the one listed last holds it, as in `tokenizers`.
fn number_added(listed: Vec<AddedToken>, model: &Model) -> Vec<AddedToken> {
    let mut next = model.vocab_size() as u32;
    let mut seen: FxHashMap<String, usize> = FxHashMap::default();
    // A listing that a later one of the same content replaces leaves its slot empty.
    let mut out: Vec<Option<AddedToken>> = Vec::with_capacity(listed.len());
    for mut t in listed {
        if t.content.is_empty() {
            continue;
        }
        if let Some(at) = seen.get_mut(&t.content) {
            let before = out[*at].take().expect("a content's latest listing");
            t.id = before.id;
            // Once special, a content stays special (left out by skip_special_tokens); once
            // normalized, its id reads back as the normalized content.
            t.special |= before.special;
            t.normalized_before = before.normalized || before.normalized_before;
            *at = out.len();
            out.push(Some(t));
            continue;
        }
        seen.insert(t.content.clone(), out.len());
        t.id = model.token_to_id(&t.content).unwrap_or_else(|| {
            next += 1;
            next - 1
        });
        out.push(Some(t));
    }
    out.into_iter().flatten().collect()
}

fn optional<T>(
    root: &Value,
    key: &str,
    f: impl Fn(&Value, &str) -> Result<T>,
) -> Result<Option<T>> {
    match root.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => f(v, key).map(Some),
    }
}

/// A tokenizer.json as it is usually written: a BPE model, read in the same pass as the
/// rest, and the small components kept as raw JSON for their path-aware readers. A file with
/// another field is read the slow way, which names it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File<'a> {
    #[serde(default, deserialize_with = "present")]
    version: Option<Value>,
    #[serde(borrow)]
    model: RawBpe<'a>,
    #[serde(borrow, default)]
    normalizer: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pre_tokenizer: Option<&'a RawValue>,
    #[serde(borrow, default)]
    post_processor: Option<&'a RawValue>,
    #[serde(borrow, default)]
    decoder: Option<&'a RawValue>,
    // Null is kept (and refused later), unlike the parts where null means none.
    #[serde(borrow, default, deserialize_with = "present_raw")]
    added_tokens: Option<&'a RawValue>,
    #[serde(borrow, default)]
    truncation: Option<&'a RawValue>,
    #[serde(borrow, default)]
    padding: Option<&'a RawValue>,
}

/// A field that is there, null or not (`Option` alone reads null as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Value>, D::Error> {
    use serde::Deserialize as _;
    Value::deserialize(d).map(Some)
}

/// `present` for a part kept as raw JSON.
fn present_raw<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<&'de RawValue>, D::Error> {
    use serde::Deserialize as _;
    <&RawValue>::deserialize(d).map(Some)
}

/// The one format version there is. `tokenizers` refuses a file that gives any other (or a
/// version that is not a string), and so does batok; a file without one is read.
const FORMAT_VERSION: &str = "1.0";

fn check_version(v: Option<&Value>) -> Result<()> {
    match v {
        None => Ok(()),
        Some(Value::String(s)) if s == FORMAT_VERSION => Ok(()),
        Some(Value::String(s)) => Err(err(
            "version",
            format!(
                "{s:?} is not a known tokenizer.json version; only {FORMAT_VERSION:?} is \
                 (tokenizers refuses this file too): write \"version\": \"{FORMAT_VERSION}\" \
                 or leave the field out"
            ),
        )),
        Some(other) => Err(err(
            "version",
            format!(
                "expected the string {FORMAT_VERSION:?}, got {other}: write \"version\": \
                 \"{FORMAT_VERSION}\" or leave the field out"
            ),
        )),
    }
}

/// Every field of a tokenizer.json.
const FIELDS: [&str; 9] = [
    "version",
    "truncation",
    "padding",
    "added_tokens",
    "normalizer",
    "pre_tokenizer",
    "post_processor",
    "decoder",
    "model",
];

/// The small components, in the order they are checked.
const PARTS: [&str; 7] = [
    "truncation",
    "padding",
    "normalizer",
    "pre_tokenizer",
    "post_processor",
    "decoder",
    "added_tokens",
];

/// Parse a whole tokenizer.json text.
pub fn from_json(text: &str) -> Result<Tokenizer> {
    // The common case is one pass over the file (megabytes of vocabulary and merges). Any
    // file that does not read that way is read again part by part, which is slower but names
    // what is wrong: JSON syntax, a missing model, a model that is not BPE.
    if let Ok(f) = serde_json::from_str::<File>(text) {
        check_version(f.version.as_ref())?;
        // A model without a type may be read as another kind (see `untagged_model`).
        if f.model.ty.as_deref() == Some("BPE") {
            let parts = [
                f.truncation,
                f.padding,
                f.normalizer,
                f.pre_tokenizer,
                f.post_processor,
                f.decoder,
                f.added_tokens,
            ];
            return assemble(parts, || bpe(f.model).map(Model::Bpe));
        }
    }
    let fields: Fields = serde_json::from_str(text).map_err(|e| {
        let what = if e.is_data() {
            "tokenizer.json must be a JSON object"
        } else {
            "invalid JSON"
        };
        Error::new(
            ErrorKind::Json,
            format!("{what} at line {} column {}: {e}", e.line(), e.column()),
        )
    })?;
    // `tokenizers` reads every copy of a field given more than once, refusing the file when
    // one fails, and keeps the last: every copy but the last is read here and dropped.
    let mut errors = Vec::new();
    let mut copies: FxHashMap<&str, (usize, usize)> = FxHashMap::default();
    for (key, _) in &fields.0 {
        copies.entry(key).or_default().0 += 1;
    }
    for (key, raw) in &fields.0 {
        let Some((n, seen)) = copies.get_mut(key.as_str()) else {
            continue;
        };
        *seen += 1;
        if *seen < *n {
            let (n, copy) = (*n, *seen);
            if let Err(e) = read_and_drop(key, raw) {
                let at = format!("{key:?} is given {n} times, and tokenizers reads every copy");
                errors.push(Error::new(
                    e.kind,
                    format!("{at}; copy {copy}: {}", e.message),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(joined(errors));
    }
    let top: FxHashMap<String, Box<RawValue>> = fields.0.into_iter().collect();
    // `tokenizers` refuses a file with any other field (it fails to read past its value).
    let mut unknown: Vec<&String> = top
        .keys()
        .filter(|k| !FIELDS.contains(&k.as_str()))
        .collect();
    if !unknown.is_empty() {
        unknown.sort();
        return Err(err(
            "tokenizer.json",
            format!(
                "unknown field {:?}; tokenizers refuses a file with fields other than {}, so \
                 remove it",
                unknown[0],
                FIELDS.join(", ")
            ),
        ));
    }
    if let Some(raw) = top.get("version") {
        let v: Value = serde_json::from_str(raw.get()).map_err(|e| err("version", e))?;
        check_version(Some(&v))?;
    }
    assemble(PARTS.map(|k| top.get(k).map(|v| &**v)), || {
        let raw = top
            .get("model")
            .ok_or_else(|| err("tokenizer.json", "missing field \"model\""))?;
        model(raw)
    })
}

/// Read the top-level field `key` as loading the file would, and drop it: a copy of a field
/// that a later copy replaces.
fn read_and_drop(key: &str, raw: &RawValue) -> Result<()> {
    if let Some((at, repeated)) = repeated_key(key, raw.get()) {
        return Err(key_given_twice(&at, &repeated));
    }
    let value = || serde_json::from_str::<Value>(raw.get()).map_err(|e| err(key, e));
    let part = |f: fn(&Value, &str) -> Result<()>| match value()? {
        Value::Null => Ok(()),
        v => f(&v, key),
    };
    match key {
        "version" => check_version(Some(&value()?)),
        "truncation" => limit::<crate::truncation::TruncationParams>(Some(raw), key).map(drop),
        "padding" => limit::<crate::padding::PaddingParams>(Some(raw), key).map(drop),
        "added_tokens" => added_tokens(Some(&value()?)).map(drop),
        "normalizer" => part(|v, p| top_normalizer(v, p).map(drop)),
        "pre_tokenizer" => part(|v, p| pre_tokenizer(v, p).map(drop)),
        "post_processor" => part(|v, p| post_processor(v, p).map(drop)),
        "decoder" => part(|v, p| decoder(v, p).map(drop)),
        "model" => model(raw).map(drop),
        // Another field is refused whatever it holds, below.
        _ => Ok(()),
    }
}

/// A template piece or an added token at `at` that gives the key `repeated` twice.
fn key_given_twice(at: &str, repeated: &str) -> Error {
    err(
        at,
        format!(
            "the key {repeated:?} is given twice; tokenizers refuses a template piece or an \
             added token that repeats a key, so keep one"
        ),
    )
}

/// The tokenizer from its small components (raw JSON, in `PARTS` order) and its model.
fn assemble(
    parts: [Option<&RawValue>; PARTS.len()],
    model: impl FnOnce() -> Result<Model>,
) -> Result<Tokenizer> {
    let mut errors = Vec::new();
    let mut root = serde_json::Map::new();
    for (key, part) in PARTS.into_iter().zip(parts) {
        // A missing part stays missing: null is not the same for every part (`added_tokens`).
        let Some(raw) = part else { continue };
        if let Some((at, repeated)) = repeated_key(key, raw.get()) {
            errors.push(key_given_twice(&at, &repeated));
        }
        if LIMITS.contains(&key) {
            continue;
        }
        let v: Value = serde_json::from_str(raw.get()).map_err(|e| err(key, e))?;
        root.insert(key.to_string(), v);
    }
    let root = Value::from(root);
    fn keep<T>(errors: &mut Vec<Error>, r: Result<Option<T>>) -> Option<T> {
        r.unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    }
    let normalizer = keep(&mut errors, optional(&root, "normalizer", top_normalizer));
    let pre_tokenizer = keep(&mut errors, optional(&root, "pre_tokenizer", pre_tokenizer));
    let post_processor = keep(
        &mut errors,
        optional(&root, "post_processor", post_processor),
    );
    let decoder = keep(&mut errors, optional(&root, "decoder", decoder));
    debug_assert_eq!(PARTS[..2], LIMITS);
    let truncation = keep(&mut errors, limit(parts[0], LIMITS[0]));
    let padding = keep(&mut errors, limit(parts[1], LIMITS[1]));
    let model = model().map_err(|e| errors.push(e)).ok();
    // Null is refused, as `tokenizers` refuses it (it wants a list); a missing list is empty.
    let added_value = root.get("added_tokens");
    let listed = added_tokens(added_value).map_err(|e| errors.push(e)).ok();
    let (Some(model), Some(listed), true) = (model, listed, errors.is_empty()) else {
        return Err(joined(errors));
    };
    let added = AddedVocab::new(number_added(listed, &model), normalizer.as_ref())?;
    let mut t = Tokenizer::new(
        added,
        normalizer,
        pre_tokenizer,
        model,
        post_processor,
        decoder,
    );
    t.limits = Limits {
        truncation,
        padding,
    };
    Ok(t)
}

/// `t`, loaded from the tokenizer.json text `json`, with `list` (a JSON list of added tokens,
/// as a file's `added_tokens`) in place of its added tokens: numbered as loading the file with
/// that list numbers them, the rest of the pipeline copied rather than read again. `span` is
/// where `json` holds its list (`added_tokens_span`). Returns the tokenizer, its file's text
/// with the new list, and where that list is in it.
pub fn with_added_tokens(
    t: &Tokenizer,
    json: &str,
    span: Option<Range<usize>>,
    list: &str,
) -> Result<(Tokenizer, String, Option<Range<usize>>)> {
    let v: Value = serde_json::from_str(list).map_err(|e| err("added_tokens", e))?;
    let listed = added_tokens(Some(&v))?;
    let added = AddedVocab::new(number_added(listed, &t.model), t.normalizer.as_ref())?;
    let mut new = Tokenizer::new(
        added,
        t.normalizer.clone(),
        t.pre_tokenizer.clone(),
        t.model.clone(),
        t.post_processor.clone(),
        t.decoder.clone(),
    );
    new.limits = t.limits.clone();
    let (text, span) = replace_added_tokens(json, span, v)?;
    Ok((new, text, span))
}

/// The tokenizer.json text `json` with `list` as its `added_tokens`, and where the list is in
/// it. The old list's text (at `span`) is cut out and the new one put in its place, so a
/// vocabulary of megabytes is not parsed into values and written again; a file whose list is
/// missing or null is rewritten whole.
fn replace_added_tokens(
    json: &str,
    span: Option<Range<usize>>,
    list: Value,
) -> Result<(String, Option<Range<usize>>)> {
    if let Some(old) = span {
        let list = list.to_string();
        let new = old.start..old.start + list.len();
        return Ok((
            [&json[..old.start], &list, &json[old.end..]].concat(),
            Some(new),
        ));
    }
    let mut root: Value = serde_json::from_str(json).map_err(|e| Error::config(e.to_string()))?;
    let map = root
        .as_object_mut()
        .ok_or_else(|| Error::config("a tokenizer.json file holds an object"))?;
    map.insert("added_tokens".into(), list);
    let text = root.to_string();
    let span = added_tokens_span(&text)?;
    Ok((text, span))
}

/// Where the tokenizer.json text `json` holds its `added_tokens` list (None where it is
/// missing or null), found without building values for the rest of the file.
pub fn added_tokens_span(json: &str) -> Result<Option<Range<usize>>> {
    #[derive(serde::Deserialize)]
    struct Top<'a> {
        #[serde(borrow, default)]
        added_tokens: Option<&'a RawValue>,
    }
    let top: Top = serde_json::from_str(json).map_err(|e| Error::config(e.to_string()))?;
    Ok(top.added_tokens.map(|raw| {
        // The raw text borrows from `json`: its place there is where it starts.
        let start = raw.get().as_ptr() as usize - json.as_ptr() as usize;
        start..start + raw.get().len()
    }))
}

/// The parts read straight from their text (first in `PARTS`), as `tokenizers` reads them into
/// typed structs: a field they do not know is skipped unparsed, where the other parts go
/// through JSON values, in which every value must parse.
const LIMITS: [&str; 2] = ["truncation", "padding"];

/// The `truncation` or `padding` section (null: none), read as `tokenizers` writes it.
fn limit<T: serde::de::DeserializeOwned>(raw: Option<&RawValue>, key: &str) -> Result<Option<T>> {
    match raw {
        None => Ok(None),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| err(key, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Replace normalizer whose pattern can match the empty string loads, as in `tokenizers`,
    /// and puts its content at each empty match (`tests/engine` compares whole pipelines).
    #[test]
    fn replace_patterns_that_match_empty_insert_their_content() {
        let file = |pattern: &str| {
            format!(
                r#"{{"model": {{"type": "BPE", "vocab": {{"a": 0}}, "merges": []}},
                "normalizer": {{"type": "Replace", "pattern": {pattern}, "content": "X"}}}}"#
            )
        };
        for (pattern, want) in [
            (r#"{"Regex": "a*"}"#, "XbX"),
            (r#"{"Regex": "$"}"#, "abX"),
            (r#"{"Regex": "^"}"#, "Xab"),
            (r#"{"String": ""}"#, "XaXbX"),
            (r#"{"Regex": "x?"}"#, "XaXbX"),
        ] {
            let t = from_json(&file(pattern)).unwrap();
            let n = t.normalizer.as_ref().unwrap();
            assert_eq!(n.normalize_str("ab"), want, "{pattern}");
            assert_eq!(n.normalize_str(""), "", "{pattern}");
        }
    }

    /// An added token's flags, all of which `tokenizers` requires.
    const FLAGS: &str = r#""special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false"#;

    fn added_ids(file: &str) -> Vec<(String, Option<u32>)> {
        let t = from_json(file).unwrap();
        ["a", "b", "<x>", "<y>", "<z>"]
            .iter()
            .map(|c| (c.to_string(), t.token_to_id(c)))
            .collect()
    }

    #[test]
    fn added_tokens_are_numbered_as_tokenizers_numbers_them() {
        let vocab = r#""vocab": {"a": 0, "b": 1, "c": 2, "ab": 3}, "merges": ["a b"]"#;
        // (listed tokens, expected ids of a, b, <x>, <y>, <z>), each checked against
        // `tokenizers` 0.23: listed ids are advisory.
        let cases = [
            (r#"[[9, "b"]]"#, [Some(0), Some(1), None, None, None]),
            (r#"[[1, "<x>"]]"#, [Some(0), Some(1), Some(4), None, None]),
            (
                r#"[[10, "<x>"], [7, "<y>"]]"#,
                [Some(0), Some(1), Some(4), Some(5), None],
            ),
            (
                r#"[[10, "<x>"], [2, "<y>"], [20, "<z>"]]"#,
                [Some(0), Some(1), Some(4), Some(5), Some(6)],
            ),
            (
                r#"[[4, "<x>"], [4, "<y>"]]"#,
                [Some(0), Some(1), Some(4), Some(5), None],
            ),
            (
                r#"[[5, "<x>"], [6, "<x>"]]"#,
                [Some(0), Some(1), Some(4), None, None],
            ),
            (
                r#"[[1, "<x>"], [0, "a"]]"#,
                [Some(0), Some(1), Some(4), None, None],
            ),
            // Empty content: dropped, and it takes no id.
            (
                r#"[[4, ""], [4, "<x>"], [5, ""], [5, "<y>"]]"#,
                [Some(0), Some(1), Some(4), Some(5), None],
            ),
        ];
        for (listed, want) in cases {
            let tokens: Vec<(u32, String)> = serde_json::from_str(listed).unwrap();
            let added: Vec<String> = tokens
                .iter()
                .map(|(id, c)| format!(r#"{{"id": {id}, "content": "{c}", {FLAGS}}}"#))
                .collect();
            let file = format!(
                r#"{{"model": {{"type": "BPE", {vocab}}}, "added_tokens": [{}]}}"#,
                added.join(",")
            );
            let got: Vec<Option<u32>> = added_ids(&file).into_iter().map(|p| p.1).collect();
            assert_eq!(got, want, "{listed}");
        }
    }

    /// `tokenizers` refuses an added token without one of its flags, or with null for it.
    #[test]
    fn added_tokens_must_give_every_flag() {
        for flag in ["special", "single_word", "lstrip", "rstrip", "normalized"] {
            let whole = format!(r#"{{"id": 4, "content": "<x>", {FLAGS}}}"#);
            let value: serde_json::Value = serde_json::from_str(&whole).unwrap();
            for broken in [None, Some(Value::Null), Some(Value::from(1))] {
                let mut token = value.clone();
                match &broken {
                    None => token.as_object_mut().unwrap().remove(flag),
                    Some(v) => token
                        .as_object_mut()
                        .unwrap()
                        .insert(flag.into(), v.clone()),
                };
                let file = format!(
                    r#"{{"model": {{"type": "BPE", "vocab": {{"a": 0}}, "merges": []}},
                        "added_tokens": [{token}]}}"#
                );
                let Err(e) = from_json(&file) else {
                    panic!("{flag} = {broken:?} must be refused")
                };
                assert!(e.message.contains(flag), "{}", e.message);
            }
        }
    }

    /// A content listed twice keeps its first id and takes its last flags, special staying
    /// special, as `tokenizers` 0.23 reads such a file.
    #[test]
    fn a_token_listed_twice_takes_its_last_flags() {
        let listing = |id: u32, special: bool, lstrip: bool| {
            format!(
                r#"{{"id": {id}, "content": "<x>", "special": {special}, "lstrip": {lstrip},
                    "rstrip": false, "single_word": false, "normalized": false}}"#
            )
        };
        let file = format!(
            r#"{{"model": {{"type": "BPE", "vocab": {{"a": 0}}, "merges": []}},
                "added_tokens": [{}, {}]}}"#,
            listing(7, true, false),
            listing(9, false, true)
        );
        let t = from_json(&file).unwrap();
        assert_eq!(t.added.tokens.len(), 1);
        let x = &t.added.tokens[0];
        assert_eq!((x.id, x.special, x.lstrip), (1, true, true));
    }

    #[test]
    fn added_tokens_of_an_empty_vocabulary_start_at_zero() {
        let file = r#"{"model": {"type": "BPE", "vocab": {}, "merges": []},
            "added_tokens": [{"id": 5, "content": "<x>", FLAGS}, {"id": 6, "content": "<y>", FLAGS}]}"#
            .replace("FLAGS", FLAGS);
        let got: Vec<Option<u32>> = added_ids(&file).into_iter().map(|p| p.1).collect();
        assert_eq!(got, [None, None, Some(0), Some(1), None]);
    }

    #[test]
    fn added_token_id_beyond_u32_is_an_error() {
        let text = r#"{"added_tokens": [{"id": 4294967296, "content": "<x>", FLAGS}],
            "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#
            .replace("FLAGS", FLAGS);
        let Err(e) = from_json(&text) else {
            panic!("must be refused")
        };
        assert!(e.message.contains("added_tokens[0].id"), "{}", e.message);
    }

    const TINY: &str = r#"{
      "added_tokens": [{"id": 3, "content": "<s>", "special": true, "lstrip": false,
                        "rstrip": false, "single_word": false, "normalized": false}],
      "normalizer": {"type": "Sequence", "normalizers": [{"type": "Lowercase"}]},
      "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Removed",
                        "invert": false},
      "post_processor": null,
      "decoder": null,
      "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<s>": 3},
                "merges": ["a b"]}
    }"#;

    #[test]
    fn loads_and_encodes() {
        let t = from_json(TINY).unwrap();
        assert_eq!(t.encode("AB<s>a b", true).unwrap().ids, [2, 3, 0, 1]);
        assert_eq!(
            t.encode("AB<s>a b", true).unwrap().offsets,
            [(0, 2), (2, 5), (5, 6), (7, 8)]
        );
    }

    #[test]
    fn unsupported_component_names_its_path() {
        let bad = TINY.replace(r#"{"type": "Lowercase"}"#, r#"{"type": "Foo"}"#);
        let e = from_json(&bad).unwrap_err();
        assert_eq!(
            e.message,
            "normalizer.normalizers[0].type = \"Foo\" is not supported"
        );
    }

    #[test]
    fn the_one_pass_read_reads_escapes_and_files_without_a_model_type() {
        let t = from_json(
            &TINY
                .replace(r#""type": "BPE", "#, "")
                .replace(r#""a": 0"#, r#""\u0061": 0"#),
        )
        .unwrap();
        assert_eq!(t.encode("ab a", true).unwrap().ids, [2, 0]);
    }

    #[test]
    fn a_token_listed_twice_keeps_its_last_id() {
        let t = from_json(&TINY.replace(r#""b": 1"#, r#""b": 7, "b": 1"#)).unwrap();
        assert_eq!(t.token_to_id("b"), Some(1));
    }

    #[test]
    fn files_that_are_not_a_bpe_tokenizer_say_what_is_wrong() {
        let cases = [
            (
                TINY.replace(r#""type": "BPE""#, r#""type": "Foo""#),
                "model.type = \"Foo\" is not supported",
            ),
            (
                r#"{"model": {"type": "WordPiece", "vocab": {"a": 0}}}"#.to_string(),
                "model: missing field `unk_token`",
            ),
            (
                TINY.replace(
                    r#""post_processor": null"#,
                    r#""truncation": {"max_length": 8}"#,
                ),
                "truncation: missing field `strategy`",
            ),
            (
                TINY.replace(r#""model":"#, r#""not_a_model":"#),
                "unknown field \"not_a_model\"",
            ),
            (
                r#"{"version": "1.0"}"#.to_string(),
                "missing field \"model\"",
            ),
            ("[1, 2]".to_string(), "must be a JSON object"),
        ];
        for (text, want) in cases {
            let e = from_json(&text).unwrap_err();
            assert!(e.message.contains(want), "{want:?} not in {:?}", e.message);
        }
    }

    #[test]
    fn models_without_a_type_are_read_by_their_fields() {
        // As `tokenizers` 0.23 reads them: WordPiece [1, 2], WordLevel [0], Unigram.
        let wordpiece = r###"{"model": {"vocab": {"[UNK]": 0, "a": 1, "##b": 2},
            "unk_token": "[UNK]", "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100}}"###;
        assert_eq!(
            from_json(wordpiece)
                .unwrap()
                .encode("ab", true)
                .unwrap()
                .ids,
            [1, 2]
        );
        let wordlevel = r#"{"model": {"vocab": {"[UNK]": 0, "a": 1}, "unk_token": "[UNK]"}}"#;
        assert_eq!(
            from_json(wordlevel)
                .unwrap()
                .encode("ab", true)
                .unwrap()
                .ids,
            [0]
        );
        let unigram = r#"{"model": {"vocab": [["<unk>", 0.0], ["a", -1.0], ["ab", -1.5]],
            "unk_id": 0}}"#;
        assert_eq!(
            from_json(unigram)
                .unwrap()
                .encode("abxa", true)
                .unwrap()
                .ids,
            [2, 0, 1]
        );
    }

    #[test]
    fn unigram_files_load_with_their_charsmap() {
        // Entries "a" -> "x" and "ab" -> "yz", laid out as in the charsmap tests.
        let mut units = vec![0u32; 256];
        units[0] = 1 << 10;
        units[96] = ((96 ^ 160) << 10) | (1 << 8) | u32::from(b'a');
        units[194] = ((194 ^ 192) << 10) | (1 << 8) | u32::from(b'b');
        units[192] = 2;
        let mut blob = 1024u32.to_le_bytes().to_vec();
        units.iter().for_each(|u| blob.extend(u.to_le_bytes()));
        blob.extend(b"x\0yz\0");
        use base64::Engine as _;
        let charsmap = base64::engine::general_purpose::STANDARD.encode(&blob);
        let file = format!(
            r#"{{"normalizer": {{"type": "Precompiled", "precompiled_charsmap": "{charsmap}"}},
                "model": {{"type": "Unigram", "unk_id": 0, "byte_fallback": false,
                           "vocab": [["<unk>", 0.0], ["x", -1.0], ["b", -1.0]]}}}}"#
        );
        let t = from_json(&file).unwrap();
        let e = t.encode("abc", true).unwrap();
        assert_eq!(e.ids, [1, 2, 0]);
        assert_eq!(e.tokens, ["x", "b", "c"]);
        for bad in [r#""@@""#, r#""AQI=""#] {
            let file = format!(
                r#"{{"normalizer": {{"type": "Precompiled", "precompiled_charsmap": {bad}}},
                    "model": {{"type": "Unigram", "vocab": [["a", 0.0]]}}}}"#
            );
            let e = from_json(&file).unwrap_err();
            assert!(
                e.message.contains("normalizer.precompiled_charsmap"),
                "{}",
                e.message
            );
        }
        // tokenizers refuses these too (the last, four zero bytes, on its first encode).
        for bad in [
            r#""precompiled_charsmap": "", "#,
            "",
            r#""precompiled_charsmap": "AAAAAA==", "#,
        ] {
            let file = format!(
                r#"{{"normalizer": {{{bad}"type": "Precompiled"}},
                    "model": {{"type": "Unigram", "vocab": [["a", 0.0]]}}}}"#
            );
            let e = from_json(&file).unwrap_err();
            assert!(e.message.contains("precompiled_charsmap"), "{}", e.message);
        }
    }

    #[test]
    fn unigram_pieces_listed_twice_count_in_the_vocabulary_size() {
        // As `tokenizers` 0.23 counts them: 4 pieces (one repeated), so the added token
        // is numbered 4, and the size with added tokens is 5.
        let file = r#"{"model": {"type": "Unigram", "unk_id": 0,
                "vocab": [["<unk>", 0.0], ["a", -1.0], ["a", -2.0], ["b", -1.0]]},
            "added_tokens": [{"id": 9, "content": "<x>", FLAGS}]}"#
            .replace("FLAGS", FLAGS);
        let t = from_json(&file).unwrap();
        assert_eq!(t.token_to_id("<x>"), Some(4));
        assert_eq!(t.encode("ab<x>", true).unwrap().ids, [2, 3, 4]);
        assert_eq!((t.vocab_size(false), t.vocab_size(true)), (4, 5));
    }

    #[test]
    fn unigram_unk_id_outside_the_vocabulary_is_refused() {
        let file = r#"{"model": {"type": "Unigram", "vocab": [["a", 0.0]], "unk_id": 1}}"#;
        let e = from_json(file).unwrap_err();
        assert!(e.message.contains("unk_id"), "{}", e.message);
    }

    #[test]
    fn every_unsupported_part_is_named_at_once() {
        let text = r#"{"truncation": {"max_length": 8}, "padding": null,
            "normalizer": {"type": "Sequence", "normalizers": [{"type": "Foo"}, {"type": "NFC"},
                           {"type": "Bar"}]},
            "pre_tokenizer": {"type": "Baz"},
            "decoder": {"type": "Qux"},
            "model": {"type": "Foo", "vocab": [["a", 0.0]]}}"#;
        let e = from_json(text).unwrap_err();
        for want in [
            "truncation: missing field `strategy`",
            "normalizer.normalizers[0].type = \"Foo\"",
            "normalizer.normalizers[2].type = \"Bar\"",
            "pre_tokenizer.type = \"Baz\"",
            "decoder.type = \"Qux\"",
            "model.type = \"Foo\"",
        ] {
            assert!(e.message.contains(want), "{want:?} not in {:?}", e.message);
        }
    }

    #[test]
    fn bad_json_gives_line_and_column() {
        let e = from_json("{\n  \"model\": ,\n}").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Json);
        assert!(e.message.contains("line 2 column"), "{}", e.message);
    }

    fn with_post_processor(pp: &str) -> Result<crate::tokenizer::Tokenizer> {
        from_json(&format!(
            r#"{{"model": {{"type": "BPE", "vocab": {{"a": 0}}, "merges": []}},
                "post_processor": {pp}}}"#
        ))
    }

    const SEQ_A: &str = r#"{"Sequence": {"id": "A", "type_id": 0}}"#;
    const SEQ_B: &str = r#"{"Sequence": {"id": "B", "type_id": 1}}"#;

    /// A normalizer is read by its type when `tokenizers` 0.23 reads it so, else by its
    /// fields.
    #[test]
    fn normalizers_are_read_as_tokenizers_reads_them() {
        let cases = [
            (
                r#"{"type": "BertNormalizer", "prepend": "x"}"#,
                Some("Prepend"),
            ),
            (r#"{"prepend": "x"}"#, Some("Prepend")),
            (r#"{"type": "Foo", "prepend": "x"}"#, Some("Prepend")),
            (r#"{"type": 5, "prepend": "x"}"#, Some("Prepend")),
            (
                r#"{"type": "BertNormalizer", "prepend": "x", "strip_left": true, "strip_right": false}"#,
                Some("Strip"),
            ),
            (
                r#"{"type": "BertNormalizer", "normalizers": []}"#,
                Some("Sequence"),
            ),
            (
                r#"{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "lowercase": true}"#,
                Some("BertNormalizer"),
            ),
            (r#"{"type": "BertNormalizer"}"#, None),
            (r#"{"type": "NFC", "prepend": "x"}"#, Some("NFC")),
            (r#"{"type": "Strip", "prepend": "x"}"#, Some("Strip")),
            // A charsmap only under its own type.
            (r#"{"precompiled_charsmap": "AA=="}"#, None),
            (
                r#"{"type": ["Precompiled"], "precompiled_charsmap": "AA=="}"#,
                None,
            ),
            (
                r#"{"type": "Precompiled", "precompiled_charsmap": "AA=="}"#,
                Some("Precompiled"),
            ),
        ];
        for (component, kind) in cases {
            let v: Value = serde_json::from_str(component).unwrap();
            assert_eq!(normalizer_kind(&v), kind, "{component}");
        }
        // Read as a Strip, it needs both of its fields, as in `tokenizers`.
        let v: Value = serde_json::from_str(r#"{"type": "Strip", "prepend": "x"}"#).unwrap();
        assert!(normalizer(&v, "normalizer").is_err());
    }

    /// Fields that `tokenizers` requires (or refuses as null) in pre-tokenizers and decoders.
    #[test]
    fn pre_tokenizer_and_decoder_fields_are_required_as_in_tokenizers() {
        let cases = [
            (
                "pre_tokenizer",
                r#"{"type": "ByteLevel", "add_prefix_space": true}"#,
                false,
            ),
            (
                "pre_tokenizer",
                r#"{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true}"#,
                true,
            ),
            (
                "pre_tokenizer",
                r#"{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": null}"#,
                false,
            ),
            ("pre_tokenizer", r#"{"type": "Digits"}"#, false),
            (
                "pre_tokenizer",
                r#"{"type": "Split", "pattern": {"String": " "}, "behavior": "Removed"}"#,
                false,
            ),
            ("decoder", r#"{"type": "ByteLevel"}"#, false),
            ("decoder", r#"{"type": "WordPiece", "prefix": "@@"}"#, false),
            ("decoder", r#"{"type": "BPEDecoder"}"#, false),
            (
                "decoder",
                r#"{"type": "BPEDecoder", "suffix": "</w>"}"#,
                true,
            ),
            (
                "pre_tokenizer",
                r#"{"type": "Metaspace", "replacement": "x", "prepend_scheme": "first",
                    "add_prefix_space": false}"#,
                false,
            ),
            (
                "decoder",
                r#"{"type": "Metaspace", "replacement": "x", "prepend_scheme": "never",
                    "add_prefix_space": false}"#,
                true,
            ),
        ];
        for (key, component, loads) in cases {
            let file = format!(
                r#"{{"model": {{"type": "BPE", "vocab": {{"a": 0}}, "merges": []}},
                    "{key}": {component}}}"#
            );
            assert_eq!(from_json(&file).is_ok(), loads, "{key}: {component}");
        }
    }

    /// A post-processor is read by its fields, as `tokenizers` 0.23 reads it.
    #[test]
    fn post_processors_are_read_by_their_fields() {
        let st = r#""sep": ["</s>", 1], "cls": ["<s>", 0]"#;
        let cases = [
            (
                format!(r#"{{"type": "RobertaProcessing", {st}}}"#),
                Some("BertProcessing"),
            ),
            (
                format!(
                    r#"{{"type": "BertProcessing", {st}, "trim_offsets": true, "add_prefix_space": false}}"#
                ),
                Some("RobertaProcessing"),
            ),
            (
                format!(r#"{{"type": "Foo", {st}}}"#),
                Some("BertProcessing"),
            ),
            (r#"{"type": "ByteLevel"}"#.to_string(), None),
            (
                r#"{"type": "X", "trim_offsets": true, "add_prefix_space": true}"#.to_string(),
                None,
            ),
            (
                r#"{"type": "ByteLevel", "trim_offsets": true, "add_prefix_space": true}"#
                    .to_string(),
                Some("ByteLevel"),
            ),
            (
                r#"{"type": "ByteLevel", "single": [], "pair": [], "special_tokens": {}}"#
                    .to_string(),
                Some("TemplateProcessing"),
            ),
            (
                r#"{"type": "TemplateProcessing", "single": [], "special_tokens": {}}"#.to_string(),
                None,
            ),
            (
                r#"{"type": "Sequence", "processors": []}"#.to_string(),
                Some("Sequence"),
            ),
            (r#"{"processors": []}"#.to_string(), None),
        ];
        for (component, kind) in cases {
            let v: Value = serde_json::from_str(&component).unwrap();
            assert_eq!(post_processor_kind(&v), kind, "{component}");
            assert_eq!(
                with_post_processor(&component).is_ok(),
                kind.is_some(),
                "{component}"
            );
        }
    }

    /// As in `tokenizers` 0.23: a pair template may leave out a sequence or name one twice.
    #[test]
    fn pair_templates_that_leave_out_a_sequence_load() {
        for pair in [
            format!("[{SEQ_A}]"),
            format!("[{SEQ_B}]"),
            format!("[{SEQ_B}, {SEQ_B}]"),
            "[]".to_string(),
        ] {
            let pp = format!(
                r#"{{"type": "TemplateProcessing", "single": [{SEQ_A}], "pair": {pair},
                    "special_tokens": {{}}}}"#
            );
            assert!(with_post_processor(&pp).is_ok(), "{pair}");
        }
    }

    #[test]
    fn single_template_with_sequence_b_is_refused() {
        let pp = format!(
            r#"{{"type": "TemplateProcessing", "single": [{SEQ_B}], "pair": [{SEQ_A}, {SEQ_B}],
                "special_tokens": {{}}}}"#
        );
        let Err(e) = with_post_processor(&pp) else {
            panic!("must be refused")
        };
        assert!(e.message.contains("sequence B"), "{}", e.message);
    }

    /// `tokenizers` loads a template after another one, and a template that names a special
    /// token its special_tokens lacks; both may fail when encoding, not when loading.
    #[test]
    fn templates_that_may_fail_when_encoding_load() {
        let t = format!(
            r#"{{"type": "TemplateProcessing", "single": [{SEQ_A}], "pair": [{SEQ_A}, {SEQ_B}],
                "special_tokens": {{}}}}"#
        );
        let pp = format!(r#"{{"type": "Sequence", "processors": [{t}, {t}]}}"#);
        assert!(with_post_processor(&pp).is_ok());
        let missing = format!(
            r#"{{"type": "TemplateProcessing",
                "single": [{{"SpecialToken": {{"id": "[X]", "type_id": 0}}}}, {SEQ_A}],
                "pair": [{SEQ_A}, {SEQ_B}], "special_tokens": {{}}}}"#
        );
        assert!(with_post_processor(&missing).is_ok());
    }

    /// `tokenizers` reads only version "1.0" (or no version); any other value, of any kind, is
    /// refused, naming the field and the value, on the one-pass path and the other.
    #[test]
    fn only_version_one_is_read() {
        for model in [
            r#"{"type": "BPE", "vocab": {"a": 0}, "merges": []}"#,
            r#"{"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}"#,
        ] {
            let file = |version: &str| format!(r#"{{{version} "model": {model}}}"#);
            assert!(from_json(&file("")).is_ok());
            assert!(from_json(&file(r#""version": "1.0","#)).is_ok());
            for (bad, shown) in [
                (r#""2.0""#, r#""2.0""#),
                (r#""""#, r#""""#),
                ("1.0", "1.0"),
                ("null", "null"),
                ("[]", "[]"),
            ] {
                let Err(e) = from_json(&file(&format!(r#""version": {bad},"#))) else {
                    panic!("version {bad} must be refused")
                };
                assert!(e.message.starts_with("version: "), "{}", e.message);
                assert!(e.message.contains(shown), "{}", e.message);
            }
        }
    }

    /// The decoder a component is read as (its Debug name), or None where it is refused;
    /// each case checked against `tokenizers` 0.23.
    #[test]
    fn decoder_without_a_known_type_is_read_by_its_fields() {
        let cases: [(&str, Option<&str>); 14] = [
            (r#"{"suffix": "</w>"}"#, Some("Bpe")),
            (r#"{"type": "Foo", "suffix": "</w>"}"#, Some("Bpe")),
            (r#"{"type": null, "suffix": "</w>"}"#, Some("Bpe")),
            (
                r#"{"suffix": 5, "prefix": "@@", "cleanup": true}"#,
                Some("WordPiece"),
            ),
            (r#"{"prefix": "@@"}"#, None),
            (
                r#"{"pattern": {"String": "x"}, "content": "y"}"#,
                Some("Replace"),
            ),
            (
                r#"{"pattern": {"String": "x", "Regex": "y"}, "content": "y"}"#,
                None,
            ),
            (
                r#"{"pattern": {"Regex": "("}, "content": "a", "start": 1, "stop": 0}"#,
                Some("Strip"),
            ),
            (r#"{"content": "ab", "start": 1, "stop": 0}"#, None),
            (r#"{"content": "a", "start": -1, "stop": 0}"#, None),
            (r#"{"replacement": "_", "prepend_scheme": "always"}"#, None),
            (r#"{"decoders": []}"#, None),
            (
                r#"{"type": "BPEDecoder", "prefix": "@@", "cleanup": true}"#,
                None,
            ),
            (
                r#"{"type": "Sequence", "decoders": [{"suffix": "</w>"}]}"#,
                Some("Sequence"),
            ),
        ];
        for (d, want) in cases {
            let file = format!(
                r#"{{"model": {{"type": "BPE", "vocab": {{"a": 0}}, "merges": []}},
                    "decoder": {d}}}"#
            );
            match (from_json(&file), want) {
                (Ok(t), Some(name)) => {
                    let got = format!("{:?}", t.decoder.unwrap());
                    assert!(got.starts_with(name), "{d}: {got}");
                }
                (Err(e), None) => assert!(e.message.starts_with("decoder"), "{d}: {}", e.message),
                (Ok(t), None) => panic!("{d} must be refused, got {:?}", t.decoder),
                (Err(e), Some(_)) => panic!("{d} must load: {}", e.message),
            }
        }
    }

    /// A model without a type is read as the first kind whose fields fit, as `tokenizers`
    /// 0.23 reads it; one with a type only as that type.
    #[test]
    fn model_without_a_type_is_the_first_kind_that_fits() {
        let v = r#""vocab": {"a": 0, "b": 1, "ab": 2, "[UNK]": 3}"#;
        let wp = r#""continuing_subword_prefix": "@@", "max_input_chars_per_word": 100"#;
        let cases = [
            (format!(r#"{{{v}, "merges": ["a b"]}}"#), Some("BPE")),
            (
                format!(r#"{{{v}, "unk_token": "[UNK]", {wp}}}"#),
                Some("WordPiece"),
            ),
            (
                format!(r#"{{{v}, "unk_token": "[UNK]", "continuing_subword_prefix": "@@"}}"#),
                Some("WordLevel"),
            ),
            (
                format!(r#"{{{v}, "unk_token": "[UNK]", "merges": 5}}"#),
                Some("WordLevel"),
            ),
            (
                format!(r#"{{{v}, "unk_token": "[UNK]", "merges": ["a x"], {wp}}}"#),
                Some("WordPiece"),
            ),
            (
                format!(r#"{{{v}, "unk_token": "[UNK]", {wp}, "max_input_chars_per_word": -1}}"#)
                    .replace(r#""max_input_chars_per_word": 100, "#, ""),
                Some("WordLevel"),
            ),
            (r#"{"vocab": [["a", -1.0]]}"#.to_string(), Some("Unigram")),
            (format!(r#"{{{v}}}"#), None),
            (format!(r#"{{{v}, "merges": ["a x"]}}"#), None),
            (
                format!(r#"{{"type": "Foo", {v}, "unk_token": "[UNK]"}}"#),
                None,
            ),
        ];
        for (m, want) in cases {
            let got = from_json(&format!(r#"{{"model": {m}}}"#));
            match (got, want) {
                (Ok(t), Some(kind)) => {
                    let name = match t.model {
                        Model::Bpe(_) => "BPE",
                        Model::WordPiece(_) => "WordPiece",
                        Model::WordLevel(_) => "WordLevel",
                        Model::Unigram(_) => "Unigram",
                    };
                    assert_eq!(name, kind, "{m}");
                }
                (Err(e), None) => assert!(e.message.starts_with("model"), "{m}: {}", e.message),
                (Ok(_), None) => panic!("{m} must be refused"),
                (Err(e), Some(_)) => panic!("{m} must load: {}", e.message),
            }
        }
    }

    /// Each entry of a template's special_tokens needs a string id and ids that fit in 32
    /// bits, and the map must be a map, as `tokenizers` reads it.
    #[test]
    fn template_special_tokens_are_checked_as_tokenizers_checks_them() {
        let template = |special: &str| {
            format!(
                r#"{{"type": "TemplateProcessing", "single": [{SEQ_A}],
                    "pair": [{SEQ_A}, {SEQ_B}], "special_tokens": {special}}}"#
            )
        };
        assert!(with_post_processor(&template("{}")).is_ok());
        let ok = r#"{"<s>": {"id": "<x>", "ids": [1], "tokens": ["<s>"]}}"#;
        assert!(with_post_processor(&template(ok)).is_ok());
        for bad in [
            "[]",
            "null",
            r#"{"<s>": {"ids": [1], "tokens": ["<s>"]}}"#,
            r#"{"<s>": {"id": 5, "ids": [1], "tokens": ["<s>"]}}"#,
            r#"{"<s>": {"id": "<s>", "ids": [4294967296], "tokens": ["<s>"]}}"#,
        ] {
            let Err(e) = with_post_processor(&template(bad)) else {
                panic!("{bad} must be refused")
            };
            assert!(e.message.contains("special_tokens"), "{bad}: {}", e.message);
        }
    }

    /// Merges are all strings or all lists; `tokenizers` refuses a mix.
    #[test]
    fn merges_of_both_forms_are_refused() {
        let file = |merges: &str| {
            format!(
                r#"{{"model": {{"type": "BPE", "vocab": {{"a": 0, "b": 1, "ab": 2, "c": 3,
                    "abc": 4}}, "merges": {merges}}}}}"#
            )
        };
        assert!(from_json(&file(r#"["a b", "ab c"]"#)).is_ok());
        assert!(from_json(&file(r#"[["a", "b"], ["ab", "c"]]"#)).is_ok());
        for mixed in [r#"[["a", "b"], "ab c"]"#, r#"["a b", ["ab", "c"]]"#] {
            let Err(e) = from_json(&file(mixed)) else {
                panic!("{mixed} must be refused")
            };
            assert!(e.message.starts_with("model.merges[1]"), "{}", e.message);
        }
    }

    /// `tokenizers` refuses a file with a top-level field it does not know, whatever its value.
    #[test]
    fn unknown_top_level_fields_are_refused() {
        let model = r#""model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}"#;
        assert!(from_json(&format!(r#"{{"version": "1.0", {model}}}"#)).is_ok());
        for extra in [r#""rstrip": false"#, r#""foo": null"#, r#""Model": {}"#] {
            let Err(e) = from_json(&format!(r#"{{{model}, {extra}}}"#)) else {
                panic!("{extra} must be refused")
            };
            assert!(e.message.contains("unknown field"), "{}", e.message);
        }
    }

    /// A template's type ids must fit in 32 bits, as `tokenizers` reads them.
    #[test]
    fn template_type_ids_beyond_u32_are_refused() {
        for piece in [
            r#"{"Sequence": {"id": "A", "type_id": 4294967296}}"#,
            r#"{"SpecialToken": {"id": "<s>", "type_id": 4294967296}}"#,
        ] {
            let pp = format!(
                r#"{{"type": "TemplateProcessing", "single": [{SEQ_A}, {piece}],
                    "pair": [{SEQ_A}, {SEQ_B}], "special_tokens": {{}}}}"#
            );
            let Err(e) = with_post_processor(&pp) else {
                panic!("{piece} must be refused")
            };
            assert!(e.message.contains("type_id"), "{}", e.message);
        }
    }

    /// A template piece is an object with one key, its kind, as `tokenizers` reads it; its
    /// fields may also come as a list `[id, type_id]`, and unknown fields inside are ignored.
    #[test]
    fn template_pieces_are_one_key_objects() {
        let pp = |piece: &str| {
            format!(
                r#"{{"type": "TemplateProcessing", "single": [{SEQ_A}, {piece}],
                    "pair": [{SEQ_A}, {SEQ_B}], "special_tokens": {{}}}}"#
            )
        };
        for piece in [
            r#"{"SpecialToken": {"id": "<s>", "type_id": 0, "extra": 1}}"#,
            r#"{"SpecialToken": ["<s>", 0]}"#,
            r#"{"Sequence": ["A", 1]}"#,
        ] {
            if let Err(e) = with_post_processor(&pp(piece)) {
                panic!("{piece} must load: {}", e.message)
            }
        }
        for piece in [
            r#"{"SpecialToken": {"id": "<s>", "type_id": 0}, "dropout": null}"#,
            r#"{"Sequence": {"id": "A", "type_id": 0}, "SpecialToken": {"id": "<s>", "type_id": 0}}"#,
            r#"{"SpecialToken": ["<s>", 0, 1]}"#,
            r#"{"Special": {"id": "<s>", "type_id": 0}}"#,
            r#"{}"#,
            r#""$A""#,
        ] {
            let Err(e) = with_post_processor(&pp(piece)) else {
                panic!("{piece} must be refused")
            };
            assert!(e.message.contains("single[1]"), "{piece}: {}", e.message);
        }
    }

    /// Replacing the added tokens numbers them as loading the file with the new list does, and
    /// the file's text gets that list whether it had one or none.
    #[test]
    fn added_tokens_are_replaced_as_a_file_with_them_loads() {
        let model = r#""model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []}"#;
        let token = |content: &str, special: bool| {
            format!(
                r#"{{"id": 0, "content": "{content}", "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": {special}}}"#
            )
        };
        let list = format!("[{}, {}]", token("<x>", true), token("b", false));
        for file in [
            format!(
                r#"{{"added_tokens": [{}], {model}}}"#,
                token("<old>", false)
            ),
            format!(r#"{{{model}}}"#),
        ] {
            let t = from_json(&file).unwrap();
            let span = added_tokens_span(&file).unwrap();
            let (new, text, new_span) = with_added_tokens(&t, &file, span, &list).unwrap();
            let again = from_json(&text).unwrap();
            for t in [&new, &again] {
                // "<x>" takes the first id after the vocabulary; "b" keeps its vocabulary id.
                assert_eq!(t.token_to_id("<x>"), Some(2), "{file}");
                assert_eq!(t.token_to_id("b"), Some(1));
                assert_eq!(t.token_to_id("<old>"), None);
                assert!(t.added.get(2).is_some_and(|x| x.special));
            }
            // The place given for the new list is where the new text holds it.
            let written = serde_json::from_str::<Value>(&list).unwrap().to_string();
            let new_span = new_span.expect("the new text has a list");
            assert_eq!(&text[new_span.clone()], written);
            assert_eq!(added_tokens_span(&text).unwrap(), Some(new_span));
        }
        let t = from_json(&format!(r#"{{{model}}}"#)).unwrap();
        let Err(e) = with_added_tokens(&t, &format!(r#"{{{model}}}"#), None, r#"[{"id": 0}]"#)
        else {
            panic!("a token without content must be refused")
        };
        assert!(e.message.contains("added_tokens[0]"), "{}", e.message);
    }

    /// A Metaspace whose `add_prefix_space` is false needs prepend_scheme "never"; a missing
    /// scheme is "always", so `tokenizers` refuses the legacy form too.
    #[test]
    fn metaspace_add_prefix_space_false_needs_scheme_never() {
        let file = |fields: &str| {
            format!(
                r#"{{"pre_tokenizer": {{"type": "Metaspace", "replacement": "x", {fields}}},
                    "model": {{"type": "BPE", "vocab": {{"a": 0}}, "merges": []}}}}"#
            )
        };
        for ok in [
            r#""add_prefix_space": true"#,
            r#""add_prefix_space": null"#,
            r#""add_prefix_space": false, "prepend_scheme": "never""#,
            r#""add_prefix_space": true, "prepend_scheme": "never""#,
        ] {
            if let Err(e) = from_json(&file(ok)) {
                panic!("{ok} must load: {}", e.message)
            }
        }
        for bad in [
            r#""add_prefix_space": false"#,
            r#""add_prefix_space": false, "prepend_scheme": "first""#,
        ] {
            let Err(e) = from_json(&file(bad)) else {
                panic!("{bad} must be refused")
            };
            assert!(e.message.contains("add_prefix_space"), "{}", e.message);
        }
    }

    /// Unicode properties are read as Oniguruma reads them: negation by `^`, and names the
    /// regex crate would bend (chars beyond ASCII, `name=value`) refused.
    #[test]
    fn regex_properties_are_read_as_oniguruma_reads_them() {
        for (src, want) in [
            (r"\p{L}+", Some(r"\p{L}+")),
            (r"[^\s\p{^L}\P{N}]", Some(r"[^\s\P{L}\P{N}]")),
            (r"\P{^Lu}", Some(r"\p{Lu}")),
            (r"\\p{x}", Some(r"\\p{x}")),
            (r"a\", Some(r"a\")),
            (r"\pL+\P", Some(r"pL+P")),
            ("\\p{L\u{fffd}}", None),
            (r"\p{sc=Latin}", None),
            (r"\p{L", None),
            (
                r"a\R+",
                Some(r"a(?>\r\n|[\n\x0B\x0C\r\x{85}\x{2028}\x{2029}])+"),
            ),
            (
                r"[\R\]]\R",
                Some(r"[R\]](?>\r\n|[\n\x0B\x0C\r\x{85}\x{2028}\x{2029}])"),
            ),
            (r"[[:alpha:]\R]", Some(r"[[:alpha:]R]")),
            (r"\\R", Some(r"\\R")),
            (r"\O\N\Z", Some(r"(?s:.)[^\n](?=\n?\z)")),
            (r"[\O\N\Z]", Some(r"[ONZ]")),
            (r"\o{101}[\o{12}]", Some(r"\x{41}[\x{A}]")),
            (r"\o{9}", None),
            (r"\o{101", None),
            (r"\101[\101]\0011", Some(r"\x{41}[\x{41}]\x{1}1")),
            (r"\303\251[\303\251]", Some(r"\x{E9}[\x{E9}]")),
            (r"\10\18\81[\1\8]", Some(r"\x{8}\x{1}881[\x{1}8]")),
            (r"(a)\1\10", Some(r"(a)\1\x{8}")),
            (
                r"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\10",
                Some(r"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\10"),
            ),
            (r"(?:a)(?=b)(?<=c)\1\2", Some(r"(?:a)(?=b)(?<=c)\1\2")),
            (r"(?<n>a)\10", Some(r"(?<n>a)\x{8}")),
            (r"(?<n>a)\1", None),
            (r"\200", None),
            (r"\303", None),
            (r"\303a", None),
            (r"\303\303", None),
            (r"\377?a\400", Some(r"[^\s\S]?a[^\s\S]")),
            (r"[a\377]", Some(r"[a[^\s\S]]")),
            (r"[\400]", None),
            (r"\\101", Some(r"\\101")),
        ] {
            let got = onig_escapes(src);
            assert_eq!(got.as_deref().ok(), want, "{src}");
        }
    }

    /// `^` and `$` as Oniguruma reads them: at every line, but a text's last `\n` starts no
    /// line; inside a class or escaped they are chars.
    #[test]
    fn anchors_match_at_every_line() {
        let cuts = |src: &str, text: &str| {
            let src = onig_escapes(src).unwrap();
            Pattern::regex(&src).unwrap().replace_ranges(text)
        };
        assert_eq!(cuts("$", "ab\nba\n"), [(2, 2), (5, 5), (6, 6)]);
        assert_eq!(cuts("^", "ab\nba\n"), [(0, 0), (3, 3)]);
        assert_eq!(cuts("^", "\n"), [(0, 0)]);
        assert_eq!(cuts("^b", "ab\nba"), [(3, 4)]);
        assert_eq!(cuts("[^a]", "ab"), [(1, 2)]);
        assert_eq!(cuts("\\^|\\$", "a^$"), [(1, 2), (2, 3)]);
        assert_eq!(cuts("a$", "a\na"), [(0, 1), (2, 3)]);
        // Anchors only in classes leave a pattern's text as it was (so a known split pattern
        // still meets its scanner).
        let gpt2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
        assert_eq!(onig_escapes(gpt2).unwrap(), gpt2);
        assert_eq!(onig_escapes("[$^]").unwrap(), "[$^]");
    }

    /// A missing `added_tokens` is an empty list; null is refused, as `tokenizers` refuses it.
    #[test]
    fn added_tokens_null_is_refused() {
        let model = r#""model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}"#;
        assert!(from_json(&format!(r#"{{{model}}}"#)).is_ok());
        assert!(from_json(&format!(r#"{{"added_tokens": [], {model}}}"#)).is_ok());
        let Err(e) = from_json(&format!(r#"{{"added_tokens": null, {model}}}"#)) else {
            panic!("null must be refused")
        };
        assert!(e.message.contains("added_tokens"), "{}", e.message);
    }
}
