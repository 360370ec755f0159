"""`batok bench`: time batok against the tokenizers installed beside it, on your own files.

```
batok bench notes.txt src/*.py                       # o200k_base (bundled)
batok bench --encoding cl100k_base --json out.json corpus/*.txt
batok bench --tokenizer path/to/dir-or-tokenizer.json data.txt
```

By default each engine encodes each document once, in a fresh process (`batok._onepass`): the
first pass of a job over text it has not seen, MB/s over the whole pass and over its second half.
`--warm` times repeated passes over the same documents in this process instead (every cache warm).
Outputs are checked against the reference engine, tiktoken for encodings and HF `tokenizers` for
tokenizer.json files: if batok's differ, the bench fails (exit 1) naming the first document; a
peer's that differ are marked "inexact". Peers that are not installed are listed with the
reason. Files are split into 1-4 KB documents at line ends (one call per document, as in an LLM
data pipeline) unless `--whole-files` is given.

The timing code and the peer adapters live here, not under `benches/`, because `batok bench` is
shipped; `benches/` reuses them with the shared corpus and the project's own targets.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import gzip
import importlib.metadata
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Result",
    "Runner",
    "Unavailable",
    "add_commands",
    "encoding_batch_runners",
    "encoding_decode_runners",
    "encoding_runners",
    "handler",
    "hf_from_tiktoken",
    "machine_info",
    "measure",
    "split_documents",
    "tokenizer_json_runners",
]

# How a runner's output is compared with batok's reference for the same input.
IDS = "ids"  # a sequence of ints per input (list, numpy array, ...)
COUNT = "count"  # the number of ids per input
TEXT = "text"  # a str per input (decode); the reference is the original text
BYTES = "bytes"  # bytes per input (decode_bytes)


@dataclass
class Runner:
    """One way of processing a whole workload: `run(inputs)` returns one output per input.

    `unpack` turns `run`'s return value into that per-input list when the peer answers in another
    shape (quicktok's batch gives one flat array plus offsets); it is applied only when checking,
    never inside the timed pass.
    """

    engine: str
    method: str
    run: Callable[[Sequence[Any]], Any]
    output: str = IDS
    version: str = ""
    note: str = ""
    unpack: Callable[[Any], Sequence[Any]] | None = None
    #: What `run` is given: the documents ("docs"), or JSON Lines files holding them ("jsonl",
    #: for peers that read files themselves; only the one-pass protocol feeds those).
    feed: str = "docs"

    @property
    def key(self) -> str:
        """The method's name without its thread count: how the benches find a runner."""
        return self.method.split(" ")[0]


@dataclass
class Unavailable:
    """A peer that could not be set up here, and why."""

    engine: str
    reason: str
    method: str = ""

    @property
    def key(self) -> str:
        return self.method.split(" ")[0]


@dataclass
class Result:
    engine: str
    method: str
    version: str
    status: str  # ok | inexact | error | unavailable
    mb_s: float | None = None
    median_s: float | None = None
    passes: list[float] = field(default_factory=list)
    differs: int = 0
    inputs: int = 0
    note: str = ""


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


# -- workloads ---------------------------------------------------------------------------------


def split_documents(text: str, min_bytes: int = 1024, max_bytes: int = 4096) -> list[str]:
    """Cut `text` into documents of `min_bytes`..`max_bytes` UTF-8 bytes, at line ends where a
    line end falls in that window, else at a character boundary (minified code, CJK without
    newlines). The last document may be shorter. Deterministic, so runs compare."""
    docs: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        n = len(line.encode("utf-8"))
        if size + n > max_bytes and size >= min_bytes:
            docs.append("".join(current))
            current, size = [], 0
        while size + n > max_bytes:
            # The line does not fit: fill this document with whole characters, then go on.
            room = max_bytes - size
            head = line.encode("utf-8")[:room].decode("utf-8", errors="ignore")
            current.append(head)
            docs.append("".join(current))
            current, size = [], 0
            line = line[len(head) :]
            n = len(line.encode("utf-8"))
        current.append(line)
        size += n
        if size >= min_bytes and line.endswith("\n"):
            docs.append("".join(current))
            current, size = [], 0
    if current:
        docs.append("".join(current))
    return [d for d in docs if d]


# -- timing ------------------------------------------------------------------------------------


def _same(kind: str, got: Any, expected: Any) -> bool:
    if kind == COUNT:
        return int(got) == len(expected)
    if kind == TEXT:
        return bool(got == expected)
    if kind == BYTES:
        return bool(bytes(got) == expected.encode("utf-8"))
    values = got.tolist() if hasattr(got, "tolist") else list(got)
    return bool(values == list(expected))


#: Passes shorter than this are timed `SHORT_PASS_REPEATS` times per round (see `measure`).
SHORT_PASS_S = 0.05
SHORT_PASS_REPEATS = 3


class Mismatch(Exception):
    """batok's output differs from the reference engine's (tiktoken for tiktoken encodings, HF
    `tokenizers` for tokenizer.json files). A bench run stops on it: a wrong answer fast is no
    result, and it is never shown as a skipped or inexact row."""


def mismatch_message(
    case: str, method: str, reference: str, differs: int, total: int, first: str
) -> str:
    return (
        f"{case}: batok {method} differs from {reference} on {differs} of {total} documents; "
        f"first: {first}"
    )


def _differs(runner: Runner, got: Sequence[Any], expected: Sequence[Any]) -> tuple[int, int]:
    """(how many inputs differ, the index of the first, or -1)."""
    if len(got) != len(expected):
        return len(expected), 0
    first, n = -1, 0
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        if not _same(runner.output, g, e):
            n += 1
            first = i if first < 0 else first
    return n, first


def measure(
    runners: Sequence[Runner | Unavailable],
    inputs: Sequence[Any],
    expected: Sequence[Any],
    nbytes: int,
    rounds: int,
    progress: Callable[[], None] | None = None,
    *,
    case: str = "",
    reference: str = "the reference",
    labels: Sequence[str] | None = None,
) -> list[Result]:
    """Check, then time, each runner over `inputs` (the warm protocol); MB/s is `nbytes` (the
    UTF-8 text) per pass. `expected` is the reference engine's output (`reference` names it).

    batok's runners must match it: one that does not raises `Mismatch`, naming `case` and the
    first differing input (`labels[i]`, else its index). A peer that does not is timed all the
    same and marked "inexact", with the count.

    The first pass of every runner is its check; then `rounds` timed passes run interleaved,
    runner after runner, so drift in machine speed (noise reached 28 % between runs on the
    reference machine) hits all of them alike. The median pass counts.

    Each timed pass follows an untimed pass of the same runner, so every engine is timed warm,
    as a job that keeps encoding the same documents would be. Without it, each pass would start
    with the CPU caches filled by another engine: a short pass (a fast engine) loses far more of
    its time to that than a long one, which would skew the ratios toward the slower engine.
    (The one-pass protocol in `batok._onepass` is the other end: unseen text, a fresh process.)

    A pass shorter than `SHORT_PASS_S` is timed `SHORT_PASS_REPEATS` times in its round: a
    hiccup of the machine doubles a 2 ms pass, and five such samples gave medians that moved
    by 2x between runs, where a 100 ms pass barely moves.
    """
    results: list[Result] = []
    timed: list[tuple[Runner, Result]] = []
    for runner in runners:
        if isinstance(runner, Unavailable):
            results.append(
                Result(runner.engine, runner.method, "", "unavailable", note=runner.reason)
            )
            continue
        if runner.feed != "docs":
            continue  # reads files: one-pass only
        result = Result(runner.engine, runner.method, runner.version, "ok", note=runner.note)
        result.inputs = len(inputs)
        results.append(result)
        try:
            out = runner.run(inputs)
            got = runner.unpack(out) if runner.unpack else out
            del out
        except Exception as e:  # noqa: BLE001 - a failing peer is reported, not fatal
            if runner.engine == "batok":
                raise
            result.status = "error"
            result.note = f"{type(e).__name__}: {e}"[:200]
        else:
            result.differs, first = _differs(runner, got, expected)
            del got
            if result.differs and runner.engine == "batok":
                label = labels[first] if labels else f"document #{first}"
                raise Mismatch(
                    mismatch_message(
                        case, runner.method, reference, result.differs, len(expected), label
                    )
                )
            if result.differs:
                result.status = "inexact"
                result.note = f"{result.differs} of {len(expected)} inputs differ from {reference}"
            timed.append((runner, result))
        if progress:
            progress()
    for _ in range(rounds):
        for runner, result in timed:
            gc.collect()  # the previous pass's garbage is not this pass's cost
            runner.run(inputs)  # warm again after the other runners' passes
            for _ in range(SHORT_PASS_REPEATS):
                t0 = time.perf_counter()
                runner.run(inputs)
                result.passes.append(time.perf_counter() - t0)
                if result.passes[-1] >= SHORT_PASS_S:
                    break
            if progress:
                progress()
    for _, result in timed:
        if result.passes:
            result.median_s = statistics.median(result.passes)
            result.mb_s = nbytes / result.median_s / 1e6
    return results


# -- peers: tiktoken-style encodings -----------------------------------------------------------


def _parse_ranks(data: bytes) -> dict[bytes, int]:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _rank_bytes(name: str, rank_file: Path | None) -> bytes:
    if rank_file is not None:
        return rank_file.read_bytes()
    from importlib import resources

    # batok bundles the rank files, so peers can be built offline from the very same ranks.
    return (resources.files("batok") / "data" / f"{name}.tiktoken.gz").read_bytes()


def tiktoken_spec(name: str, rank_file: Path | None = None) -> dict[str, Any]:
    """tiktoken's constructor arguments for `name` (pattern, special tokens, ranks), with the
    ranks read from `rank_file` (or batok's bundled copy) instead of downloaded."""
    import tiktoken_ext.openai_public as openai_public

    ranks = _parse_ranks(_rank_bytes(name, rank_file))
    constructor = getattr(openai_public, name)
    # The constructors know the pattern and specials but fetch the ranks by URL; hand them ours.
    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = lambda *args, **kwargs: ranks  # type: ignore[assignment]
    try:
        spec: dict[str, Any] = constructor()
    finally:
        openai_public.load_tiktoken_bpe = original  # type: ignore[assignment]
    return spec


_BYTE_TO_UNICODE: dict[int, str] = {}


def _byte_to_unicode() -> dict[int, str]:
    # GPT-2's printable alias of each byte, as byte-level BPE vocabularies spell tokens.
    if not _BYTE_TO_UNICODE:
        keep = [*range(33, 127), *range(161, 173), *range(174, 256)]
        extra = iter(range(256, 512))
        for b in range(256):
            _BYTE_TO_UNICODE[b] = chr(b) if b in keep else chr(next(extra))
    return _BYTE_TO_UNICODE


def hf_from_tiktoken(spec: dict[str, Any]) -> Any:
    """A `tokenizers.Tokenizer` equivalent to a tiktoken encoding, built the way transformers'
    TikTokenConverter does (merges recovered from the ranks). There is no official tokenizer.json
    for cl100k/o200k; the benches check its ids against batok's like any other peer's."""
    import tokenizers

    table = _byte_to_unicode()
    ranks: dict[bytes, int] = spec["mergeable_ranks"]
    vocab = {"".join(table[b] for b in token): rank for token, rank in ranks.items()}
    merges: list[tuple[str, str, int, int, int]] = []
    for token, rank in vocab.items():
        for i in range(1, len(token)):
            left, right = token[:i], token[i:]
            if left in vocab and right in vocab:
                merges.append((left, right, rank, vocab[left], vocab[right]))
    merges.sort(key=lambda m: (m[2], m[3], m[4]))
    config = {
        "version": "1.0",
        "added_tokens": [
            {
                "id": i,
                "content": s,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for s, i in sorted(spec["special_tokens"].items(), key=lambda kv: kv[1])
        ],
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    # Oniguruma reads `{1,3}+` as "one or more groups of 1-3", not as
                    # possessive: cl100k would take "3156" as one piece. Greedy is the same here.
                    "pattern": {"Regex": spec["pat_str"].replace("{1,3}+", "{1,3}")},
                    "behavior": "Isolated",
                    "invert": False,
                },
                {
                    "type": "ByteLevel",
                    "add_prefix_space": False,
                    "trim_offsets": True,
                    "use_regex": False,
                },
            ],
        },
        "post_processor": None,
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            # tiktoken looks a whole piece up before merging; this is HF's switch for that.
            "ignore_merges": True,
            "vocab": {**vocab, **spec["special_tokens"]},
            "merges": [[m[0], m[1]] for m in merges],
        },
    }
    return tokenizers.Tokenizer.from_str(json.dumps(config))


