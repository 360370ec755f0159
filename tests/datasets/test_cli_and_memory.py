"""`batok tokenize` on the command line, and memory that does not grow with the input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from _datasets import GPT2, hf_ids, parquet_ids, write_jsonl

from batok.cli import main


def test_cli_tokenize_writes_parquet_and_prints_counts(
    tmp_path: Path, docs: tuple[str, ...], capsys
) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", docs, field="content")
    out = tmp_path / "out"
    code = main(
        ["tokenize", str(src), "--tokenizer", str(GPT2), "-o", str(out), "--field", "content", "-q"]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["documents"] == len(docs)
    assert parquet_ids(out) == hf_ids(GPT2, docs)


def test_cli_separator_understands_escapes(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("a\n\nb", encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        [
            "tokenize",
            str(tmp_path / "t.txt"),
            "--tokenizer",
            "cl100k_base",
            "-o",
            str(out),
            "--separator",
            "\\n\\n",
            "-q",
        ]
    )
    assert code == 0 and len(parquet_ids(out)) == 2


def test_cli_bad_record_exits_1_naming_file_and_line(tmp_path: Path, capsys) -> None:
    src = tmp_path / "d.jsonl"
    src.write_text('{"text": "a"}\n{"text": 1}\n', encoding="utf-8")
    code = main(["tokenize", str(src), "--tokenizer", str(GPT2), "-o", str(tmp_path / "o")])
    assert code == 1
    assert f"{src}:2: " in capsys.readouterr().err


_PEAK_RSS = """
import resource, sys, batok
batok.tokenize_files(sys.argv[1], sys.argv[2], sys.argv[3], format="npy",
                     chunk_bytes=1 << 20, num_threads=2)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_rss_kib(src: Path, out: Path) -> int:
    run = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(src), str(GPT2), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(run.stdout.split()[-1])


def test_memory_does_not_grow_with_input(tmp_path: Path, docs: tuple[str, ...]) -> None:
    # 40 MB of JSON lines against 0.4 MB: holding the input (or its ids) would add 40 MB or
    # more to the peak; reading in 1 MiB chunks adds a few MB.
    small = write_jsonl(tmp_path / "small.jsonl", docs)
    big = tmp_path / "big.jsonl"
    block = small.read_bytes()
    with open(big, "wb") as f:
        for _ in range(40_000_000 // len(block) + 1):
            f.write(block)
    base = _peak_rss_kib(small, tmp_path / "o1")
    peak = _peak_rss_kib(big, tmp_path / "o2")
    assert peak - base < 20_000, (base, peak)
