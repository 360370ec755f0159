"""Dataset jobs: files of documents in, training-ready token files out.

One module per input format (`inputs` for JSON lines and text, read in Rust; `parquet_in`),
one per output format (`parquet_out`, `llmc_out`, `npy_out`), the tokenizer in `engine`, and
`runner`, which only wires them together.
"""

from .runner import FORMATS, tokenize_files

__all__ = ["FORMATS", "tokenize_files"]