def _per_doc(fn: Callable[[Any], Any]) -> Callable[[Sequence[Any]], list[Any]]:
    def run(inputs: Sequence[Any]) -> list[Any]:
        return [fn(x) for x in inputs]

    return run


PeerList = list["Runner | Unavailable"]


def _peer(
    engine: str, build: Callable[[], PeerList], method: str = "", only: str | None = None
) -> PeerList:
    """`build()`'s runners, or why this peer is unavailable (not installed, cannot load).
    With `only`, every other engine is left unbuilt: a one-pass process loads one engine."""
    if only is not None and engine != only:
        return []
    try:
        return build()
    except ImportError as e:
        return [Unavailable(engine, f"not installed ({e.name or e})", method)]
    except Exception as e:  # noqa: BLE001 - any peer failure is reported, the bench goes on
        first_line = (str(e).strip().splitlines() or [""])[0]
        return [Unavailable(engine, f"cannot load: {type(e).__name__}: {first_line}"[:160], method)]


#: The engine whose output is the truth: (engine, runner key) for tiktoken encodings and for
#: tokenizer.json files. batok must match it; peers that do not are marked inexact.
ENCODING_REFERENCE = ("tiktoken", "encode_ordinary")
TOKENIZER_JSON_REFERENCE = ("HF tokenizers", "encode")


