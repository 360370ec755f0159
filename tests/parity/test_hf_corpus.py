"""batok's Tokenizer against `tokenizers` on the real corpus, every staged tokenizer.json
of a model batok runs.

CI compares a seeded sample of every corpus file per family; `BATOK_EXHAUSTIVE=1` compares every
file whole, every paragraph and every line (without special tokens; with them, the sample).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from _parity import ENCODING_FIELDS, HfFamily, describe_difference, hf_differences, report


@pytest.mark.parametrize("add_special_tokens", [False, True], ids=["plain", "with_specials"])
def test_corpus_matches_tokenizers(
    hf_family: HfFamily,
    corpus_file: Path,
    add_special_tokens: bool,
    corpus_sampler: Callable[..., list],
    parity_tally,
) -> None:
    problems: list[str] = []
    # Special tokens only wrap a text (the post-processor never looks inside it), so the
    # exhaustive run compares every text without them and the seeded sample with them.
    if add_special_tokens:
        samples = corpus_sampler(corpus_file, hf_family.name, exhaustive=False)
    else:
        samples = corpus_sampler(corpus_file, hf_family.name)
    for sample in samples:
        problems += hf_differences(hf_family, sample.label, sample.text, add_special_tokens)
        parity_tally.add(hf_family.name, sample.text)
    assert not problems, report(problems, f"tokenizers with {hf_family.name}")


# Batches of short texts: long ones add time, not coverage, to batch-versus-single.
BATCH_TEXT_CHARS = 400


@pytest.mark.parametrize(
    "num_threads", [None, 1, 2], ids=["threads_default", "threads_1", "threads_2"]
)
@pytest.mark.parametrize("add_special_tokens", [False, True], ids=["plain", "with_specials"])
def test_encode_batch_equals_encode_on_corpus(
    hf_family: HfFamily,
    corpus_paths: tuple[Path, ...],
    corpus_sampler: Callable[[Path, str], list],
    add_special_tokens: bool,
    num_threads: int | None,
) -> None:
    texts = [
        sample.text[:BATCH_TEXT_CHARS]
        for path in corpus_paths
        for sample in corpus_sampler(path, hf_family.name)
    ]
    tok = hf_family.batok
    kwargs = {} if num_threads is None else {"num_threads": num_threads}
    singles = [tok.encode_plus(text, add_special_tokens=add_special_tokens) for text in texts]
    batch_ids = tok.encode_batch(texts, add_special_tokens=add_special_tokens, **kwargs)
    batch_plus = tok.encode_batch_plus(texts, add_special_tokens=add_special_tokens, **kwargs)
    assert len(batch_ids) == len(batch_plus) == len(texts)
    problems = []
    for index, (text, single, ids, plus) in enumerate(
        zip(texts, singles, batch_ids, batch_plus, strict=True)
    ):
        label = f"batch item {index}"
        if ids != list(single.ids):
            problems.append(describe_difference("encode_batch ids", label, text, single.ids, ids))
        for field in ENCODING_FIELDS:
            if list(getattr(plus, field)) != list(getattr(single, field)):
                problems.append(
                    describe_difference(
                        f"encode_batch_plus {field}",
                        label,
                        text,
                        list(getattr(single, field)),
                        list(getattr(plus, field)),
                    )
                )
    for skip in (False, True):
        decoded = tok.decode_batch(batch_ids, skip_special_tokens=skip)
        for index, (ids, text) in enumerate(zip(batch_ids, decoded, strict=True)):
            expected = tok.decode(ids, skip_special_tokens=skip)
            if text != expected:
                problems.append(
                    describe_difference(
                        f"decode_batch(skip_special_tokens={skip})",
                        f"batch item {index}",
                        texts[index],
                        expected,
                        text,
                    )
                )
    assert not problems, report(problems, "encoding one text at a time")
