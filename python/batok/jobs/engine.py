"""The tokenizer of a dataset job: loaded from what `get_encoding`/`from_pretrained` take, and
applied to chunks of documents as flat numpy arrays (ids, and n + 1 offsets)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _batok
from .._threads import resolve_num_threads
from ..encoding import Encoding, get_encoding, list_encoding_names
from ..tokenizer import Tokenizer

TokenizerLike = str | os.PathLike[str] | Tokenizer | Encoding

# Tried in order when a tokenizer names no BOS or EOS token: the usual end-of-text tokens.
_DELIMITER_CANDIDATES = ("<|endoftext|>", "<|end_of_text|>", "<|begin_of_text|>", "</s>", "<s>")


def load(spec: TokenizerLike) -> Tokenizer | Encoding:
    """A tiktoken encoding by name, a tokenizer.json file, or what
    `Tokenizer.from_pretrained` takes (a directory or a hub repo id)."""
    if isinstance(spec, Tokenizer | Encoding):
        return spec
    name = os.fspath(spec)
    if name in list_encoding_names():
        return get_encoding(name)
    if os.path.isfile(name):
        return Tokenizer.from_file(name)
    return Tokenizer.from_pretrained(name)


def describe(tok: Tokenizer | Encoding, spec: TokenizerLike) -> dict[str, Any]:
    """What the manifest records about the tokenizer: its name and a hash of its content (the
    rank file, or the tokenizer.json as batok runs it: `to_str()`), which also tells a resumed
    job whether the tokenizer changed under a name (a hub repo or a file may change)."""
    if isinstance(tok, Encoding):
        digest = hashlib.sha256(tok._rank_text).hexdigest()
        return {"name": tok.name, "kind": "tiktoken", "sha256": digest}
    name = spec if isinstance(spec, str | os.PathLike) else repr(tok)
    digest = hashlib.sha256(tok.to_str().encode()).hexdigest()
    return {"name": os.fspath(name), "kind": "tokenizer.json", "sha256": digest}


@dataclass(frozen=True)
class Engine:
    """A loaded tokenizer with the options of a job."""

    tokenizer: Tokenizer | Encoding
    add_special_tokens: bool = False
    num_threads: int = 0

    @classmethod
    def create(
        cls, spec: TokenizerLike, add_special_tokens: bool = False, num_threads: int | None = None
    ) -> Engine:
        return cls(load(spec), bool(add_special_tokens), resolve_num_threads(num_threads))

    @property
    def native(self) -> Any:
        if isinstance(self.tokenizer, Encoding):
            return self.tokenizer._core
        return self.tokenizer._native

    @property
    def n_vocab(self) -> int:
        if isinstance(self.tokenizer, Encoding):
            return self.tokenizer.n_vocab
        return len(self.tokenizer)

    @property
    def token_dtype(self) -> np.dtype[Any]:
        """uint16 when every id fits in 16 bits, else uint32."""
        return np.dtype(np.uint16 if self.n_vocab <= 1 << 16 else np.uint32)

    def default_delimiter(self) -> int:
        """The token put before every document in a token stream, as llm.c's data scripts
        do: the BOS token where the tokenizer has one (Llama 3 style), else its EOS token."""
        tok = self.tokenizer
        if isinstance(tok, Encoding):
            return tok.eot_token
        for token_id in (tok.bos_token_id, tok.eos_token_id):
            if token_id is not None:
                return token_id
        for token in _DELIMITER_CANDIDATES:
            token_id = tok.token_to_id(token)
            if token_id is not None:
                return token_id
        raise ValueError(
            "the tokenizer names no BOS or EOS token; give the document delimiter explicitly"
        )

    def delimiter(self, value: int | str | None) -> int:
        """`value` (a token id, or a token's text) as an id; None gives the default."""
        if value is None:
            return self.default_delimiter()
        if isinstance(value, str) and not value.isdigit():
            tok = self.tokenizer
            token_id = (
                tok._special_tokens.get(value)
                if isinstance(tok, Encoding)
                else tok.token_to_id(value)
            )
            if token_id is None:
                raise ValueError(f"delimiter {value!r} is not a token of this tokenizer")
            return token_id
        token_id = int(value)
        if not 0 <= token_id < self.n_vocab:
            raise ValueError(f"delimiter id {token_id} is outside the vocabulary")
        return token_id

    def encode_docs(self, chunk: Any) -> tuple[np.ndarray, np.ndarray]:
        """The ids of a `DocChunk`'s documents: flat uint32 ids and int64 offsets (n + 1)."""
        ids, offsets = _batok.encode_chunk(
            self.native, chunk, self.add_special_tokens, self.num_threads
        )
        return self._arrays(ids, offsets)

    def encode_arrow(self, strings: Any) -> tuple[np.ndarray, np.ndarray]:
        """The ids of an Arrow string array with no nulls, as `encode_docs` gives them."""
        import pyarrow as pa

        if pa.types.is_string_view(strings.type):
            strings = strings.cast(pa.large_string())
        wide = pa.types.is_large_string(strings.type)
        _, offsets, data = strings.buffers()
        if data is None:  # every string is empty
            data = pa.py_buffer(b"")
        ids, offs = _batok.encode_arrow_strings(
            self.native,
            memoryview(offsets).cast("B"),
            memoryview(data).cast("B"),
            wide,
            strings.offset,
            len(strings),
            self.add_special_tokens,
            self.num_threads,
        )
        return self._arrays(ids, offs)

    def _arrays(self, ids: bytes, offsets: bytes) -> tuple[np.ndarray, np.ndarray]:
        flat = np.frombuffer(ids, dtype="<u4").astype(np.uint32, copy=False)
        offs = np.frombuffer(offsets, dtype="<i8").astype(np.int64, copy=False)
        return flat, offs
