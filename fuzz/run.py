"""Run the fuzz targets: a bounded run of each (CI), or a long one by hand.

    python fuzz/run.py                       # every target, 20 s each, stop at a finding
    python fuzz/run.py from_str --seconds 600
    python fuzz/run.py --seconds 3600 --keep-going   # log findings and carry on

Each target keeps its growing corpus in fuzz/.work/corpus/<target> (not in git) and reads the
seeds in fuzz/seeds/<target>. A finding stops the target, writes the input that caused it to
fuzz/.work/artifacts/crash-*, and makes this script exit nonzero; `python fuzz/fuzz_<target>.py
<crash file>` replays it. With --keep-going the findings go to fuzz/.work/findings-<target>.jsonl
instead and the run goes on to the end.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent
TARGETS = ("from_str", "encode", "hub_parsing")
# Inputs larger than this are not tried; the cut-down real tokenizer.json seeds need room.
MAX_LEN = {"from_str": 1_000_000, "encode": 4096, "hub_parsing": 4096}


def run_target(target: str, seconds: int, work: Path, keep_going: bool, seed: int | None) -> int:
    corpus = work / "corpus" / target
    artifacts = work / "artifacts"
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(FUZZ_DIR / f"fuzz_{target}.py"),
        f"-max_total_time={seconds}",
        "-timeout=60",
        "-rss_limit_mb=6144",
        f"-max_len={MAX_LEN[target]}",
        f"-artifact_prefix={artifacts}/{target}-",
        "-print_final_stats=1",
        str(corpus),
        str(FUZZ_DIR / "seeds" / target),
    ]
    if seed is not None:
        command.insert(2, f"-seed={seed}")
    env = dict(os.environ)
    if keep_going:
        env["BATOK_FUZZ_LOG"] = str(work / f"findings-{target}.jsonl")
    print(f"== fuzz {target}: {seconds} s", flush=True)
    started = time.monotonic()
    # The targets' scratch files (seed copies) go to a directory removed afterwards: libFuzzer
    # ends the process without running Python's exit handlers, so they cannot clean up.
    with tempfile.TemporaryDirectory(prefix=f"batok-fuzz-{target}-") as scratch:
        env["TMPDIR"] = scratch
        proc = subprocess.run(command, env=env, cwd=FUZZ_DIR, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    lines = [line for line in output.splitlines() if not line.startswith("INFO: Instrumenting")]
    done = [line for line in lines if re.match(r"#\d+\s+DONE", line)]
    stats = [line for line in lines if line.startswith("stat::")]
    if proc.returncode != 0:
        print("\n".join(lines[-60:]))
        print(f"== fuzz {target}: FAILED (exit {proc.returncode})", flush=True)
    else:
        print("\n".join(done + stats))
        print(f"== fuzz {target}: ok in {time.monotonic() - started:.0f} s", flush=True)
    return proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # No `choices`: argparse checks an empty positional list against them and refuses it.
    parser.add_argument("targets", nargs="*", help=f"any of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--seconds", type=int, default=20, help="per target")
    parser.add_argument("--work", type=Path, default=FUZZ_DIR / ".work")
    parser.add_argument("--keep-going", action="store_true", help="log findings, do not stop")
    parser.add_argument("--seed", type=int, default=None, help="libFuzzer's random seed")
    args = parser.parse_args()
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    failed = [
        t
        for t in args.targets or TARGETS
        if run_target(t, args.seconds, args.work, args.keep_going, args.seed) != 0
    ]
    if failed:
        print(f"fuzzing found problems in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
