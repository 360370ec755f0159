"""Chat templates and save_pretrained match transformers 5 on the staged families.

transformers is the oracle: the rendered text of every conversation must be the same string,
and its ids (and BatchEncoding columns) the same ids; refusals must be the same kind of error.
save_pretrained must write a directory that transformers and batok both load back into the
tokenizer that was saved (same ids on the corpus, same chat template).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import jinja2
import jinja2.exceptions
import numpy as np
import pytest
import transformers
from _parity import plain_columns

import batok

SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared"
TOKENIZERS_DIR = SHARED_DIR / "tokenizers"
CORPUS_DIR = SHARED_DIR / "corpus"


def _has_chat_template(family: Path) -> bool:
    config = family / "tokenizer_config.json"
    if not config.is_file():
        return False
    return json.loads(config.read_text(encoding="utf-8")).get("chat_template") is not None


CHAT_FAMILIES = sorted(d.name for d in TOKENIZERS_DIR.iterdir() if _has_chat_template(d))
QWEN = [f for f in CHAT_FAMILIES if f.startswith("qwen")]

SYSTEM_USER_ASSISTANT = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "Paris."},
    {"role": "user", "content": "And of Italy?"},
]
NO_SYSTEM = [
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello! How can I help?"},
    {"role": "user", "content": "  Tell me a joke,\nplease.  "},
]
UNICODE = [
    {"role": "user", "content": "数学是研究数量、结构以及空间等概念的学科。 Ça va? 🙂 naïve — ok"},
    {"role": "assistant", "content": "Привет, мир! مرحبا بالعالم"},
    {"role": "user", "content": "def f(x):\n    return x * 2  # 注释"},
]
PREFILL = [
    {"role": "user", "content": "Write a haiku about rain."},
    {"role": "assistant", "content": "Soft rain on the roof"},
]
CONVERSATIONS = {
    "system_user_assistant": SYSTEM_USER_ASSISTANT,
    "no_system": NO_SYSTEM,
    "unicode": UNICODE,
    "single_user": [{"role": "user", "content": "Hello"}],
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city, in °C",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name, e.g. Zürich"}},
            "required": ["city"],
        },
    },
}
TOOL_CONVERSATION = [
    {"role": "user", "content": "What's the weather in Zürich?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "type": "function",
                "function": {"name": "get_weather", "arguments": {"city": "Zürich"}},
            }
        ],
    },
    {"role": "tool", "name": "get_weather", "content": '{"temperature": 21.5}'},
    {"role": "assistant", "content": "It is 21.5 °C in Zürich."},
    {"role": "user", "content": "Thanks <b>&</b> bye"},
]


def _load(path: Path | str) -> tuple[Any, batok.Tokenizer]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = transformers.AutoTokenizer.from_pretrained(str(path))
    return reference, batok.AutoTokenizer.from_pretrained(path)


@pytest.fixture(scope="module", params=CHAT_FAMILIES)
def pair(request: pytest.FixtureRequest) -> tuple[Any, batok.Tokenizer]:
    return _load(TOKENIZERS_DIR / request.param)


@pytest.fixture(scope="module", params=QWEN)
def qwen(request: pytest.FixtureRequest) -> tuple[Any, batok.Tokenizer]:
    return _load(TOKENIZERS_DIR / request.param)


def test_chat_template_is_read_from_the_config_as_transformers_reads_it(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    assert ours.chat_template == reference.chat_template


def test_special_tokens_given_to_templates_match_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    assert ours.special_tokens_map == reference.special_tokens_map


@pytest.mark.parametrize("add_generation_prompt", [False, True])
@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_rendered_text_matches_transformers(
    pair: tuple[Any, batok.Tokenizer], name: str, add_generation_prompt: bool
) -> None:
    reference, ours = pair
    chat = CONVERSATIONS[name]
    kwargs = {"tokenize": False, "add_generation_prompt": add_generation_prompt}
    try:
        want = reference.apply_chat_template(chat, **kwargs)
    except jinja2.exceptions.TemplateError as e:  # e.g. gemma3 refuses a system-less order
        with pytest.raises(type(e)):
            ours.apply_chat_template(chat, **kwargs)
        return
    got = ours.apply_chat_template(chat, **kwargs)
    assert isinstance(got, str)
    assert got == want


@pytest.mark.parametrize("add_generation_prompt", [False, True])
@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_ids_match_transformers(
    pair: tuple[Any, batok.Tokenizer],
    name: str,
    add_generation_prompt: bool,
) -> None:
    reference, ours = pair
    chat = CONVERSATIONS[name]
    want = reference.apply_chat_template(
        chat, add_generation_prompt=add_generation_prompt, return_dict=False
    )
    got = ours.apply_chat_template(
        chat, add_generation_prompt=add_generation_prompt, return_dict=False
    )
    assert got == want


def test_default_return_is_a_batch_encoding_as_in_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    want = reference.apply_chat_template(SYSTEM_USER_ASSISTANT, add_generation_prompt=True)
    got = ours.apply_chat_template(SYSTEM_USER_ASSISTANT, add_generation_prompt=True)
    assert isinstance(got, batok.tokenizer.BatchEncoding)
    assert plain_columns(got) == plain_columns(want)


BATCH = [SYSTEM_USER_ASSISTANT, UNICODE, PREFILL[:1]]


def test_batched_conversations_render_as_in_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    want = reference.apply_chat_template(BATCH, tokenize=False, add_generation_prompt=True)
    got = ours.apply_chat_template(BATCH, tokenize=False, add_generation_prompt=True)
    assert isinstance(got, list) and got == want


def test_batched_conversations_match_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    batch = BATCH
    kwargs: dict[str, Any] = {"add_generation_prompt": True, "padding": True}
    want = reference.apply_chat_template(batch, return_tensors="np", **kwargs)
    got = ours.apply_chat_template(batch, return_tensors="np", **kwargs)
    assert plain_columns(got) == plain_columns(want)
    assert ours.apply_chat_template(batch, return_dict=False) == reference.apply_chat_template(
        batch, return_dict=False
    )


def test_truncation_and_padding_match_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    batch = [SYSTEM_USER_ASSISTANT, PREFILL[:1]]
    kwargs: dict[str, Any] = {"truncation": True, "max_length": 12, "padding": "max_length"}
    want = reference.apply_chat_template(batch, **kwargs)
    assert plain_columns(ours.apply_chat_template(batch, **kwargs)) == plain_columns(want)


def test_continue_final_message_matches_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    want = reference.apply_chat_template(PREFILL, tokenize=False, continue_final_message=True)
    got = ours.apply_chat_template(PREFILL, tokenize=False, continue_final_message=True)
    assert got == want and got.endswith("Soft rain on the roof")
    assert ours.apply_chat_template(
        PREFILL, continue_final_message=True, return_dict=False
    ) == reference.apply_chat_template(PREFILL, continue_final_message=True, return_dict=False)


def test_continue_final_message_with_generation_prompt_is_refused_as_in_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    kwargs = {"continue_final_message": True, "add_generation_prompt": True}
    with pytest.raises(ValueError):
        reference.apply_chat_template(PREFILL, **kwargs)
    with pytest.raises(ValueError, match="not compatible"):
        ours.apply_chat_template(PREFILL, **kwargs)


def test_empty_conversation_is_refused_as_in_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    with pytest.raises(ValueError):
        reference.apply_chat_template([])
    with pytest.raises(ValueError, match="empty conversation"):
        ours.apply_chat_template([])


def test_extra_template_variables_reach_the_template_as_in_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    template = "{{ greeting }} {{ eos_token }}|{% for m in messages %}{{ m.content }}{% endfor %}"
    kwargs = {"chat_template": template, "tokenize": False, "greeting": "¡hola!"}
    want = reference.apply_chat_template(NO_SYSTEM, **kwargs)
    assert ours.apply_chat_template(NO_SYSTEM, **kwargs) == want
    # The caller's variables take the place of a special token of the same name.
    kwargs["eos_token"] = "<END>"
    assert ours.apply_chat_template(NO_SYSTEM, **kwargs) == reference.apply_chat_template(
        NO_SYSTEM, **kwargs
    )


def test_tools_render_as_in_transformers(qwen: tuple[Any, batok.Tokenizer]) -> None:
    reference, ours = qwen
    for chat in (TOOL_CONVERSATION, SYSTEM_USER_ASSISTANT):
        kwargs: dict[str, Any] = {"tools": [WEATHER_TOOL], "add_generation_prompt": True}
        want = reference.apply_chat_template(chat, tokenize=False, **kwargs)
        assert ours.apply_chat_template(chat, tokenize=False, **kwargs) == want
        want_ids = reference.apply_chat_template(chat, return_dict=False, **kwargs)
        assert ours.apply_chat_template(chat, return_dict=False, **kwargs) == want_ids


def get_current_temperature(location: str, unit: str = "celsius") -> float:
    """Get the current temperature at a location.

    Args:
        location: The location, as "City, Country"
        unit: The unit to return the temperature in. (choices: ["celsius", "fahrenheit"])

    Returns:
        The temperature, as a float.
    """
    return 22.0


def test_function_tools_render_as_in_transformers(qwen: tuple[Any, batok.Tokenizer]) -> None:
    reference, ours = qwen
    kwargs: dict[str, Any] = {
        "tools": [get_current_temperature, WEATHER_TOOL],
        "add_generation_prompt": True,
        "tokenize": False,
    }
    want = reference.apply_chat_template(TOOL_CONVERSATION, **kwargs)
    assert ours.apply_chat_template(TOOL_CONVERSATION, **kwargs) == want
    assert "get_current_temperature" in want


@pytest.mark.parametrize("enable_thinking", [False, True])
def test_template_kwargs_like_enable_thinking_match_transformers(
    qwen: tuple[Any, batok.Tokenizer], enable_thinking: bool
) -> None:
    reference, ours = qwen
    reasoning = [
        *NO_SYSTEM[:1],
        {"role": "assistant", "content": "Hi!", "reasoning_content": "The user greets me."},
        {"role": "user", "content": "What is 2+2?"},
    ]
    for chat in (SYSTEM_USER_ASSISTANT, reasoning):
        kwargs: dict[str, Any] = {"add_generation_prompt": True, "enable_thinking": enable_thinking}
        want = reference.apply_chat_template(chat, tokenize=False, **kwargs)
        assert ours.apply_chat_template(chat, tokenize=False, **kwargs) == want


def test_raise_exception_in_a_template_is_a_template_error_as_in_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    template = "{{ raise_exception('roles must alternate') }}"
    with pytest.raises(jinja2.exceptions.TemplateError, match="roles must alternate"):
        reference.apply_chat_template(NO_SYSTEM, chat_template=template)
    with pytest.raises(jinja2.exceptions.TemplateError, match="roles must alternate"):
        ours.apply_chat_template(NO_SYSTEM, chat_template=template)


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ messages.__class__.__init__.__globals__ }}",
    "{{ raise_exception.__globals__['os'].system('true') }}",
    "{% set ns = namespace() %}{% set ns.__class__ = 1 %}{{ ns }}",
    "{{ namespace(_x=1) }}",
    "{{ dict.__class__.__init__.__globals__ }}",
    "{{ messages.append(1) }}",
    "{{ cycler.__init__.__globals__.os }}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_sandbox_escapes_are_refused_as_in_transformers(
    pair: tuple[Any, batok.Tokenizer], template: str
) -> None:
    reference, ours = pair
    kwargs = {"chat_template": template, "tokenize": False}
    with pytest.raises(jinja2.exceptions.SecurityError) as want:
        reference.apply_chat_template(NO_SYSTEM, **kwargs)
    with pytest.raises(want.type):
        ours.apply_chat_template(NO_SYSTEM, **kwargs)


def test_a_tokenizer_without_a_template_is_refused_as_in_transformers() -> None:
    reference, ours = _load(TOKENIZERS_DIR / "llama-2")
    assert reference.chat_template is None and ours.chat_template is None
    with pytest.raises(ValueError, match="chat_template is not set"):
        reference.apply_chat_template(NO_SYSTEM)
    with pytest.raises(ValueError, match="chat_template is not set"):
        ours.apply_chat_template(NO_SYSTEM)


# -- save_pretrained ----------------------------------------------------------------------

SAVED_FAMILIES = ["all-minilm-l6-v2", "llama-2", "qwen2.5", "gemma3", "gpt2", "deepseek-coder"]


def _corpus_lines() -> list[str]:
    texts = []
    for path in sorted(CORPUS_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        texts.extend(line for line in text.splitlines()[:20] if line.strip())
        texts.append(text[:2000])
    return texts


@pytest.mark.parametrize("family", SAVED_FAMILIES)
def test_saved_directory_loads_back_the_same_tokenizer_in_both_libraries(
    family: str, tmp_path: Path
) -> None:
    reference, ours = _load(TOKENIZERS_DIR / family)
    written = ours.save_pretrained(tmp_path / "saved")
    assert all(Path(p).is_file() for p in written)
    assert {Path(p).name for p in written} >= {
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    }
    reference_again, ours_again = _load(tmp_path / "saved")
    texts = _corpus_lines()
    for add in (True, False):
        want = reference(texts, add_special_tokens=add)["input_ids"]
        assert reference_again(texts, add_special_tokens=add)["input_ids"] == want
        assert (
            ours_again(texts, add_special_tokens=add)["input_ids"]
            == ours(texts, add_special_tokens=add)["input_ids"]
        )
    assert ours_again.special_tokens_map == ours.special_tokens_map
    assert reference_again.special_tokens_map == reference.special_tokens_map
    for name in ("model_max_length", "padding_side", "truncation_side"):
        assert getattr(ours_again, name) == getattr(ours, name)
        assert getattr(reference_again, name) == getattr(reference, name)
    # The file's own truncation and padding sections travel too.
    original = batok.Tokenizer.from_file(TOKENIZERS_DIR / family / "tokenizer.json")
    saved = batok.Tokenizer.from_file(tmp_path / "saved" / "tokenizer.json")
    assert (saved.truncation, saved.padding) == (original.truncation, original.padding)


@pytest.mark.parametrize("family", CHAT_FAMILIES)
def test_saved_chat_template_renders_the_same_in_both_libraries(
    family: str, tmp_path: Path
) -> None:
    _, ours = _load(TOKENIZERS_DIR / family)
    ours.save_pretrained(tmp_path)
    assert (tmp_path / "chat_template.jinja").is_file()
    reference_again, ours_again = _load(tmp_path)
    assert reference_again.chat_template == ours.chat_template == ours_again.chat_template
    chat = SYSTEM_USER_ASSISTANT[1:]
    want = reference_again.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    assert ours_again.apply_chat_template(chat, tokenize=False, add_generation_prompt=True) == (
        want
    )


def test_changed_settings_are_saved_as_transformers_reads_them(tmp_path: Path) -> None:
    _, ours = _load(TOKENIZERS_DIR / "llama-2")
    ours.pad_token = ours.eos_token
    ours.model_max_length = 77
    ours.padding_side = "right"
    ours.truncation_side = "left"
    ours.chat_template = "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
    ours.save_pretrained(tmp_path)
    reference_again, ours_again = _load(tmp_path)
    for tok in (reference_again, ours_again):
        assert tok.pad_token == "</s>"
        assert tok.model_max_length == 77
        assert (tok.padding_side, tok.truncation_side) == ("right", "left")
        assert tok.apply_chat_template(NO_SYSTEM, tokenize=False) == (
            "[user] Hi there\n[assistant] Hello! How can I help?\n[user]   Tell me a joke,\n"
            "please.  \n"
        )


def test_named_templates_are_saved_as_transformers_saves_them(tmp_path: Path) -> None:
    reference, ours = _load(TOKENIZERS_DIR / "qwen2.5")
    named = {"default": reference.chat_template, "plain": "{{ messages[0].content }}"}
    ours.chat_template = dict(named)
    written = ours.save_pretrained(tmp_path / "ours")
    reference.chat_template = dict(named)
    want = reference.save_pretrained(tmp_path / "ref")
    relative = sorted(str(Path(p).relative_to(tmp_path / "ours")) for p in written)
    assert [p for p in relative if "chat_template" in p] == sorted(
        str(Path(p).relative_to(tmp_path / "ref")) for p in want if "chat_template" in str(p)
    )
    reference_again, ours_again = _load(tmp_path / "ours")
    assert reference_again.chat_template == ours_again.chat_template == named
    for tok in (reference_again, ours_again):
        got = tok.apply_chat_template(NO_SYSTEM, chat_template="plain", tokenize=False)
        assert got == "Hi there"


# ------------------------------------------------------------------ assistant masks

# `{% generation %}` marks what the assistant says. Variants: the plain form, the block inside a
# macro and inside a `set` block (where Jinja buffers output, so the tracked position is the
# output produced so far, as transformers measures it), whitespace control on the tags, and a
# block that renders nothing.
GENERATION_TEMPLATES = {
    "chatml": (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n"
        "{% if m.role == 'assistant' %}{% generation %}{{ m.content }}<|im_end|>"
        "{% endgeneration %}{% else %}{{ m.content }}<|im_end|>{% endif %}\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    ),
    "macro": (
        "{% macro say(m) %}[{{ m.role }}] {% if m.role == 'assistant' %}{% generation %}"
        "{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endmacro %}"
        "{% for m in messages %}{{ say(m) }}\n{% endfor %}"
    ),
    "set_block": (
        "{% for m in messages %}{% set line %}{{ m.role }}: {% if m.role == 'assistant' %}"
        "{%- generation -%} {{ m.content }} {%- endgeneration -%}{% else %}{{ m.content }}"
        "{% endif %}{% endset %}{{ line }}\n{% endfor %}"
    ),
    "empty_block": (
        "{% for m in messages %}{{ m.role }}: {% generation %}{% if m.role == 'assistant' %}"
        "{{ m.content }}{% endif %}{% endgeneration %}{{ m.content if m.role != 'assistant' }}"
        "\n{% endfor %}"
    ),
}
MASK_CALLS: dict[str, dict[str, Any]] = {
    "single": {},
    "batch_padded": {"batch": True, "padding": True},
    "batch_left_padded_np": {"batch": True, "padding": True, "return_tensors": "np"},
    "single_np": {"return_tensors": "np"},
    "truncated": {"truncation": True, "max_length": 20},
    "with_offsets": {"tokenizer_kwargs": {"return_offsets_mapping": True}},
}


@pytest.mark.parametrize("call", MASK_CALLS, ids=list(MASK_CALLS))
@pytest.mark.parametrize("template", GENERATION_TEMPLATES, ids=list(GENERATION_TEMPLATES))
def test_assistant_masks_match_transformers(
    pair: tuple[Any, batok.Tokenizer], template: str, call: str
) -> None:
    reference, ours = pair
    kwargs = dict(MASK_CALLS[call])
    chat: Any = [SYSTEM_USER_ASSISTANT + [{"role": "assistant", "content": "Rome 🙂."}], NO_SYSTEM]
    if not kwargs.pop("batch", False):
        chat = chat[0]
    if call == "batch_left_padded_np":
        reference.padding_side = ours.padding_side = "left"
    if kwargs.get("padding") and reference.pad_token is None:
        reference.pad_token = ours.pad_token = reference.eos_token
    kwargs.update(chat_template=GENERATION_TEMPLATES[template], return_assistant_tokens_mask=True)
    try:
        want = reference.apply_chat_template(chat, **kwargs)
        got = ours.apply_chat_template(chat, **kwargs)
    finally:
        reference.padding_side = ours.padding_side = "right"
    assert plain_columns(got) == plain_columns(want)
    assert sum(map(sum, np.atleast_2d(np.asarray(want["assistant_masks"], dtype=object)))) or (
        call == "truncated"
    )


def test_generation_blocks_render_without_a_mask_as_in_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    for template in GENERATION_TEMPLATES.values():
        kwargs: dict[str, Any] = {"chat_template": template, "tokenize": False}
        assert ours.apply_chat_template(NO_SYSTEM, **kwargs) == (
            reference.apply_chat_template(NO_SYSTEM, **kwargs)
        )


def test_assistant_masks_need_a_dict_of_ids_as_in_transformers(
    pair: tuple[Any, batok.Tokenizer],
) -> None:
    reference, ours = pair
    template = GENERATION_TEMPLATES["chatml"]
    for kwargs in (
        {"tokenize": False},
        {"return_dict": False},
        {"continue_final_message": True},
    ):
        kwargs = {**kwargs, "chat_template": template, "return_assistant_tokens_mask": True}
        with pytest.raises(ValueError):
            reference.apply_chat_template(PREFILL, **kwargs)
        with pytest.raises(ValueError, match="return_assistant_tokens_mask"):
            ours.apply_chat_template(PREFILL, **kwargs)
