//! Engine errors and panics as Python exceptions.

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::caught_panic;
use crate::error::{Error, ErrorKind};

pyo3::create_exception!(
    _batok,
    BatokError,
    PyValueError,
    "A tokenizer or rank file that batok cannot load."
);

pub fn to_py(e: Error) -> PyErr {
    match e.kind {
        // A text the tokenizer cannot encode is a bad input, not a bad file.
        ErrorKind::UnknownId | ErrorKind::Input | ErrorKind::CannotEncode => {
            PyValueError::new_err(e.message)
        }
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

/// Run `f`, turning a panic into a RuntimeError (with nothing printed: see `caught_panic`).
pub fn guard<R>(f: impl FnOnce() -> R) -> PyResult<R> {
    caught_panic::catch(f).map_err(panic_to_py)
}

/// A caught panic as a RuntimeError, with the panic's message (and, from `caught_panic::catch`,
/// where it was raised).
pub fn panic_to_py(p: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = caught_panic::message(p.as_ref());
    PyRuntimeError::new_err(format!(
        "internal error in batok ({what}); please report it with the input that caused it"
    ))
}
