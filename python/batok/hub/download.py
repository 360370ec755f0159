"""Downloading one file from the hub into the cache: HTTP through one ``requests.Session``.

The flow follows hub-protocol.md section 3: a commit that is already cached needs no network; a
HEAD (no retries, short timeout) gives commit, etag and size; on failure the cache is served if it
has the file; otherwise the blob is streamed under a lock into a private temp file, resumed with
``Range`` when the stream breaks, verified (size and sha256 or git sha1), renamed into ``blobs/``
and linked from ``snapshots/``.

Redirects are followed by hand so that ``Authorization`` goes only to the endpoint's origin,
judged on the URL as the HTTP stack will send it and on the proxy it will go through. One
deadline bounds each file's whole transfer, waits included.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from .auth import Credential, TokenArg, describe_source, get_credential
from .cache import RepoCache
from .endpoints import (
    Origin,
    check_url,
    file_url,
    get_endpoint,
    is_commit_hash,
    is_loopback_host,
    normalize_etag,
    origin_of,
    redact_url,
    repo_web_url,
    validate_filename,
    validate_repo_id,
    validate_revision,
    whoami_url,
)
from .errors import (
    DownloadError,
    EntryNotFoundError,
    GatedRepoError,
    HubError,
    InsecureTransportError,
    InvalidTokenError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
    UnsafeInputError,
)

__all__ = ["DEFAULT_MAX_SIZE", "HubSettings", "download", "get_session", "is_offline", "whoami"]

logger = logging.getLogger("batok.hub")

DEFAULT_MAX_SIZE = 1 << 30  # 1 GiB: far above any tokenizer file, far below "fill the disk"
_ERROR_BODY_LIMIT = 1 << 20
_CHUNK = 1 << 16
_MAX_REDIRECTS = 10
_PROGRESS_MIN_SIZE = 1 << 20
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class HubSettings:
    """Timeouts and retry policy. Defaults follow the protocol; ``BA_HUB_*`` variables override
    them (tests use tiny values so that fault injection stays fast)."""

    etag_timeout: float = 10.0
    etag_timeout_retry: float = 60.0
    download_timeout: float = 10.0
    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 8.0
    lock_timeout: float = 600.0
    # The longest any one wait may be, whatever a Retry-After asks for.
    max_wait: float = 60.0
    # One file's whole transfer (metadata, retries, waits, body): a server that drips a byte
    # at a time resets every per-read timeout, but not this.
    deadline: float = 600.0

    @classmethod
    def from_env(cls) -> HubSettings:
        def number(name: str, default: float) -> float:
            raw = os.environ.get(name, "").strip()
            try:
                return float(raw) if raw else default
            except ValueError:
                raise ValueError(f"{name} must be a number, got {raw!r}") from None

        d = cls()
        return cls(
            etag_timeout=number("BA_HUB_ETAG_TIMEOUT", d.etag_timeout),
            etag_timeout_retry=number("BA_HUB_ETAG_TIMEOUT_RETRY", d.etag_timeout_retry),
            download_timeout=number("BA_HUB_DOWNLOAD_TIMEOUT", d.download_timeout),
            max_retries=int(number("BA_HUB_MAX_RETRIES", d.max_retries)),
            backoff_base=number("BA_HUB_BACKOFF_BASE", d.backoff_base),
            backoff_max=number("BA_HUB_BACKOFF_MAX", d.backoff_max),
            lock_timeout=number("BA_HUB_LOCK_TIMEOUT", d.lock_timeout),
            max_wait=number("BA_HUB_MAX_WAIT", d.max_wait),
            deadline=number("BA_HUB_DEADLINE", d.deadline),
        )

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_base * (2**attempt), self.backoff_max, self.max_wait))


def is_offline() -> bool:
    return os.environ.get("BA_HUB_OFFLINE", "").strip().lower() in _TRUE


# ---- the session -------------------------------------------------------------------------------

_session: requests.Session | None = None
_session_pid = 0
_session_lock = threading.Lock()


def get_session() -> requests.Session:
    """The one shared Session (a new one after fork: pooled sockets must not be shared)."""
    global _session, _session_pid
    with _session_lock:
        if _session is None or _session_pid != os.getpid():
            session = requests.Session()
            session.headers["User-Agent"] = _user_agent()
            _redact_urllib3_logs()
            _session, _session_pid = session, os.getpid()
        return _session


class _RedactQueries(logging.Filter):
    """urllib3 logs each request line with its query; a signed URL's query is a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                re.sub(r"\?\S*", "", a) if isinstance(a, str) and "?" in a else a
                for a in record.args
            )
        return True


