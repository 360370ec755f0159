"""The report's headline: one pass over unseen text, each engine in a fresh process.

Runs `batok._onepass` (the protocol `batok bench` uses too) over the one-pass corpus for every
tiktoken encoding and tokenizer.json family of the targets, and over each adversarial corpus file
on its own; renders the tables and the one-pass targets. See `batok._onepass` for the protocol.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import corpus
import peers

from batok._onepass import Source, run_cases

#: The families of the one-pass tables, in the issue's order: tiktoken encodings, then files,
#: then the WordPiece and Unigram files.
FAMILIES = (*corpus.ENCODINGS, *corpus.FAMILIES, *corpus.MODEL_FAMILIES)
#: The families timed on each adversarial file.
PER_FILE_FAMILIES = (*corpus.ENCODINGS, *corpus.FAMILIES)


def source(family: str) -> Source:
    if family in corpus.ENCODINGS:
        return Source(encoding=family, rank_file=str(peers.rank_file(family)))
    return Source(tokenizer=str(peers.family_file(family)))


# Which runner fills each column: (column, engine, key for encodings, key for tokenizer.json).
SINGLE_COLUMNS = (
    ("batok numpy", "batok", "encode_to_numpy", "encode_batch_to_numpy(num_threads=1)"),
    ("batok list", "batok", "encode_ordinary", "encode"),
    ("gigatoken numpy", "gigatoken", "encode", "encode"),
    ("quicktok-v1 list", "quicktok-v1", "encode_ordinary", "encode_ordinary"),
    ("tiktoken", "tiktoken", "encode_ordinary", ""),
    ("bpe-openai", "bpe-openai", "encode", ""),
    ("rs-bpe", "rs-bpe", "encode", ""),
    ("HF `encode`", "HF tokenizers", "encode", "encode"),
)
BATCH_COLUMNS = (
    ("batok numpy", "batok", "encode_ordinary_batch_to_numpy", "encode_batch_to_numpy"),
    ("batok list", "batok", "encode_ordinary_batch", "encode_batch"),
    ("gigatoken `encode_batch`", "gigatoken", "encode_batch", "encode_batch"),
    ("gigatoken `encode_files`", "gigatoken", "encode_files", "encode_files"),
    ("quicktok-v1 numpy", "quicktok-v1", "encode_batch", ""),
    ("HF `encode_batch_fast`", "HF tokenizers", "", "encode_batch_fast"),
)
#: Engines timed on each adversarial file (the reference runs too, to check them).
PER_FILE_ENGINES = ("batok", "gigatoken", "quicktok-v1")


def _tick(label: str) -> None:
    print(f"  {label}", file=sys.stderr, flush=True)


def run(budget: int, quick: bool, progress: Callable[[str], None] = _tick) -> dict[str, Any]:
    """Every one-pass case; raises batok's `Mismatch` if batok's ids differ anywhere."""
    c = corpus.one_pass_corpus(budget)
    # Quick mode checks the harness: one tiktoken encoding, one tokenizer.json file.
    families = ("cl100k_base", "gpt2") if quick else FAMILIES
    out: dict[str, Any] = {
        "corpus": {
            "documents": len(c.docs),
            "bytes": c.nbytes,
            "sha256": c.sha256,
            "sources": c.sources,
            "seed": corpus.ONE_PASS_SEED,
        },
        "single": {},
        "batch": {},
        "per_file": {},
    }
    with tempfile.TemporaryDirectory(prefix="batok-one-pass-") as tmp:
        for i, family in enumerate(families):
            results = run_cases(
                source(family),
                c.docs,
                Path(tmp) / f"{i}",
                case=f"one pass, {family}",
                labels=c.labels,
                progress=progress,
            )
            out["single"][family] = [asdict(r) for r in results["single"]]
            out["batch"][family] = [asdict(r) for r in results["batch"]]
        files = corpus.PER_FILE[:1] if quick else corpus.PER_FILE
        for name in files:
            docs, labels = corpus.file_documents(name)
            if quick:
                docs, labels = docs[:100], labels[:100]
            for i, family in enumerate(families[:1] if quick else PER_FILE_FAMILIES):
                results = run_cases(
                    source(family),
                    docs,
                    Path(tmp) / f"{name}-{i}",
                    case=f"one pass, {family}, {name}",
                    labels=labels,
                    sections=("single",),
                    engines=PER_FILE_ENGINES,
                    progress=progress,
                )
                out["per_file"][f"{family} {name}"] = [asdict(r) for r in results["single"]]
    return out


# -- numbers -----------------------------------------------------------------------------------


def _row(results: Sequence[dict[str, Any]], engine: str, key: str) -> dict[str, Any] | None:
    for r in results:
        if r["engine"] == engine and r["method"].split(" ")[0] == key:
            return r
    return None


def speed(results: Sequence[dict[str, Any]], engine: str, key: str) -> float | None:
    """MB/s of the whole pass, for an exact row only (an inexact peer sets no target)."""
    r = _row(results, engine, key) if key else None
    return float(r["mb_s"]) if r and r["status"] == "ok" and r["mb_s"] else None


def _key(family: str, column: tuple[str, str, str, str]) -> str:
    return column[2] if family in corpus.ENCODINGS else column[3]


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def targets(data: dict[str, Any]) -> list[tuple[str, str, dict[str, float | None], float, bool]]:
    """(name, goal, cases, bound, at least?): the issue's one-pass targets, as report.py's
    `_target` rows take them."""
    single, batch, per_file = data["single"], data["batch"], data["per_file"]
    fams = list(single)
    # gigatoken's targets hold where it loads the file: it has no WordPiece or Unigram model.
    vs_gigatoken = [
        f
        for f in fams
        if f not in corpus.MODEL_FAMILIES
        or any(r["engine"] == "gigatoken" and r["status"] != "unavailable" for r in single[f])
    ]
    numpy, listed = SINGLE_COLUMNS[0], SINGLE_COLUMNS[1]

    def s(family: str, col: tuple[str, str, str, str], section: dict[str, Any]) -> float | None:
        return speed(section[family], col[1], _key(family, col))

    rows: list[tuple[str, str, dict[str, float | None], float, bool]] = []
    rows.append(
        (
            "one pass: numpy output vs gigatoken (numpy)",
            ">= 1.2x",
            {f: _ratio(s(f, numpy, single), s(f, SINGLE_COLUMNS[2], single)) for f in vs_gigatoken},
            1.2,
            True,
        )
    )
    rows.append(
        (
            "one pass: list output vs quicktok-v1 (list)",
            ">= 1.5x",
            {
                f: _ratio(s(f, listed, single), s(f, SINGLE_COLUMNS[3], single))
                for f in fams
                if f in corpus.ENCODINGS
            },
            1.5,
            True,
        )
    )
    rows.append(
        (
            "one pass: tokenizer.json encode vs HF encode",
            ">= 15x",
            {
                f: _ratio(s(f, listed, single), s(f, SINGLE_COLUMNS[7], single))
                for f in fams
                if f not in corpus.ENCODINGS
            },
            15,
            True,
        )
    )
    rows.append(
        (
            "one pass, batch: numpy vs gigatoken encode_batch",
            ">= 1.2x",
            {
                f: _ratio(s(f, BATCH_COLUMNS[0], batch), s(f, BATCH_COLUMNS[2], batch))
                for f in vs_gigatoken
            },
            1.2,
            True,
        )
    )
    rows.append(
        (
            "one pass, batch: numpy on all cores vs numpy on one thread",
            ">= 1.9x",
            {f: _ratio(s(f, BATCH_COLUMNS[0], batch), s(f, numpy, single)) for f in fams},
            1.9,
            True,
        )
    )
    rows.append(
        (
            "one pass: every adversarial file, numpy output (MB/s)",
            ">= 50",
            {k: speed(v, "batok", _key(k.split(" ")[0], numpy)) for k, v in per_file.items()},
            50,
            True,
        )
    )
    return rows


# -- markdown ----------------------------------------------------------------------------------


def _fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return ""
    if r["status"] in ("ok", "inexact") and r["mb_s"]:
        cell = f"{_fmt(r['mb_s'])} / {_fmt(r['second_half_mb_s'])}"
        if r["status"] == "inexact":
            cell += f" (inexact: {r['differs']}/{r['inputs']} docs)"
        return cell
    return r["status"]


def _table(
    section: dict[str, list[dict[str, Any]]],
    columns: Sequence[tuple[str, str, str, str]],
    first: str,
    ratios: Sequence[tuple[str, int, int]],
) -> list[str]:
    """Rows: cases; columns: engines; cells: "whole / second half" MB/s; then ratios of the
    whole passes (column a over column b)."""
    used = [c for c in columns if any(_key(k.split(" ")[0], c) for k in section)]
    head = [first, *[c[0] for c in used], *[r[0] for r in ratios]]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for case, results in section.items():
        family = case.split(" ")[0]
        cells = [
            _cell(_row(results, c[1], _key(family, c))) if _key(family, c) else "—" for c in used
        ]
        for _, a, b in ratios:
            top = speed(results, columns[a][1], _key(family, columns[a]))
            bottom = speed(results, columns[b][1], _key(family, columns[b]))
            r = _ratio(top, bottom)
            cells.append(f"{r:.2f}x" if r else "n/a")
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    notes = {
        f"{r['engine']} `{r['method']}`: {r['status']}, {r['note']}"
        for results in section.values()
        for r in results
        if r["status"] in ("unavailable", "error")
    }
    if notes:
        lines.append("")
        lines += [f"- {n}" for n in sorted(notes)]
    return lines


def render(data: dict[str, Any], cores: int) -> list[str]:
    c = data["corpus"]
    kinds = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in c["sources"].items())
    out = [
        "## One pass over unseen text (headline)\n",
        f"Each engine in a fresh process encodes each of {c['documents']:,} unique documents "
        f"of 1-4 KB ({c['bytes'] / 1e6:.1f} MB: {kinds}; shuffled with seed {c['seed']}, "
        f"sha256 `{c['sha256'][:16]}`) once, in chunks of 1000 documents; only the calls are "
        "timed, after an untimed load and one short first call (imports, thread pools). "
        "`corpus` is `shared/corpus`; `stdlib` the Python sources of the interpreter that ran "
        "the report; `licence` the licence texts installed beside it. Cells: MB/s over the "
        "whole pass / over its second half (by bytes: the gain as caches warm). The reference "
        "(tiktoken for cl100k/o200k, HF `tokenizers` for tokenizer.json files) ran first; "
        "every other row's ids were compared with it after its pass. batok must match (the "
        "run stops otherwise); a peer that does not is marked inexact and sets no target. "
        "For tokenizer.json files batok's numpy row is `encode_batch_to_numpy(num_threads=1)` "
        "over each chunk (there is no single-text numpy call); its list row is `encode`. "
        "gigatoken, which leaves out the ids a tokenizer.json adds around a text (Llama's "
        "BOS), is checked with them added. The WordPiece and Unigram files "
        f"({', '.join(corpus.MODEL_FAMILIES)}) run with their truncation and padding off, for "
        "every engine. Ratios are over the whole pass.\n",
        "### Single thread\n",
    ]
    out += _table(
        data["single"],
        SINGLE_COLUMNS,
        "family",
        [("numpy / gigatoken", 0, 2), ("list / quicktok-v1", 1, 3), ("list / HF", 1, 7)],
    )
    out += [
        "",
        f"### Batch, {cores} cores\n",
        "One batch call per chunk of 1000 documents; gigatoken's `encode_files` reads the "
        "documents itself from two JSON Lines files (one per half), one call each.\n",
    ]
    out += _table(data["batch"], BATCH_COLUMNS, "family", [("numpy / gigatoken", 0, 2)])
    out.append("")
    scaling = []
    for f in data["batch"]:
        top = speed(data["batch"][f], "batok", _key(f, BATCH_COLUMNS[0]))
        bottom = speed(data["single"][f], "batok", _key(f, SINGLE_COLUMNS[0]))
        r = _ratio(top, bottom)
        scaling.append(f"{f} {r:.2f}x" if r else f"{f} n/a")
    out += [f"batok numpy, {cores} cores over one thread: " + "; ".join(scaling) + ".", ""]
    out += [
        "### Adversarial files, one by one\n",
        "Each file of the shared corpus that stresses a tokenizer (and emoji-heavy prose), cut "
        "into 1-4 KB documents in file order, one pass per engine in a fresh process.\n",
    ]
    out += _table(
        data["per_file"], SINGLE_COLUMNS[:4], "family, file", [("numpy / gigatoken", 0, 2)]
    )
    out.append("")
    return out
