"""Cold load: a new process imports the engine, loads the encoding or tokenizer.json and encodes
once. Timed with pytest-benchmark around the whole subprocess (start-up included); report.py
reports the in-process time and peak RSS."""

from __future__ import annotations

import subprocess
import sys

import peers
import pytest


@pytest.mark.parametrize("engine,what", peers.cold_load_cases(), ids=lambda v: str(v))
def test_cold_load(benchmark: object, engine: str, what: str) -> None:
    benchmark.group = f"cold load {what}"  # type: ignore[attr-defined]
    first = peers.cold_load(engine, what, runs=1)
    if first.reason:
        pytest.skip(f"{engine}: {first.reason}")
    command = [sys.executable, "-c", peers.cold_code(engine, what)]
    benchmark.pedantic(  # type: ignore[attr-defined]
        subprocess.run, args=(command,), kwargs={"check": True, "capture_output": True}, rounds=3
    )
