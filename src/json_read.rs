//! Reading tokenizer.json's large parts (the model) field by field, as `tokenizers` checks them.
//!
//! `tokenizers` reads a model into a JSON value before it reads the fields of its kind, so
//! every value in the model must parse: a string must decode (a lone surrogate escape such as
//! `"\udc83"` fails) and a number must fit an f64 (`1e400` fails), in fields its kind never
//! uses too. batok reads a model in one pass straight into its final types, so the fields it
//! does not use are read as [`Checked`], which checks exactly that and keeps nothing.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

/// Any JSON value, parsed and dropped. Unlike `serde::de::IgnoredAny`, which only skips the
/// text, parsing fails where a full parse would.
pub struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Checked;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            // The deserializer has already decoded the string or parsed the number by the
            // time a visit method runs: that is the check.
            fn visit_bool<E: Error>(self, _: bool) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_i64<E: Error>(self, _: i64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_u64<E: Error>(self, _: u64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_f64<E: Error>(self, _: f64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_str<E: Error>(self, _: &str) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_unit<E: Error>(self) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_none<E: Error>(self) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Checked, D::Error> {
                Checked::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Checked, A::Error> {
                while a.next_element::<Checked>()?.is_some() {}
                Ok(Checked)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Checked, A::Error> {
                while a.next_entry::<Checked, Checked>()?.is_some() {}
                Ok(Checked)
            }
        }
        d.deserialize_any(V)
    }
}

/// A string borrowed from the file when it has no escapes.
pub struct CowStr<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Borrowed(s)))
            }
            fn visit_str<E: Error>(self, s: &str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Read the entries of an object: `known(i, map)` reads the value of the field `names[i]`;
/// any other field's value is read as [`Checked`]. A field given twice fails, naming it (as a
/// derived reader's error does).
pub fn read_fields<'de, A: MapAccess<'de>>(
    map: &mut A,
    names: &[&'static str],
    mut known: impl FnMut(usize, &mut A) -> Result<(), A::Error>,
) -> Result<(), A::Error> {
    debug_assert!(names.len() <= 32);
    let mut seen = 0u32;
    while let Some(key) = map.next_key::<CowStr>()? {
        match names.iter().position(|n| *n == key.0) {
            Some(i) if seen & 1 << i != 0 => return Err(A::Error::duplicate_field(names[i])),
            Some(i) => {
                seen |= 1 << i;
                known(i, map)?;
            }
            None => {
                map.next_value::<Checked>()?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str) -> Result<(), String> {
        serde_json::from_str::<Checked>(json)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// What a full parse refuses, at any depth, and what it reads.
    #[test]
    fn checked_fails_where_a_full_parse_fails() {
        for bad in [
            r#""\udc83""#,
            r#""\ud800""#,
            r#"[1, {"a": ["\udfff"]}]"#,
            r#"{"\udc83": 1}"#,
            "1e400",
            "-1e400",
            r#"{"a": [1e999]}"#,
        ] {
            assert!(check(bad).is_err(), "{bad}");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "{bad}"
            );
        }
        for good in [
            r#""\ud83d\ude00""#,
            "1e-400",
            "123456789012345678901234567890",
            r#"{"a": [null, true, -1, 1.5, "x", {}]}"#,
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        // What `IgnoredAny` lets through.
        assert!(serde_json::from_str::<serde::de::IgnoredAny>(r#""\udc83""#).is_ok());
    }

    #[test]
    fn read_fields_reads_known_fields_checks_the_rest_and_refuses_repeats() {
        struct Two(Option<u32>, Option<String>);
        impl<'de> Deserialize<'de> for Two {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Two;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Two, A::Error> {
                        let mut t = Two(None, None);
                        read_fields(&mut m, &["n", "s"], |i, m| {
                            match i {
                                0 => t.0 = Some(m.next_value()?),
                                _ => t.1 = Some(m.next_value()?),
                            }
                            Ok(())
                        })?;
                        Ok(t)
                    }
                }
                d.deserialize_map(V)
            }
        }
        let t: Two = serde_json::from_str(r#"{"x": [1], "n": 3, "\u0073": "y"}"#).unwrap();
        assert_eq!((t.0, t.1.as_deref()), (Some(3), Some("y")));
        let e = serde_json::from_str::<Two>(r#"{"n": 1, "n": 2}"#)
            .err()
            .unwrap();
        assert!(e.to_string().contains("duplicate field `n`"), "{e}");
        assert!(serde_json::from_str::<Two>(r#"{"n": 1, "x": "\udc83"}"#).is_err());
    }
}
