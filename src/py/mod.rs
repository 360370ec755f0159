//! The `batok._batok` extension module: thin wrappers over the engine.
//!
//! Every call releases the GIL while the engine works, and every engine call runs under
//! `guard`, so a bug that panics becomes a Python RuntimeError instead of a PanicException;
//! the quiet panic hook installed here keeps such a panic off stderr, its message going into
//! the exception instead.

mod batch_out;
mod errors;
mod files;
mod ids;
mod tiktoken;
mod tokenizer;

use pyo3::prelude::*;

/// The most threads a batch call runs on (a larger `num_threads` is taken as this).
#[pyfunction]
fn max_threads() -> usize {
    crate::batch::max_threads()
}

#[pymodule]
fn _batok(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::caught_panic::quiet_hook();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(max_threads, m)?)?;
    m.add("BatokError", m.py().get_type::<errors::BatokError>())?;
    m.add_class::<tokenizer::PyTokenizer>()?;
    m.add_class::<tokenizer::PyEncoding>()?;
    m.add_class::<tiktoken::PyCoreBpe>()?;
    m.add("DatasetError", m.py().get_type::<files::DatasetError>())?;
    m.add_class::<files::PyDocReader>()?;
    m.add_class::<files::PyDocChunk>()?;
    m.add_function(wrap_pyfunction!(files::encode_chunk, m)?)?;
    m.add_function(wrap_pyfunction!(files::encode_arrow_strings, m)?)?;
    Ok(())
}
