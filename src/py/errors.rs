//! Engine errors and panics as Python exceptions.

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::caught_panic;
use crate::error::{Error, ErrorKind, CANNOT_ENCODE};
use crate::model::unigram::MISSING_UNK;

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

/// Run `f`, turning a panic into a RuntimeError (with nothing printed: see `caught_panic`).
pub fn guard<R>(f: impl FnOnce() -> R) -> PyResult<R> {
    caught_panic::catch(f).map_err(panic_to_py)
}

/// A caught panic as a RuntimeError, with the panic's message (and, from `caught_panic::catch`,
/// where it was raised).
pub fn panic_to_py(p: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = caught_panic::message(p.as_ref());
    // Not a bug: a Unigram model without an unknown token cannot encode some text, and
    // `tokenizers` fails the same way. The encode unwinds from deep in the model, where no
    // error can be returned.
    if what.starts_with(MISSING_UNK) {
        return PyValueError::new_err(format!(
            "{MISSING_UNK}: the text has a character that no piece of this Unigram model \
             covers, and the model has no unknown token"
        ));
    }
    if let Some(why) = what.strip_prefix(CANNOT_ENCODE) {
        // The reason, without the location `caught_panic` adds: it is no bug to report.
        let why = match why.rsplit_once(", at ") {
            Some((reason, at)) if at.starts_with("src/") => reason,
            _ => why,
        };
        return PyValueError::new_err(format!("{CANNOT_ENCODE}{why}"));
    }
    PyRuntimeError::new_err(format!(
        "internal error in batok ({what}); please report it with the input that caused it"
    ))
}
