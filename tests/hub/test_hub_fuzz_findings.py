"""Bugs in the hub client's parsing found by fuzz/fuzz_hub_parsing.py, each reproduced.

Each is marked xfail(strict=True) until it is fixed: a fix makes the test pass, which fails the
run, so the mark (and the matching entry of KNOWN_ISSUES in fuzz/fuzz_hub_parsing.py) must go.
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


@pytest.mark.xfail(strict=True, reason="_int_header: str.isdigit() accepts '²', int() refuses it")
def test_size_header_with_a_superscript_digit_is_a_hub_error() -> None:
    # Headers are read as Latin-1, so a server sending byte 0xB2 sends '²'.
    resp = _response(200, {"X-Repo-Commit": COMMIT, "ETag": f'"{BLOB}"', "X-Linked-Size": "²"})
    with pytest.raises(HubError):
        download._metadata(_ctx(), resp, resp.url)


@pytest.mark.xfail(strict=True, reason="_int_header reads non-ASCII digits such as '١٢'")
def test_size_header_reads_only_ascii_digits() -> None:
    assert download._int_header("\u0661\u0662") is None


@pytest.mark.xfail(strict=True, reason="_int_header: int() refuses more than 4300 digits")
def test_size_header_with_thousands_of_digits_does_not_raise() -> None:
    download._int_header("9" * 5000)


@pytest.mark.xfail(strict=True, reason="_retry_wait: float() of a 400-digit Retry-After")
def test_huge_retry_after_is_capped_not_an_overflow() -> None:
    resp = _response(429, {"Retry-After": "9" * 400})
    wait = download._retry_wait(resp, download.HubSettings(), 0)
    assert 0 <= wait <= 301


@pytest.mark.xfail(strict=True, reason="_server_message: json.loads of a deeply nested body")
def test_deeply_nested_error_body_is_not_a_recursion_error() -> None:
    resp = _response(500, {}, b"[" * 100_000)
    assert isinstance(download._server_message(_ctx(), resp), str)


@pytest.mark.xfail(strict=True, reason="validate_repo_id: `$` matches before a final newline")
def test_repo_id_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(UnsafeInputError):
        validate_repo_id("org/name\n")


@pytest.mark.xfail(strict=True, reason="normalize_etag: `$` matches before a final newline")
def test_etag_with_a_newline_inside_the_quotes_is_refused() -> None:
    # Whitespace outside the quotes is stripped; a newline inside them reaches the regex.
    assert normalize_etag(f'"{BLOB}"\n') == BLOB
    assert normalize_etag(f'"{BLOB}\n"') is None
