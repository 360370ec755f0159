"""`BatchEncoding`: what calling a tokenizer returns, as in transformers.

A mapping of column name to values (`input_ids`, `attention_mask`, ...) that also answers
attribute access (`enc.input_ids`), and turns its columns into numpy arrays or torch tensors.
"""

from __future__ import annotations

from collections import UserDict
from typing import Any

__all__ = ["BatchEncoding"]

_TENSOR_TYPES = ("np", "pt")


class BatchEncoding(UserDict):  # type: ignore[type-arg]
    """Columns of an encoded text or batch: ``enc["input_ids"]`` or ``enc.input_ids``."""

    def __init__(self, data: dict[str, Any] | None = None, tensor_type: str | None = None) -> None:
        super().__init__(data or {})
        # Set by the tokenizer's call: how each row was made, for `word_ids()` and the like.
        self._rows: list[Any] | None = None
        self._id_to_token: Any = None
        if tensor_type is not None:
            self.convert_to_tensors(tensor_type)

    @property
    def is_fast(self) -> bool:
        return self._rows is not None

    def _layout(self, batch_index: int) -> list[tuple[Any, ...]]:
        if self._rows is None:
            raise ValueError(
                "word_ids(), sequence_ids() and tokens() need a BatchEncoding returned by "
                "calling a tokenizer"
            )
        return self._rows[batch_index].layout  # type: ignore[no-any-return]

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        """The word each token of row `batch_index` comes from (None for special and padding
        tokens), counted within its text, as transformers' fast tokenizers give them."""
        out: list[int | None] = []
        for part in self._layout(batch_index):
            if part[0] is None:
                out += [None] * part[1]
            else:
                _, enc, start, stop = part
                out += enc.word_ids[start:stop]
        return out

    def words(self, batch_index: int = 0) -> list[int | None]:
        """`word_ids` (transformers' older name)."""
        return self.word_ids(batch_index)

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        """Which text of a pair (0 or 1) each token of row `batch_index` comes from; None for
        special and padding tokens."""
        out: list[int | None] = []
        for part in self._layout(batch_index):
            if part[0] is None:
                out += [None] * part[1]
            else:
                out += [part[0]] * (part[3] - part[2])
        return out

    def tokens(self, batch_index: int = 0) -> list[str]:
        """The tokens of row `batch_index` as strings."""
        ids = self._rows[batch_index].input_ids if self._rows is not None else []
        out: list[str] = []
        at = 0
        for part in self._layout(batch_index):
            if part[0] is None:
                out += [self._id_to_token(i) for i in ids[at : at + part[1]]]
                at += part[1]
            else:
                _, enc, start, stop = part
                out += enc.tokens[start:stop]
                at += stop - start
        return out

    def __getattr__(self, name: str) -> Any:
        # Only for names that are not attributes already (`data`, methods).
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getstate__(self) -> dict[str, Any]:
        return {"data": self.data}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.data = state["data"]
        self._rows = self._id_to_token = None

    def convert_to_tensors(self, tensor_type: str) -> BatchEncoding:
        """Every column as a numpy array (``"np"``) or torch tensor (``"pt"``), in place."""
        if tensor_type not in _TENSOR_TYPES:
            raise ValueError(
                f"return_tensors must be one of {list(_TENSOR_TYPES)} or None, got {tensor_type!r}"
            )
        convert = _numpy_converter() if tensor_type == "np" else _torch_converter()
        for key, value in self.data.items():
            if _is_ragged(value):
                raise ValueError(
                    f"Unable to create a tensor from {key!r}: its rows have different lengths. "
                    "Pass padding=True (or padding='max_length') and truncation=True to make "
                    "them equal."
                )
            self.data[key] = convert(value)
        return self

    def __repr__(self) -> str:
        return f"BatchEncoding({self.data!r})"


def _is_ragged(value: Any) -> bool:
    if isinstance(value, list) and value and isinstance(value[0], list):
        return len({len(row) for row in value}) > 1
    return False


def _numpy_converter() -> Any:
    try:
        import numpy as np
    except ImportError as err:
        raise ImportError("return_tensors='np' needs numpy: pip install 'batok[numpy]'") from err
    return lambda value: np.asarray(value, dtype=np.int64)


def _torch_converter() -> Any:
    try:
        import torch
    except ImportError as err:
        raise ImportError("return_tensors='pt' needs torch installed") from err
    return lambda value: torch.tensor(value, dtype=torch.long)
