//! `Tokenizer` and `Encoding` classes.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBytes, PyDict, PyList};

use super::batch_out;
use super::errors::{guard, io_to_py, to_py};
use super::ids::{extract_ids, IntCache};
use crate::batch;
use crate::encoding::Encoding;
use crate::tokenizer::{Input, Limits, Tokenizer};

#[pyclass(module = "batok._batok", name = "Tokenizer", frozen)]
pub struct PyTokenizer {
    pub(super) inner: Arc<Tokenizer>,
    ints: Arc<IntCache>,
    /// The tokenizer.json text it was loaded from: what `to_str` gives back, and what a pickle
    /// carries (so that a worker process rebuilds the same tokenizer without any download).
    json: Arc<str>,
    /// Where `json` holds its `added_tokens` list, found once (Gemma 3's file is 31 MB), for
    /// `added_tokens_json` and `with_added_tokens`; shared with the `with_limits` copies.
    added_span: Arc<OnceLock<Option<Range<usize>>>>,
    /// The truncation and padding encodings get: the file's until the Python layer asks for
    /// others (`with_limits`, which shares everything else).
    limits: Limits,
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
        self.inner.attention_mask.clone()
    }
    /// The word (pre-tokenized piece) each token comes from; None for special tokens.
    #[getter]
    fn word_ids(&self) -> Vec<Option<u32>> {
        self.inner.words.clone()
    }
    /// `word_ids`, under its older name.
    #[getter]
    fn words(&self) -> Vec<Option<u32>> {
        self.inner.words.clone()
    }
    /// The windows truncation cut off, each encoded as this one is.
    #[getter]
    fn overflowing(&self) -> Vec<PyEncoding> {
        self.inner
            .overflowing
            .iter()
            .map(|e| PyEncoding {
                inner: e.clone(),
                ints: self.ints.clone(),
            })
            .collect()
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
    let limits = t.limits.clone();
    Ok(wrap_tokenizer(t, limits, json))
}

/// A loaded tokenizer (from the file text `json`) for Python, run under `limits`.
fn wrap_tokenizer(t: Tokenizer, limits: Limits, json: Arc<str>) -> PyTokenizer {
    let n = t.max_id().map_or(0, |m| m as usize + 1);
    PyTokenizer {
        limits,
        inner: Arc::new(t),
        ints: Arc::new(IntCache::new(n)),
        json,
        added_span: Arc::default(),
    }
}

impl PyTokenizer {
    /// Where the file text holds its `added_tokens` list (None: missing or null).
    fn added_span(&self) -> PyResult<Option<Range<usize>>> {
        if let Some(span) = self.added_span.get() {
            return Ok(span.clone());
        }
        let span = crate::config::added_tokens_span(&self.json).map_err(to_py)?;
        Ok(self.added_span.get_or_init(|| span).clone())
    }
}

/// A `truncation` or `padding` section as JSON text (None: off).
fn section_json<T: serde::Serialize>(v: &Option<T>) -> Option<String> {
    v.as_ref()
        .map(|v| serde_json::to_string(v).expect("plain data serializes"))
}

fn parse_section<T: serde::de::DeserializeOwned>(
    what: &str,
    json: Option<&str>,
) -> PyResult<Option<T>> {
    json.map(|j| {
        serde_json::from_str(j)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("invalid {what}: {e}")))
    })
    .transpose()
}

impl PyTokenizer {
    fn wrap(&self, inner: Encoding) -> PyEncoding {
        PyEncoding {
            inner,
            ints: self.ints.clone(),
        }
    }

    /// Encodings of `items` (texts, or words already split, each with an optional second
    /// one) under the current limits, on `num_threads` threads.
    fn encode_items<I: Input + ?Sized>(
        &self,
        py: Python<'_>,
        items: &[(&I, Option<&I>)],
        add_special_tokens: bool,
        num_threads: usize,
    ) -> PyResult<Vec<Encoding>> {
        let (t, limits) = (&self.inner, &self.limits);
        py.allow_threads(|| {
            guard(|| t.encode_batch_limited(items, add_special_tokens, num_threads, limits))
        })?
        .map_err(to_py)
    }

    /// Ids of `texts` under the current limits (the ids-only paths when there are none).
    fn limited_ids(
        &self,
        py: Python<'_>,
        texts: &[PyBackedStr],
        add_special_tokens: bool,
        num_threads: usize,
    ) -> PyResult<Vec<Vec<u32>>> {
        let items: Vec<(&str, Option<&str>)> = texts.iter().map(|s| (&**s, None)).collect();
        let encs = self.encode_items(py, &items, add_special_tokens, num_threads)?;
        Ok(encs.into_iter().map(|e| e.ids).collect())
    }
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

