"""Calling a tokenizer as in transformers: truncation, overflowing windows, padding, columns.

The engine encodes each text without special tokens; this module cuts the ids into windows
that leave room for the special tokens, puts the special tokens around each window, pads the
rows and returns the columns asked for. The special tokens around a single sequence are read
once from the engine itself (a probe text encoded with and without them), so whatever the
file's post-processor adds is what a window gets. A pair of texts is framed the same way from a
probe pair, and cut as `tokenizers` cuts pairs (which transformers' fast tokenizers run):
`longest_first`, `only_first` or `only_second`, each text into its own overflowing windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._validate import check_texts
from .batch_encoding import BatchEncoding

if TYPE_CHECKING:
    from .tokenizer import Tokenizer

__all__ = ["VERY_LARGE_INTEGER", "Frame", "call"]

# What transformers uses for "no limit" in model_max_length.
VERY_LARGE_INTEGER = int(1e30)
_LARGE_INTEGER = int(1e20)
_PADDING = {False: None, "do_not_pad": None, True: "longest", "longest": "longest"}
_PADDING["max_length"] = "max_length"
_TRUNCATION = {None: None, False: None, "do_not_truncate": None}
_TRUNCATION.update({True: "longest_first", "longest_first": "longest_first"})
_TRUNCATION.update({"only_first": "only_first", "only_second": "only_second"})


@dataclass
class Row:
    """One output sequence (a window of one text, with its special tokens)."""

    input_ids: list[int] = field(default_factory=list)
    token_type_ids: list[int] = field(default_factory=list)
    special_tokens_mask: list[int] = field(default_factory=list)
    offset_mapping: list[tuple[int, int]] = field(default_factory=list)
    attention_mask: list[int] = field(default_factory=list)
    sample: int = 0
    # What the row is made of, in order, for `BatchEncoding.word_ids()` and the like: `(None,
    # n)` for n special or padding tokens, `(sequence, encoding, start, stop)` for a window of
    # a text's encoding. A few tuples per row; the word ids themselves are read from the
    # encodings only when asked for.
    layout: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Frame:
    """The special tokens around a single sequence, and the type id of its content."""

    prefix: tuple[int, ...]
    prefix_types: tuple[int, ...]
    suffix: tuple[int, ...]
    suffix_types: tuple[int, ...]
    content_type: int

    @property
    def added(self) -> int:
        return len(self.prefix) + len(self.suffix)

    @classmethod
    def probe(cls, tok: Tokenizer) -> Frame:
        native = tok._plain()
        for text in ("a", "hello", "0", " "):
            bare = native.encode(text, False)
            if len(bare):
                break
        full = native.encode(text, True)
        ids, types, inner = full.ids, full.type_ids, bare.ids
        n = len(inner)
        start = next((i for i in range(len(ids) - n + 1) if ids[i : i + n] == inner), None)
        if start is None:
            raise RuntimeError("the post-processor changes the ids it wraps; cannot frame them")
        prefix, suffix = ids[:start], ids[start + n :]
        prefix_types, suffix_types = types[:start], types[start + n :]
        return cls(
            tuple(prefix), tuple(prefix_types), tuple(suffix), tuple(suffix_types), types[start]
        )


@dataclass(frozen=True)
class PairFrame:
    """The special tokens around and between the two texts of a pair, and the type id of each
    text's tokens."""

    prefix: tuple[int, ...]
    prefix_types: tuple[int, ...]
    middle: tuple[int, ...]
    middle_types: tuple[int, ...]
    suffix: tuple[int, ...]
    suffix_types: tuple[int, ...]
    first_type: int
    second_type: int

    @property
    def added(self) -> int:
        return len(self.prefix) + len(self.middle) + len(self.suffix)

    @classmethod
    def probe(cls, tok: Tokenizer, add_special_tokens: bool) -> PairFrame:
        native = tok._plain()
        for first, second in (("a", "b"), ("hello", "world"), ("0", "1"), (" ", " ")):
            bare_a, bare_b = native.encode(first, False).ids, native.encode(second, False).ids
            if bare_a and bare_b:
                break
        full = native.encode_pair(first, second, add_special_tokens)
        ids, types, seqs = full.ids, full.type_ids, full.sequence_ids
        a = [i for i, s in enumerate(seqs) if s == 0]
        b = [i for i, s in enumerate(seqs) if s == 1]
        # Each text's tokens in one run, A before B, exactly the text's own ids, one type id.
        framed = bool(a and b) and (
            a == list(range(a[0], a[0] + len(bare_a)))
            and b == list(range(b[0], b[0] + len(bare_b)))
            and a[-1] < b[0]
            and [ids[i] for i in a] == bare_a
            and [ids[i] for i in b] == bare_b
            and len({types[i] for i in a}) == len({types[i] for i in b}) == 1
        )
        if not framed:
            raise NotImplementedError(
                "this tokenizer's post-processor does not write a pair as special tokens around "
                "and between the two texts; encode pairs with encode_plus(text, pair) instead"
            )
        a0, a1, b0, b1 = a[0], a[-1] + 1, b[0], b[-1] + 1
        pre, mid, suf = ids[:a0], ids[a1:b0], ids[b1:]
        pre_t, mid_t, suf_t = types[:a0], types[a1:b0], types[b1:]
        return cls(
            tuple(pre),
            tuple(pre_t),
            tuple(mid),
            tuple(mid_t),
            tuple(suf),
            tuple(suf_t),
            types[a0],
            types[b0],
        )