def find_runner(runners: Sequence[Runner | Unavailable], engine: str, key: str) -> Runner | None:
    for r in runners:
        if isinstance(r, Runner) and r.engine == engine and r.key == key:
            return r
    return None


_TEMP_DIRS: list[tempfile.TemporaryDirectory[str]] = []


def _tiktoken_file(name: str, rank_file: Path | None) -> Path:
    """A rank file named `<name>.tiktoken`, as gigatoken wants (it reads the encoding from the
    file name): `rank_file` if it is one, else batok's bundled copy, unpacked once per process."""
    if rank_file is not None and rank_file.name == f"{name}.tiktoken":
        return rank_file
    tmp = tempfile.TemporaryDirectory(prefix="batok-bench-ranks-")
    _TEMP_DIRS.append(tmp)
    path = Path(tmp.name) / f"{name}.tiktoken"
    data = _rank_bytes(name, rank_file)
    path.write_bytes(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    return path


def _awkward_unpack(prefix: Sequence[int] = ()) -> Callable[[Any], list[Any]]:
    """gigatoken's batch answer (an awkward array of rows) as one id list per document, with
    `prefix` (the ids the tokenizer.json adds before a text, which gigatoken leaves out) first."""

    def unpack(out: Any) -> list[Any]:
        import awkward as ak
        import numpy as np

        flat = ak.to_numpy(ak.flatten(out))
        offsets = np.zeros(len(out) + 1, dtype=np.int64)
        np.cumsum(ak.to_numpy(ak.num(out)), out=offsets[1:])
        rows = [flat[offsets[i] : offsets[i + 1]] for i in range(len(out))]
        return [[*prefix, *row.tolist()] for row in rows] if prefix else rows

    return unpack


def _prefixed(prefix: Sequence[int]) -> Callable[[Any], list[Any]] | None:
    """Per-document outputs with `prefix` first (checking only), or None when there is none."""
    if not prefix:
        return None
    return lambda out: [[*prefix, *list(ids)] for ids in out]


def _gigatoken_runners(
    load: Callable[[], Any], threads: int, single: bool, prefix: Sequence[int] = ()
) -> PeerList:
    """gigatoken's numpy-returning calls: `encode` per document (single thread), or its batch
    call and its file reader (`encode_files` over JSON Lines) on its own thread pool, which
    takes the process's cores (RAYON_NUM_THREADS, set by the one-pass protocol)."""
    import gigatoken as gt

    tok = load()
    v = _version("gigatoken")
    if single:
        return [
            Runner(
                "gigatoken",
                "encode",
                _per_doc(tok.encode),
                IDS,
                v,
                "numpy output",
                _prefixed(prefix),
            )
        ]

    def files(paths: Sequence[str]) -> Any:
        return tok.encode_files(gt.JsonlFileSource(list(paths)), parallel=True)

    return [
        Runner(
            "gigatoken",
            f"encode_batch ({threads} threads)",
            lambda docs: tok.encode_batch(list(docs), parallel=True),
            IDS,
            v,
            "awkward/numpy output",
            _awkward_unpack(prefix),
        ),
        Runner(
            "gigatoken",
            f"encode_files ({threads} threads)",
            files,
            IDS,
            v,
            "reads the documents from JSON Lines files itself",
            _awkward_unpack(prefix),
            feed="jsonl",
        ),
    ]


def _encode_to_numpy(enc: Any) -> Callable[[str], Any]:
    """batok's numpy call with `encode_ordinary`'s meaning (special-token text is plain text),
    so it answers what tiktoken's `encode_ordinary` does."""
    ordinary = getattr(enc, "encode_ordinary_to_numpy", None)
    if ordinary is not None:
        return ordinary  # type: ignore[no-any-return]
    return lambda text: enc.encode_to_numpy(text, disallowed_special=())


def encoding_runners(
    name: str,
    *,
    rank_file: Path | None = None,
    hf: bool = True,
    batok_methods: Sequence[str] = ("encode_ordinary", "encode", "encode_to_numpy", "count_tokens"),
    only: str | None = None,
) -> PeerList:
    """Single-thread runners for a tiktoken-style encoding: batok's methods first, then every
    peer's ordinary (no special tokens) encode; tiktoken's is the reference. With `only`, just
    that engine's runners are built."""
    import batok

    enc = batok.get_encoding(name)
    v = batok.__version__
    calls: dict[str, tuple[Callable[[str], Any], str]] = {
        "encode_ordinary": (enc.encode_ordinary, IDS),
        "encode": (lambda text: enc.encode(text, disallowed_special=()), IDS),
        "encode_to_numpy": (_encode_to_numpy(enc), IDS),
        "count_tokens": (enc.count_tokens, COUNT),
    }
    runners: PeerList = []
    for method in batok_methods if only in (None, "batok") else ():
        fn, kind = calls[method]
        if method == "encode_to_numpy":
            try:
                import numpy  # noqa: F401
            except ImportError:
                runners.append(Unavailable("batok", "numpy not installed", method))
                continue
        runners.append(Runner("batok", method, _per_doc(fn), kind, v))

    def tiktoken_peer() -> PeerList:
        import tiktoken

        spec = tiktoken_spec(name, rank_file)
        t = tiktoken.Encoding(
            name,
            pat_str=spec["pat_str"],
            mergeable_ranks=spec["mergeable_ranks"],
            special_tokens=spec["special_tokens"],
        )
        return [
            Runner(
                "tiktoken",
                "encode_ordinary",
                _per_doc(t.encode_ordinary),
                IDS,
                _version("tiktoken"),
            )
        ]

    def bpe_openai_peer() -> PeerList:
        import bpe_openai._bindings as bindings

        # The Rust tokenizer itself: the package's Encoding wrapper adds Python-side metrics and
        # refuses inputs of 1M characters or more, which would hide the engine's speed.
        backend = bindings.tokenizer_for_encoding(name)
        return [
            Runner(
                "bpe-openai",
                "encode",
                _per_doc(backend.encode),
                IDS,
                _version("bpe-openai"),
                "Rust backend (bpe_openai._bindings)",
            )
        ]

    def rs_bpe_peer() -> PeerList:
        from rs_bpe.bpe import openai

        t = getattr(openai, name)()
        return [Runner("rs-bpe", "encode", _per_doc(t.encode), IDS, _version("rs-bpe"))]

    def quicktok_peer() -> PeerList:
        import quicktok

        t = quicktok.get_encoding(name)
        return [
            Runner(
                "quicktok-v1",
                "encode_ordinary",
                _per_doc(t.encode_ordinary),
                IDS,
                _version("quicktok-v1"),
            )
        ]

    def hf_peer() -> PeerList:
        tok = hf_from_tiktoken(tiktoken_spec(name, rank_file))

        def encode(text: str) -> list[int]:
            return tok.encode(text, add_special_tokens=False).ids  # type: ignore[no-any-return]

        return [
            Runner(
                "HF tokenizers",
                "encode",
                _per_doc(encode),
                IDS,
                _version("tokenizers"),
                "tokenizer.json converted from the rank file",
            )
        ]

    def gigatoken_peer() -> PeerList:
        import gigatoken as gt
        from gigatoken._load.tiktoken import ENCODINGS

        def load() -> Any:
            # No special tokens: its `encode` then means `encode_ordinary`, as every row here.
            scheme = ENCODINGS[name].pretokenizer
            return gt.Tokenizer.from_tiktoken(_tiktoken_file(name, rank_file), scheme, {})

        return _gigatoken_runners(load, 1, single=True)

    runners += _peer("tiktoken", tiktoken_peer, "encode_ordinary", only)
    runners += _peer("gigatoken", gigatoken_peer, "encode", only)
    runners += _peer("bpe-openai", bpe_openai_peer, "encode", only)
    runners += _peer("rs-bpe", rs_bpe_peer, "encode", only)
    runners += _peer("quicktok-v1", quicktok_peer, "encode_ordinary", only)
    if hf:
        runners += _peer("HF tokenizers", hf_peer, "encode", only)
    return runners


def _cores(threads: int) -> int:
    if threads > 0:
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _threaded(fn: Callable[[Any], Any], threads: int) -> Callable[[Sequence[Any]], list[Any]]:
    """`fn` over the inputs from `threads` Python threads, one contiguous slice each: scales
    only if `fn` releases the GIL, which is what this runner exists to show."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(threads)

    def run(inputs: Sequence[Any]) -> list[Any]:
        step = -(-len(inputs) // threads)
        parts = [inputs[i : i + step] for i in range(0, len(inputs), step)]
        out: list[Any] = []
        for part in pool.map(lambda p: [fn(x) for x in p], parts):
            out.extend(part)
        return out

    return run


def _quicktok_unpack(out: Any) -> list[Any]:
    tokens, offsets = out
    return [tokens[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]


def encoding_batch_runners(
    name: str, threads: int = 0, rank_file: Path | None = None, only: str | None = None
) -> PeerList:
    """Batch runners on `threads` cores (0 = all): batok's batch call, the same call on one
    thread (the baseline of the scaling targets, timed in the same rounds so that drift in
    machine speed cannot move the ratio), batok's single call from Python threads (does the
    GIL stay released?), then the peers' batch calls."""
    import batok

    enc = batok.get_encoding(name)
    n = _cores(threads)
    v = batok.__version__
    runners: PeerList = [
        Runner(
            "batok",
            f"encode_ordinary_batch ({n} threads)",
            lambda docs: enc.encode_ordinary_batch(docs, num_threads=n),
            IDS,
            v,
        ),
        Runner(
            "batok",
            "encode_ordinary_batch(num_threads=1)",
            lambda docs: enc.encode_ordinary_batch(docs, num_threads=1),
            IDS,
            v,
            "one thread: the scaling baseline",
        ),
        Runner(
            "batok",
            f"encode_ordinary from {n} Python threads",
            _threaded(enc.encode_ordinary, n),
            IDS,
            v,
            "scales only with the GIL released",
        ),
    ]
    try:
        import numpy  # noqa: F401

        runners.append(
            Runner(
                "batok",
                f"encode_ordinary_batch_to_numpy ({n} threads)",
                lambda docs: enc.encode_ordinary_batch_to_numpy(list(docs), num_threads=n),
                IDS,
                v,
                "numpy output (flat ids + offsets)",
                _quicktok_unpack,
            )
        )
        runners.append(
            Runner(
                "batok",
                "encode_ordinary_batch_to_numpy(num_threads=1)",
                lambda docs: enc.encode_ordinary_batch_to_numpy(list(docs), num_threads=1),
                IDS,
                v,
                "numpy output, one thread: the scaling baseline",
                _quicktok_unpack,
            )
        )
    except ImportError:
        method = "encode_ordinary_batch_to_numpy"
        runners.append(Unavailable("batok", "numpy not installed", method))

    def tiktoken_peer() -> PeerList:
        import tiktoken

        spec = tiktoken_spec(name, rank_file)
        t = tiktoken.Encoding(
            name,
            pat_str=spec["pat_str"],
            mergeable_ranks=spec["mergeable_ranks"],
            special_tokens=spec["special_tokens"],
        )
        return [
            Runner(
                "tiktoken",
                f"encode_ordinary_batch ({n} threads)",
                lambda docs: t.encode_ordinary_batch(docs, num_threads=n),
                IDS,
                _version("tiktoken"),
            )
        ]

    def quicktok_peer() -> PeerList:
        import quicktok

        t = quicktok.get_encoding(name)
        return [
            Runner(
                "quicktok-v1",
                f"encode_batch ({n} threads)",
                lambda docs: t.encode_batch(list(docs), n),
                IDS,
                _version("quicktok-v1"),
                "numpy output (flat ids + offsets)",
                _quicktok_unpack,
            )
        ]

    def gigatoken_peer() -> PeerList:
        import gigatoken as gt
        from gigatoken._load.tiktoken import ENCODINGS

        def load() -> Any:
            scheme = ENCODINGS[name].pretokenizer
            return gt.Tokenizer.from_tiktoken(_tiktoken_file(name, rank_file), scheme, {})

        return _gigatoken_runners(load, n, single=False)

    if only not in (None, "batok"):
        runners = []
    runners += _peer("tiktoken", tiktoken_peer, "encode_ordinary_batch", only)
    runners += _peer("gigatoken", gigatoken_peer, "encode_batch", only)
    runners += _peer("quicktok-v1", quicktok_peer, "encode_batch", only)
    return runners


