"""Two builds of the native module, compared in one process on a one-pass job.

    python benches/ab_builds.py OLD.so NEW.so --family cl100k_base
    python benches/ab_builds.py OLD.so NEW.so --family llama-3.2 --threads 2 --rounds 5
    python benches/ab_builds.py OLD.so NEW.so --file adversarial_long_words.txt --chunk 10

On a shared machine the speed of a process drifts by 10-30 % from one run to the next, more
than most engine changes move it, so builds timed in processes of their own are hard to tell
apart. Here both builds are loaded side by side (an extension module loaded from two files is
two modules), each gets fresh engines every round, and they encode the one-pass corpus
(`corpus.one_pass_corpus`, or one shared corpus file's documents with `--file`) chunk by
chunk in turns, the order swapped every chunk: each build encodes every document once, and
drift hits both alike. It prints each round's MB/s and the
NEW/OLD ratio, then the median ratio. Ids are compared too: a difference fails the run.

Build the two files with `maturin develop --release` and copy `python/batok/_batok.abi3.so`
aside after each build. Linux and macOS; the package's Python layer is the installed one.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

import batok  # noqa: E402

CHUNK = 1000


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("batok._batok", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a loadable extension module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def engine(
    module: ModuleType, family: str, threads: int, lists: bool = False
) -> Callable[[list[str]], Any]:
    """One chunk of documents -> the ids as one little-endian buffer, on a fresh engine: a
    staged tokenizer.json family by its name (or folder), else a tiktoken encoding. With
    `lists`, one call per document returning a `list[int]` (the list output of `encode`)."""
    path = corpus.TOKENIZERS / corpus.FAMILIES.get(family, family) / "tokenizer.json"
    if path.is_file():
        # Whole texts: a file's truncation and padding (BERT's 128) are turned off.
        tok = module.Tokenizer.from_file(str(path)).with_limits()
        if lists:
            return lambda docs: [tok.encode_ids(d, False) for d in docs]
        return lambda docs: tok.encode_batch_ids_to_buffer(docs, False, threads)[0]
    enc = batok.get_encoding(family)
    core = module.CoreBPE(enc._rank_text, enc._special_tokens, enc._pat_str)
    if lists:
        return lambda docs: [core.encode_ordinary(d) for d in docs]
    if threads == 1:
        one = core.encode_ordinary_to_buffer
        return lambda docs: b"".join(one(d) for d in docs)
    return lambda docs: core.encode_ordinary_batch_to_buffer(docs, threads)[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--family", default="cl100k_base")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bytes", type=int, default=corpus.ONE_PASS_BYTES)
    parser.add_argument("--file", help="a shared corpus file's documents instead")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="documents per turn")
    parser.add_argument("--lists", action="store_true", help="list output, one call per document")
    args = parser.parse_args(argv)
    builds = [load(args.old), load(args.new)]
    if args.file:
        docs = corpus.file_documents(args.file)[0]
    else:
        docs = list(corpus.one_pass_corpus(args.bytes).docs)
    size = sum(len(d.encode("utf-8")) for d in docs)
    chunks = [docs[i : i + args.chunk] for i in range(0, len(docs), args.chunk)]
    ratios = []
    for r in range(args.rounds):
        runs = [engine(m, args.family, args.threads, args.lists) for m in builds]
        seconds = [0.0, 0.0]
        for k, chunk in enumerate(chunks):
            out = []
            for b in (0, 1) if k % 2 == 0 else (1, 0):
                start = time.perf_counter()
                out.append(runs[b](chunk))
                seconds[b] += time.perf_counter() - start
            if out[0] != out[1]:
                raise SystemExit(f"the builds' ids differ in chunk {k}")
        old, new = (size / s / 1e6 for s in seconds)
        ratios.append(new / old)
        print(f"round {r}: old {old:6.1f} MB/s  new {new:6.1f} MB/s  new/old {new / old:.3f}")
    median = statistics.median(ratios)
    print(f"{args.family}, {args.threads} thread(s): median new/old {median:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
