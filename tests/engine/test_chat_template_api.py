"""apply_chat_template and save_pretrained: where templates come from, what the call returns,
what it refuses, and how files are written (transformers parity is in tests/parity)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
from pathlib import Path
from typing import Any

import jinja2.exceptions
import pytest

import batok
from batok.batch_encoding import BatchEncoding

GPT2 = Path(__file__).resolve().parents[2].parent / "shared" / "tokenizers" / "gpt2"
TEMPLATE = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}"
CHAT = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]


def _directory(tmp_path: Path, config: dict[str, Any], files: dict[str, str] | None = None) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(GPT2 / "tokenizer.json", tmp_path / "tokenizer.json")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    for name, text in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def _tok(tmp_path: Path, **config: Any) -> batok.Tokenizer:
    return batok.AutoTokenizer.from_pretrained(
        _directory(tmp_path, {"eos_token": "<|endoftext|>", **config})
    )


def test_template_string_from_the_config_is_rendered(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template=TEMPLATE)
    assert tok.chat_template == TEMPLATE
    text = tok.apply_chat_template(CHAT, tokenize=False)
    assert text == "<user>Hi<|endoftext|><assistant>Hello<|endoftext|>"


def test_tokenized_chat_is_encoded_without_added_special_tokens(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template=TEMPLATE)
    text = tok.apply_chat_template(CHAT, tokenize=False)
    out = tok.apply_chat_template(CHAT)
    assert isinstance(out, BatchEncoding)
    assert out["input_ids"] == tok.encode(text, add_special_tokens=False)
    assert tok.apply_chat_template(CHAT, return_dict=False) == out["input_ids"]
    assert out["input_ids"].count(tok.eos_token_id) == 2  # the template's, parsed as specials


def test_named_templates_from_the_config_list_form(tmp_path: Path) -> None:
    named = [
        {"name": "default", "template": "D{{ messages[0].content }}"},
        {"name": "tool_use", "template": "T{{ tools[0].name }}"},
        {"name": "rag", "template": "R{{ documents[0].text }}"},
    ]
    tok = _tok(tmp_path, chat_template=named)
    assert tok.chat_template == {e["name"]: e["template"] for e in named}
    assert tok.apply_chat_template(CHAT, tokenize=False) == "DHi"
    tools = [{"name": "search"}]
    assert tok.apply_chat_template(CHAT, tools=tools, tokenize=False) == "Tsearch"
    docs = [{"title": "t", "text": "doc"}]
    assert tok.apply_chat_template(CHAT, chat_template="rag", documents=docs, tokenize=False) == (
        "Rdoc"
    )
    # A chat_template that names no template is a template itself.
    assert tok.apply_chat_template(CHAT, chat_template="X", tokenize=False) == "X"


def test_named_templates_without_a_default_need_a_name(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template=[{"name": "a", "template": "A"}])
    with pytest.raises(ValueError, match="'a'"):
        tok.apply_chat_template(CHAT)
    assert tok.apply_chat_template(CHAT, chat_template="a", tokenize=False) == "A"


@pytest.mark.parametrize("bad", [7, [{"name": "a"}], ["x"], {"default": "x"}])
def test_malformed_chat_template_in_the_config_is_a_value_error(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(ValueError, match="chat_template"):
        _tok(tmp_path, chat_template=bad)


def test_template_files_take_the_place_of_the_config_template(tmp_path: Path) -> None:
    directory = _directory(
        tmp_path,
        {"chat_template": "from config"},
        {"chat_template.jinja": "from file"},
    )
    assert batok.AutoTokenizer.from_pretrained(directory).chat_template == "from file"
    extra = directory / "additional_chat_templates"
    extra.mkdir()
    (extra / "short.jinja").write_text("short one", encoding="utf-8")
    tok = batok.AutoTokenizer.from_pretrained(directory)
    assert tok.chat_template == {"default": "from file", "short": "short one"}
    assert tok.apply_chat_template(CHAT, chat_template="short", tokenize=False) == "short one"


def test_no_template_is_a_value_error(tmp_path: Path) -> None:
    tok = _tok(tmp_path)
    with pytest.raises(ValueError, match="chat_template is not set"):
        tok.apply_chat_template(CHAT)
    assert tok.apply_chat_template(CHAT, chat_template="ok", tokenize=False) == "ok"


@pytest.mark.parametrize("conversation", [[], ()])
def test_empty_conversation_is_a_value_error(tmp_path: Path, conversation: Any) -> None:
    with pytest.raises(ValueError, match="empty conversation"):
        _tok(tmp_path, chat_template=TEMPLATE).apply_chat_template(conversation)


def test_a_message_that_is_not_a_dict_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="dicts"):
        _tok(tmp_path, chat_template=TEMPLATE).apply_chat_template(["hi"], tokenize=False)


def test_batch_gives_one_text_per_conversation(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template=TEMPLATE)
    texts = tok.apply_chat_template([CHAT, CHAT[:1]], tokenize=False)
    assert texts == [tok.apply_chat_template(CHAT, tokenize=False), "<user>Hi<|endoftext|>"]
    ids = tok.apply_chat_template([CHAT, CHAT[:1]], return_dict=False)
    assert ids == [tok.encode(t, add_special_tokens=False) for t in texts]


def test_none_values_are_dropped_and_objects_become_dicts(tmp_path: Path) -> None:
    from dataclasses import dataclass

    @dataclass
    class Message:
        role: str
        content: str | None

    template = "{% for m in messages %}{{ 'content' in m }}{{ m.role }};{% endfor %}"
    tok = _tok(tmp_path, chat_template=template)
    chat = [Message("user", "x"), {"role": "assistant", "content": None}]
    assert tok.apply_chat_template(chat, tokenize=False) == "Trueuser;Falseassistant;"


def test_objects_in_variables_reach_the_template_as_inert_placeholders(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template="{{ thing }}|{{ flag }}")
    text = tok.apply_chat_template(CHAT, tokenize=False, thing=open, flag=True)
    assert text == "<builtin_function_or_method>|True"


def test_tojson_keeps_non_ascii_and_html_characters(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template="{{ messages[0] | tojson }}")
    chat = [{"role": "user", "content": "<b>é</b> & 'x'"}]
    assert tok.apply_chat_template(chat, tokenize=False) == json.dumps(chat[0], ensure_ascii=False)


def test_loop_controls_and_namespace_work(tmp_path: Path) -> None:
    template = (
        "{% set ns = namespace(n=0) %}{% for m in messages %}{% if loop.index > 1 %}{% break %}"
        "{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}"
    )
    assert _tok(tmp_path, chat_template=template).apply_chat_template(CHAT, tokenize=False) == "1"


def test_raise_exception_is_a_template_error(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template="{{ raise_exception('bad roles') }}")
    with pytest.raises(jinja2.exceptions.TemplateError, match="bad roles"):
        tok.apply_chat_template(CHAT)


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ namespace(_hidden=1) }}",
        "{% set ns = namespace() %}{% set ns._x = 1 %}",
        "{{ dict.__call__.__globals__ }}",
        "{{ messages.pop() }}",
    ],
)
def test_sandbox_refuses_escapes(tmp_path: Path, template: str) -> None:
    tok = _tok(tmp_path, chat_template=template)
    with pytest.raises(jinja2.exceptions.SecurityError):
        tok.apply_chat_template(CHAT, tokenize=False)


def test_continue_final_message_cuts_after_the_last_message(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template=TEMPLATE)
    text = tok.apply_chat_template(CHAT, tokenize=False, continue_final_message=True)
    assert text == "<user>Hi<|endoftext|><assistant>Hello"


def test_continue_final_message_needs_the_field_in_the_template(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template="{{ messages | length }}")
    with pytest.raises(ValueError, match="not an accepted field"):
        tok.apply_chat_template(CHAT, continue_final_message=True)


def test_continue_final_message_refuses_a_template_that_drops_it(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template="{{ messages[0].content }} content")
    with pytest.raises(ValueError, match="does not appear"):
        tok.apply_chat_template(CHAT, continue_final_message=True)


def test_sanitized_control_tokens_from_the_caller_are_encoded_as_text(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template=TEMPLATE)
    eos = tok.eos_token_id
    chat = [{"role": "user", "content": "a<|endoftext|>b"}, {"role": "assistant", "content": "c"}]
    plain = tok.apply_chat_template(chat, return_dict=False)
    assert plain.count(eos) == 3  # the template's two and the user's
    out = tok.apply_chat_template(chat, sanitize_control_tokens=True)
    assert list(out) == ["input_ids", "attention_mask"]
    ids = out["input_ids"]
    assert ids.count(eos) == 2  # only the template's
    assert out["attention_mask"] == [1] * len(ids)
    # The user's token is its plain text: the same characters, other ids.
    assert tok.decode(ids) == tok.decode(plain)
    user = tok.encode("<user>a", add_special_tokens=False)
    assert ids[: len(user)] == user
    assert ids[len(user)] != eos
    batch = tok.apply_chat_template([chat, CHAT], sanitize_control_tokens=True, return_dict=False)
    assert batch[0] == ids
    assert batch[1] == tok.apply_chat_template(CHAT, return_dict=False)  # nothing to sanitize


def test_sanitizing_needs_ids_and_no_assistant_mask(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template=TEMPLATE)
    for options in ({"tokenize": False}, {"return_assistant_tokens_mask": True}):
        with pytest.raises(ValueError, match="requires `tokenize=True`"):
            tok.apply_chat_template(CHAT, sanitize_control_tokens=True, **options)
    with pytest.raises(TypeError, match="unexpected keyword argument 'no_such_option'"):
        tok.apply_chat_template(
            CHAT, sanitize_control_tokens=True, tokenizer_kwargs={"no_such_option": 1}
        )


def test_chat_control_tokens_must_be_a_list(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="chat_control_tokens"):
        _tok(tmp_path, chat_template=TEMPLATE, chat_control_tokens="<|endoftext|>")
    tok = _tok(tmp_path, chat_template=TEMPLATE)
    tok.chat_control_tokens = "<|endoftext|>"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="chat_control_tokens"):
        tok.apply_chat_template(CHAT, sanitize_control_tokens=True)


def test_unsupported_options_are_refused(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template=TEMPLATE)
    # Tools are JSON schemas or functions (turned into schemas); anything else is refused.
    with pytest.raises(ValueError, match="callable function with type hints"):
        tok.apply_chat_template(CHAT, tools=[len])


def test_assistant_mask_without_generation_blocks_is_all_zeros_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tok = _tok(tmp_path, chat_template=TEMPLATE)
    with caplog.at_level("WARNING", logger="batok"):
        out = tok.apply_chat_template(CHAT, return_assistant_tokens_mask=True)
    assert out["assistant_masks"] == [0] * len(out["input_ids"])
    assert "does not contain `{% generation %}`" in caplog.text


def test_missing_jinja2_is_a_clear_import_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batok import chat_template

    tok = _tok(tmp_path, chat_template="{{ 'not compiled yet' }} {{ messages | length }}")
    monkeypatch.setitem(sys.modules, "jinja2", None)
    chat_template._compile.cache_clear()
    with pytest.raises(ImportError, match=r"batok\[chat\]"):
        tok.apply_chat_template(CHAT)


def test_chat_template_survives_pickling(tmp_path: Path) -> None:
    tok = _tok(tmp_path, chat_template=TEMPLATE)
    tok.chat_template = "changed {{ messages | length }}"
    again = pickle.loads(pickle.dumps(tok))
    assert again.apply_chat_template(CHAT, tokenize=False) == "changed 2"


# -- save_pretrained ----------------------------------------------------------------------


def test_save_pretrained_writes_the_files_and_returns_their_paths(tmp_path: Path) -> None:
    tok = _tok(tmp_path / "src", chat_template=TEMPLATE, name_or_path="/private/place")
    out = tmp_path / "out"
    written = tok.save_pretrained(out)
    names = sorted(os.path.relpath(p, out) for p in written)
    assert names == sorted(
        [
            "chat_template.jinja",
            "special_tokens_map.json",
            "tokenizer.json",
            "tokenizer_config.json",
        ]
    )
    assert sorted(os.listdir(out)) == names  # no temporary file left behind
    config = json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert "name_or_path" not in config and "chat_template" not in config
    assert config["eos_token"] == "<|endoftext|>"
    specials = json.loads((out / "special_tokens_map.json").read_text(encoding="utf-8"))
    assert specials == {"eos_token": "<|endoftext|>"}
    assert (out / "tokenizer.json").read_text(encoding="utf-8") == tok.to_str()
    assert batok.AutoTokenizer.from_pretrained(out).chat_template == TEMPLATE


def test_save_pretrained_files_follow_the_umask(tmp_path: Path) -> None:
    tok = _tok(tmp_path / "src")
    old = os.umask(0o022)
    try:
        written = tok.save_pretrained(tmp_path / "out")
    finally:
        os.umask(old)
    assert {os.stat(p).st_mode & 0o777 for p in written} == {0o644}


def test_save_pretrained_replaces_existing_files_whole(tmp_path: Path) -> None:
    tok = _tok(tmp_path / "src")
    out = tmp_path / "out"
    out.mkdir()
    (out / "tokenizer.json").write_text("old and much longer " * 100_000, encoding="utf-8")
    tok.save_pretrained(out)
    assert (out / "tokenizer.json").read_text(encoding="utf-8") == tok.to_str()


def test_save_pretrained_into_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(NotADirectoryError):
        _tok(tmp_path / "src").save_pretrained(target)


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ""])
def test_template_names_that_are_paths_are_refused(tmp_path: Path, name: str) -> None:
    tok = _tok(tmp_path / "src")
    tok.chat_template = {"default": "d", name: "x"}
    with pytest.raises(ValueError, match="Invalid chat template name"):
        tok.save_pretrained(tmp_path / "out")
    assert not (tmp_path / "escape.jinja").exists()


def test_save_pretrained_keeps_settings_changed_after_loading(tmp_path: Path) -> None:
    tok = _tok(tmp_path / "src")
    tok.pad_token = tok.eos_token
    tok.model_max_length = 64
    tok.truncation_side = "left"
    tok.save_pretrained(tmp_path / "out")
    again = batok.AutoTokenizer.from_pretrained(tmp_path / "out")
    assert (again.pad_token, again.model_max_length, again.truncation_side) == (
        "<|endoftext|>",
        64,
        "left",
    )
