"""`tokenize_files`: every input format gives the ids the reference tokenizers give, one row per
document, in input order."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _datasets import GPT2, LLAMA, hf_ids, parquet_ids, write_jsonl, write_parquet

import batok


def test_jsonl_to_parquet_matches_tokenizers(tmp_path: Path, docs: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "docs.jsonl", docs)
    m = batok.tokenize_files(src, str(LLAMA), tmp_path / "out")
    assert parquet_ids(tmp_path / "out") == hf_ids(LLAMA, docs)
    assert m["documents"] == len(docs)
    assert m["tokens"] == sum(map(len, hf_ids(LLAMA, docs)))


def test_parquet_ids_equal_batok_encode_batch(tmp_path: Path, docs: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "docs.jsonl", docs)
    batok.tokenize_files(src, str(LLAMA), tmp_path / "out")
    tok = batok.Tokenizer.from_file(LLAMA)
    assert parquet_ids(tmp_path / "out") == tok.encode_batch(list(docs), add_special_tokens=False)


@pytest.mark.parametrize("compression", ["none", "zstd", "snappy"])
def test_parquet_compression_is_the_files_codec(
    tmp_path: Path, docs: tuple[str, ...], compression: str
) -> None:
    src = write_jsonl(tmp_path / "docs.jsonl", docs)
    out = tmp_path / "out"
    m = batok.tokenize_files(
        src, str(LLAMA), out, compression=compression, chunk_bytes=2000, shard_size=4000
    )
    assert parquet_ids(out) == hf_ids(LLAMA, docs)
    assert m["compression"] == compression
    for shard in out.glob("*.parquet"):
        column = pq.ParquetFile(shard).metadata.row_group(0).column(0)
        assert column.compression == (
            "UNCOMPRESSED" if compression == "none" else compression.upper()
        )


def test_unknown_compression_is_refused(tmp_path: Path, docs: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "docs.jsonl", docs)
    with pytest.raises(ValueError, match="compression 'brotli9'.*snappy, zstd"):
        batok.tokenize_files(src, str(LLAMA), tmp_path / "out", compression="brotli9")


def test_a_failed_parquet_write_stops_the_job_and_leaves_no_shard(
    tmp_path: Path, docs: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks are written on a thread of their own: its error still ends the job."""
    src = write_jsonl(tmp_path / "docs.jsonl", docs)
    calls = 0
    original = pq.ParquetWriter.write_table

    def failing(self: Any, table: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("disk full")
        original(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", failing)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        batok.tokenize_files(src, str(LLAMA), out, chunk_bytes=2000)
    assert calls == 2
    assert not [p.name for p in out.iterdir() if "parquet" in p.name]


def test_small_chunks_keep_document_order(tmp_path: Path, docs: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "docs.jsonl", docs)
    batok.tokenize_files(src, str(LLAMA), tmp_path / "out", chunk_bytes=1000, shard_size=5000)
    assert len(list((tmp_path / "out").glob("*.parquet"))) > 1
    assert parquet_ids(tmp_path / "out") == hf_ids(LLAMA, docs)


def test_compressed_jsonl_reads_as_plain(tmp_path: Path, docs: tuple[str, ...]) -> None:
    plain = write_jsonl(tmp_path / "d.jsonl", docs).read_bytes()
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(plain))
    with pa.CompressedOutputStream(str(tmp_path / "b.jsonl.zst"), "zstd") as f:
        f.write(plain)
    out = tmp_path / "out"
    batok.tokenize_files([tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.zst"], str(LLAMA), out)
    assert parquet_ids(out) == hf_ids(LLAMA, docs) * 2


def test_parquet_input_matches_tokenizers(tmp_path: Path, docs: tuple[str, ...]) -> None:
    # Small row groups, so that batches start at an offset into the file's arrays.
    src = write_parquet(tmp_path / "d.parquet", list(docs), column="body", row_group_size=7)
    batok.tokenize_files(src, str(LLAMA), tmp_path / "out", column="body", chunk_bytes=5000)
    assert parquet_ids(tmp_path / "out") == hf_ids(LLAMA, docs)


def test_parquet_large_string_column(tmp_path: Path, docs: tuple[str, ...]) -> None:
    table = pa.table({"text": pa.array(list(docs), type=pa.large_string())})
    pq.write_table(table, tmp_path / "d.parquet")
    batok.tokenize_files(tmp_path / "d.parquet", str(GPT2), tmp_path / "out")
    assert parquet_ids(tmp_path / "out") == hf_ids(GPT2, docs)


def test_text_files_are_one_document_each(tmp_path: Path, docs: tuple[str, ...]) -> None:
    for i, d in enumerate(docs[:30]):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / f"{i:03d}.txt").write_text(d, encoding="utf-8")
    batok.tokenize_files(tmp_path / "in", str(LLAMA), tmp_path / "out")
    assert parquet_ids(tmp_path / "out") == hf_ids(LLAMA, docs[:30])


def test_text_split_on_separator(tmp_path: Path, docs: tuple[str, ...]) -> None:
    sep = "\n<|doc|>\n"
    (tmp_path / "all.txt").write_text(sep.join(docs) + sep, encoding="utf-8")
    batok.tokenize_files(tmp_path / "all.txt", str(LLAMA), tmp_path / "out", separator=sep)
    assert parquet_ids(tmp_path / "out") == hf_ids(LLAMA, docs)


def test_files_in_given_order_and_globs_sorted(tmp_path: Path, docs: tuple[str, ...]) -> None:
    parts = [docs[:10], docs[10:20], docs[20:30]]
    write_jsonl(tmp_path / "b.jsonl", parts[1])
    write_jsonl(tmp_path / "a.jsonl", parts[0])
    write_parquet(tmp_path / "z.parquet", list(parts[2]))
    inputs = [str(tmp_path / "z.parquet"), str(tmp_path / "*.jsonl")]
    batok.tokenize_files(inputs, str(LLAMA), tmp_path / "out")
    assert parquet_ids(tmp_path / "out") == hf_ids(LLAMA, parts[2] + parts[0] + parts[1])


def test_tiktoken_encoding_matches_tiktoken_encode_ordinary(
    tmp_path: Path, docs: tuple[str, ...], tiktoken_reference: Any
) -> None:
    texts = [*docs[:200], "a <|endoftext|> inside a document"]
    src = write_jsonl(tmp_path / "d.jsonl", texts)
    m = batok.tokenize_files(src, "cl100k_base", tmp_path / "out", format="npy")
    ref = tiktoken_reference("cl100k_base")
    tokens = np.load(tmp_path / "out" / "tokens.npy", mmap_mode="r")
    offsets = np.load(tmp_path / "out" / "offsets.npy", mmap_mode="r")
    got = [tokens[offsets[i] : offsets[i + 1]].tolist() for i in range(len(texts))]
    assert got == ref.encode_ordinary_batch(texts)
    assert m["token_dtype"] == "uint32" and tokens.dtype == np.uint32


def test_add_special_tokens_matches_tokenizers(tmp_path: Path, docs: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs[:50])
    batok.tokenize_files(src, str(LLAMA), tmp_path / "out", add_special_tokens=True)
    assert parquet_ids(tmp_path / "out") == hf_ids(LLAMA, docs[:50], add_special_tokens=True)


def test_small_vocab_writes_uint16(tmp_path: Path, docs: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs[:50])
    batok.tokenize_files(src, str(GPT2), tmp_path / "out")
    (f,) = (tmp_path / "out").glob("*.parquet")
    assert pq.read_schema(f).field("input_ids").type == pa.list_(pa.uint16())
    assert parquet_ids(tmp_path / "out") == hf_ids(GPT2, docs[:50])


def test_npy_offsets_index_documents(tmp_path: Path, docs: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    batok.tokenize_files(src, str(GPT2), tmp_path / "out", format="npy", chunk_bytes=4000)
    tokens = np.load(tmp_path / "out" / "tokens.npy", mmap_mode="r")
    offsets = np.load(tmp_path / "out" / "offsets.npy", mmap_mode="r")
    assert tokens.dtype == np.uint16 and offsets.dtype == np.int64
    assert len(offsets) == len(docs) + 1 and offsets[0] == 0
    got = [tokens[offsets[i] : offsets[i + 1]].tolist() for i in range(len(docs))]
    assert got == hf_ids(GPT2, docs)


def test_manifest_records_the_job(tmp_path: Path, docs: tuple[str, ...]) -> None:
    import json

    src = write_jsonl(tmp_path / "d.jsonl", docs[:5])
    batok.tokenize_files(src, str(LLAMA), tmp_path / "out")
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert m["inputs"] == [str(src)] and m["documents"] == 5 and m["format"] == "parquet"
    assert m["tokenizer"]["sha256"] and m["batok_version"] == batok.__version__
    assert not list((tmp_path / "out").glob(".*.tmp"))


@pytest.mark.parametrize("fmt", ["parquet", "npy", "llmc"])
def test_empty_documents_are_kept(tmp_path: Path, fmt: str) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ["", "hello", ""])
    m = batok.tokenize_files(src, str(GPT2), tmp_path / "out", format=fmt)
    assert m["documents"] == 3


def test_parquet_jobs_do_not_import_pandas(tmp_path: Path, docs: tuple[str, ...]) -> None:
    # pyarrow imports pandas for `pa.array(ndarray)` (to ask whether it is a Series), which
    # took longer than writing a 12 MB job's shards.
    import subprocess
    import sys

    src = write_parquet(tmp_path / "d.parquet", docs)
    code = (
        "import sys, batok; "
        f"batok.tokenize_files({str(src)!r}, {str(LLAMA)!r}, {str(tmp_path / 'out')!r}, "
        "format='parquet'); print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
