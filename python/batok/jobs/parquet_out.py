"""Parquet shards: one row per document, in input order, with `input_ids` (list of uint16 or
uint32) and `n_tokens`; a new file starts once a file holds `shard_size` tokens."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from .inputs import TokenChunk
from .journal import Progress
from .outputs import AtomicFile, check_fits
from .parquet_in import require_pyarrow


def token_table(ids: np.ndarray, offsets: np.ndarray, dtype: np.dtype) -> Any:
    """`input_ids` and `n_tokens` as an Arrow table, the ids not copied where `dtype` is theirs.

    The arrays are made from the numpy buffers directly: `pa.array(ndarray)` first asks whether
    its argument is a pandas object, which imports pandas, longer than a whole job's writing."""
    pa = require_pyarrow("Parquet output")
    values = _arrow(pa, ids.astype(dtype, copy=False))
    # 32-bit offsets unless the ids outgrow them. Built directly rather than cast from 64-bit
    # ones: a cast imports pyarrow.compute (30-40 ms, some 5 % of a 50 MB job on two cores).
    if offsets[-1] < 2**31:
        lists = pa.ListArray.from_arrays(_arrow(pa, offsets.astype(np.int32)), values)
    else:
        lists = pa.LargeListArray.from_arrays(
            _arrow(pa, offsets.astype(np.int64, copy=False)), values
        )
    n_tokens = _arrow(pa, np.diff(offsets).astype(np.int64, copy=False))
    return pa.Table.from_arrays([lists, n_tokens], names=["input_ids", "n_tokens"])


def _arrow(pa: Any, values: np.ndarray) -> Any:
    """A 1-D numpy array of a fixed-width integer type as an Arrow array over the same memory
    (which the Arrow buffer keeps alive)."""
    values = np.ascontiguousarray(values)
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


#: Dictionary encoding is off: token ids have too many distinct values for a dictionary page,
#: so the writer built one per column chunk only to fall back to plain encoding (a quarter of
#: the writing time, for a file about 10 % smaller).
USE_DICTIONARY = False

#: Values the writer takes per step (Arrow's default is 1024). Each step computes the list's
#: repetition and definition levels and their histograms; in steps of 64k the 13.3M ids of the
#: jobs bench took 240 ms to write instead of 266 (snappy) and 133 instead of 157 (none). A
#: data page may then pass its 1 MB target by up to one step (256 KB of uint32 ids).
WRITE_BATCH_SIZE = 1 << 16


class ParquetWriter:
    """Shards end at chunk ends, so a resumed job (`done`) starts at a chunk boundary.

    Arrow encodes and compresses a chunk without the GIL, on a thread of its own here, while
    the engine encodes the next chunk; at most one chunk waits to be written."""

    def __init__(
        self,
        directory: str,
        dtype: np.dtype,
        shard_size: int,
        prefix: str,
        done: Progress | None = None,
        on_shard: Callable[[Progress], None] | None = None,
        compression: str = "snappy",
    ) -> None:
        require_pyarrow("Parquet output")
        self.compression = compression
        self.directory = directory
        self.dtype = np.dtype(dtype)
        self.shard_size = shard_size
        self.prefix = prefix
        done = done or Progress()
        self.written: list[str] = list(done.shards)
        self.documents, self.tokens = done.documents, done.tokens
        self.on_shard = on_shard
        self.file: AtomicFile | None = None
        self.writer: Any = None
        self.in_shard = 0
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batok-parquet")
        self.pending: Future[None] | None = None

    def write(self, chunk: TokenChunk) -> None:
        import pyarrow.parquet as pq

        check_fits(chunk.ids, self.dtype)
        table = token_table(chunk.ids, chunk.offsets, self.dtype)
        self._wait()
        if self.writer is None:
            name = f"{self.prefix}_{len(self.written):06d}.parquet"
            self.file = AtomicFile(os.path.join(self.directory, name))
            self.writer = pq.ParquetWriter(
                self.file.file,
                table.schema,
                use_dictionary=USE_DICTIONARY,
                compression=self.compression,
                write_batch_size=WRITE_BATCH_SIZE,
            )
            self.in_shard = 0
        self.pending = self.thread.submit(self.writer.write_table, table)
        self.in_shard += len(chunk.ids)
        self.documents += len(chunk)
        self.tokens += len(chunk.ids)
        if self.in_shard >= self.shard_size:
            self._finish()

    def _wait(self) -> None:
        """Until the chunk being written is written (its error, if any, raised here)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def _finish(self) -> None:
        self._wait()
        if self.writer is None or self.file is None:
            return
        self.writer.close()
        self.file.commit()
        self.written.append(os.path.basename(self.file.path))
        self.writer = self.file = None
        if self.on_shard is not None:
            self.on_shard(Progress(list(self.written), self.documents, self.tokens))

    def close(self) -> list[str]:
        self._finish()
        self.thread.shutdown()
        return self.written

    def abort(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.exception()  # finished, whatever its outcome, before the file goes
        self.thread.shutdown()
        if self.writer is not None:
            # Closed before its file is removed, or it would write a footer into a closed file.
            self.writer.close()
        if self.file is not None:
            self.file.abort()
            self.writer = self.file = None
