//! Truncation as `tokenizers` applies it: the file's `truncation` section, or
//! `enable_truncation`. Sequences are cut before the post-processor adds special tokens, the
//! cut-off tokens kept as overflowing windows.

use crate::encoding::{Direction, Encoding};
use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Strategy {
    /// Cut the longer of a pair first (both to about half when both are long).
    #[default]
    LongestFirst,
    OnlyFirst,
    OnlySecond,
}

/// The `truncation` section of a tokenizer.json file, field for field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruncationParams {
    #[serde(default, with = "direction_name")]
    pub direction: Direction,
    pub max_length: usize,
    pub strategy: Strategy,
    pub stride: usize,
}

/// `Left`/`Right`, as tokenizer.json writes a direction.
pub mod direction_name {
    use crate::encoding::Direction;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Direction, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match d {
            Direction::Left => "Left",
            Direction::Right => "Right",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Direction, D::Error> {
        match String::deserialize(d)?.as_str() {
            "Left" => Ok(Direction::Left),
            "Right" => Ok(Direction::Right),
            other => Err(serde::de::Error::custom(format!(
                "direction must be \"Left\" or \"Right\", not {other:?}"
            ))),
        }
    }
}

fn error(message: String) -> Error {
    Error::new(ErrorKind::Input, message)
}

impl TruncationParams {
    /// Cut `first` (and `second`) so that, with `added` special tokens around them, they fit
    /// `max_length`, as `tokenizers` does. A `max_length` below `added` leaves the texts whole
    /// (`tokenizers`' subtraction wraps around there).
    pub fn apply(
        &self,
        first: &mut Encoding,
        second: Option<&mut Encoding>,
        added: usize,
    ) -> Result<()> {
        let Some(max) = self.max_length.checked_sub(added) else {
            return Ok(());
        };
        let stride = self.stride;
        let dir = self.direction;
        let cut = |e: &mut Encoding, n: usize| -> Result<()> {
            if n > 0 && n < e.len() && stride >= n {
                return Err(error(format!(
                    "stride ({stride}) must be less than the length each text is truncated to \
                     ({n}: max_length {} minus {added} special tokens, shared between the \
                     texts of a pair); lower the stride or raise max_length",
                    self.max_length
                )));
            }
            e.truncate(n, stride, dir);
            Ok(())
        };
        if max == 0 {
            cut(first, 0)?;
            if let Some(s) = second {
                cut(s, 0)?;
            }
            return Ok(());
        }
        let total = first.len() + second.as_ref().map_or(0, |s| s.len());
        if total <= max {
            return Ok(());
        }
        let excess = total - max;
        match (self.strategy, second) {
            (Strategy::LongestFirst, None) => cut(first, max),
            (Strategy::LongestFirst, Some(s)) => {
                let (n1, n2) = longest_first(first.len(), s.len(), max);
                cut(first, n1)?;
                cut(s, n2)
            }
            (Strategy::OnlySecond, None) => Err(error(
                "truncation strategy only_second needs a pair of texts, and this is a single \
                 text"
                    .into(),
            )),
            (strategy, second) => {
                let target = match (strategy, second) {
                    (Strategy::OnlySecond, Some(s)) => s,
                    _ => first,
                };
                if target.len() <= excess {
                    return Err(error(format!(
                        "the text to truncate ({} tokens) is too short to bring the input down \
                         to max_length {} by cutting it alone; use strategy longest_first or \
                         raise max_length",
                        target.len(),
                        self.max_length
                    )));
                }
                let n = target.len() - excess;
                cut(target, n)
            }
        }
    }
}

/// The lengths `longest_first` cuts a pair of `a` and `b` tokens to, for `max` in all:
/// only the longer one when the shorter fits in half, else about half each.
fn longest_first(a: usize, b: usize, max: usize) -> (usize, usize) {
    let short = a.min(b);
    let mut n1 = short;
    let mut n2 = if short > max {
        short
    } else {
        short.max(max - short)
    };
    if n1 + n2 > max {
        n1 = max / 2;
        n2 = n1 + max % 2;
    }
    if a > b {
        (n2, n1)
    } else {
        (n1, n2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of_len(n: usize) -> Encoding {
        let mut e = Encoding::default();
        for i in 0..n {
            e.push(i as u32, i.to_string(), (i, i + 1), false);
        }
        e
    }

    fn params(max_length: usize, strategy: Strategy, stride: usize) -> TruncationParams {
        TruncationParams {
            direction: Direction::Right,
            max_length,
            strategy,
            stride,
        }
    }

    #[test]
    fn longest_first_cuts_the_longer_text_until_both_share_the_room() {
        // (first, second) -> lengths after truncation to 7, as `tokenizers` gives them.
        let cases = [
            ((0, 8), (0, 7)),
            ((2, 8), (2, 5)),
            ((4, 4), (3, 4)),
            ((4, 8), (3, 4)),
            ((8, 2), (5, 2)),
            ((8, 4), (4, 3)),
            ((8, 8), (3, 4)),
        ];
        for ((a, b), want) in cases {
            let (mut x, mut y) = (of_len(a), of_len(b));
            params(7, Strategy::LongestFirst, 0)
                .apply(&mut x, Some(&mut y), 0)
                .unwrap();
            assert_eq!((x.len(), y.len()), want, "{a} and {b}");
        }
    }

    #[test]
    fn windows_overlap_by_the_stride_and_end_at_the_last_token() {
        let mut e = of_len(5);
        params(4, Strategy::LongestFirst, 2)
            .apply(&mut e, None, 0)
            .unwrap();
        assert_eq!(e.ids, [0, 1, 2, 3]);
        let windows: Vec<_> = e.overflowing.iter().map(|w| w.ids.clone()).collect();
        assert_eq!(windows, [vec![2, 3, 4]]);
    }

    #[test]
    fn left_truncation_keeps_the_end() {
        let mut e = of_len(3);
        let mut p = params(2, Strategy::LongestFirst, 0);
        p.direction = Direction::Left;
        p.apply(&mut e, None, 0).unwrap();
        assert_eq!(e.ids, [1, 2]);
        assert_eq!(e.overflowing[0].ids, [0]);
    }

    #[test]
    fn room_for_special_tokens_is_taken_from_max_length() {
        let mut e = of_len(10);
        params(5, Strategy::LongestFirst, 0)
            .apply(&mut e, None, 2)
            .unwrap();
        assert_eq!(e.len(), 3);
    }

    #[test]
    fn max_length_below_the_special_tokens_leaves_the_text_whole() {
        let mut e = of_len(10);
        params(1, Strategy::LongestFirst, 0)
            .apply(&mut e, None, 2)
            .unwrap();
        assert_eq!(e.len(), 10);
    }

    #[test]
    fn a_stride_as_long_as_the_window_is_an_error_not_a_panic() {
        let mut e = of_len(10);
        let err = params(3, Strategy::LongestFirst, 1)
            .apply(&mut e, None, 2)
            .unwrap_err();
        assert!(err.message.contains("stride (1)"), "{}", err.message);
    }

    #[test]
    fn only_second_without_a_pair_is_an_error() {
        let mut e = of_len(10);
        let err = params(3, Strategy::OnlySecond, 0)
            .apply(&mut e, None, 0)
            .unwrap_err();
        assert!(err.message.contains("pair"), "{}", err.message);
    }

    #[test]
    fn only_first_that_cannot_absorb_the_excess_is_an_error() {
        let (mut a, mut b) = (of_len(2), of_len(10));
        let err = params(6, Strategy::OnlyFirst, 0)
            .apply(&mut a, Some(&mut b), 0)
            .unwrap_err();
        assert!(err.message.contains("too short"), "{}", err.message);
    }

    #[test]
    fn file_sections_read_with_and_without_a_direction() {
        let old: TruncationParams =
            serde_json::from_str(r#"{"max_length": 128, "strategy": "LongestFirst", "stride": 0}"#)
                .unwrap();
        assert_eq!(old.direction, Direction::Right);
        let text = serde_json::to_string(&old).unwrap();
        assert_eq!(
            text,
            r#"{"direction":"Right","max_length":128,"strategy":"LongestFirst","stride":0}"#
        );
    }
}