def encoding_decode_runners(name: str, rank_file: Path | None = None, hf: bool = True) -> PeerList:
    """Decode runners: inputs are id lists, the reference is the original text."""
    import batok

    enc = batok.get_encoding(name)
    v = batok.__version__
    runners: PeerList = [
        Runner("batok", "decode", _per_doc(enc.decode), TEXT, v),
        Runner("batok", "decode_bytes", _per_doc(enc.decode_bytes), BYTES, v),
    ]

    def tiktoken_peer() -> PeerList:
        import tiktoken

        spec = tiktoken_spec(name, rank_file)
        t = tiktoken.Encoding(
            name,
            pat_str=spec["pat_str"],
            mergeable_ranks=spec["mergeable_ranks"],
            special_tokens=spec["special_tokens"],
        )
        return [Runner("tiktoken", "decode", _per_doc(t.decode), TEXT, _version("tiktoken"))]

    def bpe_openai_peer() -> PeerList:
        import bpe_openai._bindings as bindings

        backend = bindings.tokenizer_for_encoding(name)
        return [
            Runner("bpe-openai", "decode", _per_doc(backend.decode), TEXT, _version("bpe-openai"))
        ]

    def rs_bpe_peer() -> PeerList:
        from rs_bpe.bpe import openai

        t = getattr(openai, name)()
        return [Runner("rs-bpe", "decode", _per_doc(t.decode), TEXT, _version("rs-bpe"))]

    def quicktok_peer() -> PeerList:
        import quicktok

        t = quicktok.get_encoding(name)
        return [Runner("quicktok-v1", "decode", _per_doc(t.decode), TEXT, _version("quicktok-v1"))]

    def hf_peer() -> PeerList:
        tok = hf_from_tiktoken(tiktoken_spec(name, rank_file))
        return [
            Runner(
                "HF tokenizers",
                "decode",
                _per_doc(tok.decode),
                TEXT,
                _version("tokenizers"),
                "tokenizer.json converted from the rank file",
            )
        ]

    runners += _peer("tiktoken", tiktoken_peer, "decode")
    runners += _peer("bpe-openai", bpe_openai_peer, "decode")
    runners += _peer("rs-bpe", rs_bpe_peer, "decode")
    runners += _peer("quicktok-v1", quicktok_peer, "decode")
    if hf:
        runners += _peer("HF tokenizers", hf_peer, "decode")
    return runners


