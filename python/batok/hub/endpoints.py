"""Hub URLs, names and their validation. Pure: no I/O (environment variables are read per call).

Everything that becomes a URL or a cache path passes a validator here first, because repo ids,
revisions and filenames come from users, configs and servers, and all of them may be hostile.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import NamedTuple
from urllib.parse import quote, urlsplit, urlunsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .errors import UnsafeInputError

__all__ = [
    "DEFAULT_ENDPOINT",
    "REPO_TYPES",
    "Origin",
    "check_url",
    "file_url",
    "get_endpoint",
    "is_commit_hash",
    "is_loopback_host",
    "normalize_etag",
    "origin_of",
    "redact_url",
    "repo_folder_name",
    "repo_info_url",
    "repo_web_url",
    "validate_filename",
    "validate_repo_id",
    "validate_revision",
    "whoami_url",
]

DEFAULT_ENDPOINT = "https://hub.boinc.ai"

# URL prefix and cache folder prefix per repo type.
REPO_TYPES = {
    "model": ("", "models"),
    "dataset": ("datasets/", "datasets"),
    "space": ("spaces/", "spaces"),
}

# Every pattern is used with fullmatch: `$` would also match before a final newline.
_REPO_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_ETAG = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# Git ref names are liberal; we accept a conservative subset that is also a safe relative path.
_REV_SEGMENT = re.compile(r"[A-Za-z0-9._+@=-][A-Za-z0-9._+@=,-]*")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# In a URL: what parsers disagree on (backslash) or what is never part of a sound one.
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def get_endpoint(endpoint: str | None = None) -> str:
    """``endpoint=`` > ``BA_ENDPOINT`` (read now, not at import) > the default hub."""
    value = (endpoint or os.environ.get("BA_ENDPOINT", "").strip() or DEFAULT_ENDPOINT).strip()
    check_url(value, "The hub endpoint")
    return value.rstrip("/")


def check_url(url: str, what: str) -> Origin:
    """The origin of an http(s) URL that every parser reads the same way; else UnsafeInputError.

    The token is scoped to an origin, so the origin must be the one the HTTP stack connects to.
    ``urllib.parse`` and urllib3 disagree on a backslash (``http://evil\\@hub/``: the first
    reads host ``hub``, the second connects to ``evil``), so URLs with one are refused, as are
    control characters, spaces and userinfo (requests would turn ``user:pw@`` into Basic auth in
    place of the token), and any URL whose host or port the two parsers still read apart.
    """
    shown = redact_url(url)
    if not isinstance(url, str) or _URL_UNSAFE.search(url):
        backslash = isinstance(url, str) and "\\" in url
        bad = "a backslash" if backslash else "a control character or space"
        raise UnsafeInputError(f"{what} {shown!r} has {bad}; refusing it.")
    try:
        ours = urlsplit(url)
        theirs = parse_url(url)
        our_port = ours.port
    except (ValueError, LocationParseError):
        raise UnsafeInputError(f"{what} {shown!r} is not a valid URL.") from None
    if ours.scheme.lower() not in ("http", "https") or not ours.hostname:
        raise UnsafeInputError(f"{what} must be an http(s) URL with a host, got {shown!r}.")
    if "@" in ours.netloc or theirs.auth is not None:
        raise UnsafeInputError(
            f"{what} {shown!r} has a user name or password in it; refusing it (batok sends "
            "only the access token, to the hub)."
        )
    origin = origin_of(url)
    if (ours.hostname.lower(), our_port or origin.port) != (origin.host, origin.port):
        raise UnsafeInputError(f"{what} {shown!r} is ambiguous; refusing it.")
    return origin


def validate_repo_id(repo_id: str) -> str:
    """Accept ``name`` or ``org/name`` made of ``[A-Za-z0-9._-]``, with no ``--`` or ``..``."""
    if not isinstance(repo_id, str):
        raise UnsafeInputError(f"Repo id must be a string, got {type(repo_id).__name__}.")
    parts = repo_id.split("/")
    ok = (
        1 <= len(parts) <= 2
        and all(_REPO_PART.fullmatch(p) for p in parts)
        # `--` is the cache's separator and `..` a traversal; both would make the folder ambiguous.
        and "--" not in repo_id
        and ".." not in repo_id
        and not any(p.endswith((".", "-")) for p in parts)
    )
    if not ok:
        raise UnsafeInputError(
            f"Invalid repo id {_shown(repo_id)}: use 'name' or 'org/name' with letters, digits, "
            "'.', '_' and '-', and no '--' or '..'.",
            repo_id=None,
        )
    return repo_id


def validate_revision(revision: str) -> str:
    """Accept a branch, tag, ``refs/pr/N`` or commit that is also a safe relative ``refs/`` path."""
    if not isinstance(revision, str) or not revision or len(revision) > 255:
        raise UnsafeInputError(f"Invalid revision {_shown(revision)}.")
    segments = revision.split("/")
    if (
        _CONTROL.search(revision)
        or "\\" in revision
        or ".." in revision
        or revision.endswith(".lock")
    ):
        raise UnsafeInputError(f"Invalid revision {_shown(revision)}.")
    if not all(_REV_SEGMENT.fullmatch(s) and s not in (".", "..") for s in segments):
        raise UnsafeInputError(f"Invalid revision {_shown(revision)}.")
    return revision


def validate_filename(filename: str) -> str:
    """Accept a relative POSIX path inside a repo; refuse anything unsafe under POSIX or Windows."""
    bad = (
        not isinstance(filename, str)
        or not filename
        or len(filename) > 1024
        or _CONTROL.search(filename) is not None
        or "\\" in filename
        or ":" in filename  # drive letters and NTFS alternate data streams
        or filename.startswith("/")
        or _DRIVE.match(filename) is not None
    )
    if not bad:
        segments = filename.split("/")
        bad = any(s in ("", ".", "..") or s.endswith((" ", ".")) for s in segments)
    if bad:
        raise UnsafeInputError(f"Refusing unsafe filename {_shown(filename)}.", filename=None)
    return filename


def is_commit_hash(value: object) -> bool:
    return isinstance(value, str) and _COMMIT.fullmatch(value) is not None


def normalize_etag(raw: str | None) -> str | None:
    """Strip ``W/`` and quotes; accept only a lowercase 40- or 64-hex blob id, else None."""
    if raw is None:
        return None
    value = raw.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return value if _ETAG.fullmatch(value) else None


def repo_folder_name(repo_id: str, repo_type: str = "model") -> str:
    """``models--org--name``: the Hugging Face cache layout."""
    validate_repo_id(repo_id)
    return "--".join([_repo_type(repo_type)[1], *repo_id.split("/")])


def file_url(
    endpoint: str, repo_id: str, filename: str, revision: str = "main", repo_type: str = "model"
) -> str:
    """``{ep}/{prefix}{repo}/resolve/{rev}/{path}``; rev fully encoded, path keeps its ``/``."""
    prefix = _repo_type(repo_type)[0]
    rev = quote(validate_revision(revision), safe="")
    path = quote(validate_filename(filename), safe="/")
    return f"{endpoint.rstrip('/')}/{prefix}{validate_repo_id(repo_id)}/resolve/{rev}/{path}"


def repo_info_url(
    endpoint: str, repo_id: str, revision: str | None = None, repo_type: str = "model"
) -> str:
    url = f"{endpoint.rstrip('/')}/api/{_repo_type(repo_type)[1]}/{validate_repo_id(repo_id)}"
    if revision is not None:
        url += "/revision/" + quote(validate_revision(revision), safe="")
    return url


def repo_web_url(endpoint: str, repo_id: str, repo_type: str = "model") -> str:
    """Where a person requests access to a gated repo."""
    return f"{endpoint.rstrip('/')}/{_repo_type(repo_type)[0]}{repo_id}"


def whoami_url(endpoint: str) -> str:
    return f"{endpoint.rstrip('/')}/api/whoami-v2"


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int


def origin_of(url: str) -> Origin:
    """(scheme, host, port) with default ports filled in: the unit a token is scoped to.

    Read with urllib3's parser, the one the connection pool uses to decide where to connect.
    """
    parts = parse_url(url)
    scheme = (parts.scheme or "").lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return Origin(scheme, (parts.host or "").strip("[]").lower(), port)


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """Drop userinfo, query and fragment: signed URLs carry secrets in their query."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _repo_type(repo_type: str) -> tuple[str, str]:
    try:
        return REPO_TYPES[repo_type]
    except KeyError:
        raise UnsafeInputError(
            f"repo_type must be one of {sorted(REPO_TYPES)}, got {_shown(repo_type)}."
        ) from None


def _shown(value: object) -> str:
    """A short, escaped rendering of a rejected value for an error message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
