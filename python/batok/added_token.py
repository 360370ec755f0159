"""`AddedToken`: a token to add to a tokenizer, with its matching options, as `tokenizers` has it.

`normalized` left unset follows `special` (a special token is matched before normalization, an
ordinary one after), and `add_special_tokens` keeps a `normalized=True` given explicitly. A
`tokenizers.AddedToken` does not show from Python whether `normalized` was given, so batok treats
one as unset; use this class where the difference matters.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` only for the type checker (see encoding.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["AddedToken"]


class AddedToken:
    """A token to add: ``AddedToken("<tag>", single_word=False, lstrip=False, rstrip=False,
    normalized=None, special=False)``."""

    __slots__ = ("_normalized", "content", "lstrip", "rstrip", "single_word", "special")

    def __init__(
        self,
        content: str = "",
        single_word: bool = False,
        lstrip: bool = False,
        rstrip: bool = False,
        normalized: bool | None = None,
        special: bool = False,
    ) -> None:
        if not isinstance(content, str):
            raise TypeError(f"content must be a str, not {type(content).__name__}")
        self.content = content
        self.single_word = bool(single_word)
        self.lstrip = bool(lstrip)
        self.rstrip = bool(rstrip)
        self._normalized = None if normalized is None else bool(normalized)
        self.special = bool(special)

    @property
    def normalized(self) -> bool:
        """Whether the token is matched in normalized text: as given, else not `special`."""
        return self._normalized if self._normalized is not None else not self.special

    def _as_special(self) -> dict[str, Any]:
        """The tokenizer.json entry (less its id) when added as a special token."""
        normalized = self._normalized if self._normalized is not None else False
        return {**self.__getstate__(), "normalized": normalized, "special": True}

    def __getstate__(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "single_word": self.single_word,
            "lstrip": self.lstrip,
            "rstrip": self.rstrip,
            "normalized": self.normalized,
            "special": self.special,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def __str__(self) -> str:
        return self.content

    def __repr__(self) -> str:
        s = self.__getstate__()
        flags = ", ".join(
            f"{k}={s[k]}" for k in ("rstrip", "lstrip", "single_word", "normalized", "special")
        )
        return f'AddedToken("{self.content}", {flags})'

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AddedToken):
            return NotImplemented
        return self.__getstate__() == other.__getstate__()

    def __hash__(self) -> int:
        return hash(self.content)
