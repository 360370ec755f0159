"""Injected faults are survived (retry, resume) or fail clearly; the cache never holds bad data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batok.hub import DownloadError, HubError, LocalEntryNotFoundError, download
from batok.testing.hub import LoopbackHub

BIG = bytes(range(256)) * 4096
TINY = b'{"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []}}\n'
ALICE = "ba_alice_5ecret_9f8e7d6c5b4a"


def _assert_cache_clean(cache_dir: Path) -> None:
    """Only complete, verified blobs: no temp files, no dangling links."""
    assert not list(cache_dir.rglob("*.incomplete"))
    assert not list(cache_dir.rglob("*.tmp"))
    for link in cache_dir.rglob("snapshots/*/*"):
        assert link.exists(), f"dangling {link}"


def _get(hub: LoopbackHub, **kw) -> Path:
    return download("org/tiny", kw.pop("filename", "big.bin"), endpoint=hub.endpoint, **kw)


def test_connection_dropped_mid_body_resumes_with_range(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.add_fault("drop", filename="big.bin", where="cdn", after_bytes=5 * 65536)
    assert _get(hub, cache_dir=cache_dir).read_bytes() == BIG
    cdn = hub.requests(origin="cdn")
    assert [(e.status, e.range) for e in cdn] == [(200, None), (206, "bytes=327680-")]
    _assert_cache_clean(cache_dir)


def test_plain_file_dropped_mid_body_resumes_on_hub(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.add_fault("drop", filename="tokenizer.json", method="GET", after_bytes=10)
    assert _get(hub, filename="tokenizer.json", cache_dir=cache_dir).read_bytes() == TINY
    assert len(hub.requests(method="GET")) == 2


def test_connection_dropped_every_time_fails_clearly(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.add_fault("drop", filename="big.bin", where="cdn", after_bytes=0, times=None)
    with pytest.raises(DownloadError, match="kept failing"):
        _get(hub, cache_dir=cache_dir)
    assert not list(cache_dir.rglob("blobs/*"))
    _assert_cache_clean(cache_dir)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_transient_5xx_on_head_is_retried(hub: LoopbackHub, cache_dir: Path, status: int) -> None:
    hub.add_fault("status", filename="tokenizer.json", method="HEAD", status=status, times=2)
    assert _get(hub, filename="tokenizer.json", cache_dir=cache_dir).read_bytes() == TINY
    assert [e.status for e in hub.requests(method="HEAD")] == [status, status, 200]


def test_transient_5xx_on_file_host_is_retried(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.add_fault("status", filename="big.bin", where="cdn", status=503, times=2)
    assert _get(hub, cache_dir=cache_dir).read_bytes() == BIG


def test_persistent_503_fails_with_unreachable_after_retries(
    hub: LoopbackHub, cache_dir: Path
) -> None:
    hub.add_fault("status", filename="tokenizer.json", status=503, times=None)
    with pytest.raises(LocalEntryNotFoundError, match="unreachable: HTTP 503"):
        _get(hub, filename="tokenizer.json", cache_dir=cache_dir)
    assert len(hub.requests(method="HEAD")) == 1 + 1 + 5  # fast try; then a try and 5 retries
    _assert_cache_clean(cache_dir)


def test_persistent_503_serves_the_cached_copy(hub: LoopbackHub, cache_dir: Path) -> None:
    first = _get(hub, filename="tokenizer.json", cache_dir=cache_dir)
    hub.add_fault("status", filename="tokenizer.json", status=503, times=None)
    assert _get(hub, filename="tokenizer.json", cache_dir=cache_dir) == first
    assert len(hub.requests(method="HEAD")) == 2  # no retries when the cache can answer


def test_429_waits_for_retry_after(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.add_fault("status", filename="big.bin", where="cdn", status=429, retry_after=1)
    start = time.monotonic()
    assert _get(hub, cache_dir=cache_dir).read_bytes() == BIG
    assert time.monotonic() - start >= 1.0
    assert [e.status for e in hub.requests(origin="cdn")] == [429, 200]


def test_stalled_head_times_out_then_succeeds(
    hub: LoopbackHub, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BA_HUB_ETAG_TIMEOUT", "0.3")
    monkeypatch.setenv("BA_HUB_ETAG_TIMEOUT_RETRY", "0.3")
    hub.add_fault("stall", filename="tokenizer.json", method="HEAD", seconds=1.0)
    assert _get(hub, filename="tokenizer.json", cache_dir=cache_dir).read_bytes() == TINY


def test_stalled_file_host_times_out_then_succeeds(
    hub: LoopbackHub, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BA_HUB_DOWNLOAD_TIMEOUT", "0.3")
    hub.add_fault("stall", filename="big.bin", where="cdn", seconds=1.0)
    assert _get(hub, cache_dir=cache_dir).read_bytes() == BIG


def test_corrupt_body_is_rejected_by_hash_and_not_cached(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.add_fault("corrupt", filename="big.bin", where="cdn")
    with pytest.raises(DownloadError, match="does not match its hash"):
        _get(hub, cache_dir=cache_dir)
    assert not list(cache_dir.rglob("blobs/*"))
    _assert_cache_clean(cache_dir)
    assert _get(hub, cache_dir=cache_dir).read_bytes() == BIG  # the next try heals


def test_corrupt_plain_file_is_rejected_by_git_sha1(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.add_fault("corrupt", filename="tokenizer.json", method="GET")
    with pytest.raises(DownloadError, match="does not match"):
        _get(hub, filename="tokenizer.json", cache_dir=cache_dir)
    _assert_cache_clean(cache_dir)


def test_short_body_fails_with_force_download_hint(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.add_fault("short", filename="big.bin", where="cdn", length=1000)
    with pytest.raises(DownloadError, match="force_download=True"):
        _get(hub, cache_dir=cache_dir)
    assert not list(cache_dir.rglob("blobs/*"))


def test_missing_commit_header_is_not_a_hub(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.add_fault("no_commit", filename="tokenizer.json")
    with pytest.raises(HubError, match="X-Repo-Commit"):
        _get(hub, filename="tokenizer.json", cache_dir=cache_dir)


def test_expired_signed_url_fails_clearly(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.add_fault("expire", filename="big.bin")
    with pytest.raises(DownloadError, match="file host answered HTTP 403"):
        _get(hub, cache_dir=cache_dir)
    _assert_cache_clean(cache_dir)


def test_parallel_processes_share_one_blob(hub: LoopbackHub, cache_dir: Path) -> None:
    program = (
        "import sys\n"
        "from batok.hub import resolve_tokenizer_files\n"
        "repo, endpoint, cache = sys.argv[1:]\n"
        "tok, cfg = resolve_tokenizer_files(repo, endpoint=endpoint, cache_dir=cache)\n"
        "print(tok.stat().st_size, cfg.stat().st_size)\n"
    )
    # The token goes through the environment, never argv.
    env = {**os.environ, "BA_ACCESS_TOKEN": ALICE}
    args = [sys.executable, "-c", program, "meta-llama/Llama-2-7b-ba", hub.endpoint, str(cache_dir)]
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    for out, err, code in results:
        assert code == 0, err
        assert out.split() == ["1842767", "776"]
        assert ALICE not in out + err
    blobs = sorted(p.name for p in cache_dir.rglob("blobs/*"))
    assert len(blobs) == 2  # tokenizer.json (sha256) and tokenizer_config.json (sha1)
    assert len(hub.requests(origin="cdn", method="GET")) == 1  # the lock prevented duplicates
    _assert_cache_clean(cache_dir)
