"""`batok.AddedToken` behaves as `tokenizers.AddedToken`: defaults, the `normalized` that follows
`special` until given, repr, equality and pickling."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
import tokenizers

import batok

KWARGS: list[dict[str, Any]] = [
    {},
    {"special": True},
    {"normalized": True, "special": True},
    {"normalized": False},
    {"single_word": True, "lstrip": True, "rstrip": True},
]


@pytest.mark.parametrize("kwargs", KWARGS)
def test_fields_and_repr_are_tokenizers(kwargs: dict[str, Any]) -> None:
    ours, theirs = batok.AddedToken("<t>", **kwargs), tokenizers.AddedToken("<t>", **kwargs)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert ours.__getstate__() == theirs.__getstate__()
    # `special` can be changed; an unset `normalized` follows it.
    ours.special = theirs.special = not theirs.special
    assert ours.__getstate__() == theirs.__getstate__()
    copy = pickle.loads(pickle.dumps(ours))
    assert copy == ours and copy.__getstate__() == ours.__getstate__()


def test_equality_compares_every_field_as_tokenizers_does() -> None:
    assert batok.AddedToken("a") == batok.AddedToken("a", normalized=True)
    assert batok.AddedToken("a") != batok.AddedToken("a", lstrip=True)
    assert tokenizers.AddedToken("a") != tokenizers.AddedToken("a", lstrip=True)


def test_content_must_be_a_str() -> None:
    with pytest.raises(TypeError, match="content must be a str"):
        batok.AddedToken(3)  # type: ignore[arg-type]
