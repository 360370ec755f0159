"""The on-disk cache, in the Hugging Face layout. No network.

::

    {cache}/models--{org}--{name}/blobs/{etag}                 # 40 or 64 hex
    {cache}/models--{org}--{name}/snapshots/{commit}/{path}    # relative link to ../../blobs/{etag}
    {cache}/models--{org}--{name}/refs/{revision}              # a commit hash
    {cache}/models--{org}--{name}/.no_exist/{commit}/{path}    # the repo lacks this file
    {cache}/.locks/models--{org}--{name}/{etag}.lock

Blobs are written to a per-process ``.incomplete`` file opened with ``O_EXCL|O_NOFOLLOW`` and
renamed into place, so a reader never sees half a file. The lock only prevents duplicate
downloads; correctness never depends on it (``flock`` lets everyone in on some network mounts).

The only symbolic links batok makes are snapshot files pointing into ``blobs/``. Every path under
the cache root is checked component by component before it is read or written: a link planted
anywhere else (``snapshots/{commit}`` pointing at another directory, a marker pointing at a file
elsewhere) could make batok serve or create files outside the cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import stat
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import filelock

from .auth import ba_home
from .endpoints import (
    is_commit_hash,
    normalize_etag,
    repo_folder_name,
    validate_filename,
    validate_revision,
)
from .errors import HubError, UnsafeInputError

__all__ = ["RepoCache", "default_cache_dir"]

logger = logging.getLogger(__name__)

_LOCK_LOG_EVERY_S = 10.0
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by batok.\n"
)
_umask_lock = threading.Lock()
_symlink_warning_given = False


def default_cache_dir() -> Path:
    """``{BA_HOME}/hub``, read now."""
    return ba_home() / "hub"


class RepoCache:
    """One repo's folder in one cache directory."""

    def __init__(
        self,
        repo_id: str,
        *,
        repo_type: str = "model",
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.repo_id = repo_id
        self.folder_name = repo_folder_name(repo_id, repo_type)
        self.folder = self.root / self.folder_name

    def __repr__(self) -> str:
        return f"RepoCache({self.folder_name!r}, root={str(self.root)!r})"

    # ---- reading -------------------------------------------------------------------------------

    def resolve_commit(self, revision: str) -> str | None:
        """A commit hash is itself; a branch or tag goes through ``refs/``."""
        if is_commit_hash(revision):
            return revision
        ref = self.folder / "refs" / validate_revision(revision)
        self._refuse_links(ref)
        try:
            value = ref.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return value if is_commit_hash(value) else None

    def snapshot_file(self, commit: str, filename: str) -> Path | None:
        """The cached file, if present and safe to read."""
        path = self._snapshot_path(commit, filename)
        self._refuse_links(path, last_may_link=True)
        if not path.is_file():
            return None
        if path.is_symlink():
            # A link must resolve inside blobs/: anything else was planted, not written by us.
            target = os.path.realpath(path)
            if not _is_within(target, os.path.realpath(self.folder / "blobs")):
                raise UnsafeInputError(f"Cache link {path} points outside its blobs folder.")
        return path

    def is_marked_missing(self, commit: str, filename: str) -> bool:
        path = self._marker_path(commit, filename)
        self._refuse_links(path)
        return path.is_file()

    def blob_path(self, etag: str) -> Path:
        if normalize_etag(etag) != etag:
            raise UnsafeInputError("Refusing a blob id that is not lowercase hex.")
        return self.folder / "blobs" / etag

    # ---- writing -------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the cache root private (0700) if it is new, and this repo's folders."""
        if not self.root.exists():
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)
            # Backup tools skip directories tagged this way (https://bford.info/cachedir/).
            with contextlib.suppress(OSError):
                (self.root / "CACHEDIR.TAG").write_text(_CACHEDIR_TAG, encoding="ascii")
        for sub in ("blobs", "snapshots", "refs"):
            self._mkdirs(self.folder / sub)

    def write_ref(self, revision: str, commit: str) -> None:
        if is_commit_hash(revision) or not is_commit_hash(commit):
            return
        path = self.folder / "refs" / validate_revision(revision)
        if self.resolve_commit(revision) == commit:
            return
        self._mkdirs(path.parent)
        self._atomic_write(path, commit.encode("ascii"))

    def mark_missing(self, commit: str, filename: str) -> None:
        path = self._marker_path(commit, filename)
        self._mkdirs(path.parent)
        self._refuse_links(path)
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            os.close(os.open(path, flags, 0o644))
        except OSError as exc:  # ELOOP: a link appeared after the check
            raise UnsafeInputError(f"Refusing to write the cache marker {path}: {exc}") from None

    @contextlib.contextmanager
    def lock(self, etag: str, timeout: float = 600.0) -> Iterator[None]:
        """Serialise downloads of one blob across threads and processes."""
        self.blob_path(etag)  # validates
        lock_dir = self.root / ".locks" / self.folder_name
        self._mkdirs(lock_dir, inside=self.root)
        path = str(lock_dir / f"{etag}.lock")
        lock: filelock.BaseFileLock = filelock.FileLock(path)
        deadline = time.monotonic() + timeout
        while True:
            try:
                lock.acquire(timeout=min(_LOCK_LOG_EVERY_S, max(deadline - time.monotonic(), 0)))
                break
            except filelock.Timeout:
                if time.monotonic() >= deadline:
                    raise HubError(
                        f"Timed out after {timeout:.0f}s waiting for the lock {path}; if no other "
                        "batok process is downloading, delete it and retry."
                    ) from None
                logger.info("still waiting for the download lock %s", path)
            except OSError as exc:
                if isinstance(lock, filelock.SoftFileLock):
                    raise
                # flock unsupported on this filesystem: fall back to a lock file's existence.
                logger.warning("file locking failed (%s); using a soft lock", exc.strerror)
                lock = filelock.SoftFileLock(path)
        try:
            yield
        finally:
            lock.release()

    def open_incomplete(self, etag: str) -> tuple[Path, IO[bytes]]:
        """A fresh ``blobs/{etag}.{rand}.incomplete`` owned by this call alone."""
        blob = self.blob_path(etag)
        self._mkdirs(blob.parent)
        path = blob.with_name(f"{etag}.{secrets.token_hex(8)}.incomplete")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        flags |= getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags, 0o600)
        return path, os.fdopen(fd, "wb")

    def commit_blob(self, incomplete: Path, etag: str) -> Path:
        """Make the verified temp file the blob, atomically."""
        blob = self.blob_path(etag)
        os.chmod(incomplete, 0o666 & ~_umask())
        os.replace(incomplete, blob)
        return blob

    def link(self, commit: str, filename: str, etag: str) -> Path:
        """Point ``snapshots/{commit}/{filename}`` at the blob (or copy it without symlinks)."""
        blob = self.blob_path(etag)
        target = self._snapshot_path(commit, filename)
        self._mkdirs(target.parent)
        self._refuse_links(target, last_may_link=True)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        try:
            os.symlink(os.path.relpath(blob, target.parent), tmp)
        except (OSError, NotImplementedError):
            _warn_no_symlinks(self.root)
            shutil.copyfile(blob, tmp)
        try:
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return target

    # ---- paths ---------------------------------------------------------------------------------

    def _snapshot_path(self, commit: str, filename: str) -> Path:
        if not is_commit_hash(commit):
            raise UnsafeInputError("Refusing a commit id that is not 40 lowercase hex.")
        return self.folder / "snapshots" / commit / validate_filename(filename)

    def _marker_path(self, commit: str, filename: str) -> Path:
        if not is_commit_hash(commit):
            raise UnsafeInputError("Refusing a commit id that is not 40 lowercase hex.")
        return self.folder / ".no_exist" / commit / validate_filename(filename)

    def _refuse_links(self, path: Path, *, last_may_link: bool = False) -> None:
        """Refuse ``path`` if any of its components below the cache root is a symbolic link
        (the last one may be, for a snapshot file; where it points is checked separately)."""
        parts = path.relative_to(self.root).parts
        current = self.root
        for i, part in enumerate(parts):
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except (FileNotFoundError, NotADirectoryError):
                return  # nothing further exists, so nothing further can be a link
            if stat.S_ISLNK(mode) and not (last_may_link and i == len(parts) - 1):
                raise UnsafeInputError(
                    f"Refusing the cache path {path}: {current} is a symbolic link, which could "
                    "lead outside the cache; batok never makes one there. Delete it (or the "
                    "whole cache folder) and retry."
                )

    def _mkdirs(self, path: Path, inside: Path | None = None) -> None:
        """mkdir -p, refusing to create or use anything that a planted symlink leads outside."""
        self._refuse_links(path)
        base_path = inside if inside is not None else self.folder
        base = os.path.realpath(base_path)
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        # While the base itself is being created, the nearest existing folder is its ancestor.
        if not (existing in base_path.parents or _is_within(os.path.realpath(existing), base)):
            raise UnsafeInputError(f"Refusing to write outside the cache directory: {path}")
        path.mkdir(parents=True, exist_ok=True)
        if not _is_within(os.path.realpath(path), base):
            raise UnsafeInputError(f"Refusing to write outside the cache directory: {path}")

    def _atomic_write(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _is_within(path: str, base: str) -> bool:
    try:
        return os.path.commonpath([path, base]) == base
    except ValueError:  # different drives on Windows
        return False


def _umask() -> int:
    """The process umask, without the race of os.umask() where /proc tells us."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            match = re.search(r"^Umask:\s*([0-7]+)", status.read(), re.MULTILINE)
        if match:
            return int(match.group(1), 8)
    except OSError:
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _warn_no_symlinks(root: Path) -> None:
    global _symlink_warning_given
    if not _symlink_warning_given:
        _symlink_warning_given = True
        warnings.warn(
            f"Symlinks are not supported in {root}; the cache stores copies and uses more disk.",
            stacklevel=3,
        )
