"""The `batok` command: encode, decode and count on the embedded default encoding, offline."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import tiktoken
from tiktoken.load import load_tiktoken_bpe

from batok.cli import main

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batok.cli", *args], capture_output=True, text=True, timeout=120
    )


def reference_o200k() -> tiktoken.Encoding:
    import batok

    ours = batok.get_encoding("o200k_base")
    ranks = load_tiktoken_bpe(str(SHARED / "tokenizers" / "tiktoken" / "o200k_base.tiktoken"))
    return tiktoken.Encoding(
        "o200k_base", pat_str=ours._pat_str, mergeable_ranks=ranks, special_tokens={}
    )


def test_encode_prints_o200k_ids() -> None:
    out = run("encode", "Hello world!")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == reference_o200k().encode_ordinary("Hello world!")


def test_version_flag_prints_package_version() -> None:
    out = run("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"batok {importlib.metadata.version('batok')}"


def test_decode_inverts_encode() -> None:
    ids = reference_o200k().encode_ordinary("round trip")
    out = run("decode", *map(str, ids))
    assert out.stdout.rstrip("\n") == "round trip"


def test_count_prints_per_file_and_total(tmp_path: Path, capsys) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("one two three", encoding="utf-8")
    b.write_text("four", encoding="utf-8")
    assert main(["count", str(a), str(b)]) == 0
    lines = capsys.readouterr().out.splitlines()
    ref = reference_o200k()
    na, nb = len(ref.encode_ordinary("one two three")), len(ref.encode_ordinary("four"))
    assert lines == [f"{na}\t{a}", f"{nb}\t{b}", f"{na + nb}\ttotal"]


def test_missing_file_is_exit_code_one(tmp_path: Path, capsys) -> None:
    assert main(["count", str(tmp_path / "missing.txt")]) == 1
    assert "missing.txt" in capsys.readouterr().err


def test_cli_runs_without_the_optional_numpy() -> None:
    """numpy is an extra: `pip install batok` alone must still give a working `batok`."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['numpy'] = None; from batok.cli import main; "
        "sys.exit(main(['encode', 'Hello world!']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()
