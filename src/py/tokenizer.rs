//! `Tokenizer` and `Encoding` classes.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBytes, PyDict, PyList};

use super::batch_out;
use super::errors::{guard, io_to_py, to_py};
use super::ids::{extract_ids, IntCache};
use crate::batch;
use crate::encoding::Encoding;
use crate::tokenizer::Tokenizer;

#[pyclass(module = "batok._batok", name = "Tokenizer", frozen)]
pub struct PyTokenizer {
    pub(super) inner: Arc<Tokenizer>,
    ints: Arc<IntCache>,
    /// The tokenizer.json text it was loaded from: what `to_str` gives back, and what a pickle
    /// carries (so that a worker process rebuilds the same tokenizer without any download).
    json: Arc<str>,
}

#[pyclass(module = "batok._batok", name = "Encoding", frozen)]
pub struct PyEncoding {
    inner: Encoding,
    ints: Arc<IntCache>,
}

#[pymethods]
impl PyEncoding {
    #[getter]
    fn ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.ints.list(py, &self.inner.ids)
    }
    #[getter]
    fn tokens(&self) -> Vec<String> {
        self.inner.tokens.clone()
    }
    #[getter]
    fn offsets(&self) -> Vec<(usize, usize)> {
        self.inner.offsets.clone()
    }
    #[getter]
    fn type_ids(&self) -> Vec<u32> {
        self.inner.type_ids.clone()
    }
    /// The input sequence of each token: 0 or 1 (the second text of a pair), None for
    /// special tokens.
    #[getter]
    fn sequence_ids(&self) -> Vec<Option<usize>> {
        self.inner.sequence_ids()
    }
    #[getter]
    fn n_sequences(&self) -> usize {
        self.inner.sequence_ranges.len().max(1)
    }
    #[getter]
    fn attention_mask(&self) -> Vec<u32> {
        vec![1; self.inner.ids.len()]
    }
    #[getter]
    fn special_tokens_mask(&self) -> Vec<u32> {
        self.inner.special_tokens_mask.clone()
    }
    fn __len__(&self) -> usize {
        self.inner.ids.len()
    }
    fn __repr__(&self) -> String {
        format!("Encoding(num_tokens={})", self.inner.ids.len())
    }
}

fn load(py: Python<'_>, json: Arc<str>) -> PyResult<PyTokenizer> {
    let t = py
        .allow_threads(|| guard(|| crate::config::from_json(&json)))?
        .map_err(to_py)?;
    let n = t.max_id().map_or(0, |m| m as usize + 1);
    Ok(PyTokenizer {
        inner: Arc::new(t),
        ints: Arc::new(IntCache::new(n)),
        json,
    })
}

#[pymethods]
impl PyTokenizer {
    #[staticmethod]
    fn from_str(py: Python<'_>, json: &str) -> PyResult<Self> {
        load(py, Arc::from(json))
    }

