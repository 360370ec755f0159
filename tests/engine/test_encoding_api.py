"""batok's tiktoken-compatible `Encoding`: the API behaves as tiktoken's does.

Values come from tiktoken itself where it has them (its published patterns and special tokens, its
model table, its error messages); batok's own additions (rank files, count_tokens, the thread
setting, clearer type errors) are specified here.
"""

from __future__ import annotations

import gzip
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tiktoken
import tiktoken.model

from batok.encoding import (
    Encoding,
    encoding_for_model,
    encoding_name_for_model,
    get_encoding,
    list_encoding_names,
)

BUNDLED = ["cl100k_base", "o200k_base", "o200k_harmony"]
ALL_NAMES = tiktoken.list_encoding_names()
TEXT = "Hello world! Don't stop: 1234567 naïve 日本語 😀\n\n  tabs\tand spaces  "


@pytest.fixture(scope="module", params=["cl100k_base", "o200k_base"])
def pair(request: pytest.FixtureRequest, tiktoken_reference: Callable[[str], Any]) -> tuple:
    """(batok's bundled encoding, tiktoken's reference) for the two main encodings."""
    return get_encoding(request.param), tiktoken_reference(request.param)


@pytest.fixture(scope="module", params=ALL_NAMES)
def any_pair(
    request: pytest.FixtureRequest, tiktoken_reference: Callable[[str], Any], tiktoken_cache: Path
) -> tuple:
    """(batok's encoding, tiktoken's reference) for each of tiktoken's names."""
    return get_encoding(request.param), tiktoken_reference(request.param)


# ------------------------------------------------------------------ registry


def test_list_encoding_names_are_tiktokens() -> None:
    assert list_encoding_names() == ALL_NAMES


@pytest.mark.parametrize("name", ALL_NAMES)
def test_get_encoding_returns_one_cached_instance(name: str, tiktoken_cache: Path) -> None:
    assert get_encoding(name) is get_encoding(name)
    assert get_encoding(name).name == name


def test_get_encoding_unknown_name_raises_value_error_listing_available() -> None:
    with pytest.raises(ValueError, match="cl100k_base, o200k_base") as info:
        get_encoding("no_such_encoding")
    assert "'no_such_encoding'" in str(info.value)
    assert "from_rank_file" in str(info.value)


def test_get_encoding_non_str_raises_type_error() -> None:
    with pytest.raises(TypeError, match="str"):
        get_encoding(None)  # type: ignore[arg-type]


def test_pattern_and_special_tokens_are_tiktokens(any_pair: tuple) -> None:
    enc, reference = any_pair
    assert enc._pat_str == reference._pat_str
    assert enc._special_tokens == reference._special_tokens


def test_vocabulary_sizes_and_eot_match_tiktoken(any_pair: tuple) -> None:
    enc, reference = any_pair
    assert enc.n_vocab == reference.n_vocab
    assert enc.max_token_value == reference.max_token_value
    assert enc.eot_token == reference.eot_token
    assert enc.special_tokens_set == reference.special_tokens_set


def test_repr_names_the_encoding(any_pair: tuple) -> None:
    enc, reference = any_pair
    assert repr(enc) == repr(reference)


# ------------------------------------------------------------------ models


def _tiktoken_models() -> list[tuple[str, str]]:
    names = list(tiktoken.model.MODEL_TO_ENCODING)
    names += [prefix + "2099-01-01" for prefix in tiktoken.model.MODEL_PREFIX_TO_ENCODING]
    names += ["gpt-4o-mini", "gpt-4-32k", "gpt-3.5-turbo-16k", "gpt-5-nano", "ft:gpt-4o:org:x"]
    return [(name, tiktoken.model.encoding_name_for_model(name)) for name in names]


@pytest.mark.parametrize(("model", "tiktoken_encoding"), _tiktoken_models())
def test_encoding_for_model_follows_tiktokens_table(model: str, tiktoken_encoding: str) -> None:
    assert encoding_name_for_model(model) == tiktoken_encoding
    if tiktoken_encoding in BUNDLED:
        assert encoding_for_model(model) is get_encoding(tiktoken_encoding)


