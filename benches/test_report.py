"""report.py end to end in quick mode, into a temporary directory: the harness check that CI
runs, so a broken report is found before someone needs the real one."""

from __future__ import annotations

import json
from pathlib import Path

import report


def test_report_quick_writes_markdown_json_and_targets(tmp_path: Path) -> None:
    md, js, plots = tmp_path / "BENCHMARKS.md", tmp_path / "results.json", tmp_path / "plots"
    argv = ["--quick", "--output", str(md), "--json", str(js), "--plots", str(plots)]
    assert report.main(argv) == 0
    text = md.read_text(encoding="utf-8")
    for heading in (
        "## Machine",
        "## Targets",
        "## Warm: other tokenizer.json families",
        "## Worst case",
        "## Cold load",
        "## One pass over unseen text (headline)",
        "## Dataset jobs: JSON Lines to token files, end to end",
        "### Adversarial files, one by one",
        "## Warm: repeated passes over the same documents",
        "## What was tried",
    ):
        assert heading in text
    data = json.loads(js.read_text(encoding="utf-8"))
    names = [t["target"] for t in data["targets"]]
    assert len(names) == 24
    assert "job: npy output vs gigatoken encode_files (end to end)" in names
    job_rows = {r["engine"]: r for r in data["jobs"]["rows"]}
    assert job_rows["batok npy"]["exact"] and job_rows["batok parquet"]["exact"]
    assert names[0] == "one pass: numpy output vs gigatoken (numpy)"
    assert "warm: batch on all cores vs the same call on one thread (numpy)" in names
    scaling = next(t for t in data["targets"] if t["target"].endswith("one thread (lists)"))
    assert scaling["cases"] and all(v is not None for v in scaling["cases"].values())
    assert all(isinstance(t["met"], bool) for t in data["targets"])
    assert {r["engine"] for r in data["worst_case"]} >= {"batok"}
    one_pass = data["one_pass"]
    assert one_pass["corpus"]["bytes"] >= 300_000
    for section in ("single", "batch"):
        for family, rows in one_pass[section].items():
            batok = [r for r in rows if r["engine"] == "batok"]
            assert batok and all(r["status"] == "ok" and r["mb_s"] > 0 for r in batok), family
    single = one_pass["single"]["cl100k_base"]
    assert (single[0]["engine"], single[0]["method"]) == ("tiktoken", "encode_ordinary")
    assert one_pass["per_file"]


def test_gigatoken_targets_hold_only_where_gigatoken_loads_the_file() -> None:
    import one_pass

    def rows(gigatoken: str) -> list[dict[str, object]]:
        return [
            {
                "engine": "batok",
                "method": "encode_batch_to_numpy(num_threads=1)",
                "status": "ok",
                "mb_s": 60.0,
            },
            {"engine": "batok", "method": "encode", "status": "ok", "mb_s": 50.0},
            {"engine": "gigatoken", "method": "encode", "status": gigatoken, "mb_s": 40.0},
            {"engine": "HF tokenizers", "method": "encode", "status": "ok", "mb_s": 4.0},
        ]

    single = {"gpt2": rows("ok"), "t5-small": rows("unavailable"), "all-minilm-l6-v2": rows("ok")}
    data = {"single": single, "batch": {f: [] for f in single}, "per_file": {}}
    by_name = {t[0]: t[2] for t in one_pass.targets(data)}
    assert set(by_name["one pass: numpy output vs gigatoken (numpy)"]) == {
        "gpt2",
        "all-minilm-l6-v2",
    }
    assert set(by_name["one pass: tokenizer.json encode vs HF encode"]) == set(single)
    assert by_name["one pass: tokenizer.json encode vs HF encode"]["t5-small"] == 12.5


def test_ray_rows_are_split_into_cluster_start_and_pipeline() -> None:
    import jobs

    def row(engine: str, seconds: float, phases: dict[str, float] | None) -> dict[str, object]:
        r: dict[str, object] = {"engine": engine, "seconds": seconds, "mb_s": 1.0, "exact": True}
        if phases is not None:
            r["phases"] = phases
        return r

    data = {
        "input_bytes": 40_000_000,
        "documents": 10,
        "files": 2,
        "tokenizer": "llama-3.2",
        "cores": 2,
        "rows": [
            row("batok npy", 1.0, None),
            row("Ray Data, 1 worker", 12.0, {"cluster_start_s": 8.0, "pipeline_s": 4.0}),
            row("Ray Data, 2 workers", 11.0, {"cluster_start_s": 8.0, "pipeline_s": 2.5}),
        ],
    }
    text = jobs.render(data)
    assert "Ray Data, 1 worker: 8.0 s starting the cluster, 4.0 s of pipeline (10.0 MB/s)" in text
    assert "the pipeline 1.60x as fast" in text
    data["rows"] = data["rows"][:1]
    assert "Ray Data, split" not in jobs.render(data)