def call(
    tok: Tokenizer,
    text: str | Sequence[str],
    text_pair: Any = None,
    *,
    add_special_tokens: bool = True,
    padding: bool | str = False,
    truncation: bool | str | None = None,
    max_length: int | None = None,
    stride: int = 0,
    is_split_into_words: bool = False,
    pad_to_multiple_of: int | None = None,
    padding_side: str | None = None,
    return_tensors: str | None = None,
    return_token_type_ids: bool | None = None,
    return_attention_mask: bool | None = None,
    return_overflowing_tokens: bool = False,
    return_special_tokens_mask: bool = False,
    return_offsets_mapping: bool = False,
    return_length: bool = False,
    num_threads: int | None = None,
) -> BatchEncoding:
    if is_split_into_words:
        batched = _is_word_batch(text, "text")
        texts: list[Any] = list(text) if batched else [text]
        if text_pair is not None and _is_word_batch(text_pair, "text_pair") != batched:
            raise TypeError("text and text_pair must both be lists of words, or both batches")
        seconds: list[Any] | None = None
        if text_pair is not None:
            seconds = list(text_pair) if batched else [text_pair]
            if len(seconds) != len(texts):
                raise ValueError(
                    f"batch length of `text`: {len(texts)} does not match batch length of "
                    f"`text_pair`: {len(seconds)}."
                )
    else:
        batched = not isinstance(text, str)
        texts = [text] if isinstance(text, str) else list(text)
        seconds = _second_texts(text, text_pair, batched)
    pad_to, truncate_to, cut = _strategies(tok, padding, truncation, max_length)
    if pad_to is not None and tok.pad_token_id is None:
        raise ValueError(
            "Asking to pad but the tokenizer does not have a padding token. Set one first, "
            "e.g. `tokenizer.pad_token = tokenizer.eos_token`."
        )
    want_offsets = return_offsets_mapping
    overflow = return_overflowing_tokens
    if truncate_to is not None:
        # transformers sets the truncation before encoding, and `tokenizers` refuses a stride
        # that leaves no room in a single text's window, whatever the texts.
        room = truncate_to - tok._frame().added
        if 0 <= room < stride:
            raise ValueError(
                f"stride ({stride}) must be less than max_length minus the special tokens ({room})"
            )
    rows: list[Row] = []
    if seconds is not None:
        rows = _pair_rows(
            tok,
            texts,
            seconds,
            add_special_tokens,
            (truncate_to, cut, stride, overflow),
            want_offsets,
            num_threads,
            is_split_into_words,
        )
    else:
        frame = tok._frame() if add_special_tokens else Frame((), (), (), (), 0)
        encodings = _encode(tok, texts, is_split_into_words, num_threads)
        for sample, enc in enumerate(encodings):
            ids = enc.ids
            offsets = enc.offsets if want_offsets else None
            special = enc.special_tokens_mask
            if cut == "only_second" and truncate_to is not None:
                if len(ids) > truncate_to - frame.added:
                    raise ValueError("Truncation error: Second sequence not provided")
            side = tok.truncation_side
            for start, stop in _windows(len(ids), truncate_to, frame.added, stride, side, overflow):
                row = _framed(frame, ids, special, offsets, start, stop, sample)
                row.layout = [(None, len(frame.prefix)), (0, enc, start, stop)]
                row.layout.append((None, len(frame.suffix)))
                rows.append(row)
    if pad_to is not None:
        side = padding_side or tok.padding_side
        _pad(rows, tok, pad_to, max_length, pad_to_multiple_of, side, want_offsets)
    names = tok.model_input_names
    columns: dict[str, Any] = {"input_ids": [r.input_ids for r in rows]}
    if return_token_type_ids or (return_token_type_ids is None and "token_type_ids" in names):
        columns["token_type_ids"] = [r.token_type_ids for r in rows]
    if return_attention_mask or (return_attention_mask is None and "attention_mask" in names):
        columns["attention_mask"] = [r.attention_mask for r in rows]
    if return_special_tokens_mask:
        columns["special_tokens_mask"] = [r.special_tokens_mask for r in rows]
    if return_offsets_mapping:
        columns["offset_mapping"] = [r.offset_mapping for r in rows]
    if return_length:
        columns["length"] = [len(r.input_ids) for r in rows]
    if return_overflowing_tokens:
        columns["overflow_to_sample_mapping"] = [r.sample for r in rows]
    elif not batched and return_tensors is None:
        # transformers keeps `length` a list even for one text.
        columns = {key: value if key == "length" else value[0] for key, value in columns.items()}
    out = BatchEncoding(columns, tensor_type=return_tensors)
    out._rows = rows
    out._id_to_token = tok.id_to_token
    return out


