"""Hub access: download tokenizer files from the BOINC AI Hub into a safe local cache.

``download`` fetches one file like ``huggingface_hub.hf_hub_download``; ``resolve_pretrained_files``
is what ``from_pretrained`` uses. Errors are in :mod:`batok.hub.errors`.
"""

from __future__ import annotations

from .auth import Credential, delete_token, get_credential, save_token, token_path
from .cache import RepoCache, default_cache_dir
from .download import DEFAULT_MAX_SIZE, HubSettings, download, fetch, whoami
from .endpoints import DEFAULT_ENDPOINT, get_endpoint
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
from .pretrained import resolve_pretrained_files, resolve_tokenizer_files

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_MAX_SIZE",
    "Credential",
    "DownloadError",
    "EntryNotFoundError",
    "GatedRepoError",
    "HubError",
    "HubSettings",
    "InsecureTransportError",
    "InvalidTokenError",
    "LocalEntryNotFoundError",
    "OfflineModeIsEnabled",
    "RemoteEntryNotFoundError",
    "RepoCache",
    "RepositoryNotFoundError",
    "RevisionNotFoundError",
    "UnsafeInputError",
    "default_cache_dir",
    "delete_token",
    "download",
    "fetch",
    "get_credential",
    "get_endpoint",
    "resolve_pretrained_files",
    "resolve_tokenizer_files",
    "save_token",
    "token_path",
    "whoami",
]
