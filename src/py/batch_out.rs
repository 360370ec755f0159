//! Batch results as Python objects, built on the calling thread while the pool still encodes.
//!
//! Lists and bytes can only be made with the GIL held, one thread at a time. Made after the
//! whole batch is encoded, that serial part is added to the parallel one; made run by run as
//! the pool finishes them (see `batch::pipeline`), most of it overlaps the encoding.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use super::errors::{guard, panic_to_py, to_py};
use super::ids::{fill_slot, put_le, IntCache};
use crate::batch;
use crate::error::Result;

/// The ids of consecutive texts, back to back, with the end of each text's ids.
pub struct Run {
    ids: Vec<u32>,
    ends: Vec<usize>,
}

impl Run {
    /// Stops at the first text that fails to encode, with its error.
    fn encode<T: AsRef<str>>(
        texts: &[T],
        encode: &impl Fn(&str, &mut Vec<u32>) -> Result<()>,
    ) -> Result<Run> {
        // Room for a token per 3 bytes, so that the vector seldom grows (each growth is a copy).
        let bytes: usize = texts.iter().map(|t| t.as_ref().len()).sum();
        let mut run = Run {
            ids: Vec::with_capacity(bytes / 3 + 16),
            ends: Vec::with_capacity(texts.len()),
        };
        for t in texts {
            encode(t.as_ref(), &mut run.ids)?;
            run.ends.push(run.ids.len());
        }
        Ok(run)
    }

    /// Each text's ids, in order.
    fn parts(&self) -> impl Iterator<Item = &[u32]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(s, &e)| &self.ids[s..e])
    }
}

/// `encode` (which appends a text's ids) over `texts` on `threads` threads (0 = all cores),
/// as one `list[int]` per text. A text that fails to encode fails the batch with its error.
pub fn lists<'py, T: AsRef<str> + Sync>(
    py: Python<'py>,
    ints: &IntCache,
    texts: &[T],
    threads: usize,
    encode: impl Fn(&str, &mut Vec<u32>) -> Result<()> + Sync,
) -> PyResult<Bound<'py, PyList>> {
    // SAFETY: the list has `len(texts)` empty slots; each run fills the slots of its own
    // texts (`fill_slot` takes over the new reference), and every text is in exactly one
    // run, so all are filled, once each, before the list is returned. On an error the partly
    // filled list is released through the Bound, which tolerates empty slots.
    let out = unsafe {
        let list = ffi::PyList_New(texts.len() as ffi::Py_ssize_t);
        Bound::from_owned_ptr_or_err(py, list)?.downcast_into_unchecked::<PyList>()
    };
    batch::pipeline(
        texts,
        threads,
        |run| Run::encode(run, &encode),
        |fin| -> PyResult<()> {
            while let Some((first, run)) = py.allow_threads(|| fin.next()) {
                let run = run.map_err(panic_to_py)?.map_err(to_py)?;
                for (i, ids) in run.parts().enumerate() {
                    let list = ints.list(py, ids)?;
                    unsafe { fill_slot(py, out.as_ptr(), first + i, list.into_ptr())? };
                }
            }
            Ok(())
        },
    )?;
    Ok(out)
}

/// `encode` over `texts` as flat little-endian u32 ids and the u64 start of each text's ids
/// (n + 1 entries), with no Python object per token.
pub fn buffers<'py, T: AsRef<str> + Sync>(
    py: Python<'py>,
    texts: &[T],
    threads: usize,
    encode: impl Fn(&str, &mut Vec<u32>) -> Result<()> + Sync,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let runs = py
        .allow_threads(|| guard(|| batch::runs(texts, threads, |run| Run::encode(run, &encode))))?
        .into_iter()
        .collect::<Result<Vec<Run>>>()
        .map_err(to_py)?;
    let total: usize = runs.iter().map(|r| r.ids.len()).sum();
    let ids = PyBytes::new_with(py, total * 4, |buf| {
        py.allow_threads(|| {
            let mut at = 0;
            for r in &runs {
                let end = at + r.ids.len() * 4;
                put_le(&mut buf[at..end], &r.ids);
                at = end;
            }
        });
        Ok(())
    })?;
    let offsets = PyBytes::new_with(py, (texts.len() + 1) * 8, |buf| {
        // 0, then each text's end, counted from the start of the first run.
        let mut at = 0;
        let ends = runs.iter().flat_map(|r| {
            let base = at;
            at += r.ids.len();
            r.ends.iter().map(move |&e| base + e)
        });
        for (out, e) in buf.chunks_exact_mut(8).zip(std::iter::once(0).chain(ends)) {
            out.copy_from_slice(&(e as u64).to_le_bytes());
        }
        Ok(())
    })?;
    Ok((ids, offsets))
}