    /// The tokenizer.json text: as loaded, with the current truncation and padding.
    fn to_str(&self) -> PyResult<String> {
        if self.limits == self.inner.limits {
            return Ok(self.json.to_string());
        }
        let mut v: serde_json::Value = serde_json::from_str(&self.json)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        if let Some(map) = v.as_object_mut() {
            let as_value = |s: Option<String>| {
                s.map_or(serde_json::Value::Null, |s| {
                    serde_json::from_str(&s).expect("serialized just now")
                })
            };
            map.insert(
                "truncation".into(),
                as_value(section_json(&self.limits.truncation)),
            );
            map.insert(
                "padding".into(),
                as_value(section_json(&self.limits.padding)),
            );
        }
        Ok(v.to_string())
    }

    /// This tokenizer with other truncation and padding (each a tokenizer.json section as
    /// JSON text, or None for off); the vocabulary and pipeline are shared, not copied.
    #[pyo3(signature = (truncation = None, padding = None))]
    fn with_limits(&self, truncation: Option<&str>, padding: Option<&str>) -> PyResult<Self> {
        Ok(PyTokenizer {
            inner: self.inner.clone(),
            ints: self.ints.clone(),
            json: self.json.clone(),
            added_span: self.added_span.clone(),
            limits: Limits {
                truncation: parse_section("truncation", truncation)?,
                padding: parse_section("padding", padding)?,
            },
        })
    }

    /// This tokenizer with its normalizer's leading Prepend applied to the start of a text
    /// only (transformers' and Transformers.js's Llama `legacy: false`); None when the
    /// normalizer does not start with one. `to_str` still gives the file.
    fn with_prepend_at_start_only(&self) -> Option<Self> {
        let t = self.inner.with_prepend_at_start_only()?;
        Some(PyTokenizer {
            inner: Arc::new(t),
            ints: self.ints.clone(),
            json: self.json.clone(),
            added_span: self.added_span.clone(),
            limits: self.limits.clone(),
        })
    }

    /// The file's `added_tokens` list as JSON text, as loaded or last replaced.
    fn added_tokens_json(&self) -> PyResult<String> {
        Ok(self
            .added_span()?
            .map_or("[]", |r| &self.json[r])
            .to_string())
    }

    /// This tokenizer with `added_tokens` (a JSON list, as a tokenizer.json's) in place of its
    /// added tokens; the vocabulary and the rest of the pipeline are copied, not loaded again.
    fn with_added_tokens(&self, py: Python<'_>, added_tokens: &str) -> PyResult<Self> {
        let span = self.added_span()?;
        let (t, json, new_span) = py
            .allow_threads(|| {
                guard(|| {
                    crate::config::with_added_tokens(&self.inner, &self.json, span, added_tokens)
                })
            })?
            .map_err(to_py)?;
        let new = wrap_tokenizer(t, self.limits.clone(), Arc::from(json));
        new.added_span.get_or_init(|| new_span);
        Ok(new)
    }

    /// The truncation section as JSON text, or None when off.
    #[getter]
    fn truncation(&self) -> Option<String> {
        section_json(&self.limits.truncation)
    }

    /// The padding section as JSON text, or None when off.
    #[getter]
    fn padding(&self) -> Option<String> {
        section_json(&self.limits.padding)
    }

    #[pyo3(signature = (text, add_special_tokens = true))]
    fn encode(&self, py: Python<'_>, text: &str, add_special_tokens: bool) -> PyResult<PyEncoding> {
        let (t, limits) = (&self.inner, &self.limits);
        let inner = py
            .allow_threads(|| guard(|| t.encode_limited(text, None, add_special_tokens, limits)))?
            .map_err(to_py)?;
        Ok(self.wrap(inner))
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
        let (t, limits) = (&self.inner, &self.limits);
        let inner = py
            .allow_threads(|| {
                guard(|| t.encode_limited(text, Some(pair), add_special_tokens, limits))
            })?
            .map_err(to_py)?;
        Ok(self.wrap(inner))
    }

    /// Pre-tokenized input (`tokenizers`' `encode(words, pair, is_pretokenized=True)`): each
    /// word encoded as a text of its own, the tokens numbered with their word's index.
    #[pyo3(signature = (words, pair = None, add_special_tokens = true))]
    fn encode_words(
        &self,
        py: Python<'_>,
        words: Vec<PyBackedStr>,
        pair: Option<Vec<PyBackedStr>>,
        add_special_tokens: bool,
    ) -> PyResult<PyEncoding> {
        let (t, limits) = (&self.inner, &self.limits);
        let inner = py
            .allow_threads(|| {
                guard(|| {
                    t.encode_limited(
                        words.as_slice(),
                        pair.as_deref(),
                        add_special_tokens,
                        limits,
                    )
                })
            })?
            .map_err(to_py)?;
        Ok(self.wrap(inner))
    }

