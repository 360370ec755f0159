"""Dataset jobs end to end: JSON Lines in, token files out, each engine in a fresh process.

    python benches/jobs.py                    # ~47 MB of JSON Lines, Llama-3.2's tokenizer.json
    python benches/jobs.py --bytes 4000000    # smaller
    python benches/jobs.py --ray              # also Ray Data with 1 and 2 workers (slow to start)

The workload is the one-pass corpus (`corpus.one_pass_corpus`: unique 1-4 KB documents from the
shared corpus and the interpreter's own sources and licences) written as JSON Lines files of
`{"text": ...}`. Each engine runs as `python benches/jobs.py --child ENGINE ...` in a new
process, and the time is that process's whole life: start, imports, loading the tokenizer,
reading, tokenizing, writing, exit. Every core of the machine is used (the jobs' default).
Each engine runs three times, the engines taking turns, and the median is reported.

- batok npy / parquet: `batok.tokenize_files(..., format=...)`; Parquet snappy-compressed (the
  default) and uncompressed (`compression="none"`).
- gigatoken: `encode_files(JsonlFileSource(...), parallel=True)`, its ids then written as
  `tokens.npy` + `offsets.npy`, what batok's npy output holds.
- HF datasets: `load_dataset("json")`, then `map(batched=True, num_proc=<cores>)` with a
  `tokenizers.Tokenizer` (`encode_batch`), into datasets' Arrow cache, as its documentation
  shows it.
- Ray Data (with `--ray`): `batok.ray.tokenize_on_ray` on a local cluster of 1 and 2 workers.

Every engine's ids are read back and compared with HF `tokenizers`' (the datasets run): batok
differing fails the run; a peer differing is marked inexact.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

#: JSON Lines bytes of the workload (the issue's job: about 47 MB).
JOB_BYTES = 47_000_000
#: Runs per engine, interleaved; the median is reported. A single run also times how much of
#: an engine's libraries the page cache happens to hold (pyarrow's, HF datasets').
ROUNDS = 3
#: The workload is split into this many files, as a dataset usually is.
FILES = 8
ENGINES = (
    "batok npy",
    "batok parquet",
    "batok parquet uncompressed",
    "gigatoken encode_files",
    "HF datasets map",
)
RAY_ENGINES = ("Ray Data, 1 worker", "Ray Data, 2 workers")
#: The Python packages the engines' child processes import.
JOB_PACKAGES = ("batok", "gigatoken", "datasets", "tokenizers", "pyarrow", "numpy")
#: A child's stdout line that reports the phases of its run (Ray: cluster start, pipeline).
PHASES_PREFIX = "PHASES "


# -- the child processes ------------------------------------------------------------------------


def _child(engine: str, inputs: list[str], tokenizer: str, out: Path) -> None:
    import numpy as np

    if engine.startswith("batok"):
        import batok

        fmt = engine.split()[1]
        compression = "none" if engine.endswith("uncompressed") else "snappy"
        batok.tokenize_files(inputs, tokenizer, out, format=fmt, compression=compression)
    elif engine == "gigatoken encode_files":
        import gigatoken as gt

        tok = gt.Tokenizer(tokenizer)
        ids = tok.encode_files(gt.JsonlFileSource(inputs), parallel=True)
        flat, offsets = _flatten(ids)
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / "tokens.npy", flat)
        np.save(out / "offsets.npy", offsets)
    elif engine == "HF datasets map":
        import datasets
        import tokenizers

        datasets.disable_progress_bars()
        tok = tokenizers.Tokenizer.from_file(tokenizer)
        ds = datasets.load_dataset(
            "json", data_files=inputs, split="train", cache_dir=str(out / "cache")
        )

        def encode(batch: dict[str, list[str]]) -> dict[str, Any]:
            return {
                "input_ids": [
                    e.ids for e in tok.encode_batch(batch["text"], add_special_tokens=False)
                ]
            }

        ds.map(
            encode,
            batched=True,
            num_proc=os.cpu_count(),
            remove_columns=["text"],
            cache_file_name=str(out / "tokens.arrow"),
        )
    elif engine.startswith("Ray Data"):
        import ray

        import batok.ray

        workers = int(engine.split(",")[1].split()[0])
        start = time.perf_counter()
        ray.init(num_cpus=workers + 1, include_dashboard=False, log_to_driver=False)
        started = time.perf_counter()
        batok.ray.tokenize_on_ray(inputs, tokenizer, out, concurrency=workers)
        done = time.perf_counter()
        ray.shutdown()
        # The parent reads this line: how much of the process's life was starting the
        # cluster, which a long-lived cluster pays once, and how much the pipeline.
        phases = {"cluster_start_s": started - start, "pipeline_s": done - started}
        print(PHASES_PREFIX + json.dumps(phases), flush=True)
    else:
        raise SystemExit(f"unknown engine {engine!r}")


def _flatten(ids: Any) -> tuple[Any, Any]:
    """gigatoken's ragged result as flat ids and n + 1 offsets."""
    import awkward as ak
    import numpy as np

    counts = ak.to_numpy(ak.num(ids)).astype(np.int64)
    flat = ak.to_numpy(ak.flatten(ids)).astype(np.uint32)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return flat, offsets


