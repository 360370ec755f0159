"""The rank files of tiktoken's encodings that batok does not ship (r50k_base, p50k_base).

They are found where tiktoken keeps them, so one download serves both libraries and a machine
prepared for tiktoken offline (`TIKTOKEN_CACHE_DIR`) works for batok too: the cache directory is
`TIKTOKEN_CACHE_DIR`, else `DATA_GYM_CACHE_DIR`, else `<temp dir>/data-gym-cache` (an empty value
turns the cache off), and a file is cached under the sha1 of its URL. What is not cached is
fetched from the URL tiktoken uses, with no credentials, unless `BA_HUB_OFFLINE` is set. Either
way the bytes must have the sha256 that tiktoken pins for the official file, so a planted or
damaged file is never used.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

__all__ = ["PINNED_SHA256", "rank_text"]

#: Where tiktoken fetches its rank files from.
BASE_URL = "https://openaipublic.blob.core.windows.net/encodings/"

#: The sha256 tiktoken pins for each file (tiktoken_ext/openai_public.py).
PINNED_SHA256 = {
    "r50k_base.tiktoken": "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
    "p50k_base.tiktoken": "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069",
}

# The official files are under 1 MB; anything far larger is not one of them.
_MAX_BYTES = 16 << 20
_TIMEOUT_S = (10.0, 60.0)


def rank_text(file_name: str) -> bytes:
    """The content of the rank file `file_name`, from the cache or fetched (and then cached)."""
    url = BASE_URL + file_name
    want = PINNED_SHA256[file_name]
    cache_dir = _cache_dir()
    cached = os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest()) if cache_dir else None
    if cached is not None:
        try:
            with open(cached, "rb") as f:
                data = f.read(_MAX_BYTES + 1)
        except OSError:
            pass
        else:
            if hashlib.sha256(data).hexdigest() == want:
                return data
    data = _fetch(url, file_name)
    if hashlib.sha256(data).hexdigest() != want:
        raise ValueError(
            f"{url} did not send the official {file_name} (its sha256 is not {want}); nothing "
            "was cached. Try again, or load a copy you trust with `Encoding.from_rank_file`."
        )
    if cached is not None:
        _store(cached, data)
    return data


def _cache_dir() -> str:
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if var in os.environ:
            return os.environ[var]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _fetch(url: str, file_name: str) -> bytes:
    from .hub.download import _KeepHeaders, is_offline

    how = (
        "Put the file in TIKTOKEN_CACHE_DIR as tiktoken would, or load it with "
        "`batok.Encoding.from_rank_file`."
    )
    if is_offline():
        raise ConnectionError(f"{file_name} is not cached and BA_HUB_OFFLINE is set. {how}")
    import requests

    try:
        # `auth` that adds nothing: requests would otherwise send credentials from ~/.netrc to
        # whatever host a redirect names. Proxies from the environment still apply.
        with requests.get(url, timeout=_TIMEOUT_S, stream=True, auth=_KeepHeaders()) as response:
            if response.status_code != 200:
                raise ConnectionError(
                    f"could not fetch {file_name} from {url}: HTTP {response.status_code}. {how}"
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(1 << 16):
                size += len(chunk)
                if size > _MAX_BYTES:
                    raise ConnectionError(f"{url} sent more than {_MAX_BYTES} bytes. {how}")
                chunks.append(chunk)
    except requests.RequestException as err:
        raise ConnectionError(f"could not fetch {file_name} from {url}: {err}. {how}") from None
    return b"".join(chunks)


def _store(path: str, data: bytes) -> None:
    """Writes `data` at `path` through a temp file and a rename, so no reader (batok or
    tiktoken) sees half a file; a cache that cannot be written is left alone."""
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".batok-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass
