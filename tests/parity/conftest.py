"""Parity fixtures: each family loaded once by its reference and by batok.

`hf_family` and `tiktoken_family` are parametrized at session scope by tests/conftest.py, so
pytest runs every test of one family before loading the next and frees the previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tokenizers
from _parity import HfFamily, TiktokenFamily

import batok


def _load_pair(path: Path) -> tuple[tokenizers.Tokenizer, batok.Tokenizer]:
    """The reference and batok on the file, as it is (truncation and padding included)."""
    return tokenizers.Tokenizer.from_file(str(path)), batok.Tokenizer.from_file(str(path))


@pytest.fixture(scope="session")
def hf_family(request: pytest.FixtureRequest) -> Iterator[HfFamily]:
    family_dir = request.param
    reference, native = _load_pair(family_dir.tokenizer_json)
    added = tuple(
        token.content for _, token in sorted(reference.get_added_tokens_decoder().items())
    )
    yield HfFamily(
        name=family_dir.name,
        reference=reference,
        batok=native,
        added_tokens=added,
    )


@pytest.fixture(scope="session")
def tiktoken_family(
    request: pytest.FixtureRequest,
    tiktoken_dir: Path,
    tiktoken_reference: Callable[[str], Any],
    tiktoken_cache: Path,
) -> Iterator[TiktokenFamily]:
    name = request.param
    cases_file = tiktoken_dir / f"cases_{name}.json"
    if not cases_file.exists():
        # Only cl100k_base and o200k_base have staged vectors; their texts serve the others
        # (the expected ids always come from tiktoken itself).
        cases_file = tiktoken_dir / "cases_cl100k_base.json"
    yield TiktokenFamily(
        name=name,
        reference=tiktoken_reference(name),
        batok=batok.get_encoding(name),
        cases_file=cases_file,
    )
