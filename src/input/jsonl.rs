//! JSON lines: one object per line, the document being the string in one field.
//!
//! Only that field is kept: the other values of a record are checked and skipped without
//! being built, which is most of the cost of a line for records with metadata.

use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::{json_record, Documents, InputError, InputErrorKind};

/// The records of one JSON lines file.
pub struct Lines {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    field: String,
    /// Whether `field` can be matched against keys byte for byte (`json_record::plain_key`),
    /// decided once for the file rather than per line.
    plain: bool,
    line: u64,
    buf: Vec<u8>,
}

impl Lines {
    pub fn new(path: &Path, input: Box<dyn BufRead + Send>, field: String) -> Self {
        Lines {
            path: path.to_path_buf(),
            input,
            plain: json_record::plain_key(&field),
            field,
            line: 0,
            buf: Vec::new(),
        }
    }

    fn error(&self, kind: InputErrorKind, message: String) -> InputError {
        InputError::new(kind, &self.path, Some(self.line), message)
    }
}

impl Documents for Lines {
    fn next_doc(&mut self) -> Option<Result<(String, usize), InputError>> {
        loop {
            self.buf.clear();
            self.line += 1;
            let n = match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(n) => n,
                Err(e) => {
                    let msg = format!("cannot read: {e}");
                    return Some(Err(self.error(InputErrorKind::Io, msg)));
                }
            };
            // Blank lines (a trailing newline, a blank line between records) hold no record.
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(match read_field(&self.buf, &self.field, self.plain) {
                Ok(doc) => Ok((doc, n)),
                Err((kind, msg)) => Err(self.error(kind, msg)),
            });
        }
    }
}

/// The string at `field` of the JSON object in `line`.
pub fn field_of(line: &[u8], field: &str) -> Result<String, (InputErrorKind, String)> {
    read_field(line, field, json_record::plain_key(field))
}

/// `field_of`, where `plain` is `json_record::plain_key(field)`: the record's own reader when
/// it takes the line, else the general parser.
fn read_field(line: &[u8], field: &str, plain: bool) -> Result<String, (InputErrorKind, String)> {
    if plain {
        if let Some(text) = json_record::field_text(line, field) {
            return Ok(text);
        }
    }
    parse_field(line, field)
}

/// `field_of` by the general JSON parser: any record, and the error for a bad one.
pub fn parse_field(line: &[u8], field: &str) -> Result<String, (InputErrorKind, String)> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let found = FieldSeed { field }
        .deserialize(&mut de)
        .and_then(|f| de.end().map(|_| f))
        .map_err(|e| (InputErrorKind::Json, format!("invalid JSON: {e}")))?;
    match found {
        Field::NotAnObject(what) => Err((
            InputErrorKind::Json,
            format!("expected a JSON object, found {what}"),
        )),
        Field::Missing => Err((
            InputErrorKind::MissingField,
            format!("the record has no field {field:?}"),
        )),
        Field::Found(serde_json::Value::String(s)) => Ok(s),
        Field::Found(v) => Err((
            InputErrorKind::NotString,
            format!("field {field:?} is {}, not a string", kind_of(&v)),
        )),
    }
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

enum Field {
    Found(serde_json::Value),
    Missing,
    NotAnObject(&'static str),
}

struct FieldSeed<'a> {
    field: &'a str,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = Field;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
        d.deserialize_any(self)
    }
}

/// Whether a key is the wanted field, without allocating for keys that are not.
struct KeyIs<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
        // As with Python's json module, the last of repeated keys wins.
        let mut found = Field::Missing;
        while let Some(wanted) = map.next_key_seed(KeyIs(self.field))? {
            if wanted {
                found = Field::Found(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::NotAnObject("an array"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Field, E> {
        Ok(Field::NotAnObject("a string"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Field, E> {
        Ok(Field::NotAnObject("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Field, E> {
        Ok(Field::NotAnObject("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Field, E> {
        Ok(Field::NotAnObject("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Field, E> {
        Ok(Field::NotAnObject("a number"))
    }
    fn visit_unit<E>(self) -> Result<Field, E> {
        Ok(Field::NotAnObject("null"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_of_cases() {
        use InputErrorKind::*;
        let cases: &[(&str, Result<&str, InputErrorKind>)] = &[
            (r#"{"text": "hi"}"#, Ok("hi")),
            (
                r#"{"id": 1, "meta": {"text": 2}, "text": "a\nb\u00e9"}"#,
                Ok("a\nb\u{e9}"),
            ),
            (r#"{"te\u0078t": "escaped key"}"#, Ok("escaped key")),
            (r#"{"text": "first", "text": "last"}"#, Ok("last")),
            (r#"{"text": ""}"#, Ok("")),
            (r#"  {"text": "spaces"}  "#, Ok("spaces")),
            (r#"{"other": "x"}"#, Err(MissingField)),
            (r#"{"text": null}"#, Err(NotString)),
            (r#"{"text": ["a"]}"#, Err(NotString)),
            (r#"{"text": 3}"#, Err(NotString)),
            (r#"["text"]"#, Err(Json)),
            (r#""text""#, Err(Json)),
            (r#"{"text": "unterminated}"#, Err(Json)),
            (r#"{"text": "a"} {"text": "b"}"#, Err(Json)),
            ("{\"text\": \"\\ud800\"}", Err(Json)),
        ];
        for (line, want) in cases {
            let got = field_of(line.as_bytes(), "text");
            match (want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(w, g, "{line}"),
                (Err(w), Err((g, _))) => assert_eq!(w, g, "{line}"),
                _ => panic!("{line}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn invalid_utf8_is_a_json_error() {
        let got = field_of(b"{\"text\": \"\xff\"}", "text");
        assert_eq!(got.unwrap_err().0, InputErrorKind::Json);
    }

    #[test]
    fn lines_count_blank_lines_and_report_bytes() {
        let data = b"{\"text\":\"a\"}\n\n{\"text\":\"b\"}\n".to_vec();
        let input = Box::new(std::io::Cursor::new(data));
        let mut lines = Lines::new(Path::new("x.jsonl"), input, "text".into());
        let (a, n) = lines.next_doc().unwrap().unwrap();
        assert_eq!((a.as_str(), n), ("a", 13));
        let (b, _) = lines.next_doc().unwrap().unwrap();
        assert_eq!((b.as_str(), lines.line), ("b", 3));
        assert!(lines.next_doc().is_none());
    }
}
