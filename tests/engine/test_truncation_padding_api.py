"""Truncation and padding through the Python API: where they apply, where they do not, and how
they travel (`to_str`, pickling). Their results are checked against `tokenizers` in
tests/parity/test_truncation_padding.py."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import tokenizers

from batok import AutoTokenizer, Tokenizer

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
# all-MiniLM's file truncates to 128 tokens and pads to 128.
MINILM_DIR = SHARED / "tokenizers" / "all-minilm-l6-v2"
MINILM = MINILM_DIR / "tokenizer.json"
GPT2 = SHARED / "tokenizers" / "gpt2" / "tokenizer.json"
LONG = "hello world " * 100


@pytest.fixture(scope="module")
def minilm_reference() -> tokenizers.Tokenizer:
    return tokenizers.Tokenizer.from_file(str(MINILM))


def test_a_files_truncation_and_padding_apply_as_in_tokenizers(
    minilm_reference: tokenizers.Tokenizer,
) -> None:
    tok = Tokenizer.from_file(MINILM)
    assert tok.truncation == minilm_reference.truncation
    assert tok.padding == minilm_reference.padding
    for text in ("Hello world!", LONG):
        want = minilm_reference.encode(text)
        got = tok.encode_plus(text)
        assert got.ids == want.ids
        assert got.attention_mask == want.attention_mask
        assert [w.ids for w in got.overflowing] == [w.ids for w in want.overflowing]


def test_every_encode_method_gives_the_same_ids_under_truncation_and_padding() -> None:
    tok = Tokenizer.from_file(GPT2)
    tok.enable_truncation(12, stride=2)
    tok.enable_padding(pad_id=50256, pad_token="<|endoftext|>", pad_to_multiple_of=8)
    texts = ["a short one", LONG, ""]
    expected = [tok.encode_plus(t).ids for t in texts]
    assert [tok.encode(t) for t in texts] == expected
    assert [tok.count_tokens(t) for t in texts] == [len(ids) for ids in expected]
    # A batch pads to its longest: here every text reaches 16 (12, rounded up to 8s).
    batch = tok.encode_batch(texts)
    assert batch == [ids + [50256] * (16 - len(ids)) for ids in expected]
    assert [e.ids for e in tok.encode_batch_plus(texts)] == batch
    ids, offsets = tok.encode_batch_to_numpy(texts)
    assert [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(3)] == batch


def test_no_truncation_and_no_padding_turn_them_off() -> None:
    tok = Tokenizer.from_file(MINILM)
    tok.no_truncation()
    tok.no_padding()
    assert tok.truncation is None and tok.padding is None
    assert len(tok.encode("Hello world!")) == 5
    assert len(tok.encode(LONG)) == 202


def test_from_pretrained_leaves_them_to_each_call_as_transformers_does() -> None:
    transformers = pytest.importorskip("transformers")
    reference = transformers.AutoTokenizer.from_pretrained(str(MINILM_DIR))
    tok = AutoTokenizer.from_pretrained(MINILM_DIR)
    assert tok.truncation is None and tok.padding is None
    for text in ("Hello world!", LONG):
        assert tok.encode(text) == reference.encode(text)
        assert tok(text)["input_ids"] == reference(text)["input_ids"]
    asked = {"truncation": True, "max_length": 16, "padding": "max_length"}
    assert tok(LONG, **asked)["input_ids"] == reference(LONG, **asked)["input_ids"]


def test_the_transformers_call_ignores_a_files_padding() -> None:
    tok = Tokenizer.from_file(MINILM)
    assert tok("Hello world!")["input_ids"] == [101, 7592, 2088, 999, 102]
    assert len(tok.encode_plus("Hello world!").ids) == 128


def test_to_str_writes_the_current_settings_for_tokenizers_to_load() -> None:
    tok = Tokenizer.from_file(GPT2)
    tok.enable_truncation(7, stride=1, strategy="only_first", direction="left")
    tok.enable_padding(length=9, direction="left", pad_id=3, pad_token="x")
    reference = tokenizers.Tokenizer.from_str(tok.to_str())
    assert reference.truncation == tok.truncation
    assert reference.padding == tok.padding
    tok.no_truncation()
    tok.no_padding()
    reference = tokenizers.Tokenizer.from_str(tok.to_str())
    assert reference.truncation is None and reference.padding is None


def test_pickling_keeps_truncation_and_padding() -> None:
    tok = Tokenizer.from_file(GPT2)
    tok.enable_truncation(5)
    tok.enable_padding(length=8)
    copy = pickle.loads(pickle.dumps(tok))
    assert copy.truncation == tok.truncation and copy.padding == tok.padding
    assert copy.encode(LONG) == tok.encode(LONG)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.enable_truncation(8, strategy="shortest"), "strategy must be one of"),
        (lambda t: t.enable_truncation(8, direction="up"), "direction must be one of"),
        (lambda t: t.enable_truncation(-1), "max_length must be an int"),
        (lambda t: t.enable_truncation(8, stride=1.5), "stride must be an int"),
        (lambda t: t.enable_padding(length=-3), "length must be an int"),
        (lambda t: t.enable_padding(pad_id=2**32), "pad_id must be an int"),
        (lambda t: t.enable_padding(direction="middle"), "direction must be one of"),
    ],
)
def test_bad_settings_are_refused_with_what_is_wrong(call, message: str) -> None:
    tok = Tokenizer.from_file(GPT2)
    with pytest.raises(ValueError, match=message):
        call(tok)
    assert tok.truncation is None and tok.padding is None


def test_a_stride_that_fills_the_window_is_an_error_not_a_crash() -> None:
    # `tokenizers` panics here (PanicException); batok says what to change.
    tok = Tokenizer.from_file(MINILM)
    tok.enable_truncation(4, stride=2)  # 4 - [CLS] - [SEP] leaves windows of 2
    with pytest.raises(ValueError, match=r"stride \(2\) must be less than"):
        tok.encode_plus(LONG)
    assert tok.encode_plus("hi").ids[:3] == [101, 7632, 102]


def test_truncating_only_the_second_text_of_a_single_text_is_an_error() -> None:
    tok = Tokenizer.from_file(GPT2)
    tok.enable_truncation(3, strategy="only_second")
    with pytest.raises(ValueError, match="needs a pair of texts"):
        tok.encode(LONG)
    first = tok.encode("a b", add_special_tokens=False)
    assert tok.encode("a b", LONG)[: len(first)] == first
    assert len(tok.encode("a b", LONG)) == 3
