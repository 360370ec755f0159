"""Unigram models built with `tokenizers` itself, against `tokenizers`.

t5-small (in the family suites) is one Unigram file: it has an unknown token, no byte fallback
and scores without ties. The variants here train a small vocabulary with `UnigramTrainer` on a
few corpus files at test time and change it where t5-small cannot reach: `<0xXX>` pieces with
`byte_fallback`, no unknown token (uncovered text is an error in both), and scores rounded so
that many cuts tie (the first path found must win, as in `tokenizers`). Each is compared on
corpus samples and on random Unicode: ids, tokens, offsets, masks and decode.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tokenizers
from _parity import HfFamily, hf_differences, report, unicode_text
from hypothesis import given, settings
from tokenizers import decoders, models, pre_tokenizers, trainers

import batok

PARITY = settings.get_profile("batok-parity")

TRAIN_FILES = ("english_drama_tinyshakespeare.txt", "russian_cyrillic_udhr.txt", "code_rust.txt")
TRAIN_CHARS = 60_000
UNK = "<unk>"


def _with_byte_pieces(model: dict) -> None:
    model["vocab"] += [[f"<0x{b:02X}>", -20.0] for b in range(256)]
    model["byte_fallback"] = True


def _without_unk(model: dict) -> None:
    model["vocab"] = [piece for piece in model["vocab"] if piece[0] != UNK]
    model["unk_id"] = None


def _rounded_scores(model: dict) -> None:
    model["vocab"] = [[piece, round(score)] for piece, score in model["vocab"]]


VARIANTS: dict[str, Callable[[dict], None] | None] = {
    "trained": None,
    "byte_fallback": _with_byte_pieces,
    "no_unk_id": _without_unk,
    "tied_scores": _rounded_scores,
}


@pytest.fixture(scope="module")
def trained(corpus_dir: Path) -> dict:
    """A small Unigram tokenizer.json trained on a few corpus files, as a dict."""
    tok = tokenizers.Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    trainer = trainers.UnigramTrainer(
        vocab_size=600, special_tokens=[UNK, "</s>"], unk_token=UNK, show_progress=False
    )
    texts = [(corpus_dir / name).read_text("utf-8")[:TRAIN_CHARS] for name in TRAIN_FILES]
    tok.train_from_iterator(texts, trainer=trainer)
    return json.loads(tok.to_str())


@pytest.fixture(scope="module", params=list(VARIANTS), ids=list(VARIANTS))
def unigram(request: pytest.FixtureRequest, trained: dict) -> Iterator[HfFamily]:
    config = json.loads(json.dumps(trained))
    change = VARIANTS[request.param]
    if change is not None:
        change(config["model"])
    text = json.dumps(config)
    reference = tokenizers.Tokenizer.from_str(text)
    added = tuple(t.content for _, t in sorted(reference.get_added_tokens_decoder().items()))
    yield HfFamily(
        name=f"unigram {request.param}",
        reference=reference,
        batok=batok.Tokenizer.from_str(text),
        added_tokens=added,
    )


def test_variants_differ_where_they_should(unigram: HfFamily) -> None:
    # Guards the variants themselves: each must reach the behaviour it is here for.
    model = json.loads(unigram.reference.to_str())["model"]
    text = "ok \ue000\ue001"  # private-use chars, which no training text holds
    if unigram.name.endswith("byte_fallback"):
        assert "<0xEE>" in unigram.reference.encode(text).tokens
    elif unigram.name.endswith("no_unk_id"):
        assert model["unk_id"] is None
        with pytest.raises(Exception, match="unk_id"):
            unigram.reference.encode(text)
    elif unigram.name.endswith("tied_scores"):
        scores = [score for _, score in model["vocab"]]
        assert len(set(scores)) < len(scores) // 10
    else:
        assert unigram.reference.encode(text).tokens[-1] == "\ue000\ue001"


def test_corpus_matches_tokenizers(
    unigram: HfFamily,
    corpus_paths: tuple[Path, ...],
    corpus_sampler: Callable[..., list],
    parity_tally,
) -> None:
    problems: list[str] = []
    for path in corpus_paths:
        # As in test_hf_corpus.py: every text without special tokens, the seeded sample with
        # them (they only wrap a text).
        for sample in corpus_sampler(path, unigram.name):
            problems += hf_differences(unigram, sample.label, sample.text, False)
            parity_tally.add(unigram.name, sample.text)
        for sample in corpus_sampler(path, unigram.name, exhaustive=False):
            problems += hf_differences(unigram, sample.label, sample.text, True)
    assert not problems, report(problems, f"tokenizers with {unigram.name}")


@settings(PARITY)
@given(text=unicode_text)
def test_random_unicode_matches_tokenizers(unigram: HfFamily, text: str, parity_tally) -> None:
    problems = hf_differences(unigram, "random text", text, add_special_tokens=True)
    parity_tally.add(unigram.name, text)
    assert not problems, report(problems, f"tokenizers with {unigram.name} on {text!r}")


def test_to_str_and_pickle_round_trip(unigram: HfFamily) -> None:
    import pickle

    text = "Round trip: \u00e9t\u00e9 \u2603 fn main() {}"
    expected = unigram.reference.encode(text).ids if "no_unk" not in unigram.name else None
    for copy in (
        batok.Tokenizer.from_str(unigram.batok.to_str()),
        pickle.loads(pickle.dumps(unigram.batok)),
    ):
        if expected is None:
            assert copy.encode("ok") == unigram.batok.encode("ok")
        else:
            assert copy.encode(text) == expected
