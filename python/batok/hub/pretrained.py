"""Finding a tokenizer's files: a local directory, or a repo on the hub (through the cache)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .auth import TokenArg
from .download import fetch
from .errors import EntryNotFoundError, LocalEntryNotFoundError

__all__ = ["TOKENIZER_CONFIG_FILE", "TOKENIZER_FILE", "resolve_tokenizer_files"]

logger = logging.getLogger("batok.hub")

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"


def resolve_tokenizer_files(
    name_or_path: str | os.PathLike[str],
    *,
    revision: str = "main",
    token: TokenArg = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
    endpoint: str | None = None,
) -> tuple[Path, Path | None]:
    """Return ``(tokenizer.json, tokenizer_config.json or None)`` for a directory or a repo id."""
    local = Path(name_or_path).expanduser()
    if _looks_like_path(name_or_path) and not local.exists():
        raise FileNotFoundError(
            f"{os.fspath(name_or_path)!r} is not a local directory (and, written as a path, is "
            "not a hub repo id either): check the path, or give a repo id like 'org/name'."
        )
    if local.is_dir():
        tokenizer = local / TOKENIZER_FILE
        if not tokenizer.is_file():
            raise FileNotFoundError(f"{local} has no {TOKENIZER_FILE}.")
        config = local / TOKENIZER_CONFIG_FILE
        return tokenizer, config if config.is_file() else None

    options = {
        "token": token,
        "cache_dir": cache_dir,
        "local_files_only": local_files_only,
        "endpoint": endpoint,
    }
    repo_id = os.fspath(name_or_path)
    tokenizer, commit = fetch(
        repo_id, TOKENIZER_FILE, revision=revision, force_download=force_download, **options
    )
    # The config comes from the very commit the tokenizer came from, never a newer `main`.
    try:
        config, _ = fetch(
            repo_id,
            TOKENIZER_CONFIG_FILE,
            revision=commit,
            force_download=force_download,
            **options,
        )
    except LocalEntryNotFoundError:
        logger.warning(
            "%s@%s: %s is not cached; loading without it", repo_id, commit, TOKENIZER_CONFIG_FILE
        )
        return tokenizer, None
    except EntryNotFoundError:
        return tokenizer, None  # optional; the cache now remembers it is missing
    return tokenizer, config


def _looks_like_path(name: str | os.PathLike[str]) -> bool:
    """A path-like object, or a string only a path would be (``./x``, ``../x``, ``/x``, ``~/x``,
    ``x/y/z``); ``org/name`` is a repo id unless such a directory exists."""
    if not isinstance(name, str):
        return True
    windows_sep = os.sep != "/" and os.sep in name
    return name.startswith((".", "/", "~", "\\")) or name.count("/") > 1 or windows_sep
