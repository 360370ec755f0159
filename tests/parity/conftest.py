"""Parity fixtures: each family loaded once by its reference and by batok.

`hf_family` and `tiktoken_family` are parametrized at session scope by tests/conftest.py, so
pytest runs every test of one family before loading the next and frees the previous one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tokenizers
from _parity import HfFamily, TiktokenFamily

import batok

#: Parts of a tokenizer.json that batok may refuse to run (all-MiniLM's file sets both).
SWITCHABLE = ("truncation", "padding")


def _load_pair(path: Path) -> tuple[tokenizers.Tokenizer, batok.Tokenizer]:
    """The reference and batok on the file; where batok refuses the file only for its truncation
    or padding, both load it with those switched off, so the rest of the pipeline is compared
    (once batok runs them, the file is compared as it is)."""
    try:
        return tokenizers.Tokenizer.from_file(str(path)), batok.Tokenizer.from_file(str(path))
    except ValueError as error:
        if not any(part in str(error) for part in SWITCHABLE):
            raise
    config = json.loads(path.read_text(encoding="utf-8"))
    for part in SWITCHABLE:
        config[part] = None
    text = json.dumps(config)
    return tokenizers.Tokenizer.from_str(text), batok.Tokenizer.from_str(text)


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
    request: pytest.FixtureRequest, tiktoken_dir: Path, tiktoken_reference: Callable[[str], Any]
) -> Iterator[TiktokenFamily]:
    name = request.param
    yield TiktokenFamily(
        name=name,
        reference=tiktoken_reference(name),
        batok=batok.get_encoding(name),
        cases_file=tiktoken_dir / f"cases_{name}.json",
    )