def _is_word_batch(value: Any, name: str) -> bool:
    """With `is_split_into_words`: whether `value` is a batch (a list of lists of words) rather
    than one list of words; raises when it is neither."""
    if not isinstance(value, list | tuple):
        raise TypeError(
            f"with is_split_into_words=True, {name} must be a list of words (str) or a batch "
            f"of such lists, got {type(value).__name__}"
        )
    batched = bool(value) and isinstance(value[0], list | tuple)
    for seq in value if batched else [value]:
        if not isinstance(seq, list | tuple) or not all(isinstance(w, str) for w in seq):
            raise TypeError(
                f"with is_split_into_words=True, {name} must be a list of words (str) or a "
                "batch of such lists"
            )
    return batched


@dataclass
class WordsEncoding:
    """A sequence given as words, encoded as `tokenizers` encodes pre-tokenized input: each word
    on its own (normalized, pre-tokenized, as if it were a whole text), its tokens numbered
    with the word's index and offset within the word."""

    ids: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    offsets: list[tuple[int, int]] = field(default_factory=list)
    word_ids: list[int | None] = field(default_factory=list)
    special_tokens_mask: list[int] = field(default_factory=list)


def _encode(tok: Tokenizer, texts: list[Any], split_into_words: bool, threads: Any) -> list[Any]:
    """The engine's encodings of `texts` (no special tokens), or of word lists."""
    native = tok._plain()
    if not split_into_words:
        return native.encode_batch(texts, False, tok._threads(threads))  # type: ignore[no-any-return]
    words = check_texts([w for seq in texts for w in seq], "words")
    encoded = iter(native.encode_batch(words, False, tok._threads(threads)))
    out = []
    for seq in texts:
        merged = WordsEncoding()
        for index in range(len(seq)):
            enc = next(encoded)
            merged.ids += enc.ids
            merged.tokens += enc.tokens
            merged.offsets += enc.offsets
            merged.word_ids += [index] * len(enc.ids)
            merged.special_tokens_mask += enc.special_tokens_mask
        out.append(merged)
    return out


def _strategies(
    tok: Tokenizer, padding: bool | str, truncation: bool | str | None, max_length: int | None
) -> tuple[str | None, int | None, str | None]:
    """(padding strategy, length limit in tokens or None, truncation strategy), as
    transformers resolves them."""
    try:
        pad = _PADDING[padding]  # type: ignore[index]
        cut = _TRUNCATION[truncation]  # type: ignore[index]
    except (KeyError, TypeError):
        raise ValueError(
            f"padding must be True, False, 'longest', 'max_length' or 'do_not_pad' (got "
            f"{padding!r}); truncation True, False, 'longest_first', 'only_first', 'only_second' "
            f"or 'do_not_truncate' (got {truncation!r})"
        ) from None
    if max_length is not None and pad is None and truncation is None:
        cut = "longest_first"  # transformers: a max_length alone asks for truncation
    limit = None
    if cut is not None:
        limit = max_length if max_length is not None else tok.model_max_length
        if limit is not None and (limit <= 0 or limit > _LARGE_INTEGER):
            limit = None
    return pad, limit, cut


