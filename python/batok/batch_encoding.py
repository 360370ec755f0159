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
        if tensor_type is not None:
            self.convert_to_tensors(tensor_type)

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
