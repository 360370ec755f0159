"""`Tokenizer` and `AutoTokenizer`: tokenizer.json files with the API of `transformers`
tokenizers (ids as lists) and of `tokenizers` (encodings with tokens and offsets)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from . import _batok
from ._threads import resolve_num_threads
from ._validate import check_ids, check_text, check_texts, check_words
from .added_token import AddedToken
from .batch_encoding import BatchEncoding

TYPE_CHECKING = False  # `typing` only for the type checker (see encoding.py)
if TYPE_CHECKING:
    from typing import Any

Encoding = _batok.Encoding

_SPECIAL_NAMES = (
    "bos_token",
    "eos_token",
    "unk_token",
    "pad_token",
    "sep_token",
    "cls_token",
    "mask_token",
)
# transformers' order of the named special tokens (special_tokens_map, saved files).
_SPECIAL_ORDER = (
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
)
# Special tokens a transformers 5 tokenizer class names itself where the config names none
# (its constructor's defaults: GemmaTokenizer's `mask_token` is in no Gemma config). Listed
# only for classes whose defaults the parity tests check against transformers.
_CLASS_SPECIAL_DEFAULTS: dict[str, dict[str, str]] = {
    "GemmaTokenizer": {
        "unk_token": "<unk>",
        "bos_token": "<bos>",
        "eos_token": "<eos>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    },
}
# transformers' default columns; only BERT-style tokenizer classes add token_type_ids.
_INPUT_NAMES = ["input_ids", "attention_mask"]
_TYPED_INPUT_NAMES = ["input_ids", "token_type_ids", "attention_mask"]
_TYPED_CLASSES = frozenset(
    {"BertTokenizer", "BertTokenizerFast", "ElectraTokenizer", "ElectraTokenizerFast"}
)


def _token_content(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


def _extra_special_tokens(config: dict[str, Any]) -> list[str]:
    """The special tokens without a name of their own: a list under `extra_special_tokens`,
    or under transformers 4's `additional_special_tokens`, read as transformers 5 reads it."""
    listed = config.get("extra_special_tokens")
    if not listed:
        listed = config.get("additional_special_tokens")
    if not isinstance(listed, list | tuple):
        return []
    return [c for c in map(_token_content, listed) if c is not None]


