"""Finding a tokenizer's files: a local directory, or a repo on the hub (through the cache)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from .auth import TokenArg
from .download import fetch
from .errors import EntryNotFoundError, LocalEntryNotFoundError

__all__ = [
    "CHAT_TEMPLATE_FILE",
    "TOKENIZER_CONFIG_FILE",
    "TOKENIZER_FILE",
    "resolve_pretrained_files",
    "resolve_tokenizer_files",
]

logger = logging.getLogger("batok.hub")

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
# transformers 5 keeps a chat template in its own file, and named others in a directory.
CHAT_TEMPLATE_FILE = "chat_template.jinja"
CHAT_TEMPLATE_DIR = "additional_chat_templates"


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
    tokenizer, config, _ = _resolve(
        name_or_path,
        revision=revision,
        token=token,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
        force_download=force_download,
        endpoint=endpoint,
        with_templates=False,
    )
    return tokenizer, config


def resolve_pretrained_files(
    name_or_path: str | os.PathLike[str],
    *,
    revision: str = "main",
    token: TokenArg = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
    endpoint: str | None = None,
) -> tuple[Path, Path | None, dict[str, Path]]:
    """``resolve_tokenizer_files`` and the chat template files, by template name ("default"
    for chat_template.jinja; a local directory's additional_chat_templates/NAME.jinja too)."""
    return _resolve(
        name_or_path,
        revision=revision,
        token=token,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
        force_download=force_download,
        endpoint=endpoint,
        with_templates=True,
    )


def _resolve(
    name_or_path: str | os.PathLike[str],
    *,
    revision: str,
    token: TokenArg,
    cache_dir: str | os.PathLike[str] | None,
    local_files_only: bool,
    force_download: bool,
    endpoint: str | None,
    with_templates: bool,
) -> tuple[Path, Path | None, dict[str, Path]]:
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
        local_config = local / TOKENIZER_CONFIG_FILE
        found = _local_templates(local) if with_templates else {}
        return tokenizer, local_config if local_config.is_file() else None, found

    options: dict[str, Any] = {
        "token": token,
        "cache_dir": cache_dir,
        "local_files_only": local_files_only,
        "endpoint": endpoint,
    }
    repo_id = os.fspath(name_or_path)
    tokenizer, commit = fetch(
        repo_id, TOKENIZER_FILE, revision=revision, force_download=force_download, **options
    )
    # The other files come from the very commit the tokenizer came from, never a newer `main`.
    config = _optional(repo_id, TOKENIZER_CONFIG_FILE, commit, force_download, options, True)
    templates: dict[str, Path] = {}
    if with_templates:
        template = _optional(repo_id, CHAT_TEMPLATE_FILE, commit, force_download, options, False)
        if template is not None:
            templates["default"] = template
    return tokenizer, config, templates


def _optional(
    repo_id: str,
    filename: str,
    commit: str,
    force_download: bool,
    options: dict[str, Any],
    warn_if_uncached: bool,
) -> Path | None:
    """A file the repo may lack: None when it has none (the cache remembers that) or, offline,
    when it was never cached."""
    try:
        path, _ = fetch(
            repo_id, filename, revision=commit, force_download=force_download, **options
        )
    except LocalEntryNotFoundError:
        log = logger.warning if warn_if_uncached else logger.info
        log("%s@%s: %s is not cached; loading without it", repo_id, commit, filename)
        return None
    except EntryNotFoundError:
        return None  # optional; the cache now remembers it is missing
    return path


def _local_templates(directory: Path) -> dict[str, Path]:
    """A directory's chat template files, as transformers 5 finds them."""
    templates: dict[str, Path] = {}
    default = directory / CHAT_TEMPLATE_FILE
    if default.is_file():
        templates["default"] = default
    extra = directory / CHAT_TEMPLATE_DIR
    if extra.is_dir():
        for path in sorted(extra.glob("*.jinja")):
            if path.is_file():
                templates[path.name.removesuffix(".jinja")] = path
    return templates


def _looks_like_path(name: str | os.PathLike[str]) -> bool:
    """A path-like object, or a string only a path would be (``./x``, ``../x``, ``/x``, ``~/x``,
    ``x/y/z``); ``org/name`` is a repo id unless such a directory exists."""
    if not isinstance(name, str):
        return True
    windows_sep = os.sep != "/" and os.sep in name
    return name.startswith((".", "/", "~", "\\")) or name.count("/") > 1 or windows_sep
