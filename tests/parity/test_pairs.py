"""Pairs of texts (`tokenizers`' `encode(a, b)`) against `tokenizers`, on the real corpus.

Every staged BPE family encodes pairs of corpus samples, with and without special tokens, and
must give `tokenizers`' ids, tokens, offsets (each text's own), type ids, special-tokens mask and
sequence ids. Post-processors no staged file uses (BERT and RoBERTa pairs, templates that repeat
a sequence, processors after a template) are checked on mutated copies of one file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tokenizers
from _parity import HfFamily, describe_difference, reference_or_none, report

import batok

PAIR_FIELDS = (*("ids", "tokens", "offsets", "type_ids", "attention_mask"), "special_tokens_mask")
PAIR_FIELDS = (*PAIR_FIELDS, "sequence_ids")
# The second text of each pair is cut short: its length adds time, not coverage.
SECOND_CHARS = 600
# Items per `encode_batch` call in the batch test.
BATCH = 2000


def _differences(reference: Any, ours: Any, label: str, text: str) -> list[str]:
    return [
        describe_difference(f"pair {field}", label, text, getattr(reference, field), got)
        for field in PAIR_FIELDS
        if (got := getattr(ours, field)) != getattr(reference, field)
    ]


def _pairs(corpus_paths: tuple[Path, ...], sampler: Callable[..., list], name: str):
    # The seeded sample of every corpus file, in the exhaustive mode too: a pair is two texts'
    # encodings joined by the post-processor, and every text's encoding is compared
    # exhaustively in test_hf_corpus.py; the whole corpus here tripled that run's time.
    samples = [s for path in corpus_paths for s in sampler(path, name, exhaustive=False)]
    # Each sample with one of another file, so scripts and lengths mix.
    step = max(1, len(samples) // 3)
    return [
        (s.label, s.text, samples[(i + step) % len(samples)].text[:SECOND_CHARS])
        for i, s in enumerate(samples)
    ]


@pytest.mark.parametrize("add_special_tokens", [False, True], ids=["plain", "with_specials"])
def test_pairs_of_corpus_texts_match_tokenizers(
    hf_family: HfFamily,
    corpus_paths: tuple[Path, ...],
    corpus_sampler: Callable[..., list],
    add_special_tokens: bool,
) -> None:
    problems: list[str] = []
    for label, first, second in _pairs(corpus_paths, corpus_sampler, hf_family.name):
        want = hf_family.reference.encode(first, second, add_special_tokens=add_special_tokens)
        got = hf_family.batok.encode_plus(first, second, add_special_tokens)
        problems += _differences(want, got, label, first)
        ids = hf_family.batok.encode(first, second, add_special_tokens=add_special_tokens)
        if ids != want.ids:
            problems.append(describe_difference("encode(a, b)", label, first, want.ids, ids))
    assert not problems, report(problems, f"tokenizers pairs with {hf_family.name}")


def test_pair_batches_match_tokenizers(
    hf_family: HfFamily,
    corpus_paths: tuple[Path, ...],
    corpus_sampler: Callable[[Path, str], list],
) -> None:
    """A batch mixing pairs and single texts, as `tokenizers`' `encode_batch` takes it."""
    items: list[Any] = []
    for k, (_, first, second) in enumerate(_pairs(corpus_paths, corpus_sampler, hf_family.name)):
        items.append((first[:SECOND_CHARS], second) if k % 3 else first[:SECOND_CHARS])
    problems = []
    # In chunks: two libraries' encodings of many items at once (padded to 128 for all-MiniLM)
    # take gigabytes.
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        want = hf_family.reference.encode_batch(chunk)
        got = hf_family.batok.encode_batch_plus(chunk, num_threads=2)
        for k, (w, g) in enumerate(zip(want, got, strict=True), start):
            problems += _differences(w, g, f"batch item {k}", str(items[k]))
    assert not problems, report(problems, f"tokenizers pair batches with {hf_family.name}")


# ------------------------------------------------------------------ post-processors, mutated

SEQ_A = {"Sequence": {"id": "A", "type_id": 0}}
SEQ_B = {"Sequence": {"id": "B", "type_id": 1}}


def _special(name: str, type_id: int = 0) -> dict[str, Any]:
    return {"SpecialToken": {"id": name, "type_id": type_id}}


def _template(single: list[Any], pair: list[Any]) -> dict[str, Any]:
    specials = {
        name: {"id": name, "ids": [ids], "tokens": [name]}
        for name, ids in (("<|endoftext|>", 50256), ("!", 0))
    }
    return {
        "type": "TemplateProcessing",
        "single": single,
        "pair": pair,
        "special_tokens": specials,
    }


