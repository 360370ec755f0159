"""A Python function as the JSON schema of a tool, for chat templates (`tools=[my_function]`).

The schema is what transformers' `get_json_schema` gives, so a template sees the same tools in
both libraries: the function's name; its description, the docstring up to `Args:`, `Returns:`
or `Raises:`; one property per parameter, typed from its hint and described by its entry under
`Args:` (Google style: `name (type): text`, continued on lines indented deeper), with
`(choices: [...])` at the end of a description becoming an `enum`; `required` for parameters
without a default; the return hint and the `Returns:` text as `return`. A parameter without a
hint or without a description, a hint with no JSON equivalent and a function without a
docstring are refused with a `ValueError` that says which.
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

__all__ = ["get_json_schema"]

# A line that starts an argument's entry: indentation, the name, an optional "(type)" and ":".
_ENTRY = re.compile(r"([ \t]*)(\w+)(?:[ \t]*\([^()\n]*\))?:(.*)")
_CHOICES = re.compile(r"\(choices:\s*(.*?)\)\s*$", re.IGNORECASE | re.DOTALL)
_SCALARS = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null"}
_SECTIONS = ("Args:", "Returns:", "Raises:")


def get_json_schema(func: Any) -> dict[str, Any]:
    """`{"type": "function", "function": {"name", "description", "parameters"[, "return"]}}`
    for `func`, from its type hints and its Google-style docstring."""
    name = getattr(func, "__name__", "operation")
    doc = inspect.getdoc(func)
    if not doc:
        raise ValueError(f"Cannot generate JSON schema for {name} because it has no docstring!")
    description, arg_docs, returns_doc = _read_docstring(doc.strip())
    parameters = _parameters(func, name)
    returns = parameters["properties"].pop("return", None)
    if returns is not None and returns_doc is not None:
        returns["description"] = returns_doc
    for arg, schema in parameters["properties"].items():
        if arg not in arg_docs:
            raise ValueError(
                f"Cannot generate JSON schema for {name} because the docstring has no "
                f"description for the argument '{arg}'"
            )
        text = arg_docs[arg]
        choices = _CHOICES.search(text)
        if choices:
            values = json.loads(choices.group(1))
            schema["enum"] = [v.strip() if isinstance(v, str) else v for v in values]
            text = text[: choices.start()].strip()
        schema["description"] = text
    out: dict[str, Any] = {"name": name, "description": description, "parameters": parameters}
    if returns is not None:
        out["return"] = returns
    return {"type": "function", "function": out}


# -- the docstring -----------------------------------------------------------------------------


def _read_docstring(doc: str) -> tuple[str, dict[str, str], str | None]:
    """(description, argument descriptions, returns text) of a Google-style docstring."""
    cut = min((i for i in (doc.find(s) for s in _SECTIONS) if i >= 0), default=len(doc))
    description = doc[:cut].strip()
    lines = doc.split("\n")
    args: dict[str, str] = {}
    block = _section(lines, "Args:")
    if block is not None:
        block = _before(block, ("Returns:", "Raises:")).rstrip()
        args = _entries([line for line in block.split("\n") if line.strip()])
    returns = _section(lines, "Returns:")
    if returns is not None:
        returns = _before(returns, ("Raises:",)).strip()
    return description, args, returns


def _section(lines: list[str], title: str) -> str | None:
    """The text after the first line (not the docstring's first) that is `title` alone, with
    nothing after it on its line; None when there is none."""
    for i in range(1, len(lines) - 1):
        if lines[i].lstrip() == title:
            return "\n".join(lines[i + 1 :])
    return None


def _before(text: str, titles: tuple[str, ...]) -> str:
    cut = min((i for i in (text.find(t) for t in titles) if i >= 0), default=len(text))
    return text[:cut]


def _entries(lines: list[str]) -> dict[str, str]:
    """Each argument's description: the rest of its entry line and every line after it up to
    the next entry line that is not indented deeper, joined into one line."""
    entries: dict[str, str] = {}
    name: str | None = None
    indent = ""
    parts: list[str] = []

    def close() -> None:
        if name is not None:
            entries[name] = re.sub(r"\s*\n+\s*", " ", "\n".join(parts).strip())

    for line in lines:
        entry = _ENTRY.fullmatch(line)
        deeper = name is not None and line.startswith((indent + " ", indent + "\t"))
        if entry and not deeper:
            close()
            indent, name, parts = entry.group(1), entry.group(2), [entry.group(3)]
        elif name is not None:
            parts.append(line)
    close()
    return entries


# -- the type hints ----------------------------------------------------------------------------


def _parameters(func: Any, name: str) -> dict[str, Any]:
    import typing

    hints = typing.get_type_hints(func)
    signature = inspect.signature(func)
    params = signature.parameters
    first = next(iter(params), None)
    # A method's receiver, when it has no hint, is not the model's to fill in.
    receiver = (
        first
        if first in ("self", "cls") and params[first].annotation is inspect.Parameter.empty
        else None
    )
    required = []
    for param_name, param in params.items():
        if param_name == receiver:
            continue
        if param.annotation is inspect.Parameter.empty:
            raise ValueError(f"Argument {param_name} is missing a type hint in function {name}")
        if param.default is inspect.Parameter.empty:
            required.append(param_name)
    properties: dict[str, Any] = {}
    for hint_name, hint in hints.items():
        if hint_name == receiver:
            continue
        if hint_name == "return":
            # The model never writes the return value: a hint with no JSON form is left out.
            try:
                properties["return"] = _json_type(hint)
            except ValueError:
                pass
        elif hint_name in params:
            properties[hint_name] = _json_type(hint)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _json_type(hint: Any) -> dict[str, Any]:
    import enum
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is None:
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            values = [member.value for member in hint]
            if not values:
                raise ValueError(f"The Enum {hint.__name__} has no members")
            return _enum(values, f"The Enum {hint.__name__}")
        simple = _SIMPLE.get(hint, _UNKNOWN) if _hashable(hint) else _UNKNOWN
        if simple is _UNKNOWN:
            raise ValueError(
                f"Couldn't convert the type hint {hint!r} to a JSON schema. Supported: int, float,"
                " str, bool, None, Any, Enum classes, Literal, and list, tuple, dict and unions"
                " of those; write the schema by hand for anything else."
            )
        return dict(simple)
    if origin is typing.Union or origin is types.UnionType:
        subtypes = [_json_type(t) for t in args if t is not type(None)]
        if len(subtypes) == 1:
            out = subtypes[0]
        elif all(s.keys() == {"type"} and isinstance(s["type"], str) for s in subtypes):
            names = sorted({s["type"] for s in subtypes})
            out = {"type": names[0] if len(names) == 1 else names}
        else:
            out = {"anyOf": subtypes}
        if type(None) in args:
            out["nullable"] = True
        return out
    if origin is typing.Literal and args:
        return _enum(list(args), "typing.Literal")
    if origin is list:
        return {"type": "array", "items": _json_type(args[0])} if args else {"type": "array"}
    if origin is tuple:
        if not args:
            return {"type": "array"}
        if len(args) == 1 or ... in args:
            raise ValueError(
                f"The type hint {hint} is a tuple of one element or of any length: use list[...]"
                " for a variable number of items, or the element's type alone"
            )
        return {"type": "array", "prefixItems": [_json_type(t) for t in args]}
    if origin is dict:
        out = {"type": "object"}
        if len(args) == 2:
            out["additionalProperties"] = _json_type(args[1])
        return out
    raise ValueError(f"Couldn't convert the type hint {hint!r} to a JSON schema")


_UNKNOWN: dict[str, Any] = {}


def _simple_types() -> dict[Any, dict[str, Any]]:
    from typing import Any as AnyType

    return {
        int: {"type": "integer"},
        float: {"type": "number"},
        str: {"type": "string"},
        bool: {"type": "boolean"},
        type(None): {"type": "null"},
        list: {"type": "array"},
        tuple: {"type": "array"},
        dict: {"type": "object"},
        AnyType: {},
    }


_SIMPLE = _simple_types()


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _enum(values: list[Any], what: str) -> dict[str, Any]:
    """An `enum` of JSON scalars; its `type` names each JSON type among them once, in the order
    they first appear."""
    if any(type(v) not in _SCALARS for v in values):
        raise ValueError(f"{what} has values that are not JSON scalars: {values!r}")
    kinds = list(dict.fromkeys(_SCALARS[type(v)] for v in values))
    return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": values}
