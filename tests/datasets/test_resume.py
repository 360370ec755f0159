"""`resume=True` (`batok tokenize --resume`): an interrupted job goes on from its finished shards,
encodes only the documents they do not hold, and ends with the same files, byte for byte, as a
run that was never interrupted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _datasets import GPT2, LLAMA, write_jsonl, write_parquet

import batok
from batok.jobs.engine import Engine

# Small chunks and shards, so that a job has many of each.
SMALL = {"chunk_bytes": 6000, "shard_size": 4000}
COUNTED = ("documents", "tokens", "input_bytes", "skipped", "outputs")


class Interrupted(Exception):
    pass


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Counts the documents the engine encodes, and raises `Interrupted` on the call numbered
    `state["fail_at"]` (counting from 1), as a Ctrl-C in the middle of a job would stop it."""
    state: dict[str, Any] = {"documents": 0, "calls": 0, "fail_at": None, "sizes": []}
    docs_method, arrow_method = Engine.encode_docs, Engine.encode_arrow

    def count(method: Any, size: Any) -> Any:
        def wrapped(self: Engine, batch: Any) -> Any:
            state["calls"] += 1
            if state["calls"] == state["fail_at"]:
                raise Interrupted
            state["documents"] += size(batch)
            state["sizes"].append(size(batch))
            return method(self, batch)

        return wrapped

    monkeypatch.setattr(Engine, "encode_docs", count(docs_method, len))
    monkeypatch.setattr(Engine, "encode_arrow", count(arrow_method, len))
    yield state


def files_of(directory: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.name != "manifest.json"
    }


def run_interrupted(
    src: Any, tokenizer: Path, out: Path, encoded: dict[str, Any], fail_at: int, **kw: Any
) -> dict[str, Any]:
    """The job, stopped at the `fail_at`-th encode call, then resumed; returns the manifest."""
    encoded.update(fail_at=fail_at, calls=0)
    with pytest.raises(Interrupted):
        batok.tokenize_files(src, str(tokenizer), out, **kw)
    assert not list(out.glob(".*.tmp")), "an interrupted job left a partial file"
    encoded.update(fail_at=None, calls=0, documents=0)
    return batok.tokenize_files(src, str(tokenizer), out, resume=True, **kw)


@pytest.mark.parametrize("fail_at", [2, 5, 9])
@pytest.mark.parametrize("fmt", ["parquet", "llmc"])
def test_resumed_job_writes_the_same_files_as_an_uninterrupted_one(
    tmp_path: Path, docs: tuple[str, ...], encoded: dict[str, Any], fmt: str, fail_at: int
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    whole = batok.tokenize_files(src, str(LLAMA), tmp_path / "whole", format=fmt, **SMALL)
    chunk_sizes = list(encoded["sizes"])
    resumed = run_interrupted(src, LLAMA, tmp_path / "out", encoded, fail_at, format=fmt, **SMALL)
    assert files_of(tmp_path / "out") == files_of(tmp_path / "whole")
    assert {k: resumed[k] for k in COUNTED} == {k: whole[k] for k in COUNTED}
    # Only the chunks with a document the finished shards do not wholly hold were encoded.
    done = resumed["resumed_after"]
    assert done is not None and done["shards"] >= 1
    ends = [sum(chunk_sizes[: i + 1]) for i in range(len(chunk_sizes))]
    redone = sum(n for n, end in zip(chunk_sizes, ends, strict=True) if end > done["documents"])
    assert encoded["documents"] == redone
    if done["documents"] >= chunk_sizes[0]:  # the finished shards hold a whole chunk
        assert redone < len(docs)


def test_llmc_resumes_inside_a_document(
    tmp_path: Path, docs: tuple[str, ...], encoded: dict[str, Any]
) -> None:
    """Shards of 997 tokens cut documents in the middle: the resumed stream goes on from the
    exact token where the last finished shard ended."""
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    kw = {"format": "llmc", "chunk_bytes": 6000, "shard_size": 997}
    batok.tokenize_files(src, str(GPT2), tmp_path / "whole", **kw)
    run_interrupted(src, GPT2, tmp_path / "out", encoded, 7, **kw)
    journal_gone = not (tmp_path / "out" / ".batok-job.json").exists()
    assert journal_gone
    assert files_of(tmp_path / "out") == files_of(tmp_path / "whole")


def test_parquet_inputs_resume(
    tmp_path: Path, docs: tuple[str, ...], encoded: dict[str, Any]
) -> None:
    src = write_parquet(tmp_path / "d.parquet", list(docs), row_group_size=20)
    batok.tokenize_files(src, str(LLAMA), tmp_path / "whole", **SMALL)
    run_interrupted(src, LLAMA, tmp_path / "out", encoded, 4, **SMALL)
    assert files_of(tmp_path / "out") == files_of(tmp_path / "whole")


def test_a_finished_job_is_not_run_again(
    tmp_path: Path, docs: tuple[str, ...], encoded: dict[str, Any]
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    first = batok.tokenize_files(src, str(LLAMA), tmp_path / "out", **SMALL)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}
    encoded["documents"] = 0
    again = batok.tokenize_files(src, str(LLAMA), tmp_path / "out", resume=True, **SMALL)
    assert again == first
    assert encoded["documents"] == 0
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()} == before


