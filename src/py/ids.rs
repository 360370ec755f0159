//! Token ids across the Python boundary, in both directions.
//!
//! Out: building a `list[int]` costs one int object per token, which for list output is as much
//! as the encoding itself (an allocation, then a free when the list dies). Ints are immutable, so
//! each model keeps one int object per id it has returned and a list costs a reference-count
//! increment per token. Batch calls build their lists under the GIL, so this is also what lets
//! threads scale.
//!
//! In: ids arrive as a `list[int]` almost always; reading list items directly skips the generic
//! sequence protocol.

use std::cell::RefCell;
use std::sync::atomic::{AtomicPtr, Ordering};

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

/// Ids above this get a fresh int each time rather than a cache slot: no model has more.
const MAX_CACHED: usize = 1 << 22;

/// The most ids `CALL_IDS` keeps room for between calls.
const KEEP_CALL_IDS: usize = 1 << 20;

thread_local! {
    /// The ids of the text being encoded by a single-text call (`IntCache::list_of`).
    static CALL_IDS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// One Python int per id, made on first use. Touched only with the GIL held.
pub struct IntCache {
    ints: Vec<AtomicPtr<ffi::PyObject>>,
}

impl IntCache {
    /// A cache for ids below `n`.
    pub fn new(n: usize) -> IntCache {
        let n = n.min(MAX_CACHED);
        IntCache {
            ints: (0..n)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
        }
    }

    /// A new reference to the int `id`.
    #[inline]
    fn int(&self, py: Python<'_>, id: u32) -> PyResult<*mut ffi::PyObject> {
        let Some(slot) = self.ints.get(id as usize) else {
            return new_int(py, id);
        };
        let mut p = slot.load(Ordering::Relaxed);
        if p.is_null() {
            p = new_int(py, id)?;
            slot.store(p, Ordering::Relaxed);
        }
        // SAFETY: `p` is a live int the cache owns a reference to, and the GIL is held.
        unsafe { ffi::Py_INCREF(p) };
        Ok(p)
    }

    /// One text's ids as a new `list[int]`, written by `fill` (run without the GIL) into a
    /// buffer of the thread's rather than a vector of the call's own: a vector per call is an
    /// allocation, a regrowth or two as the ids come, and a free, which for short texts
    /// cost about as much as the list.
    pub fn list_of<'py>(
        &self,
        py: Python<'py>,
        fill: impl Send + FnOnce(&mut Vec<u32>) -> PyResult<()>,
    ) -> PyResult<Bound<'py, PyList>> {
        // Taken out of its cell while in use: building the list can run Python code (a
        // collection, a finalizer) that encodes again on this thread.
        let mut ids = CALL_IDS.take();
        ids.clear();
        let (ids, filled) = py.allow_threads(move || {
            let filled = fill(&mut ids);
            (ids, filled)
        });
        filled?;
        let list = self.list(py, &ids);
        // One long text does not keep its megabytes for the thread's life.
        if ids.capacity() <= KEEP_CALL_IDS {
            CALL_IDS.set(ids);
        }
        list
    }

    /// `ids` as a new `list[int]`.
    pub fn list<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        // SAFETY: the list is created with `len(ids)` empty slots and every slot is filled with
        // a new reference (which `fill_slot` takes over) before the list is handed out. On an
        // error the partly filled list is released through the Bound, which tolerates empty
        // slots.
        unsafe {
            let list = ffi::PyList_New(ids.len() as ffi::Py_ssize_t);
            let list = Bound::from_owned_ptr_or_err(py, list)?;
            for (i, &id) in ids.iter().enumerate() {
                let item = self.int(py, id)?;
                fill_slot(py, list.as_ptr(), i, item)?;
            }
            Ok(list.downcast_into_unchecked())
        }
    }
}

/// Put `item` (a new reference, taken over even on error) into slot `i` of `list`, a list made
/// by `PyList_New` whose slot `i` is still empty.
///
/// The stable ABI that the wheel is built for has no `PyList_SET_ITEM` (it reads the list's
/// struct, which is private there); `PyList_SetItem` does the same after a bounds check.
///
/// # Safety
/// The GIL is held and `list` is a live list.
#[inline]
pub unsafe fn fill_slot(
    py: Python<'_>,
    list: *mut ffi::PyObject,
    i: usize,
    item: *mut ffi::PyObject,
) -> PyResult<()> {
    if ffi::PyList_SetItem(list, i as ffi::Py_ssize_t, item) == 0 {
        Ok(())
    } else {
        Err(PyErr::fetch(py))
    }
}

fn new_int(py: Python<'_>, id: u32) -> PyResult<*mut ffi::PyObject> {
    // SAFETY: plain constructor call with the GIL held; null means a Python error is set.
    let p = unsafe { ffi::PyLong_FromUnsignedLong(id as std::os::raw::c_ulong) };
    if p.is_null() {
        Err(PyErr::fetch(py))
    } else {
        Ok(p)
    }
}

impl Drop for IntCache {
    fn drop(&mut self) {
        Python::with_gil(|_| {
            for slot in &self.ints {
                let p = slot.load(Ordering::Relaxed);
                if !p.is_null() {
                    // SAFETY: the cache owns this reference and the GIL is held.
                    unsafe { ffi::Py_DECREF(p) };
                }
            }
        });
    }
}

/// Token ids from a list of ints (or any sequence, by the generic route), with the same errors
/// as extracting `Vec<u32>`.
pub fn extract_ids(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u32>> {
    let Ok(list) = obj.downcast::<PyList>() else {
        return obj.extract();
    };
    let py = obj.py();
    let mut out = Vec::with_capacity(list.len());
    let mut i = 0;
    // SAFETY: GIL held; PyList_GetItem returns a borrowed reference or null (with IndexError set)
    // when the index is out of range, which the length re-read each step rules out even if an
    // `__index__` method called by `extract` below changes the list.
    unsafe {
        while i < ffi::PyList_Size(list.as_ptr()) {
            let item = ffi::PyList_GetItem(list.as_ptr(), i);
            if item.is_null() {
                return Err(PyErr::fetch(py));
            }
            let v = if ffi::PyLong_CheckExact(item) != 0 {
                ffi::PyLong_AsUnsignedLong(item)
            } else {
                std::os::raw::c_ulong::MAX
            };
            match u32::try_from(v) {
                Ok(id) if v != std::os::raw::c_ulong::MAX => out.push(id),
                // Negative, too large, or not an int: the generic route raises its error (or
                // accepts an int subclass or `__index__` object).
                _ => {
                    ffi::PyErr_Clear();
                    out.push(Bound::from_borrowed_ptr(py, item).extract::<u32>()?);
                }
            }
            i += 1;
        }
    }
    Ok(out)
}

/// `ids` as a `bytes` of little-endian u32s.
pub fn le_bytes<'py>(py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyBytes>> {
    PyBytes::new_with(py, ids.len() * 4, |buf| {
        put_le(buf, ids);
        Ok(())
    })
}

/// `ids` as little-endian bytes into `out` (exactly 4 bytes per id).
pub fn put_le(out: &mut [u8], ids: &[u32]) {
    if cfg!(target_endian = "little") {
        // SAFETY: any u32 is 4 plain bytes, and on a little-endian target they are already in
        // the order the buffer wants, so the slice can be copied as bytes.
        let bytes = unsafe { std::slice::from_raw_parts(ids.as_ptr().cast::<u8>(), ids.len() * 4) };
        out.copy_from_slice(bytes);
    } else {
        for (o, id) in out.chunks_exact_mut(4).zip(ids) {
            o.copy_from_slice(&id.to_le_bytes());
        }
    }
}
