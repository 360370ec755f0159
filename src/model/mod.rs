//! Models turn one pre-tokenized piece into token ids.

pub mod bpe;
pub mod cache;
pub mod merge;

pub use bpe::Bpe;