def _quicktok_import(path: Path, batok_tok: Any) -> PeerList:
    """quicktok for a tokenizer.json, through its own importer (which refuses what it cannot
    reproduce, and verifies the rest against HF) into a private temporary data dir."""
    import quicktok

    tmp = tempfile.TemporaryDirectory(prefix="batok-bench-quicktok-")
    _TEMP_DIRS.append(tmp)  # the Tokenizer reads its files lazily; keep them for the process
    name = "bench" + "".join(c if c.isalnum() else "_" for c in path.parent.name)
    # The importer prints its progress; the bench prints a table.
    with contextlib.redirect_stdout(io.StringIO()):
        quicktok.import_tokenizer(str(path), name, data_dir=tmp.name)
    t = quicktok.Tokenizer(name, tmp.name)
    # quicktok has no post-processor: add what the tokenizer.json adds around an empty text
    # (Llama-3's BOS), so its ids are comparable with `encode(text)`.
    prefix = list(batok_tok.encode(""))

    def encode(text: str) -> list[int]:
        return prefix + t.encode_ordinary(text)  # type: ignore[no-any-return]

    return [
        Runner(
            "quicktok-v1",
            "encode_ordinary",
            _per_doc(encode),
            IDS,
            _version("quicktok-v1"),
            "imported with quicktok.import_tokenizer",
        )
    ]


