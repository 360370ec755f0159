"""Calling a tokenizer as in transformers: truncation, overflowing windows, padding, columns.

The engine encodes each text without special tokens; this module cuts the ids into windows
that leave room for the special tokens, puts the special tokens around each window, pads the
rows and returns the columns asked for. The special tokens around a single sequence are read
once from the engine itself (a probe text encoded with and without them), so whatever the
file's post-processor adds is what a window gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
        native = tok._native
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
        if tok._extra_bos is not None:
            prefix, prefix_types = [tok._extra_bos, *prefix], [0, *prefix_types]
        if tok._extra_eos is not None:
            suffix, suffix_types = [*suffix, tok._extra_eos], [*suffix_types, 0]
        return cls(
            tuple(prefix), tuple(prefix_types), tuple(suffix), tuple(suffix_types), types[start]
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
    if text_pair is not None:
        raise NotImplementedError(
            "text_pair is not supported yet: batok encodes single sequences only. Encode the "
            "texts one by one, or join them yourself."
        )
    if is_split_into_words:
        raise NotImplementedError("is_split_into_words=True is not supported yet.")
    batched = not isinstance(text, str)
    texts = [text] if isinstance(text, str) else list(text)
    pad_to, truncate_to = _strategies(tok, padding, truncation, max_length)
    if pad_to is not None and tok.pad_token_id is None:
        raise ValueError(
            "Asking to pad but the tokenizer does not have a padding token. Set one first, "
            "e.g. `tokenizer.pad_token = tokenizer.eos_token`."
        )
    frame = tok._frame() if add_special_tokens else Frame((), (), (), (), 0)
    want_offsets = return_offsets_mapping
    encodings = tok._native.encode_batch(texts, False, tok._threads(num_threads))
    rows: list[Row] = []
    for sample, enc in enumerate(encodings):
        ids = enc.ids
        offsets = enc.offsets if want_offsets else None
        special = enc.special_tokens_mask
        side, overflow = tok.truncation_side, return_overflowing_tokens
        for start, stop in _windows(len(ids), truncate_to, frame.added, stride, side, overflow):
            rows.append(_framed(frame, ids, special, offsets, start, stop, sample))
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
    return BatchEncoding(columns, tensor_type=return_tensors)


def _strategies(
    tok: Tokenizer, padding: bool | str, truncation: bool | str | None, max_length: int | None
) -> tuple[str | None, int | None]:
    """(padding strategy, content limit in tokens or None), as transformers resolves them."""
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
    if cut == "only_second":
        raise ValueError("Truncation error: Second sequence not provided")
    limit = None
    if cut is not None:
        limit = max_length if max_length is not None else tok.model_max_length
        if limit is not None and (limit <= 0 or limit > _LARGE_INTEGER):
            limit = None
    return pad, limit


def _windows(
    n: int, limit: int | None, added: int, stride: int, side: str, overflow: bool
) -> list[tuple[int, int]]:
    """The (start, stop) ranges of content kept: one, or every overflowing window."""
    if limit is None:
        return [(0, n)]
    room = max(limit - added, 0)
    if n <= room:
        return [(0, n)]
    if overflow and stride >= room:
        raise ValueError(
            f"stride ({stride}) must be less than max_length minus the special tokens ({room})"
        )
    if not overflow:
        return [(0, room)] if side != "left" else [(n - room, n)]
    step = room - stride
    windows = []
    if side != "left":
        for start in range(0, n, step):
            stop = min(start + room, n)
            windows.append((start, stop))
            if stop == n:
                break
    else:
        for end in range(n, 0, -step):
            start = max(end - room, 0)
            windows.append((start, end))
            if start == 0:
                break
    return windows


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
