"""Parquet shards: one row per document, in input order, with `input_ids` (list of uint16 or
uint32) and `n_tokens`; a new file starts once a file holds `shard_size` tokens."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .inputs import TokenChunk
from .outputs import AtomicFile, check_fits
from .parquet_in import require_pyarrow


def token_table(ids: np.ndarray, offsets: np.ndarray, dtype: np.dtype) -> Any:
    """`input_ids` and `n_tokens` as an Arrow table, the ids not copied where `dtype` is theirs."""
    pa = require_pyarrow("Parquet output")
    values = pa.array(ids.astype(dtype, copy=False))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), values)
    lists = lists.cast(pa.list_(values.type)) if offsets[-1] < 2**31 else lists
    return pa.table({"input_ids": lists, "n_tokens": pa.array(np.diff(offsets))})


class ParquetWriter:
    def __init__(self, directory: str, dtype: np.dtype, shard_size: int, prefix: str) -> None:
        require_pyarrow("Parquet output")
        self.directory = directory
        self.dtype = np.dtype(dtype)
        self.shard_size = shard_size
        self.prefix = prefix
        self.written: list[str] = []
        self.file: AtomicFile | None = None
        self.writer: Any = None
        self.in_shard = 0

    def write(self, chunk: TokenChunk) -> None:
        import pyarrow.parquet as pq

        check_fits(chunk.ids, self.dtype)
        table = token_table(chunk.ids, chunk.offsets, self.dtype)
        if self.writer is None:
            name = f"{self.prefix}_{len(self.written):06d}.parquet"
            self.file = AtomicFile(os.path.join(self.directory, name))
            self.writer = pq.ParquetWriter(self.file.file, table.schema)
            self.in_shard = 0
        self.writer.write_table(table)
        self.in_shard += len(chunk.ids)
        if self.in_shard >= self.shard_size:
            self._finish()

    def _finish(self) -> None:
        if self.writer is None or self.file is None:
            return
        self.writer.close()
        self.file.commit()
        self.written.append(os.path.basename(self.file.path))
        self.writer = self.file = None

    def close(self) -> list[str]:
        self._finish()
        return self.written

    def abort(self) -> None:
        if self.writer is not None:
            # Closed before its file is removed, or it would write a footer into a closed file.
            self.writer.close()
        if self.file is not None:
            self.file.abort()
            self.writer = self.file = None
