"""Shared test fixtures: where the shared test data lives, which tokenizer families it holds, the
corpus sampler, the exhaustive switch and the parity tally printed at the end of a run.

The data is read from `../shared/` beside the checkout (real tokenizer files and a text corpus).
CI samples the corpus deterministically; `BATOK_EXHAUSTIVE=1` compares every corpus file whole,
every paragraph and every line, for every family, and runs many more hypothesis examples.
"""

from __future__ import annotations

import functools
import json
import os
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
TOKENIZERS_DIR = SHARED_DIR / "tokenizers"
TIKTOKEN_DIR = TOKENIZERS_DIR / "tiktoken"
CORPUS_DIR = SHARED_DIR / "corpus"

EXHAUSTIVE = os.environ.get("BATOK_EXHAUSTIVE", "").strip().lower() in ("1", "true", "yes")

# CI sample per (family, corpus file): one window of the file (or the whole file when it is
# small), a few paragraphs and a few lines, each capped: about 0.4 M characters per family.
CI_WHOLE_FILE_CHARS = 16_000
CI_WINDOW_CHARS = 12_000
CI_PARAGRAPHS = 6
CI_PARAGRAPH_CHARS = 2_000
CI_LINES = 16
CI_LINE_CHARS = 1_000

# Hypothesis settings for the parity properties; tests pick them with
# `@settings(parent=settings.get_profile("batok-parity"))`. CI runs are derandomized so that a run
# is reproducible; exhaustive runs explore new examples each time.
settings.register_profile(
    "batok-parity",
    max_examples=600 if EXHAUSTIVE else 60,
    deadline=None,
    derandomize=not EXHAUSTIVE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _require_shared() -> None:
    if not TOKENIZERS_DIR.is_dir() or not CORPUS_DIR.is_dir():
        raise FileNotFoundError(
            f"the shared test data is missing: expected {TOKENIZERS_DIR} and {CORPUS_DIR} "
            "(a `shared/` directory beside the checkout)"
        )


# ------------------------------------------------------------------ tokenizer families


@dataclass(frozen=True)
class TokenizerDir:
    """One directory of ../shared/tokenizers/ holding a tokenizer.json."""

    name: str
    path: Path
    model_type: str
    case_files: tuple[Path, ...]

    @property
    def tokenizer_json(self) -> Path:
        return self.path / "tokenizer.json"


def model_type_of(config: dict) -> str:
    """The model type of a parsed tokenizer.json; old files omit `type`, so infer it from the keys
    the way `tokenizers` does."""
    model = config["model"]
    if "type" in model:
        return str(model["type"])
    if "merges" in model:
        return "BPE"
    if isinstance(model.get("vocab"), list):
        return "Unigram"
    if "continuing_subword_prefix" in model or "max_input_chars_per_word" in model:
        return "WordPiece"
    return "WordLevel"


@functools.cache
def tokenizer_dirs() -> tuple[TokenizerDir, ...]:
    """Every staged tokenizer.json, discovered from the directory (new families join by
    themselves)."""
    _require_shared()
    found = []
    for path in sorted(TOKENIZERS_DIR.iterdir()):
        config_path = path / "tokenizer.json"
        if not config_path.is_file():
            continue
        with config_path.open(encoding="utf-8") as handle:
            model_type = model_type_of(json.load(handle))
        found.append(
            TokenizerDir(
                name=path.name,
                path=path,
                model_type=model_type,
                case_files=tuple(sorted(path.glob("cases*.json"))),
            )
        )
    return tuple(found)


#: The models batok runs; the parity suite covers every family of these.
SUPPORTED_MODELS = ("BPE", "WordPiece", "WordLevel", "Unigram")


def _skip_unless_supported(family: TokenizerDir) -> list[pytest.MarkDecorator]:
    if family.model_type in SUPPORTED_MODELS:
        return []
    reason = (
        f"{family.name} is a {family.model_type} tokenizer; the parity suite covers "
        f"{', '.join(SUPPORTED_MODELS)} tokenizer.json files"
    )
    return [pytest.mark.skip(reason=reason)]


def tokenizer_dir_params() -> list[object]:
    """`pytest.param`s over the staged families; families of other models are skipped, saying
    why."""
    return [
        pytest.param(family, id=family.name, marks=_skip_unless_supported(family))
        for family in tokenizer_dirs()
    ]


def case_file_params() -> list[object]:
    """`pytest.param`s over (family, cases*.json file) for every staged case file."""
    return [
        pytest.param(
            family, path, id=f"{family.name}/{path.stem}", marks=_skip_unless_supported(family)
        )
        for family in tokenizer_dirs()
        for path in family.case_files
    ]


# ------------------------------------------------------------------ corpus


@dataclass(frozen=True)
class Sample:
    """A text to compare and where it came from (shown in failure messages)."""

    label: str
    text: str


@functools.cache
def corpus_files() -> tuple[Path, ...]:
    _require_shared()
    return tuple(sorted(CORPUS_DIR.glob("*.txt")))


@functools.lru_cache(maxsize=4)
def read_corpus(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=4)
def _pieces(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(paragraphs, lines) of a corpus file, non-empty and without repeats, in file order."""
    text = read_corpus(path)
    paragraphs = tuple(dict.fromkeys(p for p in text.split("\n\n") if p))
    lines = tuple(dict.fromkeys(line for line in text.split("\n") if line))
    return paragraphs, lines


def _slice(rng: random.Random, label: str, text: str, limit: int) -> Sample:
    """`text`, or a random `limit`-character slice of it (a long line is compared in part)."""
    if len(text) <= limit:
        return Sample(label, text)
    start = rng.randrange(len(text) - limit + 1)
    return Sample(f"{label} chars {start}..{start + limit}", text[start : start + limit])


def corpus_samples(path: Path, family: str, *, exhaustive: bool = EXHAUSTIVE) -> list[Sample]:
    """The texts of one corpus file that `family` is compared on.

    Exhaustive: the whole file, every paragraph and every line. Otherwise a sample seeded by the
    family and file names, so every run (and every machine) compares the same texts.
    """
    text = read_corpus(path)
    paragraphs, lines = _pieces(path)
    name = path.name
    if exhaustive:
        samples = [Sample(f"{name} (whole file)", text)]
        samples += [Sample(f"{name} paragraph {i}", p) for i, p in enumerate(paragraphs)]
        samples += [Sample(f"{name} line {i}", line) for i, line in enumerate(lines)]
    else:
        rng = random.Random(f"{family}/{name}")
        if len(text) <= CI_WHOLE_FILE_CHARS:
            samples = [Sample(f"{name} (whole file)", text)]
        else:
            samples = [_slice(rng, f"{name}", text, CI_WINDOW_CHARS)]
        for i in sorted(rng.sample(range(len(paragraphs)), min(CI_PARAGRAPHS, len(paragraphs)))):
            samples.append(_slice(rng, f"{name} paragraph {i}", paragraphs[i], CI_PARAGRAPH_CHARS))
        for i in sorted(rng.sample(range(len(lines)), min(CI_LINES, len(lines)))):
            samples.append(_slice(rng, f"{name} line {i}", lines[i], CI_LINE_CHARS))
    unique: dict[str, Sample] = {}
    for sample in samples:
        unique.setdefault(sample.text, sample)
    return list(unique.values())


# ------------------------------------------------------------------ parity tally


class ParityTally:
    """Texts and characters compared against a reference, per family, for the end-of-run
    summary."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = defaultdict(int)
        self.chars: dict[str, int] = defaultdict(int)

    def add(self, family: str, text: str) -> None:
        self.texts[family] += 1
        self.chars[family] += len(text)


PARITY_TALLY = ParityTally()


@pytest.fixture(scope="session")
def parity_tally() -> ParityTally:
    return PARITY_TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not PARITY_TALLY.texts:
        return
    mode = "exhaustive" if EXHAUSTIVE else "CI sample"
    terminalreporter.section(f"batok parity ({mode})")
    for family in sorted(PARITY_TALLY.texts):
        terminalreporter.write_line(
            f"{family:<20} {PARITY_TALLY.texts[family]:>9,} texts "
            f"{PARITY_TALLY.chars[family]:>14,} characters"
        )
    terminalreporter.write_line(
        f"{'total':<20} {sum(PARITY_TALLY.texts.values()):>9,} texts "
        f"{sum(PARITY_TALLY.chars.values()):>14,} characters "
        f"in {len(PARITY_TALLY.texts)} families"
    )


# ------------------------------------------------------------------ fixtures and parametrization


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    _require_shared()
    return SHARED_DIR


@pytest.fixture(scope="session")
def tokenizers_dir() -> Path:
    _require_shared()
    return TOKENIZERS_DIR


@pytest.fixture(scope="session")
def tiktoken_dir() -> Path:
    _require_shared()
    return TIKTOKEN_DIR


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    _require_shared()
    return CORPUS_DIR


@pytest.fixture(scope="session")
def exhaustive() -> bool:
    return EXHAUSTIVE


@pytest.fixture(scope="session")
def corpus_paths() -> tuple[Path, ...]:
    """Every corpus file."""
    return corpus_files()


@pytest.fixture(scope="session")
def corpus_sampler() -> Callable[[Path, str], list[Sample]]:
    """`corpus_samples(path, family)`: the texts of a corpus file that a family is compared on."""
    return corpus_samples


@functools.cache
def tiktoken_reference_encoding(name: str) -> Any:
    """tiktoken's own constructor for `name` (its split pattern and special tokens), reading the
    rank file from ../shared/tokenizers/tiktoken/ instead of downloading it; tiktoken still checks
    the file against the sha256 it pins for the official file."""
    import tiktoken
    import tiktoken_ext.openai_public as public
    from tiktoken import load

    def load_local(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        local = TIKTOKEN_DIR / url.rsplit("/", 1)[-1]
        return load.load_tiktoken_bpe(str(local), expected_hash=expected_hash)

    def gpt2_ranks(**_: str) -> dict[bytes, int]:
        # tiktoken builds gpt2 from GPT-2's original vocab.bpe and encoder.json, which are not
        # staged; converted, they are the r50k_base file byte for byte (SOURCES.md).
        # (r50k_base's own reference checks that file against tiktoken's pinned sha256.)
        return load_local("r50k_base.tiktoken")

    _require_shared()
    original = public.load_tiktoken_bpe, public.data_gym_to_mergeable_bpe_ranks
    saved_cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR")
    public.load_tiktoken_bpe = load_local
    public.data_gym_to_mergeable_bpe_ranks = gpt2_ranks
    os.environ["TIKTOKEN_CACHE_DIR"] = ""  # read the file itself, leave no copy in a temp cache
    try:
        spec = public.ENCODING_CONSTRUCTORS[name]()
    finally:
        public.load_tiktoken_bpe, public.data_gym_to_mergeable_bpe_ranks = original
        if saved_cache_dir is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = saved_cache_dir
    return tiktoken.Encoding(**spec)


@pytest.fixture(scope="session")
def tiktoken_reference() -> Callable[[str], Any]:
    """`tiktoken_reference(name)`: the reference `tiktoken.Encoding` for any of tiktoken's names."""
    return tiktoken_reference_encoding


#: tiktoken's encodings, in its registry's order: every one is compared with tiktoken.
TIKTOKEN_ENCODINGS = (
    "gpt2",
    "r50k_base",
    "p50k_base",
    "p50k_edit",
    "cl100k_base",
    "o200k_base",
    "o200k_harmony",
)


def seed_tiktoken_cache(directory: Path) -> None:
    """Puts the staged r50k_base and p50k_base files in `directory` as tiktoken caches them (named
    by the sha1 of their official URL)."""
    import hashlib

    from batok import rank_files

    _require_shared()
    directory.mkdir(parents=True, exist_ok=True)
    for file_name in rank_files.PINNED_SHA256:
        url = rank_files.BASE_URL + file_name
        key = hashlib.sha1(url.encode()).hexdigest()
        (directory / key).write_bytes((TIKTOKEN_DIR / file_name).read_bytes())


@pytest.fixture(scope="session")
def tiktoken_cache_seeder() -> Callable[[Path], None]:
    """`seed(directory)`: `seed_tiktoken_cache` (test modules cannot import this conftest by name:
    tests/datasets has a conftest of its own)."""
    return seed_tiktoken_cache


@pytest.fixture(scope="session")
def tiktoken_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tiktoken cache holding the staged rank files, as `TIKTOKEN_CACHE_DIR` for the session: the
    fetched encodings load from it, never from the network (nor from a shared temp cache)."""
    directory = tmp_path_factory.mktemp("tiktoken-cache")
    seed_tiktoken_cache(directory)
    saved = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
    yield directory
    if saved is None:
        os.environ.pop("TIKTOKEN_CACHE_DIR", None)
    else:
        os.environ["TIKTOKEN_CACHE_DIR"] = saved


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # `hf_family` and `tiktoken_family` are session fixtures (tests/parity/conftest.py) that load
    # the reference and batok once per family; parametrizing them at session scope makes pytest
    # group all tests of one family together, so only one family is in memory at a time.
    if "hf_family" in metafunc.fixturenames:
        if "case_file" in metafunc.fixturenames:
            metafunc.parametrize(
                ("hf_family", "case_file"),
                case_file_params(),
                indirect=["hf_family"],
                scope="session",
            )
        else:
            metafunc.parametrize(
                "hf_family", tokenizer_dir_params(), indirect=True, scope="session"
            )
    if "tiktoken_family" in metafunc.fixturenames:
        metafunc.parametrize("tiktoken_family", TIKTOKEN_ENCODINGS, indirect=True, scope="session")
    if "corpus_file" in metafunc.fixturenames:
        metafunc.parametrize("corpus_file", corpus_files(), ids=[p.stem for p in corpus_files()])
