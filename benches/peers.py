"""Peers for the benches, built from the shared files (rank files, tokenizer.json) so nothing is
downloaded. The adapters themselves are `batok.bench`'s, shared with `batok bench`.

Built runners are cached per process: converting a rank file to an HF tokenizer takes seconds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus import FAMILIES, TOKENIZERS

from batok import bench
from batok.bench import Runner, Unavailable

PeerList = list["Runner | Unavailable"]
# The `bench` fixture of conftest.py: (benchmark, runner, inputs, expected, nbytes, group).
BenchFn = Callable[[Any, "Runner | Unavailable", Sequence[Any], Sequence[Any], int, str], None]

# Worst-case inputs of 10M characters take tiktoken ~10 s and HF ~12-30 s each (performance.md);
# they are measured up to this many characters, which is enough to show their growth.
SLOW_PEER_CAP = 1_000_000


def rank_file(name: str) -> Path:
    return TOKENIZERS / "tiktoken" / f"{name}.tiktoken"


def family_file(family: str) -> Path:
    return TOKENIZERS / FAMILIES.get(family, family) / "tokenizer.json"


@functools.cache
def encode_peers(name: str) -> PeerList:
    return bench.encoding_runners(name, rank_file=rank_file(name))


@functools.cache
def batch_peers(name: str) -> PeerList:
    return bench.encoding_batch_runners(name, 0, rank_file(name))


@functools.cache
def decode_peers(name: str) -> PeerList:
    return bench.encoding_decode_runners(name, rank_file(name))


@functools.cache
def family_peers(family: str) -> tuple[PeerList, PeerList]:
    return bench.tokenizer_json_runners(family_file(family), 0)


def find(runners: PeerList, engine: str, key: str) -> Runner | Unavailable:
    for r in runners:
        if r.engine == engine and r.key == key:
            return r
    return Unavailable(engine, f"no {key} runner for {engine}", key)


@dataclass
class WorstCasePeer:
    """One call on one long text; `cap` is the longest input it is given (None: no cap)."""

    engine: str
    encode: Callable[[str], Any]
    cap: int | None = None
    reason: str = ""


@functools.cache
def worst_case_peers(name: str = "cl100k_base") -> list[WorstCasePeer | Unavailable]:
    """The single-thread list encoders of `encode_peers`, in the same order, batok first."""
    wanted = [
        ("batok", "encode_ordinary"),
        ("tiktoken", "encode_ordinary"),
        ("bpe-openai", "encode"),
        ("rs-bpe", "encode"),
        ("quicktok-v1", "encode_ordinary"),
        ("HF tokenizers", "encode"),
    ]
    out: list[WorstCasePeer | Unavailable] = []
    for engine, key in wanted:
        r = find(encode_peers(name), engine, key)
        if isinstance(r, Unavailable):
            out.append(r)
            continue
        cap = SLOW_PEER_CAP if engine in ("tiktoken", "HF tokenizers") else None
        # Runner.run maps over documents; the worst case is one call on one document.
        run = r.run
        out.append(WorstCasePeer(engine, lambda text, run=run: run([text])[0], cap))
    return out


# -- cold load: a new process imports, loads and encodes once ----------------------------------

# Each snippet runs in a fresh interpreter; `T0` is taken before the engine is imported, so the
# time is import + load + first encode, without the interpreter's own start-up (reported apart).
COLD_TEXT = "Hello world! This is the first encode of a fresh process."
_SNIPPETS = {
    ("batok", "cl100k_base"): "import batok\nbatok.get_encoding('cl100k_base').encode(TEXT)",
    ("batok", "o200k_base"): "import batok\nbatok.get_encoding('o200k_base').encode(TEXT)",
    ("tiktoken", "cl100k_base"): (
        "import tiktoken, tiktoken.load as L, tiktoken_ext.openai_public as op\n"
        "op.load_tiktoken_bpe = lambda *a, **k: L.load_tiktoken_bpe(RANKS)\n"
        "tiktoken.Encoding(**op.cl100k_base()).encode(TEXT)"
    ),
    ("rs-bpe", "cl100k_base"): "from rs_bpe.bpe import openai\nopenai.cl100k_base().encode(TEXT)",
    ("quicktok-v1", "cl100k_base"): (
        "import quicktok\nquicktok.get_encoding('cl100k_base').encode_ordinary(TEXT)"
    ),
    ("bpe-openai", "cl100k_base"): (
        "import bpe_openai\nbpe_openai.get_encoding('cl100k_base').encode_ordinary(TEXT)"
    ),
    ("batok", "llama-3.2"): "import batok\nbatok.Tokenizer.from_file(JSON).encode(TEXT)",
    ("HF tokenizers", "llama-3.2"): (
        "import tokenizers\ntokenizers.Tokenizer.from_file(JSON).encode(TEXT)"
    ),
    ("batok", "qwen2.5"): "import batok\nbatok.Tokenizer.from_file(JSON).encode(TEXT)",
    (
        "HF tokenizers",
        "qwen2.5",
    ): "import tokenizers\ntokenizers.Tokenizer.from_file(JSON).encode(TEXT)",
}
_PRELUDE = "import time, resource, json\nT0 = time.perf_counter()\n"
_EPILOGUE = (
    "\nms = (time.perf_counter() - T0) * 1e3\n"
    # ru_maxrss survives fork + exec, so a child of a big parent reports the parent's peak;
    # VmHWM belongs to this process's own memory map.
    "try:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
    "    rss_mb = int(hwm.split()[1]) / 1024\n"
    "except (OSError, IndexError):\n"
    "    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
    "print(json.dumps({'ms': ms, 'rss_mb': rss_mb}))"
)
_MODULES = {
    "batok": "batok",
    "tiktoken": "tiktoken",
    "rs-bpe": "rs_bpe",
    "quicktok-v1": "quicktok",
    "bpe-openai": "bpe_openai",
    "HF tokenizers": "tokenizers",
}


def cold_load_cases() -> list[tuple[str, str]]:
    return list(_SNIPPETS)


def cold_code(engine: str, what: str) -> str:
    """The program a fresh interpreter runs; it prints its time and peak RSS as JSON."""
    json_file = TOKENIZERS / FAMILIES.get(what, what) / "tokenizer.json"
    return (
        _PRELUDE
        + f"TEXT = {COLD_TEXT!r}\nRANKS = {str(rank_file(what))!r}\nJSON = {str(json_file)!r}\n"
        + _SNIPPETS[(engine, what)]
        + _EPILOGUE
    )


@dataclass
class ColdLoad:
    engine: str
    what: str
    ms: float | None = None  # median, import + load + first encode
    rss_mb: float | None = None  # median peak RSS of the whole process
    process_ms: float | None = None  # median wall time of the process, start-up included
    reason: str = ""


def compile_package(module: str) -> None:
    """Byte-compile a package's Python files, as installing its wheel does. A development
    install (or `PYTHONDONTWRITEBYTECODE`) would otherwise compile them in every fresh
    process, which is not the start-up a user's process has. Nothing happens for a module
    that is not installed."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec(module)
    for folder in (spec and spec.submodule_search_locations) or []:
        compileall.compile_dir(folder, quiet=2)


def cold_load(engine: str, what: str, runs: int = 5) -> ColdLoad:
    """Median over `runs` fresh processes, after one unmeasured run that warms the OS file cache
    (cold process, not cold disk)."""
    import importlib.util
    import json
    import statistics
    import subprocess
    import sys
    import time

    if importlib.util.find_spec(_MODULES[engine]) is None:
        return ColdLoad(engine, what, reason="not installed")
    compile_package(_MODULES[engine])
    code = cold_code(engine, what)
    samples: list[dict[str, float]] = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        wall = (time.perf_counter() - t0) * 1e3
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            return ColdLoad(engine, what, reason=f"failed: {last}"[:160])
        if i:
            samples.append({**json.loads(proc.stdout.strip().splitlines()[-1]), "wall": wall})
    return ColdLoad(
        engine,
        what,
        statistics.median(s["ms"] for s in samples),
        statistics.median(s["rss_mb"] for s in samples),
        statistics.median(s["wall"] for s in samples),
    )
