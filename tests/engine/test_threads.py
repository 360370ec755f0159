"""Batch thread counts: a count above 4 threads per CPU the process may use is taken as that many,
and whatever counts a program asks for, the threads it holds stay bounded (pools are kept for a
few counts, and dropped ones end their threads).

Each case runs in a subprocess of its own, so that its threads are counted alone and an abort
(as a count of 2**32 once caused, trying to allocate a stack per thread) fails the test rather
than the test run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

linux_only = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="threads are counted in /proc/self/task"
)


def run_script(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout.decode()


def test_a_huge_thread_count_is_taken_as_the_cap(tokenizers_dir: Path) -> None:
    out = run_script(
        """
        import sys
        import batok

        tok = batok.Tokenizer.from_file(sys.argv[1])
        enc = batok.get_encoding("cl100k_base")
        docs = ["Hello world! " * 40, "Batch threads", "x"] * 30
        ids = tok.encode_batch(docs, num_threads=1)
        ordinary = enc.encode_ordinary_batch(docs, num_threads=1)
        for n in (2**32, 2**70, 5000, 1000, 65):
            assert tok.encode_batch(docs, num_threads=n) == ids, n
            assert tok.decode_batch(ids, num_threads=n) == tok.decode_batch(ids, num_threads=1)
            assert enc.encode_ordinary_batch(docs, num_threads=n) == ordinary, n
            assert enc.encode_ordinary_batch_to_numpy(docs, num_threads=n)[0].tolist() == [
                i for x in ordinary for i in x
            ]
        print("ok")
        """,
        str(tokenizers_dir / "gpt2" / "tokenizer.json"),
    )
    assert out.strip() == "ok"


def test_a_huge_thread_count_from_the_environment_is_taken_as_the_cap() -> None:
    out = run_script(
        """
        import batok

        enc = batok.get_encoding("cl100k_base")
        docs = ["Hello world! " * 40] * 50
        assert enc.encode_ordinary_batch(docs) == enc.encode_ordinary_batch(docs, num_threads=1)
        print("ok")
        """,
        env={"BATOK_NUM_THREADS": str(2**32)},
    )
    assert out.strip() == "ok"


@linux_only
def test_threads_stay_bounded_after_many_different_counts(tokenizers_dir: Path) -> None:
    # At most 4 pools are kept, each of at most 4 threads per CPU; the rest is the interpreter's
    # own threads. A pool per count (as before) left 2017 threads after counts 1..64 on 2 CPUs.
    cpus = len(os.sched_getaffinity(0))
    bound = 4 * 4 * cpus + 8
    out = run_script(
        """
        import os, sys, time
        import batok

        tok = batok.Tokenizer.from_file(sys.argv[1])
        enc = batok.get_encoding("cl100k_base")
        docs = ["Hello world! " * 40] * 64
        counts = [*range(1, 65), 1000, 0, 3, 7, 2]
        for n in counts:
            enc.encode_ordinary_batch(docs, num_threads=n)
            ids = tok.encode_batch(docs, num_threads=n)
            tok.decode_batch(ids, num_threads=n)
            enc.encode_ordinary_batch_to_numpy(docs, num_threads=n)
        # Dropped pools end their threads once they see the pool gone; give them a moment.
        bound = int(sys.argv[2])
        deadline = time.monotonic() + 10
        while len(os.listdir("/proc/self/task")) > bound and time.monotonic() < deadline:
            time.sleep(0.05)
        print(len(os.listdir("/proc/self/task")))
        """,
        str(tokenizers_dir / "gpt2" / "tokenizer.json"),
        str(bound),
    )
    assert int(out) <= bound


@linux_only
def test_a_repeated_count_reuses_its_pool() -> None:
    out = run_script(
        """
        import os
        import batok

        enc = batok.get_encoding("cl100k_base")
        docs = ["Hello world! " * 40] * 64
        enc.encode_ordinary_batch(docs, num_threads=3)
        before = len(os.listdir("/proc/self/task"))
        for _ in range(50):
            enc.encode_ordinary_batch(docs, num_threads=3)
        print(before, len(os.listdir("/proc/self/task")))
        """
    )
    before, after = map(int, out.split())
    assert after == before