def test_encoding_for_model_unknown_model_raises_key_error() -> None:
    with pytest.raises(KeyError, match="Could not automatically map not-a-model"):
        encoding_for_model("not-a-model")


# ------------------------------------------------------------------ encoding


def test_encode_ordinary_matches_tiktoken(pair: tuple) -> None:
    enc, reference = pair
    assert enc.encode_ordinary(TEXT) == reference.encode_ordinary(TEXT)
    assert enc.encode(TEXT) == reference.encode(TEXT)


def test_encode_empty_text_gives_no_tokens(pair: tuple) -> None:
    enc, _ = pair
    assert enc.encode("") == [] and enc.encode_ordinary("") == [] and enc.count_tokens("") == 0


@pytest.mark.parametrize("bad", [b"bytes", None, 12, ["a"]], ids=["bytes", "none", "int", "list"])
def test_encode_non_str_raises_type_error(pair: tuple, bad: object) -> None:
    enc, _ = pair
    for method in (enc.encode, enc.encode_ordinary, enc.count_tokens, enc.encode_to_numpy):
        with pytest.raises(TypeError, match="text must be a str"):
            method(bad)


def test_encode_batch_single_str_raises_type_error(pair: tuple) -> None:
    enc, _ = pair
    with pytest.raises(TypeError, match="must be a list of str, got str"):
        enc.encode_batch("hello")
    with pytest.raises(TypeError, match="must be a list of str, got str"):
        enc.encode_ordinary_batch("hello")


def test_encode_batch_non_str_item_raises_type_error_naming_it(pair: tuple) -> None:
    enc, _ = pair
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got bytes"):
        enc.encode_batch(["ok", b"no"])


def test_encode_disallowed_special_raises_tiktokens_value_error(pair: tuple) -> None:
    enc, reference = pair
    with pytest.raises(ValueError) as expected:
        reference.encode("hi <|endoftext|>")
    with pytest.raises(ValueError) as got:
        enc.encode("hi <|endoftext|>")
    assert str(got.value) == str(expected.value)
    assert "disallowed special token '<|endoftext|>'" in str(got.value)


def test_encode_allowed_special_all_encodes_special_tokens(pair: tuple) -> None:
    enc, reference = pair
    text = "a<|endoftext|>b<|endofprompt|>"
    assert enc.encode(text, allowed_special="all") == reference.encode(text, allowed_special="all")
    assert enc.eot_token in enc.encode(text, allowed_special="all")


def test_encode_allowed_special_subset_keeps_others_disallowed(pair: tuple) -> None:
    enc, _ = pair
    text = "<|endoftext|><|endofprompt|>"
    with pytest.raises(ValueError, match="endofprompt"):
        enc.encode(text, allowed_special={"<|endoftext|>"})


def test_encode_disallowed_special_empty_encodes_specials_as_text(pair: tuple) -> None:
    enc, reference = pair
    text = "<|endoftext|>"
    assert enc.encode(text, disallowed_special=()) == reference.encode(text, disallowed_special=())
    assert enc.encode(text, disallowed_special=()) == enc.encode_ordinary(text)


def test_encode_disallowed_special_any_string_raises(pair: tuple) -> None:
    # tiktoken checks whatever strings the caller disallows, special tokens or not.
    enc, reference = pair
    with pytest.raises(ValueError) as expected:
        reference.encode("a forbidden word", disallowed_special={"forbidden"})
    with pytest.raises(ValueError) as got:
        enc.encode("a forbidden word", disallowed_special={"forbidden"})
    assert str(got.value) == str(expected.value)


def test_encode_allowed_special_bare_str_raises_type_error(pair: tuple) -> None:
    enc, _ = pair
    with pytest.raises(TypeError, match="did you mean"):
        enc.encode("x", allowed_special="<|endoftext|>")


def test_encode_lone_surrogate_becomes_replacement_character_like_tiktoken(pair: tuple) -> None:
    enc, reference = pair
    text = "a\ud800b\udfff"
    assert enc.encode(text) == reference.encode(text)
    assert enc.encode_ordinary(text) == reference.encode_ordinary(text)
    assert enc.encode_batch([text]) == [reference.encode(text)]
    assert enc.encode_ordinary_batch([text]) == [reference.encode_ordinary(text)]
    assert enc.count_tokens(text) == len(reference.encode_ordinary(text))
    assert enc.encode_to_numpy(text).tolist() == reference.encode(text)
    assert enc.encode(text, allowed_special=set()) == reference.encode(text, allowed_special=set())