def _redact_urllib3_logs() -> None:
    pool_logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactQueries) for f in pool_logger.filters):
        pool_logger.addFilter(_RedactQueries())


def _user_agent() -> str:
    try:
        from importlib.metadata import version

        ours = version("batok")
    except Exception:  # not installed (running from a checkout)
        ours = "unknown"
    return f"batok/{ours}; python/{sys.version_info[0]}.{sys.version_info[1]}"


# ---- one request context -----------------------------------------------------------------------


@dataclass
class _Ctx:
    """What error messages need to know about the current call. Holds the Credential object,
    whose repr is redacted, never the token string."""

    endpoint: str
    repo_id: str
    revision: str
    filename: str | None
    repo_type: str
    cred: Credential | None
    settings: HubSettings
    deadline: float = 0.0  # time.monotonic() by which the file must be done

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.settings.deadline

    def fields(self, **extra: Any) -> dict[str, Any]:
        return {
            "repo_id": self.repo_id,
            "revision": self.revision,
            "filename": self.filename,
            **extra,
        }

    def scrub(self, text: str | None, limit: int = 500) -> str:
        """Text a server chose (reason phrase, header, body) made safe to show: one line, short,
        and without the token, which a hostile or buggy server may echo back."""
        clean = re.sub(r"[\x00-\x1f\x7f]", " ", text or "")
        if self.cred is not None:
            clean = clean.replace(self.cred.reveal(), "<token>")
        return clean[:limit]

    def left(self) -> float:
        """Seconds until the deadline."""
        return self.deadline - time.monotonic()

    def timeout(self, seconds: float) -> float:
        """A request timeout that ends by the deadline."""
        left = self.left()
        if left <= 0:
            raise _NetworkFailure(f"gave up after {self.settings.deadline:g}s (BA_HUB_DEADLINE)")
        return min(seconds, left)

    def sleep(self, seconds: float) -> None:
        """Wait, at most ``max_wait``; a wait that would pass the deadline fails now instead."""
        wait = min(seconds, self.settings.max_wait)
        if wait >= self.left():
            raise _NetworkFailure(f"gave up after {self.settings.deadline:g}s (BA_HUB_DEADLINE)")
        time.sleep(wait)