ROBERTA = {
    "type": "RobertaProcessing",
    "sep": ["<|endoftext|>", 50256],
    "cls": ["!", 0],
    "trim_offsets": True,
    "add_prefix_space": False,
}
BERT = {"type": "BertProcessing", "sep": ["<|endoftext|>", 50256], "cls": ["!", 0]}
BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True}
EOT = _special("<|endoftext|>")
BANG = _special("!", 1)

POST_PROCESSORS: dict[str, Any] = {
    "none": None,
    "byte_level_trims": BYTE_LEVEL,
    "roberta": ROBERTA,
    "bert": BERT,
    "bert_pair_template": _template(
        [BANG, SEQ_A, EOT], [BANG, SEQ_A, EOT, SEQ_B, _special("<|endoftext|>", 1)]
    ),
    "template_type_ids_2_and_3": _template(
        [SEQ_A], [{"Sequence": {"id": "A", "type_id": 2}}, {"Sequence": {"id": "B", "type_id": 3}}]
    ),
    "template_b_before_a": _template([SEQ_A, EOT], [SEQ_B, EOT, SEQ_A]),
    "template_repeats_a": _template([SEQ_A, BANG, SEQ_A], [SEQ_A, SEQ_B, SEQ_A]),
    "byte_level_then_template": {
        "type": "Sequence",
        "processors": [BYTE_LEVEL, _template([BANG, SEQ_A], [BANG, SEQ_A, BANG, SEQ_B])],
    },
    "template_then_roberta": {
        "type": "Sequence",
        "processors": [_template([BANG, SEQ_A], [BANG, SEQ_A, EOT, SEQ_B]), ROBERTA],
    },
    "bert_then_bert": {"type": "Sequence", "processors": [BERT, BERT]},
    "roberta_then_template": {
        "type": "Sequence",
        "processors": [ROBERTA, _template([SEQ_A, EOT], [SEQ_A, SEQ_B, EOT])],
    },
}

TEXT_PAIRS = [
    ("Hello world, how are you?", " I'm fine,  thanks!"),
    ("  leading spaces", "trailing spaces  "),
    ("数学是研究数量", "naïve café <|endoftext|> done"),
    ("", "only the second"),
    ("only the first", ""),
]


@pytest.fixture(scope="module")
def gpt2_json(tokenizers_dir: Path) -> dict[str, Any]:
    return json.loads((tokenizers_dir / "gpt2" / "tokenizer.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", list(POST_PROCESSORS))
def test_post_processors_place_pairs_and_singles_as_tokenizers(
    gpt2_json: dict[str, Any], name: str
) -> None:
    file = json.dumps({**gpt2_json, "post_processor": POST_PROCESSORS[name]})
    reference = tokenizers.Tokenizer.from_str(file)
    ours = batok.Tokenizer.from_str(file)
    problems: list[str] = []
    for add in (True, False):
        for first, second in TEXT_PAIRS:
            want = reference.encode(first, second, add_special_tokens=add)
            got = ours.encode_plus(first, second, add)
            problems += _differences(want, got, f"pair add_special_tokens={add}", first)
            want = reference.encode(first, add_special_tokens=add)
            got = ours.encode_plus(first, add)
            problems += _differences(want, got, f"single add_special_tokens={add}", first)
            if ours.encode(first, add) != want.ids:
                problems.append(f"encode() ids differ from tokenizers on {first!r}")
    assert not problems, report(problems, f"tokenizers with post_processor {name}")


@pytest.mark.parametrize(
    "processors",
    [
        [_template([BANG, SEQ_A], [BANG, SEQ_A, SEQ_B])] * 2,
        [_template([SEQ_A, EOT], [SEQ_A, EOT, SEQ_B]), _template([BANG, SEQ_A], [SEQ_A, SEQ_B])],
    ],
    ids=["three_pieces_for_a_pair", "two_pieces_for_one_text"],
)
def test_template_after_template_encodes_or_fails_as_tokenizers(
    gpt2_json: dict[str, Any], processors: list[dict[str, Any]]
) -> None:
    """The second template reads the first one's pieces: one or two it places with its single
    or pair template, more `tokenizers` cannot run (it panics), and batok raises."""
    file = json.dumps(
        {**gpt2_json, "post_processor": {"type": "Sequence", "processors": processors}}
    )
    reference = tokenizers.Tokenizer.from_str(file)
    ours = batok.Tokenizer.from_str(file)
    problems: list[str] = []
    failed = 0
    for add in (True, False):
        for texts in (*TEXT_PAIRS[:2], ("Hello world",)):
            want = reference_or_none(reference.encode, *texts, add_special_tokens=add)
            if want is None:
                failed += 1
                with pytest.raises(ValueError, match="cannot encode this text"):
                    ours.encode_plus(*texts, add_special_tokens=add)
                continue
            got = ours.encode_plus(*texts, add_special_tokens=add)
            problems += _differences(want, got, f"{len(texts)} texts, add={add}", texts[0])
    assert not problems, report(problems, "tokenizers with a template after a template")
    assert failed <= 2