def test_resume_refuses_another_jobs_output(
    tmp_path: Path, docs: tuple[str, ...], encoded: dict[str, Any]
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    encoded["fail_at"] = 5
    with pytest.raises(Interrupted):
        batok.tokenize_files(src, str(LLAMA), tmp_path / "out", **SMALL)
    encoded["fail_at"] = None
    with pytest.raises(ValueError, match="different job"):
        batok.tokenize_files(
            src, str(LLAMA), tmp_path / "out", resume=True, chunk_bytes=6000, shard_size=5000
        )
    # The input changed since: another job too.
    write_jsonl(src, docs[:-1])
    with pytest.raises(ValueError, match="different job"):
        batok.tokenize_files(src, str(LLAMA), tmp_path / "out", resume=True, **SMALL)


def test_resume_refuses_a_tokenizer_changed_under_its_name(
    tmp_path: Path, docs: tuple[str, ...], encoded: dict[str, Any]
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    tok_file = tmp_path / "tokenizer.json"
    tok_file.write_bytes(LLAMA.read_bytes())
    encoded["fail_at"] = 5
    with pytest.raises(Interrupted):
        batok.tokenize_files(src, str(tok_file), tmp_path / "out", **SMALL)
    encoded["fail_at"] = None
    changed = batok.Tokenizer.from_file(str(tok_file))
    changed.add_tokens(["<extra>"])
    changed.save(str(tok_file))
    with pytest.raises(ValueError, match="different job"):
        batok.tokenize_files(src, str(tok_file), tmp_path / "out", resume=True, **SMALL)


def test_npy_output_starts_over(
    tmp_path: Path, docs: tuple[str, ...], encoded: dict[str, Any]
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs)
    batok.tokenize_files(src, str(LLAMA), tmp_path / "whole", format="npy", **SMALL)
    run_interrupted(src, LLAMA, tmp_path / "out", encoded, 3, format="npy", **SMALL)
    assert encoded["documents"] == len(docs)
    assert files_of(tmp_path / "out") == files_of(tmp_path / "whole")


def test_cli_resume(tmp_path: Path, docs: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped right after its second shard is finished, then `batok tokenize --resume`."""
    from batok.cli import main
    from batok.jobs.journal import Journal

    saves = {"n": 0}
    save = Journal.save

    def stop_after_two_shards(self: Journal, progress: Any) -> None:
        save(self, progress)
        saves["n"] += 1
        if saves["n"] == 2:  # two shards are finished
            raise Interrupted

    src = write_jsonl(tmp_path / "d.jsonl", docs)
    args = [str(src), "--tokenizer", str(LLAMA), "--format", "llmc", "--shard-size", "4000"]
    monkeypatch.setattr(Journal, "save", stop_after_two_shards)
    with pytest.raises(Interrupted):
        main(["tokenize", *args, "-o", str(tmp_path / "out"), "--quiet"])
    monkeypatch.setattr(Journal, "save", save)
    assert main(["tokenize", *args, "-o", str(tmp_path / "out"), "--quiet", "--resume"]) == 0
    assert main(["tokenize", *args, "-o", str(tmp_path / "whole"), "--quiet"]) == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["resumed_after"]["shards"] == 2
    assert files_of(tmp_path / "out") == files_of(tmp_path / "whole")
