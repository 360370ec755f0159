"""`decode`'s default for special tokens follows the library a tokenizer was loaded like:
`tokenizers` skips them (`Tokenizer.from_file`/`from_str`), transformers keeps them
(`from_pretrained`, `AutoTokenizer`). The same object serves both APIs, so the default comes
from how it was made, and survives a pickle."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import pytest
import tokenizers
import transformers

import batok

TOKENIZERS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "tokenizers"

# Files whose specials show in a decode, and a text that puts some in.
FAMILIES = ("all-minilm-l6-v2", "gpt2", "llama-2", "qwen2.5", "t5-small", "whisper-tiny")


def _ids(reference: tokenizers.Tokenizer) -> list[int]:
    """An encoding with the file's own special tokens around a plain text."""
    specials = [t.content for t in reference.get_added_tokens_decoder().values() if t.special]
    text = " ".join(["Hello", *specials[:3], "world"])
    return reference.encode(text).ids


@pytest.mark.parametrize("family", FAMILIES)
def test_from_file_skips_special_tokens_by_default_like_tokenizers(family: str) -> None:
    path = TOKENIZERS_DIR / family / "tokenizer.json"
    reference = tokenizers.Tokenizer.from_file(str(path))
    ids = _ids(reference)
    assert reference.decode(ids) != reference.decode(ids, skip_special_tokens=False)
    for ours in (
        batok.Tokenizer.from_file(path),
        batok.Tokenizer.from_str(path.read_text(encoding="utf-8")),
    ):
        assert ours.decode(ids) == reference.decode(ids)
        assert ours.decode_batch([ids, ids[:2]]) == reference.decode_batch([ids, ids[:2]])
        assert pickle.loads(pickle.dumps(ours)).decode(ids) == reference.decode(ids)
        # An explicit choice wins over the default.
        assert ours.decode(ids, skip_special_tokens=False) == reference.decode(
            ids, skip_special_tokens=False
        )


@pytest.mark.parametrize("family", FAMILIES)
def test_from_pretrained_keeps_special_tokens_by_default_like_transformers(family: str) -> None:
    folder = TOKENIZERS_DIR / family
    if not (folder / "tokenizer_config.json").is_file():
        pytest.skip(f"{family} has no tokenizer_config.json for transformers to load")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = transformers.AutoTokenizer.from_pretrained(str(folder))
    ids = _ids(tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json")))
    for ours in (
        batok.AutoTokenizer.from_pretrained(folder),
        batok.Tokenizer.from_pretrained(folder),
    ):
        assert ours.decode(ids) == reference.decode(ids)
        assert ours.batch_decode([ids, ids[:2]]) == reference.batch_decode([ids, ids[:2]])
        assert pickle.loads(pickle.dumps(ours)).decode(ids) == reference.decode(ids)
        assert ours.decode(ids, skip_special_tokens=True) == reference.decode(
            ids, skip_special_tokens=True
        )
