//! batok: exact, fast BPE tokenization of tokenizer.json and tiktoken files.
//!
//! The engine modules below know nothing of Python; `py` (behind the `python` feature, which
//! maturin turns on) wraps them as the `batok._batok` extension module.

pub mod added_tokens;
pub mod batch;
pub mod caught_panic;
pub mod config;
pub mod decoder;
pub mod encoding;
pub mod error;
pub mod input;
pub mod json_read;
pub mod model;
pub mod normalized;
pub mod normalizer;
pub mod padding;
pub mod placement;
pub mod post_processor;
pub mod pre_tokenizer;
pub mod repeated_keys;
pub mod tiktoken;
pub mod tokenizer;
pub mod truncation;
pub mod unicode_class;

#[cfg(test)]
mod test_texts;

#[cfg(feature = "python")]
mod py;
