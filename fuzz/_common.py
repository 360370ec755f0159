"""What the fuzz targets share: where the real tokenizer files are, how a finding is reported,
and the pieces of text that tokenizers most often get wrong.

A finding is raised as `Finding`, an exception that atheris reports as a crash: libFuzzer then
writes the input to a `crash-*` file and exits nonzero. Every message says what the reference
did and what batok did, never more than a few hundred characters of the input.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

FUZZ_DIR = Path(__file__).resolve().parent
REPO_ROOT = FUZZ_DIR.parent
SEEDS_DIR = FUZZ_DIR / "seeds"


def shared_tokenizers_dir() -> Path | None:
    """The real tokenizer files (`../shared/tokenizers` beside the checkout, or
    `BATOK_FUZZ_SHARED`), or None when they are not there."""
    override = os.environ.get("BATOK_FUZZ_SHARED", "").strip()
    path = Path(override) if override else REPO_ROOT.parent / "shared" / "tokenizers"
    return path if path.is_dir() else None


class Finding(AssertionError):
    """A bug: batok departs from its reference, panics, or raises what it must not. `kind`
    names the bug without the input, so that a long run can count findings by kind."""

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind or message.split(":", 1)[0][:80]


def short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def difference(what: str, expected: list[Any], got: list[Any]) -> str:
    """Where two sequences first differ, with a few items either side."""
    index = next(
        (i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b),
        min(len(expected), len(got)),
    )
    low, high = max(0, index - 3), index + 4
    return (
        f"{what}: {len(expected)} vs {len(got)} items, first difference at {index}: "
        f"reference[{low}:{high}] = {short(expected[low:high])}, "
        f"batok[{low}:{high}] = {short(got[low:high])}"
    )


# Exceptions a load or an encode may raise for bad input: clean Python errors that say what is
# wrong. A RuntimeError is how a caught Rust panic arrives, so it is never clean.
CLEAN_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, OverflowError, KeyError)


def outcome(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """("ok", result) or ("raised", exception) for any exception, panics of the reference
    included (PyO3's PanicException derives from BaseException)."""
    try:
        return ("ok", call(*args, **kwargs))
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException as err:  # noqa: BLE001 - every failure is an outcome to compare
        return ("raised", err)


def check_clean(what: str, err: BaseException) -> None:
    """Raise a Finding unless `err` is a clean error (never a panic turned RuntimeError)."""
    if isinstance(err, RuntimeError) or not isinstance(err, CLEAN_ERRORS):
        raise Finding(f"{what} raised {type(err).__name__}: {short(str(err))}") from err


def tiktoken_reference(name: str, rank_dir: Path) -> Any:
    """tiktoken's own `Encoding` for `name`, reading the rank file from `rank_dir` rather than
    downloading it (tiktoken still checks the file against the hash it pins)."""
    import tiktoken
    import tiktoken_ext.openai_public as public
    from tiktoken import load

    def load_local(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        return load.load_tiktoken_bpe(
            str(rank_dir / url.rsplit("/", 1)[-1]), expected_hash=expected_hash
        )

    original = public.load_tiktoken_bpe
    public.load_tiktoken_bpe = load_local
    try:
        spec = public.ENCODING_CONSTRUCTORS[name]()
    finally:
        public.load_tiktoken_bpe = original
    return tiktoken.Encoding(**spec)


@functools.cache
def model_type(path: Path) -> str:
    """The model type of a tokenizer.json (old files leave out `type`)."""
    with path.open(encoding="utf-8") as handle:
        model = json.load(handle)["model"]
    if "type" in model:
        return str(model["type"])
    return "BPE" if "merges" in model else "other"


# Text that has broken tokenizers before: whitespace of every kind, combining marks, emoji
# sequences, characters whose case mapping or normalization changes their length, and the
# markers that SentencePiece and byte-level vocabularies use.
FRAGMENTS = (
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\x0b",
    "\x0c",
    "\x85",
    "\u00a0",
    "\u1680",
    "\u2009",
    "\u200b",
    "\u2028",
    "\u3000",
    "\ufeff",
    "\x00",
    "\u0301",
    "e\u0301",
    "\u0130",
    "\u0131",
    "\u1e9e",
    "\u00df",
    "\ufb01",
    "\u01c5",
    "\u2126",
    "\u212b",
    "\u1f88",
    "\u0390",
    "\uff21",
    "\u2460",
    "\u00bd",
    "\U0001d400",
    "😀",
    "👍🏽",
    "👨\u200d👩\u200d👧",
    "🇯🇵",
    "❤\ufe0f",
    "1\ufe0f\u20e3",
    "\U000e0067",
    "中文",
    "日本語",
    "한국어",
    "ภาษาไทย",
    "العربية",
    "\u05e9\u05b8\u05c1",
    "Hello",
    " world",
    "don't",
    "I'M",
    "'s",
    "'LL",
    " 12345",
    "3.14",
    "naïve",
    "def f(x):\n    return x",
    "<s>",
    "</s>",
    "<unk>",
    "[CLS]",
    "[MASK]",
    "<|endoftext|>",
    "<|endoftext",
    "<|",
    "|>",
    "\u2581",
    "\u0120",
    "<0x0A>",
    "##",
    "</w>",
)


def keep_going(target: Callable[[bytes], None]) -> Callable[[bytes], None]:
    """`target`, or with `BATOK_FUZZ_LOG=path` set, `target` that appends each finding (its
    message and the input, hex) to that file and carries on, for long runs that should
    collect every kind of finding rather than stop at the first."""
    log = os.environ.get("BATOK_FUZZ_LOG", "").strip()
    if not log:
        return target
    seen: dict[str, int] = {}

    def logged(data: bytes) -> None:
        try:
            target(data)
        except Finding as finding:
            message, kind = str(finding), finding.kind
            seen[kind] = seen.get(kind, 0) + 1
            if seen[kind] <= 3:
                with open(log, "a", encoding="utf-8") as handle:
                    handle.write(
                        json.dumps({"kind": kind, "finding": message, "input": data.hex()}) + "\n"
                    )

    return logged
