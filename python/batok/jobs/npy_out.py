"""`tokens.npy` (every id, flat) and `offsets.npy` (int64, n + 1: document i's ids are
`tokens[offsets[i]:offsets[i + 1]]`), written as they come and loadable with
`numpy.load(path, mmap_mode="r")`."""

from __future__ import annotations

import os

import numpy as np

from .inputs import TokenChunk
from .outputs import AtomicFile, check_fits

# The header is written first with room for any length and rewritten once the length is
# known; a multiple of 64 bytes, as the .npy format asks.
_HEADER_BYTES = 128


def _header(dtype: np.dtype, length: int) -> bytes:
    text = f"{{'descr': '{dtype.str}', 'fortran_order': False, 'shape': ({length},), }}"
    prefix = b"\x93NUMPY\x01\x00"
    pad = _HEADER_BYTES - len(prefix) - 2 - len(text) - 1
    body = (text + " " * pad + "\n").encode("latin1")
    return prefix + len(body).to_bytes(2, "little") + body


class _Array:
    def __init__(self, path: str, dtype: np.dtype) -> None:
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.file = AtomicFile(path)
        self.file.file.write(_header(self.dtype, 0))
        self.length = 0

    def append(self, values: np.ndarray) -> None:
        # The array's own memory, not a bytes copy of it.
        self.file.file.write(np.ascontiguousarray(values, dtype=self.dtype).data)
        self.length += len(values)

    def commit(self) -> None:
        self.file.file.seek(0)
        self.file.file.write(_header(self.dtype, self.length))
        self.file.commit()


class NpyWriter:
    def __init__(self, directory: str, dtype: np.dtype) -> None:
        self.dtype = np.dtype(dtype)
        self.tokens = _Array(os.path.join(directory, "tokens.npy"), self.dtype)
        self.offsets = _Array(os.path.join(directory, "offsets.npy"), np.dtype(np.int64))
        self.offsets.append(np.zeros(1, dtype=np.int64))

    def write(self, chunk: TokenChunk) -> None:
        check_fits(chunk.ids, self.dtype)
        self.offsets.append(chunk.offsets[1:] + self.tokens.length)
        self.tokens.append(chunk.ids)

    def close(self) -> list[str]:
        self.tokens.commit()
        self.offsets.commit()
        return ["tokens.npy", "offsets.npy"]

    def abort(self) -> None:
        self.tokens.file.abort()
        self.offsets.file.abort()
