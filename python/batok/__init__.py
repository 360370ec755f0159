"""batok: exact, fast tokenization with a Rust engine.

- `Tokenizer` / `AutoTokenizer`: tokenizer.json files (Hugging Face `tokenizers` format), from a
  file, a local directory or the hub (`from_pretrained`, with `BA_ACCESS_TOKEN`).
- `Encoding` / `get_encoding`: tiktoken's API and registry (cl100k_base, o200k_base and
  o200k_harmony bundled; r50k/p50k from tiktoken's cache or fetched, sha256-pinned).
"""

from __future__ import annotations

from . import _batok
from ._batok import BatokError
from .added_token import AddedToken
from .encoding import (
    Encoding,
    encoding_for_model,
    encoding_name_for_model,
    get_encoding,
    list_encoding_names,
)
from .tokenizer import AutoTokenizer, Tokenizer


def __getattr__(name: str) -> object:
    # Dataset jobs need numpy; import them only when asked for, so `import batok` does not.
    if name == "tokenize_files":
        from .jobs import tokenize_files

        return tokenize_files
    raise AttributeError(f"module 'batok' has no attribute {name!r}")


__version__: str = _batok.__version__

__all__ = [
    "AddedToken",
    "AutoTokenizer",
    "BatokError",
    "Encoding",
    "Tokenizer",
    "__version__",
    "encoding_for_model",
    "encoding_name_for_model",
    "get_encoding",
    "list_encoding_names",
    "tokenize_files",
]
