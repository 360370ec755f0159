"""`batok.ray.Tokenize` in a real local Ray cluster (2 CPUs): the ids equal the local job's."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pytest
import ray
from _datasets import GPT2, LLAMA, hf_ids, write_jsonl, write_parquet

import batok.ray


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_tokenize_callable_adds_input_ids_to_arrow_batches(docs: tuple[str, ...]) -> None:
    table = pa.table({"id": list(range(len(docs))), "text": list(docs)})
    out = batok.ray.Tokenize(str(LLAMA))(table)
    assert out.column_names == ["id", "text", "input_ids"]
    assert out.column("input_ids").to_pylist() == hf_ids(LLAMA, docs)


def test_map_batches_on_ray_matches_tokenizers(
    ray_cluster: None, tmp_path: Path, docs: tuple[str, ...]
) -> None:
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    half = len(docs) // 2
    blocks = [pa.table({"text": list(docs[:half])}), pa.table({"text": list(docs[half:])})]
    ds = ray.data.from_arrow(blocks)
    ds = ds.map_batches(
        batok.ray.Tokenize,
        fn_constructor_kwargs={"tokenizer": str(GPT2), "column": "text"},
        concurrency=2,
        batch_size=50,
        batch_format="pyarrow",
    )
    rows = ds.take_all()
    assert [list(r["input_ids"]) for r in rows] == hf_ids(GPT2, docs)


def test_tokenize_on_ray_writes_the_local_jobs_rows(
    ray_cluster: None, tmp_path: Path, docs: tuple[str, ...]
) -> None:
    half = len(docs) // 2
    write_parquet(tmp_path / "a.parquet", list(docs[:half]))
    write_parquet(tmp_path / "b.parquet", list(docs[half:]))
    out = tmp_path / "out"
    m = batok.ray.tokenize_on_ray([tmp_path / "*.parquet"], str(GPT2), out)
    table = pads.dataset(out, format="parquet").to_table()
    assert m["documents"] == len(docs)
    assert table.column("input_ids").to_pylist() == hf_ids(GPT2, docs)
    assert m["tokens"] == sum(map(len, hf_ids(GPT2, docs)))


def test_tokenize_on_ray_reads_json_lines(
    ray_cluster: None, tmp_path: Path, docs: tuple[str, ...]
) -> None:
    write_jsonl(tmp_path / "a.jsonl", docs[:40])
    out = tmp_path / "out"
    batok.ray.tokenize_on_ray([tmp_path / "a.jsonl"], "cl100k_base", out)
    table = pads.dataset(out, format="parquet").to_table()
    want = batok.get_encoding("cl100k_base").encode_ordinary_batch(list(docs[:40]))
    assert table.column("input_ids").to_pylist() == want


def test_tokenize_on_ray_reads_text_files_as_the_local_job(
    ray_cluster: None, tmp_path: Path, docs: tuple[str, ...]
) -> None:
    """Text files, one document per file and split on a separator (a middle empty piece is a
    document, a piece after a final separator is not), in the local job's order."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(6):
        (inputs / f"{i:02d}.txt").write_text(docs[i], encoding="utf-8")
    (inputs / "06.txt").write_text("<d>".join(docs[6:30]) + "<d><d>last<d>", encoding="utf-8")
    for separator in (None, "<d>"):
        out, local = tmp_path / f"ray-{separator}", tmp_path / f"local-{separator}"
        batok.ray.tokenize_on_ray([inputs], str(LLAMA), out, separator=separator)
        batok.tokenize_files(inputs, str(LLAMA), local, separator=separator)
        got = pads.dataset(out, format="parquet").to_table().column("input_ids").to_pylist()
        shards = sorted(str(p) for p in local.glob("*.parquet"))
        want = pads.dataset(shards, format="parquet").to_table().column("input_ids").to_pylist()
        assert got == want
        assert len(got) == (7 if separator is None else 6 + 24 + 2)
