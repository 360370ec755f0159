"""Hugging Face `datasets` with batok: the job's Parquet shards load with `load_dataset`, and a
batok tokenizer goes into `Dataset.map(..., num_proc=2)` worker processes (it pickles)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _datasets import LLAMA, hf_ids, write_jsonl

import batok

datasets = pytest.importorskip("datasets")

LLAMA_DIR = LLAMA.parent


def test_load_dataset_reads_the_parquet_shards(tmp_path: Path, docs: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    out = tmp_path / "out"
    batok.tokenize_files(src, str(LLAMA), out, chunk_bytes=20_000, shard_size=20_000)
    assert len(list(out.glob("*.parquet"))) > 1
    ds = datasets.load_dataset(
        "parquet",
        data_files=sorted(str(p) for p in out.glob("*.parquet")),
        split="train",
        cache_dir=str(tmp_path / "cache"),
    )
    assert ds["input_ids"] == hf_ids(LLAMA, docs)
    assert ds["n_tokens"] == [len(ids) for ids in hf_ids(LLAMA, docs)]


def test_map_with_num_proc_encodes_in_worker_processes(
    tmp_path: Path, docs: tuple[str, ...]
) -> None:
    tok = batok.Tokenizer.from_file(LLAMA)
    ds = datasets.Dataset.from_dict({"text": list(docs)})

    def encode(batch: dict[str, list[str]]) -> dict[str, list[list[int]]]:
        return {"input_ids": tok.encode_batch(batch["text"], add_special_tokens=False)}

    mapped = ds.map(
        encode, batched=True, batch_size=50, num_proc=2, cache_file_name=str(tmp_path / "m.arrow")
    )
    assert mapped["input_ids"] == hf_ids(LLAMA, docs)


def test_map_with_the_transformers_call(tmp_path: Path, docs: tuple[str, ...]) -> None:
    """`AutoTokenizer`'s call returns a mapping `map` takes as new columns, as transformers'
    does; the columns equal transformers' own."""
    transformers = pytest.importorskip("transformers")
    ours = batok.AutoTokenizer.from_pretrained(str(LLAMA_DIR))
    theirs = transformers.AutoTokenizer.from_pretrained(str(LLAMA_DIR))
    texts = list(docs[:120])
    ds = datasets.Dataset.from_dict({"text": texts})
    mapped = ds.map(
        lambda batch: ours(batch["text"], truncation=True, max_length=64),
        batched=True,
        num_proc=2,
        cache_file_name=str(tmp_path / "m.arrow"),
    )
    want = theirs(texts, truncation=True, max_length=64)
    assert mapped["input_ids"] == want["input_ids"]
    assert mapped["attention_mask"] == want["attention_mask"]