def test_encode_single_token_accepts_str_bytes_and_specials(pair: tuple) -> None:
    enc, reference = pair
    assert enc.encode_single_token("hello") == reference.encode_single_token("hello")
    assert enc.encode_single_token(b" world") == reference.encode_single_token(b" world")
    assert enc.encode_single_token("<|endoftext|>") == reference.eot_token


def test_encode_single_token_unknown_raises_key_error(pair: tuple) -> None:
    enc, _ = pair
    with pytest.raises(KeyError) as info:
        enc.encode_single_token("qqqqqqqqqqqqqqqq")
    assert info.value.args == (b"qqqqqqqqqqqqqqqq",)


def test_count_tokens_equals_length_of_encode_ordinary(pair: tuple) -> None:
    enc, _ = pair
    text = TEXT + "<|endoftext|>"
    assert enc.count_tokens(text) == len(enc.encode_ordinary(text))


def test_encode_to_numpy_gives_uint32_array_of_the_ids(pair: tuple) -> None:
    enc, _ = pair
    array = enc.encode_to_numpy(TEXT)
    assert isinstance(array, np.ndarray) and array.dtype == np.uint32
    assert array.tolist() == enc.encode(TEXT)


@pytest.mark.parametrize("nothing", [(), [], set(), frozenset()])
def test_nothing_disallowed_is_encode_ordinary_in_every_form(pair: tuple, nothing: object) -> None:
    enc, reference = pair
    for text in ["<|endoftext|> x", "lone \ud800 surrogate", ""]:
        want = reference.encode(text, disallowed_special=nothing)
        assert enc.encode(text, disallowed_special=nothing) == want
        assert enc.encode_to_numpy(text, disallowed_special=nothing).tolist() == want
    for call in (enc.encode, enc.encode_to_numpy):
        with pytest.raises(TypeError, match="must be a str"):
            call(b"bytes", disallowed_special=nothing)


def test_encode_to_numpy_follows_the_special_token_policy(pair: tuple) -> None:
    enc, _ = pair
    text = "x<|endoftext|>"
    with pytest.raises(ValueError, match="disallowed special token"):
        enc.encode_to_numpy(text)
    assert enc.encode_to_numpy(text, allowed_special="all").tolist() == enc.encode(
        text, allowed_special="all"
    )
    assert enc.encode_to_numpy(text, disallowed_special=()).tolist() == enc.encode_ordinary(text)


def test_encode_batch_equals_encode_each(pair: tuple) -> None:
    enc, _ = pair
    texts = [TEXT, "", "<|endoftext|> x", "naïve"]
    assert enc.encode_batch(texts, allowed_special="all") == [
        enc.encode(text, allowed_special="all") for text in texts
    ]
    assert enc.encode_ordinary_batch(texts) == [enc.encode_ordinary(text) for text in texts]
    assert enc.encode_batch([]) == [] and enc.encode_ordinary_batch([]) == []


def test_large_batches_equal_encode_each_on_any_thread_count(pair: tuple) -> None:
    # Hundreds of texts: batches are split into runs of texts that finish in any order.
    enc, _ = pair
    texts = [f"{TEXT} {i} naïve 日本語 " * (i % 7) for i in range(300)] + ["a\ud800b"]
    single = [enc.encode_ordinary(text) for text in texts]
    for n in (1, 2, 3, 8):
        assert enc.encode_ordinary_batch(texts, num_threads=n) == single
        ids, offsets = enc.encode_ordinary_batch_to_numpy(texts, num_threads=n)
        assert [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(texts))] == single


def test_encode_batch_accepts_any_iterable_of_str(pair: tuple) -> None:
    enc, _ = pair
    assert enc.encode_ordinary_batch(iter(["a", "b"])) == [enc.encode_ordinary(t) for t in "ab"]


# ------------------------------------------------------------------ threads


