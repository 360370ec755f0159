"""Real tokenizer.json families (Llama-2, Llama-3.2, Qwen2.5, GPT-2, Mistral): batok against HF
`tokenizers` (the reference), gigatoken and quicktok (where its importer accepts the file),
special tokens as the file adds them; one group per family and workload, single thread and batch."""

from __future__ import annotations

import functools

import peers
import pytest
from corpus import FAMILIES, WORKLOADS, workload

from batok.bench import TOKENIZER_JSON_REFERENCE

SINGLE = [
    ("batok", "encode"),
    ("batok", "count_tokens"),
    ("HF tokenizers", "encode"),
    ("gigatoken", "encode"),
    ("quicktok-v1", "encode_ordinary"),
]
BATCH = [
    ("batok", "encode_batch"),
    ("HF tokenizers", "encode_batch"),
    ("HF tokenizers", "encode_batch_fast"),
    ("gigatoken", "encode_batch"),
]


@functools.cache
def reference(family: str, work: str) -> list[list[int]]:
    single, _ = peers.family_peers(family)
    run = peers.find(single, *TOKENIZER_JSON_REFERENCE).run  # type: ignore[union-attr]
    return run(workload(work).docs)


@pytest.mark.parametrize("engine,key", SINGLE, ids=[f"{e}-{k}" for e, k in SINGLE])
@pytest.mark.parametrize("work", WORKLOADS)
@pytest.mark.parametrize("family", FAMILIES)
def test_family_encode(
    benchmark: object, bench: peers.BenchFn, family: str, work: str, engine: str, key: str
) -> None:
    w = workload(work)
    single, _ = peers.family_peers(family)
    runner = peers.find(single, engine, key)
    bench(benchmark, runner, w.docs, reference(family, work), w.nbytes, f"{family} {work}")


@pytest.mark.parametrize("engine,key", BATCH, ids=[f"{e}-{k}" for e, k in BATCH])
@pytest.mark.parametrize("work", WORKLOADS)
@pytest.mark.parametrize("family", FAMILIES)
def test_family_encode_batch(
    benchmark: object, bench: peers.BenchFn, family: str, work: str, engine: str, key: str
) -> None:
    w = workload(work)
    _, batch = peers.family_peers(family)
    runner = peers.find(batch, engine, key)
    group = f"{family} {work} batch"
    bench(benchmark, runner, w.docs, reference(family, work), w.nbytes, group)
