"""A panic inside the engine (a bug, or a limit such as the regex engine's backtracking cap) is a
Python RuntimeError that carries the panic's message, with nothing printed to stderr: the caller
sees the failure once, as an exception it can handle.

A Split pre-tokenizer whose regex needs backtracking (a lookahead) and explodes on the input makes
the regex engine give up, which batok reports by panicking (see `normalizer/replace.rs`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

# `(a+)+(?=b)` backtracks exponentially on a run of "a" without a "b" after it.
EXPLODING_SPLIT = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [],
    "normalizer": None,
    "pre_tokenizer": {
        "type": "Split",
        "pattern": {"Regex": "(a+)+(?=b)"},
        "behavior": "Isolated",
        "invert": False,
    },
    "post_processor": None,
    "decoder": None,
    "model": {
        "type": "BPE",
        "dropout": None,
        "unk_token": None,
        "continuing_subword_prefix": None,
        "end_of_word_suffix": None,
        "fuse_unk": False,
        "byte_fallback": False,
        "vocab": {"a": 0, "b": 1, "c": 2},
        "merges": [],
    },
}

SCRIPT = """
import sys
import batok

tok = batok.Tokenizer.from_str(sys.argv[1])
bad = "a" * 40 + "c"
calls = {
    "encode": lambda: tok.encode(bad),
    "encode_plus": lambda: tok.encode_plus(bad),
    "count_tokens": lambda: tok.count_tokens(bad),
    "encode_batch": lambda: tok.encode_batch(["ok", bad] * 20, num_threads=2),
    "encode_batch_plus": lambda: tok.encode_batch_plus(["ok", bad] * 20, num_threads=2),
    "encode_batch_to_numpy": lambda: tok.encode_batch_to_numpy(["ok", bad] * 20, num_threads=2),
    "encode_batch one thread": lambda: tok.encode_batch([bad], num_threads=1),
}
for name, call in calls.items():
    try:
        call()
    except RuntimeError as e:
        print(name, "|", e)
    else:
        print(name, "| no error")
"""


def test_a_panic_is_a_runtime_error_with_its_message_and_no_stderr_output() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), json.dumps(EXPLODING_SPLIT)],
        capture_output=True,
        timeout=120,
        # A backtrace would make any output of the default panic hook longer, never hide it.
        env={**os.environ, "RUST_BACKTRACE": "1"},
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stderr.decode(errors="replace") == ""
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 7, lines
    for line in lines:
        name, message = line.split(" | ", 1)
        assert "the split regex gave up on this input" in message, name
        assert "internal error in batok" in message, name
        # Where the panic was raised, for the bug report.
        assert "replace.rs:" in message, name