def test_num_threads_comes_from_the_environment(
    pair: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    enc, _ = pair
    monkeypatch.setenv("BATOK_NUM_THREADS", "1")
    assert enc.encode_ordinary_batch([TEXT, TEXT]) == [enc.encode_ordinary(TEXT)] * 2


def test_num_threads_invalid_environment_value_raises_value_error(
    pair: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    enc, _ = pair
    monkeypatch.setenv("BATOK_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="BATOK_NUM_THREADS"):
        enc.encode_ordinary_batch([TEXT])


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_num_threads_invalid_argument_raises_value_error(pair: tuple, bad: object) -> None:
    enc, _ = pair
    with pytest.raises(ValueError, match="num_threads"):
        enc.encode_batch([TEXT], num_threads=bad)  # type: ignore[arg-type]


# ------------------------------------------------------------------ decoding


def test_decode_and_decode_bytes_match_tiktoken(pair: tuple) -> None:
    enc, reference = pair
    ids = reference.encode(TEXT + "<|endoftext|>", allowed_special="all")
    assert enc.decode(ids) == reference.decode(ids)
    assert enc.decode_bytes(ids) == reference.decode_bytes(ids)
    assert enc.decode_tokens_bytes(ids) == reference.decode_tokens_bytes(ids)
    assert enc.decode_with_offsets(ids) == reference.decode_with_offsets(ids)
    assert enc.decode_batch([ids, ids[:3]]) == reference.decode_batch([ids, ids[:3]])
    assert enc.decode_bytes_batch([ids]) == reference.decode_bytes_batch([ids])


def test_decode_partial_character_replaces_or_raises_like_tiktoken(pair: tuple) -> None:
    enc, reference = pair
    ids = [reference.encode_single_token(b"a"), reference.encode_single_token(b"\xf0")]
    assert enc.decode(ids) == reference.decode(ids)
    with pytest.raises(UnicodeDecodeError):
        enc.decode(ids, errors="strict")


def test_decode_invalid_token_raises_tiktokens_key_error(pair: tuple) -> None:
    enc, reference = pair
    bad = reference.n_vocab + 10
    with pytest.raises(KeyError) as expected:
        reference.decode_bytes([1, bad])
    with pytest.raises(KeyError) as got:
        enc.decode_bytes([1, bad])
    assert got.value.args == expected.value.args
    with pytest.raises(KeyError):
        enc.decode([bad])


def test_decode_single_token_bytes_invalid_raises_key_error(pair: tuple) -> None:
    enc, reference = pair
    bad = reference.n_vocab + 10
    with pytest.raises(KeyError) as expected:
        reference.decode_single_token_bytes(bad)
    with pytest.raises(KeyError) as got:
        enc.decode_single_token_bytes(bad)
    assert got.value.args == expected.value.args


def test_decode_single_token_bytes_decodes_special_tokens(pair: tuple) -> None:
    enc, _ = pair
    assert enc.decode_single_token_bytes(enc.eot_token) == b"<|endoftext|>"


def test_is_special_token_and_token_byte_values_match_tiktoken(pair: tuple) -> None:
    enc, reference = pair
    assert enc.is_special_token(enc.eot_token) and not enc.is_special_token(0)
    assert enc.token_byte_values() == reference.token_byte_values()


# ------------------------------------------------------------------ constructing


def test_encoding_from_mergeable_ranks_matches_bundled(tiktoken_reference: Callable) -> None:
    reference = tiktoken_reference("cl100k_base")
    enc = Encoding(
        "cl100k_copy",
        pat_str=reference._pat_str,
        mergeable_ranks=reference._mergeable_ranks,
        special_tokens=reference._special_tokens,
    )
    assert enc.encode(TEXT) == get_encoding("cl100k_base").encode(TEXT)
    assert enc.n_vocab == reference.n_vocab


def test_encoding_from_rank_file_plain_and_gzip(tiktoken_dir: Path, tmp_path: Path) -> None:
    bundled = get_encoding("o200k_base")
    plain = tiktoken_dir / "o200k_base.tiktoken"
    compressed = tmp_path / "o200k_base.tiktoken.gz"
    compressed.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, compressed, str(plain)):
        enc = Encoding.from_rank_file(
            path, pat_str=bundled._pat_str, special_tokens=bundled._special_tokens
        )
        assert enc.name == "o200k_base"
        assert enc.encode(TEXT) == bundled.encode(TEXT)


def test_encoding_extends_another_like_the_tiktoken_readme() -> None:
    # tiktoken's documented recipe for adding special tokens to an existing encoding.
    base = get_encoding("cl100k_base")
    enc = Encoding(
        name="cl100k_im",
        pat_str=base._pat_str,
        mergeable_ranks=base._mergeable_ranks,
        special_tokens={**base._special_tokens, "<|im_start|>": 100264, "<|im_end|>": 100265},
    )
    assert enc.encode("<|im_start|>hi<|im_end|>", allowed_special="all") == [
        100264,
        *base.encode("hi"),
        100265,
    ]


def test_encoding_needs_exactly_one_source_of_ranks(tiktoken_dir: Path) -> None:
    base = get_encoding("cl100k_base")
    with pytest.raises(TypeError, match="exactly one"):
        Encoding("x", pat_str=base._pat_str, special_tokens={})
    with pytest.raises(TypeError, match="exactly one"):
        Encoding(
            "x",
            pat_str=base._pat_str,
            special_tokens={},
            mergeable_ranks={b"a": 0},
            rank_file=tiktoken_dir / "cl100k_base.tiktoken",
        )


def test_encoding_explicit_n_vocab_mismatch_raises_value_error() -> None:
    ranks = {bytes([i]): i for i in range(256)}
    special = {"<|endoftext|>": 256}
    pattern = get_encoding("cl100k_base")._pat_str
    enc = Encoding(
        "bytes",
        pat_str=pattern,
        mergeable_ranks=ranks,
        special_tokens=special,
        explicit_n_vocab=257,
    )
    assert enc.n_vocab == 257
    assert enc.encode("hi") == [ord("h"), ord("i")]
    with pytest.raises(ValueError, match="explicit_n_vocab"):
        Encoding(
            "bytes",
            pat_str=pattern,
            mergeable_ranks=ranks,
            special_tokens=special,
            explicit_n_vocab=300,
        )


def test_encoding_bad_special_tokens_raise_type_error() -> None:
    base = get_encoding("cl100k_base")
    with pytest.raises(TypeError, match="special_tokens"):
        Encoding("x", pat_str=base._pat_str, mergeable_ranks={b"a": 0}, special_tokens={b"x": 1})


def test_encoding_missing_rank_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Encoding.from_rank_file(tmp_path / "missing.tiktoken", pat_str=r"\S+", special_tokens={})


# ------------------------------------------------------------------ pickling


@pytest.mark.parametrize("name", BUNDLED)
def test_pickle_bundled_encoding_returns_the_cached_instance(name: str) -> None:
    enc = get_encoding(name)
    assert pickle.loads(pickle.dumps(enc)) is enc


def test_pickle_fetched_encoding_carries_its_ranks(tiktoken_cache: Path, monkeypatch) -> None:
    enc = get_encoding("p50k_base")
    data = pickle.dumps(enc)
    # Unpickling needs neither the cache nor the network (a worker may have neither).
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    monkeypatch.setenv("BA_HUB_OFFLINE", "1")
    copy = pickle.loads(data)
    assert copy is not enc and copy.name == "p50k_base"
    assert copy.encode(TEXT) == enc.encode(TEXT)


def test_pickle_custom_encoding_round_trips() -> None:
    ranks = {bytes([i]): i for i in range(256)}
    enc = Encoding("bytes", pat_str=r"\S+|\s+", mergeable_ranks=ranks, special_tokens={"<x>": 256})
    copy = pickle.loads(pickle.dumps(enc))
    assert copy.name == "bytes" and copy.encode("hi <x>", allowed_special="all") == [
        104,
        105,
        32,
        256,
    ]


def test_ordinary_batch_to_numpy_is_flat_ids_with_offsets() -> None:
    import batok

    enc = batok.get_encoding("cl100k_base")
    texts = ["hello world", "", "héllo <|endoftext|>", "x" * 100]
    ids, offsets = enc.encode_ordinary_batch_to_numpy(texts, num_threads=2)
    got = [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(texts))]
    assert got == [enc.encode_ordinary(t) for t in texts]
