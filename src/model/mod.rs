//! Models turn one pre-tokenized piece into token ids.

pub mod backtrack;
pub mod bpe;
pub mod cache;
pub mod merge;
pub mod prefix_trie;
pub mod token_index;

pub use bpe::Bpe;
