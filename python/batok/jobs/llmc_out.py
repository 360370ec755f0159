"""llm.c token shards (`dev/data/data_common.py`'s `write_datafile`): a header of 256 int32
(magic, version, token count, zeros), then the tokens; every document is preceded by one
delimiter token, and the stream is cut into shards of `shard_size` tokens (the last holds the
rest), as llm.c's fineweb script does."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from .inputs import TokenChunk
from .journal import Progress
from .outputs import AtomicFile, check_fits

#: (magic, version) by token type: GPT-2 style shards hold uint16, Llama 3 style uint32.
HEADERS = {np.dtype(np.uint16): (20240520, 1), np.dtype(np.uint32): (20240801, 7)}
HEADER_INTS = 256


def header(dtype: np.dtype, n_tokens: int) -> bytes:
    magic, version = HEADERS[np.dtype(dtype)]
    h = np.zeros(HEADER_INTS, dtype="<i4")
    h[0], h[1], h[2] = magic, version, n_tokens
    return h.tobytes()


class LlmcWriter:
    """Shards cut the stream anywhere, so a resumed job (`done`) may start inside a document:
    the first `done.partial` tokens of that document's stream are already in the last shard."""

    def __init__(
        self,
        directory: str,
        dtype: np.dtype,
        delimiter: int,
        shard_size: int,
        prefix: str,
        done: Progress | None = None,
        on_shard: Callable[[Progress], None] | None = None,
    ) -> None:
        if not 0 < shard_size < 2**31:
            raise ValueError("llm.c shards hold between 1 and 2**31 - 1 tokens")
        self.directory = directory
        self.dtype = np.dtype(dtype)
        self.delimiter = delimiter
        self.shard_size = shard_size
        self.prefix = prefix
        done = done or Progress()
        self.written: list[str] = list(done.shards)
        self.documents, self.tokens, self.skip = done.documents, done.tokens, done.partial
        self.on_shard = on_shard
        self.file: AtomicFile | None = None
        self.in_shard = 0

    def _open(self) -> AtomicFile:
        if self.file is None:
            name = f"{self.prefix}_{len(self.written):06d}.bin"
            self.file = AtomicFile(os.path.join(self.directory, name))
            self.file.file.write(header(self.dtype, 0))  # the count is filled in at the end
            self.in_shard = 0
        return self.file

    def _finish(self, chunk: TokenChunk | None = None, at: int = 0) -> None:
        """Commits the open shard, which ends `at` tokens into `chunk`'s stream (or after every
        chunk written, when `chunk` is None)."""
        if self.file is None:
            return
        self.file.file.seek(0)
        self.file.file.write(header(self.dtype, self.in_shard))
        self.file.commit()
        self.written.append(os.path.basename(self.file.path))
        self.file = None
        if self.on_shard is not None:
            self.on_shard(self._progress(chunk, at))

    def _progress(self, chunk: TokenChunk | None, at: int) -> Progress:
        if chunk is None:
            return Progress(list(self.written), self.documents, self.tokens)
        # Document i's stream (its delimiter, then its ids) spans [offsets[i] + i,
        # offsets[i + 1] + i + 1) of the chunk's stream.
        n = len(chunk)
        ends = chunk.offsets[1:] + np.arange(1, n + 1)
        complete = int(np.searchsorted(ends, at, side="right"))
        partial = at - int(chunk.offsets[complete]) - complete if complete < n else 0
        return Progress(
            list(self.written),
            self.documents + complete,
            self.tokens + int(chunk.offsets[complete]),
            partial,
        )

    def write(self, chunk: TokenChunk) -> None:
        check_fits(chunk.ids, self.dtype)
        # The stream: each document's ids after one delimiter; a resumed job leaves out what the
        # finished shards already hold.
        stream = np.insert(chunk.ids.astype(self.dtype), chunk.offsets[:-1], self.delimiter)
        at, self.skip = self.skip, 0
        while at < len(stream):
            f = self._open()
            take = min(self.shard_size - self.in_shard, len(stream) - at)
            f.file.write(stream[at : at + take].astype(self.dtype.newbyteorder("<")).tobytes())
            self.in_shard += take
            at += take
            if self.in_shard == self.shard_size:
                self._finish(chunk, at)
        self.documents += len(chunk)
        self.tokens += len(chunk.ids)

    def close(self) -> list[str]:
        self._finish()
        return self.written

    def abort(self) -> None:
        if self.file is not None:
            self.file.abort()
            self.file = None