    #[staticmethod]
    fn from_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        let text = std::fs::read_to_string(&path).map_err(|e| io_to_py(&path, e))?;
        load(py, Arc::from(text)).map_err(|e| {
            let msg = format!("{}: {}", path.display(), e.value(py));
            PyErr::from_type(e.get_type(py), msg)
        })
    }

    /// The tokenizer.json text this tokenizer was loaded from.
    fn to_str(&self) -> &str {
        &self.json
    }

    #[pyo3(signature = (text, add_special_tokens = true))]
    fn encode(&self, py: Python<'_>, text: &str, add_special_tokens: bool) -> PyResult<PyEncoding> {
        let t = &self.inner;
        let inner = py.allow_threads(|| guard(|| t.encode(text, add_special_tokens)))?;
        Ok(PyEncoding {
            inner,
            ints: self.ints.clone(),
        })
    }

    /// A pair of texts with the post-processor's pair template (as `tokenizers`' `encode(a, b)`).
    #[pyo3(signature = (text, pair, add_special_tokens = true))]
    fn encode_pair(
        &self,
        py: Python<'_>,
        text: &str,
        pair: &str,
        add_special_tokens: bool,
    ) -> PyResult<PyEncoding> {
        let t = &self.inner;
        let inner = py.allow_threads(|| guard(|| t.encode_pair(text, pair, add_special_tokens)))?;
        Ok(PyEncoding {
            inner,
            ints: self.ints.clone(),
        })
    }

    /// `encode_pair` over `texts[i]` and `pairs[i]`; where `pairs[i]` is None, `encode`.
    #[pyo3(signature = (texts, pairs, add_special_tokens = true, num_threads = 0))]
    fn encode_pair_batch(
        &self,
        py: Python<'_>,
        texts: Vec<PyBackedStr>,
        pairs: Vec<Option<PyBackedStr>>,
        add_special_tokens: bool,
        num_threads: usize,
    ) -> PyResult<Vec<PyEncoding>> {
        if texts.len() != pairs.len() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "texts and pairs differ in length ({} and {})",
                texts.len(),
                pairs.len()
            )));
        }
        let items: Vec<(&str, Option<&str>)> = texts
            .iter()
            .zip(&pairs)
            .map(|(a, b)| (&**a, b.as_deref()))
            .collect();
        let t = &self.inner;
        let encs = py.allow_threads(|| {
            guard(|| t.encode_pair_batch(&items, add_special_tokens, num_threads))
        })?;
        Ok(encs
            .into_iter()
            .map(|inner| PyEncoding {
                inner,
                ints: self.ints.clone(),
            })
            .collect())
    }

    #[pyo3(signature = (text, add_special_tokens = true))]
    fn encode_ids<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        add_special_tokens: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let t = &self.inner;
        let ids = py.allow_threads(|| guard(|| t.encode_ids(text, add_special_tokens)))?;
        self.ints.list(py, &ids)
    }

    #[pyo3(signature = (text, add_special_tokens = true))]
    fn count_tokens(
        &self,
        py: Python<'_>,
        text: &str,
        add_special_tokens: bool,
    ) -> PyResult<usize> {
        let t = &self.inner;
        py.allow_threads(|| guard(|| t.count_tokens(text, add_special_tokens)))
    }

    #[pyo3(signature = (texts, add_special_tokens = true, num_threads = 0))]
    fn encode_batch(
        &self,
        py: Python<'_>,
        texts: Vec<PyBackedStr>,
        add_special_tokens: bool,
        num_threads: usize,
    ) -> PyResult<Vec<PyEncoding>> {
        let t = &self.inner;
        let encs = py.allow_threads(|| {
            guard(|| batch::map(&texts, num_threads, |s| t.encode(s, add_special_tokens)))
        })?;
        Ok(encs
            .into_iter()
            .map(|inner| PyEncoding {
                inner,
                ints: self.ints.clone(),
            })
            .collect())
    }

    #[pyo3(signature = (texts, add_special_tokens = true, num_threads = 0))]
    fn encode_batch_ids<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        add_special_tokens: bool,
        num_threads: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let t = &self.inner;
        batch_out::lists(py, &self.ints, &texts, num_threads, |s, out| {
            t.encode_ids_append(s, add_special_tokens, out)
        })
    }

    /// `encode_batch_ids` as flat little-endian u32 ids and u64 start offsets (n + 1).
    #[pyo3(signature = (texts, add_special_tokens = true, num_threads = 0))]
    fn encode_batch_ids_to_buffer<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        add_special_tokens: bool,
        num_threads: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let t = &self.inner;
        batch_out::buffers(py, &texts, num_threads, |s, out| {
            t.encode_ids_append(s, add_special_tokens, out)
        })
    }

    #[pyo3(signature = (ids, skip_special_tokens = false))]
    fn decode(
        &self,
        py: Python<'_>,
        ids: &Bound<'_, PyAny>,
        skip_special_tokens: bool,
    ) -> PyResult<String> {
        let ids = extract_ids(ids)?;
        let t = &self.inner;
        py.allow_threads(|| guard(|| t.decode(&ids, skip_special_tokens)))?
            .map_err(to_py)
    }

    #[pyo3(signature = (sequences, skip_special_tokens = false, num_threads = 0))]
    fn decode_batch(
        &self,
        py: Python<'_>,
        sequences: Vec<Vec<u32>>,
        skip_special_tokens: bool,
        num_threads: usize,
    ) -> PyResult<Vec<String>> {
        let t = &self.inner;
        let out = py.allow_threads(|| {
            guard(|| {
                batch::map(&sequences, num_threads, |s| {
                    t.decode(s, skip_special_tokens)
                })
            })
        })?;
        out.into_iter().map(|r| r.map_err(to_py)).collect()
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id).map(str::to_string)
    }

    #[pyo3(signature = (with_added_tokens = true))]
    fn get_vocab_size(&self, with_added_tokens: bool) -> usize {
        self.inner.vocab_size(with_added_tokens)
    }

    #[pyo3(signature = (with_added_tokens = true))]
    fn get_vocab<'py>(
        &self,
        py: Python<'py>,
        with_added_tokens: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.inner.vocab(with_added_tokens) {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    fn added_tokens(&self) -> Vec<(u32, String, bool)> {
        let mut v: Vec<(u32, String, bool)> = self
            .inner
            .added
            .tokens
            .iter()
            .map(|t| (t.id, t.content.clone(), t.special))
            .collect();
        v.sort_by_key(|x| x.0);
        v
    }
}