class Tokenizer:
    """A tokenizer.json pipeline run by the Rust engine.

    >>> tok = Tokenizer.from_file("tokenizer.json")  # doctest: +SKIP
    >>> tok.encode("Hello world!")  # doctest: +SKIP
    [1, 15043, 3186, 29991]
    """

    def __init__(self, native: _batok.Tokenizer, config: dict[str, Any] | None = None) -> None:
        native = _legacy_false_prepend(native, config or {})
        self._native = native
        # The same tokenizer without truncation and padding (shared, not copied): the
        # transformers call applies its own per call, as transformers does.
        self._plain_native = native.with_limits() if _has_limits(native) else native
        self._config: dict[str, Any] = dict(config or {})
        self.bos_token: str | None = None
        self.eos_token: str | None = None
        self.unk_token: str | None = None
        self.pad_token: str | None = None
        self.sep_token: str | None = None
        self.cls_token: str | None = None
        self.mask_token: str | None = None
        for name in _SPECIAL_NAMES:
            setattr(self, name, _token_content(self._config.get(name)))
        cfg = self._config
        # Model-specific named special tokens (Gemma 3's `image_token`...), which transformers
        # lists in special_tokens_map and so passes to chat templates.
        extras = cfg.get("extra_special_tokens")
        self._named_extras: dict[str, str] = {}
        if isinstance(extras, dict):
            for name, value in extras.items():
                content = _token_content(value)
                if isinstance(name, str) and content is not None:
                    self._named_extras[name] = content
        self._extra_special: list[str] = _extra_special_tokens(cfg)
        from .chat_template import config_chat_template

        self.chat_template: str | dict[str, str] | None = config_chat_template(
            cfg.get("chat_template")
        )
        # The added tokens `apply_chat_template(..., sanitize_control_tokens=True)` treats as
        # control tokens besides the special ones (None: those in the template's text).
        control = cfg.get("chat_control_tokens")
        if control is not None and not isinstance(control, list | tuple):
            raise TypeError(f"`chat_control_tokens` should be a list of strings, got {control!r}")
        self.chat_control_tokens: list[str] | tuple[str, ...] | None = control
        # The tokenizer.json's own truncation and padding sections, which from_pretrained
        # turns off for encoding but save_pretrained writes back (None: `_native`'s are the ones).
        self._file_limits: tuple[str | None, str | None] | None = None
        from .encode_call import VERY_LARGE_INTEGER

        max_len = cfg.get("model_max_length")
        self.model_max_length: int = (
            max_len
            if isinstance(max_len, int) and not isinstance(max_len, bool)
            else VERY_LARGE_INTEGER
        )
        # transformers 5's LlamaTokenizer pads on the left unless the config says otherwise.
        default_side = "left" if cfg.get("tokenizer_class") == "LlamaTokenizer" else None
        self.padding_side: str = _side(cfg.get("padding_side", default_side), "padding_side")
        self.truncation_side: str = _side(cfg.get("truncation_side"), "truncation_side")
        names = cfg.get("model_input_names")
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            typed = cfg.get("tokenizer_class") in _TYPED_CLASSES
            names = _TYPED_INPUT_NAMES if typed else _INPUT_NAMES
        self.model_input_names: list[str] = list(names)
        # `decode`'s default for `skip_special_tokens`: True as `tokenizers` has it for a
        # tokenizer loaded as `tokenizers` loads one (from_file, from_str), False as transformers
        # has it for one loaded as transformers does (`from_pretrained`, `AutoTokenizer`).
        self.decode_skips_special_tokens: bool = True
        self._frame_cache: Any = None
        self._pair_frames: dict[bool, Any] = {}
        # The special tokens around a text are the file's post-processor's: the config's
        # `add_bos_token`/`add_eos_token` add none it lacks. transformers 5 runs such a file
        # (deepseek-coder's) that way too, as do Transformers.js and `tokenizers`.

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Tokenizer:
        """Load a tokenizer.json file."""
        return cls(_batok.Tokenizer.from_file(os.fspath(path)))

    @classmethod
    def from_str(cls, json_text: str) -> Tokenizer:
        """Load a tokenizer from the text of a tokenizer.json file."""
        return cls(_batok.Tokenizer.from_str(check_text(json_text, "json_text")))

    def to_str(self) -> str:
        """The tokenizer.json text this tokenizer runs (loads in `tokenizers` unchanged)."""
        return self._native.to_str()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the tokenizer.json file."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_str())

    def __reduce__(self) -> tuple[Any, ...]:
        # By content: a worker process rebuilds the same tokenizer with no file or download.
        return (_rebuild, (self.to_str(), self._config, self._state()))

    def _state(self) -> dict[str, Any]:
        names = (*_SPECIAL_NAMES, "model_max_length", "padding_side", "truncation_side")
        extra = ("model_input_names", "chat_template", "chat_control_tokens", "_file_limits")
        extra = (*extra, "_extra_special", "decode_skips_special_tokens")
        return {name: getattr(self, name) for name in (*names, *extra)}

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str],
        *,
        revision: str = "main",
        token: str | bool | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        local_files_only: bool = False,
        force_download: bool = False,
        endpoint: str | None = None,
    ) -> Tokenizer:
        """Load from a local directory or a hub repo (`BA_ACCESS_TOKEN` for gated repos)."""
        from .hub.pretrained import resolve_pretrained_files

        tokenizer_file, config_file, template_files = resolve_pretrained_files(
            name_or_path,
            revision=revision,
            token=token,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            force_download=force_download,
            endpoint=endpoint,
        )
        config: dict[str, Any] = {}
        if config_file is not None:
            try:
                import json  # only here: json would add to every `import batok`

                with open(config_file, encoding="utf-8") as f:
                    loaded = json.load(f)
            # A deeply nested file exhausts json's recursion limit: that is bad input too.
            except (OSError, ValueError, RecursionError) as e:
                raise ValueError(f"{config_file} is not a valid tokenizer_config.json: {e}") from e
            if isinstance(loaded, dict):
                config = loaded
        tokenizer_class = config.get("tokenizer_class")
        if isinstance(tokenizer_class, str):
            defaults = _CLASS_SPECIAL_DEFAULTS.get(tokenizer_class.removesuffix("Fast"), {})
            config = {**{k: v for k, v in defaults.items() if k not in config}, **config}
        # transformers runs a file's truncation and padding only when a call asks for them.
        file_native = _batok.Tokenizer.from_file(os.fspath(tokenizer_file))
        tok = cls(file_native.with_limits(), config)
        tok.decode_skips_special_tokens = False
        if _has_limits(file_native):
            tok._file_limits = (file_native.truncation, file_native.padding)
        tok._make_named_tokens_special()
        if template_files:
            # As in transformers 5, template files take the place of the config's template.
            from .chat_template import read_template_files

            tok.chat_template = read_template_files(template_files)
        return tok

    # -- truncation and padding --------------------------------------------------------------

    def enable_truncation(
        self,
        max_length: int,
        stride: int = 0,
        strategy: str = "longest_first",
        direction: str = "right",
    ) -> None:
        """Truncate every encoding to `max_length` tokens (special tokens included), keeping
        what is cut off as `overflowing` windows that overlap by `stride` tokens, as
        `tokenizers` does. `strategy`: "longest_first", "only_first" or "only_second" (which
        text of a pair gives way); `direction`: "right" or "left" (which end is cut)."""
        section = {
            "direction": _choice(direction, _DIRECTIONS, "direction"),
            "max_length": _count(max_length, "max_length"),
            "strategy": _choice(strategy, _STRATEGIES, "strategy"),
            "stride": _count(stride, "stride"),
        }
        self._set_limits(section, _section(self._native.padding))

    def no_truncation(self) -> None:
        """Encode texts whole (the default, unless the file sets truncation)."""
        self._set_limits(None, _section(self._native.padding))

    @property
    def truncation(self) -> dict[str, Any] | None:
        """The truncation in effect, as `tokenizers` reports it, or None."""
        t = _section(self._native.truncation)
        if t is None:
            return None
        return {
            "max_length": t["max_length"],
            "stride": t["stride"],
            "strategy": _name_of(t["strategy"], _STRATEGIES),
            "direction": _name_of(t.get("direction", "Right"), _DIRECTIONS),
        }

    def enable_padding(
        self,
        direction: str = "right",
        pad_id: int = 0,
        pad_type_id: int = 0,
        pad_token: str = "[PAD]",
        length: int | None = None,
        pad_to_multiple_of: int | None = None,
    ) -> None:
        """Pad every encoding to `length` tokens, or (None) to the longest of each batch,
        rounded up to `pad_to_multiple_of`, with `pad_id`/`pad_token` on the `direction`
        side, as `tokenizers` does."""
        section = {
            "strategy": "BatchLongest" if length is None else {"Fixed": _count(length, "length")},
            "direction": _choice(direction, _DIRECTIONS, "direction"),
            "pad_to_multiple_of": (
                None
                if pad_to_multiple_of is None
                else _count(pad_to_multiple_of, "pad_to_multiple_of")
            ),
            "pad_id": _count(pad_id, "pad_id", 2**32 - 1),
            "pad_type_id": _count(pad_type_id, "pad_type_id", 2**32 - 1),
            "pad_token": check_text(pad_token, "pad_token"),
        }
        self._set_limits(_section(self._native.truncation), section)

    def no_padding(self) -> None:
        """Leave encodings at their own length (the default, unless the file sets padding)."""
        self._set_limits(_section(self._native.truncation), None)

    @property
    def padding(self) -> dict[str, Any] | None:
        """The padding in effect, as `tokenizers` reports it, or None."""
        p = _section(self._native.padding)
        if p is None:
            return None
        strategy = p["strategy"]
        return {
            "length": strategy["Fixed"] if isinstance(strategy, dict) else None,
            "pad_to_multiple_of": p["pad_to_multiple_of"],
            "pad_id": p["pad_id"],
            "pad_token": p["pad_token"],
            "pad_type_id": p["pad_type_id"],
            "direction": _name_of(p["direction"], _DIRECTIONS),
        }

    def _set_limits(self, truncation: Any, padding: Any) -> None:
        import json

        self._file_limits = None  # the settings now are the caller's, and are what is saved

        def text(section: Any) -> str | None:
            return None if section is None else json.dumps(section)

        self._native = self._native.with_limits(text(truncation), text(padding))

    def _plain(self) -> _batok.Tokenizer:
        """The native tokenizer with no truncation or padding."""
        return self._plain_native

    # -- encoding --------------------------------------------------------------------------

    def encode(
        self,
        text: str | Sequence[str],
        pair: str | Sequence[str] | bool | None = None,
        add_special_tokens: bool = True,
        *,
        is_pretokenized: bool = False,
    ) -> list[int]:
        """Token ids of `text` (and of a second text `pair`, as transformers' `encode(text,
        text_pair)`), with the file's special tokens when `add_special_tokens`. A bool in place
        of `pair` is `add_special_tokens` (batok's earlier `encode(text, add_special_tokens)`).
        With `is_pretokenized`, `text` (and `pair`) are lists of words (see `encode_plus`)."""
        if pair is None and add_special_tokens is True and type(text) is str:
            if not is_pretokenized:  # the usual call, one per document: nothing else to check
                return self._native.encode_ids(text, True)
        pair, add = _pair_and_flag(pair, add_special_tokens)
        if is_pretokenized:
            return self._encode_words(text, pair, add).ids
        if pair is None:
            return self._native.encode_ids(check_text(text), add)
        return self._native.encode_pair(check_text(text), check_text(pair, "pair"), add).ids

    def encode_plus(
        self,
        text: str | Sequence[str],
        pair: str | Sequence[str] | bool | None = None,
        add_special_tokens: bool = True,
        *,
        is_pretokenized: bool = False,
    ) -> _batok.Encoding:
        """An `Encoding` with `ids`, `tokens`, character `offsets`, `type_ids` and
        `sequence_ids`, as `tokenizers`' `encode(text, pair)` gives (offsets of the second text
        are into that text). A bool in place of `pair` is `add_special_tokens`.

        With `is_pretokenized`, `text` (and `pair`) are lists of words, as `tokenizers` takes
        pre-tokenized input: each word is encoded as a text of its own, `words` numbers the
        tokens with their word's index, and offsets are within each word."""
        pair, add = _pair_and_flag(pair, add_special_tokens)
        if is_pretokenized:
            return self._encode_words(text, pair, add)
        if pair is None:
            return self._native.encode(check_text(text), add)
        return self._native.encode_pair(check_text(text), check_text(pair, "pair"), add)

    def _encode_words(self, words: Any, pair: Any, add: bool) -> _batok.Encoding:
        first = check_words(words, "text")
        second = None if pair is None else check_words(pair, "pair")
        return self._native.encode_words(first, second, add)

    def encode_batch(
        self,
        texts: Sequence[str] | Sequence[Sequence[str]],
        add_special_tokens: bool = True,
        num_threads: int | None = None,
        *,
        is_pretokenized: bool = False,
    ) -> list[list[int]]:
        """`encode` over many texts on all cores (or `num_threads`, or `BATOK_NUM_THREADS`; a
        count above 4 threads per CPU this process may use is taken as that many). With
        `is_pretokenized`, each item is a list of words."""
        if is_pretokenized:
            encs = self.encode_batch_plus(
                texts, add_special_tokens, num_threads, is_pretokenized=True
            )
            return [e.ids for e in encs]
        return self._native.encode_batch_ids(
            check_texts(texts), bool(add_special_tokens), resolve_num_threads(num_threads)
        )

    def encode_batch_plus(
        self,
        texts: Sequence[Any],
        add_special_tokens: bool = True,
        num_threads: int | None = None,
        *,
        is_pretokenized: bool = False,
    ) -> list[_batok.Encoding]:
        """`encode_plus` over many texts; an item that is a `(text, pair)` tuple is encoded as
        a pair (as `tokenizers`' `encode_batch` takes them). With `is_pretokenized`, an item
        is a list of words, or a `(words, pair_words)` tuple."""
        threads = resolve_num_threads(num_threads)
        if is_pretokenized:
            if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
                raise TypeError(
                    "with is_pretokenized=True, texts must be a list of word lists, got "
                    f"{type(texts).__name__}"
                )
            firsts: list[list[str]] = []
            seconds: list[list[str] | None] = []
            for i, item in enumerate(texts):
                if isinstance(item, tuple) and len(item) == 2 and not isinstance(item[0], str):
                    firsts.append(check_words(item[0], f"texts[{i}][0]"))
                    seconds.append(check_words(item[1], f"texts[{i}][1]"))
                else:
                    firsts.append(check_words(item, f"texts[{i}]"))
                    seconds.append(None)
            return self._native.encode_words_batch(
                firsts, seconds, bool(add_special_tokens), threads
            )
        if isinstance(texts, (str, bytes)) or not any(isinstance(t, tuple) for t in texts):
            return self._native.encode_batch(check_texts(texts), bool(add_special_tokens), threads)
        firsts_t, seconds_t = _split_pairs(texts)
        return self._native.encode_pair_batch(
            firsts_t, seconds_t, bool(add_special_tokens), threads
        )

    def encode_batch_to_numpy(
        self,
        texts: Sequence[str],
        add_special_tokens: bool = True,
        num_threads: int | None = None,
    ) -> tuple[Any, Any]:
        """`encode_batch` as one flat numpy `uint32` array of ids and an `int64` array of
        `len(texts) + 1` offsets (`ids[offsets[i]:offsets[i + 1]]` are the ids of `texts[i]`),
        with no Python object per token. Needs numpy."""
        try:
            import numpy as np
        except ImportError as err:
            raise ImportError(
                "encode_batch_to_numpy needs numpy; install it with `pip install batok[numpy]`"
            ) from err
        ids, offs = self._native.encode_batch_ids_to_buffer(
            check_texts(texts), bool(add_special_tokens), resolve_num_threads(num_threads)
        )
        return (
            np.frombuffer(ids, dtype="<u4").astype(np.uint32, copy=False),
            np.frombuffer(offs, dtype="<i8").astype(np.int64, copy=False),
        )

    def count_tokens(self, text: str, add_special_tokens: bool = True) -> int:
        """How many tokens `encode` would return, without building the list."""
        return self._native.count_tokens(check_text(text), bool(add_special_tokens))

    def tokenize(self, text: str, add_special_tokens: bool = False) -> list[str]:
        """The token strings of `text` (no special tokens by default, as in transformers)."""
        return self.encode_plus(text, add_special_tokens).tokens

    def __call__(
        self,
        text: str | Sequence[str],
        text_pair: Any = None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        num_threads: int | None = None,
    ) -> BatchEncoding:
        """Encode a text or a batch as a transformers tokenizer does: `input_ids` and
        `attention_mask` (plus what is asked for), truncated, windowed and padded as asked,
        as lists or as `return_tensors="np"` / `"pt"` arrays."""
        from .encode_call import call

        if is_split_into_words:
            pass  # lists of words: `call` checks them
        elif isinstance(text, str):
            check_text(text)
        else:
            check_texts(text)
        return call(
            self,
            text,
            text_pair,
            add_special_tokens=bool(add_special_tokens),
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            stride=stride,
            is_split_into_words=is_split_into_words,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_tensors=return_tensors,
            return_token_type_ids=return_token_type_ids,
            return_attention_mask=return_attention_mask,
            return_overflowing_tokens=return_overflowing_tokens,
            return_special_tokens_mask=return_special_tokens_mask,
            return_offsets_mapping=return_offsets_mapping,
            return_length=return_length,
            num_threads=num_threads,
        )

    # -- chat templates --------------------------------------------------------------------

    @property
    def special_tokens_map(self) -> dict[str, str]:
        """The named special tokens that are set (as transformers 5 gives them)."""
        named = {name: getattr(self, name) for name in _SPECIAL_ORDER}
        named.update(self._named_extras)
        return {name: value for name, value in named.items() if value is not None}

    def get_chat_template(
        self, chat_template: str | None = None, tools: list[dict[str, Any]] | None = None
    ) -> str:
        """The template `apply_chat_template` would render: `chat_template` (a template, or the
        name of one of this tokenizer's templates), else the tokenizer's own."""
        from .chat_template import pick_template

        return pick_template(self.chat_template, chat_template, tools)

    def apply_chat_template(
        self,
        conversation: Any,
        tools: list[dict[str, Any]] | None = None,
        documents: list[dict[str, str]] | None = None,
        chat_template: str | None = None,
        add_generation_prompt: bool = False,
        continue_final_message: bool | str = False,
        tokenize: bool = True,
        padding: bool | str = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
        return_dict: bool = True,
        return_assistant_tokens_mask: bool = False,
        tokenizer_kwargs: dict[str, Any] | None = None,
        sanitize_control_tokens: bool = False,
        **kwargs: Any,
    ) -> Any:
        """A conversation (a list of `{"role", "content"}` messages), or a batch of them, in
        the chat template's format, as transformers 5 renders it: the text when
        `tokenize=False`, else its encoding without added special tokens (the template writes
        them) as a `BatchEncoding`, or the ids alone with `return_dict=False`. `kwargs` are
        visible to the template (e.g. `enable_thinking=False`), as are the special tokens.
        With `sanitize_control_tokens=True` (needs `tokenize=True`, no assistant mask), control
        tokens inside the caller's messages, tools, documents and `kwargs` are encoded as plain
        text, so only the template's own become tokens: the special tokens, plus the added
        tokens of `chat_control_tokens` (else those in the template's text); see
        `batok.control_tokens`. The output then holds `input_ids` and `attention_mask` only,
        as in transformers. The template runs in a sandbox; it needs jinja2
        (`pip install 'batok[chat]'`)."""
        from .chat_template import (
            assistant_masks,
            has_generation_blocks,
            render_conversations,
            split_batch,
        )

        if not tokenize:
            return_dict = False
        if return_assistant_tokens_mask and not (return_dict and tokenize):
            raise ValueError(
                "`return_assistant_tokens_mask=True` requires `return_dict=True` and "
                "`tokenize=True`"
            )
        template = self.get_chat_template(chat_template, tools)
        conversations, is_batched = split_batch(conversation)
        if continue_final_message and add_generation_prompt:
            raise ValueError(
                "continue_final_message and add_generation_prompt are not compatible. Use "
                "continue_final_message when you want the model to continue the final message, "
                "and add_generation_prompt when you want to add a header that will prompt it to "
                "start a new assistant message instead."
            )
        if continue_final_message and return_assistant_tokens_mask:
            raise ValueError(
                "continue_final_message is not compatible with return_assistant_tokens_mask."
            )
        if sanitize_control_tokens:
            if not tokenize or return_assistant_tokens_mask:
                raise ValueError(
                    "`sanitize_control_tokens=True` requires `tokenize=True` and is not "
                    "compatible with `return_assistant_tokens_mask=True`."
                )
            conversations, tools, documents, kwargs = self._mark_chat_inputs(
                template, conversations, tools, documents, kwargs
            )
        spans: list[list[tuple[int, int]]] | None = None
        if return_assistant_tokens_mask:
            spans = []
            if not has_generation_blocks(template):
                import logging

                logging.getLogger("batok").warning(
                    "return_assistant_tokens_mask==True but chat template does not contain "
                    "`{% generation %}` keyword."
                )
        # The caller's variables win over special tokens of the same name, as in transformers.
        variables = {**self.special_tokens_map, **kwargs}
        rendered = render_conversations(
            template,
            conversations,
            tools=tools,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=continue_final_message,
            variables=variables,
            generation_spans=spans,
        )
        text: str | list[str] = rendered if is_batched else rendered[0]
        if not tokenize:
            return text
        call_kwargs = dict(tokenizer_kwargs or {})
        if spans is None:
            # Marked inputs have an encoder of their own, which reads the marks.
            encode: Callable[..., Any]
            args: tuple[Any, ...]
            if sanitize_control_tokens:
                encode, args = self._encode_marked_chats, (rendered, is_batched)
            else:
                encode, args = self, (text,)
            out = encode(
                *args,
                padding=padding,
                truncation=truncation,
                max_length=max_length,
                add_special_tokens=False,
                return_tensors=return_tensors,
                **call_kwargs,
            )
            return out if return_dict else out["input_ids"]
        # The mask needs each token's characters: ask for offsets, then keep them only if the
        # caller did; arrays are made once the mask is in.
        keep_offsets = call_kwargs.pop("return_offsets_mapping", False)
        # Arrays of one conversation keep their batch axis, as the plain call gives them.
        rows = is_batched or return_tensors is not None
        out = self(
            rendered if rows else text,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            add_special_tokens=False,
            return_offsets_mapping=True,
            **call_kwargs,
        )
        offsets = out.pop("offset_mapping") if not keep_offsets else out["offset_mapping"]
        masks = assistant_masks(offsets if rows else [offsets], spans)
        out["assistant_masks"] = masks if rows else masks[0]
        if return_tensors is not None:
            out.convert_to_tensors(return_tensors)
        return out

    def _mark_chat_inputs(
        self,
        template: str,
        conversations: list[Any],
        tools: Any,
        documents: Any,
        variables: dict[str, Any],
    ) -> tuple[list[Any], Any, Any, dict[str, Any]]:
        """The caller's conversations, tools, documents and template variables with the control
        tokens in their strings marked (see `control_tokens`); conversations first become
        lists of message dicts, as transformers normalizes them before marking."""
        from .chat_template import normalize_messages
        from .control_tokens import control_tokens, mark_control_tokens, token_patterns

        added = [(content, special) for _, content, special in self._plain_native.added_tokens()]
        tokens = control_tokens(added, template, self.chat_control_tokens)
        any_token, _ = token_patterns(tokens)
        marked = [
            mark_control_tokens(normalize_messages(chat), any_token) for chat in conversations
        ]
        return (
            marked,
            mark_control_tokens(tools, any_token),
            mark_control_tokens(documents, any_token),
            mark_control_tokens(variables, any_token),
        )

    def _encode_as_text(self, text: str) -> list[int]:
        """`text` through the normalizer, pre-tokenizer and model only: no added token (special
        or not) is matched, as transformers encodes a sanitized control token."""
        return self._plain_native.encode_ids_without_added(text)

    def _encode_marked_chats(
        self,
        chats: list[str],
        is_batched: bool,
        *,
        padding: bool | str,
        truncation: bool | str | None,
        max_length: int | None,
        add_special_tokens: bool,
        return_tensors: str | None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        **ignored: Any,
    ) -> BatchEncoding:
        """Chats rendered from marked inputs, encoded as transformers encodes them: `input_ids`
        (marked tokens as plain text), cut to `max_length` on the truncation side when
        truncating, padded as asked, with an `attention_mask` by default. As there, the other
        options of a tokenizer call are accepted and have no effect."""
        import inspect

        from .control_tokens import encode_marked_chat, token_patterns
        from .encode_call import _strategies

        known = inspect.signature(Tokenizer.__call__).parameters
        for name in ignored:
            if name not in known:
                raise TypeError(f"tokenizer_kwargs: unexpected keyword argument {name!r}")
        if add_special_tokens:  # the template writes the special tokens
            raise NotImplementedError(
                "`sanitize_control_tokens=True` needs a template that writes special tokens"
            )
        pad_to, limit, cut = _strategies(self, padding, truncation, max_length)
        if pad_to is not None and self.pad_token_id is None:
            raise ValueError(
                "Asking to pad but the tokenizer does not have a padding token. Set one first, "
                "e.g. `tokenizer.pad_token = tokenizer.eos_token`."
            )
        native = self._plain_native
        _, markers = token_patterns(tuple(content for _, content, _ in native.added_tokens()))

        def encode(text: str) -> list[int]:
            return native.encode_ids(text, False)

        def token_id(token: str) -> int | None:
            found = native.token_to_id(token)
            return found if found is not None else self.unk_token_id

        rows = [
            encode_marked_chat(chat, markers, encode, self._encode_as_text, token_id)
            for chat in chats
        ]
        if cut is not None and limit is not None:
            keep_end = self.truncation_side != "right"
            rows = [row[-limit:] if keep_end else row[:limit] for row in rows]
        masks = [[1] * len(row) for row in rows]
        if pad_to is not None:
            target = _pad_target(self, pad_to, rows, max_length, pad_to_multiple_of)
            side = padding_side or self.padding_side
            pad_id = self.pad_token_id
            assert pad_id is not None  # checked above
            for i, row in enumerate(rows):
                missing = target - len(row) if target is not None else 0
                if missing > 0:
                    fill, zeros = [pad_id] * missing, [0] * missing
                    if side == "left":
                        rows[i], masks[i] = fill + row, zeros + masks[i]
                    else:
                        rows[i], masks[i] = row + fill, masks[i] + zeros
        columns: dict[str, Any] = {"input_ids": rows}
        names = self.model_input_names
        if return_attention_mask or (return_attention_mask is None and "attention_mask" in names):
            columns["attention_mask"] = masks
        if not is_batched and return_tensors is None:
            columns = {key: value[0] for key, value in columns.items()}
        return BatchEncoding(columns, tensor_type=return_tensors)

    # -- saving ----------------------------------------------------------------------------

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> tuple[str, ...]:
        """Write tokenizer.json, tokenizer_config.json (the config this tokenizer was loaded
        with, updated with its current special tokens, lengths and sides), special_tokens_map.json
        and the chat templates (chat_template.jinja, as transformers 5 writes them), so that
        `from_pretrained(save_directory)` here or in transformers loads the same tokenizer.
        Each file is written whole or not at all. Returns the paths written."""
        import json

        from .chat_template import template_file_names

        directory = os.fspath(save_directory)
        if os.path.isfile(directory):
            raise NotADirectoryError(f"{directory} is a file, not a directory")
        os.makedirs(directory, exist_ok=True)

        config = dict(self._config)
        # Where the tokenizer once came from says nothing about this copy (and may be a path).
        for key in ("name_or_path", "special_tokens_map_file", "tokenizer_file", "chat_template"):
            config.pop(key, None)
        for name in _SPECIAL_ORDER:
            value = getattr(self, name)
            if value is not None or name in config:
                config[name] = value
        config.update(self._named_extras)
        if self._extra_special != _extra_special_tokens(config):
            # Changed since loading (add_special_tokens): written as transformers 5 writes it.
            config.pop("additional_special_tokens", None)
            config["extra_special_tokens"] = list(self._extra_special)
        config["model_max_length"] = self.model_max_length
        config["padding_side"] = self.padding_side
        config["truncation_side"] = self.truncation_side
        if "model_input_names" in config:
            config["model_input_names"] = list(self.model_input_names)
        config.pop("chat_control_tokens", None)
        if self.chat_control_tokens is not None:
            config["chat_control_tokens"] = list(self.chat_control_tokens)

        files: dict[str, str] = {}
        if self.chat_template is not None:
            files.update(template_file_names(self.chat_template))
        files["tokenizer_config.json"] = (
            json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
        files["special_tokens_map.json"] = (
            json.dumps(self.special_tokens_map, indent=2, ensure_ascii=False) + "\n"
        )
        native = self._native
        if self._file_limits is not None:
            native = native.with_limits(*self._file_limits)
        files["tokenizer.json"] = native.to_str()

        written = []
        for name, text in files.items():
            path = os.path.join(directory, *name.split("/"))
            _write_atomically(path, text)
            written.append(path)
        return tuple(written)

    def _frame(self) -> Any:
        """The special tokens around one sequence (computed once)."""
        if self._frame_cache is None:
            from .encode_call import Frame

            self._frame_cache = Frame.probe(self)
        return self._frame_cache

    def _pair_frame(self, add_special_tokens: bool) -> Any:
        """The special tokens around and between a pair's texts (computed once each way)."""
        key = bool(add_special_tokens)
        if key not in self._pair_frames:
            from .encode_call import PairFrame

            self._pair_frames[key] = PairFrame.probe(self, key)
        return self._pair_frames[key]

    @staticmethod
    def _threads(num_threads: int | None) -> int:
        return resolve_num_threads(num_threads)

    # -- decoding --------------------------------------------------------------------------

    def _skip(self, skip_special_tokens: bool | None) -> bool:
        if skip_special_tokens is None:
            return self.decode_skips_special_tokens
        return bool(skip_special_tokens)

    def decode(
        self,
        ids: Sequence[int],
        skip_special_tokens: bool | None = None,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> str:
        """The text of `ids`. Special tokens are skipped unless `skip_special_tokens=False`
        for a tokenizer from `from_file`/`from_str` (as in `tokenizers`), and kept unless
        `skip_special_tokens=True` for one from `from_pretrained` (as in transformers); the
        `decode_skips_special_tokens` attribute holds that default.
        `clean_up_tokenization_spaces` is accepted for transformers' sake and, as transformers
        5 does for BPE models, not applied: it would remove real spaces before punctuation."""
        skip = self._skip(skip_special_tokens)
        try:
            return self._native.decode(ids, skip)
        except (TypeError, OverflowError):
            # The engine's conversion rejected something; say exactly what and where.
            return self._native.decode(check_ids(ids), skip)

    def batch_decode(
        self,
        sequences: Sequence[Sequence[int]],
        skip_special_tokens: bool | None = None,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> list[str]:
        """transformers' name for `decode_batch` (the same default as `decode`)."""
        return self.decode_batch(sequences, skip_special_tokens)

    def decode_batch(
        self,
        sequences: Sequence[Sequence[int]],
        skip_special_tokens: bool | None = None,
        num_threads: int | None = None,
    ) -> list[str]:
        """`decode` for each sequence, on `num_threads` threads."""
        seqs = [check_ids(s, f"sequences[{i}]") for i, s in enumerate(sequences)]
        return self._native.decode_batch(
            seqs, self._skip(skip_special_tokens), resolve_num_threads(num_threads)
        )

    # -- vocabulary ------------------------------------------------------------------------

    def token_to_id(self, token: str) -> int | None:
        return self._native.token_to_id(check_text(token, "token"))

    def id_to_token(self, id: int) -> str | None:
        if isinstance(id, bool) or not isinstance(id, int):
            raise TypeError(f"id must be an int, got {type(id).__name__}")
        if id < 0 or id > 2**32 - 1:
            return None
        return self._native.id_to_token(id)

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> Any:
        if isinstance(tokens, str):
            return self.token_to_id(tokens)
        return [self.token_to_id(t) for t in tokens]

    def convert_ids_to_tokens(self, ids: int | Sequence[int]) -> Any:
        if isinstance(ids, int):
            return self.id_to_token(ids)
        return [self.id_to_token(i) for i in check_ids(ids)]

    def get_vocab(self, with_added_tokens: bool = True) -> dict[str, int]:
        return self._native.get_vocab(with_added_tokens)

    def get_vocab_size(self, with_added_tokens: bool = True) -> int:
        return self._native.get_vocab_size(with_added_tokens)

    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary, without added tokens (as in transformers)."""
        return self._native.get_vocab_size(False)

    def __len__(self) -> int:
        return self._native.get_vocab_size(True)

    def _id_of(self, token: str | None) -> int | None:
        return None if token is None else self._native.token_to_id(token)

    @property
    def bos_token_id(self) -> int | None:
        return self._id_of(self.bos_token)

    @property
    def eos_token_id(self) -> int | None:
        return self._id_of(self.eos_token)

    @property
    def unk_token_id(self) -> int | None:
        return self._id_of(self.unk_token)

    @property
    def pad_token_id(self) -> int | None:
        return self._id_of(self.pad_token)

    @property
    def extra_special_tokens(self) -> list[str]:
        """The special tokens without a name of their own (transformers 4's
        `additional_special_tokens`)."""
        return list(self._extra_special)

    @property
    def all_special_tokens(self) -> list[str]:
        """The named special tokens, then the extra ones, each once, as transformers 5 lists
        them. Other special tokens of the file (a chat format's markers) are not among them,
        though `decode(..., skip_special_tokens=True)` skips them."""
        return list(dict.fromkeys([*self.special_tokens_map.values(), *self._extra_special]))

    @property
    def all_special_ids(self) -> list[int | None]:
        """The ids of `all_special_tokens`, in their order."""
        return [self.token_to_id(t) for t in self.all_special_tokens]

    # -- adding tokens ----------------------------------------------------------------------

    def add_tokens(self, tokens: Any, special_tokens: bool = False) -> int:
        """Adds tokens that are matched whole in any text, before the model sees it, as
        `tokenizers`' `add_tokens` does (transformers' `special_tokens=True` adds them as
        special). Each is a string or an `AddedToken`-like object (`content`, `single_word`,
        `lstrip`, `rstrip`, `normalized`, `special`). A token not in the vocabulary gets the
        next free id. Returns how many tokens were added (one already added is not counted;
        one already in the vocabulary is, as `tokenizers` counts)."""
        return self._add_tokens(tokens, special=True if special_tokens else None)

    def add_special_tokens(
        self, tokens: Any, replace_additional_special_tokens: bool = True
    ) -> int:
        """Adds special tokens (skipped by `decode(..., skip_special_tokens=True)`): a list, as
        `tokenizers` takes it, or transformers' mapping of names to tokens
        (`{"pad_token": "[PAD]", "additional_special_tokens": [...]}`), which also sets the
        named attributes (`tok.pad_token`). Returns how many tokens were added."""
        if not isinstance(tokens, dict):
            return self._add_tokens(tokens, special=True)
        new: list[Any] = []
        named: dict[str, str] = {}
        extra: list[str] = []
        for name, value in tokens.items():
            if name in ("additional_special_tokens", "extra_special_tokens"):
                values = value if isinstance(value, list | tuple) else [value]
                new += list(values)
                extra += [t if isinstance(t, str) else _added_token(t)["content"] for t in values]
            elif name in _SPECIAL_NAMES:
                new.append(value)
                named[name] = value if isinstance(value, str) else _added_token(value)["content"]
            else:
                raise ValueError(
                    f"{name!r} is not a special token name; use one of "
                    f"{', '.join(_SPECIAL_NAMES)} or additional_special_tokens"
                )
        count = self._add_tokens(new, special=True)
        for name, content in named.items():
            setattr(self, name, content)
        if extra:
            # As transformers 5: the new list replaces the old one, or extends it with the
            # tokens it lacks.
            if replace_additional_special_tokens:
                self._extra_special = list(dict.fromkeys(extra))
            else:
                self._extra_special += [
                    t for t in dict.fromkeys(extra) if t not in self._extra_special
                ]
        return count

    def _make_named_tokens_special(self) -> None:
        """As transformers 5 loads a tokenizer: each named and extra special token is a special
        added token, added if the file lacks it, marked special (its other flags kept) if the
        file has it as an ordinary one (Gemma's `<mask>`)."""
        import json

        special = {content: is_special for _, content, is_special in self._native.added_tokens()}
        wanted = [t for t in self.all_special_tokens if not special.get(t)]
        if not wanted:
            return
        listed = {t["content"]: t for t in json.loads(self._native.added_tokens_json())}
        flags = ("single_word", "lstrip", "rstrip", "normalized")
        tokens = [
            AddedToken(t, **{f: listed[t][f] for f in flags}, special=True) if t in listed else t
            for t in wanted
        ]
        self._add_tokens(tokens, special=True)

    def _add_tokens(self, tokens: Any, special: bool | None) -> int:
        import json

        items = [tokens] if isinstance(tokens, str) or hasattr(tokens, "content") else tokens
        added = json.loads(self._native.added_tokens_json())
        next_id = max([self._native.get_vocab_size(False), *(t["id"] + 1 for t in added)])
        count = 0
        for item in items:
            entry = _added_token(item, special)
            if not entry["content"] or any(_same_token(entry, t) for t in added):
                continue
            added.append({"id": next_id, **entry})
            next_id += 1
            count += 1
        if not count:
            return 0
        # Numbered as loading a file with this list numbers them, as `tokenizers` does; a new
        # tokenizer with this one's settings takes this one's place.
        native = self._native.with_added_tokens(json.dumps(added, ensure_ascii=False))
        rebuilt = _restore(native, self._config, self._state())
        self.__dict__.update(rebuilt.__dict__)
        return count

    def __repr__(self) -> str:
        return f"Tokenizer(vocab_size={len(self)})"


def _legacy_false_prepend(native: _batok.Tokenizer, config: dict[str, Any]) -> _batok.Tokenizer:
    """A `LlamaTokenizer` config with `legacy: false` runs as transformers 5 and Transformers.js
    both run it: the ▁ that the file's Prepend normalizer puts in front of every segment goes
    only in front of the text, not after an added token (`<s>[INST]`). (On leading spaces the
    two differ: there the file's behaviour, which Transformers.js's is, is kept.)"""
    if config.get("legacy") is False and config.get("tokenizer_class") in _LLAMA_CLASSES:
        return native.with_prepend_at_start_only() or native
    return native


_LLAMA_CLASSES = ("LlamaTokenizer", "LlamaTokenizerFast")


def _pad_target(
    tok: Tokenizer,
    strategy: str,
    rows: list[list[int]],
    max_length: int | None,
    multiple: int | None,
) -> int | None:
    """The length `rows` are padded to, as transformers' `pad` picks it: the longest row, or
    `max_length` (else the model's, unless unlimited: None), rounded up to `multiple`."""
    from .encode_call import _LARGE_INTEGER

    if strategy == "longest":
        target = max((len(row) for row in rows), default=0)
    else:
        target = max_length if max_length is not None else tok.model_max_length
        if target is None or target > _LARGE_INTEGER:
            return None
    if multiple and target % multiple:
        target += multiple - target % multiple
    return target


def _pair_and_flag(pair: str | bool | None, add_special_tokens: bool) -> tuple[str | None, bool]:
    """`(pair, add_special_tokens)`: the second positional argument is the second text (as in
    `tokenizers` and transformers), or a bool, which earlier batok read as
    `add_special_tokens` (`encode(text, False)` keeps working)."""
    if isinstance(pair, bool):
        if add_special_tokens is not True:
            raise TypeError("add_special_tokens was given twice (positionally and by name)")
        return None, pair
    return pair, bool(add_special_tokens)


def _split_pairs(items: Any) -> tuple[list[str], list[str | None]]:
    """A batch of texts and `(text, pair)` tuples as two columns (None: no second text)."""
    firsts: list[str] = []
    seconds: list[str | None] = []
    for i, item in enumerate(items):
        if isinstance(item, tuple):
            if len(item) != 2:
                raise TypeError(f"texts[{i}] must be a str or a (text, pair) tuple of 2 str")
            firsts.append(check_text(item[0], f"texts[{i}][0]"))
            seconds.append(check_text(item[1], f"texts[{i}][1]"))
        else:
            firsts.append(check_text(item, f"texts[{i}]"))
            seconds.append(None)
    return firsts, seconds


_STRATEGIES = {
    "longest_first": "LongestFirst",
    "only_first": "OnlyFirst",
    "only_second": "OnlySecond",
}
_DIRECTIONS = {"left": "Left", "right": "Right"}


def _has_limits(native: _batok.Tokenizer) -> bool:
    return native.truncation is not None or native.padding is not None


def _section(text: str | None) -> Any:
    import json

    return None if text is None else json.loads(text)


def _choice(value: Any, names: dict[str, str], what: str) -> str:
    if not isinstance(value, str) or value not in names:
        raise ValueError(f"{what} must be one of {sorted(names)}, got {value!r}")
    return names[value]


def _name_of(file_name: str, names: dict[str, str]) -> str:
    return next(k for k, v in names.items() if v == file_name)


def _count(value: Any, what: str, most: int = 2**63 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
        raise ValueError(f"{what} must be an int from 0 to {most}, got {value!r}")
    return value


def _side(value: Any, name: str) -> str:
    if value in (None, "right"):
        return "right"
    if value == "left":
        return "left"
    raise ValueError(f"{name} in tokenizer_config.json must be 'left' or 'right', got {value!r}")


def _write_atomically(path: str, text: str) -> None:
    """`text` into `path` through a temporary file beside it and a rename, so a reader (or a
    crash) never sees half a file."""
    import secrets

    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(8)}.tmp")
    # Created with the umask's permissions, like any other file the caller writes.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


_ADDED_FLAGS = ("single_word", "lstrip", "rstrip", "normalized", "special")


def _added_token(item: Any, special: bool | None = None) -> dict[str, Any]:
    """A tokenizer.json `added_tokens` entry (less its id) for a string or an `AddedToken`-like
    object. `special=True` makes it special, as `tokenizers`' `add_special_tokens` does; a token
    that becomes special there is then not normalized, `tokenizers`' default for special tokens,
    unless a `batok.AddedToken` was given `normalized=True` (a `tokenizers.AddedToken` does not
    show whether it was)."""
    if isinstance(item, str):
        is_special = bool(special)
        return {
            "content": item,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": not is_special,
            "special": is_special,
        }
    content = getattr(item, "content", None)
    if not isinstance(content, str):
        raise TypeError(f"a token to add must be a str or an AddedToken, got {type(item).__name__}")
    if special and isinstance(item, AddedToken):
        return item._as_special()
    entry = {"content": content, **{f: bool(getattr(item, f, False)) for f in _ADDED_FLAGS}}
    if special and not entry["special"]:
        entry.update(special=True, normalized=False)
    return entry


def _same_token(entry: dict[str, Any], existing: dict[str, Any]) -> bool:
    return all(entry[k] == existing.get(k) for k in ("content", *_ADDED_FLAGS))


def _rebuild(json_text: str, config: dict[str, Any], state: dict[str, Any]) -> Tokenizer:
    return _restore(_batok.Tokenizer.from_str(json_text), config, state)


def _restore(native: _batok.Tokenizer, config: dict[str, Any], state: dict[str, Any]) -> Tokenizer:
    tok = Tokenizer(native, config)
    for name, value in state.items():
        setattr(tok, name, value)
    return tok


class AutoTokenizer:
    """`AutoTokenizer.from_pretrained(repo_or_path)`, as in transformers."""

    def __init__(self) -> None:
        raise TypeError("use AutoTokenizer.from_pretrained(name_or_path)")

    @staticmethod
    def from_pretrained(name_or_path: str | os.PathLike[str], **kwargs: Any) -> Tokenizer:
        return Tokenizer.from_pretrained(name_or_path, **kwargs)