    /// `encode_words` over many word lists (and, where given, a second one each).
    #[pyo3(signature = (items, pairs, add_special_tokens = true, num_threads = 0))]
    fn encode_words_batch(
        &self,
        py: Python<'_>,
        items: Vec<Vec<PyBackedStr>>,
        pairs: Vec<Option<Vec<PyBackedStr>>>,
        add_special_tokens: bool,
        num_threads: usize,
    ) -> PyResult<Vec<PyEncoding>> {
        if items.len() != pairs.len() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "items and pairs differ in length ({} and {})",
                items.len(),
                pairs.len()
            )));
        }
        let both: Vec<(&[PyBackedStr], Option<&[PyBackedStr]>)> = items
            .iter()
            .zip(&pairs)
            .map(|(a, b)| (a.as_slice(), b.as_deref()))
            .collect();
        let encs = self.encode_items(py, &both, add_special_tokens, num_threads)?;
        Ok(encs.into_iter().map(|e| self.wrap(e)).collect())
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
        let encs = self.encode_items(py, &items, add_special_tokens, num_threads)?;
        Ok(encs.into_iter().map(|e| self.wrap(e)).collect())
    }

    #[pyo3(signature = (text, add_special_tokens = true))]
    fn encode_ids<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        add_special_tokens: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        if !self.limits.is_none() {
            return self
                .ints
                .list(py, &self.encode(py, text, add_special_tokens)?.inner.ids);
        }
        let t = &self.inner;
        self.ints.list_of(py, |ids| {
            guard(|| t.encode_ids_append(text, add_special_tokens, ids))?.map_err(to_py)
        })
    }

    /// The ids of `text` as plain text: normalizer, pre-tokenizer and model only, with no added
    /// token matched and no post-processor (and no truncation or padding).
    fn encode_ids_without_added<'py>(
        &self,
        py: Python<'py>,
        text: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let t = &self.inner;
        let ids = py
            .allow_threads(|| guard(|| t.encode_ids_without_added(text)))?
            .map_err(to_py)?;
        self.ints.list(py, &ids)
    }

    #[pyo3(signature = (text, add_special_tokens = true))]
    fn count_tokens(
        &self,
        py: Python<'_>,
        text: &str,
        add_special_tokens: bool,
    ) -> PyResult<usize> {
        if !self.limits.is_none() {
            return Ok(self.encode(py, text, add_special_tokens)?.inner.len());
        }
        let t = &self.inner;
        py.allow_threads(|| guard(|| t.count_tokens(text, add_special_tokens)))?
            .map_err(to_py)
    }

    #[pyo3(signature = (texts, add_special_tokens = true, num_threads = 0))]
    fn encode_batch(
        &self,
        py: Python<'_>,
        texts: Vec<PyBackedStr>,
        add_special_tokens: bool,
        num_threads: usize,
    ) -> PyResult<Vec<PyEncoding>> {
        let items: Vec<(&str, Option<&str>)> = texts.iter().map(|s| (&**s, None)).collect();
        let encs = self.encode_items(py, &items, add_special_tokens, num_threads)?;
        Ok(encs.into_iter().map(|e| self.wrap(e)).collect())
    }

    #[pyo3(signature = (texts, add_special_tokens = true, num_threads = 0))]
    fn encode_batch_ids<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        add_special_tokens: bool,
        num_threads: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        if !self.limits.is_none() {
            let ids = self.limited_ids(py, &texts, add_special_tokens, num_threads)?;
            let lists = ids
                .iter()
                .map(|v| self.ints.list(py, v))
                .collect::<PyResult<Vec<_>>>()?;
            return PyList::new(py, lists);
        }
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
        if !self.limits.is_none() {
            let ids = self.limited_ids(py, &texts, add_special_tokens, num_threads)?;
            let mut flat = Vec::new();
            let mut starts = vec![0u64];
            for v in &ids {
                flat.extend(v.iter().flat_map(|i| i.to_le_bytes()));
                starts.push(starts[starts.len() - 1] + v.len() as u64);
            }
            let starts: Vec<u8> = starts.iter().flat_map(|s| s.to_le_bytes()).collect();
            return Ok((PyBytes::new(py, &flat), PyBytes::new(py, &starts)));
        }
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
