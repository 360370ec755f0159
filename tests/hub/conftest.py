"""Fixtures for the hub tests: a real loopback hub, a private cache, and secret-leak checks.

Every test runs with BA_HOME in its own temp dir, no ambient token, tiny backoff settings, and an
autouse check that no test token reached a log record, a cache file or a checked exception.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from batok.testing.hub import LoopbackHub

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
LLAMA_DIR = SHARED / "tokenizers" / "llama-2"
LLAMA_REPO = "meta-llama/Llama-2-7b-ba"

# Distinctive, so a leak anywhere is unmistakable.
ALICE_TOKEN = "ba_alice_5ecret_9f8e7d6c5b4a"  # granted the gated repo
BOB_TOKEN = "ba_bob_5ecret_1a2b3c4d5e6f"  # a valid user without access
CAROL_TOKEN = "ba_carol_5ecret_0f1e2d3c4b5a"  # owns the private repo
BAD_TOKEN = "ba_revoked_5ecret_deadbeef00"  # unknown to the hub
SECRETS = (ALICE_TOKEN, BOB_TOKEN, CAROL_TOKEN, BAD_TOKEN)

TINY_TOKENIZER = b'{"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []}}\n'
TINY_CONFIG = b'{"tokenizer_class": "PreTrainedTokenizerFast"}\n'
BIG_BLOB = bytes(range(256)) * 4096  # 1 MiB, served through the CDN as an LFS file


@pytest.fixture(autouse=True)
def hub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment: own BA_HOME, no token, fast retries, no progress bars."""
    for name in list(os.environ):
        if name.startswith(("BA_", "HF_")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("BA_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("BA_HUB_BACKOFF_BASE", "0.01")
    monkeypatch.setenv("BA_HUB_BACKOFF_MAX", "0.05")
    monkeypatch.setenv("BA_HUB_ETAG_TIMEOUT", "2")
    monkeypatch.setenv("BA_HUB_ETAG_TIMEOUT_RETRY", "2")
    monkeypatch.setenv("BA_HUB_DOWNLOAD_TIMEOUT", "2")
    monkeypatch.setenv("BA_HUB_DISABLE_PROGRESS_BARS", "1")
    return home


@pytest.fixture(autouse=True)
def no_secret_leaks(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> Iterator[None]:
    """DEBUG logging on for the whole test; afterwards no token may be in a log or cache file."""
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        assert_clean(record.getMessage())
    for path in tmp_path.rglob("*"):
        # The token file, a test hub's config and test scripts hold tokens by design.
        if path.is_file() and not path.is_symlink() and path.name not in ("token", "hub.json"):
            if "scripts" in path.relative_to(tmp_path).parts:
                continue
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in data, f"token leaked into {path}"


def assert_clean(*objects: Any) -> None:
    """No test token in the str, repr, traceback or chained causes of these objects."""
    for obj in objects:
        texts = [str(obj), repr(obj)]
        if isinstance(obj, BaseException):
            texts.append("".join(traceback.format_exception(type(obj), obj, obj.__traceback__)))
            texts.extend(repr(arg) for arg in obj.args)
            texts.extend(repr(v) for v in vars(obj).values())
        for text in texts:
            for secret in SECRETS:
                assert secret not in text, f"token leaked into {type(obj).__name__}: {text[:200]}"


@pytest.fixture
def clean() -> Callable[..., None]:
    return assert_clean


@pytest.fixture
def hub() -> Iterator[LoopbackHub]:
    """A started hub with users alice (granted), bob (no access), carol (private owner)."""
    server = LoopbackHub()
    server.add_user("alice", ALICE_TOKEN)
    server.add_user("bob", BOB_TOKEN)
    server.add_user("carol", CAROL_TOKEN)
    server.add_repo_from_dir(LLAMA_REPO, LLAMA_DIR, gated="manual", granted=["alice"])
    server.add_repo(
        "org/tiny",
        {
            "tokenizer.json": TINY_TOKENIZER,
            "tokenizer_config.json": TINY_CONFIG,
            "big.bin": BIG_BLOB,
        },
        lfs=["big.bin"],
    )
    server.add_repo("org/no-config", {"tokenizer.json": TINY_TOKENIZER})
    server.add_repo(
        "carol/private", {"tokenizer.json": TINY_TOKENIZER}, private=True, owner="carol"
    )
    with server:
        yield server


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def run_python(tmp_path: Path) -> Callable[..., Any]:
    """Run a program in a fresh interpreter (the file goes in tmp/scripts, never in argv)."""
    import subprocess

    scripts = tmp_path / "scripts"
    scripts.mkdir(exist_ok=True)

    def run(source: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
        path = scripts / f"program_{len(list(scripts.iterdir()))}.py"
        path.write_text(source, encoding="utf-8")
        return subprocess.run(
            [sys.executable, str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=scripts,
        )

    return run


def blob_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("blobs/*"))
