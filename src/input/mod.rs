//! Documents read from dataset files: JSON lines and plain text, optionally compressed.
//!
//! A `Reader` walks a list of files in order and hands out documents in chunks of about a
//! given number of bytes, so a job holds one chunk at a time however large the files are.
//! Bad records stop the reader with an error that names the file and line, or, when the
//! reader skips bad records, are counted and left out.
//!
//! One module per input format (`jsonl`, `text`) and one for opening compressed files
//! (`decompress`); this module only sequences them.

pub mod decompress;
mod json_record;
pub mod jsonl;
pub mod text;

use std::fmt;
use std::path::{Path, PathBuf};

/// How the documents of a file are laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line; the document is the string at `field`.
    JsonLines { field: String },
    /// Plain UTF-8 text: the whole file, or the pieces between `separator`s.
    Text { separator: Option<String> },
}

/// What was wrong with an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputErrorKind {
    /// The file could not be opened or read (decompression errors included).
    Io,
    /// A line is not valid JSON, or not a JSON object.
    Json,
    /// The record has no such field.
    MissingField,
    /// The field is there but is not a string.
    NotString,
    /// The text is not valid UTF-8.
    Utf8,
}

/// A bad input: its file, its 1-based line where there is one, and what was wrong.
#[derive(Debug, Clone)]
pub struct InputError {
    pub kind: InputErrorKind,
    pub path: PathBuf,
    pub line: Option<u64>,
    pub message: String,
}

impl InputError {
    fn new(kind: InputErrorKind, path: &Path, line: Option<u64>, message: String) -> Self {
        InputError {
            kind,
            path: path.to_path_buf(),
            line,
            message,
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// Documents read from one file, one at a time.
trait Documents {
    /// The next document and the number of input bytes it took, None at the end of the file.
    /// A bad record is an error; the next call goes on after it.
    fn next_doc(&mut self) -> Option<Result<(String, usize), InputError>>;
}

fn open(path: &Path, format: &Format) -> Result<Box<dyn Documents + Send>, InputError> {
    let input = decompress::open(path).map_err(|e| {
        InputError::new(InputErrorKind::Io, path, None, format!("cannot read: {e}"))
    })?;
    Ok(match format {
        Format::JsonLines { field } => Box::new(jsonl::Lines::new(path, input, field.clone())),
        Format::Text { separator } => Box::new(text::Pieces::new(path, input, separator.clone())),
    })
}

/// Documents of consecutive records, in input order.
#[derive(Debug, Default)]
pub struct Chunk {
    pub docs: Vec<String>,
    /// Input bytes the chunk's records (skipped ones included) took, after decompression.
    pub bytes: usize,
}

/// Every document of a list of files, in order, in chunks.
pub struct Reader {
    files: std::vec::IntoIter<(PathBuf, Format)>,
    current: Option<Box<dyn Documents + Send>>,
    skip_bad: bool,
    skipped: u64,
    first_skipped: Option<InputError>,
}

impl Reader {
    /// A reader over `files`; with `skip_bad`, bad records and unreadable files are counted
    /// and left out instead of stopping the reader.
    pub fn new(files: Vec<(PathBuf, Format)>, skip_bad: bool) -> Self {
        Reader {
            files: files.into_iter(),
            current: None,
            skip_bad,
            skipped: 0,
            first_skipped: None,
        }
    }

    /// How many bad records (or unreadable files) were skipped so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The first record skipped, to say what was wrong with it.
    pub fn first_skipped(&self) -> Option<&InputError> {
        self.first_skipped.as_ref()
    }

    fn skip(&mut self, e: InputError) -> Result<(), InputError> {
        if !self.skip_bad {
            return Err(e);
        }
        self.skipped += 1;
        self.first_skipped.get_or_insert(e);
        Ok(())
    }

    /// The next documents, as many as fit in about `max_bytes` of input (at least one), or
    /// None when every file is done.
    pub fn next_chunk(&mut self, max_bytes: usize) -> Result<Option<Chunk>, InputError> {
        let mut chunk = Chunk::default();
        while chunk.bytes < max_bytes.max(1) {
            let docs = match &mut self.current {
                Some(docs) => docs,
                None => match self.files.next() {
                    None => break,
                    Some((path, format)) => {
                        match open(&path, &format) {
                            Ok(docs) => self.current = Some(docs),
                            Err(e) => self.skip(e)?,
                        }
                        continue;
                    }
                },
            };
            match docs.next_doc() {
                None => self.current = None,
                Some(Ok((doc, bytes))) => {
                    chunk.docs.push(doc);
                    chunk.bytes += bytes;
                }
                Some(Err(e)) => {
                    // An unreadable file yields no more records.
                    if e.kind == InputErrorKind::Io {
                        self.current = None;
                    }
                    self.skip(e)?;
                }
            }
        }
        Ok((!chunk.docs.is_empty() || chunk.bytes > 0).then_some(chunk))
    }
}

/// A fresh directory for one test, removed when the test ends, passed or failed.
#[cfg(test)]
pub(crate) struct TestDir(PathBuf);

#[cfg(test)]
impl TestDir {
    pub(crate) fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("batok-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TestDir(d)
    }
}

#[cfg(test)]
impl std::ops::Deref for TestDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

#[cfg(test)]
impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    fn tmp(name: &str) -> TestDir {
        TestDir::new(&format!("input-{name}"))
    }

    fn jsonl() -> Format {
        Format::JsonLines {
            field: "text".into(),
        }
    }

    fn all(reader: &mut Reader, max_bytes: usize) -> Result<Vec<Vec<String>>, InputError> {
        let mut out = Vec::new();
        while let Some(c) = reader.next_chunk(max_bytes)? {
            out.push(c.docs);
        }
        Ok(out)
    }

    #[test]
    fn chunks_keep_file_and_record_order() {
        let d = tmp("order");
        let a = write(&d, "a.jsonl", b"{\"text\":\"a1\"}\n{\"text\":\"a2\"}\n");
        let b = write(&d, "b.txt", b"b1");
        let mut r = Reader::new(
            vec![(a, jsonl()), (b, Format::Text { separator: None })],
            false,
        );
        let chunks = all(&mut r, 1).unwrap();
        assert_eq!(chunks, vec![vec!["a1"], vec!["a2"], vec!["b1"]]);
    }

    #[test]
    fn bad_record_stops_with_file_and_line() {
        let d = tmp("bad");
        let a = write(&d, "a.jsonl", b"{\"text\":\"ok\"}\n{\"text\": 3}\n");
        let mut r = Reader::new(vec![(a.clone(), jsonl())], false);
        let e = all(&mut r, 1 << 20).unwrap_err();
        assert_eq!(e.kind, InputErrorKind::NotString);
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().starts_with(&format!("{}:2: ", a.display())));
    }

    #[test]
    fn bad_records_and_missing_files_are_counted_when_skipping() {
        let d = tmp("skip");
        let a = write(
            &d,
            "a.jsonl",
            b"{\"text\":\"x\"}\nnot json\n{\"t\":1}\n{\"text\":\"y\"}\n",
        );
        let missing = d.join("missing.jsonl");
        let mut r = Reader::new(vec![(a, jsonl()), (missing, jsonl())], true);
        let chunks = all(&mut r, 1 << 20).unwrap();
        assert_eq!(chunks, vec![vec!["x", "y"]]);
        assert_eq!(r.skipped(), 3);
        assert_eq!(r.first_skipped().unwrap().line, Some(2));
    }
}
