"""batok's Tokenizer against `tokenizers` on random text (hypothesis), every family of a model
batok runs.

Random Unicode (emoji, combining marks, whitespace runs, CJK, controls; no surrogates), random
ASCII, the same with the family's added and special token strings mixed in, and batches against
single texts.
"""

from __future__ import annotations

from _parity import (
    HfFamily,
    describe_difference,
    hf_differences,
    report,
    text_with_tokens,
    unicode_text,
)
from hypothesis import given, settings
from hypothesis import strategies as st

PARITY = settings.get_profile("batok-parity")


@settings(PARITY)
@given(text=unicode_text)
def test_random_unicode_matches_tokenizers(hf_family: HfFamily, text: str, parity_tally) -> None:
    problems = []
    for add_special_tokens in (False, True):
        problems += hf_differences(hf_family, "random text", text, add_special_tokens)
        parity_tally.add(hf_family.name, text)
    assert not problems, report(problems, f"tokenizers with {hf_family.name} on {text!r}")


#: Every ASCII char, in runs: where SentencePiece words are cut between two chars that no
#: merged token holds side by side, and around chars spelled in byte-fallback tokens.
ascii_text = st.text(st.characters(max_codepoint=0x7F, exclude_categories=("Cs",)), max_size=80)


@settings(PARITY)
@given(text=ascii_text)
def test_random_ascii_matches_tokenizers(hf_family: HfFamily, text: str, parity_tally) -> None:
    problems = hf_differences(hf_family, "random ASCII", text, False)
    parity_tally.add(hf_family.name, text)
    assert not problems, report(problems, f"tokenizers with {hf_family.name} on {text!r}")


@settings(PARITY)
@given(data=st.data())
def test_text_with_added_tokens_matches_tokenizers(
    hf_family: HfFamily, data: st.DataObject, parity_tally
) -> None:
    text = data.draw(text_with_tokens(hf_family.added_tokens), label="text")
    problems = []
    for add_special_tokens in (False, True):
        problems += hf_differences(hf_family, "text with added tokens", text, add_special_tokens)
        parity_tally.add(hf_family.name, text)
    assert not problems, report(problems, f"tokenizers with {hf_family.name} on {text!r}")


@settings(PARITY)
@given(
    texts=st.lists(unicode_text, max_size=8),
    add_special_tokens=st.booleans(),
    num_threads=st.sampled_from([None, 1, 2]),
)
def test_encode_batch_equals_encode(
    hf_family: HfFamily, texts: list[str], add_special_tokens: bool, num_threads: int | None
) -> None:
    tok = hf_family.batok
    kwargs = {} if num_threads is None else {"num_threads": num_threads}
    expected = [tok.encode(text, add_special_tokens=add_special_tokens) for text in texts]
    got = tok.encode_batch(texts, add_special_tokens=add_special_tokens, **kwargs)
    assert got == expected
    plus = tok.encode_batch_plus(texts, add_special_tokens=add_special_tokens, **kwargs)
    assert [list(encoding.ids) for encoding in plus] == expected
    reference = [
        encoding.ids
        for encoding in hf_family.reference.encode_batch(
            texts, add_special_tokens=add_special_tokens
        )
    ]
    problems = [
        describe_difference("encode_batch ids vs tokenizers", f"batch item {i}", text, ref, ids)
        for i, (text, ref, ids) in enumerate(zip(texts, reference, got, strict=True))
        if ref != ids
    ]
    assert not problems, report(problems, f"tokenizers with {hf_family.name}")
    for skip in (False, True):
        decoded = tok.decode_batch(got, skip_special_tokens=skip)
        assert decoded == [tok.decode(ids, skip_special_tokens=skip) for ids in got]
