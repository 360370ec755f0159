"""What the output writers share: the writer interface and atomic file creation."""

from __future__ import annotations

import os
from typing import IO, Any, Protocol

from .inputs import TokenChunk


class Writer(Protocol):
    """Takes token chunks in input order; `close` finishes the files and returns their names
    (relative to the output directory)."""

    def write(self, chunk: TokenChunk) -> None: ...

    def close(self) -> list[str]: ...

    def abort(self) -> None: ...


class AtomicFile:
    """A file written under a temporary name and renamed to `path` only once complete, so no
    partial file ever has its final name."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
        self.file: IO[bytes] = open(self.tmp, "wb")  # noqa: SIM115 (closed by commit/abort)

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.file.close()
        try:
            os.remove(self.tmp)
        except FileNotFoundError:
            pass


def check_fits(ids: Any, dtype: Any) -> None:
    """Raises if an id does not fit the output's token type (a vocabulary larger than it
    said)."""
    import numpy as np

    if len(ids) and dtype == np.uint16 and int(ids.max()) > 0xFFFF:
        raise ValueError("a token id does not fit in 16 bits: the vocabulary is larger than said")
