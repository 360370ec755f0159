"""The one-pass protocol: each engine encodes each document once, in a fresh process.

A tokenization job sees each document once. Timing repeated passes over the same documents
measures the caches an engine keeps (batok's piece cache among them), not the engine: on ordinary
text batok's warm pass is 2-3x its first. So here every (engine, method) runs in a new Python
process that loads the engine (untimed), reads the documents, and encodes them once, in chunks of
`CHUNK_DOCS` documents (one call per document, or one batch call per chunk); the chunks are timed,
nothing else. MB/s is reported over the whole pass and over its second half (by bytes), which
shows how much an engine gains as its caches warm.

The reference engine (tiktoken for tiktoken encodings, HF `tokenizers` for tokenizer.json files)
runs first and leaves its ids in the work folder; every later process compares its own ids with
them after its pass. batok must match (else `Mismatch`, naming the first differing document);
a peer that does not is timed all the same and marked "inexact".

`batok bench` and the project's report (`benches/report.py`) both run it through `run_cases`;
they differ only in the documents they give it and in what they print.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import bench

#: Documents per call for batch methods, and per timed chunk for one-call-per-document methods.
CHUNK_DOCS = 1000

#: (engine, runner key) rows, reference first. Tiktoken encodings, one thread:
ENCODING_SINGLE = (
    bench.ENCODING_REFERENCE,
    ("batok", "encode_to_numpy"),
    ("batok", "encode_ordinary"),
    ("gigatoken", "encode"),
    ("quicktok-v1", "encode_ordinary"),
    ("bpe-openai", "encode"),
    ("rs-bpe", "encode"),
    ("HF tokenizers", "encode"),
)
#: Tiktoken encodings, batch calls on every core (chunks of `CHUNK_DOCS` documents):
ENCODING_BATCH = (
    ("batok", "encode_ordinary_batch_to_numpy"),
    ("batok", "encode_ordinary_batch"),
    ("gigatoken", "encode_batch"),
    ("gigatoken", "encode_files"),
    ("quicktok-v1", "encode_batch"),
)
#: tokenizer.json files, one thread:
TOKENIZER_JSON_SINGLE = (
    bench.TOKENIZER_JSON_REFERENCE,
    ("batok", "encode_batch_to_numpy(num_threads=1)"),
    ("batok", "encode"),
    ("gigatoken", "encode"),
    ("quicktok-v1", "encode_ordinary"),
)
#: tokenizer.json files, batch calls on every core:
TOKENIZER_JSON_BATCH = (
    ("batok", "encode_batch_to_numpy"),
    ("batok", "encode_batch"),
    ("gigatoken", "encode_batch"),
    ("gigatoken", "encode_files"),
    ("HF tokenizers", "encode_batch_fast"),
)


@dataclass
class Source:
    """What a process loads: a tiktoken encoding (with its rank file, else batok's bundled
    copy) or a tokenizer.json file. Plain data: it travels to the process as JSON."""

    encoding: str | None = None
    rank_file: str | None = None
    tokenizer: str | None = None
    hf: bool = True  # the HF peer for an encoding (a tokenizer.json converted from the ranks)

    @property
    def reference(self) -> tuple[str, str]:
        return bench.ENCODING_REFERENCE if self.encoding else bench.TOKENIZER_JSON_REFERENCE

    def rows(self, section: str) -> tuple[tuple[str, str], ...]:
        if self.encoding:
            rows = ENCODING_SINGLE if section == "single" else ENCODING_BATCH
            return tuple(r for r in rows if self.hf or r[0] != "HF tokenizers")
        return TOKENIZER_JSON_SINGLE if section == "single" else TOKENIZER_JSON_BATCH

    def runners(self, section: str, threads: int, only: str | None) -> bench.PeerList:
        if self.encoding:
            rank_file = Path(self.rank_file) if self.rank_file else None
            if section == "single":
                methods = ("encode_to_numpy", "encode_ordinary")
                return bench.encoding_runners(
                    self.encoding, rank_file=rank_file, hf=self.hf, batok_methods=methods, only=only
                )
            return bench.encoding_batch_runners(self.encoding, threads, rank_file, only)
        assert self.tokenizer is not None
        single, batch = bench.tokenizer_json_runners(Path(self.tokenizer), threads, only)
        return single if section == "single" else batch


@dataclass
class PassResult:
    """One engine's pass: MB/s over the whole pass and over its second half (by bytes)."""

    engine: str
    method: str
    version: str = ""
    status: str = "ok"  # ok | inexact | error | unavailable
    mb_s: float | None = None
    second_half_mb_s: float | None = None
    seconds: float | None = None
    load_s: float | None = None  # import, load and a first short call (not in MB/s)
    tokens: int = 0
    inputs: int = 0
    differs: int = 0
    note: str = ""
    first_differs: int | None = field(default=None, repr=False)


