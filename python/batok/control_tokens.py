"""Control tokens in a chat's inputs: `apply_chat_template(..., sanitize_control_tokens=True)`.

A chat template writes control tokens (`<|im_start|>`, `<|eot_id|>`, ...) around the caller's
messages. When a message, a tool description, a document or a template variable itself holds
the text of a control token, a plain encoding of the rendered chat turns that text into the
token, so user input could forge a turn. Sanitizing, as transformers 5 does it:

1. every control token in the caller's strings is wrapped in two private-use characters
   (markers), after dropping any markers already there, so they cannot be forged;
2. the template renders as usual;
3. the rendered text is split at the markers: marked tokens are encoded as plain text (the
   normalizer, pre-tokenizer and model, with no added token matched), the rest as usual.

Control tokens are the special added tokens, plus the added tokens of
`tokenizer.chat_control_tokens` when that is set, else the non-whitespace added tokens that
appear in the template's literal text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

__all__ = [
    "control_tokens",
    "encode_marked_chat",
    "mark_control_tokens",
    "token_patterns",
]

# Private-use characters wrapped around a control token found in the caller's input (the
# same ones transformers uses, so a rendered text means the same in both libraries).
MARK_START = "\U000f0000"
MARK_END = "\U000f0001"


@lru_cache(maxsize=16)
def template_literal_text(template: str) -> str:
    """The template's raw text and string constants, joined by NUL characters so a search for
    a token cannot match across two of them."""
    from .chat_template import _compile

    environment = _compile(template).environment
    import jinja2.nodes

    tree = environment.parse(template)
    literals = {node.data for node in tree.find_all(jinja2.nodes.TemplateData)}
    literals |= {
        node.value for node in tree.find_all(jinja2.nodes.Const) if isinstance(node.value, str)
    }
    return "\0".join(literals)


def control_tokens(
    added_tokens: Iterable[tuple[str, bool]],
    template: str,
    chosen: Sequence[str] | None,
) -> tuple[str, ...]:
    """The control tokens among `added_tokens` (`(content, special)` in id order): the special
    ones, plus those in `chosen` (the tokenizer's `chat_control_tokens`) or, with none chosen,
    those the template's literal text contains (except whitespace tokens, which templates hold
    as ordinary text)."""
    if chosen is not None:
        if isinstance(chosen, str) or not isinstance(chosen, Iterable):
            raise TypeError(f"`chat_control_tokens` should be a list of strings, got {chosen!r}")
        picked = set(chosen)
        return tuple(content for content, special in added_tokens if special or content in picked)
    text = template_literal_text(template)
    return tuple(
        content
        for content, special in added_tokens
        if special or (content in text and not content.isspace())
    )


@lru_cache(maxsize=32)
def token_patterns(tokens: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A pattern matching any of `tokens` (longest first, so a token wins over the tokens it
    contains), and one matching a marked token (captured) or a lone marker."""
    alternatives = "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
    any_token = re.compile(alternatives or "(?!)")  # (?!): no tokens, no match
    marked = re.compile(f"{MARK_START}({any_token.pattern}){MARK_END}|[{MARK_START}{MARK_END}]")
    return any_token, marked


def mark_control_tokens(value: Any, any_token: re.Pattern[str]) -> Any:
    """`value` with each control token in its strings wrapped in the markers, looking into
    dicts (values only, not keys), lists and tuples (which come back as lists); other values
    are returned as they are. Markers already in a string are dropped first."""
    if isinstance(value, str):
        text = value.replace(MARK_START, "").replace(MARK_END, "")
        return any_token.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", text)
    if isinstance(value, dict):
        return {key: mark_control_tokens(item, any_token) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mark_control_tokens(item, any_token) for item in value]
    return value


def encode_marked_chat(
    chat: str,
    markers: re.Pattern[str],
    encode: Callable[[str], list[int]],
    encode_as_text: Callable[[str], list[int]],
    token_id: Callable[[str], int | None],
) -> list[int]:
    """The ids of a chat rendered from marked inputs: each marked token as plain text (by
    `encode_as_text`), the rest, the template's own control tokens included, by `encode`.
    A lone marker (a template string method split a marked token) is dropped, but still
    separates the text on its two sides. Raises ValueError when the plain-text encoding of a
    marked token gives the token itself back."""
    # With one capture group: [text, token, text, token, ..., text]; None for a lone marker.
    pieces = markers.split(chat)
    newline = encode("\n")
    ids = encode(pieces[0])
    for index in range(1, len(pieces)):
        piece = pieces[index]
        if not piece:
            continue
        as_text = index % 2 == 1
        piece_ids = _encode_inner_piece(piece, encode_as_text if as_text else encode, newline)
        if as_text and token_id(piece) in piece_ids:
            raise ValueError(f"Can't sanitize {piece!r}: the tokenizer produces it from plain text")
        ids += piece_ids
    return ids


def _encode_inner_piece(
    piece: str, encode: Callable[[str], list[int]], newline: list[int]
) -> list[int]:
    """A piece from inside the chat, encoded after a newline that is then taken off again, so a
    SentencePiece-style pipeline does not treat it as the start of a text (a prefix space);
    where the newline's ids do not come first, the piece on its own."""
    ids = encode("\n" + piece)
    if ids[: len(newline)] == newline:
        return ids[len(newline) :]
    return encode(piece)
