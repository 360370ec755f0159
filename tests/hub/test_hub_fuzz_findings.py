"""Bugs in the hub client's parsing found by fuzz/fuzz_hub_parsing.py, each reproduced.

Each failed before its fix; the fuzzer's KNOWN_ISSUES (fuzz/fuzz_hub_parsing.py) is empty again.
"""

from __future__ import annotations

import importlib
import io

import pytest
import requests

from batok.hub.auth import Credential
from batok.hub.endpoints import normalize_etag, validate_repo_id
from batok.hub.errors import HubError, UnsafeInputError

download = importlib.import_module("batok.hub.download")

COMMIT = "a" * 40
BLOB = "b" * 40


def _ctx() -> object:
    return download._Ctx(
        endpoint="https://hub.example",
        repo_id="org/name",
        revision="main",
        filename="tokenizer.json",
        repo_type="model",
        cred=Credential("hf_secret_token_value", "argument"),
        settings=download.HubSettings(),
    )


def _response(status: int, headers: dict[str, str], body: bytes = b"") -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp.headers.update(headers)
    resp.raw = io.BytesIO(body)
    resp.request = requests.Request("GET", "https://hub.example/x").prepare()
    resp.url = "https://hub.example/x"
    return resp


def test_size_header_with_a_superscript_digit_is_a_hub_error() -> None:
    # Headers are read as Latin-1, so a server sending byte 0xB2 sends '²'.
    resp = _response(200, {"X-Repo-Commit": COMMIT, "ETag": f'"{BLOB}"', "X-Linked-Size": "²"})
    with pytest.raises(HubError):
        download._metadata(_ctx(), resp, resp.url)


def test_size_header_reads_only_ascii_digits() -> None:
    assert download._int_header("\u0661\u0662") is None


def test_size_header_with_thousands_of_digits_does_not_raise() -> None:
    download._int_header("9" * 5000)


def test_huge_retry_after_is_capped_not_an_overflow() -> None:
    resp = _response(429, {"Retry-After": "9" * 400})
    wait = download._retry_wait(resp, download.HubSettings(), 0)
    assert 0 <= wait <= download.HubSettings().max_wait


def test_deeply_nested_error_body_is_not_a_recursion_error() -> None:
    resp = _response(500, {}, b"[" * 100_000)
    assert isinstance(download._server_message(_ctx(), resp), str)


def test_repo_id_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(UnsafeInputError):
        validate_repo_id("org/name\n")


def test_etag_with_a_newline_inside_the_quotes_is_refused() -> None:
    # Whitespace outside the quotes is stripped; a newline inside them reaches the regex.
    assert normalize_etag(f'"{BLOB}"\n') == BLOB
    assert normalize_etag(f'"{BLOB}\n"') is None


def test_huge_ratelimit_reset_is_capped_not_an_overflow() -> None:
    resp = _response(429, {"RateLimit": "limit=10, remaining=0, t=0" + "9" * 400})
    wait = download._retry_wait(resp, download.HubSettings(), 0)
    assert 0 <= wait <= download.HubSettings().max_wait