class Mismatch(bench.Mismatch):
    pass


#: The untimed first call of every process (see `_process`).
WARMUP = "Loading done; one short call first. 1, 2, 3!"


# -- the documents, as the processes read them --------------------------------------------------


def half_index(docs: Sequence[str]) -> int:
    """The first document of the second half of the bytes."""
    sizes = [len(d.encode("utf-8")) for d in docs]
    total, seen = sum(sizes), 0
    for i, n in enumerate(sizes):
        if seen >= total / 2:
            return i
        seen += n
    return len(docs)


def write_workload(folder: Path, docs: Sequence[str], jsonl: bool) -> None:
    """The documents for the processes (`docs.json`), and as two JSON Lines files (the two
    halves) for engines that read files themselves."""
    (folder / "docs.json").write_text(json.dumps(list(docs)), encoding="utf-8")
    if jsonl:
        (folder / "warmup.jsonl").write_text(json.dumps({"text": WARMUP}) + "\n", encoding="utf-8")
        h = half_index(docs)
        for name, part in (("first.jsonl", docs[:h]), ("second.jsonl", docs[h:])):
            lines = (json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in part)
            (folder / name).write_text("".join(lines), encoding="utf-8")


# -- one process: load, one pass, check ---------------------------------------------------------


def _append(flat: array[int], ids: Any) -> None:
    if hasattr(ids, "dtype"):  # numpy: one copy of the buffer, no Python int per token
        flat.frombytes(ids.astype("<u4", copy=False).tobytes())
    else:
        flat.extend(ids)


def _one_pass(runner: bench.Runner, feeds: Sequence[Sequence[Any]]) -> tuple[list[float], Any]:
    """Time `runner` over each half's feeds (chunks of documents, or files); between the timed
    calls, its answers are packed into one flat id array plus offsets, for the check."""
    flat, offsets = array("I"), array("q", [0])
    seconds = [0.0, 0.0]
    for half, chunks in enumerate(feeds):
        for chunk in chunks:
            t0 = time.perf_counter()
            out = runner.run(chunk)
            seconds[half] += time.perf_counter() - t0
            for ids in runner.unpack(out) if runner.unpack else out:
                _append(flat, ids)
                offsets.append(len(flat))
            del out
    return seconds, (flat, offsets)


def _read_ids(prefix: Path) -> tuple[array[int], array[int]]:
    flat, offsets = array("I"), array("q")
    flat.frombytes(prefix.with_suffix(".ids").read_bytes())
    offsets.frombytes(prefix.with_suffix(".offsets").read_bytes())
    return flat, offsets


def _compare(got: tuple[array[int], array[int]], ref: tuple[array[int], array[int]]) -> list[int]:
    """The indices of the documents whose ids differ."""
    (flat, offs), (rflat, roffs) = got, ref
    if flat == rflat and offs == roffs:
        return []
    if len(offs) != len(roffs):
        return list(range(len(roffs) - 1))
    return [
        i
        for i in range(len(roffs) - 1)
        if flat[offs[i] : offs[i + 1]] != rflat[roffs[i] : roffs[i + 1]]
    ]


def _process(spec: dict[str, Any]) -> PassResult:
    """What the fresh process does (`python -m batok._onepass SPEC`)."""
    engine, key = spec["engine"], spec["key"]
    t0 = time.perf_counter()
    source = Source(**spec["source"])
    runners = source.runners(spec["section"], spec["threads"], engine)
    runner = bench.find_runner(runners, engine, key)
    if runner is None:
        why = next((r.reason for r in runners if isinstance(r, bench.Unavailable)), "")
        return PassResult(engine, key, status="unavailable", note=why or f"no {key} runner")
    folder = Path(spec["folder"])
    # One call on a short text not in any workload, untimed: imports made inside a call (numpy,
    # awkward) and one-time set-up (thread pools, lazily built tables) belong to loading, which
    # `load_s` reports, not to the pass. It leaves a handful of pieces in any cache.
    runner.run([str(folder / "warmup.jsonl")] if runner.feed == "jsonl" else [WARMUP])
    load_s = time.perf_counter() - t0
    docs = json.loads((folder / "docs.json").read_text(encoding="utf-8"))
    h = half_index(docs)
    result = PassResult(engine, runner.method, runner.version, note=runner.note, load_s=load_s)
    result.inputs = len(docs)
    if runner.feed == "jsonl":
        feeds: list[list[Any]] = [[[str(folder / "first.jsonl")]], [[str(folder / "second.jsonl")]]]
    else:
        feeds = [
            [part[i : i + CHUNK_DOCS] for i in range(0, len(part), CHUNK_DOCS)]
            for part in (docs[:h], docs[h:])
        ]
    seconds, got = _one_pass(runner, feeds)
    first_bytes = sum(len(d.encode("utf-8")) for d in docs[:h])
    second_bytes = sum(len(d.encode("utf-8")) for d in docs[h:])
    result.seconds = sum(seconds)
    result.mb_s = (first_bytes + second_bytes) / result.seconds / 1e6 if result.seconds else None
    if seconds[1] and second_bytes:
        result.second_half_mb_s = second_bytes / seconds[1] / 1e6
    result.tokens = len(got[0])
    reference = folder / "reference"
    if spec["write_reference"]:
        reference.with_suffix(".ids").write_bytes(got[0].tobytes())
        reference.with_suffix(".offsets").write_bytes(got[1].tobytes())
    else:
        bad = _compare(got, _read_ids(reference))
        if bad:
            result.status, result.differs, result.first_differs = "inexact", len(bad), bad[0]
    return result


