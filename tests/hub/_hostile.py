"""Hostile servers for the security tests: a scripted HTTP server on any loopback address.

A test gives it a function that answers each request; every request it receives is recorded
with its headers, so a test can assert that a token never arrived. 127.0.0.2 and friends are
loopback addresses too, which gives the tests a second host without any network.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The server's side of one request: status, reason phrase (None: the standard one), headers,
# and the body as bytes or as a list of (bytes, pause in seconds) pieces to drip.
Answer = tuple[int, str | None, dict[str, str], bytes | list[tuple[bytes, float]]]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class ScriptedServer:
    """``answer(method, path) -> Answer``; started by ``with``, stopped on exit."""

    answer: Callable[[str, str], Answer]
    host: str = "127.0.0.1"
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _serve(self, method: str) -> None:
                owner.seen.append(Seen(method, self.path, dict(self.headers.items())))
                status, reason, headers, body = owner.answer(method, self.path)
                try:
                    self.send_response(status, reason)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if isinstance(body, bytes):
                        if not any(k.lower() == "content-length" for k in headers):
                            self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        if method != "HEAD":
                            self.wfile.write(body)
                        return
                    self.end_headers()
                    if method != "HEAD":
                        for piece, pause in body:
                            self.wfile.write(piece)
                            self.wfile.flush()
                            time.sleep(pause)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_HEAD(self) -> None:  # noqa: N802
                self._serve("HEAD")

            def do_CONNECT(self) -> None:  # noqa: N802
                self._serve("CONNECT")

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def authorized(self) -> list[Seen]:
        """The requests that arrived with an Authorization header."""
        return [s for s in self.seen if any(k.lower() == "authorization" for k in s.headers)]

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


COMMIT = "c0ffee" + "0" * 34
BLOB = b'{"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []}}\n'


def git_etag(data: bytes) -> str:
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324


def file_headers(data: bytes = BLOB) -> dict[str, str]:
    """What a hub sends for a small (non-LFS) file."""
    return {"X-Repo-Commit": COMMIT, "ETag": f'"{git_etag(data)}"'}