def tokenizer_json_runners(
    path: Path, threads: int = 0, only: str | None = None
) -> tuple[PeerList, PeerList]:
    """(single-thread, batch) runners for a tokenizer.json; HF `tokenizers`' `encode` is the
    reference. Special tokens are added as the file says, by every engine (`encode`'s default;
    peers that leave them out get the ids around an empty text added when checked). A file's
    truncation and padding are turned off for batok and HF alike: whole texts are timed."""
    import batok

    tok = batok.Tokenizer.from_file(path)
    tok.no_truncation()
    tok.no_padding()
    n = _cores(threads)
    v = batok.__version__
    numpy_note = "numpy output (flat ids + offsets), one call per chunk of documents"
    single: PeerList = [
        Runner("batok", "encode", _per_doc(tok.encode), IDS, v),
        Runner(
            "batok",
            "count_tokens",
            _per_doc(lambda s: tok.count_tokens(s, add_special_tokens=True)),
            COUNT,
            v,
        ),
        Runner(
            "batok",
            "encode_batch_to_numpy(num_threads=1)",
            lambda docs: tok.encode_batch_to_numpy(list(docs), num_threads=1),
            IDS,
            v,
            numpy_note,
            _quicktok_unpack,
        ),
    ]
    batch: PeerList = [
        Runner(
            "batok",
            f"encode_batch ({n} threads)",
            lambda docs: tok.encode_batch(docs, num_threads=n),
            IDS,
            v,
        ),
        Runner(
            "batok",
            f"encode_batch_to_numpy ({n} threads)",
            lambda docs: tok.encode_batch_to_numpy(list(docs), num_threads=n),
            IDS,
            v,
            numpy_note,
            _quicktok_unpack,
        ),
    ]
    if only not in (None, "batok"):
        single, batch = [], []

    def hf_single() -> PeerList:
        import tokenizers

        hf = tokenizers.Tokenizer.from_file(str(path))
        hf.no_truncation()
        hf.no_padding()
        return [
            Runner(
                "HF tokenizers",
                "encode",
                _per_doc(lambda s: hf.encode(s).ids),
                IDS,
                _version("tokenizers"),
            )
        ]

    def hf_batch() -> PeerList:
        import tokenizers

        hf = tokenizers.Tokenizer.from_file(str(path))
        hf.no_truncation()
        hf.no_padding()
        runners: PeerList = [
            Runner(
                "HF tokenizers",
                "encode_batch (all cores)",
                lambda docs: [e.ids for e in hf.encode_batch(docs)],
                IDS,
                _version("tokenizers"),
            )
        ]
        if hasattr(hf, "encode_batch_fast"):  # tokenizers >= 0.20: no offsets, faster
            runners.append(
                Runner(
                    "HF tokenizers",
                    "encode_batch_fast (all cores)",
                    lambda docs: [e.ids for e in hf.encode_batch_fast(docs)],
                    IDS,
                    _version("tokenizers"),
                )
            )
        return runners

    def gigatoken_peer(single: bool) -> PeerList:
        import gigatoken as gt

        # The ids the file adds around a text (Llama's BOS): gigatoken leaves them out.
        prefix = list(tok.encode(""))
        return _gigatoken_runners(lambda: gt.Tokenizer(str(path)), n, single, prefix)

    single += _peer("HF tokenizers", hf_single, "encode", only)
    single += _peer("gigatoken", lambda: gigatoken_peer(True), "encode", only)
    single += _peer("quicktok-v1", lambda: _quicktok_import(path, tok), "encode_ordinary", only)
    batch += _peer("HF tokenizers", hf_batch, "encode_batch", only)
    batch += _peer("gigatoken", lambda: gigatoken_peer(False), "encode_batch", only)
    return single, batch


