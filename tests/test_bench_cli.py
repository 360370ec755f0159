"""`batok bench` through argparse, as batok.cli wires it: the table, the JSON report and the
document splitter. Structure only; the timings themselves are not asserted."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from batok.bench import SHORT_PASS_REPEATS, add_commands, split_documents

GPT2_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "tokenizers" / "gpt2"
PEERS = {"tiktoken", "bpe-openai", "rs-bpe", "quicktok-v1", "HF tokenizers"}
STATUSES = {"ok", "differs", "error", "unavailable"}
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


def test_bench_encoding_json_has_batok_first_and_every_peer(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    argv = ["bench", str(sample), "--encoding", "cl100k_base", "--rounds", "1", "--no-progress"]
    assert _run([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["source"] == {"encoding": "cl100k_base"}
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


def test_bench_tokenizer_json_prints_a_table_against_hf(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["bench", str(sample), "--tokenizer", str(GPT2_DIR), "--rounds", "1", "--no-progress"]
    assert _run(argv) == 0
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
    assert _run(["bench", str(empty), "--rounds", "1", "--no-progress", "--no-hf"]) == 2


def test_split_documents_keeps_every_character_within_the_size_window() -> None:
    text = ("a line of text\n" * 500) + ("x" * 9000) + "\n" + ("語" * 3000)
    text += "short\n" * 150 + "y" * 3500 + "\n" + "z\n"
    docs = split_documents(text, 1024, 4096)
    assert "".join(docs) == text
    sizes = [len(d.encode("utf-8")) for d in docs]
    assert all(size <= 4096 for size in sizes)
    assert all(size >= 1024 for size in sizes[:-1])
