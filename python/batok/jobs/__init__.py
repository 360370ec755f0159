"""Dataset jobs: files of documents in, training-ready token files out.

One module per input format (`inputs` for JSON lines and text, read in Rust; `parquet_in`),
one per output format (`parquet_out`, `llmc_out`, `npy_out`), the tokenizer in `engine`, and
`runner`, which only wires them together.
"""

from typing import Any

from .formats import FORMATS

__all__ = ["FORMATS", "tokenize_files"]


def __getattr__(name: str) -> Any:
    # The runner needs numpy (an extra); `batok --help` and `batok encode` must not.
    if name == "tokenize_files":
        from .runner import tokenize_files

        return tokenize_files
    raise AttributeError(name)
