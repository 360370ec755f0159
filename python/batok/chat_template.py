"""Chat templates: turning a conversation into the text a chat model was trained on.

A chat template is a Jinja template that ships with a tokenizer (in tokenizer_config.json or a
`chat_template.jinja` file). Templates come from the hub, so they are untrusted code: they run
in Jinja's immutable sandbox, with only the few helpers transformers 5 gives them (`tojson`,
`raise_exception`, `strftime_now`, a plain `dict` and a `namespace` that refuses underscore
names), and everything they see is first rebuilt out of plain JSON-like values, so no object
with dangerous methods reaches them. Rendering follows transformers 5's
`apply_chat_template`, which is the oracle for the rendered text.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from typing import Any

__all__ = [
    "assistant_masks",
    "config_chat_template",
    "has_generation_blocks",
    "normalize_messages",
    "pick_template",
    "read_template_files",
    "render_conversations",
    "split_batch",
    "template_file_names",
]

# Jinja releases before this have known sandbox escapes; transformers refuses them too.
_MIN_JINJA = (3, 1, 6)
# Older names a message's reasoning arrives under; templates read `reasoning_content`.
_REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")
# Marks the end of the message to continue, to cut the rendered text right after it.
_CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "

_NO_TEMPLATE = (
    "Cannot use chat template functions because tokenizer.chat_template is not set and no "
    "template argument was passed! Set tokenizer.chat_template to a Jinja template, or pass "
    "one as chat_template=."
)


def config_chat_template(value: Any) -> str | dict[str, str] | None:
    """The chat template a tokenizer_config.json `chat_template` entry holds: a template, or
    the list-of-`{"name", "template"}` form as a dict of named templates."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        named: dict[str, str] = {}
        for i, entry in enumerate(value):
            if not (
                isinstance(entry, Mapping)
                and isinstance(entry.get("name"), str)
                and isinstance(entry.get("template"), str)
            ):
                raise ValueError(
                    f"chat_template[{i}] in tokenizer_config.json must be an object with string "
                    "'name' and 'template'"
                )
            named[entry["name"]] = entry["template"]
        return named
    raise ValueError(
        "chat_template in tokenizer_config.json must be a string or a list of "
        f"{{'name', 'template'}} objects, got {type(value).__name__}"
    )


def read_template_files(files: Mapping[str, Any]) -> str | dict[str, str]:
    """The chat template(s) of template files by name: one "default" file is the template,
    several are named templates (as transformers 5 reads chat_template.jinja and
    additional_chat_templates/)."""
    texts = {}
    for name, path in files.items():
        with open(path, encoding="utf-8") as f:
            texts[name] = f.read()
    if list(texts) == ["default"]:
        return texts["default"]
    return texts


def template_file_names(template: str | dict[str, str]) -> dict[str, str]:
    """Where save_pretrained writes each template, relative to the directory, as transformers
    5 does: the default in chat_template.jinja, others in additional_chat_templates/."""
    if isinstance(template, str):
        return {"chat_template.jinja": template}
    names = {}
    for name, text in template.items():
        if name == "default":
            names["chat_template.jinja"] = text
            continue
        # A name is a file name, never a path: one from a hub file must not climb out.
        if (
            not isinstance(name, str)
            or not name
            or name in (".", "..")
            or any(c in name for c in "/\\\0")
        ):
            raise ValueError(f"Invalid chat template name: {name!r}")
        names[f"additional_chat_templates/{name}.jinja"] = text
    return names


def pick_template(own: str | dict[str, str] | None, chat_template: str | None, tools: Any) -> str:
    """The template to render, as transformers' `get_chat_template` picks it: `chat_template`
    names one of the tokenizer's templates or is a template itself; with none given, the
    tokenizer's own (`tool_use` when there are tools, else `default`)."""
    if isinstance(own, dict):
        if chat_template is not None:
            return own.get(chat_template, chat_template)
        if tools is not None and "tool_use" in own:
            return own["tool_use"]
        if "default" in own:
            return own["default"]
        raise ValueError(
            "This tokenizer has several chat templates and none named 'default': pass the "
            "name of the one to use (or a template) as chat_template=. Names: "
            f"{sorted(own)}"
        )
    if chat_template is not None:
        return chat_template
    if own is None:
        raise ValueError(_NO_TEMPLATE)
    return own


