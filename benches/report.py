"""Run the whole comparison and write BENCHMARKS.md, benches/plots/*.png and benches/results.json.

    python benches/report.py            # full run, ~25-35 minutes on 2 cores
    python benches/report.py --quick    # tiny inputs: checks the harness, numbers mean nothing
    python benches/report.py --one-pass-bytes 8000000   # a smaller one-pass corpus

The headline is the one-pass protocol (`one_pass.py`, `batok._onepass`): each engine in a fresh
process encodes ~36 MB of unique documents once. The warm tables after it time repeated passes
over ~1 MB workloads, which measures caches as much as engines; they are labelled "warm".

Every number is measured in this one run, side by side, so ratios compare like with like (noise
between runs reached 28 % on the reference machine). Outputs are checked against the reference
engine (tiktoken for tiktoken encodings, HF `tokenizers` for tokenizer.json files): if batok's
differ, the run stops with the case and document; a peer's that differ are marked "inexact".
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:  # `python benches/report.py` has it; an import from a test may not
    sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
import jobs  # noqa: E402
import one_pass  # noqa: E402
import peers  # noqa: E402

from batok.bench import (  # noqa: E402
    ENCODING_REFERENCE,
    SHORT_PASS_REPEATS,
    SHORT_PASS_S,
    TOKENIZER_JSON_REFERENCE,
    Mismatch,
    Result,
    Runner,
    Unavailable,
    find_runner,
    machine_info,
    measure,
)

# A worst-case call predicted to take longer than this is skipped (and the table says so), so a
# superlinear engine cannot stall the report; growth is extrapolated from the two sizes before.
WORST_CASE_BUDGET_S = 30.0

Table = dict[str, list[dict[str, Any]]]


def _results(rs: Sequence[Result]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rs]


def _tick(label: str) -> Callable[[], None]:
    print(f"  {label}", file=sys.stderr, flush=True)
    return lambda: None


def _reference(runners: Sequence[Runner | Unavailable], engine: str, key: str) -> Runner:
    r = find_runner(runners, engine, key)
    if r is None:
        raise RuntimeError(f"the reference {engine} {key} is not available: pip install .[bench]")
    return r


def run_encode(rounds: int, budget: int) -> dict[str, Any]:
    out: dict[str, Any] = {"single": {}, "batch": {}, "decode": {}}
    for name in corpus.ENCODINGS:
        for work in corpus.WORKLOADS:
            w = corpus.workload(work, budget)
            key = f"{name} {work}"
            _tick(f"encode {key} ({w.nbytes / 1e6:.2f} MB, {len(w.docs)} docs)")
            single = peers.encode_peers(name)
            expected = _reference(single, *ENCODING_REFERENCE).run(w.docs)
            check = {"case": f"warm, {key}", "reference": ENCODING_REFERENCE[0]}
            out["single"][key] = _results(
                measure(single, w.docs, expected, w.nbytes, rounds, **check)
            )
            out["batch"][key] = _results(
                measure(peers.batch_peers(name), w.docs, expected, w.nbytes, rounds, **check)
            )
            # Decoding the reference's ids must give the text back.
            out["decode"][key] = _results(
                measure(
                    peers.decode_peers(name),
                    expected,
                    w.docs,
                    w.nbytes,
                    rounds,
                    case=f"warm, decode {key}",
                    reference="the original text",
                )
            )
    return out


def run_families(
    rounds: int, budget: int, families: Sequence[str] = tuple(corpus.FAMILIES), batch: bool = True
) -> dict[str, Any]:
    out: dict[str, Any] = {"single": {}, "batch": {}} if batch else {"single": {}}
    for family in families:
        single, batched = peers.family_peers(family)
        for work in corpus.WORKLOADS:
            w = corpus.workload(work, budget)
            key = f"{family} {work}"
            _tick(f"tokenizer.json {key}")
            expected = _reference(single, *TOKENIZER_JSON_REFERENCE).run(w.docs)
            check = {"case": f"warm, {key}", "reference": TOKENIZER_JSON_REFERENCE[0]}
            out["single"][key] = _results(
                measure(single, w.docs, expected, w.nbytes, rounds, **check)
            )
            if batch:
                out["batch"][key] = _results(
                    measure(batched, w.docs, expected, w.nbytes, rounds, **check)
                )
    return out


def _time_call(fn: Callable[[str], Any], text: str, min_total: float) -> tuple[float, Any]:
    """Median of repeated calls until `min_total` seconds (short inputs are noisy), and the
    first call's output for the check."""
    t0 = time.perf_counter()
    first = fn(text)
    times = [time.perf_counter() - t0]
    while sum(times) < min_total and len(times) < 200:
        t0 = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), first


