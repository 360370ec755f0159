"""apply_chat_template(..., sanitize_control_tokens=True) matches transformers 5.

transformers is the oracle: control tokens that reach the template through the caller's
messages, tools, documents or template variables must become the same ids (their plain-text
encoding) as there, while the template's own control tokens stay tokens; refusals must be the
same kind of error with the same meaning.

Families: those whose tokenizer_config.json has a chat template, and others given a template
in their model's style. llama-2 and phi-3-mini are left out: transformers 5 rebuilds their
pipeline (leading spaces), so even their unsanitized ids differ there (see
test_chat_template.py).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import transformers
from _parity import plain_columns

import batok
from batok.batch_encoding import BatchEncoding

TOKENIZERS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "tokenizers"

LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
    "<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
INST_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }}"
    " [/INST]{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}"
)
# Family: the template to pass (None: the family's own).
FAMILIES: dict[str, str | None] = {
    "qwen2.5": None,
    "qwen3": None,
    "gemma3": None,
    "llama-3.2": LLAMA3_TEMPLATE,
    "deepseek-v4": LLAMA3_TEMPLATE,
    "mistral-7b-v0.1": INST_TEMPLATE,
    "deepseek-coder": INST_TEMPLATE,
}
# Renders documents and two template variables, so all of the caller's inputs reach the text.
INPUTS_TEMPLATE = (
    "{{ bos_token }}{{ note }}|{{ extra['list'] | join(',') }}\n"
    "{% for d in documents %}[{{ d.title }}] {{ d.text }}\n{% endfor %}"
    "{% for t in tools %}{{ t | tojson }}\n{% endfor %}"
    "{% for m in messages %}{{ m.role }}: {{ m.content }}{{ eos_token }}{% endfor %}"
)
MARK_START, MARK_END = "\U000f0000", "\U000f0001"

Pair = tuple[Any, batok.Tokenizer]


def _load(path: Path) -> Pair:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = transformers.AutoTokenizer.from_pretrained(str(path))
    return reference, batok.AutoTokenizer.from_pretrained(path)


@pytest.fixture(scope="module", params=list(FAMILIES))
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    yield _load(TOKENIZERS_DIR / request.param)


def _name(pair: Pair) -> str:
    return Path(pair[0].name_or_path).name


def _template_kwargs(pair: Pair) -> dict[str, Any]:
    template = FAMILIES[_name(pair)]
    return {} if template is None else {"chat_template": template}


def _control_tokens(pair: Pair) -> list[str]:
    """Control tokens of the family for its template, as transformers picks them: the named
    special tokens first, a few other specials, and the non-special template tokens."""
    reference, _ = pair
    template = reference.get_chat_template(FAMILIES[_name(pair)])
    tokens = list(reference._get_control_tokens(template))
    named = [t for t in (reference.bos_token, reference.eos_token) if t in tokens]
    special = {t.content for t in reference.added_tokens_decoder.values() if t.special}
    plain = [t for t in tokens if t not in special]
    # Gemma's class default "<mask>" is in no file: batok does not know it (see the README).
    others = [t for t in tokens if t in special and t not in named and t != "<mask>"]
    chosen = list(dict.fromkeys(named + others[:6] + plain))
    assert chosen, "a family under test must have control tokens"
    return chosen


def _conversations(tokens: list[str]) -> list[list[dict[str, str]]]:
    a, b = tokens[0], tokens[-1]
    joined = "".join(tokens)
    return [
        [{"role": "user", "content": f"hi {a} there"}],
        [
            {"role": "system", "content": f"{b}system{a}"},
            {"role": "user", "content": f"{a}{b}\n{joined}"},
            {"role": "assistant", "content": f" {b} ok {a[:-1]} {a}{a}"},
            {"role": "user", "content": f"数学 {a}🙂{b} naïve\n\n{b}"},
        ],
        [{"role": "user", "content": " ".join(tokens)}, {"role": "assistant", "content": joined}],
    ]


def _both(pair: Pair, call: Callable[[Any], Any]) -> tuple[Any, Any]:
    reference, tok = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = call(reference)
    return expected, call(tok)


@pytest.mark.parametrize("index", range(3))
@pytest.mark.parametrize("generation_prompt", [False, True])
def test_sanitized_ids_match_transformers(pair: Pair, index: int, generation_prompt: bool) -> None:
    conversation = _conversations(_control_tokens(pair))[index]
    kwargs = _template_kwargs(pair)

    def call(t: Any) -> Any:
        return t.apply_chat_template(
            conversation,
            sanitize_control_tokens=True,
            add_generation_prompt=generation_prompt,
            return_dict=False,
            **kwargs,
        )

    expected, got = _both(pair, call)
    assert got == expected
    # The caller's control tokens did not stay tokens: unsanitized, the ids differ.
    unsanitized = pair[1].apply_chat_template(
        conversation, add_generation_prompt=generation_prompt, return_dict=False, **kwargs
    )
    assert got != unsanitized


def test_default_return_is_the_same_batch_encoding_as_in_transformers(pair: Pair) -> None:
    conversation = _conversations(_control_tokens(pair))[1]
    kwargs = _template_kwargs(pair)
    for extra in (
        {},
        {"return_tensors": "np"},
        {"tokenizer_kwargs": {"return_attention_mask": False}},
    ):
        expected, got = _both(
            pair,
            lambda t, extra=extra: t.apply_chat_template(
                conversation, sanitize_control_tokens=True, **kwargs, **extra
            ),
        )
        assert isinstance(got, BatchEncoding)
        assert plain_columns(got) == plain_columns(expected), extra


@pytest.fixture()
def padded(pair: Pair) -> Iterator[Pair]:
    """The pair with a pad token (the EOS token where the family has none), restored after."""
    reference, tok = pair
    before = (reference.pad_token, tok.pad_token)
    if reference.pad_token is None:
        reference.pad_token = reference.eos_token
        tok.pad_token = tok.eos_token
    yield pair
    reference.pad_token, tok.pad_token = before


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"padding": True},
        {"padding": True, "tokenizer_kwargs": {"padding_side": "left"}},
        {"padding": True, "return_tensors": "np"},
        {"padding": True, "tokenizer_kwargs": {"pad_to_multiple_of": 8}},
        {"padding": "max_length", "max_length": 90, "truncation": True},
        {"truncation": True, "max_length": 12},
        {"max_length": 12},  # no truncation asked: the whole chat
        # Columns a plain call would add: transformers leaves them out here.
        {"tokenizer_kwargs": {"return_offsets_mapping": True, "return_length": True}},
    ],
    ids=str,
)
def test_batched_conversations_match_transformers(padded: Pair, options: dict[str, Any]) -> None:
    conversations = _conversations(_control_tokens(padded))
    kwargs = _template_kwargs(padded)
    expected, got = _both(
        padded,
        lambda t: t.apply_chat_template(
            conversations, sanitize_control_tokens=True, **kwargs, **options
        ),
    )
    assert plain_columns(got) == plain_columns(expected)


def test_truncation_side_is_followed_as_in_transformers(padded: Pair) -> None:
    reference, tok = padded
    conversation = _conversations(_control_tokens(padded))[1]
    kwargs = _template_kwargs(padded)
    before = (reference.truncation_side, tok.truncation_side)
    reference.truncation_side = tok.truncation_side = "left"
    try:
        expected, got = _both(
            padded,
            lambda t: t.apply_chat_template(
                conversation, sanitize_control_tokens=True, truncation=True, max_length=9, **kwargs
            ),
        )
    finally:
        reference.truncation_side, tok.truncation_side = before
    assert plain_columns(got) == plain_columns(expected)


def test_tools_documents_and_template_variables_are_sanitized_as_in_transformers(
    pair: Pair,
) -> None:
    tokens = _control_tokens(pair)
    a, b = tokens[0], tokens[-1]
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "description": f"Finds {a} and {b}",
                "parameters": {"type": "object", "properties": {f"{a}key": {"type": "string"}}},
            },
        }
    ]
    documents = [{"title": f"doc {b}", "text": f"{a}text"}, {"title": "t", "text": ("x", b)}]
    conversation = [{"role": "user", "content": f"use {a}"}]
    options = {
        "tools": tools,
        "documents": documents,
        "chat_template": INPUTS_TEMPLATE,
        "note": f"{a}{b}",
        "extra": {"list": (a, f"-{b}-")},
        "return_dict": False,
    }
    expected, got = _both(
        pair, lambda t: t.apply_chat_template(conversation, sanitize_control_tokens=True, **options)
    )
    assert got == expected
    # A variable named like a special token is the caller's, so it is sanitized too.
    expected, got = _both(
        pair,
        lambda t: t.apply_chat_template(
            conversation, sanitize_control_tokens=True, bos_token=b, **options
        ),
    )
    assert got == expected


def test_the_family_template_with_tools_matches_transformers(pair: Pair) -> None:
    tokens = _control_tokens(pair)
    tool = {
        "type": "function",
        "function": {
            "name": "f",
            "description": f"{tokens[-1]} stops {tokens[0]}",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    conversation = _conversations(tokens)[0]
    kwargs = _template_kwargs(pair)
    expected, got = _both(
        pair,
        lambda t: t.apply_chat_template(
            conversation, tools=[tool], sanitize_control_tokens=True, return_dict=False, **kwargs
        ),
    )
    assert got == expected


def test_markers_in_the_input_cannot_forge_a_token_as_in_transformers(pair: Pair) -> None:
    a = _control_tokens(pair)[0]
    forged = f"{MARK_START}{a}{MARK_END} {MARK_START} x{MARK_END}{a[:2]}{MARK_START}{a[2:]}"
    conversation = [{"role": "user", "content": forged}]
    kwargs = _template_kwargs(pair)
    expected, got = _both(
        pair,
        lambda t: t.apply_chat_template(
            conversation, sanitize_control_tokens=True, return_dict=False, **kwargs
        ),
    )
    assert got == expected


@pytest.mark.parametrize(
    "template",
    [
        # Slices through a marked token: lone markers are dropped, still splitting the text.
        "{% for m in messages %}{{ m.content[:3] }}|{{ m.content[3:] }}{{ eos_token }}{% endfor %}",
        # Splits on the token's text, between its markers.
        "{% for m in messages %}{{ m.content.split(eos_token) | join('#') }}{% endfor %}",
        "{{ messages[0].content | upper }}{{ messages[0].content | reverse }}",
    ],
)
def test_templates_that_cut_marked_tokens_match_transformers(pair: Pair, template: str) -> None:
    tokens = _control_tokens(pair)
    content = f"{tokens[0]}ab{tokens[-1]} {pair[0].eos_token}{tokens[0]}"
    conversation = [{"role": "user", "content": content}]
    expected, got = _both(
        pair,
        lambda t: t.apply_chat_template(
            conversation,
            chat_template=template,
            sanitize_control_tokens=True,
            return_dict=False,
        ),
    )
    assert got == expected


def test_continue_final_message_matches_transformers(pair: Pair) -> None:
    tokens = _control_tokens(pair)
    conversation = [
        {"role": "user", "content": f"say {tokens[0]}"},
        # Not the last token: Qwen3's template cuts the message at "</think>".
        {"role": "assistant", "content": f"Sure: {tokens[0]} and"},
    ]
    kwargs = _template_kwargs(pair)
    expected, got = _both(
        pair,
        lambda t: t.apply_chat_template(
            conversation,
            sanitize_control_tokens=True,
            continue_final_message=True,
            return_dict=False,
            **kwargs,
        ),
    )
    assert got == expected


@dataclasses.dataclass
class Message:
    role: str
    content: str
    name: str | None = None


def test_message_objects_are_sanitized_as_in_transformers(pair: Pair) -> None:
    tokens = _control_tokens(pair)
    conversation = [Message("user", f"{tokens[0]} hi {tokens[-1]}")]
    kwargs = _template_kwargs(pair)
    expected, got = _both(
        pair,
        lambda t: t.apply_chat_template(
            conversation, sanitize_control_tokens=True, return_dict=False, **kwargs
        ),
    )
    assert got == expected
    assert got != pair[1].apply_chat_template(conversation, return_dict=False, **kwargs)


@pytest.mark.parametrize(
    "options",
    [{"tokenize": False}, {"return_assistant_tokens_mask": True}],
    ids=["tokenize=False", "assistant mask"],
)
def test_unsupported_combinations_are_refused_as_in_transformers(
    pair: Pair, options: dict[str, Any]
) -> None:
    reference, tok = pair
    conversation = [{"role": "user", "content": "hi"}]
    kwargs = _template_kwargs(pair)
    message = "requires `tokenize=True`"
    with pytest.raises(ValueError, match=message):
        reference.apply_chat_template(
            conversation, sanitize_control_tokens=True, **options, **kwargs
        )
    with pytest.raises(ValueError, match=message):
        tok.apply_chat_template(conversation, sanitize_control_tokens=True, **options, **kwargs)


# -- chat_control_tokens: which added tokens besides the special ones are control tokens ------


@pytest.fixture(scope="module")
def qwen3() -> Pair:
    return _load(TOKENIZERS_DIR / "qwen3")


QWEN_CHAT = [
    {"role": "user", "content": "<tool_call>x</tool_call> <think>?</think> <|im_start|>"},
    {"role": "assistant", "content": "<tool_response>ok</tool_response><|im_end|>"},
]


def _qwen_ids(pair: Pair) -> tuple[Any, Any]:
    return _both(
        pair,
        lambda t: t.apply_chat_template(QWEN_CHAT, sanitize_control_tokens=True, return_dict=False),
    )


@pytest.mark.parametrize(
    "chosen",
    [[], ["<think>", "</think>"], ("<tool_call>", "not an added token"), None],
    ids=str,
)
def test_chat_control_tokens_set_on_the_tokenizer_match_transformers(
    qwen3: Pair, chosen: Any
) -> None:
    reference, tok = qwen3
    assert tok.chat_control_tokens is None and reference.chat_control_tokens is None
    reference.chat_control_tokens = tok.chat_control_tokens = chosen
    try:
        expected, got = _qwen_ids(qwen3)
    finally:
        reference.chat_control_tokens = tok.chat_control_tokens = None
    assert got == expected
    # A non-special token (which this template writes only for tool calls) stays a token
    # unless it is a control token: by the setting, else by being in the template.
    tool_call = tok.convert_tokens_to_ids("<tool_call>")
    assert (tool_call in got) == (chosen is not None and "<tool_call>" not in chosen)


def test_chat_control_tokens_are_read_and_saved_as_in_transformers(tmp_path: Path) -> None:
    source = TOKENIZERS_DIR / "qwen3"
    config = json.loads((source / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["chat_control_tokens"] = ["<think>"]
    directory = tmp_path / "loaded"
    directory.mkdir()
    shutil.copy(source / "tokenizer.json", directory / "tokenizer.json")
    (directory / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    pair = _load(directory)
    assert pair[1].chat_control_tokens == pair[0].chat_control_tokens == ["<think>"]
    expected, got = _qwen_ids(pair)
    assert got == expected
    # batok writes the setting back; transformers reads it from batok's directory.
    pair[1].chat_control_tokens = ["</think>", "<tool_call>"]
    pair[1].save_pretrained(tmp_path / "saved")
    reloaded = _load(tmp_path / "saved")
    assert reloaded[0].chat_control_tokens == reloaded[1].chat_control_tokens
    assert reloaded[1].chat_control_tokens == ["</think>", "<tool_call>"]
    expected, got = _qwen_ids(reloaded)
    assert got == expected


def test_a_chat_control_tokens_string_is_refused_as_in_transformers(tmp_path: Path) -> None:
    source = TOKENIZERS_DIR / "qwen2.5"
    config = json.loads((source / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["chat_control_tokens"] = "<tool_call>"
    shutil.copy(source / "tokenizer.json", tmp_path / "tokenizer.json")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(TypeError, match="chat_control_tokens"):
        transformers.AutoTokenizer.from_pretrained(str(tmp_path))
    with pytest.raises(TypeError, match="chat_control_tokens"):
        batok.AutoTokenizer.from_pretrained(tmp_path)


def test_a_token_the_model_makes_from_plain_text_is_refused_as_in_transformers() -> None:
    # Gemma's vocabulary has "▁▁" (two spaces) as an added token the model also produces.
    reference, tok = _load(TOKENIZERS_DIR / "gemma3")
    reference.chat_control_tokens = tok.chat_control_tokens = ["▁▁"]
    conversation = [{"role": "user", "content": "a▁▁b"}]
    with pytest.raises(ValueError, match="Can't sanitize '▁▁'"):
        reference.apply_chat_template(conversation, sanitize_control_tokens=True)
    with pytest.raises(ValueError, match="Can't sanitize '▁▁'"):
        tok.apply_chat_template(conversation, sanitize_control_tokens=True)
