"""Fuzz `batok.Tokenizer.from_str` with mutated tokenizer.json files, `tokenizers` the oracle.

Each input is the UTF-8 text of a tokenizer.json, optionally followed by a NUL byte and a text
to encode. A structure-aware mutator parses the JSON, changes one to three things in it (a
value, a component's type, a vocabulary entry, a merge, an added token, a component spliced in
from another seed) and writes it back; now and then it mutates the raw bytes instead, so broken
JSON is tried too.

Properties:
- `Tokenizer.from_str` loads the file or raises a clean error (`BatokError`, `ValueError`,
  `TypeError`): never a RuntimeError (a Rust panic), never a crash of the interpreter.
- A file batok loads, `tokenizers` loads too.
- A file `tokenizers` loads, batok loads or refuses with "... is not supported" (truncation,
  padding and some components are not supported).
- When both load, encoding the fuzzed text and a few probes gives the same ids, tokens and
  offsets, with and without special tokens, and decoding those ids gives the same text.
  Where the reference is no oracle it is not asked: a text it panics on (its own bugs), and
  token strings and decoded text of a vocabulary where two tokens share an id (which of them
  `tokenizers` gives back changes from one load to the next).

`tokenizers` runs in a child process (`_reference.py`): a mutated file that crashes it (it has
aborted on allocations of several GB and on panics during unwinding) skips that input instead of
ending the run as if batok had crashed.

Seeds: fuzz/seeds/from_str/*.json, plus, when the real tokenizer files are beside the checkout
(`../shared/tokenizers`), each of them cut down to its first few hundred tokens (set
BATOK_FUZZ_REAL=0 to leave them out). Run it with `python fuzz/run.py from_str`.
"""

from __future__ import annotations

import copy
import json
import os
import random
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports():
    import batok

from _common import (
    FRAGMENTS,
    SEEDS_DIR,
    Finding,
    check_clean,
    difference,
    keep_going,
    outcome,
    shared_tokenizers_dir,
    short,
)
from _reference import Reference, ReferenceCrashed

SEED_DIR = SEEDS_DIR / "from_str"

# Every component type tokenizers knows, so a mutation can turn one into another.
TYPE_NAMES = (
    "BPE",
    "WordPiece",
    "Unigram",
    "WordLevel",
    "Sequence",
    "NFC",
    "NFD",
    "NFKC",
    "NFKD",
    "Lowercase",
    "Replace",
    "Prepend",
    "Strip",
    "StripAccents",
    "BertNormalizer",
    "Precompiled",
    "Nmt",
    "ByteLevel",
    "Split",
    "Metaspace",
    "Digits",
    "Punctuation",
    "Whitespace",
    "WhitespaceSplit",
    "BertPreTokenizer",
    "CharDelimiterSplit",
    "UnicodeScripts",
    "RobertaProcessing",
    "BertProcessing",
    "TemplateProcessing",
    "ByteFallback",
    "Fuse",
    "BPEDecoder",
    "CTC",
)
SEQUENCE_KEYS = {
    "normalizer": "normalizers",
    "pre_tokenizer": "pretokenizers",
    "post_processor": "processors",
    "decoder": "decoders",
}
INTERESTING: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    255,
    256,
    2**31 - 1,
    2**31,
    2**32 - 1,
    2**32,
    2**32 + 3,
    2**63,
    2**64,
    1.5,
    -0.0,
    1e300,
    "",
    " ",
    "a",
    "\u2581",
    "\u0120",
    "<s>",
    "\\",
    "(",
    "[",
    "(?=a)",
    "\\p{L}+",
    ".*",
    "\x00",
    "😀",
    "always",
    "first",
    "never",
    "Isolated",
    "Removed",
    "MergedWithPrevious",
    "MergedWithNext",
    "Contiguous",
    [],
    {},
)
PROBE = "Hello the world, 1234 is <s> it [MASK] word <sep> ok <|endoftext|> 😀 naïve  \n\n x"


# ------------------------------------------------------------------ seeds


def _seed_docs() -> list[Any]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SEED_DIR.glob("*.json"))]


SEED_DOCS = _seed_docs()


