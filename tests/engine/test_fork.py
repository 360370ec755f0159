"""A process forked after batok has used its threads (as `multiprocessing` does by default on
Linux) gets working batches and loads of its own: the threads are not copied by a fork, and
work sent to them would wait forever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import os, sys
    import batok

    path = sys.argv[1]
    enc = batok.get_encoding("cl100k_base")
    docs = ["Hello world! " * 40] * 64
    expected = enc.encode_ordinary_batch(docs)
    tok = batok.Tokenizer.from_file(path)  # the load runs on threads too
    expected_tok = tok.encode_batch(docs)

    pid = os.fork()
    if pid == 0:
        ok = (
            enc.encode_ordinary_batch(docs) == expected
            and batok.Tokenizer.from_file(path).encode_batch(docs) == expected_tok
            and tok.encode_batch_to_numpy(docs)[0].size == sum(map(len, expected_tok))
        )
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_runs_batches_and_loads(tokenizers_dir: Path) -> None:
    path = tokenizers_dir / "gpt2" / "tokenizer.json"
    # A session of its own, so that a hung child is killed with its parent.
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(path)],
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the forked child hung on its first batch or load")
    assert proc.returncode == 0, err.decode(errors="replace")


# One thread keeps asking for pools of changing sizes (so the pool registry is locked often and
# for long, while pools are built) while the main thread forks; every child must still run a
# batch. A child forked while the registry's lock was held by the other thread used to wait on
# that lock forever.
FORK_WHILE_BUSY = textwrap.dedent(
    """
    import os, sys, threading, time
    import batok

    enc = batok.get_encoding("cl100k_base")
    docs = ["Hello world! " * 40] * 16
    expected = enc.encode_ordinary_batch(docs, num_threads=1)
    stop = False

    def hammer():
        n = 2
        while not stop:
            # (the numpy form takes its pool with the GIL released, so a fork can come meanwhile)
            enc.encode_ordinary_batch_to_numpy(docs, num_threads=n)
            n = n + 1 if n < 64 else 2

    worker = threading.Thread(target=hammer)
    worker.start()
    hung = 0
    try:
        for _ in range(int(sys.argv[1])):
            pid = os.fork()
            if pid == 0:
                ok = enc.encode_ordinary_batch(docs, num_threads=2) == expected
                os._exit(0 if ok else 3)
            deadline = time.monotonic() + 10
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    if os.waitstatus_to_exitcode(status) != 0:
                        sys.exit(f"a child failed: {status}")
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    hung += 1
                    break
                time.sleep(0.001)
    finally:
        stop = True
        worker.join()
    sys.exit(f"{hung} children hung" if hung else 0)
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_child_forked_while_another_thread_starts_a_batch_runs_batches() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", FORK_WHILE_BUSY, "100"],
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the test process hung")
    assert proc.returncode == 0, err.decode(errors="replace")
