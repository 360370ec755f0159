//! Padding as `tokenizers` applies it: the file's `padding` section, or `enable_padding`.
//! Encodings are padded after the post-processor, to a fixed length or to the longest of a
//! batch, optionally rounded up to a multiple.

use crate::encoding::{Direction, Encoding, Pad};
use crate::error::Result;
use crate::truncation::direction_name;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// To the longest encoding of the batch (a single text: its own length).
    BatchLongest,
    Fixed(usize),
}

/// The `padding` section of a tokenizer.json file, field for field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaddingParams {
    pub strategy: Strategy,
    #[serde(with = "direction_name")]
    pub direction: Direction,
    pub pad_to_multiple_of: Option<usize>,
    pub pad_id: u32,
    pub pad_type_id: u32,
    pub pad_token: String,
}

impl PaddingParams {
    /// Pad every encoding of `batch` (and their overflowing windows) to the same length.
    pub fn apply(&self, batch: &mut [Encoding]) -> Result<()> {
        let mut len = match self.strategy {
            Strategy::Fixed(n) => n,
            Strategy::BatchLongest => batch.iter().map(Encoding::len).max().unwrap_or(0),
        };
        if let Some(m) = self.pad_to_multiple_of.filter(|&m| m > 0) {
            // Rounded up as `tokenizers` does it, wrapping past the largest length as it does.
            if len % m > 0 {
                len = len.wrapping_add(m - len % m);
            }
        }
        let pad = Pad {
            id: self.pad_id,
            type_id: self.pad_type_id,
            token: self.pad_token.clone(),
        };
        for e in batch {
            e.pad(len, &pad, self.direction)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of_len(n: usize) -> Encoding {
        let mut e = Encoding::default();
        for i in 0..n {
            e.push(i as u32 + 10, "t".into(), (i, i + 1), false);
        }
        e
    }

    fn params(strategy: Strategy, multiple: Option<usize>) -> PaddingParams {
        PaddingParams {
            strategy,
            direction: Direction::Right,
            pad_to_multiple_of: multiple,
            pad_id: 0,
            pad_type_id: 2,
            pad_token: "[PAD]".into(),
        }
    }

    #[test]
    fn batch_longest_pads_everything_to_the_longest() {
        let mut batch = [of_len(5), of_len(3)];
        params(Strategy::BatchLongest, None)
            .apply(&mut batch)
            .unwrap();
        assert_eq!(batch[1].ids, [10, 11, 12, 0, 0]);
        assert_eq!(batch[1].attention_mask, [1, 1, 1, 0, 0]);
        assert_eq!(batch[1].special_tokens_mask, [0, 0, 0, 1, 1]);
        assert_eq!(batch[1].type_ids, [0, 0, 0, 2, 2]);
        assert_eq!(batch[0].ids.len(), 5);
    }

    #[test]
    fn lengths_round_up_to_the_multiple_and_zero_means_none() {
        let mut batch = [of_len(5), of_len(3)];
        params(Strategy::Fixed(7), Some(8))
            .apply(&mut batch)
            .unwrap();
        assert!(batch.iter().all(|e| e.len() == 8));
        let mut batch = [of_len(5)];
        params(Strategy::BatchLongest, Some(0))
            .apply(&mut batch)
            .unwrap();
        assert_eq!(batch[0].len(), 5);
    }

    #[test]
    fn left_padding_moves_the_sequence_along() {
        let mut e = of_len(2);
        e.set_sequence_id(0);
        let mut p = params(Strategy::Fixed(4), None);
        p.direction = Direction::Left;
        let mut batch = [e];
        p.apply(&mut batch).unwrap();
        assert_eq!(batch[0].ids, [0, 0, 10, 11]);
        assert_eq!(batch[0].sequence_ids(), [None, None, Some(0), Some(0)]);
        assert_eq!(batch[0].offsets[..2], [(0, 0), (0, 0)]);
    }

    #[test]
    fn a_longer_encoding_is_not_cut() {
        let mut batch = [of_len(5)];
        params(Strategy::Fixed(3), None).apply(&mut batch).unwrap();
        assert_eq!(batch[0].len(), 5);
    }

    #[test]
    fn a_length_no_memory_holds_is_an_error_that_leaves_the_encoding_as_it_was() {
        let mut batch = [of_len(2)];
        let err = params(Strategy::Fixed(usize::MAX / 2), None)
            .apply(&mut batch)
            .unwrap_err();
        assert!(err.message.contains("cannot pad to"), "{}", err.message);
        assert_eq!(batch[0].ids, [10, 11]);
        assert_eq!(batch[0].attention_mask.len(), 2);
    }

    #[test]
    fn a_multiple_past_the_largest_length_wraps_as_in_tokenizers() {
        // usize::MAX - 2 rounded up to a multiple of 8 wraps to 0: no padding.
        let mut batch = [of_len(6)];
        params(Strategy::Fixed(usize::MAX - 2), Some(8))
            .apply(&mut batch)
            .unwrap();
        assert_eq!(batch[0].len(), 6);
    }

    #[test]
    fn file_sections_read_as_tokenizers_writes_them() {
        let text = r#"{"strategy": {"Fixed": 128}, "direction": "Right", "pad_to_multiple_of": null,
                       "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}"#;
        let p: PaddingParams = serde_json::from_str(text).unwrap();
        assert_eq!(p.strategy, Strategy::Fixed(128));
        let p: PaddingParams =
            serde_json::from_str(&text.replace(r#"{"Fixed": 128}"#, r#""BatchLongest""#)).unwrap();
        assert_eq!(p.strategy, Strategy::BatchLongest);
    }
}
