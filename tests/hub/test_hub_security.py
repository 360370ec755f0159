"""Tokens stay with the endpoint's origin and out of every output; hostile names are refused."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from batok.hub import (
    DownloadError,
    HubError,
    InsecureTransportError,
    UnsafeInputError,
    download,
    save_token,
)
from batok.hub.cache import RepoCache
from batok.testing.hub import LoopbackHub

ALICE = "ba_alice_5ecret_9f8e7d6c5b4a"
BOB = "ba_bob_5ecret_1a2b3c4d5e6f"
LLAMA = "meta-llama/Llama-2-7b-ba"


def test_token_is_dropped_on_redirect_to_file_host(hub: LoopbackHub, cache_dir: Path) -> None:
    download(LLAMA, "tokenizer.json", token=ALICE, endpoint=hub.endpoint, cache_dir=cache_dir)
    heads = hub.requests(origin="hub")
    cdn = hub.requests(origin="cdn")
    assert heads and all(e.authenticated for e in heads)
    # The capturing file host saw the GET, without Authorization (it would have answered 400).
    assert [(e.method, e.authenticated, e.status) for e in cdn] == [("GET", False, 200)]


def test_file_host_rejects_a_leaked_authorization_header(hub: LoopbackHub) -> None:
    """The CDN check is real: a client that forwards the header fails (as with S3)."""
    import requests

    head = requests.head(
        f"{hub.endpoint}/{LLAMA}/resolve/main/tokenizer.json",
        headers={"Authorization": f"Bearer {ALICE}"},
        allow_redirects=False,
        timeout=5,
    )
    leaky = requests.get(
        head.headers["Location"], headers={"Authorization": f"Bearer {ALICE}"}, timeout=5
    )
    assert leaky.status_code == 400
    assert hub.requests(origin="cdn")[-1].authenticated is True


def test_no_token_in_logs_repr_or_errors_with_debug_logging(
    hub: LoopbackHub, cache_dir: Path, caplog: pytest.LogCaptureFixture, clean
) -> None:
    caplog.set_level(logging.DEBUG)
    download(LLAMA, "tokenizer.json", token=ALICE, endpoint=hub.endpoint, cache_dir=cache_dir)
    with pytest.raises(HubError) as info:
        download(
            LLAMA, "tokenizer.json", token=BOB, endpoint=hub.endpoint, cache_dir=cache_dir / "x"
        )
    clean(info.value)
    text = caplog.text
    assert "authenticated: yes" in text  # whether a request was authenticated is logged ...
    assert ALICE not in text and BOB not in text  # ... the token never is
    assert "sig=" not in text and "expires=" not in text  # nor the signed URL's query


def test_token_never_over_plain_http_to_remote_host(cache_dir: Path, clean) -> None:
    with pytest.raises(InsecureTransportError) as info:
        download(
            "org/tiny",
            "tokenizer.json",
            token=ALICE,
            endpoint="http://hub.example.invalid",
            cache_dir=cache_dir,
        )
    assert "https" in str(info.value)
    clean(info.value)


def test_server_echoing_token_in_error_message_is_scrubbed(
    hub: LoopbackHub, cache_dir: Path, clean
) -> None:
    hub.add_fault("echo_token", filename="tokenizer.json", times=None)  # a hostile hub
    with pytest.raises(HubError) as info:
        download(
            "org/tiny", "tokenizer.json", token=ALICE, endpoint=hub.endpoint, cache_dir=cache_dir
        )
    clean(info.value)
    assert "<token>" in str(info.value)


@pytest.mark.parametrize(
    ("repo_id", "filename", "revision"),
    [
        ("org/tiny", "../../../../etc/passwd", "main"),
        ("org/tiny", "/etc/passwd", "main"),
        ("org/tiny", "sub\\..\\..\\x", "main"),
        ("org/tiny", "tok\x00.json", "main"),
        ("org/tiny", "C:evil.json", "main"),
        ("org/tiny", "tokenizer.json", "../../../outside"),
        ("org/tiny", "tokenizer.json", "refs\\heads"),
        ("../../outside", "tokenizer.json", "main"),
        ("org/../x", "tokenizer.json", "main"),
        ("org--a/b", "tokenizer.json", "main"),
    ],
)
def test_traversal_names_are_refused_before_any_request(
    hub: LoopbackHub, cache_dir: Path, repo_id: str, filename: str, revision: str
) -> None:
    with pytest.raises(UnsafeInputError):
        download(repo_id, filename, revision=revision, endpoint=hub.endpoint, cache_dir=cache_dir)
    assert hub.log == []
    assert not cache_dir.exists()


@pytest.mark.parametrize(
    ("kind", "value"),
    [("bad_commit", "../../../../tmp/evil"), ("bad_commit", "A" * 40), ("bad_etag", '"../../x"')],
)
def test_hostile_server_values_never_become_paths(
    hub: LoopbackHub, cache_dir: Path, tmp_path: Path, kind: str, value: str
) -> None:
    hub.add_fault(kind, filename="tokenizer.json", value=value, times=None)
    with pytest.raises(UnsafeInputError):
        download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(cache_dir in p.parents or "home" in p.parts for p in written)
    assert not list(cache_dir.rglob("snapshots/*"))


def test_planted_snapshot_link_outside_blobs_is_refused(
    hub: LoopbackHub, cache_dir: Path, tmp_path: Path
) -> None:
    commit = hub.repos[("model", "org/tiny")].refs["main"]
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    snap = cache_dir / "models--org--tiny" / "snapshots" / commit
    snap.mkdir(parents=True)
    (snap / "tokenizer.json").symlink_to(outside)
    with pytest.raises(UnsafeInputError, match="outside its blobs"):
        download(
            "org/tiny",
            "tokenizer.json",
            revision=commit,
            endpoint=hub.endpoint,
            cache_dir=cache_dir,
        )


def test_cache_write_through_planted_directory_link_is_refused(tmp_path: Path) -> None:
    cache = RepoCache("org/tiny", cache_dir=tmp_path / "cache")
    cache.prepare()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (cache.folder / ".no_exist").mkdir()
    (cache.folder / ".no_exist" / ("a" * 40)).symlink_to(elsewhere)
    with pytest.raises(UnsafeInputError, match="outside the cache"):
        cache.mark_missing("a" * 40, "sub/x.json")
    assert list(elsewhere.iterdir()) == []


def test_response_over_size_limit_is_refused(hub: LoopbackHub, cache_dir: Path) -> None:
    with pytest.raises(DownloadError, match="over the 1000-byte limit"):
        download("org/tiny", "big.bin", endpoint=hub.endpoint, cache_dir=cache_dir, max_size=1000)
    assert hub.requests(origin="cdn") == []


def test_huge_announced_length_is_refused_before_download(
    hub: LoopbackHub, cache_dir: Path
) -> None:
    hub.add_fault("huge_length", filename="tokenizer.json", method="HEAD")
    with pytest.raises(DownloadError, match="limit"):
        download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert hub.requests(method="GET") == []


def test_token_file_is_private(hub_env: Path) -> None:
    path = save_token(ALICE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(hub_env.stat().st_mode) == 0o700
    assert path.read_text().strip() == ALICE


def test_incomplete_files_are_private_and_exclusive(tmp_path: Path) -> None:
    cache = RepoCache("org/tiny", cache_dir=tmp_path / "cache")
    cache.prepare()
    path, handle = cache.open_incomplete("a" * 40)
    handle.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.unlink(path)
