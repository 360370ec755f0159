"""batok's Tokenizer against `tokenizers` on the staged test vectors (`cases*.json`).

The files hold `{"text", "ids"}` pairs collected from other projects; the reference is what
`tokenizers` gives on the same text with the file as it is (see ../shared/tokenizers/SOURCES.md for
the one file whose ids carry a BOS that the tokenizer.json does not add).
"""

from __future__ import annotations

import json
from pathlib import Path

from _parity import HfFamily, hf_differences, report

import batok


def test_cases_match_tokenizers(hf_family: HfFamily, case_file: Path, parity_tally) -> None:
    cases = json.loads(case_file.read_text(encoding="utf-8"))
    assert isinstance(cases, list) and cases, f"{case_file} holds no cases"
    problems: list[str] = []
    for index, case in enumerate(cases):
        text = case["text"]
        assert isinstance(text, str), f"{case_file.name}[{index}] has no text"
        for add_special_tokens in (True, False):
            label = f"{case_file.name}[{index}]"
            problems += hf_differences(hf_family, label, text, add_special_tokens)
            parity_tally.add(hf_family.name, text)
    assert not problems, report(problems, f"tokenizers with {hf_family.name}")


def test_llama2_hello_world_gives_the_published_ids(tokenizers_dir: Path) -> None:
    # The one hand-typed expectation: Llama-2's ids for "Hello world!" (BOS included).
    tok = batok.Tokenizer.from_file(str(tokenizers_dir / "llama-2" / "tokenizer.json"))
    assert tok.encode("Hello world!") == [1, 15043, 3186, 29991]
