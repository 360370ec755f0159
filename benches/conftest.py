"""Shared bench fixtures: the check-then-time helper and the mode header.

Each pytest-benchmark group is one workload, with batok and every peer side by side. Outputs are
checked against the reference engine's (tiktoken, HF `tokenizers`): batok's must match, or the
benchmark fails; a peer that is not installed is skipped with the reason, and one whose output
differs is skipped as "inexact" with the count, so it is never timed as if equal.
`BATOK_BENCH_QUICK=1` with `--benchmark-disable` runs each benchmark once on tiny inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from corpus import QUICK, default_budget
from peers import BenchFn

from batok.bench import Runner, Unavailable, measure

ROUNDS = 1 if QUICK else 5


def pytest_report_header(config: pytest.Config) -> list[str]:
    mode = "quick (BATOK_BENCH_QUICK)" if QUICK else "full"
    return [f"batok benches: {mode} mode, ~{default_budget()} bytes per workload"]


def _bench(
    benchmark: Any,
    runner: Runner | Unavailable,
    inputs: Sequence[Any],
    expected: Sequence[Any],
    nbytes: int,
    group: str,
) -> None:
    benchmark.group = group
    if isinstance(runner, Unavailable):
        pytest.skip(f"{runner.engine}: {runner.reason}")
    (check,) = measure([runner], inputs, expected, nbytes, rounds=0, case=group)
    if check.status != "ok":
        pytest.skip(f"{runner.engine} {runner.method}: {check.status}: {check.note}")
    benchmark.extra_info["bytes"] = nbytes
    benchmark.extra_info["engine"] = runner.engine
    benchmark.extra_info["version"] = runner.version
    benchmark.pedantic(runner.run, args=(inputs,), rounds=ROUNDS, iterations=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:  # absent under --benchmark-disable
        benchmark.extra_info["MB/s"] = round(nbytes / stats.stats.median / 1e6, 2)


@pytest.fixture
def bench() -> BenchFn:
    """`bench(benchmark, runner, inputs, expected, nbytes, group)`: check, then time."""
    return _bench
