"""The inputs of a dataset job: paths, directories and globs expanded to files in order, each
file's format read from its name, and the documents of all of them as token chunks.

JSON lines and text files are read and parsed in Rust (`_batok.DocReader`); Parquet files are
read with pyarrow and their string buffers handed to Rust as they are. Either way no Python
object is made per document.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _batok
from .engine import Engine
from .prefetch import read_ahead

#: Input bytes per chunk: large enough to keep every thread busy, small enough to bound memory.
CHUNK_BYTES = 8 << 20

_COMPRESSED = (".gz", ".zst")
_JSONL = (".jsonl", ".json", ".ndjson")
_PARQUET = (".parquet",)


def kind_of(path: str) -> str:
    """ "jsonl", "parquet" or "text", from the file name (a .gz/.zst suffix aside)."""
    name = path.lower()
    for suffix in _COMPRESSED:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    else:
        if name.endswith(_PARQUET):
            return "parquet"
    if name.endswith(_JSONL):
        return "jsonl"
    if name.endswith(_PARQUET):
        raise ValueError(
            f"{path}: compressed Parquet files are not supported (Parquet compresses its own pages)"
        )
    return "text"


def expand(inputs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Files named by `inputs`, in the order given: a directory gives the files under it and a
    glob pattern its matches, each in sorted order. Hidden files in directories are left out."""
    files: list[str] = []
    for item in inputs:
        name = os.fspath(item)
        if os.path.isdir(name):
            found = []
            for root, dirs, names in os.walk(name):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found += [os.path.join(root, n) for n in names if not n.startswith(".")]
            files += sorted(found)
        elif glob.has_magic(name) and not os.path.exists(name):
            matches = sorted(m for m in glob.glob(name, recursive=True) if os.path.isfile(m))
            if not matches:
                raise FileNotFoundError(f"no files match {name!r}")
            files += matches
        elif os.path.isfile(name):
            files.append(name)
        else:
            raise FileNotFoundError(f"no such file or directory: {name!r}")
    if not files:
        raise FileNotFoundError("no input files")
    return files


@dataclass
class TokenChunk:
    """The ids of consecutive documents: flat uint32 `ids`, int64 `offsets` (n + 1), and the
    input bytes they came from."""

    ids: np.ndarray
    offsets: np.ndarray
    nbytes: int

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def passed_over(cls, nbytes: int) -> TokenChunk:
        """The place of a chunk whose documents a resumed job does not encode again."""
        return cls(np.zeros(0, dtype=np.uint32), np.zeros(1, dtype=np.int64), nbytes)

    def without_first(self, count: int) -> TokenChunk:
        """This chunk less its first `count` documents."""
        start = int(self.offsets[count])
        return TokenChunk(self.ids[start:], self.offsets[count:] - start, self.nbytes)


@dataclass
class Options:
    field: str = "text"
    column: str = "text"
    separator: str | None = None
    skip_bad: bool = False


@dataclass
class PassOver:
    """Documents at the start of the input that a resumed job does not encode again."""

    documents: int = 0

    def take(self, available: int) -> int:
        """How many of the next `available` documents to pass over."""
        n = min(self.documents, available)
        self.documents -= n
        return n


@dataclass
class Skipped:
    """Bad records left out, and what was wrong with the first."""

    count: int = 0
    first: str | None = None

    def add(self, count: int, first: str | None) -> None:
        if count and self.first is None:
            self.first = first
        self.count += count


def read_documents(
    files: Sequence[str], options: Options, skipped: Skipped, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[Any]:
    """The documents of `files`, in order, about `chunk_bytes` at a time: `DocChunk`s (JSON
    lines and text, read in Rust) or Arrow string arrays with no nulls (Parquet)."""
    i = 0
    while i < len(files):
        # Consecutive JSON lines and text files share one Rust reader.
        j = i
        while j < len(files) and kind_of(files[j]) != "parquet":
            j += 1
        if j > i:
            reader = _batok.DocReader(
                [(f, kind_of(f)) for f in files[i:j]],
                options.field,
                options.separator,
                options.skip_bad,
            )
            while (chunk := reader.read(chunk_bytes)) is not None:
                yield chunk
            skipped.add(reader.skipped, reader.first_skipped)
            i = j
        else:
            from .parquet_in import read_parquet

            yield from read_parquet(files[i], options, skipped, chunk_bytes)
            i += 1


def read_tokens(
    files: Sequence[str],
    engine: Engine,
    options: Options,
    skipped: Skipped,
    chunk_bytes: int = CHUNK_BYTES,
    pass_over: PassOver | None = None,
) -> Iterator[TokenChunk]:
    """Every document of `files`, in order, encoded chunk by chunk while the next chunk is
    read; the first `pass_over.documents` are read but not encoded (their chunks come out
    empty)."""
    pass_over = pass_over or PassOver()
    for chunk in read_ahead(read_documents(files, options, skipped, chunk_bytes)):
        yield encode(engine, chunk, pass_over)


def encode(engine: Engine, chunk: Any, pass_over: PassOver) -> TokenChunk:
    """A chunk of `read_documents` encoded, less the documents to pass over."""
    passed = pass_over.take(len(chunk))
    if passed == len(chunk):
        return TokenChunk.passed_over(chunk.nbytes)
    if isinstance(chunk, _batok.DocChunk):
        ids, offsets = engine.encode_docs(chunk)
        return TokenChunk(ids, offsets, chunk.nbytes).without_first(passed)
    ids, offsets = engine.encode_arrow(chunk.slice(passed))
    return TokenChunk(ids, offsets, chunk.nbytes)
