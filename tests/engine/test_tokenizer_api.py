"""The Python `Tokenizer` API: names and behaviour of transformers/tokenizers, and clear errors."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path

import pytest
import tokenizers

import batok
from batok import BatokError, Tokenizer

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
LLAMA2 = SHARED / "tokenizers" / "llama-2" / "tokenizer.json"
GPT2 = SHARED / "tokenizers" / "gpt2" / "tokenizer.json"


@pytest.fixture(scope="module")
def llama() -> Tokenizer:
    return Tokenizer.from_file(LLAMA2)


@pytest.fixture(scope="module")
def gpt2() -> Tokenizer:
    return Tokenizer.from_file(GPT2)


def tiny_json(**overrides: object) -> str:
    doc: dict[str, object] = {
        "added_tokens": [
            {
                "id": 3,
                "content": "<s>",
                "special": True,
                "lstrip": False,
                "rstrip": False,
                "single_word": False,
                "normalized": False,
            }
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<s>": 3}, "merges": ["a b"]},
    }
    doc.update(overrides)
    return json.dumps(doc)


def test_seed_line_encodes_as_llama() -> None:
    assert Tokenizer.from_file(LLAMA2).encode("Hello world!") == [1, 15043, 3186, 29991]


def test_encode_plus_matches_tokenizers_encoding(llama: Tokenizer) -> None:
    ref = tokenizers.Tokenizer.from_file(str(LLAMA2)).encode("Héllo wörld!")
    enc = llama.encode_plus("Héllo wörld!")
    assert (enc.ids, enc.tokens, enc.offsets) == (ref.ids, ref.tokens, ref.offsets)
    assert enc.attention_mask == ref.attention_mask
    assert enc.special_tokens_mask == ref.special_tokens_mask


def test_call_returns_input_ids_and_attention_mask(llama: Tokenizer) -> None:
    one = llama("Hello world!")
    assert one == {"input_ids": llama.encode("Hello world!"), "attention_mask": [1, 1, 1, 1]}
    many = llama(["a", "b c"])
    assert many["input_ids"] == [llama.encode("a"), llama.encode("b c")]
    assert [len(m) for m in many["attention_mask"]] == [len(x) for x in many["input_ids"]]


def test_tokenize_gives_tokens_without_specials(llama: Tokenizer) -> None:
    assert llama.tokenize("Hello world!") == ["▁Hello", "▁world", "!"]


def test_vocabulary_lookups_round_trip(llama: Tokenizer) -> None:
    ids = llama.convert_tokens_to_ids(["▁Hello", "<s>"])
    assert ids == [15043, 1]
    assert llama.convert_ids_to_tokens(ids) == ["▁Hello", "<s>"]
    assert llama.token_to_id("no such token") is None
    assert llama.id_to_token(10**9) is None
    assert llama.vocab_size == 32000 and len(llama) == 32000


def test_batch_equals_single_on_any_thread_count(gpt2: Tokenizer) -> None:
    # Hundreds of texts: batches are split into runs of texts that finish in any order.
    texts = [f"Hello world {i}!" for i in range(200)] + ["", "  spaces  ", "数字 123"] * 5
    single = [gpt2.encode(t) for t in texts]
    for n in (None, 1, 2, 3):
        assert gpt2.encode_batch(texts, num_threads=n) == single
        ids, offsets = gpt2.encode_batch_to_numpy(texts, num_threads=n)
        assert [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(texts))] == single
    assert gpt2.decode_batch(single) == [gpt2.decode(s) for s in single]


def test_thread_count_comes_from_environment(gpt2: Tokenizer, monkeypatch) -> None:
    monkeypatch.setenv("BATOK_NUM_THREADS", "two")
    with pytest.raises(ValueError, match="BATOK_NUM_THREADS"):
        gpt2.encode_batch(["a"])
    monkeypatch.setenv("BATOK_NUM_THREADS", "1")
    assert gpt2.encode_batch(["a"]) == [gpt2.encode("a")]


def test_shared_across_threads_gives_same_results(gpt2: Tokenizer) -> None:
    texts = [f"text number {i} with words" for i in range(200)]
    expected = [gpt2.encode(t) for t in texts]
    results: list[list[list[int]]] = []

    def work() -> None:
        results.append([gpt2.encode(t) for t in texts])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_non_str_text_is_a_type_error(llama: Tokenizer) -> None:
    with pytest.raises(TypeError, match="text must be a str, got bytes"):
        llama.encode(b"Hello")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str"):
        llama.encode_batch(["a", 1])  # type: ignore[list-item]


def test_id_outside_vocabulary_is_a_value_error(llama: Tokenizer) -> None:
    with pytest.raises(ValueError, match="token id 99999 is not in the vocabulary"):
        llama.decode([1, 99999])
    with pytest.raises(ValueError, match=r"ids\[0\] = -1 is not a valid token id"):
        llama.decode([-1])
    with pytest.raises(TypeError, match=r"ids\[1\] must be an int"):
        llama.decode([1, "2"])  # type: ignore[list-item]


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.json"):
        Tokenizer.from_file(tmp_path / "nope.json")


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(BatokError, match="line 2 column"):
        Tokenizer.from_str('{\n  "model": ,\n}')


def test_unsupported_component_names_its_path() -> None:
    bad = tiny_json(normalizer={"type": "Sequence", "normalizers": [{"type": "Foo"}]})
    with pytest.raises(
        BatokError, match=r'normalizer.normalizers\[0\].type = "Foo" is not supported'
    ):
        Tokenizer.from_str(bad)


def test_unknown_model_type_is_refused_by_name() -> None:
    bad = tiny_json(model={"type": "Foo", "vocab": [["a", 0.0]], "unk_id": 0})
    with pytest.raises(BatokError, match='model.type = "Foo" is not supported'):
        Tokenizer.from_str(bad)


def test_unigram_without_unk_id_raises_on_uncovered_text() -> None:
    # As tokenizers does: the file loads, text it covers encodes, other text is an error.
    tok = Tokenizer.from_str(tiny_json(model={"type": "Unigram", "vocab": [["a", 0.0]]}))
    assert tok.encode("aa") == [0, 0]
    with pytest.raises(ValueError, match="unk_id` is missing"):
        tok.encode("ab")
    with pytest.raises(ValueError, match="unk_id` is missing"):
        tok.encode_batch(["a", "ab"])
    with pytest.raises(ValueError, match="unk_id` is missing"):
        tok.encode_plus("ab")


def test_wordpiece_model_missing_a_field_names_it() -> None:
    # tokenizers requires every WordPiece field too.
    bad = tiny_json(model={"type": "WordPiece", "vocab": {}, "unk_token": "[UNK]"})
    with pytest.raises(BatokError, match="missing field `continuing_subword_prefix`"):
        Tokenizer.from_str(bad)


def test_every_unsupported_part_is_named_in_one_error() -> None:
    bad = tiny_json(
        truncation={"max_length": 8},
        normalizer={"type": "Sequence", "normalizers": [{"type": "Foo"}, {"type": "Bar"}]},
        decoder={"type": "Baz"},
        model={"type": "Foo", "vocab": [["a", 0.0]], "unk_id": 0},
    )
    with pytest.raises(BatokError) as error:
        Tokenizer.from_str(bad)
    for part in (
        "truncation: missing field `strategy`",
        'normalizer.normalizers[0].type = "Foo"',
        'normalizer.normalizers[1].type = "Bar"',
        'decoder.type = "Baz"',
        'model.type = "Foo"',
    ):
        assert part in str(error.value)


def test_error_from_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text("[1, 2", encoding="utf-8")
    with pytest.raises(BatokError, match="tokenizer.json"):
        Tokenizer.from_file(path)


def test_config_special_tokens_apply(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text(tiny_json(), encoding="utf-8")
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"bos_token": {"content": "<s>"}, "add_bos_token": True}), encoding="utf-8"
    )
    tok = Tokenizer.from_pretrained(tmp_path)
    assert tok.bos_token == "<s>" and tok.bos_token_id == 3
    # The file has no post-processor: no BOS, whatever the config's add_bos_token says.
    assert tok.encode("ab") == tok.encode("ab", add_special_tokens=False) == [2]
    assert tok.count_tokens("ab") == 1
    assert tok.decode([3, 2], skip_special_tokens=True) == "ab"


def test_malformed_input_never_panics() -> None:
    """Random and malformed documents raise Python errors, never a PanicException."""
    rng = random.Random(1234)
    base = json.loads(tiny_json())
    mutations: list[object] = [None, 1, -1, "x", [], {}, [1, 2], {"type": "BPE"}, 2**40]
    for _ in range(400):
        doc = json.loads(json.dumps(base))
        target = rng.choice([doc, doc["model"], doc["added_tokens"][0]])
        key = rng.choice(list(target.keys()))
        target[key] = rng.choice(mutations)
        text = json.dumps(doc)
        if rng.random() < 0.3:
            cut = rng.randrange(len(text))
            text = text[:cut]
        try:
            tok = Tokenizer.from_str(text)
        except (BatokError, ValueError, TypeError):
            continue
        for sample in ["", "ab", "a b <s>", "\x00\udcff".encode("utf-8", "replace").decode()]:
            ids = tok.encode(sample)
            tok.decode(ids)


def test_random_unicode_never_panics(gpt2: Tokenizer) -> None:
    rng = random.Random(99)
    for _ in range(300):
        s = "".join(
            chr(
                rng.choice(
                    [
                        rng.randrange(0x20, 0x7F),
                        rng.randrange(0x80, 0xD800),
                        rng.randrange(0xE000, 0x110000),
                    ]
                )
            )
            for _ in range(20)
        )
        assert gpt2.decode(gpt2.encode(s)) == s


def test_module_exports_are_the_public_api() -> None:
    assert batok.__all__ == sorted(batok.__all__)
    for name in batok.__all__:
        assert hasattr(batok, name), name


def test_batch_to_numpy_is_flat_ids_with_offsets(gpt2: Tokenizer) -> None:
    texts = ["Hello world!", "", "数字 123", "a"]
    ids, offsets = gpt2.encode_batch_to_numpy(texts, num_threads=2)
    assert offsets.tolist()[0] == 0 and len(offsets) == len(texts) + 1
    got = [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(texts))]
    assert got == [gpt2.encode(t) for t in texts]


@pytest.mark.parametrize("family", ["llama-2", "roberta-base", "llama-3.2", "gpt2"])
@pytest.mark.parametrize("add_special_tokens", [True, False])
def test_count_tokens_is_the_length_of_encode(family: str, add_special_tokens: bool) -> None:
    # Each family's post-processor adds its own special tokens (a template with BOS, RoBERTa's
    # CLS and SEP, a sequence of processors, none); the count must include exactly those.
    tok = Tokenizer.from_file(SHARED / "tokenizers" / family / "tokenizer.json")
    for text in ["", "Hello world!", "  two  spaces\nand a line", "日本語のテキスト"]:
        ids = tok.encode(text, add_special_tokens=add_special_tokens)
        assert tok.count_tokens(text, add_special_tokens=add_special_tokens) == len(ids), text


@pytest.mark.parametrize("path", ["./does-not-exist", "../nowhere/tok", "/no/such/dir", "a/b/c"])
def test_from_pretrained_missing_local_path_is_file_not_found(path: str) -> None:
    with pytest.raises(FileNotFoundError, match="not a local directory"):
        batok.AutoTokenizer.from_pretrained(path)


def test_second_positional_argument_is_a_pair_not_a_flag(tmp_path) -> None:
    """transformers' call takes ``(text, text_pair)``; a pair must never be read as a flag."""
    tok = batok.Tokenizer.from_file(
        Path(__file__).resolve().parents[2].parent / "shared/tokenizers/gpt2/tokenizer.json"
    )
    pair = tok.encode_plus("Hello", "world")
    assert tok("Hello", "world")["input_ids"] == pair.ids == tok.encode("Hello", "world")
    assert pair.sequence_ids == [0, 1]
    # batok's earlier `encode(text, add_special_tokens)` still reads a bool as the flag.
    assert tok.encode("Hello", False) == tok.encode("Hello", add_special_tokens=False)