class _NetworkFailure(Exception):
    """Internal: a failure that says nothing about the repo (network, timeout, 5xx, 429)."""

    def __init__(self, reason: str, status: int | None = None, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.wait = wait  # what the server asked us to wait before trying again


class _KeepHeaders(requests.auth.AuthBase):
    """Auth that changes nothing: without it requests would take credentials from ``~/.netrc``
    or the URL and put them in ``Authorization`` in place of ours."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


def _send(
    ctx: _Ctx,
    method: str,
    url: str,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    stream: bool = False,
) -> tuple[requests.Response, bool]:
    """One request, no redirects followed. Returns the response and whether a token went out.

    The request is prepared first and the token decision made on what will really be sent: the
    prepared URL as the connection pool parses it, and the proxy requests will pick for it.
    """
    check_url(url, "The URL")
    session = get_session()
    prepared = session.prepare_request(
        requests.Request(method, url, headers=headers, auth=_KeepHeaders())
    )
    assert prepared.url is not None
    settings = session.merge_environment_settings(prepared.url, {}, stream, None, None)
    proxy = requests.utils.select_proxy(prepared.url, settings["proxies"])
    target = check_url(prepared.url, "The URL")
    authenticated = False
    if ctx.cred is not None and target == origin_of(ctx.endpoint):
        _check_transport(target, proxy, ctx)
        prepared.headers["Authorization"] = ctx.cred.authorization()
        authenticated = True
    shown = redact_url(url)
    logger.debug("%s %s (authenticated: %s)", method, shown, "yes" if authenticated else "no")
    try:
        resp = session.send(prepared, timeout=timeout, allow_redirects=False, **settings)
    except (ValueError, LookupError) as exc:
        # requests parses a redirect's Location even when not following it, and some
        # Locations (an unclosed IPv6 bracket) raise there; they are not URLs batok follows.
        if isinstance(exc, requests.RequestException):
            raise
        raise HubError(
            f"{redact_url(url)} answered with a header batok cannot read "
            f"({type(exc).__name__}); refusing it.",
            **ctx.fields(),
        ) from None
    logger.debug("%s %s -> %d", method, shown, resp.status_code)
    return resp, authenticated


def _check_transport(target: Origin, proxy: str | None, ctx: _Ctx) -> None:
    """Plain http may carry the token only straight to a loopback host: a proxy, even a local
    one, is another party that would read it."""
    if target.scheme != "http":
        return
    if proxy is not None:
        raise InsecureTransportError(
            f"Refusing to send the token from {describe_source(ctx.cred)} over plain http "
            f"through the proxy {redact_url(proxy)}; use an https endpoint, exempt the hub in "
            "NO_PROXY, or pass token=False to send none.",
            **ctx.fields(),
        )
    if not is_loopback_host(target.host):
        raise InsecureTransportError(
            f"Refusing to send the token from {describe_source(ctx.cred)} over plain http to "
            f"{target.host}; use an https endpoint, or token=False to send none.",
            **ctx.fields(),
        )


def _request(
    ctx: _Ctx,
    method: str,
    url: str,
    *,
    timeout: float,
    retries: int,
    headers: dict[str, str] | None = None,
    stream: bool = False,
) -> tuple[requests.Response, bool]:
    """``_send`` with exponential backoff on network errors and 408/429/5xx."""
    attempt = 0
    while True:
        try:
            resp, authenticated = _send(
                ctx, method, url, timeout=ctx.timeout(timeout), headers=headers, stream=stream
            )
        except requests.exceptions.ProxyError as exc:
            # A broken proxy must be fixed, not papered over by the cache.
            raise HubError(
                f"Proxy error reaching {redact_url(url)}: {_reason(ctx, exc)}", **ctx.fields()
            ) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt >= retries:
                raise _NetworkFailure(_reason(ctx, exc)) from None
            wait = ctx.settings.backoff(attempt)
            logger.info(
                "%s %s failed (%s); retry in %.2fs",
                method,
                redact_url(url),
                _reason(ctx, exc),
                wait,
            )
            ctx.sleep(wait)
            attempt += 1
            continue
        except requests.RequestException as exc:
            # Anything else requests refuses (a header it cannot send, a URL it cannot parse)
            # is still a hub call that failed: a HubError, with nothing secret in it.
            raise HubError(
                f"Request to {redact_url(url)} failed: {_reason(ctx, exc)}", **ctx.fields()
            ) from None
        if resp.status_code in _RETRY_STATUSES and attempt < retries:
            wait = _retry_wait(resp, ctx.settings, attempt)
            logger.info(
                "%s %s -> %d; retry in %.2fs", method, redact_url(url), resp.status_code, wait
            )
            resp.close()
            ctx.sleep(wait)
            attempt += 1
            continue
        return resp, authenticated


def _retry_after(resp: requests.Response, settings: HubSettings) -> float | None:
    """What a 429 or 503 asks us to wait (``Retry-After`` seconds, or ``RateLimit: t=``)."""
    if resp.status_code not in (429, 503):
        return None
    seconds = _int_header(resp.headers.get("Retry-After"))
    if seconds is None:
        match = re.search(r"\bt=(\d+)", resp.headers.get("RateLimit", ""))
        seconds = _int_header(match.group(1)) if match else None
    if seconds is None:
        return None
    # The padding is the backoff base (1 s by default): the reset is not to the second. No
    # wait is longer than max_wait, whatever the server asks.
    return min(float(seconds) + settings.backoff_base, settings.max_wait)


def _retry_wait(resp: requests.Response, settings: HubSettings, attempt: int) -> float:
    asked = _retry_after(resp, settings)
    return settings.backoff(attempt) if asked is None else asked


# ---- metadata (HEAD) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileMetadata:
    commit: str
    etag: str
    size: int | None
    location: str


def _fetch_metadata(ctx: _Ctx, url: str, *, retries: int, timeout: float) -> FileMetadata:
    """HEAD the resolve URL; follow relative redirects (renamed repos), stop at absolute ones."""
    headers = {"Accept-Encoding": "identity"}
    for _ in range(_MAX_REDIRECTS):
        resp, authenticated = _request(
            ctx, "HEAD", url, timeout=timeout, retries=retries, headers=headers
        )
        resp.close()
        location = resp.headers.get("Location")
        if resp.is_redirect and location:
            target = _redirect_target(ctx, url, location)
            if origin_of(target) == origin_of(url) and not urlsplit(location).netloc:
                url = target
                continue
            return _metadata(ctx, resp, target)
        if resp.status_code >= 400:
            _raise_for_status(ctx, resp, authenticated)
        return _metadata(ctx, resp, url)
    raise HubError(f"Too many redirects from {redact_url(url)}.", **ctx.fields())


def _redirect_target(ctx: _Ctx, url: str, location: str) -> str:
    """The absolute URL a redirect points to, if it is one batok will follow at all."""
    try:
        target = urljoin(url, location)
        check_url(target, "The redirect target")
    except (ValueError, UnsafeInputError):
        raise HubError(
            f"{redact_url(url)} redirected to a URL batok does not follow "
            f"({ctx.scrub(redact_url(location), limit=200)!r}): only http(s) URLs without a "
            "backslash, control characters or a user name.",
            **ctx.fields(),
        ) from None
    return target


def _metadata(ctx: _Ctx, resp: requests.Response, location: str) -> FileMetadata:
    h = resp.headers
    raw_commit = h.get("X-Repo-Commit")
    if raw_commit is None:
        raise HubError(
            f"{ctx.endpoint} sent no X-Repo-Commit header; is BA_ENDPOINT a hub?", **ctx.fields()
        )
    if not is_commit_hash(raw_commit):
        raise UnsafeInputError("The hub sent a commit id that is not 40 lowercase hex.")
    etag = normalize_etag(h.get("X-Linked-Etag") or h.get("ETag"))
    if etag is None:
        raise UnsafeInputError("The hub sent no ETag, or one that is not a 40/64-hex blob id.")
    size = _int_header(h.get("X-Linked-Size"))
    if size is None and not resp.is_redirect:  # a 3xx's Content-Length is of its own tiny body
        size = _int_header(h.get("Content-Length"))
    announced = h.get("X-Linked-Size")
    if size is None and announced is not None:
        raise UnsafeInputError("The hub sent a file size that is not a plain number.")
    return FileMetadata(commit=raw_commit, etag=etag, size=size, location=location)


# ---- errors ------------------------------------------------------------------------------------


def _raise_for_status(ctx: _Ctx, resp: requests.Response, authenticated: bool) -> None:
    """Classify by ``X-Error-Code`` first, then the status (hub-protocol.md section 1)."""
    status = resp.status_code
    if status in _RETRY_STATUSES:
        raise _NetworkFailure(
            f"HTTP {status}", status=status, wait=_retry_after(resp, ctx.settings)
        )
    code = resp.headers.get("X-Error-Code", "")
    message = _server_message(ctx, resp)
    extra = ctx.fields(status=status, server_message=message, request_id=_request_id(ctx, resp))
    repo, ep = ctx.repo_id, ctx.endpoint
    web = repo_web_url(ep, repo, ctx.repo_type)
    if status == 401 and message == _INVALID_CREDENTIALS:
        raise InvalidTokenError(
            f"The hub rejected the token from {describe_source(ctx.cred)}; expired or mistyped? "
            "Fix it, or pass token=False to send none.",
            **extra,
        )
    if code == "GatedRepo":
        if authenticated:
            raise GatedRepoError(
                f"The token from {describe_source(ctx.cred)} has no access to gated repo {repo}; "
                f"request it at {web}. Server: {message}",
                **extra,
            )
        raise GatedRepoError(
            f"{repo} is gated and no token was sent. Set BA_ACCESS_TOKEN (or pass token=, or run "
            f"`batok login`) to a token granted access, and request access at {web}.",
            **extra,
        )
    if code == "RevisionNotFound":
        raise RevisionNotFoundError(f"Revision {ctx.revision} does not exist in {repo}.", **extra)
    if code == "EntryNotFound":
        commit = resp.headers.get("X-Repo-Commit", "")
        at = f" (commit {commit})" if is_commit_hash(commit) else ""
        error = RemoteEntryNotFoundError(
            f"{ctx.filename} is not in {repo} at {ctx.revision}{at}.", **extra
        )
        error.commit = commit if is_commit_hash(commit) else None  # type: ignore[attr-defined]
        raise error
    if code == "RepoNotFound" or status == 401:
        hint = (
            f"if it is private, the token from {describe_source(ctx.cred)} cannot see it."
            if authenticated
            else "if it is private, set BA_ACCESS_TOKEN (or pass token=, or run `batok login`)."
        )
        raise RepositoryNotFoundError(
            f"{repo} not found at {ep}; check the id and type. {hint[0].upper()}{hint[1:]}",
            **extra,
        )
    where = redact_url(resp.url or ep)
    reason = message or ctx.scrub(resp.reason)
    raise HubError(f"The hub answered HTTP {status} for {where}: {reason}", **extra)


def _request_id(ctx: _Ctx, resp: requests.Response) -> str | None:
    value = resp.headers.get("X-Request-Id")
    return None if value is None else ctx.scrub(value, limit=200)


def _server_message(ctx: _Ctx, resp: requests.Response) -> str:
    message = resp.headers.get("X-Error-Message", "")
    if not message and resp.request is not None and resp.request.method != "HEAD":
        body = _read_capped(resp, _ERROR_BODY_LIMIT)
        try:
            message = str(json.loads(body.decode("utf-8")).get("error", ""))
        except (ValueError, AttributeError, RecursionError):
            message = ""
    # Scrubbed before it is cut short, so that no prefix of an echoed token survives.
    return ctx.scrub(message, limit=1 << 20)[:500]


def _read_capped(resp: requests.Response, limit: int) -> bytes:
    data = bytearray()
    try:
        for chunk in resp.iter_content(_CHUNK):
            data += chunk
            if len(data) >= limit:
                break
    except (requests.RequestException, OSError):
        pass
    finally:
        resp.close()
    return bytes(data[:limit])


def _reason(ctx: _Ctx, exc: BaseException) -> str:
    """A short cause for a message, with any query string (signed URLs) and token removed."""
    text = re.sub(r"\?[^\s'\")]*", "", ctx.scrub(str(exc), limit=1 << 16))
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_DIGITS = re.compile(r"[0-9]{1,18}")


def _int_header(value: str | None) -> int | None:
    """A non-negative integer header (sizes, Retry-After): ASCII digits only, and few enough
    that no arithmetic on it overflows; anything else is as if the header were absent."""
    if value is None or not _DIGITS.fullmatch(value.strip()):
        return None
    return int(value.strip())


# ---- the public entry point --------------------------------------------------------------------


def download(
    repo_id: str,
    filename: str,
    *,
    revision: str = "main",
    token: TokenArg = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
    endpoint: str | None = None,
    repo_type: str = "model",
    max_size: int = DEFAULT_MAX_SIZE,
    progress: bool | None = None,
) -> Path:
    """Download one file (like ``hf_hub_download``) and return its path in the cache snapshot.

    ``progress``: None shows a bar for large files on a terminal unless
    ``BA_HUB_DISABLE_PROGRESS_BARS=1``; False never does.
    """
    return fetch(
        repo_id,
        filename,
        revision=revision,
        token=token,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
        force_download=force_download,
        endpoint=endpoint,
        repo_type=repo_type,
        max_size=max_size,
        progress=progress,
    )[0]


def fetch(
    repo_id: str,
    filename: str,
    *,
    revision: str = "main",
    token: TokenArg = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
    endpoint: str | None = None,
    repo_type: str = "model",
    max_size: int = DEFAULT_MAX_SIZE,
    progress: bool | None = None,
) -> tuple[Path, str]:
    """Like :func:`download`, also returning the commit the file came from."""
    validate_repo_id(repo_id)
    validate_filename(filename)
    validate_revision(revision)
    cache = RepoCache(repo_id, repo_type=repo_type, cache_dir=cache_dir)
    offline = local_files_only or is_offline()
    if offline and force_download:
        raise ValueError("force_download=True needs the network, but offline mode is on.")

    # 1. A commit that is cached needs no network at all.
    if is_commit_hash(revision) and not force_download:
        hit = _from_cache(cache, revision, filename)
        if hit is not None:
            return hit, revision

    ep = get_endpoint(endpoint)
    if offline:
        hit = _from_cache(cache, revision, filename)
        if hit is not None:
            return hit, cache.resolve_commit(revision) or revision
        why = "BA_HUB_OFFLINE is set" if is_offline() else "local_files_only=True"
        raise LocalEntryNotFoundError(
            f"{repo_id}/{filename}@{revision} is not cached in {cache.root} and the network is "
            f"disabled ({why}). Run once online to fill the cache.",
            repo_id=repo_id,
            revision=revision,
            filename=filename,
        )

    ctx = _Ctx(
        endpoint=ep,
        repo_id=repo_id,
        revision=revision,
        filename=filename,
        repo_type=repo_type,
        cred=get_credential(token),
        settings=HubSettings.from_env(),
    )
    url = file_url(ep, repo_id, filename, revision, repo_type)
    meta = _metadata_or_cache(ctx, cache, url)
    if isinstance(meta, Path):
        return meta, cache.resolve_commit(revision) or revision

    cache.prepare()
    cache.write_ref(revision, meta.commit)
    if not force_download:
        hit = cache.snapshot_file(meta.commit, filename)
        if hit is not None:
            return hit, meta.commit

    with cache.lock(meta.etag, timeout=ctx.settings.lock_timeout):
        blob = cache.blob_path(meta.etag)
        # Another process may have finished the same blob while we waited for the lock.
        if force_download or not blob.is_file():
            _download_blob(ctx, cache, meta, max_size=max_size, progress=progress)
        return cache.link(meta.commit, filename, meta.etag), meta.commit


def _from_cache(cache: RepoCache, revision: str, filename: str) -> Path | None:
    """The cached file for a revision; raises if the cache remembers the repo lacks it."""
    commit = cache.resolve_commit(revision)
    if commit is None:
        return None
    hit = cache.snapshot_file(commit, filename)
    if hit is not None:
        return hit
    if cache.is_marked_missing(commit, filename):
        raise RemoteEntryNotFoundError(
            f"{filename} is not in {cache.repo_id} at {revision} (commit {commit}; remembered "
            "in the cache).",
            repo_id=cache.repo_id,
            revision=revision,
            filename=filename,
        )
    return None


def _metadata_or_cache(ctx: _Ctx, cache: RepoCache, url: str) -> FileMetadata | Path:
    """Steps 2-3: HEAD without retries; on trouble serve the cache, else retry, else raise."""
    settings = ctx.settings
    try:
        return _fetch_metadata(ctx, url, retries=0, timeout=settings.etag_timeout)
    except RemoteEntryNotFoundError as error:
        commit = getattr(error, "commit", None)
        if commit:
            cache.prepare()
            cache.write_ref(ctx.revision, commit)
            cache.mark_missing(commit, str(ctx.filename))
        raise
    except (RevisionNotFoundError, EntryNotFoundError, UnsafeInputError, InsecureTransportError):
        raise
    except HubError as error:
        if error.status is None and not isinstance(
            error, (RepositoryNotFoundError, InvalidTokenError)
        ):
            raise  # proxy trouble, not a hub, redirect loop: to be fixed, not hidden by the cache
        first: _NetworkFailure | HubError = error
    except _NetworkFailure as error:
        first = error

    hit = _from_cache(cache, ctx.revision, str(ctx.filename))
    if hit is not None:
        logger.warning(
            "serving %s/%s@%s from the cache: %s",
            ctx.repo_id,
            ctx.filename,
            ctx.revision,
            _failure_text(first),
        )
        return hit
    if isinstance(first, _NetworkFailure):
        try:
            if first.wait is not None:  # the server said when to come back: not sooner
                ctx.sleep(first.wait)
            return _fetch_metadata(
                ctx, url, retries=settings.max_retries, timeout=settings.etag_timeout_retry
            )
        except _NetworkFailure as again:
            first = again
    if isinstance(first, (RepositoryNotFoundError, InvalidTokenError)):
        raise first
    raise LocalEntryNotFoundError(
        f"{ctx.repo_id}/{ctx.filename}@{ctx.revision} is not cached in {cache.root} and "
        f"{ctx.endpoint} is unreachable: {_failure_text(first)}",
        **ctx.fields(status=getattr(first, "status", None)),
    ) from None


def _failure_text(error: BaseException) -> str:
    return error.reason if isinstance(error, _NetworkFailure) else str(error)


# ---- the body (GET) ----------------------------------------------------------------------------


def _download_blob(
    ctx: _Ctx, cache: RepoCache, meta: FileMetadata, *, max_size: int, progress: bool | None
) -> None:
    expected = meta.size
    limit = max_size if expected is None else min(max_size, expected)
    if expected is not None and expected > max_size:
        raise DownloadError(
            f"{ctx.filename} is {expected} bytes, over the {max_size}-byte limit; pass a larger "
            "max_size= if you trust it.",
            **ctx.fields(),
        )
    blobs = cache.blob_path(meta.etag).parent
    blobs.mkdir(parents=True, exist_ok=True)
    if expected is not None and shutil.disk_usage(blobs).free < expected:
        raise DownloadError(
            f"Not enough disk space in {blobs} for {expected} bytes.", **ctx.fields()
        )

    tmp, handle = cache.open_incomplete(meta.etag)
    try:
        with handle:
            written = _stream(ctx, meta, handle, limit=limit, progress=progress)
            handle.flush()
            os.fsync(handle.fileno())
        if expected is not None and written != expected:
            raise DownloadError(
                f"{ctx.filename}: got {written} bytes, the hub announced {expected}; retry, with "
                "force_download=True if it persists.",
                **ctx.fields(),
            )
        if _hash_file(tmp, meta.etag, written) != meta.etag:
            raise DownloadError(
                f"{ctx.filename}: the content does not match its hash {meta.etag}; the download "
                "was corrupted. Retry, with force_download=True if it persists.",
                **ctx.fields(),
            )
        cache.commit_blob(tmp, meta.etag)
    finally:
        tmp.unlink(missing_ok=True)  # gone already after a successful rename


def _stream(
    ctx: _Ctx, meta: FileMetadata, handle: IO[bytes], *, limit: int, progress: bool | None
) -> int:
    """Write the body to ``handle``; resume with ``Range`` when the stream breaks."""
    written = 0
    stalls = 0
    settings = ctx.settings
    bar = _progress_bar(ctx, meta.size, progress)
    try:
        while True:
            headers = {"Accept-Encoding": "identity"}
            if written:
                headers["Range"] = f"bytes={written}-"
            resp = _get(ctx, meta.location, headers)
            try:
                if resp.status_code == 416 and written and written == meta.size:
                    return written
                if resp.status_code == 206 and written:
                    if not resp.headers.get("Content-Range", "").startswith(f"bytes {written}-"):
                        raise DownloadError(
                            f"{ctx.filename}: the server resumed at the wrong offset.",
                            **ctx.fields(),
                        )
                elif resp.status_code == 200:
                    if written:  # the server ignored Range: start over
                        handle.seek(0)
                        handle.truncate()
                        if bar is not None:
                            bar.reset(total=meta.size)
                        written = 0
                else:
                    _raise_for_status(ctx, resp, authenticated=False)
                announced = _int_header(resp.headers.get("Content-Length"))
                if announced is not None and written + announced > limit:
                    raise DownloadError(
                        f"{ctx.filename}: the server sends {written + announced} bytes, more than "
                        f"the {limit} expected; refusing.",
                        **ctx.fields(),
                    )
                for chunk in _body(ctx, resp):
                    written += len(chunk)
                    stalls = 0  # progress resets the failure budget
                    if written > limit:
                        raise DownloadError(
                            f"{ctx.filename}: the body exceeds the {limit} bytes expected; "
                            "refusing.",
                            **ctx.fields(),
                        )
                    handle.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                return written
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                stalls += 1
                if stalls > settings.max_retries:
                    raise DownloadError(
                        f"{ctx.filename}: the download kept failing ({_reason(ctx, exc)}); "
                        "retry later.",
                        **ctx.fields(),
                    ) from None
                logger.info(
                    "%s: stream broke at %d bytes (%s); resuming",
                    ctx.filename,
                    written,
                    _reason(ctx, exc),
                )
                try:
                    ctx.sleep(min(settings.backoff_base, 1.0))
                except _NetworkFailure as failure:
                    raise DownloadError(
                        f"{ctx.filename}: {failure.reason}", **ctx.fields()
                    ) from None
            finally:
                resp.close()
    finally:
        if bar is not None:
            bar.close()


def _body(ctx: _Ctx, resp: requests.Response) -> Iterator[bytes]:
    """The body as it arrives, checking the deadline after every read.

    ``read1`` returns whatever one read brings rather than waiting for a full chunk, so a
    server that sends a byte at a time cannot hold a read for longer than the read timeout.
    """
    while True:
        chunk = resp.raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            return
        yield chunk
        if ctx.left() <= 0:
            raise DownloadError(
                f"{ctx.filename}: gave up after {ctx.settings.deadline:g}s (BA_HUB_DEADLINE); "
                "the server is too slow. Retry later, or raise BA_HUB_DEADLINE.",
                **ctx.fields(),
            )


def _get(ctx: _Ctx, url: str, headers: dict[str, str]) -> requests.Response:
    """GET following redirects by hand; the token only ever goes to the endpoint's origin."""
    settings = ctx.settings
    for _ in range(_MAX_REDIRECTS):
        try:
            resp, _auth = _request(
                ctx,
                "GET",
                url,
                timeout=settings.download_timeout,
                retries=settings.max_retries,
                headers=headers,
                stream=True,
            )
        except _NetworkFailure as failure:
            raise DownloadError(
                f"{ctx.filename}: could not download from {redact_url(url)}: {failure.reason}",
                **ctx.fields(),
            ) from None
        location = resp.headers.get("Location")
        if resp.is_redirect and location:
            resp.close()
            url = _redirect_target(ctx, url, location)
            continue
        if resp.status_code >= 400:
            if resp.status_code in _RETRY_STATUSES:
                resp.close()
                raise DownloadError(
                    f"{ctx.filename}: {redact_url(url)} kept answering HTTP {resp.status_code}.",
                    **ctx.fields(status=resp.status_code),
                )
            if origin_of(url) != origin_of(ctx.endpoint):
                # e.g. an expired signed URL: the file host's errors are not hub errors.
                message = _server_message(ctx, resp)
                raise DownloadError(
                    f"{ctx.filename}: the file host answered HTTP {resp.status_code} "
                    f"({message or resp.reason}); retry the download.",
                    **ctx.fields(status=resp.status_code, server_message=message),
                )
            _raise_for_status(ctx, resp, _auth)
        return resp
    raise DownloadError(f"Too many redirects from {redact_url(url)}.", **ctx.fields())


def _hash_file(path: Path, etag: str, size: int) -> str:
    """sha256 for a 64-hex etag (LFS); git's blob sha1 for a 40-hex one."""
    if len(etag) == 64:
        digest = hashlib.sha256()
    else:
        digest = hashlib.sha1()  # noqa: S324 - git's object id, not a security boundary alone
        digest.update(f"blob {size}\0".encode("ascii"))
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress_bar(ctx: _Ctx, size: int | None, progress: bool | None) -> Any:
    if progress is False:
        return None
    if progress is None:
        disabled = os.environ.get("BA_HUB_DISABLE_PROGRESS_BARS", "").strip().lower() in _TRUE
        small = size is not None and size < _PROGRESS_MIN_SIZE
        if disabled or small or not sys.stderr.isatty():
            return None
    from tqdm.auto import tqdm

    # The label is the filename only: no URL (signed) and certainly no token.
    return tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=ctx.filename)


