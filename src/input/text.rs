//! Plain text files: the whole file is one document, or the pieces between separators are.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::{Documents, InputError, InputErrorKind};

/// The documents of one text file.
pub struct Pieces {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    separator: Option<Vec<u8>>,
    /// Bytes read but not yet handed out (the start of the next piece).
    pending: Vec<u8>,
    /// Where in `pending` to look for the next separator (what came before has none).
    searched: usize,
    /// The 1-based line the next piece starts on.
    line: u64,
    done: bool,
}

impl Pieces {
    pub fn new(path: &Path, input: Box<dyn BufRead + Send>, separator: Option<String>) -> Self {
        Pieces {
            path: path.to_path_buf(),
            input,
            separator: separator.filter(|s| !s.is_empty()).map(String::into_bytes),
            pending: Vec::new(),
            searched: 0,
            line: 1,
            done: false,
        }
    }

    /// Reads more input into `pending`; false at the end of the file.
    fn fill(&mut self) -> Result<bool, InputError> {
        let buf = match self.input.fill_buf() {
            Ok(buf) => buf,
            Err(e) => return Err(self.error(InputErrorKind::Io, e)),
        };
        let n = buf.len();
        self.pending.extend_from_slice(buf);
        self.input.consume(n);
        Ok(n > 0)
    }

    fn error(&self, kind: InputErrorKind, e: impl std::fmt::Display) -> InputError {
        let msg = match kind {
            InputErrorKind::Io => format!("cannot read: {e}"),
            _ => format!("{e}"),
        };
        InputError::new(kind, &self.path, Some(self.line), msg)
    }

    /// The first `len` pending bytes as a document, and `skip` more bytes dropped after it.
    fn take(&mut self, len: usize, skip: usize) -> Result<(String, usize), InputError> {
        let rest = self.pending.split_off(len + skip);
        let mut piece = std::mem::replace(&mut self.pending, rest);
        piece.truncate(len);
        self.searched = 0;
        let line = self.line;
        self.line += piece.iter().filter(|&&b| b == b'\n').count() as u64;
        if let Some(sep) = &self.separator {
            self.line += sep.iter().filter(|&&b| b == b'\n').count() as u64;
        }
        String::from_utf8(piece)
            .map(|doc| (doc, len + skip))
            .map_err(|e| {
                let msg = format!("invalid UTF-8: {}", e.utf8_error());
                InputError::new(InputErrorKind::Utf8, &self.path, Some(line), msg)
            })
    }
}

impl Documents for Pieces {
    fn next_doc(&mut self) -> Option<Result<(String, usize), InputError>> {
        if self.done {
            return None;
        }
        loop {
            if let Some(sep) = &self.separator {
                let from = self.searched;
                if let Some(at) = memchr::memmem::find(&self.pending[from..], sep) {
                    let n = sep.len();
                    return Some(self.take(from + at, n));
                }
                // A separator may straddle what was read and what comes next.
                self.searched = self.pending.len().saturating_sub(sep.len() - 1);
            }
            match self.fill() {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.done = true;
        // The piece after the last separator; empty only when the file ends with one (or is
        // empty while split), which then holds no further document.
        if self.pending.is_empty() && (self.separator.is_some() || self.line > 1) {
            return None;
        }
        let len = self.pending.len();
        Some(self.take(len, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(data: &[u8], sep: Option<&str>, read_size: usize) -> Vec<Result<String, u64>> {
        let input = Box::new(std::io::BufReader::with_capacity(
            read_size,
            std::io::Cursor::new(data.to_vec()),
        ));
        let mut p = Pieces::new(Path::new("t.txt"), input, sep.map(str::to_string));
        let mut out = Vec::new();
        while let Some(r) = p.next_doc() {
            out.push(r.map(|d| d.0).map_err(|e| e.line.unwrap()));
        }
        out
    }

    #[test]
    fn text_pieces_cases() {
        let ok = |v: &[&str]| v.iter().map(|s| Ok(s.to_string())).collect::<Vec<_>>();
        // (input, separator, documents)
        // (file bytes, separator, documents or the line of an error)
        type Case<'a> = (&'a [u8], Option<&'a str>, Vec<Result<String, u64>>);
        let cases: &[Case] = &[
            (b"one doc\n\nstill one", None, ok(&["one doc\n\nstill one"])),
            (b"", None, ok(&[""])),
            (b"a\n\nb\n\nc", Some("\n\n"), ok(&["a", "b", "c"])),
            (b"a\n\nb\n\n", Some("\n\n"), ok(&["a", "b"])),
            (b"a\n\n\n\nb", Some("\n\n"), ok(&["a", "", "b"])),
            (b"", Some("\n\n"), ok(&[])),
            (b"x<|sep|>y", Some("<|sep|>"), ok(&["x", "y"])),
            (b"no separator", Some("\n\n"), ok(&["no separator"])),
            (
                b"a\n\n\xff\n\nc",
                Some("\n\n"),
                vec![Ok("a".into()), Err(3), Ok("c".into())],
            ),
        ];
        for (data, sep, want) in cases {
            // Tiny reads put separators across read boundaries.
            for read_size in [1, 2, 3, 1 << 16] {
                assert_eq!(
                    &pieces(data, *sep, read_size),
                    want,
                    "{data:?} {sep:?} {read_size}"
                );
            }
        }
    }
}
