//! `CoreBPE`: the engine behind the tiktoken-compatible `batok.Encoding`.

use std::collections::HashSet;
use std::sync::Arc;

use pyo3::exceptions::PyUnicodeDecodeError;
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBytes, PyList, PyString};
use rustc_hash::FxHashMap;

use super::batch_out;
use super::errors::{guard, to_py};
use super::ids::{extract_ids, le_bytes, IntCache};
use crate::tiktoken::{parse_ranks, CoreBpe};

#[pyclass(module = "batok._batok", name = "CoreBPE", frozen)]
pub struct PyCoreBpe {
    pub(super) inner: Arc<CoreBpe>,
    ints: IntCache,
}

impl PyCoreBpe {
    /// The ids of `text`, or None when it holds a special token.
    fn plain_ids(&self, py: Python<'_>, text: &str) -> PyResult<Option<Vec<u32>>> {
        let t = &self.inner;
        py.allow_threads(|| guard(|| (!t.has_special(text)).then(|| t.encode_ordinary(text))))
    }
}

#[pymethods]
impl PyCoreBpe {
    #[new]
    fn new(
        py: Python<'_>,
        ranks: &[u8],
        special_tokens: std::collections::HashMap<String, u32>,
        pattern: &str,
    ) -> PyResult<Self> {
        let inner = py
            .allow_threads(|| {
                guard(|| {
                    let enc = parse_ranks(ranks)?;
                    let sp: FxHashMap<String, u32> = special_tokens.into_iter().collect();
                    CoreBpe::new(enc, sp, pattern)
                })
            })?
            .map_err(to_py)?;
        Ok(PyCoreBpe {
            ints: IntCache::new(inner.max_token_value() as usize + 1),
            inner: Arc::new(inner),
        })
    }

    #[getter]
    fn n_vocab(&self) -> usize {
        self.inner.max_token_value() as usize + 1
    }

    #[getter]
    fn max_token_value(&self) -> u32 {
        self.inner.max_token_value()
    }

    fn encode_ordinary<'py>(&self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyList>> {
        let t = &self.inner;
        self.ints
            .list_of(py, |ids| guard(|| t.encode_ordinary_append(text, ids)))
    }

    fn encode<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        allowed_special: HashSet<String>,
    ) -> PyResult<Bound<'py, PyList>> {
        let t = &self.inner;
        let ids =
            py.allow_threads(|| guard(|| t.encode(text, &|s| allowed_special.contains(s))))?;
        self.ints.list(py, &ids)
    }

    /// `encode_ordinary`, or None when the text holds a special token: under the default
    /// policy (every special token disallowed) that text must raise, and the caller takes the
    /// path that says which token it was. One call instead of a search, then an encode.
    fn encode_plain<'py>(
        &self,
        py: Python<'py>,
        text: &str,
    ) -> PyResult<Option<Bound<'py, PyList>>> {
        let ids = self.plain_ids(py, text)?;
        ids.map(|ids| self.ints.list(py, &ids)).transpose()
    }

    /// `encode_plain` as little-endian u32 bytes (see `encode_ordinary_to_buffer`).
    fn encode_plain_to_buffer<'py>(
        &self,
        py: Python<'py>,
        text: &str,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let ids = self.plain_ids(py, text)?;
        ids.map(|ids| le_bytes(py, &ids)).transpose()
    }

    fn count_ordinary(&self, py: Python<'_>, text: &str) -> PyResult<usize> {
        let t = &self.inner;
        py.allow_threads(|| guard(|| t.count_ordinary(text)))
    }

    #[pyo3(signature = (texts, num_threads = 0))]
    fn encode_ordinary_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        num_threads: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let t = &self.inner;
        batch_out::lists(py, &self.ints, &texts, num_threads, |s, out| {
            t.encode_ordinary_append(s, out);
            Ok(())
        })
    }

    #[pyo3(signature = (texts, allowed_special, num_threads = 0))]
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        allowed_special: HashSet<String>,
        num_threads: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let t = &self.inner;
        batch_out::lists(py, &self.ints, &texts, num_threads, |s, out| {
            out.append(&mut t.encode(s, &|x| allowed_special.contains(x)));
            Ok(())
        })
    }

    fn encode_ordinary_to_buffer<'py>(
        &self,
        py: Python<'py>,
        text: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let t = &self.inner;
        let ids = py.allow_threads(|| guard(|| t.encode_ordinary(text)))?;
        le_bytes(py, &ids)
    }

    /// Ids of every text, flattened, as little-endian u32 bytes, plus the start of each text's
    /// ids as little-endian u64 (n + 1 entries): the batch analogue of
    /// `encode_ordinary_to_buffer`, with no Python object per token.
    #[pyo3(signature = (texts, num_threads = 0))]
    fn encode_ordinary_batch_to_buffer<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        num_threads: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let t = &self.inner;
        batch_out::buffers(py, &texts, num_threads, |s, out| {
            t.encode_ordinary_append(s, out);
            Ok(())
        })
    }

    fn find_special(
        &self,
        py: Python<'_>,
        text: &str,
        specials: HashSet<String>,
    ) -> PyResult<Option<String>> {
        let t = &self.inner;
        py.allow_threads(|| guard(|| t.find_special(text, &|s| specials.contains(s))))
    }

    fn decode_bytes<'py>(
        &self,
        py: Python<'py>,
        ids: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ids = extract_ids(ids)?;
        let t = &self.inner;
        let b = py
            .allow_threads(|| guard(|| t.decode_bytes(&ids)))?
            .map_err(to_py)?;
        Ok(PyBytes::new(py, &b))
    }

    /// The text of `ids` when their bytes are valid UTF-8, else None (the caller then decodes
    /// the bytes with its own error handler). Saves a bytes object and a second pass.
    fn decode_utf8<'py>(
        &self,
        py: Python<'py>,
        ids: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyString>>> {
        thread_local! {
            static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let ids = extract_ids(ids)?;
        let t = &self.inner;
        BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            let bytes: &mut Vec<u8> = &mut buf;
            py.allow_threads(|| guard(|| t.decode_into(&ids, bytes)))?
                .map_err(to_py)?;
            // CPython validates while it decodes, so the bytes are not checked here first.
            // SAFETY: a plain constructor call on initialized bytes, with the GIL held.
            let s = unsafe {
                ffi::PyUnicode_DecodeUTF8(
                    buf.as_ptr().cast(),
                    buf.len() as ffi::Py_ssize_t,
                    c"strict".as_ptr(),
                )
            };
            if buf.capacity() > 1 << 24 {
                *buf = Vec::new();
            }
            if s.is_null() {
                let err = PyErr::fetch(py);
                return if err.is_instance_of::<PyUnicodeDecodeError>(py) {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
            // SAFETY: a new reference to a str.
            Ok(Some(unsafe {
                Bound::from_owned_ptr(py, s).downcast_into_unchecked()
            }))
        })
    }

    fn decode_single_token_bytes<'py>(
        &self,
        py: Python<'py>,
        id: u32,
    ) -> PyResult<Bound<'py, PyBytes>> {
        match self.inner.token_bytes(id) {
            Some(b) => Ok(PyBytes::new(py, b)),
            None => Err(PyValueError::new_err(format!(
                "token id {id} is not in this encoding"
            ))),
        }
    }

    fn encode_single_token(&self, piece: &[u8]) -> PyResult<u32> {
        self.inner.encode_single_token(piece).ok_or_else(|| {
            PyValueError::new_err(format!("{piece:?} is not a single token of this encoding"))
        })
    }

    fn special_tokens(&self) -> std::collections::HashMap<String, u32> {
        self.inner
            .special_tokens()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}
