//! Keys given twice where `tokenizers` refuses them.
//!
//! The small parts of a tokenizer.json are read into JSON values, where a key given twice
//! keeps its last value. `tokenizers` reads a `TemplateProcessing` piece and an added token
//! into typed structs, and refuses the file when a piece (`{"SpecialToken": ..,
//! "SpecialToken": ..}`), a piece's fields (`{"id": .., "id": ..}`) or an added token's fields
//! (`"special"` twice) repeat a key, so batok finds those before reading the values. Unknown
//! fields are skipped unread, repeated or not. (Elsewhere `tokenizers` takes a repeated key,
//! e.g. a post-processor's `type`.)
//!
//! At the top level `tokenizers` reads every copy of a repeated field in turn, refusing the
//! file when one fails and keeping the last, and so does batok (`Fields` keeps every copy).

use std::cell::RefCell;
use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The fields of an added token.
const ADDED_TOKEN_FIELDS: [&str; 7] = [
    "id",
    "content",
    "single_word",
    "lstrip",
    "rstrip",
    "normalized",
    "special",
];

/// Where a value sits, for the repeated-key rule.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    /// Under a post-processor, where `single` and `pair` hold templates.
    Other,
    /// Anywhere else: nothing checked below.
    Plain,
    /// The `added_tokens` list.
    AddedTokens,
    /// One added token.
    AddedToken,
    /// The list under `single` or `pair`.
    Template,
    /// A piece of that list: `{"SpecialToken": {..}}`.
    Piece,
    /// A piece's fields: `{"id": .., "type_id": ..}`.
    Fields,
}

/// The first key given twice where `tokenizers` refuses it, in `part` ("post_processor" or
/// "added_tokens") whose raw JSON text is `json`, as (where, key): `post_processor.single[0]`,
/// `"SpecialToken"`. None when there is none, or when `json` does not parse (reading it
/// reports that).
pub fn repeated_key(part: &str, json: &str) -> Option<(String, String)> {
    let ctx = match part {
        "post_processor" => Ctx::Other,
        "added_tokens" => Ctx::AddedTokens,
        _ => return None,
    };
    let state = State {
        path: RefCell::new(vec![part.to_string()]),
        found: RefCell::new(None),
    };
    let mut de = serde_json::Deserializer::from_str(json);
    Walk { ctx, state: &state }.deserialize(&mut de).ok()?;
    state.found.into_inner()
}

struct State {
    path: RefCell<Vec<String>>,
    found: RefCell<Option<(String, String)>>,
}

struct Walk<'s> {
    ctx: Ctx,
    state: &'s State,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ctx = match self.ctx {
            Ctx::Template => Ctx::Piece,
            Ctx::AddedTokens => Ctx::AddedToken,
            Ctx::Other => Ctx::Other,
            _ => Ctx::Plain,
        };
        let mut i = 0;
        loop {
            self.state.path.borrow_mut().push(format!("[{i}]"));
            let more = seq.next_element_seed(Walk {
                ctx,
                state: self.state,
            })?;
            self.state.path.borrow_mut().pop();
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            // A piece has one key, its kind; of its fields, unknown ones are skipped unread.
            let checked = match self.ctx {
                Ctx::Piece => true,
                Ctx::Fields => key == "id" || key == "type_id",
                Ctx::AddedToken => ADDED_TOKEN_FIELDS.contains(&key.as_str()),
                _ => false,
            };
            if checked && keys.contains(&key) && self.state.found.borrow().is_none() {
                let at = self.state.path.borrow().concat();
                *self.state.found.borrow_mut() = Some((at, key.clone()));
            }
            let ctx = match self.ctx {
                Ctx::Piece => Ctx::Fields,
                Ctx::Other if key == "single" || key == "pair" => Ctx::Template,
                Ctx::Other => Ctx::Other,
                _ => Ctx::Plain,
            };
            self.state.path.borrow_mut().push(format!(".{key}"));
            map.next_value_seed(Walk {
                ctx,
                state: self.state,
            })?;
            self.state.path.borrow_mut().pop();
            keys.push(key);
        }
        Ok(())
    }
}

