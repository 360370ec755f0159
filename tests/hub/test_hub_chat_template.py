"""A repo's chat_template.jinja comes with from_pretrained, from the tokenizer's own commit,
and is remembered when missing (so a pinned load offline needs no network)."""

from __future__ import annotations

import json
from pathlib import Path

import batok
from batok.hub import resolve_pretrained_files
from batok.testing.hub import LoopbackHub

GPT2 = Path(__file__).resolve().parents[2].parent / "shared" / "tokenizers" / "gpt2"
CONFIG = json.dumps({"eos_token": "<|endoftext|>", "chat_template": "config {{ eos_token }}"})
CHAT = [{"role": "user", "content": "Hi"}]


def _repo(hub: LoopbackHub, repo_id: str, template: str | None) -> str:
    files = {
        "tokenizer.json": (GPT2 / "tokenizer.json").read_bytes(),
        "tokenizer_config.json": CONFIG,
    }
    if template is not None:
        files["chat_template.jinja"] = template
    return hub.add_repo(repo_id, files)


def test_template_file_takes_the_place_of_the_config_template(
    hub: LoopbackHub, cache_dir: Path
) -> None:
    _repo(hub, "org/chat", "file {{ messages[0].content }}")
    tok = batok.AutoTokenizer.from_pretrained(
        "org/chat", endpoint=hub.endpoint, cache_dir=cache_dir
    )
    assert tok.apply_chat_template(CHAT, tokenize=False) == "file Hi"


def test_template_file_comes_from_the_tokenizer_commit(hub: LoopbackHub, cache_dir: Path) -> None:
    first = _repo(hub, "org/chat", "first")
    hub.commit("org/chat", {"chat_template.jinja": "second"})
    tok, _, templates = resolve_pretrained_files(
        "org/chat", revision=first, endpoint=hub.endpoint, cache_dir=cache_dir
    )
    assert templates["default"].read_text(encoding="utf-8") == "first"
    assert templates["default"].parent == tok.parent


def test_missing_template_file_is_remembered(hub: LoopbackHub, cache_dir: Path) -> None:
    commit = _repo(hub, "org/config-only", None)
    tok = batok.AutoTokenizer.from_pretrained(
        "org/config-only", endpoint=hub.endpoint, cache_dir=cache_dir
    )
    assert tok.apply_chat_template(CHAT, tokenize=False) == "config <|endoftext|>"
    hub.clear()
    again = batok.AutoTokenizer.from_pretrained(
        "org/config-only", revision=commit, endpoint=hub.endpoint, cache_dir=cache_dir
    )
    assert again.chat_template == "config {{ eos_token }}" and hub.log == []
