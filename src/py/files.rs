//! Dataset files for `batok.tokenize_files` and `batok.ray`: documents read and encoded in
//! Rust, handed to Python as flat id buffers, with no Python object per document or token.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMemoryView};

use super::batch_out;
use super::errors::guard;
use super::tiktoken::PyCoreBpe;
use super::tokenizer::PyTokenizer;
use crate::input::{Format, InputError, InputErrorKind, Reader};
use crate::tiktoken::CoreBpe;
use crate::tokenizer::Tokenizer;

pyo3::create_exception!(
    _batok,
    DatasetError,
    PyValueError,
    "A dataset record batok cannot read; the message starts with the file and line."
);

fn input_to_py(e: InputError) -> PyErr {
    match e.kind {
        InputErrorKind::Io => PyOSError::new_err(e.to_string()),
        _ => DatasetError::new_err(e.to_string()),
    }
}

/// Documents of consecutive records of a `DocReader`.
#[pyclass(module = "batok._batok", name = "DocChunk", frozen)]
pub struct PyDocChunk {
    docs: Vec<String>,
    bytes: usize,
}

#[pymethods]
impl PyDocChunk {
    fn __len__(&self) -> usize {
        self.docs.len()
    }
    /// Input bytes the chunk took (after decompression), skipped records included.
    #[getter]
    fn nbytes(&self) -> usize {
        self.bytes
    }
    fn __repr__(&self) -> String {
        format!(
            "DocChunk(documents={}, nbytes={})",
            self.docs.len(),
            self.bytes
        )
    }
}

/// Every document of a list of `(path, kind)` files, kind being "jsonl" or "text".
#[pyclass(module = "batok._batok", name = "DocReader", frozen)]
pub struct PyDocReader {
    inner: Mutex<Reader>,
}

#[pymethods]
impl PyDocReader {
    #[new]
    #[pyo3(signature = (files, field = "text".to_string(), separator = None, skip_bad = false))]
    fn new(
        files: Vec<(PathBuf, String)>,
        field: String,
        separator: Option<String>,
        skip_bad: bool,
    ) -> PyResult<Self> {
        let files = files
            .into_iter()
            .map(|(path, kind)| {
                let format = match kind.as_str() {
                    "jsonl" => Format::JsonLines {
                        field: field.clone(),
                    },
                    "text" => Format::Text {
                        separator: separator.clone(),
                    },
                    other => {
                        return Err(PyValueError::new_err(format!(
                            "unknown input kind {other:?} (expected \"jsonl\" or \"text\")"
                        )))
                    }
                };
                Ok((path, format))
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyDocReader {
            inner: Mutex::new(Reader::new(files, skip_bad)),
        })
    }

    /// The next documents, about `max_bytes` of input, or None when all are read.
    fn read(&self, py: Python<'_>, max_bytes: usize) -> PyResult<Option<PyDocChunk>> {
        let chunk = py.allow_threads(|| {
            guard(|| {
                let mut r = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                r.next_chunk(max_bytes)
            })
        })?;
        Ok(chunk.map_err(input_to_py)?.map(|c| PyDocChunk {
            docs: c.docs,
            bytes: c.bytes,
        }))
    }

    /// How many bad records (and unreadable files) were skipped.
    #[getter]
    fn skipped(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .skipped()
    }

    /// What was wrong with the first skipped record, with its file and line.
    #[getter]
    fn first_skipped(&self) -> Option<String> {
        let r = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        r.first_skipped().map(|e| e.to_string())
    }
}

/// The engine of a `Tokenizer` (tokenizer.json) or a `CoreBPE` (tiktoken).
enum Engine {
    Json(Arc<Tokenizer>, bool),
    Tiktoken(Arc<CoreBpe>),
}

impl Engine {
    fn of(obj: &Bound<'_, PyAny>, add_special_tokens: bool) -> PyResult<Engine> {
        if let Ok(t) = obj.downcast::<PyTokenizer>() {
            return Ok(Engine::Json(t.get().inner.clone(), add_special_tokens));
        }
        if let Ok(t) = obj.downcast::<PyCoreBpe>() {
            return Ok(Engine::Tiktoken(t.get().inner.clone()));
        }
        Err(PyTypeError::new_err(format!(
            "expected a native Tokenizer or CoreBPE, got {}",
            obj.get_type().name()?
        )))
    }