/// A file's top-level fields as written, in order, a repeated key as often as it is given.
pub struct Fields(pub Vec<(String, Box<RawValue>)>);

impl Fields {
    /// The first key given more than once.
    pub fn repeated(&self) -> Option<&str> {
        let mut seen = std::collections::HashSet::new();
        self.0
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !seen.insert(*k))
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push(entry);
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::{repeated_key, Fields};

    fn repeated_template_key(json: &str) -> Option<(String, String)> {
        repeated_key("post_processor", json)
    }

    fn template(piece: &str) -> String {
        format!(
            r#"{{"type": "TemplateProcessing", "single": [{{"Sequence": {{"id": "A", "type_id": 0}}}}, {piece}],
                "pair": [], "special_tokens": {{}}}}"#
        )
    }

    #[test]
    fn a_piece_or_its_fields_with_a_key_twice_is_found() {
        let found = |piece: &str| repeated_template_key(&template(piece));
        assert_eq!(
            found(
                r#"{"SpecialToken": {"id": "a", "type_id": 0}, "SpecialToken": {"id": "b", "type_id": 0}}"#
            ),
            Some(("post_processor.single[1]".into(), "SpecialToken".into()))
        );
        assert_eq!(
            found(r#"{"SpecialToken": {"id": "a", "id": "b", "type_id": 0}}"#),
            Some(("post_processor.single[1].SpecialToken".into(), "id".into()))
        );
        assert_eq!(
            found(r#"{"SpecialToken": {"id": "a", "type_id": 0}}"#),
            None
        );
        assert_eq!(found(r#"{"SpecialToken": ["a", 0]}"#), None);
        assert_eq!(
            found(r#"{"SpecialToken": {"id": "a", "type_id": 0, "x": 1, "x": 2}}"#),
            None
        );
    }

    #[test]
    fn repeated_keys_elsewhere_and_in_sequences_of_processors() {
        // `tokenizers` takes a repeated key outside template pieces.
        let outside =
            r#"{"type": "BertProcessing", "type": "TemplateProcessing", "single": [], "pair": []}"#;
        assert_eq!(repeated_template_key(outside), None);
        let inner = template(r#"{"SpecialToken": {"id": "a", "type_id": 0, "type_id": 1}}"#);
        let nested =
            format!(r#"{{"type": "Sequence", "processors": [{{"type": "ByteLevel"}}, {inner}]}}"#);
        assert_eq!(
            repeated_template_key(&nested),
            Some((
                "post_processor.processors[1].single[1].SpecialToken".into(),
                "type_id".into()
            ))
        );
        assert_eq!(repeated_template_key("not json"), None);
    }

    #[test]
    fn an_added_token_with_a_known_field_twice_is_found() {
        let list = r#"[{"id": 1, "content": "a", "special": true},
            {"id": 2, "content": "b", "normalized": {"single": []}, "normalized": false, "x": 1, "x": 2}]"#;
        assert_eq!(
            repeated_key("added_tokens", list),
            Some(("added_tokens[1]".into(), "normalized".into()))
        );
        let unknown_twice = r#"[{"id": 1, "content": "a", "x": 1, "x": 2}]"#;
        assert_eq!(repeated_key("added_tokens", unknown_twice), None);
        assert_eq!(repeated_key("decoder", list), None);
    }

    #[test]
    fn top_level_fields_keep_every_copy() {
        let f: Fields = serde_json::from_str(r#"{"a": 1, "b": [2], "a": {"x": 3}}"#).unwrap();
        let keys: Vec<&str> = f.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "a"]);
        assert_eq!(f.0[2].1.get(), r#"{"x": 3}"#);
        assert_eq!(f.repeated(), Some("a"));
        let f: Fields = serde_json::from_str(r#"{"a": 1, "b": 2}"#).unwrap();
        assert_eq!(f.repeated(), None);
    }
}