def run_worst_case(sizes: Sequence[int], min_total: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    wc_peers = peers.worst_case_peers()
    for kind in corpus.WORST_CASES:
        history: dict[str, list[tuple[int, float]]] = {}
        for n in sizes:
            _tick(f"worst case {kind} {n:,}")
            text = corpus.worst_case_text(kind, n)
            reference: list[int] | None = None
            for peer in wc_peers:
                row: dict[str, Any] = {"kind": kind, "n": n, "engine": peer.engine}
                rows.append(row)
                if isinstance(peer, Unavailable):
                    row.update(status="unavailable", note=peer.reason)
                    continue
                if peer.cap is not None and n > peer.cap:
                    row.update(status="skipped", note=f"capped at {peer.cap // 1_000_000}M")
                    continue
                if peer.engine != "batok" and reference is None:
                    row.update(status="skipped", note="no batok output to check")
                    continue
                past = history.get(peer.engine, [])
                if past:
                    (n1, t1), (n2, t2) = (past[-2] if len(past) > 1 else past[-1]), past[-1]
                    k = math.log(t2 / t1) / math.log(n2 / n1) if n2 > n1 and t1 > 0 else 1.0
                    predicted = t2 * (n / n2) ** max(k, 1.0)
                    if predicted > WORST_CASE_BUDGET_S:
                        row.update(status="skipped", note=f"predicted {predicted:.0f} s")
                        continue
                seconds, ids = _time_call(peer.encode, text, min_total)
                ids = list(ids)
                if peer.engine == "batok":
                    reference = ids
                elif ids != reference:
                    row.update(status="differs", note="ids differ from batok")
                    continue
                history.setdefault(peer.engine, []).append((n, seconds))
                row.update(status="ok", seconds=seconds, ns_per_char=seconds / n * 1e9)
            del reference
    return rows


def run_cold_load(runs: int) -> list[dict[str, Any]]:
    rows = []
    for engine, what in peers.cold_load_cases():
        _tick(f"cold load {engine} {what}")
        rows.append(asdict(peers.cold_load(engine, what, runs)))
    return rows


# -- targets -----------------------------------------------------------------------------------


def _speed(results: list[dict[str, Any]], engine: str, key: str) -> float | None:
    for r in results:
        if r["engine"] == engine and r["method"].split(" ")[0] == key and r["status"] == "ok":
            return float(r["mb_s"])
    return None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def _target(
    name: str, goal: str, cases: dict[str, float | None], ok: Callable[[float], bool], worst: str
) -> dict[str, Any]:
    """One target row: every case's number, the worst of them, met only if every case is."""
    known = {k: v for k, v in cases.items() if v is not None}
    value = (min if worst == "min" else max)(known.values()) if known else None
    met = bool(known) and len(known) == len(cases) and all(ok(v) for v in known.values())
    return {"target": name, "goal": goal, "value": value, "met": met, "cases": cases}


def targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The one-pass targets (the headline) first, then the warm ones."""
    enc, fam = data["encode"], data["families"]
    rows = []
    for name, goal, cases, bound, at_least in one_pass.targets(data["one_pass"]):
        ok = (lambda v, b=bound: v >= b) if at_least else (lambda v, b=bound: v <= b)
        rows.append(_target(name, goal, cases, ok, "min" if at_least else "max"))
    for name, goal, cases, bound, at_least in jobs.targets(data["jobs"]):
        ok = (lambda v, b=bound: v >= b) if at_least else (lambda v, b=bound: v <= b)
        rows.append(_target(name, goal, cases, ok, "min" if at_least else "max"))

    Side = tuple[dict[str, Any], str, str]  # (section, engine, method)

    def speedup(name: str, at_least: float, top: Side, bottom: Side) -> None:
        """`top`'s MB/s over `bottom`'s, per workload; met when every workload reaches it."""
        (t_sec, t_eng, t_key), (b_sec, b_eng, b_key) = top, bottom
        cases = {
            key: _ratio(_speed(t_sec[key], t_eng, t_key), _speed(b_sec[key], b_eng, b_key))
            for key in b_sec
        }
        rows.append(_target(name, f">= {at_least:g}x", cases, lambda v: v >= at_least, "min"))

    single, batch = enc["single"], enc["batch"]
    fam_single, fam_batch = fam["single"], fam["batch"]
    # (name, at least, top (section, engine, method), bottom (section, engine, method))
    speedups: list[tuple[str, float, Side, Side]] = [
        (
            "warm: encode, list output vs quicktok-v1",
            1.2,
            (single, "batok", "encode_ordinary"),
            (single, "quicktok-v1", "encode_ordinary"),
        ),
        (
            "warm: encode, numpy output vs quicktok-v1 (list)",
            2.5,
            (single, "batok", "encode_to_numpy"),
            (single, "quicktok-v1", "encode_ordinary"),
        ),
        (
            "warm: tokenizer.json encode vs HF encode (exact)",
            15,
            (fam_single, "batok", "encode"),
            (fam_single, "HF tokenizers", "encode"),
        ),
        (
            "warm: tokenizer.json encode_batch vs HF encode_batch (exact)",
            15,
            (fam_batch, "batok", "encode_batch"),
            (fam_batch, "HF tokenizers", "encode_batch"),
        ),
        (
            "warm: batch on all cores vs the same call on one thread (lists)",
            1.9,
            (batch, "batok", "encode_ordinary_batch"),
            (batch, "batok", "encode_ordinary_batch(num_threads=1)"),
        ),
        (
            "warm: batch on all cores vs the same call on one thread (numpy)",
            1.9,
            (batch, "batok", "encode_ordinary_batch_to_numpy"),
            (batch, "batok", "encode_ordinary_batch_to_numpy(num_threads=1)"),
        ),
        (
            "warm: GIL released: encode_ordinary from N Python threads vs 1",
            1.9,
            (batch, "batok", "encode_ordinary"),
            (single, "batok", "encode_ordinary"),
        ),
    ]
    for args in speedups:
        speedup(*args)
    batok_wc = [r for r in data["worst_case"] if r["engine"] == "batok"]
    sizes = sorted({r["n"] for r in batok_wc})
    lin: dict[str, float | None] = {}
    for kind in corpus.LINEAR_KINDS:
        by_n = {r["n"]: r.get("ns_per_char") for r in batok_wc if r["kind"] == kind}
        small, big = by_n.get(sizes[0]) if sizes else None, by_n.get(sizes[-1]) if sizes else None
        lin[kind] = big / small if small and big else None
    rows.append(
        _target(
            f"linear: time per char at {sizes[-1]:,} vs {sizes[0]:,} chars" if sizes else "linear",
            "<= 1.5x",
            lin,
            lambda v: v <= 1.5,
            "max",
        )
    )
    top = [
        r.get("seconds")
        for r in batok_wc
        if r["kind"] == "random letters" and sizes and r["n"] == sizes[-1]
    ]
    rows.append(
        _target(
            f"{sizes[-1]:,} random letters, one call" if sizes else "random letters",
            "< 0.5 s",
            {"seconds": top[0] if top else None},
            lambda v: v < 0.5,
            "max",
        )
    )
    cold = {(r["engine"], r["what"]): r for r in data["cold_load"]}

    def cold_ms(engine: str, what: str) -> float | None:
        r = cold.get((engine, what))
        return r["ms"] if r else None

    rows.append(
        _target(
            "cold load cl100k_base (import + load + first encode)",
            "<= 40 ms",
            {"ms": cold_ms("batok", "cl100k_base")},
            lambda v: v <= 40,
            "max",
        )
    )
    rss = cold.get(("batok", "cl100k_base"), {}).get("rss_mb")
    rows.append(
        _target(
            "cold load cl100k_base, peak RSS", "<= 50 MB", {"MB": rss}, lambda v: v <= 50, "max"
        )
    )
    rows.append(
        _target(
            "cold load o200k_base",
            "<= 80 ms",
            {"ms": cold_ms("batok", "o200k_base")},
            lambda v: v <= 80,
            "max",
        )
    )
    rows.append(
        _target(
            "cold load Llama-3.2 tokenizer.json (128k vocab) vs HF",
            "<= 0.5x",
            {
                "llama-3.2": _ratio(
                    cold_ms("batok", "llama-3.2"), cold_ms("HF tokenizers", "llama-3.2")
                )
            },
            lambda v: v <= 0.5,
            "max",
        )
    )
    speedup(
        "warm: decode vs rs-bpe",
        1.2,
        (enc["decode"], "batok", "decode"),
        (enc["decode"], "rs-bpe", "decode"),
    )
    speedup(
        "warm: count_tokens vs encode_ordinary (list)",
        2,
        (single, "batok", "count_tokens"),
        (single, "batok", "encode_ordinary"),
    )
    return rows


# -- markdown ----------------------------------------------------------------------------------


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "n/a"
    if unit == "x":
        return f"{v:.2f}x"
    return f"{v:.1f}{unit}" if v >= 10 else f"{v:.2f}{unit}"


def _cell(r: dict[str, Any], ref: float | None) -> str:
    if r["status"] == "ok":
        s = _fmt(r["mb_s"])
        if r["engine"] != "batok" and ref:
            s += f" ({ref / r['mb_s']:.2f}x)"
        return s
    if r["status"] == "inexact":
        mark = f"inexact: {r['differs']}/{r['inputs']} differ"
        return f"{_fmt(r['mb_s'])} ({mark})" if r["mb_s"] else mark
    return r["status"]


def _speed_table(section: dict[str, list[dict[str, Any]]], columns: Sequence[str], ref_key: str):
    """Rows: engine + method; columns: workloads; cells: MB/s (batok's speed / this)."""
    keys: list[tuple[str, str]] = []
    for results in section.values():
        for r in results:
            if (r["engine"], r["method"]) not in keys:
                keys.append((r["engine"], r["method"]))
    lines = ["| engine | method | " + " | ".join(columns) + " |"]
    lines.append("|---|---|" + "---:|" * len(columns))
    notes: dict[str, str] = {}
    for engine, method in keys:
        cells = []
        for col in columns:
            results = section.get(col, [])
            ref = _speed(results, "batok", ref_key)
            match = [r for r in results if (r["engine"], r["method"]) == (engine, method)]
            cells.append(_cell(match[0], ref) if match else "")
            for r in match:
                if r["status"] in ("unavailable", "error") and r["note"]:
                    notes[engine] = r["note"]
        lines.append(f"| {engine} | `{method}` | " + " | ".join(cells) + " |")
    for engine, note in notes.items():
        lines.append("")
        lines.append(f"- {engine}: {note}")
    return "\n".join(lines)


def _family_table(section: dict[str, list[dict[str, Any]]]) -> str:
    """Rows: families; columns: workloads; cells: batok and HF `encode` MB/s, and the ratio."""
    families = list(dict.fromkeys(k.rsplit(" ", 1)[0] for k in section))
    lines = ["| family | " + " | ".join(corpus.WORKLOADS) + " |"]
    lines.append("|---|" + "---:|" * len(corpus.WORKLOADS))
    for family in families:
        cells = []
        for work in corpus.WORKLOADS:
            results = section.get(f"{family} {work}", [])
            ours, hf = (
                _speed(results, "batok", "encode"),
                _speed(results, "HF tokenizers", "encode"),
            )
            differs = [r for r in results if r["status"] == "inexact"]
            if differs:
                cells.append(f"HF {_cell(differs[0], None)}")
            else:
                cells.append(f"{_fmt(ours)} vs {_fmt(hf)} ({_fmt(_ratio(ours, hf), 'x')})")
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(data: dict[str, Any]) -> str:
    m = data["machine"]
    enc, fam = data["encode"], data["families"]
    out: list[str] = []
    add = out.append
    add("# batok benchmarks\n")
    add(
        "Generated by `python benches/report.py` "
        f"({'quick mode: numbers are a harness check only' if data['quick'] else 'full run'}) "
        f"on {data['date']}; {data['seconds']:.0f} s in all. Do not edit by hand.\n"
    )
    add("## Machine\n")
    add(f"- CPU: {m['cpu']}, {m['cores']} cores; {m['os']}; Python {m['python']}")
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    add(f"- Versions: {versions}")
    add(
        "- One-pass corpus: see the next section. Warm workloads: documents of 1-4 KB from "
        "`shared/corpus`, one call per document, "
        f"~{data['budget'] / 1e6:.2f} MB per workload; the median pass of {data['rounds']} "
        "rounds run interleaved across engines after one checking pass. In each round an "
        "engine makes an untimed pass, then a timed one (timed warm); a pass under "
        f"{SHORT_PASS_S * 1e3:.0f} ms is timed {SHORT_PASS_REPEATS} times, as one hiccup "
        "of the machine doubles it."
    )
    for work in corpus.WORKLOADS:
        add(f"  - {work}: {', '.join(p.name for p in corpus.workload_files(work))}")
    add("")
    add("## Targets\n")
    add("| target | goal | measured (worst case) | met | cases |")
    add("|---|---|---:|:---:|---|")
    for t in data["targets"]:
        unit = "x" if t["goal"].endswith("x") else ""
        cases = "; ".join(
            f"{k} {_fmt(v, unit)}" if v is not None else f"{k} n/a" for k, v in t["cases"].items()
        )
        value, met = _fmt(t["value"], unit), "yes" if t["met"] else "**no**"
        add(f"| {t['target']} | {t['goal']} | {value} | {met} | {cases} |")
    add("")
    add("Ratios are batok's number over the peer's, measured side by side in this run. A case is")
    add("n/a when a side was unavailable, was inexact (its ids differ from the reference's), or")
    add("was skipped; the target is then not met.\n")
    out.extend(one_pass.render(data["one_pass"], m["cores"]))
    add("## Dataset jobs: JSON Lines to token files, end to end\n")
    add(jobs.render(data["jobs"]))
    add("")
    add("## Warm: repeated passes over the same documents\n")
    add(
        "The sections from here on time the median of several passes over ~1 MB workloads, "
        "each after an untimed pass of the same engine: every cache an engine keeps is warm "
        "(batok's piece cache holds every piece), so they measure a repeated workload, not a "
        "job that sees each document once (the tables above).\n"
    )
    add("![throughput](benches/plots/throughput.png)\n")
    add("## Warm: single-thread encode (tiktoken encodings)\n")
    add(
        "MB/s of UTF-8 input; in brackets how many times faster batok's `encode_ordinary` is. "
        "bpe-openai is timed through its Rust backend (its Python wrapper adds metrics and refuses "
        "inputs of 1M characters or more). HF runs a tokenizer.json converted from the rank "
        "file (transformers' method), checked like every peer.\n"
    )
    for name in corpus.ENCODINGS:
        add(f"### {name}\n")
        cols = [f"{name} {w}" for w in corpus.WORKLOADS]
        sec = {c: enc["single"][c] for c in cols}
        add(_speed_table(sec, cols, "encode_ordinary").replace(f"{name} ", ""))
        add("")
    add(f"## Warm: batch ({m['cores']} cores)\n")
    add(
        "batok's batch call, the same call on one thread (the baseline of the scaling "
        "targets, timed in the same rounds), and batok's single call from as many Python "
        "threads (which scales only with the GIL released), against the peers' batch calls. "
        "Brackets: batok's `encode_ordinary_batch` over the row.\n"
    )
    for name in corpus.ENCODINGS:
        cols = [f"{name} {w}" for w in corpus.WORKLOADS]
        add(f"### {name}\n")
        sec = {c: enc["batch"][c] for c in cols}
        add(_speed_table(sec, cols, "encode_ordinary_batch").replace(f"{name} ", ""))
        add("")
    add("## Warm: tokenizer.json families\n")
    add(
        "`encode(text)` with the file's special tokens, batok against HF `tokenizers` (and "
        "quicktok-v1 where its importer accepts the file; it has no post-processor, so the "
        "ids batok adds to an empty text are prepended). Brackets: batok's `encode` over the "
        "row.\n"
    )
    add("![families](benches/plots/families.png)\n")
    for family in corpus.FAMILIES:
        cols = [f"{family} {w}" for w in corpus.WORKLOADS]
        add(f"### {family}\n")
        sec = {c: fam["single"][c] for c in cols}
        add(_speed_table(sec, cols, "encode").replace(f"{family} ", ""))
        add("")
        sec = {c: fam["batch"][c] for c in cols}
        add(_speed_table(sec, cols, "encode_batch").replace(f"{family} ", ""))
        add("")
    others = data.get("other_families", {}).get("single", {})
    if others:
        add("## Warm: other tokenizer.json families\n")
        add(
            "The other BPE files in `shared/tokenizers/`, on fewer bytes and single calls only: "
            "batok's `encode` and HF's `encode`, MB/s, and batok's speed over HF's. No target "
            "is set on them.\n"
        )
        add(_family_table(others))
        add("")
    add("## Warm: decode\n")
    add("MB/s of decoded UTF-8 text; brackets: batok's `decode` over the row.\n")
    for name in corpus.ENCODINGS:
        cols = [f"{name} {w}" for w in corpus.WORKLOADS]
        add(f"### {name}\n")
        sec = {c: enc["decode"][c] for c in cols}
        add(_speed_table(sec, cols, "decode").replace(f"{name} ", ""))
        add("")
    add("## Worst case: one long text without whitespace (cl100k_base)\n")
    add(
        "Seconds for one `encode_ordinary`-style call (median of repeats for short inputs). "
        f"tiktoken and HF are capped at {peers.SLOW_PEER_CAP:,} characters (10M takes them "
        "10-30 s each); a call predicted from the growth so far to exceed "
        f"{WORST_CASE_BUDGET_S:.0f} s is skipped. Outputs are checked against batok's. "
        "The linear target is over random letters, one repeated letter and random CJK. Prose "
        "without whitespace is left out of it: its pieces repeat, so the short text is "
        "answered from batok's piece cache on every repeat while the 10M text outgrows the "
        "cache; compare it across engines at one length instead.\n"
    )
    add("![worst case](benches/plots/worst_case.png)\n")
    engines = list(dict.fromkeys(r["engine"] for r in data["worst_case"]))
    sizes = sorted({r["n"] for r in data["worst_case"]})
    add("| text | chars | " + " | ".join(engines) + " |")
    add("|---|---:|" + "---:|" * len(engines))
    for kind in corpus.WORST_CASES:
        for n in sizes:
            cells = []
            for e in engines:
                r = next(
                    (
                        x
                        for x in data["worst_case"]
                        if (x["kind"], x["n"], x["engine"]) == (kind, n, e)
                    ),
                    None,
                )
                if r is None:
                    cells.append("")
                elif r["status"] == "ok":
                    cells.append(f"{r['seconds']:.4f}")
                elif r["status"] == "unavailable":
                    cells.append("unavailable")
                else:
                    cells.append(f"{r['status']}: {r.get('note', '')}")
            add(f"| {kind} | {n:,} | " + " | ".join(cells) + " |")
    add("")
    add("## Cold load\n")
    add(
        "A fresh process per sample: import, load, first encode, timed inside the process from "
        "before the import (the interpreter's own start-up is the last column); peak RSS of the "
        "process. Median of 5 processes after one that warms the OS file cache.\n"
    )
    add("| engine | encoding / tokenizer.json | ms | peak RSS MB | process ms |")
    add("|---|---|---:|---:|---:|")
    for r in data["cold_load"]:
        if r["reason"]:
            add(f"| {r['engine']} | {r['what']} | {r['reason']} | | |")
        else:
            add(
                f"| {r['engine']} | {r['what']} | {r['ms']:.0f} | {r['rss_mb']:.0f} "
                f"| {r['process_ms']:.0f} |"
            )
    add("")
    add("## What was tried\n")
    notes = Path(__file__).with_name("NOTES.md")
    add(notes.read_text(encoding="utf-8") if notes.is_file() else "No notes recorded.\n")
    return "\n".join(out)


# -- plots -------------------------------------------------------------------------------------

PLOT_ENGINES = [
    ("batok", "encode_ordinary", "batok (list)"),
    ("batok", "encode_to_numpy", "batok (numpy)"),
    ("quicktok-v1", "encode_ordinary", "quicktok-v1"),
    ("rs-bpe", "encode", "rs-bpe"),
    ("bpe-openai", "encode", "bpe-openai"),
    ("tiktoken", "encode_ordinary", "tiktoken"),
    ("HF tokenizers", "encode", "HF tokenizers"),
]


def plots(data: dict[str, Any], out_dir: Path) -> list[Path]:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed: no plots", file=sys.stderr)
        return []
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    def bars(ax: Any, groups: list[str], series: list[tuple[str, list[float]]], title: str) -> None:
        width = 0.8 / max(1, len(series))
        for i, (label, values) in enumerate(series):
            xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
            ax.bar(xs, values, width, label=label)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups)
        ax.set_title(title)
        ax.set_ylabel("MB/s (single thread)")
        ax.grid(axis="y", alpha=0.3)

    fig, axes = plt.subplots(1, len(corpus.ENCODINGS), figsize=(13, 4.5), sharey=True)
    for ax, name in zip(axes, corpus.ENCODINGS, strict=True):
        series = []
        for engine, key, label in PLOT_ENGINES:
            vals = [
                _speed(data["encode"]["single"][f"{name} {w}"], engine, key) or 0.0
                for w in corpus.WORKLOADS
            ]
            series.append((label, vals))
        bars(ax, list(corpus.WORKLOADS), series, f"encode, {name}")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    written.append(out_dir / "throughput.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(11, 4.5))
    fams = list(corpus.FAMILIES)
    series = []
    for section, engine, key, label in [
        ("single", "batok", "encode", "batok encode"),
        ("single", "HF tokenizers", "encode", "HF encode"),
        ("batch", "batok", "encode_batch", "batok encode_batch"),
        ("batch", "HF tokenizers", "encode_batch", "HF encode_batch"),
    ]:
        vals = []
        for f in fams:
            speeds = [
                _speed(data["families"][section][f"{f} {w}"], engine, key) for w in corpus.WORKLOADS
            ]
            known = [s for s in speeds if s]
            vals.append(statistics.median(known) if known else 0.0)
        series.append((label, vals))
    bars(ax, fams, series, "tokenizer.json families (median over prose, code, multilingual)")
    ax.set_ylabel("MB/s")
    ax.legend(fontsize=8)
    fig.tight_layout()
    written.append(out_dir / "families.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    kinds = corpus.WORST_CASES
    fig, axes = plt.subplots(1, len(kinds), figsize=(15, 4), sharey=True)
    for ax, kind in zip(axes, kinds, strict=True):
        rows = [r for r in data["worst_case"] if r["kind"] == kind and r["status"] == "ok"]
        for engine in dict.fromkeys(r["engine"] for r in rows):
            pts = sorted((r["n"], r["seconds"]) for r in rows if r["engine"] == engine)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=engine)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(kind)
        ax.set_xlabel("characters (one call)")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("seconds")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    written.append(out_dir / "worst_case.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    return written


# -- main --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny inputs: a harness check")
    p.add_argument("--rounds", type=int, help="timed passes per engine (default 5, quick 1)")
    p.add_argument("--bytes", type=int, help="UTF-8 bytes per workload (default 1 MB, quick 32 KB)")
    p.add_argument(
        "--one-pass-bytes",
        type=int,
        help=f"one-pass corpus bytes (default {corpus.ONE_PASS_BYTES:,}, quick 300 KB)",
    )
    p.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    p.add_argument("--plots", type=Path, default=HERE / "plots")
    p.add_argument("--json", type=Path, default=HERE / "results.json")
    args = p.parse_args(argv)
    try:
        return _run(args)
    except Mismatch as e:
        print(f"report.py: batok's output is wrong, so no report: {e}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    quick = args.quick or corpus.QUICK
    rounds = args.rounds or (1 if quick else 5)
    budget = args.bytes or (32_000 if quick else 1_000_000)
    # tokenizer.json families: HF's ~4 MB/s dominates; half the bytes keeps the run short.
    family_budget = budget if quick else budget // 2
    sizes = (1_000, 10_000) if quick else (10_000, 100_000, 1_000_000, 10_000_000)
    started = time.perf_counter()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")  # HF batch on every core, no warning
    data: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": quick,
        "rounds": rounds,
        "budget": budget,
        "machine": machine_info(),
    }
    print("one pass (headline)", file=sys.stderr)
    one_pass_bytes = args.one_pass_bytes or (300_000 if quick else corpus.ONE_PASS_BYTES)
    data["one_pass"] = one_pass.run(one_pass_bytes, quick)
    print("dataset jobs", file=sys.stderr)
    data["jobs"] = jobs.run(
        300_000 if quick else jobs.JOB_BYTES, ray=not quick, rounds=1 if quick else jobs.ROUNDS
    )
    print("encode / batch / decode", file=sys.stderr)
    data["encode"] = run_encode(rounds, budget)
    print("tokenizer.json families", file=sys.stderr)
    data["families"] = run_families(rounds, family_budget)
    print("other tokenizer.json families", file=sys.stderr)
    # The families outside the targets: single calls only, on half the bytes again.
    data["other_families"] = run_families(
        rounds, family_budget // 2, corpus.OTHER_FAMILIES, batch=False
    )
    print("worst case", file=sys.stderr)
    data["worst_case"] = run_worst_case(sizes, 0.02 if quick else 0.3)
    print("cold load", file=sys.stderr)
    data["cold_load"] = run_cold_load(1 if quick else 5)
    data["targets"] = targets(data)
    data["seconds"] = time.perf_counter() - started
    args.output.write_text(render(data), encoding="utf-8")
    args.json.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    written = plots(data, args.plots)
    print(f"wrote {args.output}, {args.json}, {len(written)} plots in {data['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
