"""Python functions as tools: `batok.tool_schema.get_json_schema` gives transformers' schema.

transformers' `get_json_schema` is the oracle, on functions that cover each documented rule:
every hint it maps (scalars, Any, None, Optional and unions, Literal, Enum, list, tuple, dict,
nested), defaults, methods, multi-line and `(choices: ...)` descriptions, `Returns:` and
`Raises:` sections; and each refusal is a refusal in both.
"""

from __future__ import annotations

import enum
from typing import Any, Literal, Optional, Union

import pytest
from transformers.utils import get_json_schema as reference_schema

from batok.tool_schema import get_json_schema


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.Enum):
    LOW = 1
    MIXED = "x"


def get_weather(location: str, unit: str = "celsius") -> str:
    """Get the current weather in a place.

    Args:
        location: The city and country, e.g. "Paris, France"
        unit: The unit to report in (choices: ["celsius", "fahrenheit"])

    Returns:
        The weather, as a sentence.
    """
    return ""


def many_types(
    count: int,
    ratio: float,
    flag: bool,
    anything: Any,
    nothing: None,
    maybe: Optional[int],  # noqa: UP045 - typing.Union is another origin than X | Y
    either: Union[int, str],  # noqa: UP007
    either_reversed: Union[str, int, str],  # noqa: UP007
    either_new: int | float | None,
    complex_union: list[int] | dict[str, int],
    fixed: Literal["a", "b", 3],
    color: Color,
    level: Level,
    items: list[str],
    nested: list[list[float]],
    pair: tuple[int, str],
    mapping: dict[str, list[int]],
    bare_list: list,
    bare_dict: dict,
    bare_tuple: tuple,
) -> dict[str, int]:
    """Takes one of everything.

    A second paragraph of description,
    over two lines.

    Args:
        count (int): How many.
        ratio: A ratio
            that goes on over
            three lines.
        flag: A flag.
        anything: Anything at all.
        nothing: Always None.
        maybe: An int, or None.
        either: An int or a str.
        either_reversed: A str or an int (the schema lists types sorted).
        either_new: A number or None.
        complex_union: A list or a dict.
        fixed: A literal.
        color: A color.
        level: A level.
        items: Some strings.
        nested: Rows of numbers.
        pair: Two values.
        mapping: Lists by name.
        bare_list: A list.
        bare_dict: A dict.
        bare_tuple: A tuple.

    Returns:
        Counts by name.

    Raises:
        ValueError: never.
    """
    return {}


class Tools:
    def search(self, query: str, limit: int = 10) -> list[str]:
        """Search the web.

        Args:
            query: What to look for.
            limit: At most this many results (choices: [5, 10, 20])
        """
        return []

    @classmethod
    def reset(cls, hard: bool) -> None:
        """Reset everything.
        Args:
            hard: Also clear the caches.
        Returns:
            Nothing.
        """


def no_args() -> int:
    """Returns a number, and mentions Returns: inline in its description."""
    return 1


def odd_layout(first: str, second: int) -> Any:
    """Layout that stretches the Google style.
    Args:
      first (str):
        On its own line below the name.
        example: this line is indented deeper, so it is description.
      second (int): Second.
    """


def unconvertible_return(x: int) -> Tools:
    """A return type with no JSON form is left out.

    Args:
        x: A number.
    """
    return Tools()


GOOD = [
    get_weather,
    many_types,
    Tools().search,
    Tools.reset,
    no_args,
    odd_layout,
    unconvertible_return,
]


@pytest.mark.parametrize("func", GOOD, ids=[f.__name__ for f in GOOD])
def test_schema_matches_transformers(func: Any) -> None:
    assert get_json_schema(func) == reference_schema(func)


def no_docstring(x: int) -> int:
    return x


def undocumented_arg(x: int, y: int) -> int:
    """Adds.

    Args:
        x: A number.
    """
    return x + y


def unhinted_arg(x) -> int:  # type: ignore[no-untyped-def]
    """Takes x.

    Args:
        x: Something.
    """
    return 1


def custom_class_arg(x: Tools) -> int:
    """Takes a class.

    Args:
        x: An object.
    """
    return 1


def one_tuple(x: tuple[int]) -> int:
    """A tuple of one.

    Args:
        x: One element.
    """
    return 1


def open_tuple(x: tuple[int, ...]) -> int:
    """A tuple of any length.

    Args:
        x: Elements.
    """
    return 1


class Empty(enum.Enum):
    pass


def empty_enum(x: Empty) -> int:
    """An enum without members.

    Args:
        x: Nothing fits.
    """
    return 1


BAD = [no_docstring, undocumented_arg, unhinted_arg, custom_class_arg, one_tuple, open_tuple]
BAD += [empty_enum]


@pytest.mark.parametrize("func", BAD, ids=[f.__name__ for f in BAD])
def test_refusals_match_transformers(func: Any) -> None:
    with pytest.raises(Exception):  # noqa: B017 - transformers raises its own exception classes
        reference_schema(func)
    with pytest.raises(ValueError):
        get_json_schema(func)
