"""Single-thread encoding of 1-4 KB documents with cl100k_base and o200k_base, list output
unless the method says otherwise; one group per encoding and workload."""

from __future__ import annotations

import functools

import peers
import pytest
from corpus import ENCODINGS, WORKLOADS, workload

from batok.bench import ENCODING_REFERENCE

SINGLE = [
    ("batok", "encode_ordinary"),
    ("batok", "encode"),
    ("batok", "encode_to_numpy"),
    ("batok", "count_tokens"),
    ("tiktoken", "encode_ordinary"),
    ("gigatoken", "encode"),
    ("bpe-openai", "encode"),
    ("rs-bpe", "encode"),
    ("quicktok-v1", "encode_ordinary"),
    ("HF tokenizers", "encode"),
]
BATCH = [
    ("batok", "encode_ordinary_batch"),
    ("batok", "encode_ordinary"),  # from Python threads: shows the GIL is released
    ("tiktoken", "encode_ordinary_batch"),
    ("gigatoken", "encode_batch"),
    ("quicktok-v1", "encode_batch"),
]


@functools.cache
def reference(name: str, work: str) -> list[list[int]]:
    """tiktoken's ids (the reference): every runner is checked against them before it is timed."""
    run = peers.find(peers.encode_peers(name), *ENCODING_REFERENCE).run  # type: ignore[union-attr]
    return run(workload(work).docs)


@pytest.mark.parametrize("engine,key", SINGLE, ids=[f"{e}-{k}" for e, k in SINGLE])
@pytest.mark.parametrize("work", WORKLOADS)
@pytest.mark.parametrize("name", ENCODINGS)
def test_encode(
    benchmark: object, bench: peers.BenchFn, name: str, work: str, engine: str, key: str
) -> None:
    w = workload(work)
    runner = peers.find(peers.encode_peers(name), engine, key)
    bench(benchmark, runner, w.docs, reference(name, work), w.nbytes, f"encode {name} {work}")


@pytest.mark.parametrize("engine,key", BATCH, ids=[f"{e}-{k}" for e, k in BATCH])
@pytest.mark.parametrize("work", WORKLOADS)
@pytest.mark.parametrize("name", ENCODINGS)
def test_encode_batch(
    benchmark: object, bench: peers.BenchFn, name: str, work: str, engine: str, key: str
) -> None:
    w = workload(work)
    runner = peers.find(peers.batch_peers(name), engine, key)
    bench(benchmark, runner, w.docs, reference(name, work), w.nbytes, f"batch {name} {work}")


DECODE = [
    ("batok", "decode"),
    ("batok", "decode_bytes"),
    ("tiktoken", "decode"),
    ("bpe-openai", "decode"),
    ("rs-bpe", "decode"),
    ("quicktok-v1", "decode"),
    ("HF tokenizers", "decode"),
]


@pytest.mark.parametrize("engine,key", DECODE, ids=[f"{e}-{k}" for e, k in DECODE])
@pytest.mark.parametrize("work", WORKLOADS)
@pytest.mark.parametrize("name", ENCODINGS)
def test_decode(
    benchmark: object, bench: peers.BenchFn, name: str, work: str, engine: str, key: str
) -> None:
    w = workload(work)
    runner = peers.find(peers.decode_peers(name), engine, key)
    # Inputs are batok's ids; the reference is the text itself, so decode must round-trip.
    bench(benchmark, runner, reference(name, work), w.docs, w.nbytes, f"decode {name} {work}")
