"""Fuzz encode and decode of real tokenizers against their references.

Every input picks one tokenizer and builds a text from the fuzzer's bytes: raw Unicode, pieces
of the tokenizer's own vocabulary and added tokens, whitespace runs, emoji sequences, combining
marks. Properties:

- `tokenizer.json` families (`batok.Tokenizer` against `tokenizers.Tokenizer`): the same ids,
  tokens and character offsets from `encode_plus`, with and without special tokens; `encode`
  and `count_tokens` agree with them; decoding the ids gives the same text.
- tiktoken encodings (`batok.get_encoding` against `tiktoken`): the same ids from
  `encode_ordinary` and from `encode(allowed_special="all")`, and the same bytes and text from
  decoding them.

The tokenizers are the real files from `../shared/tokenizers` (or `BATOK_FUZZ_SHARED`); without
them this target has nothing to compare and says so. `BATOK_FUZZ_FAMILIES` (comma-separated
directory names and tiktoken encoding names) picks which; the default is one of each kind of
pipeline batok runs. Run it with `python fuzz/run.py encode`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    import batok

import tokenizers
from _common import (
    FRAGMENTS,
    Finding,
    check_clean,
    difference,
    keep_going,
    model_type,
    outcome,
    shared_tokenizers_dir,
    short,
    tiktoken_reference,
)

# One of each pipeline: byte-level BPE (gpt2), byte-level with a Split regex (llama-3.2),
# SentencePiece-style BPE with byte fallback (llama-2), Metaspace (mistral), CLIP's lowercasing
# normalizers and end-of-word suffix, Roberta post-processing, and tiktoken's two encodings.
DEFAULT_FAMILIES = "gpt2,llama-3.2,llama-2,mistral-7b-v0.1,clip,roberta-base,cl100k_base,o200k_base"
TIKTOKEN_NAMES = ("cl100k_base", "o200k_base", "p50k_base", "r50k_base")


class HfPair:
    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.reference = tokenizers.Tokenizer.from_file(path)
        self.ours = batok.Tokenizer.from_file(path)
        vocab = self.reference.get_vocab(with_added_tokens=False)
        # Vocabulary pieces as text: decoding single ids turns byte-level and SentencePiece
        # tokens back into the text that produces them.
        ids = sorted(vocab.values())
        step = max(1, len(ids) // 4000)
        self.pieces = [self.reference.decode([i]) for i in ids[::step]]
        self.pieces += [t.content for t in self.reference.get_added_tokens_decoder().values()]

    @atheris.instrument_func
    def check(self, text: str) -> None:
        for add_special in (True, False):
            mode = f"{self.name}, add_special_tokens={add_special}, text {short(text, 200)}"
            expected = outcome(self.reference.encode, text, add_special_tokens=add_special)
            got = outcome(self.ours.encode_plus, text, add_special)
            if got[0] == "raised":
                check_clean(f"encode_plus ({mode})", got[1])
                if expected[0] == "ok":
                    raise Finding(f"batok raised {short(str(got[1]))}; tokenizers encoded ({mode})")
                continue
            if expected[0] == "raised":
                raise Finding(
                    f"tokenizers raised {short(str(expected[1]))}; batok encoded ({mode})"
                )
            want, have = expected[1], got[1]
            for field in ("ids", "tokens", "offsets"):
                w, h = list(getattr(want, field)), list(getattr(have, field))
                if w != h:
                    raise Finding(difference(f"{field} ({mode})", w, h))
            ids = list(have.ids)
            if self.ours.encode(text, add_special) != ids:
                raise Finding(f"encode() differs from encode_plus().ids ({mode})")
            if self.ours.count_tokens(text, add_special) != len(ids):
                raise Finding(f"count_tokens() differs from len(encode()) ({mode})")
            for skip in (False, True):
                w_text = self.reference.decode(ids, skip_special_tokens=skip)
                h_text = outcome(self.ours.decode, ids, skip)
                if h_text[0] == "raised":
                    check_clean("decode", h_text[1])
                    raise Finding(f"decode raised {short(str(h_text[1]))} ({mode})")
                if w_text != h_text[1]:
                    raise Finding(
                        f"decode(skip_special_tokens={skip}) differs ({mode}): tokenizers "
                        f"{short(w_text)}, batok {short(h_text[1])}"
                    )


class TiktokenPair:
    def __init__(self, name: str, rank_dir: Any) -> None:
        self.name = name
        self.reference = tiktoken_reference(name, rank_dir)
        self.ours = batok.get_encoding(name)
        n = self.reference.n_vocab
        step = max(1, n // 4000)
        self.pieces = []
        for i in range(0, self.reference.max_token_value, step):
            try:  # the rank files have holes (cl100k_base has no 100256..100275)
                piece = self.reference.decode_single_token_bytes(i)
            except KeyError:
                continue
            self.pieces.append(piece.decode("utf-8", "replace"))
        self.pieces += list(self.reference.special_tokens_set)

    @atheris.instrument_func
    def check(self, text: str) -> None:
        mode = f"{self.name}, text {short(text, 200)}"
        want = self.reference.encode_ordinary(text)
        have = outcome(self.ours.encode_ordinary, text)
        if have[0] == "raised":
            check_clean("encode_ordinary", have[1])
            raise Finding(f"encode_ordinary raised {short(str(have[1]))} ({mode})")
        if want != have[1]:
            raise Finding(
                f"encode_ordinary differs ({mode}): tiktoken {short(want)}, batok {short(have[1])}"
            )
        want_all = self.reference.encode(text, allowed_special="all")
        have_all = self.ours.encode(text, allowed_special="all")
        if want_all != have_all:
            raise Finding(
                f"encode(allowed_special='all') differs ({mode}): tiktoken "
                f"{short(want_all)}, batok {short(have_all)}"
            )
        if self.ours.count_tokens(text) != len(want):
            raise Finding(f"count_tokens() differs from len(encode_ordinary()) ({mode})")
        for ids in (want, want_all):
            if self.reference.decode_bytes(ids) != self.ours.decode_bytes(ids):
                raise Finding(f"decode_bytes differs ({mode})")
            if self.reference.decode(ids) != self.ours.decode(ids):
                raise Finding(f"decode differs ({mode})")


def load_pairs() -> list[Any]:
    shared = shared_tokenizers_dir()
    if shared is None:
        sys.exit(
            "fuzz_encode needs the real tokenizer files in ../shared/tokenizers "
            "(or BATOK_FUZZ_SHARED)"
        )
    names = [n.strip() for n in os.environ.get("BATOK_FUZZ_FAMILIES", DEFAULT_FAMILIES).split(",")]
    pairs: list[Any] = []
    for name in filter(None, names):
        if name in TIKTOKEN_NAMES:
            pairs.append(TiktokenPair(name, shared / "tiktoken"))
            continue
        path = shared / name / "tokenizer.json"
        if not path.is_file():
            sys.exit(f"no tokenizer.json for {name!r} in {shared}")
        if model_type(path) != "BPE":
            sys.exit(
                f"{name} is a {model_type(path)} tokenizer; batok runs BPE tokenizer.json files"
            )
        pairs.append(HfPair(name, str(path)))
    return pairs


PAIRS: list[Any] = []


@atheris.instrument_func
def build_text(fdp: atheris.FuzzedDataProvider, pieces: list[str]) -> str:
    parts: list[str] = []
    for _ in range(fdp.ConsumeIntInRange(1, 16)):
        if fdp.remaining_bytes() == 0:
            break
        kind = fdp.ConsumeIntInRange(0, 5)
        if kind == 0:
            parts.append(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(1, 24)))
        elif kind in (1, 2):
            parts.append(pieces[fdp.ConsumeIntInRange(0, len(pieces) - 1)])
        elif kind == 3:
            parts.append(FRAGMENTS[fdp.ConsumeIntInRange(0, len(FRAGMENTS) - 1)])
        elif kind == 4:
            # A repeated piece: long runs of one character or token are where the BPE caches
            # and the long-word paths start.
            piece = pieces[fdp.ConsumeIntInRange(0, len(pieces) - 1)]
            parts.append(piece * fdp.ConsumeIntInRange(2, 64))
        else:
            chars = fdp.ConsumeIntListInRange(fdp.ConsumeIntInRange(1, 8), 0, 0x10FFFF)
            parts.append("".join(chr(c) for c in chars if not 0xD800 <= c <= 0xDFFF))
    return "".join(parts)


@atheris.instrument_func
def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    pair = PAIRS[fdp.ConsumeIntInRange(0, len(PAIRS) - 1)]
    pair.check(build_text(fdp, pair.pieces))


def main() -> None:
    PAIRS.extend(load_pairs())
    atheris.Setup(sys.argv, keep_going(test_one_input))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
