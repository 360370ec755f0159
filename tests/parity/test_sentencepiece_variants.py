"""SentencePiece-style tokenizers (spaces read as `▁`, words start at each `▁`) under every way
the replacement is prepended, against `tokenizers`.

The shared files use three of them: Llama-2's `Prepend` normalizer, Mistral's Metaspace with
`prepend_scheme: "first"` and Gemma 3's `Replace` normalizer, which prepends nothing. Metaspace
`"always"` and `"never"` are built here from Mistral's file, and each variant meets text that
starts with spaces, holds literal `▁`, runs of separators and special tokens, where the word
split and the prepended replacement must agree with the reference. Gemma 3 also has a merge that
joins two words (`>▁</`); texts written across each such join check that batok keeps those
words together. Llama-2 without its unknown token and byte fallback drops chars in no token,
so the words around one meet and may merge.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import tokenizers
from _parity import HfFamily, hf_differences, report, text_with_tokens
from hypothesis import given, settings
from hypothesis import strategies as st

import batok

PARITY = settings.get_profile("batok-parity")


# variant name -> the tokens its merges make across the start of a word (see joining_tokens)
JOINS: dict[str, list[str]] = {}

SPM_SPECIALS = ("<s>", "</s>", "<unk>")

# name: (family directory, Metaspace prepend_scheme to set or None to keep the file as it is,
# special tokens to mix into text, model fields to change)
VARIANTS: dict[str, tuple[str, str | None, tuple[str, ...], dict[str, object]]] = {
    "llama-2 Prepend normalizer": ("llama-2", None, SPM_SPECIALS, {}),
    "Metaspace first": ("mistral-7b-v0.1", "first", SPM_SPECIALS, {}),
    "Metaspace always": ("mistral-7b-v0.1", "always", SPM_SPECIALS, {}),
    "Metaspace never": ("mistral-7b-v0.1", "never", SPM_SPECIALS, {}),
    "gemma3 Replace normalizer": ("gemma3", None, ("<bos>", "<eos>", "<start_of_turn>"), {}),
    # A char in no token, with neither an unknown token nor byte fallback: `tokenizers` drops it.
    "llama-2 no unk_token, no byte_fallback": (
        "llama-2",
        None,
        SPM_SPECIALS,
        {"unk_token": None, "byte_fallback": False},
    ),
}


@pytest.fixture(scope="module", params=list(VARIANTS), ids=list(VARIANTS))
def variant(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tokenizers_dir: Path
) -> Iterator[HfFamily]:
    family, scheme, specials, model = VARIANTS[request.param]
    config = json.loads((tokenizers_dir / family / "tokenizer.json").read_text("utf-8"))
    if scheme is not None:
        config["pre_tokenizer"]["prepend_scheme"] = scheme
    config["model"].update(model)
    path = tmp_path_factory.mktemp("sentencepiece") / "tokenizer.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    JOINS[request.param] = joining_tokens(config)
    reference = tokenizers.Tokenizer.from_file(str(path))
    yield HfFamily(
        name=request.param,
        reference=reference,
        batok=batok.Tokenizer.from_file(Path(path)),
        added_tokens=specials,
    )


EDGES = [
    "Hello",
    " Hello",
    "  Hello",
    "▁Hello",
    "▁▁Hello world",
    "Hello  world ",
    "Hello ▁ world",
    "a▁ ▁b",
    " ",
    "▁",
    "   ",
    "Hello<s> world</s>  again",
    "<s>Hello",
    "<s> Hello",
    "中文 文本▁テキスト",
    "x – y — z",  # other chars whose UTF-8 starts with the byte that starts `▁`
    "Hello Hello Hello",
    "<p>a</p> </p>",  # `>▁</` is one token in Gemma 3
    "> ▁</",
]


def test_edge_texts_match_tokenizers(variant: HfFamily) -> None:
    problems = []
    # Twice: the second pass answers from batok's piece cache.
    for text in EDGES + EDGES:
        for add_special_tokens in (False, True):
            problems += hf_differences(variant, "edge text", text, add_special_tokens)
    assert not problems, report(problems, f"tokenizers with {variant.name}")


SEPARATED = st.lists(
    st.sampled_from([" ", "  ", "▁", "▁▁", " ▁", "Hello", "wörld", "中文", "–", "<s>", "\n", "x"]),
    max_size=16,
).map("".join)


@settings(PARITY)
@given(data=st.data())
def test_random_text_matches_tokenizers(variant: HfFamily, data: st.DataObject) -> None:
    text = data.draw(st.one_of(SEPARATED, text_with_tokens(variant.added_tokens)), label="text")
    problems = []
    for add_special_tokens in (False, True):
        problems += hf_differences(variant, "random text", text, add_special_tokens)
    assert not problems, report(problems, f"tokenizers with {variant.name} on {text!r}")


def joining_tokens(config: dict) -> list[str]:
    """Tokens that the file's merges make with `▁` right after another char."""
    joined = []
    for merge in config["model"]["merges"]:
        left, right = merge if isinstance(merge, list) else merge.split(" ", 1)
        token = left + right
        if any(b == "▁" and a != "▁" for a, b in zip(token, token[1:], strict=False)):
            joined.append(token)
    return joined


def test_words_a_merge_joins_match_tokenizers(variant: HfFamily) -> None:
    tokens = JOINS[variant.name]
    if not tokens:
        pytest.skip(f"no merge in {variant.name} joins two words")
    problems = []
    for token in tokens:
        written = token.replace("▁", " ")
        for text in (written, f"x{written}y", f"a {written} b{written}", f"{token}  {written}"):
            problems += hf_differences(variant, "words a merge joins", text, True)
    assert not problems, report(problems, f"tokenizers with {variant.name}")
