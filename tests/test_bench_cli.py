"""`batok bench` through argparse, as batok.cli wires it: the one-pass protocol (the default) and
the warm one, the table, the JSON report, failing when batok's ids differ from the reference, and
the document splitter. Structure only; the timings themselves are not asserted."""

from __future__ import annotations

import argparse
import json
from array import array
from pathlib import Path

import pytest

from batok import _onepass
from batok.bench import (
    IDS,
    SHORT_PASS_REPEATS,
    Mismatch,
    Runner,
    add_commands,
    measure,
    split_documents,
)

GPT2_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "tokenizers" / "gpt2"
PEERS = {"tiktoken", "bpe-openai", "rs-bpe", "quicktok-v1", "HF tokenizers", "gigatoken"}
STATUSES = {"ok", "inexact", "error", "unavailable"}
TEXT = (
    "Hello world! The quick brown fox jumps over the lazy dog.\n" * 60 + "日本語のテキスト。\n" * 40
)


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="batok")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_bench_one_pass_by_default_checks_every_row_against_tiktoken(
    sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    argv = ["bench", str(sample), "--encoding", "cl100k_base", "--no-progress", "--no-hf"]
    assert _run([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["protocol"] == "one pass"
    assert [s["name"] for s in report["sections"]] == ["single", "batch"]
    single, batch = (s["results"] for s in report["sections"])
    # The reference runs first; batok's rows were checked against it and timed.
    assert (single[0]["engine"], single[0]["method"], single[0]["status"]) == (
        "tiktoken",
        "encode_ordinary",
        "ok",
    )
    batok = [r for r in single + batch if r["engine"] == "batok"]
    assert {r["method"].split(" ")[0] for r in batok} >= {"encode_to_numpy", "encode_ordinary"}
    assert all(r["status"] == "ok" and r["mb_s"] > 0 and r["tokens"] > 0 for r in batok)
    assert all(r["inputs"] == report["workload"]["documents"] for r in batok)
    assert PEERS - {"HF tokenizers"} <= {r["engine"] for r in single}
    assert all(r["status"] in STATUSES for r in single + batch)


def test_bench_fails_when_batok_differs_from_the_reference(
    sample: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = _onepass._run_process

    def wrong_batok(spec: dict, folder: Path, timeout: float) -> _onepass.PassResult:
        result = real(spec, folder, timeout)
        if spec["engine"] == "batok":  # as if the engine had answered wrongly on one document
            result.status, result.differs, result.first_differs = "inexact", 1, 2
        return result

    monkeypatch.setattr(_onepass, "_run_process", wrong_batok)
    argv = ["bench", str(sample), "--encoding", "cl100k_base", "--no-progress", "--no-hf"]
    assert _run(argv) == 1
    err = capsys.readouterr().err
    assert "batok encode_to_numpy differs from tiktoken on 1 of" in err
    assert f"first: {sample} part 2" in err


def test_one_pass_process_finds_the_documents_that_differ(tmp_path: Path) -> None:
    docs = ["Hello world! " * 100, "Второй документ. " * 80, "third document\n" * 90]
    _onepass.write_workload(tmp_path, docs, jsonl=False)
    spec = {
        "source": {"encoding": "cl100k_base"},
        "section": "single",
        "engine": "batok",
        "key": "encode_ordinary",
        "threads": 1,
        "folder": str(tmp_path),
        "write_reference": True,
    }
    assert _onepass._process(spec).status == "ok"
    # Corrupt one id of the second document in the stored reference.
    ids, offsets = _onepass._read_ids(tmp_path / "reference")
    ids[offsets[1]] += 1
    (tmp_path / "reference.ids").write_bytes(ids.tobytes())
    result = _onepass._process({**spec, "write_reference": False})
    assert (result.status, result.differs, result.first_differs) == ("inexact", 1, 1)
    assert result.tokens == len(ids) and isinstance(ids, array)


def test_warm_measure_fails_on_batok_and_marks_a_peer_inexact() -> None:
    docs = ["a b", "c d"]
    expected = [[1, 2], [3, 4]]
    peer = Runner("peer", "encode", lambda xs: [[1, 2], [3, 5]], IDS)
    (result,) = measure([peer], docs, expected, 6, rounds=1, reference="ref")
    assert (result.status, result.differs) == ("inexact", 1)
    assert result.mb_s is not None  # timed all the same, and marked
    wrong = Runner("batok", "encode", lambda xs: [[1, 2], [3, 5]], IDS)
    with pytest.raises(Mismatch, match=r"case: batok encode differs from ref on 1 of 2 .* doc B"):
        measure(
            [wrong],
            docs,
            expected,
            6,
            rounds=1,
            case="case",
            reference="ref",
            labels=["doc A", "doc B"],
        )


def test_bench_warm_json_has_the_reference_checked_and_every_peer(
    sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    argv = ["bench", str(sample), "--encoding", "cl100k_base", "--rounds", "1", "--no-progress"]
    assert _run([*argv, "--warm", "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["source"] == {"encoding": "cl100k_base"}
    assert report["protocol"] == "warm"
    assert report["workload"]["bytes"] == len(TEXT.encode("utf-8"))
    assert report["machine"]["cores"] >= 1
    assert [s["name"] for s in report["sections"]] == ["single thread", "batch"]
    single = report["sections"][0]["results"]
    assert (single[0]["engine"], single[0]["method"], single[0]["status"]) == (
        "batok",
        "encode_ordinary",
        "ok",
    )
    # One round; the sample is small, so its short pass is timed SHORT_PASS_REPEATS times.
    assert single[0]["mb_s"] > 0 and len(single[0]["passes"]) == SHORT_PASS_REPEATS
    assert PEERS <= {r["engine"] for r in single}
    assert all(r["status"] in STATUSES for s in report["sections"] for r in s["results"])
    # tiktoken and tokenizers are test dependencies: their rows must be measured, and equal.
    by_engine = {r["engine"]: r for r in single}
    assert by_engine["tiktoken"]["status"] == "ok"
    assert by_engine["HF tokenizers"]["status"] == "ok"


def test_bench_tokenizer_json_prints_a_warm_table_against_hf(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["bench", str(sample), "--tokenizer", str(GPT2_DIR), "--rounds", "1", "--no-progress"]
    assert _run([*argv, "--warm"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(f"batok bench: {GPT2_DIR}, 1 file(s), ")
    assert "single thread" in lines and "batch" in lines
    header = next(line for line in lines if line.split()[:2] == ["engine", "method"])
    assert header.split()[2:] == ["MB/s", "batok", "is", "status"]
    rows = {tuple(line.split()[:2]) for line in lines if line.startswith("  ")}
    assert ("batok", "encode") in rows and ("batok", "count_tokens") in rows
    hf = next(line for line in lines if line.strip().startswith("HF tokenizers  encode "))
    assert hf.rstrip().endswith(" ok")


def test_bench_without_text_is_a_usage_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    assert _run(["bench", str(empty), "--no-progress", "--no-hf"]) == 2
    assert _run(["bench", str(empty), "--warm", "--no-progress", "--no-hf"]) == 2


def test_split_documents_keeps_every_character_within_the_size_window() -> None:
    text = ("a line of text\n" * 500) + ("x" * 9000) + "\n" + ("語" * 3000)
    text += "short\n" * 150 + "y" * 3500 + "\n" + "z\n"
    docs = split_documents(text, 1024, 4096)
    assert "".join(docs) == text
    sizes = [len(d.encode("utf-8")) for d in docs]
    assert all(size <= 4096 for size in sizes)
    assert all(size >= 1024 for size in sizes[:-1])