def split_batch(conversation: Any) -> tuple[list[Any], bool]:
    """`(conversations, is_batched)`: a list of conversations is a batch, as in transformers."""
    if isinstance(conversation, (list, tuple)) and len(conversation) == 0:
        raise ValueError(
            "Cannot apply chat template to an empty conversation. Provide at least one message."
        )
    if isinstance(conversation, (list, tuple)) and (
        isinstance(conversation[0], (list, tuple)) or hasattr(conversation[0], "messages")
    ):
        return list(conversation), True
    return [conversation], False


def render_conversations(
    template: str,
    conversations: list[Any],
    *,
    tools: Any,
    documents: Any,
    add_generation_prompt: bool,
    continue_final_message: bool | str,
    variables: dict[str, Any],
    generation_spans: list[list[tuple[int, int]]] | None = None,
) -> list[str]:
    """Each conversation rendered by `template`, with `variables` (the special tokens and the
    caller's extra keyword arguments) visible to it. With a `generation_spans` list, appends
    for each conversation the (start, end) character spans of its `{% generation %}` blocks
    in the rendered text."""
    compiled = _compile(template)
    tool_schemas = _tool_schemas(tools)
    if documents is not None:
        for document in documents:
            if not isinstance(document, dict):
                raise TypeError("Documents should be a list of dicts with 'title' and 'text' keys!")
    tool_schemas = _plain(tool_schemas)
    documents = _plain(documents)
    variables = _plain(variables)
    rendered = []
    for conversation in conversations:
        chat = _plain(_messages(conversation))
        chat = [_alias_reasoning(message) for message in chat]
        final = None
        if continue_final_message:
            final = _tag_final_message(template, chat, continue_final_message)
        context = dict(
            messages=chat,
            tools=tool_schemas,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
            **variables,
        )
        if generation_spans is None:
            text = compiled.render(**context)
        else:
            text, spans = _render_tracking_generation(compiled, context)
            generation_spans.append(spans)
        if final is not None:
            text = _cut_after_final_message(text, final)
        rendered.append(text)
    return rendered


def normalize_messages(conversation: Any) -> list[dict[str, Any]]:
    """A conversation (a list of messages, or an object with `messages`) as a list of message
    dicts without their None values, as transformers normalizes it before anything else."""
    return _messages(conversation)


def _messages(conversation: Any) -> list[dict[str, Any]]:
    """A conversation's messages as dicts, without the keys whose value is None (APIs send
    `content=None`; templates handle a missing key, not a None)."""
    messages = _as_dicts(getattr(conversation, "messages", conversation))
    if not isinstance(messages, (list, tuple)):
        raise TypeError(f"A conversation must be a list of messages, got {type(messages).__name__}")
    out = []
    for message in messages:
        if not isinstance(message, dict):
            raise TypeError(
                "Chat messages should be dicts, dataclasses or pydantic models, but got "
                f"{type(message).__name__}."
            )
        out.append({key: value for key, value in message.items() if value is not None})
    return out


