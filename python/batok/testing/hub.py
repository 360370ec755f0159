"""A loopback test hub that speaks the hub protocol (hub-protocol.md), for tests and demos.

Two real HTTP/1.1 servers on 127.0.0.1: the hub, and a "CDN" file host on another port (so a
different origin) that serves LFS files through HMAC-signed, expiring URLs and **rejects any request
carrying ``Authorization``**, as S3 does. Both log every request (origin, method, path without the
query, whether it was authenticated, status) but never a token, so tests can prove where tokens
went.

Use from Python::

    with LoopbackHub() as hub:
        hub.add_user("alice", token="ba_alice")
        hub.add_repo("org/name", {"tokenizer.json": b"..."}, gated="manual", granted=["alice"])
        ...  # hub.endpoint is the BA_ENDPOINT to use

or from a shell: ``python -m batok.testing.hub --root DIR`` (``batok serve-hub``), where ``DIR``
holds ``{org}/{name}/`` folders and optionally ``hub.json``::

    {"users": [{"name": "alice", "token": "...", "orgs": ["meta-llama"]}],
     "repos": [{"id": "meta-llama/Llama-2-7b-ba", "path": "llama-2", "gated": "manual",
                "granted": ["alice"], "private": false, "type": "model"}]}

Faults are injected per file with :meth:`LoopbackHub.add_fault`; see :data:`FAULT_KINDS`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, unquote

__all__ = ["FAULT_KINDS", "Fault", "HubFile", "LogEntry", "LoopbackHub", "Repo", "User", "main"]

FileData = bytes | str | Path

FAULT_KINDS = {
    "status": "answer `status` (default 500), with `retry_after` seconds if given",
    "drop": "send the headers and `after_bytes` bytes of the body, then close the connection",
    "stall": "sleep `seconds` before answering (past a client's timeout)",
    "corrupt": "flip bytes of the body, keeping its length",
    "short": "send only `length` bytes, with a matching Content-Length (a lying size)",
    "huge_length": "announce a `size` (default 10 GiB) in Content-Length / X-Linked-Size",
    "no_commit": "omit X-Repo-Commit",
    "bad_commit": "send X-Repo-Commit `value`",
    "bad_etag": "send ETag / X-Linked-Etag `value`",
    "expire": "sign CDN URLs that have already expired",
    "echo_token": "answer 400 with the request's Authorization value in the error message",
}

_REPO_TYPE_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_API_PLURAL = {"models": "model", "datasets": "dataset", "spaces": "space"}
_INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


@dataclass(frozen=True)
class HubFile:
    data: bytes
    lfs: bool

    @property
    def git_sha1(self) -> str:
        header = f"blob {len(self.data)}\0".encode("ascii")
        return hashlib.sha1(header + self.data).hexdigest()  # noqa: S324 - git's object id

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.git_sha1


@dataclass
class User:
    name: str
    token: str = field(repr=False)
    orgs: tuple[str, ...] = ()


@dataclass
class Repo:
    repo_id: str
    repo_type: str = "model"
    private: bool = False
    gated: bool | str = False  # False, "auto" or "manual"
    owner: str = ""
    granted: set[str] = field(default_factory=set)
    commits: dict[str, dict[str, HubFile]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    extra_siblings: list[str] = field(default_factory=list)

    def visible_to(self, user: User | None) -> bool:
        return user is not None and (
            user.name == self.owner or self.owner in user.orgs or user.name in self.granted
        )

    def resolve(self, revision: str) -> str | None:
        if revision in self.commits:
            return revision
        return self.refs.get(revision)


@dataclass
class Fault:
    kind: str
    filename: str | None = None  # None: every file
    where: str = "hub"  # "hub", "cdn" or "any"
    method: str | None = None  # None: GET and HEAD
    times: int | None = 1  # None: forever
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0


class LogEntry(NamedTuple):
    origin: str  # "hub" or "cdn"
    method: str
    path: str  # without the query string (signed URLs are secrets)
    authenticated: bool
    status: int
    range: str | None


class LoopbackHub:
    """The hub and its CDN, started on free loopback ports by :meth:`start`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cdn_port: int = 0,
        lfs_threshold: int = 1_000_000,
        signed_url_ttl: float = 3600.0,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError("The test hub only listens on loopback addresses.")
        self.host = host
        self.lfs_threshold = lfs_threshold
        self.signed_url_ttl = signed_url_ttl
        self.users: dict[str, User] = {}  # by token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.renamed: dict[tuple[str, str], str] = {}
        self.faults: list[Fault] = []
        self.log: list[LogEntry] = []
        self._blobs: dict[str, bytes] = {}  # sha256 -> data, for the CDN
        self._key = secrets.token_bytes(32)
        self._lock = threading.RLock()
        self._hub = _Server((host, port), _HubHandler, self)
        self._cdn = _Server((host, cdn_port), _CdnHandler, self)
        self._threads: list[threading.Thread] = []

    # ---- lifecycle ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self._hub.server_address[1]}"

    @property
    def cdn_endpoint(self) -> str:
        return f"http://{self.host}:{self._cdn.server_address[1]}"

    def start(self) -> LoopbackHub:
        for server in (self._hub, self._cdn):
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop both servers and close their sockets; safe to call twice."""
        if self._threads:
            for server in (self._hub, self._cdn):
                server.shutdown()
            for thread in self._threads:
                thread.join(timeout=5)
            self._threads.clear()
        for server in (self._hub, self._cdn):
            server.server_close()

    def __enter__(self) -> LoopbackHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- data --------------------------------------------------------------------------------

    def add_user(self, name: str, token: str, orgs: Iterable[str] = ()) -> User:
        user = User(name, token, tuple(orgs))
        with self._lock:
            self.users[token] = user
        return user

    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, FileData],
        *,
        repo_type: str = "model",
        private: bool = False,
        gated: bool | str = False,
        owner: str | None = None,
        granted: Iterable[str] = (),
        lfs: Iterable[str] | None = None,
        extra_siblings: Iterable[str] = (),
    ) -> str:
        """Create a repo with one commit on ``main``; returns the commit."""
        if gated not in (False, "auto", "manual"):
            raise ValueError("gated is False, 'auto' or 'manual'")
        repo = Repo(
            repo_id,
            repo_type,
            private,
            gated,
            owner if owner is not None else repo_id.split("/")[0],
            set(granted),
            extra_siblings=list(extra_siblings),
        )
        with self._lock:
            self.repos[(repo_type, repo_id)] = repo
        return self.commit(repo_id, files, repo_type=repo_type, lfs=lfs)

    def add_repo_from_dir(self, repo_id: str, directory: str | Path, **options: Any) -> str:
        root = Path(directory)
        files = {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}
        return self.add_repo(repo_id, files, **options)

    def commit(
        self,
        repo_id: str,
        files: Mapping[str, FileData],
        *,
        branch: str = "main",
        repo_type: str = "model",
        lfs: Iterable[str] | None = None,
        delete: Iterable[str] = (),
    ) -> str:
        """Add a commit on ``branch`` that updates ``files`` and removes ``delete``."""
        lfs_names = set(lfs) if lfs is not None else None
        with self._lock:
            repo = self.repos[(repo_type, repo_id)]
            parent = repo.refs.get(branch)
            tree = dict(repo.commits[parent]) if parent else {}
            for name in delete:
                tree.pop(name, None)
            for name, raw in files.items():
                data = _read(raw)
                is_lfs = (
                    name in lfs_names if lfs_names is not None else len(data) >= self.lfs_threshold
                )
                tree[name] = HubFile(data, is_lfs)
                if is_lfs:
                    self._blobs[tree[name].sha256] = data
            listing = json.dumps([repo_id, parent, sorted((n, f.etag) for n, f in tree.items())])
            sha = hashlib.sha1(listing.encode()).hexdigest()  # noqa: S324 - an id, like git's
            repo.commits[sha] = tree
            repo.refs[branch] = sha
        return sha

    def create_ref(self, repo_id: str, name: str, commit: str, repo_type: str = "model") -> None:
        """A tag, branch or ``refs/pr/N`` pointing at ``commit``."""
        with self._lock:
            self.repos[(repo_type, repo_id)].refs[name] = commit

    def grant(self, repo_id: str, user: str, repo_type: str = "model") -> None:
        with self._lock:
            self.repos[(repo_type, repo_id)].granted.add(user)

    def rename(self, old_id: str, new_id: str, repo_type: str = "model") -> None:
        with self._lock:
            repo = self.repos.pop((repo_type, old_id))
            repo.repo_id = new_id
            self.repos[(repo_type, new_id)] = repo
            self.renamed[(repo_type, old_id)] = new_id

    # ---- faults and log ----------------------------------------------------------------------

    def add_fault(
        self,
        kind: str,
        *,
        filename: str | None = None,
        where: str = "hub",
        method: str | None = None,
        times: int | None = 1,
        **params: Any,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        fault = Fault(kind, filename, where, method, times, params)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Forget faults and the request log."""
        with self._lock:
            self.faults.clear()
            self.log.clear()

    def requests(self, origin: str | None = None, method: str | None = None) -> list[LogEntry]:
        with self._lock:
            return [
                e
                for e in self.log
                if (origin is None or e.origin == origin) and (method is None or e.method == method)
            ]

    def _take_fault(
        self, where: str, method: str, filename: str | None, *, expire: bool = False
    ) -> list[Fault]:
        """Faults that apply now (``expire`` ones are taken apart, when a URL is signed)."""
        taken = []
        with self._lock:
            for fault in self.faults:
                if (fault.kind == "expire") != expire:
                    continue
                if fault.where not in (where, "any") or fault.method not in (None, method):
                    continue
                if fault.filename is not None and fault.filename != filename:
                    continue
                if fault.times is not None and fault.hits >= fault.times:
                    continue
                fault.hits += 1
                taken.append(fault)
        return taken

    def _record(self, entry: LogEntry) -> None:
        with self._lock:
            self.log.append(entry)

    # ---- signing -----------------------------------------------------------------------------

    def _sign(self, sha256: str, filename: str, expired: bool) -> str:
        expires = int(time.time() + (-60 if expired else self.signed_url_ttl))
        sig = hmac.new(self._key, f"{sha256}:{expires}".encode(), hashlib.sha256).hexdigest()
        return f"{self.cdn_endpoint}/{sha256}/{quote(filename)}?expires={expires}&sig={sig}"

    def _check_signature(self, sha256: str, query: str) -> str | None:
        params = parse_qs(query)
        try:
            expires = int(params["expires"][0])
            sig = params["sig"][0]
        except (KeyError, ValueError, IndexError):
            return "missing signature"
        good = hmac.new(self._key, f"{sha256}:{expires}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good, sig):
            return "bad signature"
        if expires < time.time():
            return "Request has expired"
        return None


def _read(raw: FileData) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8")
    return Path(raw).read_bytes()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, hub: LoopbackHub) -> None:
        super().__init__(address, handler)
        self.hub = hub


