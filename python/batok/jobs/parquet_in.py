"""Parquet inputs, read with pyarrow one record batch at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from .._batok import DatasetError
from .inputs import Options, Skipped


def require_pyarrow(what: str) -> Any:
    try:
        import pyarrow as pa
    except ImportError as err:
        raise ImportError(
            f"{what} needs pyarrow; install it with `pip install batok[datasets]`"
        ) from err
    return pa


def import_in_background() -> None:
    """Start importing pyarrow's Parquet module on a thread of its own, so that it overlaps
    with loading the tokenizer (which runs without the GIL) rather than following it: on a
    short job the import is a tenth of the time. A failed import is left for the caller's
    own import to report."""

    def load() -> None:
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            pass

    threading.Thread(target=load, name="batok-import-pyarrow", daemon=True).start()


def _batch_rows(pf: Any, chunk_bytes: int) -> int:
    """Rows per batch for about `chunk_bytes` of text, from the file's own statistics."""
    meta = pf.metadata
    if meta.num_rows == 0:
        return 1
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    per_row = max(1, size // meta.num_rows)
    return max(1, min(meta.num_rows, chunk_bytes // per_row))


def read_parquet(path: str, options: Options, skipped: Skipped, chunk_bytes: int) -> Iterator[Any]:
    """The strings of `options.column`, one Arrow array with no nulls per record batch of about
    `chunk_bytes`."""
    pa = require_pyarrow("reading Parquet files")
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as e:
        if not options.skip_bad:
            raise OSError(f"{path}: cannot read: {e}") from e
        skipped.add(1, f"{path}: cannot read: {e}")
        return
    schema = pf.schema_arrow
    if options.column not in schema.names:
        raise DatasetError(f"{path}: no column {options.column!r} (columns: {schema.names})")
    col_type = schema.field(options.column).type
    if not (
        pa.types.is_string(col_type)
        or pa.types.is_large_string(col_type)
        or pa.types.is_string_view(col_type)
    ):
        raise DatasetError(f"{path}: column {options.column!r} is {col_type}, not strings")
    row = 0
    for batch in pf.iter_batches(batch_size=_batch_rows(pf, chunk_bytes), columns=[options.column]):
        strings = batch.column(0)
        if strings.null_count:
            first = row + pc.index(pc.is_null(strings), True).as_py()
            message = f"{path}: row index {first}: column {options.column!r} is null, not a string"
            if not options.skip_bad:
                raise DatasetError(message)
            skipped.add(strings.null_count, message)
            strings = strings.drop_null()
        row += len(batch)
        if len(strings):
            yield strings