def _second_texts(text: Any, text_pair: Any, batched: bool) -> list[str] | None:
    """The second text of each pair, or None when the call encodes single texts."""
    if text_pair is None:
        return None
    if not batched:
        if not isinstance(text_pair, str):
            raise TypeError(f"text_pair must be a str with a str text, got {type(text_pair)}")
        # transformers: an empty second text encodes the first one alone.
        return [text_pair] if text_pair else None
    if isinstance(text_pair, str):
        raise TypeError(
            "when tokenizing batches of text, `text_pair` must be a list or tuple with the same "
            "length as `text`."
        )
    seconds = list(text_pair)
    if len(seconds) != len(text):
        raise ValueError(
            f"batch length of `text`: {len(text)} does not match batch length of `text_pair`:"
            f" {len(seconds)}."
        )
    for i, t in enumerate(seconds):
        if not isinstance(t, str):
            raise TypeError(f"text_pair[{i}] must be a str, got {type(t).__name__}")
    return seconds


def _cut(n: int, keep: int, stride: int, side: str) -> list[tuple[int, int]]:
    """`tokenizers`' `Encoding.truncate` of `n` tokens to `keep`: the kept window first, then
    the overflowing ones, each overlapping the one before by `stride` tokens."""
    if keep >= n:
        return [(0, n)]
    if keep == 0:
        return [(0, 0), (0, n)]
    if stride >= keep:
        raise ValueError(
            f"stride ({stride}) must be strictly less than the tokens kept of a text ({keep}, "
            "max_length less the special tokens and the other text)"
        )
    step, windows = keep - stride, []
    if side != "left":
        for start in range(0, n, step):
            windows.append((start, min(start + keep, n)))
            if start + keep >= n:
                break
    else:
        for end in range(n, 0, -step):
            windows.append((max(end - keep, 0), end))
            if end - keep <= 0:
                break
    return windows