class _Response(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


class _BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "batok-testhub/1"
    timeout = 10  # an idle keep-alive connection frees its thread
    origin = "hub"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        pass  # the structured log is LoopbackHub.log; stderr noise helps nobody

    def do_GET(self) -> None:  # noqa: N802 - stdlib's name
        self._serve("GET")

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib's name
        self._serve("HEAD")

    def _serve(self, method: str) -> None:
        hub = self.server.hub
        path, _, query = self.path.partition("?")
        authenticated = "Authorization" in self.headers
        filename, response = self.route(method, path, query)
        faults = hub._take_fault(self.origin, method, filename)
        status, headers, body, drop_after = self._apply(method, response, faults)
        # Logged before answering, so a client that got its answer always finds the entry.
        hub._record(
            LogEntry(self.origin, method, path, authenticated, status, self.headers.get("Range"))
        )
        self._write(method, status, headers, body, drop_after)

    def route(self, method: str, path: str, query: str) -> tuple[str | None, _Response]:
        raise NotImplementedError

    def _apply(
        self, method: str, response: _Response, faults: list[Fault]
    ) -> tuple[int, dict[str, str], bytes, int | None]:
        status, headers, body = response
        headers = dict(headers)
        drop_after: int | None = None
        for fault in faults:
            p = fault.params
            if fault.kind == "stall":
                time.sleep(float(p.get("seconds", 5.0)))
            elif fault.kind == "status":
                status = int(p.get("status", 500))
                body = json.dumps({"error": f"injected {status}"}).encode()
                headers = {"Content-Type": "application/json"}
                if "retry_after" in p:
                    headers["Retry-After"] = str(p["retry_after"])
            elif fault.kind == "echo_token":
                status, headers, body = _error(
                    400, None, f"bad {self.headers.get('Authorization')}"
                )
            elif fault.kind == "drop":
                drop_after = int(p.get("after_bytes", len(body) // 2))
            elif fault.kind == "corrupt" and body and method == "GET":
                body = bytes(b ^ 0x5A for b in body[:64]) + body[64:]
            elif fault.kind == "short" and method == "GET":
                body = body[: int(p.get("length", len(body) // 2))]
                headers["Content-Length"] = str(len(body))
            elif fault.kind == "huge_length":
                size = str(int(p.get("size", 10 << 30)))
                key = "X-Linked-Size" if "X-Linked-Size" in headers else "Content-Length"
                headers[key] = size
            elif fault.kind == "no_commit":
                headers.pop("X-Repo-Commit", None)
            elif fault.kind == "bad_commit":
                headers["X-Repo-Commit"] = str(p.get("value", "../../../etc"))
            elif fault.kind == "bad_etag":
                value = str(p.get("value", '"../../escape"'))
                headers["X-Linked-Etag" if "X-Linked-Etag" in headers else "ETag"] = value
        headers.setdefault("Content-Length", str(len(body)))
        headers.setdefault("X-Request-Id", secrets.token_hex(8))
        return status, headers, body, drop_after

    def _write(
        self, method: str, status: int, headers: dict[str, str], body: bytes, drop: int | None
    ) -> None:
        drop_after = drop
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if drop_after is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            if method == "GET":
                if drop_after is not None:
                    self.wfile.write(body[:drop_after])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _error(status: int, code: str | None, message: str, **extra: str) -> _Response:
    headers = {"Content-Type": "application/json", "X-Error-Message": message, **extra}
    if code:
        headers["X-Error-Code"] = code
    return _Response(status, headers, json.dumps({"error": message}).encode())


def _ranged(
    method: str, range_header: str | None, data: bytes, headers: dict[str, str]
) -> _Response:
    """200, or 206/416 for ``Range: bytes=N-[M]``."""
    headers = {**headers, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
    if range_header and range_header.startswith("bytes=") and "," not in range_header:
        start_s, _, end_s = range_header[6:].partition("-")
        try:
            start = int(start_s)
            end = int(end_s) if end_s else len(data) - 1
        except ValueError:
            return _Response(416, {**headers, "Content-Range": f"bytes */{len(data)}"}, b"")
        if start >= len(data) or end < start:
            return _Response(416, {**headers, "Content-Range": f"bytes */{len(data)}"}, b"")
        end = min(end, len(data) - 1)
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return _Response(206, headers, data[start : end + 1])
    return _Response(200, headers, data)


class _HubHandler(_BaseHandler):
    origin = "hub"

    def _user(self) -> tuple[User | None, bool]:
        """(user, ok): ok is False for a malformed or unknown token."""
        header = self.headers.get("Authorization")
        if header is None:
            return None, True
        scheme, _, token = header.partition(" ")
        user = self.server.hub.users.get(token.strip()) if scheme == "Bearer" else None
        return user, user is not None

    def route(self, method: str, path: str, query: str) -> tuple[str | None, _Response]:
        user, ok = self._user()
        if not ok:
            return None, _error(401, None, _INVALID_CREDENTIALS)
        segments = path.lstrip("/").split("/")
        if segments[:2] == ["api", "whoami-v2"]:
            return None, self._whoami(user)
        if segments[0] == "api" and len(segments) > 2 and segments[1] in _API_PLURAL:
            return None, self._info(_API_PLURAL[segments[1]], segments[2:], user)
        if "resolve" in segments:
            return self._resolve(method, segments, user)
        return None, _error(404, None, "Not Found")

    def _whoami(self, user: User | None) -> _Response:
        if user is None:
            return _error(401, None, _INVALID_CREDENTIALS)
        info = {
            "type": "user",
            "name": user.name,
            "orgs": [{"name": org} for org in user.orgs],
            "auth": {"type": "access_token", "accessToken": {"role": "read"}},
        }
        return _Response(200, {"Content-Type": "application/json"}, json.dumps(info).encode())

    def _access(
        self, repo_type: str, repo_id: str, user: User | None, *, info: bool = False
    ) -> Repo | _Response:
        hub = self.server.hub
        repo = hub.repos.get((repo_type, repo_id))
        has_token = "Authorization" in self.headers
        if repo is None or (repo.private and not repo.visible_to(user)):
            return _error(401 if not has_token else 404, "RepoNotFound", "Repository not found")
        if repo.gated and not info and not repo.visible_to(user):
            if user is None:
                message = (
                    f"Access to model {repo_id} is restricted. You must have access to it and be "
                    "authenticated to access it. Please log in."
                )
                return _error(401, "GatedRepo", message, **{"WWW-Authenticate": "Bearer"})
            message = (
                f"Access to model {repo_id} is restricted and you are not in the authorized "
                f"list. Visit {self.server.hub.endpoint}/{repo_id} to ask for access."
            )
            return _error(403, "GatedRepo", message)
        return repo

    def _split_repo(self, segments: list[str], marker: str) -> tuple[str, str, list[str]]:
        index = segments.index(marker)
        repo_type = "model"
        head = segments[:index]
        if head and head[0] in ("datasets", "spaces"):
            repo_type = _API_PLURAL[head[0]]
            head = head[1:]
        return repo_type, "/".join(unquote(s) for s in head), segments[index + 1 :]

    def _resolve(
        self, method: str, segments: list[str], user: User | None
    ) -> tuple[str | None, _Response]:
        hub = self.server.hub
        repo_type, repo_id, rest = self._split_repo(segments, "resolve")
        if len(rest) < 2:
            return None, _error(404, None, "Not Found")
        revision, filename = unquote(rest[0]), unquote("/".join(rest[1:]))
        new_id = hub.renamed.get((repo_type, repo_id))
        if new_id is not None:
            location = "/" + _REPO_TYPE_PREFIX[repo_type] + new_id + "/resolve/" + "/".join(rest)
            return filename, _Response(307, {"Location": location}, b"")
        access = self._access(repo_type, repo_id, user)
        if isinstance(access, _Response):
            return filename, access
        commit = access.resolve(revision)
        if commit is None:
            return filename, _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        entry = access.commits[commit].get(filename)
        if entry is None:
            return filename, _error(
                404, "EntryNotFound", f"{filename} does not exist", **{"X-Repo-Commit": commit}
            )
        if entry.lfs:
            expired = any(
                f.kind == "expire" for f in hub._take_fault("hub", method, filename, expire=True)
            )
            body = b"Found. Redirecting to the file host"
            headers = {
                "Location": hub._sign(entry.sha256, filename, expired),
                "X-Linked-Etag": f'"{entry.sha256}"',
                "X-Linked-Size": str(len(entry.data)),
                "ETag": f'"{entry.sha256}"',
                "X-Repo-Commit": commit,
                "Content-Type": "text/plain",
            }
            return filename, _Response(302, headers, body)
        headers = {"ETag": f'"{entry.git_sha1}"', "X-Repo-Commit": commit}
        return filename, _ranged(method, self.headers.get("Range"), entry.data, headers)

    def _info(self, repo_type: str, segments: list[str], user: User | None) -> _Response:
        revision = "main"
        if "revision" in segments[1:]:
            _, repo_id, rest = self._split_repo(segments, "revision")
            revision = unquote("/".join(rest))
        else:
            repo_id = "/".join(unquote(s) for s in segments)
        access = self._access(repo_type, repo_id, user, info=True)
        if isinstance(access, _Response):
            return access
        commit = access.resolve(revision)
        if commit is None:
            return _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        names = sorted(access.commits[commit]) + access.extra_siblings
        info = {
            "id": repo_id,
            "modelId": repo_id,
            "sha": commit,
            "private": access.private,
            "gated": access.gated,
            "siblings": [{"rfilename": name} for name in names],
        }
        return _Response(200, {"Content-Type": "application/json"}, json.dumps(info).encode())


class _CdnHandler(_BaseHandler):
    origin = "cdn"

    def route(self, method: str, path: str, query: str) -> tuple[str | None, _Response]:
        hub = self.server.hub
        sha256, _, name = path.lstrip("/").partition("/")
        filename = unquote(name) or None
        if "Authorization" in self.headers:
            # S3 refuses a request that carries both a signature and a header credential.
            return filename, _error(400, None, "Only one auth mechanism allowed")
        problem = hub._check_signature(sha256, query)
        if problem is not None:
            return filename, _error(403, None, problem)
        data = hub._blobs.get(sha256)
        if data is None:
            return filename, _error(404, None, "NoSuchKey")
        return filename, _ranged(method, self.headers.get("Range"), data, {"ETag": f'"{sha256}"'})


# ---- serving a folder from the command line ----------------------------------------------------


def load_folder(hub: LoopbackHub, root: Path, config: Path | None = None) -> list[str]:
    """Serve ``root``: repos from ``hub.json`` (or ``config``), else every ``{org}/{name}/``."""
    config = config if config is not None else root / "hub.json"
    loaded = []
    if config.is_file():
        spec = json.loads(config.read_text(encoding="utf-8"))
        for user in spec.get("users", []):
            hub.add_user(user["name"], user["token"], user.get("orgs", ()))
        for repo in spec.get("repos", []):
            folder = root / repo.get("path", repo["id"])
            hub.add_repo_from_dir(
                repo["id"],
                folder,
                repo_type=repo.get("type", "model"),
                private=bool(repo.get("private", False)),
                gated=repo.get("gated", False),
                granted=repo.get("granted", ()),
            )
            loaded.append(repo["id"])
        return loaded
    for org in sorted(p for p in root.iterdir() if p.is_dir()):
        for folder in sorted(p for p in org.iterdir() if p.is_dir()):
            hub.add_repo_from_dir(f"{org.name}/{folder.name}", folder)
            loaded.append(f"{org.name}/{folder.name}")
    return loaded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, required=True, help="folder of {org}/{name}/ repos")
    parser.add_argument("--config", type=Path, help="hub.json with users and repos")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=0, help="hub port (0: any free port)")
    parser.add_argument("--cdn-port", type=int, default=0, help="file host port (0: any)")


def serve(args: argparse.Namespace) -> int:
    """Run until interrupted; print the endpoint (tokens are never printed)."""
    try:
        hub = LoopbackHub(host=args.host, port=args.port, cdn_port=args.cdn_port)
    except (ValueError, OSError) as exc:
        print(f"batok serve-hub: {exc}", file=sys.stderr)
        return 2
    repos = load_folder(hub, args.root, args.config)
    hub.start()
    print(f"batok test hub at {hub.endpoint} (file host {hub.cdn_endpoint})", flush=True)
    for repo_id in repos:
        print(f"  {repo_id}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m batok.testing.hub", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_arguments(parser)
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
