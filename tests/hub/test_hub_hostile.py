"""Hostile hubs, file hosts and proxies on loopback: the token stays home, failures stay clear.

Each test reproduces one finding of a security review over real HTTP; a second loopback
address (127.0.0.2) plays the host that must never see the token.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _hostile import BLOB, COMMIT, Answer, ScriptedServer, file_headers, git_etag

import batok
from batok.hub import (
    DownloadError,
    HubError,
    InsecureTransportError,
    InvalidTokenError,
    RemoteEntryNotFoundError,
    UnsafeInputError,
    download,
)
from batok.testing.hub import LoopbackHub

ALICE = "ba_alice_5ecret_9f8e7d6c5b4a"
RESOLVE = "/org/tiny/resolve/main/tokenizer.json"


@pytest.fixture
def evil() -> Iterator[ScriptedServer]:
    """A second host that answers everything and must never see a token."""
    with ScriptedServer(lambda method, path: (200, None, file_headers(), BLOB), "127.0.0.2") as s:
        yield s


def _hub(answer: Callable[[str, str], Answer]) -> ScriptedServer:
    return ScriptedServer(answer, "127.0.0.1")


def _fetch(endpoint: str, cache_dir: Path, **kw) -> Path:
    return download("org/tiny", "tokenizer.json", endpoint=endpoint, cache_dir=cache_dir, **kw)


# ---- where the token goes ----------------------------------------------------------------------


def test_redirect_with_backslash_userinfo_trick_never_carries_the_token(
    evil: ScriptedServer, cache_dir: Path, clean
) -> None:
    """``http://evil\\@hub/``: urlsplit reads the hub as host, the HTTP stack connects to evil."""

    def answer(method: str, path: str) -> Answer:
        if method == "HEAD":
            return 200, None, file_headers(), b""
        trick = f"http://127.0.0.2:{evil.port}\\@127.0.0.1:{hub.port}/x"
        return 302, None, {"Location": trick}, b""

    with _hub(answer) as hub:
        with pytest.raises(HubError) as info:
            _fetch(hub.url, cache_dir, token=ALICE)
    assert evil.authorized() == []
    clean(info.value)


def test_redirect_from_file_host_with_backslash_trick_never_carries_the_token(
    evil: ScriptedServer, cache_dir: Path
) -> None:
    """The same trick from the file host the hub sent us to (any hop counts)."""
    with ScriptedServer(lambda m, p: (0, None, {}, b""), "127.0.0.3") as cdn:

        def hub_answer(method: str, path: str) -> Answer:
            return 302, None, {**file_headers(), "Location": f"{cdn.url}/blob"}, b""

        with _hub(hub_answer) as hub:
            trick = f"http://127.0.0.2:{evil.port}\\@127.0.0.1:{hub.port}/x"
            cdn.answer = lambda m, p: (302, None, {"Location": trick}, b"")
            with pytest.raises(HubError):
                _fetch(hub.url, cache_dir, token=ALICE)
    assert evil.authorized() == []


def test_endpoint_with_backslash_trick_is_refused(evil: ScriptedServer, cache_dir: Path) -> None:
    endpoint = f"http://127.0.0.2:{evil.port}\\@127.0.0.1:9"
    with pytest.raises(UnsafeInputError, match="backslash"):
        _fetch(endpoint, cache_dir, token=ALICE)
    assert evil.seen == []


def test_endpoint_with_userinfo_is_refused_and_the_password_never_shown(
    cache_dir: Path, clean
) -> None:
    """requests would turn ``u:pw@`` into Basic auth, replacing the Bearer token."""
    seen_before = []
    with _hub(lambda m, p: (200, None, file_headers(), BLOB)) as hub:
        endpoint = f"http://user:pa55word-42@127.0.0.1:{hub.port}"
        with pytest.raises(UnsafeInputError) as info:
            _fetch(endpoint, cache_dir, token=ALICE)
        seen_before = hub.seen
    assert seen_before == []
    assert "pa55word-42" not in str(info.value) and "pa55word-42" not in repr(info.value)
    clean(info.value)