# -- reading the outputs back -------------------------------------------------------------------


def read_back(engine: str, out: Path) -> tuple[Any, Any]:
    """(flat ids, offsets) of what `engine` wrote, read with numpy and pyarrow."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    if engine in ("batok npy", "gigatoken encode_files"):
        return np.load(out / "tokens.npy"), np.load(out / "offsets.npy")
    if engine == "HF datasets map":
        import pyarrow as pa

        # One file per worker process (tokens_00000_of_00002.arrow, ...), in order.
        tables = []
        for path in sorted(out.glob("tokens*.arrow")):
            with pa.memory_map(str(path)) as source:
                tables.append(pa.ipc.open_stream(source).read_all())
        column = pa.concat_tables(tables).column("input_ids")
    elif engine.startswith("batok parquet"):
        files = sorted(str(p) for p in out.glob("*.parquet"))
        column = pq.ParquetDataset(files).read(columns=["input_ids"]).column("input_ids")
    else:
        column = pads.dataset(out, format="parquet").to_table().column("input_ids")
    lengths = np.asarray(pc.list_value_length(column).to_numpy(zero_copy_only=False), np.int64)
    flat = np.asarray(pc.list_flatten(column).to_numpy(zero_copy_only=False), np.uint32)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return flat, offsets


# -- the parent ---------------------------------------------------------------------------------


def write_workload(folder: Path, budget: int) -> tuple[list[str], int, int]:
    """The one-pass corpus as `FILES` JSON Lines files; returns (paths, documents, bytes)."""
    import corpus

    docs = corpus.one_pass_corpus(budget).docs
    step = -(-len(docs) // FILES)
    paths, total = [], 0
    for k in range(FILES):
        path = folder / f"part-{k:02d}.jsonl"
        lines = "".join(
            json.dumps({"text": d}, ensure_ascii=False) + "\n"
            for d in docs[k * step : (k + 1) * step]
        )
        data = lines.encode("utf-8")
        path.write_bytes(data)
        total += len(data)
        paths.append(str(path))
    return paths, len(docs), total


def run(
    budget: int = JOB_BYTES, ray: bool = False, tokenizer: str | None = None, rounds: int = ROUNDS
) -> dict[str, Any]:
    """Every engine `rounds` times, engines interleaved, a fresh process each time; the median
    time is reported. Raises if batok's ids differ from HF's."""
    import numpy as np
    import peers

    tokenizer = tokenizer or str(peers.family_file("llama-3.2"))
    engines = ENGINES + (RAY_ENGINES if ray else ())
    # Each child imports these; byte-compiled once here, as installed wheels are, so that no
    # engine's time includes compiling its own sources.
    for package in JOB_PACKAGES + (("ray",) if ray else ()):
        peers.compile_package(package)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="batok-jobs-") as tmp:
        folder = Path(tmp)
        inputs, n_docs, nbytes = write_workload(folder, budget)
        outputs: dict[str, tuple[Any, Any]] = {}
        times: dict[str, list[float]] = {e: [] for e in engines}
        phases: dict[str, list[dict[str, float]]] = {e: [] for e in engines}
        errors: dict[str, str] = {}
        for round_ in range(rounds):
            for engine in engines:
                if engine in errors:
                    continue
                out = folder / f"{engine.replace(' ', '_').replace(',', '')}_{round_}"
                command = [sys.executable, __file__, "--child", engine, "--tokenizer", tokenizer]
                command += ["--out", str(out), *inputs]
                print(f"  {engine} (round {round_ + 1} of {rounds})", file=sys.stderr, flush=True)
                start = time.perf_counter()
                proc = subprocess.run(command, capture_output=True, text=True)
                seconds = time.perf_counter() - start
                if proc.returncode != 0:
                    errors[engine] = proc.stderr.strip()[-500:]
                    continue
                if round_ == 0:
                    outputs[engine] = read_back(engine, out)
                times[engine].append(seconds)
                phases[engine] += [
                    json.loads(line.removeprefix(PHASES_PREFIX))
                    for line in proc.stdout.splitlines()
                    if line.startswith(PHASES_PREFIX)
                ]
                shutil.rmtree(out, ignore_errors=True)
        for engine in engines:
            if engine in errors:
                rows.append({"engine": engine, "error": errors[engine]})
                continue
            seconds = statistics.median(times[engine])
            row = {
                "engine": engine,
                "seconds": seconds,
                "mb_s": nbytes / seconds / 1e6,
                "runs": times[engine],
            }
            if phases[engine]:
                row["phases"] = {
                    k: statistics.median(p[k] for p in phases[engine]) for k in phases[engine][0]
                }
            rows.append(row)
        reference = outputs.get("HF datasets map")
        for row in rows:
            got = outputs.get(row["engine"])
            if reference is None or got is None:
                row["exact"] = None
                continue
            row["exact"] = bool(
                np.array_equal(got[0], reference[0]) and np.array_equal(got[1], reference[1])
            )
            if row["engine"].startswith(("batok", "Ray")) and not row["exact"]:
                raise AssertionError(f"{row['engine']}: ids differ from HF tokenizers'")
    return {
        "tokenizer": Path(tokenizer).parent.name,
        "documents": n_docs,
        "input_bytes": nbytes,
        "files": FILES,
        "rounds": rounds,
        "cores": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "rows": rows,
    }


def _seconds(data: dict[str, Any], engine: str, exact_only: bool = True) -> float | None:
    for r in data["rows"]:
        if r["engine"] == engine and "seconds" in r and (r["exact"] or not exact_only):
            return float(r["seconds"])
    return None


def targets(data: dict[str, Any]) -> list[tuple[str, str, dict[str, float | None], float, bool]]:
    """(name, goal, cases, bound, at least) of the jobs' targets, as `one_pass.targets` gives
    them: end to end, batok npy against gigatoken's `encode_files` and HF datasets, and the
    cost of Parquet output over npy."""
    npy = _seconds(data, "batok npy")

    def over(engine: str) -> float | None:
        other = _seconds(data, engine)
        return other / npy if other and npy else None

    parquet = _seconds(data, "batok parquet")
    name = data["tokenizer"]
    return [
        (
            "job: npy output vs gigatoken encode_files (end to end)",
            ">= 1.2x",
            {name: over("gigatoken encode_files")},
            1.2,
            True,
        ),
        (
            "job: npy output vs HF datasets map (end to end)",
            ">= 20x",
            {name: over("HF datasets map")},
            20.0,
            True,
        ),
        (
            "job: Parquet output's time over npy output's",
            "<= 1.15x",
            {name: parquet / npy if parquet and npy else None},
            1.15,
            False,
        ),
    ]


def render(data: dict[str, Any]) -> str:
    """The jobs table: seconds, MB/s of JSON Lines, and each engine against batok npy."""
    by = {r["engine"]: r for r in data["rows"]}
    base = by.get("batok npy", {}).get("seconds")
    lines = [
        f"{data['input_bytes'] / 1e6:.1f} MB of JSON Lines ({data['documents']:,} documents in "
        f"{data['files']} files), {data['tokenizer']}, {data['cores']} cores; each engine in a "
        f"fresh process, timed from start to exit; the median of {data.get('rounds', 1)} runs, "
        "engines interleaved.",
        "",
        "| engine | seconds | MB/s | batok npy is faster by | exact |",
        "|---|---:|---:|---:|:---:|",
    ]
    for r in data["rows"]:
        if "error" in r:
            lines.append(f"| {r['engine']} | failed: {r['error'][:80]} | | | |")
            continue
        ratio = f"{r['seconds'] / base:.2f}x" if base else "-"
        exact = {True: "yes", False: "**no**", None: "-"}[r["exact"]]
        lines.append(
            f"| {r['engine']} | {r['seconds']:.2f} | {r['mb_s']:.1f} | {ratio} | {exact} |"
        )
    lines += ray_phases(data)
    return "\n".join(lines)


def ray_phases(data: dict[str, Any]) -> list[str]:
    """What the Ray rows are made of: starting the local cluster, then the pipeline (read,
    map_batches, write), each the median over the runs; and what one machine says about
    several, which was not measured."""
    ray_rows = [r for r in data["rows"] if "phases" in r]
    if not ray_rows:
        return []
    mb = data["input_bytes"] / 1e6
    parts = [
        f"{r['engine']}: {r['phases']['cluster_start_s']:.1f} s starting the cluster, "
        f"{r['phases']['pipeline_s']:.1f} s of pipeline ({mb / r['phases']['pipeline_s']:.1f} MB/s)"
        for r in ray_rows
    ]
    lines = ["", "Ray Data, split: " + "; ".join(parts) + "."]
    pipelines = {r["engine"]: r["phases"]["pipeline_s"] for r in ray_rows}
    one, two = pipelines.get(RAY_ENGINES[0]), pipelines.get(RAY_ENGINES[1])
    if one and two:
        lines.append(
            f"Two workers against one on this machine: the pipeline {one / two:.2f}x as fast. "
            "Only one machine was measured: on N machines the pipeline's part can at best "
            "shrink to its time here divided by N (each machine reading and tokenizing its "
            "share), while the cluster's start and Ray's scheduling are paid however many "
            "machines there are."
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--tokenizer", help="a tokenizer.json (default: Llama-3.2's)")
    p.add_argument("--bytes", type=int, default=JOB_BYTES, help="JSON Lines bytes")
    p.add_argument("--ray", action="store_true", help="also Ray Data with 1 and 2 workers")
    p.add_argument("--rounds", type=int, default=ROUNDS, help="runs per engine (median)")
    p.add_argument("--json", type=Path, help="write the results here too")
    p.add_argument("inputs", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.child, args.inputs, args.tokenizer, args.out)
        return 0
    data = run(args.bytes, args.ray, args.tokenizer, args.rounds)
    print(render(data))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
