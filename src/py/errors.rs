//! Engine errors and panics as Python exceptions.

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::error::{Error, ErrorKind};

pyo3::create_exception!(
    _batok,
    BatokError,
    PyValueError,
    "A tokenizer or rank file that batok cannot load."
);

pub fn to_py(e: Error) -> PyErr {
    match e.kind {
        ErrorKind::UnknownId | ErrorKind::Input => PyValueError::new_err(e.message),
        _ => BatokError::new_err(e.message),
    }
}

pub fn io_to_py(path: &std::path::Path, e: std::io::Error) -> PyErr {
    let msg = format!("cannot read {}: {e}", path.display());
    if e.kind() == std::io::ErrorKind::NotFound {
        PyFileNotFoundError::new_err(msg)
    } else {
        PyOSError::new_err(msg)
    }
}

/// Run `f`, turning a panic into a RuntimeError.
pub fn guard<R>(f: impl FnOnce() -> R) -> PyResult<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(panic_to_py)
}

/// A caught panic as a RuntimeError.
pub fn panic_to_py(p: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into());
    PyRuntimeError::new_err(format!(
        "internal error in batok ({what}); please report it with the input that caused it"
    ))
}