def _as_dicts(value: Any) -> Any:
    """Message objects (dataclasses, pydantic models) as dicts, all the way down."""
    if isinstance(value, Mapping):
        return {key: _as_dicts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_dicts(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_as_dicts(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _as_dicts(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):
        return _as_dicts(value.model_dump())
    return value


def _plain(value: Any) -> Any:
    """`value` rebuilt from plain str/int/float/bool/None, dicts, lists and tuples, so the
    sandboxed template never holds an object whose methods could do harm; anything else is an
    inert `<TypeName>` placeholder (templates only test whether such values are present)."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, str):  # subclasses (enums...) carry methods: keep the string only
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if type(value).__module__ == "numpy" and callable(getattr(value, "item", None)):
        if getattr(value, "shape", None) == ():  # a numpy scalar: its Python value
            return _plain(value.item())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):
        return _plain(value.model_dump())
    return f"<{type(value).__name__}>"


def _alias_reasoning(message: dict[str, Any]) -> dict[str, Any]:
    """Reasoning given under an older name also as `reasoning_content` (and `thinking`)."""
    reasoning = next(
        (message[key] for key in _REASONING_FIELDS if message.get(key) is not None), None
    )
    if reasoning is None:
        return message
    return {"thinking": reasoning, **message, "reasoning_content": reasoning}


def _tool_schemas(tools: Any) -> list[Any] | None:
    if tools is None:
        return None
    schemas = []
    for tool in tools:
        if isinstance(tool, dict):
            schemas.append(tool)
        elif inspect.isfunction(tool) or inspect.ismethod(tool):
            from .tool_schema import get_json_schema

            schemas.append(get_json_schema(tool))
        else:
            raise ValueError(
                "Tools should either be a JSON schema, or a callable function with type hints "
                "and a docstring suitable for auto-conversion to a schema."
            )
    return schemas


def _tag_final_message(template: str, chat: list[dict[str, Any]], field: bool | str) -> str:
    """Mark the end of the last message's `field` (content by default) so the rendered text
    can be cut there; returns the message's text."""
    if not chat:
        raise ValueError("continue_final_message is set but the conversation is empty!")
    name = field if isinstance(field, str) else "content"
    message = chat[-1]
    final = message.get(name)
    if final is None:
        raise ValueError(
            f'continue_final_message is set but the final message has no "{name}" to continue!'
        )
    fields = [name]
    if name in _REASONING_FIELDS:  # reasoning is under several names: tag each copy
        fields = [f for f in _REASONING_FIELDS if message.get(f) == final]
    if not any(f in template for f in fields):
        raise ValueError(
            f'continue_final_message is set to "{name}" but this is not an accepted field in '
            "the chat_template"
        )
    if isinstance(final, (list, tuple)):
        for block in reversed(final):
            if isinstance(block, dict) and "text" in block:
                final = block["text"]
                block["text"] = block["text"] + _CONTINUE_TAG
                return final
        raise ValueError(
            "continue_final_message is set but we could not find any text to continue in the "
            "final message!"
        )
    for f in fields:
        message[f] = message[f] + _CONTINUE_TAG
    return final


def _cut_after_final_message(text: str, final: str) -> str:
    tag = _CONTINUE_TAG.strip()
    if final.strip() not in text or tag not in text:
        # The text itself stays out of the message: it is the caller's conversation.
        raise ValueError(
            "continue_final_message is set but the final message does not appear in the chat "
            "after applying the chat template! This can happen if the chat template deletes "
            "portions of the final message. Please verify the chat template and final message "
            "in your chat to ensure they are compatible."
        )
    at = text.rindex(tag)
    if text[at : at + len(_CONTINUE_TAG)] == _CONTINUE_TAG:
        return text[:at]
    # The template trimmed the space after the tag, and may have trimmed the message's too.
    return text[:at].rstrip()


def _jinja() -> Any:
    try:
        import jinja2
        import jinja2.ext
        import jinja2.sandbox
    except ImportError as err:
        raise ImportError("apply_chat_template needs jinja2: pip install 'batok[chat]'") from err
    version = tuple(int(p) for p in jinja2.__version__.split(".")[:3] if p.isdigit())
    if version < _MIN_JINJA:
        raise ImportError(
            f"apply_chat_template needs jinja2>=3.1.6 (older releases have sandbox escapes), "
            f"found {jinja2.__version__}: pip install -U 'batok[chat]'"
        )
    return jinja2


@lru_cache(maxsize=16)
def _compile(template: str) -> Any:
    """The template compiled in the sandbox transformers 5 renders chat templates in."""
    jinja2 = _jinja()
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[jinja2.ext.loopcontrols, _generation_extension(jinja2)],
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["dict"] = _TemplateDict()
    env.globals["namespace"] = _namespace_class(jinja2)
    return env.from_string(template)


# While a conversation renders with its generation spans tracked: (the output blocks so far,
# the spans found). A context variable, so threads rendering at once do not mix.
_TRACKING: ContextVar[tuple[list[str], list[tuple[int, int]]] | None] = ContextVar(
    "batok_generation_tracking", default=None
)


@lru_cache(maxsize=1)
def _generation_extension(jinja2: Any) -> type:
    """The `{% generation %}...{% endgeneration %}` tag, which marks what the assistant says:
    it renders its body unchanged and, while tracking, records where the body lands in the
    output. The position is the length of the output blocks already produced, as transformers
    5 measures it, so both agree even where Jinja buffers output."""

    class Generation(jinja2.ext.Extension):  # type: ignore[misc,name-defined]
        tags = {"generation"}

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            call = self.call_method("_body")
            return jinja2.nodes.CallBlock(call, [], [], body).set_lineno(lineno)

        def _body(self, caller: Any) -> str:
            text: str = caller()
            tracking = _TRACKING.get()
            if tracking is not None:
                blocks, spans = tracking
                start = sum(len(block) for block in blocks)
                spans.append((start, start + len(text)))
            return text

    return Generation


def _render_tracking_generation(
    compiled: Any, context: dict[str, Any]
) -> tuple[str, list[tuple[int, int]]]:
    blocks: list[str] = []
    spans: list[tuple[int, int]] = []
    token = _TRACKING.set((blocks, spans))
    try:
        for block in compiled.generate(**context):
            blocks.append(block)
    finally:
        _TRACKING.reset(token)
    return "".join(blocks), spans


def has_generation_blocks(template: str) -> bool:
    """Whether a template marks the assistant's text with `{% generation %}`."""
    return re.search(r"\{\%-?\s*generation\s*-?\%\}", template) is not None


def assistant_masks(
    offsets: list[list[tuple[int, int]]], spans: list[list[tuple[int, int]]]
) -> list[list[int]]:
    """For each row, 1 for every token whose characters overlap a generation span (so a span cut
    by truncation keeps its remaining tokens), else 0; padding tokens have empty offsets."""
    masks = []
    for row, row_spans in zip(offsets, spans, strict=True):
        mask = [0] * len(row)
        at = 0
        for index, (start, end) in enumerate(row):
            while at < len(row_spans) and start >= row_spans[at][1]:
                at += 1
            if at == len(row_spans):
                break
            if end > row_spans[at][0]:
                mask[index] = 1
        masks.append(mask)
    return masks


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    # Jinja's own tojson escapes HTML characters, which chat templates must not do.
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _raise_exception(message: str) -> None:
    import jinja2.exceptions

    raise jinja2.exceptions.TemplateError(message)


def _strftime_now(format: str) -> str:
    return datetime.now().strftime(format)


class _TemplateDict:
    """`dict(...)` for templates, without the type itself (whose attributes lead out)."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict(*args, **kwargs)

    def fromkeys(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict.fromkeys(*args, **kwargs)


@lru_cache(maxsize=1)
def _namespace_class(jinja2: Any) -> type:
    """Jinja's `namespace`, refusing underscore names (the way to CPython's internals)."""

    def check(name: Any) -> None:
        if isinstance(name, str) and name.startswith("_"):
            raise jinja2.exceptions.SecurityError(
                "Chat templates cannot store underscore-prefixed attributes on a namespace, "
                f"but got {name!r}."
            )

    class TemplateNamespace(jinja2.utils.Namespace):  # type: ignore[misc,name-defined]
        def __init__(*args: Any, **kwargs: Any) -> None:
            # Jinja's signature: `self` positional-only, so `namespace(self=...)` works.
            self, rest = args[0], args[1:]
            attrs = dict(*rest, **kwargs)
            for name in attrs:
                check(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name: str, value: Any) -> None:
            check(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

    return TemplateNamespace
