"""Loading a directory's tokenizer_config.json: a config that cannot be read is a ValueError
naming the file, whatever is wrong with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import batok

TINY = {
    "version": "1.0",
    "added_tokens": [
        {
            "id": 2,
            "content": "<s>",
            "special": True,
            "normalized": False,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
        }
    ],
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "<s>": 2}, "merges": []},
}


def _directory(tmp_path: Path, config: bytes) -> Path:
    (tmp_path / "tokenizer.json").write_text(json.dumps(TINY), encoding="utf-8")
    (tmp_path / "tokenizer_config.json").write_bytes(config)
    return tmp_path


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_deeply_nested_config_is_a_value_error(tmp_path: Path, opening: bytes) -> None:
    # Found by fuzz/fuzz_hub_parsing.py: json.load raised RecursionError.
    directory = _directory(tmp_path, opening * 100_000)
    with pytest.raises(ValueError, match="tokenizer_config.json"):
        batok.Tokenizer.from_pretrained(directory)


def test_config_that_is_not_utf8_is_a_value_error(tmp_path: Path) -> None:
    directory = _directory(tmp_path, b'{"bos_token": "\xff"}')
    with pytest.raises(ValueError, match="tokenizer_config.json"):
        batok.Tokenizer.from_pretrained(directory)


def test_config_special_tokens_are_read(tmp_path: Path) -> None:
    """The config names the special tokens; the file's post-processor (none here) decides
    which a text gets, whatever `add_bos_token` says, as transformers 5 runs such a file."""
    directory = _directory(tmp_path, b'{"bos_token": "<s>", "add_bos_token": true}')
    tok = batok.Tokenizer.from_pretrained(directory)
    assert tok.bos_token_id == 2
    assert tok.encode("ab") == [0, 1]
    assert list(tok.encode_plus("ab").ids) == tok("ab")["input_ids"] == [0, 1]
