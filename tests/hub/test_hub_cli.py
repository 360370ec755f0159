"""`login`, `logout`, `whoami` and `serve-hub` through argparse, as batok.cli wires them."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from batok.hub import download
from batok.hub.cli import add_commands
from batok.testing.hub import LoopbackHub

ALICE = "ba_alice_5ecret_9f8e7d6c5b4a"
BAD = "ba_revoked_5ecret_deadbeef00"
LLAMA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "tokenizers" / "llama-2"


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="batok")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_login_with_token_option_verifies_and_saves_privately(
    hub: LoopbackHub, hub_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["login", "--token", ALICE, "--endpoint", hub.endpoint]) == 0
    out = capsys.readouterr().out
    assert "alice" in out and ALICE not in out
    token_file = hub_env / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [e.path for e in hub.log] == ["/api/whoami-v2"]


def test_login_reads_piped_stdin(
    hub: LoopbackHub, hub_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(ALICE + "\n"))
    assert _run(["login", "--endpoint", hub.endpoint]) == 0
    assert (hub_env / "token").read_text().strip() == ALICE


def test_login_with_rejected_token_saves_nothing(
    hub: LoopbackHub, hub_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["login", "--token", BAD, "--endpoint", hub.endpoint]) == 1
    assert not (hub_env / "token").exists()
    err = capsys.readouterr().err
    assert "rejected" in err and BAD not in err


def test_whoami_uses_saved_token_and_logout_removes_it(
    hub: LoopbackHub, hub_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(["login", "--token", ALICE, "--no-verify"])
    capsys.readouterr()
    assert _run(["whoami", "--endpoint", hub.endpoint]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "alice" and "token file" in out
    assert _run(["logout"]) == 0
    assert not (hub_env / "token").exists()
    assert _run(["whoami", "--endpoint", hub.endpoint]) == 1
    assert "Not logged in" in capsys.readouterr().err


def test_serve_hub_runs_as_a_module_and_serves_a_gated_folder(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "llama").mkdir(parents=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (root / "llama" / name).write_bytes((LLAMA_DIR / name).read_bytes())
    config = {
        "users": [{"name": "alice", "token": ALICE}],
        "repos": [
            {
                "id": "meta-llama/Llama-2-7b-ba",
                "path": "llama",
                "gated": "manual",
                "granted": ["alice"],
            }
        ],
    }
    (root / "hub.json").write_text(json.dumps(config))
    proc = subprocess.Popen(
        [sys.executable, "-m", "batok.testing.hub", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("batok test hub at http://127.0.0.1:"), proc.stderr.read()
        endpoint = first.split()[4]
        path = download(
            "meta-llama/Llama-2-7b-ba",
            "tokenizer_config.json",
            token=ALICE,
            endpoint=endpoint,
            cache_dir=tmp_path / "cache",
        )
        assert b"LlamaTokenizer" in path.read_bytes()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert ALICE not in first + out + err
