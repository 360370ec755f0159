"""llm.c token shards, read back the way llm.c reads them: a 256-int32 header (magic, version,
token count), then the tokens; every document after one delimiter token."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _datasets import GPT2, LLAMA, hf_ids, hf_reference, write_jsonl

import batok


def read_llmc(path: Path) -> tuple[int, int, np.ndarray]:
    """(magic, version, tokens) of one shard, checked as llm.c's loader checks it."""
    raw = path.read_bytes()
    header = np.frombuffer(raw[: 256 * 4], dtype="<i4")
    magic, version, count = (int(x) for x in header[:3])
    assert not header[3:].any()
    dtype = {(20240520, 1): "<u2", (20240801, 7): "<u4"}[(magic, version)]
    tokens = np.frombuffer(raw[256 * 4 :], dtype=dtype)
    assert len(tokens) == count
    return magic, version, tokens


def expected_stream(path: Path, docs: tuple[str, ...], delimiter: int) -> list[int]:
    out: list[int] = []
    for ids in hf_ids(path, docs):
        out += [delimiter, *ids]
    return out


def test_gpt2_shards_are_uint16_version_1_with_endoftext(
    tmp_path: Path, docs: tuple[str, ...]
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    batok.tokenize_files(src, str(GPT2), tmp_path / "out", format="llmc")
    (shard,) = sorted((tmp_path / "out").glob("*.bin"))
    magic, version, tokens = read_llmc(shard)
    assert (magic, version) == (20240520, 1)
    eot = hf_reference(GPT2).token_to_id("<|endoftext|>")
    assert tokens.tolist() == expected_stream(GPT2, docs, eot)


def test_llama3_shards_are_uint32_version_7_with_bos(tmp_path: Path, docs: tuple[str, ...]) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    m = batok.tokenize_files(src, str(LLAMA.parent), tmp_path / "out", format="llmc")
    (shard,) = sorted((tmp_path / "out").glob("*.bin"))
    magic, version, tokens = read_llmc(shard)
    assert (magic, version) == (20240801, 7)
    bos = hf_reference(LLAMA).token_to_id("<|begin_of_text|>")
    assert m["delimiter"] == bos
    assert tokens.tolist() == expected_stream(LLAMA, docs, bos)


def test_shards_hold_shard_size_tokens_and_the_rest_last(
    tmp_path: Path, docs: tuple[str, ...]
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    size = 10_000
    batok.tokenize_files(
        src, str(GPT2), tmp_path / "out", format="llmc", shard_size=size, chunk_bytes=3000
    )
    shards = [read_llmc(p)[2] for p in sorted((tmp_path / "out").glob("*.bin"))]
    assert len(shards) > 2
    assert all(len(s) == size for s in shards[:-1]) and 0 < len(shards[-1]) <= size
    eot = hf_reference(GPT2).token_to_id("<|endoftext|>")
    assert np.concatenate(shards).tolist() == expected_stream(GPT2, docs, eot)


@pytest.mark.parametrize("delimiter", ["<|endoftext|>", "50256"])
def test_delimiter_by_text_or_id(tmp_path: Path, delimiter: str) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ["a", "b"])
    out = tmp_path / "out"
    batok.tokenize_files(src, "cl100k_base", out, format="llmc", delimiter=delimiter)
    (shard,) = out.glob("*.bin")
    want = {"<|endoftext|>": 100257, "50256": 50256}[delimiter]
    a, b = batok.get_encoding("cl100k_base").encode_ordinary_batch(["a", "b"])
    assert read_llmc(shard)[2].tolist() == [want, *a, want, *b]


def test_unknown_delimiter_is_an_error(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", ["a"])
    with pytest.raises(ValueError, match="not a token"):
        batok.tokenize_files(src, str(GPT2), tmp_path / "out", format="llmc", delimiter="<nope>")
