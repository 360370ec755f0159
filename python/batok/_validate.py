"""Input checks shared by the tokenizer classes, so bad input fails with a message that says what
to pass instead."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

TYPE_CHECKING = False  # `typing` only for the type checker (see encoding.py)
if TYPE_CHECKING:
    from typing import Any

_U32_MAX = 2**32 - 1


def check_text(text: Any, what: str = "text") -> str:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, got {type(text).__name__}")
    return text


def check_texts(texts: Any, what: str = "texts") -> list[str]:
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):
        raise TypeError(f"{what} must be a list of str, got {type(texts).__name__}")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"{what}[{i}] must be a str, got {type(t).__name__}")
    return out


def check_words(words: Any, what: str = "words") -> list[str]:
    """Pre-tokenized input: a list (or tuple) of str."""
    if isinstance(words, (str, bytes)) or not isinstance(words, (list, tuple)):
        raise TypeError(
            f"{what} must be a list of words (str) when is_pretokenized=True, "
            f"got {type(words).__name__}"
        )
    for i, w in enumerate(words):
        if not isinstance(w, str):
            raise TypeError(f"{what}[{i}] must be a str, got {type(w).__name__}")
    return list(words)


def check_ids(ids: Any, what: str = "ids") -> list[int]:
    if hasattr(ids, "tolist"):  # numpy arrays
        ids = ids.tolist()
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
        if not isinstance(ids, Iterable) or isinstance(ids, (str, bytes)):
            raise TypeError(f"{what} must be a list of int, got {type(ids).__name__}")
    out = list(ids)
    for i, x in enumerate(out):
        if isinstance(x, bool) or not isinstance(x, int):
            raise TypeError(f"{what}[{i}] must be an int, got {type(x).__name__}")
        if x < 0 or x > _U32_MAX:
            raise ValueError(f"{what}[{i}] = {x} is not a valid token id (ids are 0 to 2**32-1)")
    return out