def cut_down(doc: dict[str, Any], keep: int) -> dict[str, Any]:
    """A real tokenizer.json with only its first `keep` tokens, the merges among them and a few
    added tokens: the same structure, small enough to load thousands of times."""
    model = doc.get("model", {})
    vocab = model.get("vocab")
    added = doc.get("added_tokens") or []
    added = list({t["id"]: t for t in [t for t in added if t["id"] < keep] + added[:8]}.values())
    doc["added_tokens"] = added
    if isinstance(vocab, dict):
        # Added tokens that are in the vocabulary stay there, at their ids, as in the real file.
        contents = {t["content"] for t in added}
        model["vocab"] = {
            t: i for t, i in vocab.items() if isinstance(i, int) and (i < keep or t in contents)
        }
        kept = model["vocab"]
        prefix = model.get("continuing_subword_prefix") or ""
        merges = []
        for merge in model.get("merges") or []:
            left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
            joined = right[len(prefix) :] if prefix and right.startswith(prefix) else right
            if left in kept and right in kept and left + joined in kept:
                merges.append(merge)
        if "merges" in model:
            model["merges"] = merges
    elif isinstance(vocab, list):
        model["vocab"] = vocab[:keep]
    return doc


def write_real_seeds(directory: Path, keep: int = 600, max_bytes: int = 12_000_000) -> int:
    """Cut-down copies of the real tokenizer files, for the fuzzer to start from."""
    shared = shared_tokenizers_dir()
    if shared is None:
        return 0
    count = 0
    for path in sorted(shared.glob("*/tokenizer.json")):
        if path.stat().st_size > max_bytes:
            continue
        doc = cut_down(json.loads(path.read_text(encoding="utf-8")), keep)
        target = directory / f"real-{path.parent.name}.json"
        target.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        count += 1
    return count


# ------------------------------------------------------------------ the structure-aware mutator


def _nodes(doc: Any) -> tuple[list[tuple[Any, Any, str]], list[tuple[Any, Any, str]]]:
    """(container, key, path) of every value under `doc`, split into the vocabulary and merges
    (many, dull) and everything else (few, where the bugs are)."""
    small: list[tuple[Any, Any, str]] = []
    big: list[tuple[Any, Any, str]] = []
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        node, path = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            child = f"{path}.{key}"
            (big if child.startswith((".model.vocab.", ".model.merges.")) else small).append(
                (node, key, child)
            )
            if isinstance(value, (dict, list)) and len(value) < 5000:
                stack.append((value, child))
    return small, big


