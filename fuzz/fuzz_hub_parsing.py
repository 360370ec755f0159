"""Fuzz the hub client's parsing of what servers send and users pass, and the loading of
tokenizer_config.json.

Each input picks one function and builds its argument from the fuzzer's bytes: header values
(bytes read as Latin-1, as `http.client` reads them), response bodies, repo ids, revisions,
filenames, and tokenizer_config.json files. Properties, per function:

- `normalize_etag`: None or a lowercase 40/64-hex blob id, nothing else.
- `validate_repo_id`, `validate_revision`, `validate_filename`: the value back unchanged, and
  then a safe one (no control characters, no traversal), or `UnsafeInputError`.
- `_int_header`: None or a non-negative int read from ASCII digits; never raises.
- `_retry_wait`: a finite wait between 0 and `max_wait` (BA_HUB_MAX_WAIT); never raises.
- `_metadata`: a `FileMetadata` with a commit hash, a blob id and a size that is None or
  non-negative, or a `HubError`.
- `_server_message`: a short str without control characters or the token; never raises.
- `Tokenizer.from_pretrained` on a directory whose tokenizer_config.json is fuzzed: a tokenizer
  that encodes, or a `ValueError`.

Anything else is a finding. Run it with `python fuzz/run.py hub_parsing`.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports():
    import batok
    from batok.hub import endpoints
    from batok.hub.auth import Credential
    from batok.hub.errors import HubError, UnsafeInputError

import requests
from _common import SEEDS_DIR, Finding, keep_going, short

# The module, not the `download` function that `batok.hub` exports under the same name.
download = importlib.import_module("batok.hub.download")

SECRET = "hf_FuzzSecretToken0123456789abcdef"
_CTX = download._Ctx(
    endpoint="https://hub.example",
    repo_id="org/name",
    revision="main",
    filename="tokenizer.json",
    repo_type="model",
    cred=Credential(SECRET, "argument"),
    settings=download.HubSettings(),
)
_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REPO_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
HEADER_PIECES = (
    "",
    " ",
    "0",
    "5",
    "120",
    "-1",
    "1e3",
    "9" * 30,
    "9" * 400,
    "9" * 5000,
    "\u00b2",
    "\u0661\u0662",
    "\t7\t",
    "W/",
    '"',
    "a" * 40,
    "0123456789abcdef" * 4,
    "A" * 40,
    "\n",
    "t=",
    "t=60",
    "limit=10, remaining=0, t=",
    "Thu, 01 Jan 2099 00:00:00 GMT",
)
BODY_PIECES = (
    b'{"error": "',
    b'"}',
    b"{",
    b"}",
    b"[",
    b"]",
    b'"error"',
    b":",
    b",",
    b"null",
    b"\xff",
    b"\x00",
    SECRET.encode(),
    b"\\u0000",
    b"\\ud800",
)
CONFIG_KEYS = (
    "bos_token",
    "eos_token",
    "unk_token",
    "pad_token",
    "sep_token",
    "cls_token",
    "add_bos_token",
    "add_eos_token",
    "content",
    "model_max_length",
    "added_tokens_decoder",
)
CONFIG_VALUES: tuple[Any, ...] = (
    "<|endoftext|>",
    "<s>",
    "",
    "\ud800",
    True,
    False,
    None,
    0,
    -1,
    2**70,
    1.5,
    [],
    {},
)


@atheris.instrument_func
def _header(fdp: atheris.FuzzedDataProvider) -> str:
    """A header value as a client reads it: pieces that parsers trip on, or raw Latin-1."""
    parts = []
    for _ in range(fdp.ConsumeIntInRange(0, 4)):
        if fdp.ConsumeBool():
            parts.append(HEADER_PIECES[fdp.ConsumeIntInRange(0, len(HEADER_PIECES) - 1)])
        else:
            parts.append(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 12)).decode("latin-1"))
    return "".join(parts).replace("\r", "").replace("\n", "")


NAME_PIECES = ("\n", "\r\n", "\t", " ", ".", "..", "/", "--", "\x00", "\\", ":", "C:", "\u202e")


@atheris.instrument_func
def _text(fdp: atheris.FuzzedDataProvider) -> str:
    if fdp.ConsumeProbability() < 0.3:
        return "".join(
            NAME_PIECES[fdp.ConsumeIntInRange(0, len(NAME_PIECES) - 1)]
            for _ in range(fdp.ConsumeIntInRange(1, 3))
        )
    if fdp.ConsumeBool():
        return _header(fdp)
    return fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 40))


@atheris.instrument_func
def _response(fdp: atheris.FuzzedDataProvider, method: str) -> requests.Response:
    resp = requests.Response()
    resp.status_code = fdp.PickValueInList([200, 301, 302, 307, 308, 401, 404, 429, 500, 503])
    names = [
        "X-Repo-Commit",
        "ETag",
        "X-Linked-Etag",
        "X-Linked-Size",
        "Content-Length",
        "Location",
        "Retry-After",
        "RateLimit",
        "X-Error-Message",
        "X-Error-Code",
    ]
    for name in names:
        if fdp.ConsumeBool():
            resp.headers[name] = _header(fdp)
    body = b""
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        if fdp.ConsumeBool():
            piece = BODY_PIECES[fdp.ConsumeIntInRange(0, len(BODY_PIECES) - 1)]
            body += piece * (fdp.ConsumeIntInRange(1, 4000) if piece in (b"[", b"{") else 1)
        else:
            body += fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 32))
    resp.raw = io.BytesIO(body)
    resp.request = requests.Request(method, "https://hub.example/org/name").prepare()
    resp.url = "https://hub.example/org/name/resolve/main/tokenizer.json"
    resp.reason = "Reason"
    return resp


# Findings in the hub client that are known and tracked: each has a test marked
# xfail(strict=True) in tests/hub/test_hub_fuzz_findings.py, which fails once the bug is fixed;
# remove the entry here then. BATOK_FUZZ_STRICT=1 reports them anyway.
KNOWN_ISSUES: set[str] = set()  # every issue found so far is fixed


def finding(message: str, kind: str) -> Finding | None:
    """The Finding to raise, or None for a known issue (see KNOWN_ISSUES)."""
    if kind in KNOWN_ISSUES and os.environ.get("BATOK_FUZZ_STRICT", "") != "1":
        return None
    return Finding(message, kind)


class _Known(Exception):
    """A known issue was hit: the input is done."""


def _expect(what: str, value: Any, call: Any, *args: Any, allowed: tuple[type, ...] = ()) -> Any:
    """`call(*args)`, with a Finding for any exception but the `allowed` ones (returned)."""
    try:
        return call(*args)
    except allowed as err:
        return err
    except Exception as err:
        kind = f"{what} raised {type(err).__name__}"
        found = finding(
            f"{what}({short(value)}) raised {type(err).__name__}: {short(str(err))}", kind
        )
        if found is None:
            raise _Known() from err
        raise found from err


@atheris.instrument_func
def check_etag(fdp: atheris.FuzzedDataProvider) -> None:
    raw = _header(fdp) if fdp.ConsumeBool() else fdp.ConsumeUnicode(70)
    if fdp.ConsumeBool():
        raw += _text(fdp)
    result = _expect("normalize_etag", raw, endpoints.normalize_etag, raw)
    if result is not None and not _HEX.fullmatch(result):
        found = finding(
            f"normalize_etag({short(raw)}) = {short(result)}", "normalize_etag accepted"
        )
        if found is not None:
            raise found


@atheris.instrument_func
def check_repo_id(fdp: atheris.FuzzedDataProvider) -> None:
    value = _text(fdp) if fdp.ConsumeBool() else "org/name" + _text(fdp)
    result = _expect(
        "validate_repo_id", value, endpoints.validate_repo_id, value, allowed=(UnsafeInputError,)
    )
    if isinstance(result, UnsafeInputError):
        return
    parts = value.split("/")
    if result != value or not all(_REPO_PART.fullmatch(p) for p in parts) or len(parts) > 2:
        found = finding(f"validate_repo_id accepted {short(value)}", "validate_repo_id accepted")
        if found is not None:
            raise found


@atheris.instrument_func
def check_revision(fdp: atheris.FuzzedDataProvider) -> None:
    value = _text(fdp) if fdp.ConsumeBool() else "refs/pr/" + _text(fdp)
    result = _expect(
        "validate_revision", value, endpoints.validate_revision, value, allowed=(UnsafeInputError,)
    )
    if isinstance(result, UnsafeInputError):
        return
    segments = value.split("/")
    if (
        result != value
        or _CONTROL.search(value)
        or "\\" in value
        or any(s in ("", ".", "..") for s in segments)
    ):
        raise Finding(f"validate_revision accepted {short(value)}")


@atheris.instrument_func
def check_filename(fdp: atheris.FuzzedDataProvider) -> None:
    value = _text(fdp) if fdp.ConsumeBool() else "dir/" + _text(fdp)
    result = _expect(
        "validate_filename", value, endpoints.validate_filename, value, allowed=(UnsafeInputError,)
    )
    if isinstance(result, UnsafeInputError):
        return
    segments = value.split("/")
    if (
        result != value
        or _CONTROL.search(value)
        or "\\" in value
        or value.startswith("/")
        or any(s in ("", ".", "..") for s in segments)
    ):
        raise Finding(f"validate_filename accepted {short(value)}")


@atheris.instrument_func
def check_int_header(fdp: atheris.FuzzedDataProvider) -> None:
    value = None if fdp.ConsumeProbability() < 0.05 else _header(fdp)
    result = _expect("_int_header", value, download._int_header, value)
    if result is None:
        return
    if not isinstance(result, int) or result < 0:
        raise Finding(f"_int_header({short(value)}) = {short(result)}")
    if not value.strip().isascii():
        found = finding(
            f"_int_header({short(value)}) = {result}", "_int_header read non-ASCII digits"
        )
        if found is not None:
            raise found


@atheris.instrument_func
def check_retry_wait(fdp: atheris.FuzzedDataProvider) -> None:
    resp = _response(fdp, "GET")
    attempt = fdp.ConsumeIntInRange(0, 10)
    settings = _CTX.settings
    result = _expect(
        "_retry_wait", dict(resp.headers), download._retry_wait, resp, settings, attempt
    )
    cap = settings.max_wait  # no single wait exceeds BA_HUB_MAX_WAIT
    if not isinstance(result, float) or not math.isfinite(result) or not 0 <= result <= cap:
        raise Finding(f"_retry_wait for headers {short(dict(resp.headers))} = {short(result)}")


@atheris.instrument_func
def check_metadata(fdp: atheris.FuzzedDataProvider) -> None:
    resp = _response(fdp, "HEAD")
    result = _expect(
        "_metadata",
        dict(resp.headers),
        download._metadata,
        _CTX,
        resp,
        resp.url,
        allowed=(HubError,),
    )
    if isinstance(result, HubError):
        return
    if (
        not _COMMIT.fullmatch(result.commit)
        or not _HEX.fullmatch(result.etag)
        or (result.size is not None and (not isinstance(result.size, int) or result.size < 0))
    ):
        raise Finding(f"_metadata for headers {short(dict(resp.headers))} gave {short(result)}")


@atheris.instrument_func
def check_server_message(fdp: atheris.FuzzedDataProvider) -> None:
    resp = _response(fdp, fdp.PickValueInList(["GET", "HEAD"]))
    headers = dict(resp.headers)
    result = _expect("_server_message", headers, download._server_message, _CTX, resp)
    if not isinstance(result, str) or len(result) > 500 or _CONTROL.search(result):
        raise Finding(f"_server_message for headers {short(headers)} = {short(result)}")
    if SECRET in result:
        raise Finding(f"_server_message kept the token, for headers {short(headers)}")


@atheris.instrument_func
def _config_value(fdp: atheris.FuzzedDataProvider, depth: int = 0) -> Any:
    kind = fdp.ConsumeIntInRange(0, 5)
    if kind == 0 or depth > 3:
        return CONFIG_VALUES[fdp.ConsumeIntInRange(0, len(CONFIG_VALUES) - 1)]
    if kind == 1:
        return fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 12))
    if kind == 2:
        return [_config_value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    return {
        CONFIG_KEYS[fdp.ConsumeIntInRange(0, len(CONFIG_KEYS) - 1)]: _config_value(fdp, depth + 1)
        for _ in range(fdp.ConsumeIntInRange(0, 4))
    }


_TOKENIZER_DIR = Path(tempfile.mkdtemp(prefix="batok-fuzz-config-"))
(_TOKENIZER_DIR / "tokenizer.json").write_text(
    (SEEDS_DIR / "from_str" / "gpt2_like.json").read_text(encoding="utf-8"), encoding="utf-8"
)


@atheris.instrument_func
def check_tokenizer_config(fdp: atheris.FuzzedDataProvider) -> None:
    mode = fdp.ConsumeIntInRange(0, 3)
    if mode == 0:
        raw = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200))
    elif mode == 1:
        depth = fdp.ConsumeIntInRange(1, 200_000)
        raw = b"[" * depth + b"]" * depth if fdp.ConsumeBool() else b'{"a":' * depth
    else:
        config = {
            CONFIG_KEYS[fdp.ConsumeIntInRange(0, len(CONFIG_KEYS) - 1)]: _config_value(fdp)
            for _ in range(fdp.ConsumeIntInRange(0, 6))
        }
        raw = json.dumps(config).encode()
    (_TOKENIZER_DIR / "tokenizer_config.json").write_bytes(raw)
    what = f"Tokenizer.from_pretrained with tokenizer_config.json {short(raw, 200)}"
    try:
        tok = batok.Tokenizer.from_pretrained(_TOKENIZER_DIR)
        ids = tok.encode("Hello the <|endoftext|>")
        tok.decode(ids, skip_special_tokens=True)
        tok.count_tokens("Hello")
        tok.encode_batch(["Hello", ""], num_threads=1)
    except ValueError:
        return
    except Exception as err:
        raise Finding(f"{what} raised {type(err).__name__}: {short(str(err))}") from err


CHECKS = (
    check_etag,
    check_repo_id,
    check_revision,
    check_filename,
    check_int_header,
    check_retry_wait,
    check_metadata,
    check_server_message,
    check_tokenizer_config,
)


@atheris.instrument_func
def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    try:
        CHECKS[fdp.ConsumeIntInRange(0, len(CHECKS) - 1)](fdp)
    except _Known:
        pass


def main() -> None:
    atheris.Setup(sys.argv, keep_going(test_one_input))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
