"""`tokenize_files`: a dataset job that wires inputs -> engine -> one output writer, and
records what it did in `manifest.json`."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from .engine import Engine, TokenizerLike, describe
from .formats import DEFAULT_SHARD_SIZE, FORMATS, PARQUET_COMPRESSIONS
from .inputs import CHUNK_BYTES, Options, PassOver, Skipped, expand, kind_of, read_tokens
from .journal import MANIFEST, Journal, Progress, identity
from .outputs import AtomicFile, Writer
from .parquet_in import import_in_background

# What an interrupted job leaves behind: its files under their temporary names.
_LEFTOVER = re.compile(
    r"\.(shard_\d+\.(parquet|bin)|tokens\.npy|offsets\.npy|manifest\.json|\.batok-job\.json)"
    r"\.tmp"
)


def _writer(
    fmt: str,
    output: str,
    engine: Engine,
    shard_size: int,
    delimiter: int | str | None,
    prefix: str,
    done: Progress,
    on_shard: Callable[[Progress], None],
    compression: str,
) -> Writer:
    dtype = engine.token_dtype
    if fmt == "parquet":
        from .parquet_out import ParquetWriter

        return ParquetWriter(output, dtype, shard_size, prefix, done, on_shard, compression)
    if fmt == "llmc":
        from .llmc_out import LlmcWriter

        delimiter_id = engine.delimiter(delimiter)
        return LlmcWriter(output, dtype, delimiter_id, shard_size, prefix, done, on_shard)
    if fmt == "npy":
        from .npy_out import NpyWriter

        return NpyWriter(output, dtype)
    raise ValueError(f"unknown output format {fmt!r} (expected one of {', '.join(FORMATS)})")


class _Progress:
    """A progress bar in input MB/s and tokens/s (only when asked for)."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc="tokenizing")
        self.start = time.perf_counter()
        self.tokens = 0

    def update(self, nbytes: int, tokens: int) -> None:
        self.tokens += tokens
        if self.bar is not None:
            elapsed = max(time.perf_counter() - self.start, 1e-9)
            self.bar.set_postfix_str(f"{self.tokens / elapsed / 1e6:.2f}M tok/s", refresh=False)
            self.bar.update(nbytes)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def tokenize_files(
    inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    tokenizer: TokenizerLike,
    output: str | os.PathLike[str],
    *,
    format: str = "parquet",
    field: str = "text",
    column: str = "text",
    separator: str | None = None,
    add_special_tokens: bool = False,
    delimiter: int | str | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE,
    num_threads: int | None = None,
    on_error: str = "raise",
    progress: bool = False,
    chunk_bytes: int = CHUNK_BYTES,
    resume: bool = False,
    compression: str = "snappy",
) -> dict[str, Any]:
    """Tokenizes every document of `inputs` into training-ready files under `output`.

    `inputs`: files, directories (every file under them, sorted) and glob patterns (matches
    sorted), in the order given. `.jsonl`/`.json`/`.ndjson` files (optionally `.gz` or `.zst`)
    hold one JSON object per line with the text at `field`; `.parquet` files the text in
    `column`; any other file is plain text, one document per file, or one per piece between
    `separator`s.

    `tokenizer`: a tiktoken encoding name (`cl100k_base`), a tokenizer.json file, a
    directory or hub repo id (as `Tokenizer.from_pretrained` takes), or a loaded `Tokenizer`
    or `Encoding`. tiktoken encodings read special-token text in documents as plain text.

    `format`: "parquet" (`input_ids` and `n_tokens`, one row per document, in input order),
    "llmc" (llm.c token shards: every document preceded by `delimiter`, by default the BOS
    token, else EOS / end-of-text) or "npy" (`tokens.npy` and `offsets.npy`). Tokens are
    uint16 when the vocabulary fits in 16 bits, else uint32.

    `compression`: Parquet output's codec, one of snappy (the default), zstd, lz4, gzip or
    none. Token ids compress by about 40 % with snappy; uncompressed files write faster.

    `on_error`: "raise" stops at the first bad record (invalid JSON, a missing field, a text
    that is not a string, an unreadable file) with an error naming its file and line; "skip"
    leaves such records out and counts them in the manifest.

    `resume`: go on with an interrupted job of the same inputs, tokenizer and options in
    `output`: the shards it finished are kept and their documents are not encoded again; the
    result is the same as an uninterrupted run's. A finished job is not run again. npy output
    is one pair of files, not shards: it starts over.

    Returns the manifest, also written to `output/manifest.json`.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if format not in FORMATS:
        raise ValueError(f"unknown output format {format!r} (expected one of {', '.join(FORMATS)})")
    if compression not in PARQUET_COMPRESSIONS:
        raise ValueError(
            f"unknown compression {compression!r} "
            f"(expected one of {', '.join(PARQUET_COMPRESSIONS)})"
        )
    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    files = expand(inputs)
    if format == "parquet" or any(kind_of(f) == "parquet" for f in files):
        import_in_background()
    engine = Engine.create(tokenizer, add_special_tokens, num_threads)
    out = os.fspath(output)
    os.makedirs(out, exist_ok=True)
    _remove_leftovers(out)
    tokenizer_info = describe(engine.tokenizer, tokenizer)
    job = identity(
        files,
        tokenizer_info,
        {
            "format": format,
            "field": field,
            "column": column,
            "separator": separator,
            "add_special_tokens": engine.add_special_tokens,
            "delimiter": engine.delimiter(delimiter) if format == "llmc" else None,
            "compression": compression if format == "parquet" else None,
            "shard_size": shard_size,
            "on_error": on_error,
            "chunk_bytes": chunk_bytes,
        },
    )
    journal = Journal(out, job)
    done = Progress()
    if resume:
        finished = journal.finished_manifest()
        if finished is not None:
            return finished
        if format != "npy":
            done = journal.load() or done
    else:
        # A journal left by an earlier job no longer describes what is in the directory.
        journal.remove()
    options = Options(field, column, separator, on_error == "skip")
    skipped = Skipped()
    writer = _writer(
        format, out, engine, shard_size, delimiter, "shard", done, journal.save, compression
    )
    bar = _Progress(progress)
    documents, tokens, nbytes = done.documents, done.tokens, 0
    start = time.perf_counter()
    try:
        chunks = read_tokens(files, engine, options, skipped, chunk_bytes, PassOver(done.documents))
        for chunk in chunks:
            if len(chunk):
                writer.write(chunk)
            documents += len(chunk)
            tokens += len(chunk.ids)
            nbytes += chunk.nbytes
            bar.update(chunk.nbytes, len(chunk.ids))
        written = writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    from .. import __version__

    manifest: dict[str, Any] = {
        "batok_version": __version__,
        "tokenizer": tokenizer_info,
        "format": format,
        "token_dtype": str(engine.token_dtype),
        "add_special_tokens": engine.add_special_tokens,
        "inputs": files,
        "outputs": written,
        "documents": documents,
        "tokens": tokens,
        "input_bytes": nbytes,
        "skipped": skipped.count,
        "first_skipped": skipped.first,
        "seconds": round(time.perf_counter() - start, 3),
        "resumed_after": {"shards": len(done.shards), "documents": done.documents}
        if done.shards
        else None,
        "job": job,
    }
    if format == "llmc":
        manifest["delimiter"] = engine.delimiter(delimiter)
        manifest["shard_size"] = shard_size
    if format == "parquet":
        manifest["compression"] = compression
    manifest_file = AtomicFile(os.path.join(out, MANIFEST))
    manifest_file.file.write(json.dumps(manifest, indent=2).encode())
    manifest_file.commit()
    journal.remove()
    return manifest


def _remove_leftovers(directory: str) -> None:
    for name in os.listdir(directory):
        if _LEFTOVER.fullmatch(name):
            try:
                os.remove(os.path.join(directory, name))
            except FileNotFoundError:
                pass
