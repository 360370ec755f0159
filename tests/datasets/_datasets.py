"""Helpers for dataset job tests: documents from the shared corpus, written at test time into
JSON lines, compressed, Parquet and text files, and the reference tokenizers."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The shared data beside the checkout, as in tests/conftest.py (which this module cannot
# import: pytest loads each conftest under the same module name).
SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared"
TOKENIZERS_DIR = SHARED_DIR / "tokenizers"
CORPUS_DIR = SHARED_DIR / "corpus"

LLAMA = TOKENIZERS_DIR / "llama-3.2" / "tokenizer.json"
GPT2 = TOKENIZERS_DIR / "gpt2" / "tokenizer.json"


@functools.cache
def corpus_docs() -> tuple[str, ...]:
    """Paragraphs of every corpus file (code, prose, many scripts), at most 40 per file and
    4000 characters each: about 0.4 MB, enough for many chunks yet quick to check."""
    docs: list[str] = []
    for path in sorted(CORPUS_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        docs += [p[:4000] for p in paragraphs[:40]]
    return tuple(docs)


def write_jsonl(path: Path, texts: Sequence[Any], field: str = "text") -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": i, field: t, "meta": {"text": "not this"}}) + "\n")
    return path


def write_parquet(path: Path, texts: Sequence[str | None], column: str = "text", **kw: Any) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": list(range(len(texts))), column: texts}), path, **kw)
    return path


@functools.cache
def hf_reference(path: Path) -> Any:
    import tokenizers

    return tokenizers.Tokenizer.from_file(str(path))


def hf_ids(path: Path, texts: Sequence[str], add_special_tokens: bool = False) -> list[list[int]]:
    return [list(x) for x in _hf_ids(path, tuple(texts), add_special_tokens)]


@functools.lru_cache(maxsize=16)
def _hf_ids(path: Path, texts: tuple[str, ...], add_special_tokens: bool) -> tuple[tuple[int, ...]]:
    encs = hf_reference(path).encode_batch(list(texts), add_special_tokens=add_special_tokens)
    return tuple(tuple(e.ids) for e in encs)


def parquet_ids(directory: Path) -> list[list[int]]:
    """`input_ids` of every Parquet file in `directory`, in file order, read by pyarrow."""
    import pyarrow.parquet as pq

    rows: list[list[int]] = []
    for f in sorted(directory.glob("*.parquet")):
        table = pq.read_table(f)
        ids = table.column("input_ids").to_pylist()
        assert table.column("n_tokens").to_pylist() == [len(x) for x in ids]
        rows += ids
    return rows
