"""`tokenizers` as the reference for mutated tokenizer.json files, run in a child process.

A mutated file can make `tokenizers` itself crash: an allocation of several GB that aborts, or
a panic during unwinding that aborts (both seen on files with odd added tokens). In the fuzzing
process such an abort would end the run and be reported as a batok crash. In a child process it
only ends the child: the call raises `ReferenceCrashed`, the fuzzer skips that input, and the
next call starts a fresh child.

The child is this file run as a script; requests and replies are pickled over its stdin and
stdout. `Reference.call` returns what `_common.outcome` returns: ("ok", value) or
("raised", error), where the error is a `ReferenceRaised` carrying the reference's exception
type name and message.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import subprocess
import sys
from typing import Any, BinaryIO

# A reference call that takes longer than this counts as a crash (a hang of the reference).
TIMEOUT_S = 20.0
# The child's address space: an allocation of several GB fails at once (and aborts the child)
# rather than filling the machine's memory.
MEMORY_LIMIT = 4 << 30


class ReferenceCrashed(Exception):
    """The reference process died or hung on this input."""


class ReferenceRaised(Exception):
    """An exception the reference raised, by type name and message."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name


class Reference:
    """A `tokenizers.Tokenizer` in a child process: `load` a file, then `encode`, `decode` or
    `probe_parts` with it."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                # The reference prints the panics it catches; they are not batok's to report.
                stderr=subprocess.DEVNULL,
                preexec_fn=_limit_memory,
            )
        return self._proc

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def call(self, op: str, *args: Any) -> tuple[str, Any]:
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            pickle.dump((op, args), proc.stdin)
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT_S)
            if not ready:
                raise ReferenceCrashed(f"{op} took over {TIMEOUT_S:.0f} s")
            status, value = pickle.load(proc.stdout)
        except (BrokenPipeError, EOFError, pickle.UnpicklingError) as err:
            self._kill()
            raise ReferenceCrashed(f"{op}: the reference process died") from err
        except ReferenceCrashed:
            self._kill()
            raise
        if status == "raised":
            return ("raised", ReferenceRaised(*value))
        return ("ok", value)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _serve(requests: BinaryIO, replies: BinaryIO) -> None:
    import tokenizers

    tokenizer: Any = None
    while True:
        try:
            op, args = pickle.load(requests)
        except EOFError:
            return
        try:
            if op == "load":
                tokenizer = tokenizers.Tokenizer.from_str(args[0])
                result: Any = None
            elif op == "encode":
                encoding = tokenizer.encode(args[0], add_special_tokens=args[1])
                result = (encoding.ids, encoding.tokens, encoding.offsets)
            elif op == "decode":
                result = tokenizer.decode(args[0], skip_special_tokens=args[1])
            elif op == "probe_parts":
                added = [t.content for t in tokenizer.get_added_tokens_decoder().values()]
                result = (added[:6], list(tokenizer.get_vocab(with_added_tokens=False))[:40:3])
            elif op == "normalized_added_clash":
                # Two `normalized` added tokens that the normalizer makes one text: which one
                # matches there follows the order of a hash map, which changes between loads.
                normalizer = tokenizer.normalizer
                seen: set[str] = set()
                result = False
                for token in tokenizer.get_added_tokens_decoder().values():
                    if token.normalized and normalizer is not None:
                        text = normalizer.normalize_str(token.content)
                        result = result or text in seen
                        seen.add(text)
            else:
                raise ValueError(f"unknown request {op!r}")
            reply = ("ok", result)
        except BaseException as err:  # noqa: BLE001 - PanicException is a BaseException
            if isinstance(err, (KeyboardInterrupt, SystemExit)):
                raise
            reply = ("raised", (type(err).__name__, str(err)))
        pickle.dump(reply, replies)
        replies.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
