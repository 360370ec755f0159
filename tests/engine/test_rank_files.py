"""Finding the rank files batok does not ship (r50k_base, p50k_base), as tiktoken does.

tiktoken's cache first (`TIKTOKEN_CACHE_DIR`, files named by the sha1 of their URL), else the
official URL, here replaced by a loopback server; every file must have tiktoken's pinned sha256,
and nothing else is cached or used. No credentials go with the request.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import batok
from batok import encoding, rank_files

R50K = "r50k_base.tiktoken"


@pytest.fixture
def staged(tiktoken_dir: Path) -> bytes:
    """The staged r50k_base rank file (the official file, by its sha256)."""
    return (tiktoken_dir / R50K).read_bytes()


class FileHost:
    """A loopback server standing in for the official host: serves `files`, records requests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                host.requests.append((self.path, dict(self.headers)))
                body = host.files.get(self.path.rsplit("/", 1)[-1])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/encodings/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FileHost]:
    server = FileHost()
    monkeypatch.setattr(rank_files, "BASE_URL", server.url)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BA_HUB_OFFLINE", raising=False)
    encoding._load_registered.cache_clear()
    yield server
    server.server.shutdown()
    encoding._load_registered.cache_clear()


def _cache_file(tmp_path: Path, file_name: str = R50K) -> Path:
    key = hashlib.sha1((rank_files.BASE_URL + file_name).encode()).hexdigest()
    return tmp_path / "cache" / key


def test_a_cached_file_is_used_without_the_network(
    host: FileHost, tmp_path: Path, tiktoken_cache_seeder: Callable[[Path], None]
) -> None:
    tiktoken_cache_seeder(tmp_path / "cache")
    assert batok.get_encoding("r50k_base").encode("Hello world!") == [15496, 995, 0]
    assert host.requests == []


def test_a_missing_file_is_fetched_checked_and_cached_for_both_libraries(
    host: FileHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, staged: bytes
) -> None:
    host.files[R50K] = staged
    monkeypatch.setenv("BA_ACCESS_TOKEN", "ba_secret_token_value")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc_secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert batok.get_encoding("gpt2").encode("Hello world!") == [15496, 995, 0]
    assert [path for path, _ in host.requests] == ["/encodings/" + R50K]
    headers = {k.lower(): v for k, v in host.requests[0][1].items()}
    assert "authorization" not in headers
    assert _cache_file(tmp_path).read_bytes() == host.files[R50K]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [_cache_file(tmp_path).name]
    # r50k_base shares the file: read from the cache, not fetched again.
    batok.get_encoding("r50k_base")
    assert len(host.requests) == 1


def test_a_damaged_cache_file_is_replaced(host: FileHost, tmp_path: Path, staged: bytes) -> None:
    good = staged
    host.files[R50K] = good
    _cache_file(tmp_path).parent.mkdir(parents=True)
    _cache_file(tmp_path).write_bytes(good[:-100])
    batok.get_encoding("r50k_base")
    assert len(host.requests) == 1
    assert _cache_file(tmp_path).read_bytes() == good


def test_a_file_that_is_not_the_official_one_is_refused_and_not_cached(
    host: FileHost, tmp_path: Path, staged: bytes
) -> None:
    bad = staged.replace(b" 50255\n", b" 50254\n")
    host.files[R50K] = bad
    with pytest.raises(ValueError, match="did not send the official r50k_base.tiktoken"):
        batok.get_encoding("r50k_base")
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []


def test_http_errors_say_how_to_provide_the_file(host: FileHost) -> None:
    with pytest.raises(ConnectionError, match="HTTP 404.*TIKTOKEN_CACHE_DIR"):
        batok.get_encoding("p50k_base")


def test_an_unreachable_host_is_a_connection_error(
    host: FileHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    host.server.shutdown()
    host.server.server_close()
    with pytest.raises(ConnectionError, match="could not fetch p50k_base.tiktoken"):
        batok.get_encoding("p50k_edit")


def test_offline_mode_never_fetches(
    host: FileHost, monkeypatch: pytest.MonkeyPatch, staged: bytes
) -> None:
    host.files[R50K] = staged
    monkeypatch.setenv("BA_HUB_OFFLINE", "1")
    with pytest.raises(ConnectionError, match="not cached and BA_HUB_OFFLINE is set"):
        batok.get_encoding("r50k_base")
    assert host.requests == []


def test_an_empty_cache_dir_turns_the_cache_off(
    host: FileHost, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, staged: bytes
) -> None:
    host.files[R50K] = staged
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    batok.get_encoding("r50k_base")
    assert len(host.requests) == 1
    assert not (tmp_path / "cache").exists()


def test_a_failed_load_is_not_remembered(host: FileHost, staged: bytes) -> None:
    with pytest.raises(ConnectionError):
        batok.get_encoding("r50k_base")
    host.files[R50K] = staged
    assert batok.get_encoding("r50k_base").n_vocab == 50257