    /// Appends the ids of `text`: a tiktoken encoding reads special tokens as plain text, as
    /// `encode_ordinary` does (and as llm.c's data scripts encode documents).
    fn append(&self, text: &str, out: &mut Vec<u32>) -> crate::error::Result<()> {
        match self {
            Engine::Json(t, special) => t.encode_ids_append(text, *special, out),
            Engine::Tiktoken(t) => {
                t.encode_ordinary_append(text, out);
                Ok(())
            }
        }
    }
}

/// The documents of `chunk` encoded on `num_threads` threads (0 = all cores), as flat
/// little-endian u32 ids and the u64 start of each document's ids (n + 1 entries).
#[pyfunction]
#[pyo3(signature = (engine, chunk, add_special_tokens = false, num_threads = 0))]
pub fn encode_chunk<'py>(
    py: Python<'py>,
    engine: &Bound<'py, PyAny>,
    chunk: &PyDocChunk,
    add_special_tokens: bool,
    num_threads: usize,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let e = Engine::of(engine, add_special_tokens)?;
    batch_out::buffers(py, &chunk.docs, num_threads, |s, out| e.append(s, out))
}

/// The bytes of a Python buffer (an Arrow buffer, bytes, a memoryview). The stable ABI of
/// CPython 3.10, which the extension is built for, has no buffer protocol, so anything but
/// `bytes` is copied once, through a memoryview; next to encoding the strings the copy is cheap.
fn bytes_of<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    if let Ok(bytes) = obj.downcast::<PyBytes>() {
        return Ok(bytes.clone());
    }
    let copy = PyMemoryView::from(obj)?.call_method0("tobytes")?;
    Ok(copy.downcast_into::<PyBytes>()?)
}

/// `len` strings of an Arrow string array (`wide`: large_string, i64 offsets; else i32),
/// starting at element `start`, encoded as `encode_chunk` does. Each string is checked to be
/// UTF-8 and within the data buffer; nulls must have been taken out by the caller.
#[pyfunction]
#[pyo3(signature = (engine, offsets, data, wide, start, len, add_special_tokens = false, num_threads = 0))]
#[allow(clippy::too_many_arguments)] // mirrors the Arrow array's parts; called from one place
pub fn encode_arrow_strings<'py>(
    py: Python<'py>,
    engine: &Bound<'py, PyAny>,
    offsets: &Bound<'py, PyAny>,
    data: &Bound<'py, PyAny>,
    wide: bool,
    start: usize,
    len: usize,
    add_special_tokens: bool,
    num_threads: usize,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let e = Engine::of(engine, add_special_tokens)?;
    let (offsets, data) = (bytes_of(offsets)?, bytes_of(data)?);
    let (offsets, data) = (offsets.as_bytes(), data.as_bytes());
    let width = if wide { 8 } else { 4 };
    let at = |i: usize| -> Option<usize> {
        let b = offsets.get(i * width..(i + 1) * width)?;
        let v = if wide {
            i64::from_le_bytes(b.try_into().ok()?)
        } else {
            i32::from_le_bytes(b.try_into().ok()?) as i64
        };
        usize::try_from(v).ok()
    };
    let texts = py.allow_threads(|| -> PyResult<Vec<&str>> {
        (start..start + len)
            .map(|i| {
                let (s, t) = at(i)
                    .zip(at(i + 1))
                    .filter(|(s, t)| s <= t && *t <= data.len())
                    .ok_or_else(|| {
                        PyValueError::new_err(format!("string {i} lies outside the Arrow buffers"))
                    })?;
                std::str::from_utf8(&data[s..t]).map_err(|e| {
                    PyValueError::new_err(format!("string {i} is not valid UTF-8: {e}"))
                })
            })
            .collect()
    })?;
    batch_out::buffers(py, &texts, num_threads, |s, out| e.append(s, out))
}
