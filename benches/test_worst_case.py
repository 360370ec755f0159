"""Worst cases: one call on one long text without whitespace (cl100k_base), per kind and size;
one group per kind and size. tiktoken and HF are capped at 1M characters (10M takes them 10-30 s
each), and say so in the skip reason."""

from __future__ import annotations

import functools

import peers
import pytest
from corpus import WORST_CASE_SIZES, WORST_CASES, worst_case_text

from batok.bench import IDS, Runner

ENGINES = ["batok", "tiktoken", "bpe-openai", "rs-bpe", "quicktok-v1", "HF tokenizers"]


@functools.lru_cache(maxsize=1)
def reference(kind: str, n: int) -> list[list[int]]:
    batok_peer = peers.worst_case_peers()[0]
    return [batok_peer.encode(worst_case_text(kind, n))]  # type: ignore[union-attr]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n", WORST_CASE_SIZES, ids=[f"{n:,}" for n in WORST_CASE_SIZES])
@pytest.mark.parametrize("kind", WORST_CASES)
def test_worst_case(
    benchmark: object, bench: peers.BenchFn, kind: str, n: int, engine: str
) -> None:
    peer = next(p for p in peers.worst_case_peers() if p.engine == engine)
    if isinstance(peer, peers.WorstCasePeer):
        if peer.cap is not None and n > peer.cap:
            pytest.skip(f"{engine}: capped at {peer.cap:,} characters (too slow beyond)")
        encode = peer.encode
        runner: object = Runner(engine, "encode", lambda texts: [encode(t) for t in texts], IDS)
    else:
        runner = peer
    text = worst_case_text(kind, n)
    # One text this long is only checked against batok's ids (tiktoken and HF are capped).
    nbytes = len(text.encode("utf-8"))
    bench(benchmark, runner, [text], reference(kind, n), nbytes, f"worst case {kind} {n:,}")  # type: ignore[arg-type]