def _random_string(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.4:
        return rng.choice(FRAGMENTS)
    if pick < 0.7:
        return "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 4)))
    return (
        "".join(
            chr(rng.choice((rng.randint(32, 0x2FF), rng.randint(0, 0x10FFFF))))
            for _ in range(rng.randint(1, 5))
        )
        .encode("utf-8", "replace")
        .decode("utf-8", "replace")
    )


def _mutate_string(rng: random.Random, text: str) -> str:
    if not text or rng.random() < 0.2:
        return _random_string(rng)
    i = rng.randrange(len(text) + 1)
    op = rng.randrange(4)
    if op == 0:
        return text[:i] + _random_string(rng) + text[i:]
    if op == 1:
        return text[:i] + text[i + 1 :]
    if op == 2:
        return text[:i] + text[i:] * 2
    return text.upper() if rng.random() < 0.5 else text[::-1]


def _vocab_tokens(doc: Any) -> list[str]:
    vocab = doc.get("model", {}).get("vocab") if isinstance(doc, dict) else None
    if isinstance(vocab, dict):
        return list(vocab)
    if isinstance(vocab, list):
        return [t[0] for t in vocab if isinstance(t, list) and t and isinstance(t[0], str)]
    return []


def _mutate_vocab(rng: random.Random, doc: dict[str, Any]) -> None:
    """A token, a merge or an added token: added, removed, renamed or renumbered."""
    model = doc.get("model")
    if not isinstance(model, dict):
        return
    vocab = model.get("vocab")
    merges = model.get("merges")
    tokens = _vocab_tokens(doc) or ["a"]
    op = rng.randrange(7)
    if op == 0 and isinstance(vocab, dict):
        new_id = rng.choice((len(vocab), rng.randrange(len(vocab) + 1), len(vocab) + 7, 2**32))
        vocab[
            _random_string(rng) if rng.random() < 0.5 else rng.choice(tokens) + rng.choice(tokens)
        ] = new_id
    elif op == 1 and isinstance(vocab, dict) and vocab:
        vocab.pop(rng.choice(list(vocab)))
    elif op == 2 and isinstance(merges, list):
        left, right = rng.choice(tokens), rng.choice(tokens)
        merge: Any = f"{left} {right}" if rng.random() < 0.7 else [left, right]
        merges.insert(rng.randrange(len(merges) + 1), merge)
        if isinstance(vocab, dict) and rng.random() < 0.7:
            vocab.setdefault(left + right, len(vocab))
    elif op == 3 and isinstance(merges, list) and merges:
        if rng.random() < 0.5:
            merges.pop(rng.randrange(len(merges)))
        else:
            i, j = rng.randrange(len(merges)), rng.randrange(len(merges))
            merges[i], merges[j] = merges[j], merges[i]
    else:
        added = doc.setdefault("added_tokens", [])
        if not isinstance(added, list):
            return
        if added and rng.random() < 0.4:
            token = rng.choice(added)
            if isinstance(token, dict):
                flag = rng.choice(("special", "lstrip", "rstrip", "single_word", "normalized"))
                token[flag] = not token.get(flag, False)
            return
        ids = [t.get("id") for t in added if isinstance(t, dict)]
        content = rng.choice(tokens) if rng.random() < 0.3 else _random_string(rng)
        new_id = rng.choice(
            [len(tokens), len(tokens) + len(added), rng.randrange(len(tokens) + 1), *ids]
        )
        added.append(
            {
                "id": new_id,
                "content": content,
                "single_word": rng.random() < 0.2,
                "lstrip": rng.random() < 0.2,
                "rstrip": rng.random() < 0.2,
                "normalized": rng.random() < 0.5,
                "special": rng.random() < 0.5,
            }
        )


def _splice_component(rng: random.Random, doc: dict[str, Any]) -> None:
    """A normalizer, pre-tokenizer, post-processor or decoder from another seed, in place of
    this one's or in a Sequence with it."""
    key = rng.choice(list(SEQUENCE_KEYS))
    donor = rng.choice(SEED_DOCS).get(key)
    if rng.random() < 0.5 or doc.get(key) is None or donor is None:
        doc[key] = copy.deepcopy(donor)
    else:
        parts = [doc[key], copy.deepcopy(donor)]
        rng.shuffle(parts)
        doc[key] = {"type": "Sequence", SEQUENCE_KEYS[key]: parts}


def mutate_doc(rng: random.Random, doc: Any) -> Any:
    if not isinstance(doc, dict) or rng.random() < 0.03:
        return rng.choice(SEED_DOCS) if rng.random() < 0.5 else rng.choice(INTERESTING)
    choice = rng.random()
    if choice < 0.2:
        _mutate_vocab(rng, doc)
        return doc
    if choice < 0.3:
        _splice_component(rng, doc)
        return doc
    small, big = _nodes(doc)
    nodes = small if (small and rng.random() < 0.85) or not big else big
    if not nodes:
        return doc
    container, key, _ = rng.choice(nodes)
    value = container[key]
    op = rng.random()
    if key == "type" and op < 0.4:
        container[key] = rng.choice(TYPE_NAMES)
    elif op < 0.25:
        container[key] = copy.deepcopy(rng.choice(INTERESTING))
    elif isinstance(value, str) and op < 0.6:
        container[key] = _mutate_string(rng, value)
    elif isinstance(value, bool) and op < 0.6:
        container[key] = not value
    elif isinstance(value, int) and op < 0.6:
        container[key] = value + rng.choice((-1, 1, -value, 2**32, rng.randint(-300, 300)))
    elif isinstance(value, list) and value and op < 0.7:
        i = rng.randrange(len(value))
        if rng.random() < 0.5:
            value.insert(i, copy.deepcopy(value[i]))
        else:
            value.pop(i)
    elif op < 0.8:
        if isinstance(container, dict):
            container.pop(key)
        else:
            container.pop(key)
    elif op < 0.9 and isinstance(container, dict):
        # A key that belongs elsewhere: components share few field names, so this finds the
        # fields a reader forgot to check.
        donor = rng.choice(SEED_DOCS)
        donor_nodes = _nodes(donor)[0]
        if not donor_nodes:  # a seed that is not a JSON object or array has nothing to lend
            return doc
        d_container, d_key, _ = rng.choice(donor_nodes)
        if isinstance(d_key, str):
            container[d_key] = copy.deepcopy(d_container[d_key])
    else:
        container[key] = [value] if rng.random() < 0.5 else {"type": rng.choice(TYPE_NAMES)}
    return doc


def mutate_text(rng: random.Random, text: str) -> str:
    if len(text) > 2000:
        text = text[:2000]
    for _ in range(rng.randint(1, 3)):
        text = _mutate_string(rng, text)
    return text


def serialize(rng: random.Random, doc: Any, text: str | None) -> bytes:
    try:
        out = json.dumps(doc, ensure_ascii=rng.random() < 0.3).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape
        out = json.dumps(doc, ensure_ascii=True).encode("utf-8")
    if text:
        out += b"\x00" + text.encode("utf-8", "replace")
    return out


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    if rng.random() < 0.08:
        return atheris.Mutate(data, max_size)
    raw, sep, text_bytes = data.partition(b"\x00")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        if rng.random() < 0.5:
            return atheris.Mutate(data, max_size)
        doc = copy.deepcopy(rng.choice(SEED_DOCS))
    text = text_bytes.decode("utf-8", "replace") if sep else None
    if rng.random() < 0.25:
        text = mutate_text(rng, text or "")
    else:
        for _ in range(rng.randint(1, 3)):
            doc = mutate_doc(rng, doc)
    out = serialize(rng, doc, text)
    return out if len(out) <= max_size else atheris.Mutate(data, max_size)


# ------------------------------------------------------------------ the properties


def _is_not_supported(err: BaseException) -> bool:
    return "not supported" in str(err)


@atheris.instrument_func
def random_dropout(json_text: str) -> bool:
    """Whether the model has a BPE dropout strictly between 0 and 1 (as the f32 `tokenizers`
    keeps): every encode is then a random draw in both libraries, and the outcomes are
    compared by their frequencies in tests/parity/test_bpe_dropout.py, not here."""
    try:
        dropout = json.loads(json_text).get("model", {}).get("dropout")
    except (ValueError, AttributeError, RecursionError):
        return False
    if not isinstance(dropout, (int, float)) or isinstance(dropout, bool):
        return False
    as_f32 = struct.unpack("f", struct.pack("f", dropout))[0] if abs(dropout) < 3e38 else dropout
    return 0.0 < as_f32 < 1.0


@atheris.instrument_func
def shared_ids(json_text: str) -> bool:
    """Whether two tokens of the vocabulary share an id. `tokenizers` then gives that id back
    as whichever token its hash map lists last, which changes from one load to the next (the
    same file encodes to other token strings and decodes to other text in two loads), so
    token strings and decoded text are no oracle there; ids still are, and offsets are where
    the token strings agree (trimming offsets looks at the strings)."""
    try:
        vocab = json.loads(json_text).get("model", {}).get("vocab")
    except (ValueError, AttributeError, RecursionError):
        return False
    if isinstance(vocab, dict):
        ids = [i for i in vocab.values() if isinstance(i, int)]
        return len(ids) != len(set(ids))
    return False


@atheris.instrument_func
def compare_encodings(
    reference: Reference, ours: batok.Tokenizer, text: str, ambiguous: bool = False
) -> None:
    for add_special in (True, False):
        mode = f"add_special_tokens={add_special} on {short(text, 120)}"
        expected = reference.call("encode", text, add_special)
        got = outcome(ours.encode_plus, text, add_special)
        if got[0] == "raised":
            check_clean(f"encode_plus ({mode})", got[1])
            if expected[0] == "ok":
                raise Finding(
                    f"batok raised {short(str(got[1]))} where tokenizers encoded; {mode}",
                    kind="encode: batok raised where tokenizers encoded",
                )
            continue
        if expected[0] == "raised":
            if expected[1].type_name == "PanicException":
                continue  # a bug of the reference (e.g. slicing inside a char): no oracle here
            raise Finding(
                f"tokenizers raised {short(str(expected[1]))}, batok encoded; {mode}",
                kind="encode: tokenizers raised where batok encoded",
            )
        enc = got[1]
        # Offsets follow the token strings where a processor trims them (ByteLevel,
        # RobertaProcessing trim a token that is only spaces), so with ambiguous strings they
        # are an oracle only while the strings agree.
        same_tokens = list(expected[1][1]) == list(enc.tokens)
        for field, reference_value in zip(("ids", "tokens", "offsets"), expected[1], strict=True):
            if ambiguous and (field == "tokens" or (field == "offsets" and not same_tokens)):
                continue
            want, have = list(reference_value), list(getattr(enc, field))
            if want != have:
                raise Finding(difference(f"{field} ({mode})", want, have), kind=f"{field} differ")
        ids = list(enc.ids)
        if ours.encode(text, add_special) != ids:
            raise Finding(
                f"encode() differs from encode_plus().ids ({mode})",
                kind="encode() differs from encode_plus().ids",
            )
        # An id in no vocabulary (a template's special token the file never defines): tokenizers
        # drops it when decoding, batok raises its documented ValueError. Compare the rest.
        known = [i for i in ids if ours.id_to_token(i) is not None]
        if known != ids and outcome(ours.decode, ids, False)[0] != "raised":
            raise Finding(
                f"decode accepted an id that is in no vocabulary ({mode})",
                kind="decode accepted an id that is in no vocabulary",
            )
        for skip in () if ambiguous else (False, True):
            want_text = reference.call("decode", ids, skip)
            have_text = outcome(ours.decode, known, skip)
            if have_text[0] == "raised":
                check_clean(f"decode(skip_special_tokens={skip})", have_text[1])
                if want_text[0] == "ok":
                    raise Finding(
                        f"decode(skip_special_tokens={skip}) raised {short(str(have_text[1]))} "
                        f"where tokenizers decoded; {mode}",
                        kind=f"decode(skip_special_tokens={skip}) raised",
                    )
            elif want_text[0] == "ok" and want_text[1] != have_text[1]:
                raise Finding(
                    f"decode(skip_special_tokens={skip}) differs ({mode}): tokenizers "
                    f"{short(want_text[1])}, batok {short(have_text[1])}",
                    kind=f"decode(skip_special_tokens={skip}) differs",
                )


def probes(reference: Reference, text: str | None) -> list[str]:
    out = [PROBE]
    if text:
        out.insert(0, text)
    parts = reference.call("probe_parts")
    if parts[0] == "ok":
        added, vocab = parts[1]
        out.append(" ".join(added + vocab) + " " + "".join(added))
    return out


# One reference process for the whole run, restarted after each crash.
REFERENCE = Reference()
# How many inputs crashed or hung the reference (skipped: there is nothing to compare with).
REFERENCE_CRASHES = [0]


@atheris.instrument_func
def check(data: bytes) -> None:
    try:
        compare(data)
    except ReferenceCrashed as crash:
        REFERENCE_CRASHES[0] += 1
        if REFERENCE_CRASHES[0] <= 3:
            print(f"tokenizers crashed ({crash}); input skipped", file=sys.stderr, flush=True)


@atheris.instrument_func
def compare(data: bytes) -> None:
    raw, sep, text_bytes = data.partition(b"\x00")
    json_text = raw.decode("utf-8", "replace")
    text = text_bytes.decode("utf-8", "replace") if sep else None
    ours = outcome(batok.Tokenizer.from_str, json_text)
    if ours[0] == "raised":
        check_clean("Tokenizer.from_str", ours[1])
    reference = REFERENCE.call("load", json_text)
    if ours[0] == "ok" and reference[0] == "raised":
        raise Finding(
            f"batok loads a file tokenizers refuses ({reference[1].type_name}: "
            f"{short(str(reference[1]))})",
            kind="batok loads a file tokenizers refuses",
        )
    if ours[0] == "raised" and reference[0] == "ok":
        if _is_not_supported(ours[1]):
            return
        # batok may refuse at load time what tokenizers only refuses when it encodes.
        if any(REFERENCE.call("encode", p, True)[0] == "raised" for p in probes(REFERENCE, text)):
            return
        raise Finding(f"batok refuses a file tokenizers loads and uses: {short(str(ours[1]))}")
    if ours[0] == "ok":
        clash = REFERENCE.call("normalized_added_clash")
        if clash[0] == "ok" and clash[1]:
            # `tokenizers` matches one of the clashing tokens, a different one from one load to
            # the next: no oracle for any text.
            return
        if random_dropout(json_text):
            for probe in probes(REFERENCE, text):
                got = outcome(ours[1].encode_plus, probe, True)
                if got[0] == "raised":
                    check_clean("encode_plus with dropout", got[1])
            return
        for probe in probes(REFERENCE, text):
            compare_encodings(REFERENCE, ours[1], probe, shared_ids(json_text))


def test_one_input(data: bytes) -> None:
    check(data)


def main() -> None:
    argv = list(sys.argv)
    # The cut-down real files join the corpus directories given on the command line.
    # (Not when running single inputs, e.g. to reproduce a crash file.)
    running_files = any(not a.startswith("-") and Path(a).is_file() for a in argv[1:])
    if os.environ.get("BATOK_FUZZ_REAL", "1") != "0" and not running_files:
        real = Path(tempfile.mkdtemp(prefix="batok-fuzz-real-"))
        if write_real_seeds(real):
            argv.append(str(real))
    atheris.Setup(argv, keep_going(test_one_input), custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