def _cut_pair(
    n1: int, n2: int, limit: int | None, cut: str | None, stride: int, side: str
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The windows of each text of a pair within `limit` tokens (special tokens already taken
    off), as `tokenizers`' `truncate_encodings` cuts a pair."""
    if limit is None or limit < 0:
        return [(0, n1)], [(0, n2)]
    if limit == 0:
        return _cut(n1, 0, stride, side), _cut(n2, 0, stride, side)
    to_remove = n1 + n2 - limit
    if to_remove <= 0:
        return [(0, n1)], [(0, n2)]
    if cut == "longest_first":
        short, long = sorted((n1, n2))
        long = short if short > limit else max(short, limit - short)
        if short + long > limit:
            short, long = limit // 2, limit // 2 + limit % 2
        keep1, keep2 = (long, short) if n1 > n2 else (short, long)
        return _cut(n1, keep1, stride, side), _cut(n2, keep2, stride, side)
    n = n1 if cut == "only_first" else n2
    if n <= to_remove:
        raise ValueError(
            "Truncation error: Sequence to truncate too short to respect the provided max_length"
        )
    if cut == "only_first":
        return _cut(n1, n1 - to_remove, stride, side), [(0, n2)]
    return [(0, n1)], _cut(n2, n2 - to_remove, stride, side)


def _pair_rows(
    tok: Tokenizer,
    firsts: list[str],
    seconds: list[str],
    add_special_tokens: bool,
    truncation: tuple[int | None, str | None, int, bool],
    want_offsets: bool,
    num_threads: int | None,
    split_into_words: bool = False,
) -> list[Row]:
    limit, cut, stride, overflow = truncation
    frame = tok._pair_frame(add_special_tokens)
    if limit is not None and add_special_tokens and frame.added:
        limit -= frame.added  # below zero: no limit (see `_cut_pair`)
    encodings = _encode(tok, [*firsts, *seconds], split_into_words, num_threads)
    n = len(firsts)
    rows: list[Row] = []
    for sample, (a, b) in enumerate(zip(encodings[:n], encodings[n:], strict=True)):
        wa, wb = _cut_pair(len(a.ids), len(b.ids), limit, cut, stride, tok.truncation_side)
        # `tokenizers` merges the two texts' windows in this order: both first windows; each
        # later window of the first text with the second's first, then with its later ones;
        # the first text's first window with each later one of the second.
        combos = [(wa[0], wb[0])]
        if overflow:
            for x in wa[1:]:
                combos += [(x, wb[0]), *((x, y) for y in wb[1:])]
            combos += [(wa[0], y) for y in wb[1:]]
        for x, y in combos:
            rows.append(_framed_pair(frame, a, b, x, y, want_offsets, sample))
    return rows


def _framed_pair(
    frame: PairFrame,
    a: Any,
    b: Any,
    x: tuple[int, int],
    y: tuple[int, int],
    want_offsets: bool,
    sample: int,
) -> Row:
    (s1, e1), (s2, e2) = x, y
    row = Row(sample=sample)
    row.input_ids = [*frame.prefix, *a.ids[s1:e1], *frame.middle, *b.ids[s2:e2], *frame.suffix]
    row.token_type_ids = [
        *frame.prefix_types,
        *[frame.first_type] * (e1 - s1),
        *frame.middle_types,
        *[frame.second_type] * (e2 - s2),
        *frame.suffix_types,
    ]
    pre, mid, suf = len(frame.prefix), len(frame.middle), len(frame.suffix)
    row.special_tokens_mask = [
        *[1] * pre,
        *a.special_tokens_mask[s1:e1],
        *[1] * mid,
        *b.special_tokens_mask[s2:e2],
        *[1] * suf,
    ]
    if want_offsets:
        none = (0, 0)
        row.offset_mapping = [
            *[none] * pre,
            *a.offsets[s1:e1],
            *[none] * mid,
            *b.offsets[s2:e2],
            *[none] * suf,
        ]
    row.attention_mask = [1] * len(row.input_ids)
    row.layout = [(None, pre), (0, a, s1, e1), (None, mid), (1, b, s2, e2), (None, suf)]
    return row


def _windows(
    n: int, limit: int | None, added: int, stride: int, side: str, overflow: bool
) -> list[tuple[int, int]]:
    """The (start, stop) ranges of content kept: one, or every overflowing window. A limit
    below the special tokens' count cuts nothing (in `tokenizers` the room left wraps
    around to no limit at all)."""
    if limit is None or limit < added:
        return [(0, n)]
    windows = _cut(n, limit - added, stride, side)
    return windows if overflow else windows[:1]


def _framed(
    frame: Frame,
    ids: list[int],
    special: list[int],
    offsets: list[tuple[int, int]] | None,
    start: int,
    stop: int,
    sample: int,
) -> Row:
    n_pre, n_suf, n = len(frame.prefix), len(frame.suffix), stop - start
    row = Row(sample=sample)
    row.input_ids = [*frame.prefix, *ids[start:stop], *frame.suffix]
    row.token_type_ids = [*frame.prefix_types, *[frame.content_type] * n, *frame.suffix_types]
    row.special_tokens_mask = [1] * n_pre + special[start:stop] + [1] * n_suf
    if offsets is not None:
        row.offset_mapping = [(0, 0)] * n_pre + offsets[start:stop] + [(0, 0)] * n_suf
    row.attention_mask = [1] * len(row.input_ids)
    return row


def _pad(
    rows: list[Row],
    tok: Tokenizer,
    strategy: str,
    max_length: int | None,
    multiple: int | None,
    side: str,
    offsets: bool,
) -> None:
    if strategy == "longest":
        target = max((len(r.input_ids) for r in rows), default=0)
    else:
        target = max_length if max_length is not None else tok.model_max_length
        if target is None or target > _LARGE_INTEGER:
            return  # transformers: no padding to an unlimited length
    if multiple and target % multiple:
        target += multiple - target % multiple
    pad_id = tok.pad_token_id
    assert pad_id is not None
    for row in rows:
        missing = target - len(row.input_ids)
        if missing <= 0:
            continue
        for name, value in (
            ("input_ids", pad_id),
            ("token_type_ids", 0),
            ("special_tokens_mask", 1),
            ("attention_mask", 0),
            ("offset_mapping", (0, 0)),
        ):
            if name == "offset_mapping" and not offsets:
                continue
            column = getattr(row, name)
            pad = [value] * missing
            setattr(row, name, pad + column if side == "left" else column + pad)
        if side == "left":
            row.layout.insert(0, (None, missing))
        else:
            row.layout.append((None, missing))