def _main(argv: Sequence[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    try:
        result = _process(spec)
    except Exception as e:  # noqa: BLE001 - reported to the parent, which decides
        first_line = (str(e).strip().splitlines() or [""])[0]
        result = PassResult(spec["engine"], spec["key"], status="error")
        result.note = f"{type(e).__name__}: {first_line}"[:200]
    print(json.dumps(asdict(result)))
    return 0


# -- the parent: one process per row -------------------------------------------------------------


def _run_process(spec: dict[str, Any], folder: Path, timeout: float) -> PassResult:
    path = folder / "spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    threads = str(spec["threads"])
    env = dict(os.environ)
    # Every pool sized to the section: one thread for single calls, `threads` for batches.
    env.update(RAYON_NUM_THREADS=threads, BATOK_NUM_THREADS=threads)
    env["TOKENIZERS_PARALLELISM"] = "true" if spec["section"] == "batch" else "false"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "batok._onepass", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return PassResult(spec["engine"], spec["key"], status="error", note=f"over {timeout:.0f} s")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return PassResult(spec["engine"], spec["key"], status="error", note=last[:200])
    return PassResult(**json.loads(lines[-1]))


def run_cases(
    source: Source,
    docs: Sequence[str],
    folder: Path,
    *,
    case: str,
    labels: Sequence[str] | None = None,
    sections: Sequence[str] = ("single", "batch"),
    engines: Sequence[str] | None = None,
    threads: int = 0,
    timeout: float = 900,
    strict: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, list[PassResult]]:
    """Every row of `sections` for `source` over `docs`, each in a fresh process; results per
    section, in row order. `engines` keeps only those engines' rows (and the reference).

    Raises `Mismatch` when batok's ids differ from the reference's, and RuntimeError when batok
    fails. Without the reference (not installed, `strict=False` only), batok's first row stands
    in for it, and its rows are marked unchecked.
    """
    folder.mkdir(parents=True, exist_ok=True)
    n = bench._cores(threads)
    order = [("single", source.reference)]
    for section in sections:
        for row in source.rows(section):
            if (section, row) != order[0] and (engines is None or row[0] in engines):
                order.append((section, row))
    write_workload(folder, docs, any(key == "encode_files" for _, (_, key) in order))
    results: dict[str, list[PassResult]] = {s: [] for s in sections}
    reference_name = ""  # set once some process has left its ids as the reference
    for section, (engine, key) in order:
        is_reference = (engine, key) == source.reference
        if not reference_name and not is_reference and engine != "batok":
            continue  # nothing to check a peer against (only without the reference)
        if progress:
            progress(f"{case}: {engine} {key} ({section})")
        spec = {
            "source": asdict(source),
            "section": section,
            "engine": engine,
            "key": key,
            "threads": 1 if section == "single" else n,
            "folder": str(folder),
            "write_reference": not reference_name,
        }
        result = _run_process(spec, folder, timeout)
        if is_reference and result.status != "ok":
            if strict:
                raise RuntimeError(f"{case}: the reference, {engine} {key}: {result.note}")
        elif spec["write_reference"]:
            reference_name = engine if is_reference else f"batok {key}"
            if not is_reference:
                result.note = (
                    f"unchecked: {source.reference[0]} unavailable, so these ids are the "
                    "reference for the peers"
                )
        if engine == "batok" and result.status == "error":
            raise RuntimeError(f"{case}: batok {key} failed: {result.note}")
        if engine == "batok" and result.status == "inexact":
            first = result.first_differs or 0
            label = labels[first] if labels else f"document #{first}"
            raise Mismatch(
                bench.mismatch_message(
                    case, result.method, reference_name, result.differs, len(docs), label
                )
            )
        if result.status == "inexact":
            result.note = f"{result.differs} of {len(docs)} documents differ from {reference_name}"
        if section in results:
            results[section].append(result)
    return results


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