# -- machine -----------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import batok

    return {
        "cpu": cpu,
        "cores": _cores(0),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            dist: _version(dist)
            for dist in (
                "batok",
                "tiktoken",
                "tokenizers",
                "bpe-openai",
                "rs-bpe",
                "quicktok-v1",
                "gigatoken",
            )
        }
        | {"batok": batok.__version__},
    }


# -- the command -------------------------------------------------------------------------------


@contextlib.contextmanager
def _progress_bar(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    from tqdm import tqdm

    with tqdm(total=total, disable=not enabled, unit="pass", leave=False, file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def _resolve_tokenizer(arg: str) -> Path:
    path = Path(arg).expanduser()
    if path.is_file():
        return path
    from .hub import resolve_tokenizer_files

    return resolve_tokenizer_files(arg)[0]


def _table(section: str, results: Sequence[Result]) -> str:
    reference = next((r.mb_s for r in results if r.engine == "batok" and r.mb_s), None)
    rows = [("engine", "method", "MB/s", "batok is", "status")]
    for r in results:
        speed = f"{r.mb_s:.1f}" if r.mb_s else "-"
        ratio = f"{reference / r.mb_s:.2f}x" if reference and r.mb_s else "-"
        status = r.status if r.status == "ok" else f"{r.status}: {r.note}"
        rows.append((r.engine, r.method, speed, ratio, status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [section]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [row[2].rjust(widths[2]), row[3].rjust(widths[3]), row[4]]
        lines.append("  " + "  ".join(cells))
    return "\n".join(lines)


def _documents(args: argparse.Namespace) -> tuple[list[Path], list[str], list[str]]:
    """(files, documents, labels): each file cut into 1-4 KB documents, in file order."""
    files = [Path(f) for f in args.files]
    docs: list[str] = []
    labels: list[str] = []
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        parts = [text] if args.whole_files else split_documents(text)
        for k, d in enumerate(p for p in parts if p):
            docs.append(d)
            labels.append(f"{f} part {k}" if not args.whole_files else str(f))
    return files, docs, labels


def _source(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from ._onepass import Source

    if args.tokenizer:
        path = _resolve_tokenizer(args.tokenizer)
        return Source(tokenizer=str(path)), {"tokenizer": args.tokenizer, "file": str(path)}
    return Source(encoding=args.encoding, hf=not args.no_hf), {"encoding": args.encoding}


def _one_pass_table(section: str, results: Sequence[Any]) -> str:
    reference = next((r.mb_s for r in results if r.engine == "batok" and r.mb_s), None)
    rows = [("engine", "method", "MB/s", "2nd half", "batok is", "status")]
    for r in results:
        speed = f"{r.mb_s:.1f}" if r.mb_s else "-"
        half = f"{r.second_half_mb_s:.1f}" if r.second_half_mb_s else "-"
        ratio = f"{reference / r.mb_s:.2f}x" if reference and r.mb_s else "-"
        status = (
            r.status
            if r.status == "ok" and not r.note.startswith("unchecked")
            else (f"{r.status}: {r.note}")
        )
        rows.append((r.engine, r.method, speed, half, ratio, status))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [section]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [row[i].rjust(widths[i]) for i in (2, 3, 4)] + [row[5]]
        lines.append("  " + "  ".join(cells))
    return "\n".join(lines)


def _one_pass(args: argparse.Namespace) -> int:
    from ._onepass import run_cases

    files, docs, labels = _documents(args)
    if not docs:
        print("batok bench: error: the files hold no text", file=sys.stderr)
        return 2
    nbytes = sum(len(d.encode("utf-8")) for d in docs)
    source, described = _source(args)
    what = args.tokenizer or args.encoding
    progress = (
        (lambda s: print(f"  {s}", file=sys.stderr, flush=True))
        if (not args.no_progress and sys.stderr.isatty())
        else None
    )
    with tempfile.TemporaryDirectory(prefix="batok-bench-") as tmp:
        try:
            results = run_cases(
                source,
                docs,
                Path(tmp),
                case=what,
                labels=labels,
                threads=args.threads,
                strict=False,
                progress=progress,
            )
        except Mismatch as e:
            print(f"batok bench: error: {e}", file=sys.stderr)
            return 1
    print(
        f"batok bench: {what}, {len(files)} file(s), {len(docs)} documents, "
        f"{nbytes / 1e6:.2f} MB, one pass per engine in a fresh process"
    )
    for title, rs in (("single thread", results["single"]), ("batch", results["batch"])):
        print()
        print(_one_pass_table(title, rs))
    if args.json:
        report = {
            "machine": machine_info(),
            "source": described,
            "protocol": "one pass",
            "workload": {"files": [str(f) for f in files], "documents": len(docs), "bytes": nbytes},
            "sections": [
                {"name": name, "results": [asdict(r) for r in rs]} for name, rs in results.items()
            ],
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def _warm(args: argparse.Namespace) -> int:
    files, docs, labels = _documents(args)
    if not docs:
        print("batok bench: error: the files hold no text", file=sys.stderr)
        return 2
    nbytes = sum(len(d.encode("utf-8")) for d in docs)
    if args.tokenizer:
        path = _resolve_tokenizer(args.tokenizer)
        source = {"tokenizer": args.tokenizer, "file": str(path)}
        single, batch = tokenizer_json_runners(path, args.threads)
        ref_engine, ref_key = TOKENIZER_JSON_REFERENCE
    else:
        source = {"encoding": args.encoding}
        single = encoding_runners(args.encoding, hf=not args.no_hf)
        batch = encoding_batch_runners(args.encoding, args.threads)
        ref_engine, ref_key = ENCODING_REFERENCE
    what = args.tokenizer or args.encoding
    sections = [("single thread", single), ("batch", batch)]
    reference = find_runner(single, ref_engine, ref_key)
    reference_name = ref_engine
    if reference is None:  # not installed: batok's ids are what the peers are checked against
        reference = next(r for r in single if isinstance(r, Runner))
        reference_name = f"batok {reference.method} (unchecked: {ref_engine} unavailable)"
    expected = [list(ids) for ids in reference.run(docs)]
    steps = sum((1 + args.rounds) if isinstance(r, Runner) else 1 for _, rs in sections for r in rs)
    report: dict[str, Any] = {
        "machine": machine_info(),
        "source": source,
        "protocol": "warm",
        "workload": {
            "files": [str(f) for f in files],
            "documents": len(docs),
            "bytes": nbytes,
            "rounds": args.rounds,
        },
        "sections": [],
    }
    try:
        with _progress_bar(steps, not args.no_progress and sys.stderr.isatty()) as tick:
            for title, runners in sections:
                results = measure(
                    runners,
                    docs,
                    expected,
                    nbytes,
                    args.rounds,
                    tick,
                    case=what,
                    reference=reference_name,
                    labels=labels,
                )
                report["sections"].append({"name": title, "results": [asdict(r) for r in results]})
    except Mismatch as e:
        print(f"batok bench: error: {e}", file=sys.stderr)
        return 1
    print(
        f"batok bench: {what}, {len(files)} file(s), {len(docs)} documents, "
        f"{nbytes / 1e6:.2f} MB, warm: median of {args.rounds} passes"
    )
    for section in report["sections"]:
        print()
        print(_table(section["name"], [Result(**r) for r in section["results"]]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def handler(args: argparse.Namespace) -> int:
    """Run `batok bench`; returns the exit code (1 when batok's output is wrong)."""
    return _warm(args) if args.warm else _one_pass(args)


def add_commands(subparsers: Any) -> None:
    """Add `bench` to an argparse `add_subparsers()` object."""
    p = subparsers.add_parser(
        "bench",
        help="time batok against the installed peers on FILES",
        description="Time batok against tiktoken, HF tokenizers, gigatoken, bpe-openai, rs-bpe "
        "and quicktok-v1 (those installed) on your files. By default each engine encodes each "
        "document once, in a fresh process (a job's first pass over unseen text); --warm times "
        "repeated passes instead. Outputs are checked against tiktoken (encodings) or HF "
        "tokenizers (tokenizer.json): if batok's differ, the bench fails (exit 1); a peer's "
        "that differ are marked inexact.",
    )
    p.add_argument("files", nargs="+", help="UTF-8 text files")
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--encoding", default="o200k_base", help="bundled tiktoken encoding (default o200k_base)"
    )
    source.add_argument(
        "--tokenizer", help="a tokenizer.json, a directory holding one, or a hub repo id"
    )
    p.add_argument(
        "--warm",
        action="store_true",
        help="time repeated passes over the same documents (caches warm) in this process",
    )
    p.add_argument("--rounds", type=int, default=5, help="with --warm: timed passes (median)")
    p.add_argument("--threads", type=int, default=0, help="batch threads (default all cores)")
    p.add_argument(
        "--whole-files", action="store_true", help="one call per file, not per 1-4 KB document"
    )
    p.add_argument("--no-hf", action="store_true", help="skip the HF peer for tiktoken encodings")
    p.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    p.add_argument("--no-progress", action="store_true", help="no progress output")
    p.set_defaults(func=handler)