def test_plain_http_through_a_proxy_never_carries_the_token(
    evil: ScriptedServer, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, clean
) -> None:
    """A loopback endpoint is exempt from https, but a proxy is where the request really goes."""
    monkeypatch.setenv("HTTP_PROXY", evil.url)
    monkeypatch.setenv("http_proxy", evil.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with _hub(lambda m, p: (200, None, file_headers(), BLOB)) as hub:
        with pytest.raises(InsecureTransportError, match="proxy") as info:
            _fetch(hub.url, cache_dir, token=ALICE)
    assert evil.authorized() == []
    clean(info.value)


def test_plain_http_proxy_is_fine_without_a_token(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy rule is about the token: anonymous downloads still go through the proxy."""
    with ScriptedServer(lambda m, p: (200, None, file_headers(), BLOB), "127.0.0.2") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        path = _fetch("http://127.0.0.1:9", cache_dir, token=False)
    assert path.read_bytes() == BLOB
    assert proxy.seen and proxy.authorized() == []


# ---- tokens that cannot be sent ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [f"{ALICE}\r\nX-Evil: 1", f"{ALICE}\nsecond", f"{ALICE}é€"])
def test_token_that_cannot_be_a_header_is_a_clear_hub_error(
    hub: LoopbackHub, cache_dir: Path, clean, bad: str
) -> None:
    with pytest.raises(InvalidTokenError, match="token= argument") as info:
        _fetch(hub.endpoint, cache_dir, token=bad)
    clean(info.value)
    assert bad not in str(info.value) and bad not in repr(info.value)
    assert hub.log == []


def test_two_line_token_in_env_is_a_clear_hub_error(
    hub: LoopbackHub, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, clean
) -> None:
    monkeypatch.setenv("BA_ACCESS_TOKEN", f"{ALICE}\nsecond")
    with pytest.raises(InvalidTokenError, match="BA_ACCESS_TOKEN") as info:
        _fetch(hub.endpoint, cache_dir)
    clean(info.value)
    assert hub.log == []


def test_two_line_token_file_is_a_clear_hub_error(
    hub: LoopbackHub, cache_dir: Path, hub_env: Path, clean
) -> None:
    hub_env.mkdir(parents=True, exist_ok=True)
    (hub_env / "token").write_text(f"{ALICE}\nsecond line\n")
    with pytest.raises(InvalidTokenError, match="token file") as info:
        _fetch(hub.endpoint, cache_dir)
    clean(info.value)


# ---- what a hostile server echoes back ---------------------------------------------------------


def test_token_echoed_in_reason_phrase_is_not_shown(cache_dir: Path, clean) -> None:
    with _hub(lambda m, p: (418, f"Echo {ALICE}", {}, b"")) as hub:
        with pytest.raises(HubError) as info:
            _fetch(hub.url, cache_dir, token=ALICE)
    assert info.value.status == 418
    clean(info.value)


def test_token_echoed_in_request_id_is_not_kept(cache_dir: Path, clean) -> None:
    headers = {"X-Request-Id": f"id-{ALICE}", "X-Error-Code": "RepoNotFound"}
    with _hub(lambda m, p: (404, None, headers, b"")) as hub:
        with pytest.raises(HubError) as info:
            _fetch(hub.url, cache_dir, token=ALICE)
    clean(info.value)
    assert info.value.request_id is not None and info.value.request_id.startswith("id-")


# ---- waiting: one deadline per file, bounded waits ---------------------------------------------


def test_dripping_body_stops_at_the_deadline(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One byte at a time resets any stall timer; the whole-transfer deadline still holds."""
    body = b"x" * 400
    headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{git_etag(body)}"'}

    def answer(method: str, path: str) -> Answer:
        if method == "HEAD":
            return 200, None, {**headers, "Content-Length": str(len(body))}, b""
        drip = [(body[i : i + 1], 0.05) for i in range(len(body))]
        return 200, None, {**headers, "Content-Length": str(len(body))}, drip

    monkeypatch.setenv("BA_HUB_DEADLINE", "1")
    with _hub(answer) as hub:
        start = time.monotonic()
        with pytest.raises(DownloadError, match="BA_HUB_DEADLINE"):
            _fetch(hub.url, cache_dir)
        elapsed = time.monotonic() - start
    assert elapsed < 4
    assert not list(cache_dir.rglob("*.incomplete"))


def test_huge_retry_after_is_capped_by_max_wait(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BA_HUB_MAX_WAIT", "0.2")
    with _hub(lambda m, p: (429, None, {"Retry-After": "100000"}, b"")) as hub:
        start = time.monotonic()
        with pytest.raises(HubError, match="429"):
            _fetch(hub.url, cache_dir)
        elapsed = time.monotonic() - start
        tries = len(hub.seen)
    assert tries == 1 + 1 + 5
    assert elapsed < 0.2 * 6 + 2


def test_first_retry_after_is_honoured(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    times: list[float] = []

    def answer(method: str, path: str) -> Answer:
        times.append(time.monotonic())
        if len(times) == 1:
            return 429, None, {"Retry-After": "1"}, b""
        return 200, None, file_headers(), BLOB

    with _hub(answer) as hub:
        assert _fetch(hub.url, cache_dir).read_bytes() == BLOB
    assert times[1] - times[0] >= 0.95


# ---- planted cache entries ---------------------------------------------------------------------


def test_planted_snapshot_directory_link_is_refused(
    hub: LoopbackHub, cache_dir: Path, tmp_path: Path
) -> None:
    commit = hub.repos[("model", "org/tiny")].refs["main"]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "tokenizer.json").write_text('{"planted": true}')
    snapshots = cache_dir / "models--org--tiny" / "snapshots"
    snapshots.mkdir(parents=True)
    (snapshots / commit).symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeInputError, match="symbolic link"):
        _fetch(hub.endpoint, cache_dir, revision=commit)


def test_planted_missing_marker_link_never_creates_a_file_outside(
    hub: LoopbackHub, cache_dir: Path, tmp_path: Path
) -> None:
    commit = hub.repos[("model", "org/tiny")].refs["main"]
    target = tmp_path / "created-outside"
    marker_dir = cache_dir / "models--org--tiny" / ".no_exist" / commit
    marker_dir.mkdir(parents=True)
    (marker_dir / "absent.json").symlink_to(target)
    with pytest.raises((UnsafeInputError, RemoteEntryNotFoundError)):
        download("org/tiny", "absent.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert not target.exists()


# ---- names and redirects that are not HubErrors today ------------------------------------------


def test_repo_id_with_trailing_newline_is_refused(hub: LoopbackHub, cache_dir: Path) -> None:
    with pytest.raises(UnsafeInputError):
        download("org/tiny\n", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert hub.log == []
    assert not cache_dir.exists()


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "http:/path/only", "http://[::1", "ftp://127.0.0.1/x"]
)
def test_redirect_to_a_url_that_is_not_http_is_a_hub_error(
    cache_dir: Path, location: str, clean
) -> None:
    def answer(method: str, path: str) -> Answer:
        if method == "HEAD":
            return 200, None, file_headers(), b""
        return 302, None, {"Location": location}, b""

    with _hub(answer) as hub:
        with pytest.raises(HubError) as info:
            _fetch(hub.url, cache_dir, token=ALICE)
    clean(info.value)


def test_deeply_nested_tokenizer_config_is_a_clear_error(hub: LoopbackHub, cache_dir: Path) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    tokenizer = Path(__file__).parents[2].parent / "shared/tokenizers/gpt2/tokenizer.json"
    hub.add_repo(
        "org/nested",
        {"tokenizer.json": tokenizer.read_bytes(), "tokenizer_config.json": nested},
    )
    with pytest.raises(ValueError, match="tokenizer_config.json"):
        batok.AutoTokenizer.from_pretrained(
            "org/nested", endpoint=hub.endpoint, cache_dir=cache_dir
        )


def test_environment_has_no_ambient_proxy() -> None:
    """The proxy tests set their own; an ambient proxy would make the others meaningless."""
    assert not any(os.environ.get(v) for v in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"))
