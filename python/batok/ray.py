"""Ray Data: batok as a `map_batches` stage, Arrow in and Arrow out.

```
import ray, batok.ray
ds = ray.data.read_parquet("s3://bucket/corpus/")
ds = ds.map_batches(
    batok.ray.Tokenize,
    fn_constructor_kwargs={"tokenizer": "meta-llama/Llama-3.2-1B", "column": "text"},
    concurrency=8,
    batch_format="pyarrow",
)
ds.write_parquet("s3://bucket/tokens/")
```

Each worker loads the tokenizer once (the name must resolve on every node: a bundled
encoding, a hub repo id, or a path present on all of them) and encodes each batch's Arrow
strings in Rust on the CPUs Ray gave it. `tokenize_on_ray` runs that pipeline for
`batok tokenize --ray ADDRESS`. Needs `pip install batok[ray]`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ._batok import DatasetError
from .jobs.engine import Engine, TokenizerLike
from .jobs.parquet_out import token_table


def _assigned_cpus() -> int | None:
    """The CPUs Ray gave this worker, so that workers on one machine do not each take all
    cores; None outside Ray."""
    try:
        import ray

        if not ray.is_initialized():
            return None
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
    except Exception:  # not in a Ray worker, or an older Ray without the call
        return None
    return max(1, int(cpus)) if cpus else None


class Tokenize:
    """A callable class for `Dataset.map_batches(..., batch_format="pyarrow")`: adds
    `output_column` (list of uint16/uint32 ids, one per row) and, when `lengths_column` is
    given, the token counts. Rows keep their order; a null text raises DatasetError."""

    def __init__(
        self,
        tokenizer: TokenizerLike,
        column: str = "text",
        output_column: str = "input_ids",
        lengths_column: str | None = None,
        add_special_tokens: bool = False,
        num_threads: int | None = None,
    ) -> None:
        if num_threads is None and "BATOK_NUM_THREADS" not in os.environ:
            num_threads = _assigned_cpus()
        self.engine = Engine.create(tokenizer, add_special_tokens, num_threads)
        self.column = column
        self.output_column = output_column
        self.lengths_column = lengths_column

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        if isinstance(batch, pa.RecordBatch):
            batch = pa.Table.from_batches([batch])
        if self.column not in batch.column_names:
            raise DatasetError(f"no column {self.column!r} (columns: {batch.column_names})")
        strings = batch.column(self.column).combine_chunks()
        if not (
            pa.types.is_string(strings.type)
            or pa.types.is_large_string(strings.type)
            or pa.types.is_string_view(strings.type)
        ):
            raise DatasetError(f"column {self.column!r} is {strings.type}, not strings")
        if strings.null_count:
            raise DatasetError(f"column {self.column!r} holds {strings.null_count} nulls")
        ids, offsets = self.engine.encode_arrow(strings)
        tokens = token_table(ids, offsets, self.engine.token_dtype)
        batch = batch.append_column(self.output_column, tokens.column("input_ids"))
        if self.lengths_column is not None:
            batch = batch.append_column(self.lengths_column, tokens.column("n_tokens"))
        return batch


class _TextDocuments:
    """Whole text files (`read_binary_files`' `bytes` column) to a `text` column: one row per
    file, or one per piece between separators, as the local job splits them (a piece after a
    final separator is not a document)."""

    def __init__(self, separator: str | None) -> None:
        self.separator = separator

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        texts: list[str] = []
        for i, raw in enumerate(batch.column("bytes").to_pylist()):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DatasetError(f"text file {i} of the batch is not UTF-8: {e}") from e
            if not self.separator:
                texts.append(text)
                continue
            pieces = text.split(self.separator)
            if pieces[-1] == "":  # a file that ends with a separator (or is empty)
                pieces.pop()
            texts += pieces
        return pa.table({"text": pa.array(texts, type=pa.large_string())})


def tokenize_on_ray(
    inputs: Sequence[str | os.PathLike[str]],
    tokenizer: str,
    output: str | os.PathLike[str],
    *,
    address: str | None = None,
    column: str = "text",
    field: str = "text",
    separator: str | None = None,
    add_special_tokens: bool = False,
    concurrency: int | None = None,
) -> dict[str, Any]:
    """`inputs` tokenized as a Ray Data pipeline — read, `map_batches(Tokenize)`, write
    Parquet (`input_ids`, `n_tokens`) — on the cluster at `address` ("local" starts one
    here). Inputs are all of one kind: Parquet (text in `column`), JSON lines (text at
    `field`), or plain text files (one document per file, or one per piece between
    `separator`s, as the local job reads them). Rows keep their input order."""
    try:
        import ray
    except ImportError as err:
        raise ImportError("running on Ray needs `pip install batok[ray]`") from err
    from .jobs.inputs import expand, kind_of

    files = expand(inputs)
    kinds = {kind_of(f) for f in files}
    if len(kinds) != 1:
        raise ValueError("on Ray, inputs must be all Parquet, all JSON lines or all text files")
    if kinds == {"text"} and any(f.lower().endswith((".gz", ".zst")) for f in files):
        raise ValueError("on Ray, compressed text files are not supported; decompress them")
    if not ray.is_initialized():
        ray.init(address=None if address in (None, "local") else address)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    if kinds == {"parquet"}:
        ds = ray.data.read_parquet(files).select_columns([column])
        text = column
    elif kinds == {"jsonl"}:
        ds = ray.data.read_json(files, lines=True).select_columns([field])
        text = field
    else:
        ds = ray.data.read_binary_files(files).map_batches(
            _TextDocuments, fn_constructor_kwargs={"separator": separator}, batch_format="pyarrow"
        )
        text = "text"
    ds = ds.map_batches(
        Tokenize,
        fn_constructor_kwargs={
            "tokenizer": os.fspath(tokenizer),
            "column": text,
            "lengths_column": "n_tokens",
            "add_special_tokens": add_special_tokens,
        },
        # Each worker holds a CPU; leave one for the read and write tasks, which otherwise
        # wait for a CPU forever on a small cluster.
        concurrency=concurrency or max(1, int(ray.cluster_resources().get("CPU", 2)) - 1),
        batch_format="pyarrow",
    ).select_columns(["input_ids", "n_tokens"])
    out = os.fspath(output)
    ds.write_parquet(out)
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    written = pads.dataset(out, format="parquet")
    table = written.to_table(columns=["n_tokens"])
    return {
        "format": "parquet",
        "inputs": files,
        "outputs": sorted(os.path.basename(f) for f in written.files),
        "documents": table.num_rows,
        "tokens": int(pc.sum(table.column("n_tokens")).as_py() or 0),
        "skipped": 0,
        "seconds": None,
    }
