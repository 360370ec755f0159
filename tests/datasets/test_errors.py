"""Bad records stop a job with an error naming the file and line, or are counted and left out
with `on_error="skip"`; either way no partial output file is left under its final name."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from _datasets import GPT2, hf_ids, parquet_ids, write_jsonl, write_parquet

import batok
from batok._batok import DatasetError

GOOD = ["first document", "second document", "third"]


def jsonl_with(tmp_path: Path, bad_line: str) -> Path:
    lines = [json.dumps({"text": GOOD[0]}), json.dumps({"text": GOOD[1]}), bad_line]
    lines.append(json.dumps({"text": GOOD[2]}))
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"text": "unterminated', "invalid JSON"),
        ('{"body": "x"}', "no field 'text'|no field \"text\""),
        ('{"text": 42}', "is a number, not a string"),
        ('{"text": null}', "is null, not a string"),
        ('["text"]', "expected a JSON object"),
    ],
)
def test_bad_record_raises_with_file_and_line(tmp_path: Path, bad_line: str, message: str) -> None:
    src = jsonl_with(tmp_path, bad_line)
    with pytest.raises(DatasetError, match=message) as info:
        batok.tokenize_files(src, str(GPT2), tmp_path / "out")
    assert str(info.value).startswith(f"{src}:3: ")
    assert isinstance(info.value, ValueError)


def test_bad_record_skipped_and_counted(tmp_path: Path) -> None:
    src = jsonl_with(tmp_path, '{"text": 42}')
    m = batok.tokenize_files(src, str(GPT2), tmp_path / "out", on_error="skip")
    assert parquet_ids(tmp_path / "out") == hf_ids(GPT2, GOOD)
    assert m["skipped"] == 1 and m["first_skipped"].startswith(f"{src}:3: ")


def test_failed_job_leaves_no_partial_files(tmp_path: Path, docs: tuple[str, ...]) -> None:
    src = tmp_path / "in.jsonl"
    write_jsonl(src, docs)
    with open(src, "a", encoding="utf-8") as f:
        f.write("not json\n")
    out = tmp_path / "out"
    with pytest.raises(DatasetError, match=f":{len(docs) + 1}: "):
        batok.tokenize_files(src, str(GPT2), out, chunk_bytes=2000, shard_size=10**9)
    assert list(out.iterdir()) == []


def test_corrupt_gzip_is_an_os_error_naming_the_file(tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl.gz"
    src.write_bytes(gzip.compress(b'{"text": "ok"}\n')[:-12] + b"garbage!")
    with pytest.raises(OSError, match=str(src)):
        batok.tokenize_files(src, str(GPT2), tmp_path / "out")


def test_unreadable_file_skipped_and_counted(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "a.jsonl", GOOD)
    bad = tmp_path / "b.jsonl.zst"
    bad.write_bytes(b"not zstd at all")
    m = batok.tokenize_files([bad, good], str(GPT2), tmp_path / "out", on_error="skip")
    assert m["skipped"] == 1 and str(bad) in m["first_skipped"]
    assert parquet_ids(tmp_path / "out") == hf_ids(GPT2, GOOD)


def test_invalid_utf8_in_text_file_names_its_line(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"one\n\ntwo\n\n\xff bad\n\nthree")
    with pytest.raises(DatasetError, match=rf"^{src}:5: invalid UTF-8"):
        batok.tokenize_files(src, str(GPT2), tmp_path / "out", separator="\n\n")


def test_parquet_null_text_names_the_row(tmp_path: Path) -> None:
    src = write_parquet(tmp_path / "d.parquet", ["a", None, "b"])
    with pytest.raises(DatasetError, match=rf"^{src}: row index 1: "):
        batok.tokenize_files(src, str(GPT2), tmp_path / "out")
    m = batok.tokenize_files(src, str(GPT2), tmp_path / "out", on_error="skip")
    assert m["skipped"] == 1 and parquet_ids(tmp_path / "out") == hf_ids(GPT2, ["a", "b"])


def test_parquet_column_must_be_strings(tmp_path: Path) -> None:
    src = write_parquet(tmp_path / "d.parquet", ["a"])
    with pytest.raises(DatasetError, match="column 'id' is int64, not strings"):
        batok.tokenize_files(src, str(GPT2), tmp_path / "out", column="id")
    with pytest.raises(DatasetError, match="no column 'body'"):
        batok.tokenize_files(src, str(GPT2), tmp_path / "out", column="body")


def test_missing_input_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing"):
        batok.tokenize_files(tmp_path / "nothing.jsonl", str(GPT2), tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="no files match"):
        batok.tokenize_files(str(tmp_path / "*.jsonl"), str(GPT2), tmp_path / "out")