# ---- whoami (only `batok login` / `batok whoami` call it: the hub rate-limits it) ---------------


def whoami(token: TokenArg = None, *, endpoint: str | None = None) -> dict[str, Any]:
    """Who the token belongs to, from ``/api/whoami-v2``."""
    if is_offline():
        raise OfflineModeIsEnabled("whoami needs the network, but BA_HUB_OFFLINE is set.")
    ep = get_endpoint(endpoint)
    cred = get_credential(token)
    ctx = _Ctx(ep, "", "", None, "model", cred, HubSettings.from_env())
    if cred is None:
        raise InvalidTokenError(
            "No token found: set BA_ACCESS_TOKEN, pass token=, or run `batok login`."
        )
    try:
        resp, authenticated = _request(ctx, "GET", whoami_url(ep), timeout=10.0, retries=1)
    except _NetworkFailure as failure:
        raise HubError(f"{ep} is unreachable: {failure.reason}") from None
    if resp.status_code == 401:
        raise InvalidTokenError(
            f"The hub rejected the token from {describe_source(cred)}; expired or mistyped?",
            status=401,
            request_id=resp.headers.get("X-Request-Id"),
        )
    if resp.status_code >= 400:
        raise HubError(f"{ep} answered HTTP {resp.status_code} to whoami.", status=resp.status_code)
    try:
        info = json.loads(_read_capped(resp, _ERROR_BODY_LIMIT).decode("utf-8"))
    except ValueError:
        raise HubError(f"{ep} sent an unreadable whoami answer.") from None
    if not isinstance(info, dict):
        raise HubError(f"{ep} sent an unreadable whoami answer.")
    return info
