"""Typed hub errors, each with a message that says what to do.

::

    OSError
     └── HubError
          ├── RepositoryNotFoundError        missing, or private and invisible to the token
          │    └── GatedRepoError            gated: no token, or a token without access
          ├── RevisionNotFoundError          no such branch, tag or commit
          ├── InvalidTokenError              the hub rejected the token itself
          ├── EntryNotFoundError             the file is not there
          │    ├── RemoteEntryNotFoundError  the hub said so (or a cached .no_exist marker did)
          │    └── LocalEntryNotFoundError   not cached, network off or unreachable
          │                                  (also a FileNotFoundError)
          ├── OfflineModeIsEnabled           a network call was needed in offline mode
          │                                  (also a ConnectionError)
          ├── DownloadError                  wrong size or hash, too large, stream kept failing
          ├── InsecureTransportError         a token would travel over plain http to a remote host
          └── UnsafeInputError               hostile repo id, revision, filename or server value
                                             (also a ValueError)

Every error carries ``repo_id``, ``revision``, ``filename``, ``status``, ``server_message`` and
``request_id`` (each may be None) and never a header, a token or a signed query string: callers log
exceptions freely, so nothing secret may reach them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DownloadError",
    "EntryNotFoundError",
    "GatedRepoError",
    "HubError",
    "InsecureTransportError",
    "InvalidTokenError",
    "LocalEntryNotFoundError",
    "OfflineModeIsEnabled",
    "RemoteEntryNotFoundError",
    "RepositoryNotFoundError",
    "RevisionNotFoundError",
    "UnsafeInputError",
]

_FIELDS = ("repo_id", "revision", "filename", "status", "server_message", "request_id")


class HubError(OSError):
    """Base of every hub error. An ``OSError``, like other "could not open that" failures."""

    def __init__(
        self,
        message: str,
        *,
        repo_id: str | None = None,
        revision: str | None = None,
        filename: str | None = None,
        status: int | None = None,
        server_message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.repo_id = repo_id
        self.revision = revision
        # OSError already has a `filename` slot (used by its str() only with errno set); reuse it.
        self.filename = filename
        self.status = status
        self.server_message = server_message
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields do not survive the default exception pickling (multiprocessing).
        fields = {name: getattr(self, name) for name in _FIELDS}
        return (_rebuild, (type(self), self.message, fields))


def _rebuild(cls: type[HubError], message: str, fields: dict[str, Any]) -> HubError:
    return cls(message, **fields)


class RepositoryNotFoundError(HubError):
    """The repo does not exist, or it is private and the request's token cannot see it."""


class GatedRepoError(RepositoryNotFoundError):
    """The repo is gated: no token was sent, or the token has not been granted access."""


class RevisionNotFoundError(HubError):
    """The branch, tag or commit does not exist in the repo."""


class InvalidTokenError(HubError):
    """The hub rejected the token itself (expired, revoked or mistyped)."""


class EntryNotFoundError(HubError):
    """The file is not available."""


class RemoteEntryNotFoundError(EntryNotFoundError):
    """The hub says the repo has no such file at that revision."""


class LocalEntryNotFoundError(EntryNotFoundError, FileNotFoundError):
    """The file is not in the cache and the network is disabled or unreachable."""


class OfflineModeIsEnabled(HubError, ConnectionError):
    """A network call was needed while offline mode is on."""


class DownloadError(HubError):
    """The download failed: wrong size or hash, too large, or the stream kept breaking."""


class InsecureTransportError(HubError):
    """A token would be sent over plain http to a host that is not loopback."""


class UnsafeInputError(HubError, ValueError):
    """A repo id, revision, filename or server-supplied value is unsafe to use as a path."""
