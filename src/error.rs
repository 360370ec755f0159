//! The engine's one error type: a kind, a message, and where in the input it happened.

use std::fmt;

/// What went wrong, coarsely; the Python layer maps each kind to an exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file is not valid JSON (message carries line and column).
    Json,
    /// The JSON is valid but a field is missing, mistyped or unsupported.
    Config,
    /// A rank file line could not be parsed.
    RankFile,
    /// An id given to decode is outside the vocabulary.
    UnknownId,
    /// A regex in the file does not compile or failed at match time.
    Regex,
    /// Anything else the caller passed that cannot be processed.
    Input,
    /// A text this tokenizer cannot encode (`tokenizers` fails on the same text): a char no
    /// token covers with no unknown token to stand for it, or an added token that cannot be
    /// cut out. No bug, and nothing wrong with the file as `tokenizers` reads it.
    CannotEncode,
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    /// This tokenizer cannot encode the text, for the reason `why`.
    pub fn cannot_encode(why: impl fmt::Display) -> Self {
        Error::new(
            ErrorKind::CannotEncode,
            format!("cannot encode this text: {why}"),
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
