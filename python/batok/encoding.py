"""tiktoken's `Encoding` API over batok's native `CoreBPE`.

`Encoding` mirrors `tiktoken.Encoding` method for method, so code written for tiktoken runs
unchanged: `batok.get_encoding("cl100k_base").encode("hello")` gives tiktoken's ids. Like tiktoken,
the special-token policy (`allowed_special` / `disallowed_special`) is checked here, in Python, and
the engine gets clean input.

Differences from tiktoken, all deliberate:

- Only `cl100k_base` and `o200k_base` are bundled (gzip rank files inside the package), so
  `get_encoding` never touches the network. Other tiktoken encodings load from a rank file with
  `Encoding.from_rank_file`.
- Batch methods run on the engine's threads (no Python thread pool); `num_threads` defaults to the
  `BATOK_NUM_THREADS` environment variable, else 0, meaning every core. A count above 4 threads
  per CPU this process may use is taken as that many.
- Passing something other than a `str` as text raises a `TypeError` that says so; tiktoken's error
  for e.g. `bytes` talks about regex patterns. A single `str` given to a batch method is an error
  too, rather than being split into characters.
- `count_tokens` and `encode_to_numpy` count or encode without building a Python list.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from collections.abc import Set as AbstractSet

from batok import _batok
from batok._threads import resolve_num_threads
from batok._validate import check_text, check_texts

# `typing` is for the type checker only: importing it (and the `re` it pulls in) added a
# third to the time `import batok` takes. Annotations are strings here, never evaluated.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import Any, Literal, NoReturn

    import numpy as np
    import numpy.typing as npt

    AllowedSpecial = Literal["all"] | AbstractSet[str]
    DisallowedSpecial = Literal["all"] | Collection[str]

__all__ = [
    "Encoding",
    "encoding_for_model",
    "encoding_name_for_model",
    "get_encoding",
    "list_encoding_names",
]

StrPath = str | os.PathLike[str]

#: The default `allowed_special`: an argument left out is this very object, which the
#: one-call paths recognise without testing its type.
_NONE_ALLOWED: frozenset[str] = frozenset()

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"


class Encoding:
    """A byte-level BPE encoding with tiktoken's API: ranks, a split pattern and special tokens.

    Build one from a mapping of token bytes to ranks, exactly as with tiktoken, or straight from a
    `.tiktoken` rank file (optionally gzip-compressed), which skips parsing the ranks in Python:

    ```
    >>> enc = Encoding.from_rank_file("cl100k_base.tiktoken", pat_str=..., special_tokens=...)
    >>> enc.encode("hello world")
    [15339, 1917]
    ```
    """

    name: str

    def __init__(
        self,
        name: str,
        *,
        pat_str: str,
        mergeable_ranks: Mapping[bytes, int] | None = None,
        special_tokens: Mapping[str, int],
        explicit_n_vocab: int | None = None,
        rank_file: StrPath | None = None,
    ) -> None:
        """Creates an encoding from `mergeable_ranks` (token bytes -> rank) or from `rank_file`.

        Exactly one of the two must be given. `explicit_n_vocab`, when given, is checked against
        the number of ranks plus special tokens and against the largest token value, as in
        tiktoken (but raising ValueError rather than failing an assert).
        """
        if (mergeable_ranks is None) == (rank_file is None):
            raise TypeError("Encoding() needs exactly one of `mergeable_ranks` and `rank_file`")
        if mergeable_ranks is not None:
            rank_text = _ranks_to_text(mergeable_ranks)
        else:
            assert rank_file is not None
            rank_text = _read_rank_file(rank_file)
        self._setup(name, pat_str, rank_text, special_tokens, explicit_n_vocab)
        if mergeable_ranks is not None:
            # Keep the caller's mapping, as tiktoken does, so `enc._mergeable_ranks` is cheap.
            self.__dict__["_mergeable_ranks"] = mergeable_ranks

    @classmethod
    def from_rank_file(
        cls,
        path: StrPath,
        *,
        name: str | None = None,
        pat_str: str,
        special_tokens: Mapping[str, int],
        explicit_n_vocab: int | None = None,
    ) -> Encoding:
        """Loads a `.tiktoken` rank file (`base64(token) rank` per line; `.gz` is decompressed).

        `name` defaults to the file name without its `.tiktoken` / `.gz` suffixes.
        """
        if name is None:
            name = os.path.basename(os.fspath(path))
            for suffix in (".gz", ".tiktoken"):
                name = name[: -len(suffix)] if name.endswith(suffix) else name
        return cls(
            name,
            pat_str=pat_str,
            special_tokens=special_tokens,
            explicit_n_vocab=explicit_n_vocab,
            rank_file=path,
        )

    @classmethod
    def _from_rank_text(
        cls,
        name: str,
        pat_str: str,
        rank_text: bytes,
        special_tokens: Mapping[str, int],
        explicit_n_vocab: int | None = None,
    ) -> Encoding:
        self = cls.__new__(cls)
        self._setup(name, pat_str, rank_text, special_tokens, explicit_n_vocab)
        return self

    def _setup(
        self,
        name: str,
        pat_str: str,
        rank_text: bytes,
        special_tokens: Mapping[str, int],
        explicit_n_vocab: int | None,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        if not isinstance(pat_str, str):
            raise TypeError(f"pat_str must be a str, not {type(pat_str).__name__}")
        specials = dict(special_tokens)
        for token, value in specials.items():
            if not isinstance(token, str) or not _is_int(value):
                raise TypeError(
                    "special_tokens must map str to int, got "
                    f"{type(token).__name__} -> {type(value).__name__}"
                )
        self.name = name
        self._pat_str = pat_str
        self._special_tokens = specials
        self._special_token_values = frozenset(specials.values())
        self._rank_text = rank_text
        self._explicit_n_vocab = explicit_n_vocab
        self._from_registry = False
        self._core = _batok.CoreBPE(rank_text, specials, pat_str)
        self.max_token_value: int = self._core.max_token_value
        if explicit_n_vocab:
            n_ranks = sum(1 for line in rank_text.splitlines() if line.strip())
            if n_ranks + len(specials) != explicit_n_vocab:
                raise ValueError(
                    f"explicit_n_vocab={explicit_n_vocab}, but there are {n_ranks} ranks and "
                    f"{len(specials)} special tokens"
                )
            if self.max_token_value != explicit_n_vocab - 1:
                raise ValueError(
                    f"explicit_n_vocab={explicit_n_vocab}, but the largest token value is "
                    f"{self.max_token_value}"
                )

    def __repr__(self) -> str:
        return f"<Encoding {self.name!r}>"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Bundled encodings pickle by name, so unpickling returns the cached instance.
        if self._from_registry:
            return (get_encoding, (self.name,))
        return (
            _rebuild,
            (
                self.name,
                self._pat_str,
                self._rank_text,
                self._special_tokens,
                self._explicit_n_vocab,
            ),
        )

    # ---------------------------------------------------------------- encoding

    def encode_ordinary(self, text: str) -> list[int]:
        """Encodes a string into tokens, ignoring special tokens.

        This is equivalent to `encode(text, disallowed_special=())` (but slightly faster).

        ```
        >>> enc.encode_ordinary("hello world")
        [15339, 1917]
        ```
        """
        check_text(text)
        try:
            return self._core.encode_ordinary(text)
        except UnicodeEncodeError:
            return self._core.encode_ordinary(_replace_surrogates(text))

    def encode(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = _NONE_ALLOWED,
        disallowed_special: DisallowedSpecial = "all",
    ) -> list[int]:
        """Encodes a string into tokens.

        Text that looks like a special token raises ValueError unless the token is in
        `allowed_special` (then it is encoded as that special token) or left out of
        `disallowed_special` (then it is encoded as ordinary text):

        ```
        >>> enc.encode("<|endoftext|>", allowed_special={"<|endoftext|>"})
        [100257]
        >>> enc.encode("<|endoftext|>", allowed_special="all")
        [100257]
        >>> enc.encode("<|endoftext|>")
        ValueError: Encountered text corresponding to disallowed special token '<|endoftext|>'. ...
        >>> enc.encode("<|endoftext|>", disallowed_special=())
        [27, 91, 8862, 728, 428, 91, 29]
        ```
        """
        if allowed_special is _NONE_ALLOWED and _nothing_disallowed(disallowed_special):
            # As `encode_to_numpy`: `encode_ordinary` in one call.
            try:
                return self._core.encode_ordinary(text)
            except UnicodeEncodeError:
                return self._core.encode_ordinary(_replace_surrogates(text))
            except TypeError:
                check_text(text)
                raise
        if (allowed_special is _NONE_ALLOWED and disallowed_special == "all") or _default_policy(
            allowed_special, disallowed_special
        ):
            # The engine answers in one call, or None when the text holds a special token
            # (the full path below raises, naming it). Inline: it runs once per document.
            try:
                ids = self._core.encode_plain(text)
            except UnicodeEncodeError:
                ids = None  # lone surrogates: the full path replaces them
            except TypeError:
                check_text(text)  # says what was passed instead of a str
                raise
            if ids is not None:
                return ids
        check_text(text)
        allowed = self._check_special_policy(text, allowed_special, disallowed_special)
        try:
            return self._core.encode(text, allowed)
        except UnicodeEncodeError:
            return self._core.encode(_replace_surrogates(text), allowed)

    def encode_ordinary_batch(
        self, text: Sequence[str], *, num_threads: int | None = None
    ) -> list[list[int]]:
        """Encodes a list of strings into tokens, in parallel, ignoring special tokens.

        ```
        >>> enc.encode_ordinary_batch(["hello world", "goodbye world"])
        [[15339, 1917], [19045, 29474, 1917]]
        ```
        """
        texts = check_texts(text)
        threads = resolve_num_threads(num_threads)
        try:
            return self._core.encode_ordinary_batch(texts, threads)
        except UnicodeEncodeError:
            return self._core.encode_ordinary_batch(_replace_surrogates_all(texts), threads)

    def encode_batch(
        self,
        text: Sequence[str],
        *,
        num_threads: int | None = None,
        allowed_special: AllowedSpecial = _NONE_ALLOWED,
        disallowed_special: DisallowedSpecial = "all",
    ) -> list[list[int]]:
        """Encodes a list of strings into tokens, in parallel.

        See `encode` for `allowed_special` and `disallowed_special`; the first text (in order)
        holding a disallowed special token raises.
        """
        texts = check_texts(text)
        allowed, disallowed = self._special_policy(allowed_special, disallowed_special)
        if disallowed:
            for one in texts:
                self._raise_if_disallowed(one, disallowed)
        if not texts:
            return []
        threads = resolve_num_threads(num_threads)
        try:
            return self._core.encode_batch(texts, allowed, threads)
        except UnicodeEncodeError:
            return self._core.encode_batch(_replace_surrogates_all(texts), allowed, threads)

    def encode_single_token(self, text_or_bytes: str | bytes) -> int:
        """Encodes text corresponding to a single token to its token value.

        Special tokens are encoded too. Raises `KeyError` if the token is not in the vocabulary.

        ```
        >>> enc.encode_single_token("hello")
        15339
        ```
        """
        if isinstance(text_or_bytes, str):
            text_or_bytes = text_or_bytes.encode("utf-8")
        elif not isinstance(text_or_bytes, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"encode_single_token expects str or bytes, not {type(text_or_bytes).__name__}"
            )
        piece = bytes(text_or_bytes)
        try:
            return self._core.encode_single_token(piece)
        except (KeyError, ValueError):
            raise KeyError(piece) from None

    def count_tokens(self, text: str) -> int:
        """The number of tokens `encode_ordinary(text)` returns, without building the list."""
        check_text(text)
        try:
            return self._core.count_ordinary(text)
        except UnicodeEncodeError:
            return self._core.count_ordinary(_replace_surrogates(text))

    def encode_to_numpy(
        self,
        text: str,
        *,
        allowed_special: AllowedSpecial = _NONE_ALLOWED,
        disallowed_special: DisallowedSpecial = "all",
    ) -> npt.NDArray[np.uint32]:
        """Encodes a string into a numpy `uint32` array, without a Python list in between.

        Needs numpy (`pip install batok[numpy]`). Special tokens follow `encode`'s rules.
        """
        read = _u32_reader("encode_to_numpy")
        if allowed_special is _NONE_ALLOWED and _nothing_disallowed(disallowed_special):
            # Special-token text is plain text: `encode_ordinary`'s meaning, in one call (the
            # usual way to encode documents, so it skips the policy's sets).
            try:
                return read(self._core.encode_ordinary_to_buffer(text))
            except UnicodeEncodeError:
                return read(self._core.encode_ordinary_to_buffer(_replace_surrogates(text)))
            except TypeError:
                check_text(text)
                raise
        if (allowed_special is _NONE_ALLOWED and disallowed_special == "all") or _default_policy(
            allowed_special, disallowed_special
        ):
            # As in `encode`.
            try:
                buffer = self._core.encode_plain_to_buffer(text)
            except UnicodeEncodeError:
                buffer = None
            except TypeError:
                check_text(text)
                raise
            if buffer is not None:
                return read(buffer)
        check_text(text)
        allowed = self._check_special_policy(text, allowed_special, disallowed_special)
        if allowed:
            np = _numpy("encode_to_numpy")
            return np.asarray(self.encode(text, allowed_special=allowed), dtype=np.uint32)
        try:
            buffer = self._core.encode_ordinary_to_buffer(text)
        except UnicodeEncodeError:
            buffer = self._core.encode_ordinary_to_buffer(_replace_surrogates(text))
        return read(buffer)

    def encode_ordinary_batch_to_numpy(
        self, text: Sequence[str], *, num_threads: int | None = None
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
        """Encodes many strings into one flat `uint32` array of ids and an `int64` array of
        `len(text) + 1` offsets: the ids of `text[i]` are `ids[offsets[i]:offsets[i + 1]]`.

        No Python object is made per token, so batch work scales with cores instead of being
        held up building lists under the GIL. Needs numpy (`pip install batok[numpy]`).
        """
        np = _numpy("encode_ordinary_batch_to_numpy")
        texts = check_texts(text, "text")
        threads = resolve_num_threads(num_threads)
        try:
            ids, offsets = self._core.encode_ordinary_batch_to_buffer(texts, threads)
        except UnicodeEncodeError:
            ids, offsets = self._core.encode_ordinary_batch_to_buffer(
                _replace_surrogates_all(texts), threads
            )
        return (
            np.frombuffer(ids, dtype="<u4").astype(np.uint32, copy=False),
            np.frombuffer(offsets, dtype="<i8").astype(np.int64, copy=False),
        )

    # ---------------------------------------------------------------- decoding

    def decode_bytes(self, tokens: Sequence[int]) -> bytes:
        """Decodes a list of tokens into bytes. Raises `KeyError` for an unknown token.

        ```
        >>> enc.decode_bytes([15339, 1917])
        b'hello world'
        ```
        """
        try:
            return self._core.decode_bytes(tokens)
        except (KeyError, ValueError):
            self._raise_invalid_token(tokens)
            raise

    def decode(self, tokens: Sequence[int], errors: str = "replace") -> str:
        """Decodes a list of tokens into a string.

        The default `errors="replace"` is lossy: tokens need not end on a UTF-8 character
        boundary. Pass `errors="strict"` to raise instead.

        ```
        >>> enc.decode([15339, 1917])
        'hello world'
        ```
        """
        try:
            text = self._core.decode_utf8(tokens)
        except (KeyError, ValueError, TypeError, OverflowError):
            text = None  # decode_bytes raises tiktoken's error for bad ids
        if text is not None:
            return text
        return self.decode_bytes(tokens).decode("utf-8", errors=errors)

    def decode_single_token_bytes(self, token: int) -> bytes:
        """Decodes one token (special tokens too) into bytes. Raises `KeyError` if unknown.

        ```
        >>> enc.decode_single_token_bytes(15339)
        b'hello'
        ```
        """
        try:
            return self._core.decode_single_token_bytes(token)
        except (KeyError, ValueError):
            raise KeyError(str(token)) from None

    def decode_tokens_bytes(self, tokens: Sequence[int]) -> list[bytes]:
        """Decodes a list of tokens into a list of bytes, one per token.

        ```
        >>> enc.decode_tokens_bytes([15339, 1917])
        [b'hello', b' world']
        ```
        """
        return [self.decode_single_token_bytes(token) for token in tokens]

    def decode_with_offsets(self, tokens: Sequence[int]) -> tuple[str, list[int]]:
        """Decodes tokens into a string and the character offset where each token starts.

        A token that starts inside a UTF-8 character gets the offset of that character. Raises
        `UnicodeDecodeError` if the tokens do not decode to valid UTF-8, as tiktoken does.
        """
        token_bytes = self.decode_tokens_bytes(tokens)
        text_len = 0
        offsets = []
        for piece in token_bytes:
            starts_inside_char = bool(piece) and 0x80 <= piece[0] < 0xC0
            offsets.append(max(0, text_len - starts_inside_char))
            text_len += sum(1 for byte in piece if not 0x80 <= byte < 0xC0)
        text = b"".join(token_bytes).decode("utf-8", errors="strict")
        return text, offsets

    def decode_batch(
        self,
        batch: Sequence[Sequence[int]],
        *,
        errors: str = "replace",
        num_threads: int | None = None,
    ) -> list[str]:
        """Decodes a batch (list of lists of tokens) into a list of strings.

        `num_threads` is accepted for tiktoken compatibility; decoding is a table lookup per token
        and runs on the calling thread.
        """
        resolve_num_threads(num_threads)
        return [self.decode(tokens, errors=errors) for tokens in batch]

    def decode_bytes_batch(
        self, batch: Sequence[Sequence[int]], *, num_threads: int | None = None
    ) -> list[bytes]:
        """Decodes a batch (list of lists of tokens) into a list of bytes."""
        resolve_num_threads(num_threads)
        return [self.decode_bytes(tokens) for tokens in batch]

    # ---------------------------------------------------------------- vocabulary

    def token_byte_values(self) -> list[bytes]:
        """The bytes of every ordinary (non-special) token, sorted."""
        return sorted(self._mergeable_ranks)

    @property
    def eot_token(self) -> int:
        """The id of `<|endoftext|>`; KeyError if the encoding has none."""
        return self._special_tokens[ENDOFTEXT]

    @functools.cached_property
    def special_tokens_set(self) -> set[str]:
        return set(self._special_tokens)

    def is_special_token(self, token: int) -> bool:
        if not _is_int(token):
            raise TypeError(f"token must be an int, not {type(token).__name__}")
        return token in self._special_token_values

    @property
    def n_vocab(self) -> int:
        """`max_token_value + 1`, as in tiktoken (not the number of tokens: ids may have gaps)."""
        return self.max_token_value + 1

    @functools.cached_property
    def _mergeable_ranks(self) -> dict[bytes, int]:
        # Parsed only on demand: the engine has its own copy, and most users never ask.
        import base64

        ranks: dict[bytes, int] = {}
        for line in self._rank_text.splitlines():
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
        return ranks

    # ---------------------------------------------------------------- private

    def _check_special_policy(
        self,
        text: str,
        allowed_special: AllowedSpecial,
        disallowed_special: DisallowedSpecial,
    ) -> set[str]:
        """Raises if `text` holds a disallowed special token; returns the allowed set."""
        allowed, disallowed = self._special_policy(allowed_special, disallowed_special)
        if disallowed:
            self._raise_if_disallowed(text, disallowed)
        return allowed

    def _special_policy(
        self, allowed_special: AllowedSpecial, disallowed_special: DisallowedSpecial
    ) -> tuple[set[str], set[str]]:
        """The (allowed, disallowed) sets, resolving "all" the way tiktoken does."""
        if isinstance(allowed_special, str):
            if allowed_special != "all":
                raise TypeError(
                    "allowed_special must be 'all' or a set of str, not the str "
                    f"{allowed_special!r}; did you mean {{{allowed_special!r}}}?"
                )
            allowed = self.special_tokens_set
        else:
            allowed = set(allowed_special)
        if disallowed_special == "all":
            disallowed = self.special_tokens_set - allowed
        else:
            disallowed = set(disallowed_special)
        return allowed, disallowed

    def _raise_if_disallowed(self, text: str, disallowed: set[str]) -> None:
        if disallowed <= self.special_tokens_set:
            try:
                found = self._core.find_special(text, disallowed)
            except UnicodeEncodeError:
                found = self._core.find_special(_replace_surrogates(text), disallowed)
        else:
            # tiktoken checks any string the caller disallows, not only special tokens; the
            # engine only knows the special tokens, so search for those here.
            match = _literal_regex(frozenset(disallowed)).search(text)
            found = None if match is None else match.group()
        if found is not None:
            _raise_disallowed_special_token(found)

    def _raise_invalid_token(self, tokens: Sequence[int]) -> None:
        """Raises tiktoken's KeyError for the first token that is not in the vocabulary."""
        for token in tokens:
            try:
                self._core.decode_single_token_bytes(token)
            except (KeyError, ValueError):
                raise KeyError(f"Invalid token for decoding: {token}") from None


def _rebuild(
    name: str,
    pat_str: str,
    rank_text: bytes,
    special_tokens: Mapping[str, int],
    explicit_n_vocab: int | None,
) -> Encoding:
    return Encoding._from_rank_text(name, pat_str, rank_text, special_tokens, explicit_n_vocab)


def _raise_disallowed_special_token(token: str) -> NoReturn:
    # Word for word tiktoken's message, so code and docs that match on it keep working.
    raise ValueError(
        f"Encountered text corresponding to disallowed special token {token!r}.\n"
        "If you want this text to be encoded as a special token, "
        f"pass it to `allowed_special`, e.g. `allowed_special={{{token!r}, ...}}`.\n"
        f"If you want this text to be encoded as normal text, disable the check for this token "
        f"by passing `disallowed_special=(enc.special_tokens_set - {{{token!r}}})`.\n"
        "To disable this check for all special tokens, pass `disallowed_special=()`.\n"
    )


def _numpy(what: str) -> Any:
    try:
        import numpy
    except ImportError as err:
        hint = "install it with `pip install batok[numpy]`"
        raise ImportError(f"{what} needs numpy; {hint}") from err
    return numpy


def _nothing_disallowed(disallowed_special: object) -> bool:
    """True for an empty collection (`disallowed_special=()`): no text is refused."""
    return type(disallowed_special) in (tuple, frozenset, set, list) and not disallowed_special


def _default_policy(allowed_special: object, disallowed_special: object) -> bool:
    """True for `encode`'s defaults: nothing allowed, every special token disallowed."""
    return (
        isinstance(allowed_special, (frozenset, set))
        and not allowed_special
        and isinstance(disallowed_special, str)
        and disallowed_special == "all"
    )


#: `_u32_reader`'s reader, once numpy is imported.
_U32_READER: list[Callable[[bytes], Any]] = []


def _u32_reader(what: str) -> Callable[[bytes], Any]:
    """A function viewing the engine's little-endian u32 bytes as a `uint32` array, without a
    copy. Made once: `frombuffer` with a dtype object passed by position costs a third of
    what naming the type by keyword does, and a call per short text makes that count."""
    if _U32_READER:
        return _U32_READER[0]
    np = _numpy(what)
    if sys.byteorder == "little":
        frombuffer, u32 = np.frombuffer, np.dtype(np.uint32)

        def read(buffer: bytes) -> Any:
            return frombuffer(buffer, u32)
    else:

        def read(buffer: bytes) -> Any:
            return np.frombuffer(buffer, dtype="<u4").astype(np.uint32)

    _U32_READER.append(read)
    return read


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@functools.lru_cache(maxsize=64)
def _literal_regex(strings: frozenset[str]) -> re.Pattern[str]:
    import re  # only needed for disallowed strings that are not special tokens

    # Longest first, so that of two strings found at the same place the longer one is reported.
    ordered = sorted(strings, key=lambda s: (-len(s), s))
    return re.compile("|".join(re.escape(s) for s in ordered))


def _replace_surrogates(text: str) -> str:
    # What tiktoken does with lone surrogates (which UTF-8 cannot hold): one U+FFFD each.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _replace_surrogates_all(texts: list[str]) -> list[str]:
    fixed = []
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _replace_surrogates(text)
        fixed.append(text)
    return fixed


def _ranks_to_text(mergeable_ranks: Mapping[bytes, int]) -> bytes:
    import base64

    lines = []
    for token, rank in mergeable_ranks.items():
        if not isinstance(token, (bytes, bytearray)) or not _is_int(rank):
            raise TypeError(
                "mergeable_ranks must map bytes to int, got "
                f"{type(token).__name__} -> {type(rank).__name__}"
            )
        lines.append(base64.b64encode(token) + b" " + str(rank).encode("ascii"))
    return b"\n".join(lines) + b"\n"


def _read_rank_file(path: StrPath) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    if str(path).endswith(".gz"):
        import gzip

        data = gzip.decompress(data)
    return data


# -------------------------------------------------------------------- the registry

# The split patterns and special tokens are tiktoken's published values
# (tiktoken_ext/openai_public.py).
_CL100K_PAT_STR = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PAT_STR = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"""
        r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"""
        r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

_R50K_PAT_STR = (
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
)

_O200K_SPECIALS = {ENDOFTEXT: 199999, ENDOFPROMPT: 200018}
# In tiktoken's order: where two names share an id (`<|endofprompt|>` and
# `<|reserved_200018|>`), the later one is what the id decodes to.
_O200K_HARMONY_SPECIALS = {
    **_O200K_SPECIALS,
    "<|startoftext|>": 199998,
    ENDOFTEXT: 199999,
    "<|reserved_200000|>": 200000,
    "<|reserved_200001|>": 200001,
    "<|return|>": 200002,
    "<|constrain|>": 200003,
    "<|reserved_200004|>": 200004,
    "<|channel|>": 200005,
    "<|start|>": 200006,
    "<|end|>": 200007,
    "<|message|>": 200008,
    "<|reserved_200009|>": 200009,
    "<|reserved_200010|>": 200010,
    "<|reserved_200011|>": 200011,
    "<|call|>": 200012,
} | {f"<|reserved_{i}|>": i for i in range(200013, 201088)}


class _Spec:
    """An encoding of tiktoken's registry: its rank file, pattern and special tokens. (A plain
    class: `dataclasses` would double the time `import batok` takes.)"""

    def __init__(
        self,
        rank_file: str,
        pat_str: str,
        special_tokens: dict[str, int],
        explicit_n_vocab: int | None = None,
    ) -> None:
        self.rank_file = rank_file
        self.pat_str = pat_str
        self.special_tokens = special_tokens
        self.explicit_n_vocab = explicit_n_vocab

    @property
    def bundled(self) -> bool:
        """Whether the rank file ships inside batok (else `rank_files` finds or fetches it)."""
        return self.rank_file in ("cl100k_base", "o200k_base")


_CL100K_SPECIALS = {
    ENDOFTEXT: 100257,
    FIM_PREFIX: 100258,
    FIM_MIDDLE: 100259,
    FIM_SUFFIX: 100260,
    ENDOFPROMPT: 100276,
}

# tiktoken's registry. tiktoken builds gpt2's ranks from GPT-2's original vocabulary files;
# they are exactly the r50k_base ranks (same file after conversion, by its sha256).
_REGISTRY: dict[str, _Spec] = {
    "gpt2": _Spec("r50k_base", _R50K_PAT_STR, {ENDOFTEXT: 50256}, 50257),
    "r50k_base": _Spec("r50k_base", _R50K_PAT_STR, {ENDOFTEXT: 50256}, 50257),
    "p50k_base": _Spec("p50k_base", _R50K_PAT_STR, {ENDOFTEXT: 50256}, 50281),
    "p50k_edit": _Spec(
        "p50k_base",
        _R50K_PAT_STR,
        {ENDOFTEXT: 50256, FIM_PREFIX: 50281, FIM_MIDDLE: 50282, FIM_SUFFIX: 50283},
    ),
    "cl100k_base": _Spec("cl100k_base", _CL100K_PAT_STR, _CL100K_SPECIALS),
    "o200k_base": _Spec("o200k_base", _O200K_PAT_STR, _O200K_SPECIALS),
    "o200k_harmony": _Spec("o200k_base", _O200K_PAT_STR, _O200K_HARMONY_SPECIALS),
}

_registry_lock = threading.Lock()
# Paths by `os.path`, compressed data by `zlib`: `pathlib` and `gzip` would add a quarter to
# the time `import batok` takes.
_DATA_DIR = os.path.join(os.path.dirname(os.path.realpath(__file__)), "data")


def list_encoding_names() -> list[str]:
    """The names `get_encoding` accepts (tiktoken's registry)."""
    return list(_REGISTRY)


def get_encoding(encoding_name: str) -> Encoding:
    """The encoding called `encoding_name` (loaded once, then cached).

    cl100k_base, o200k_base and o200k_harmony ship inside batok. gpt2, r50k_base, p50k_base and
    p50k_edit read their rank file from tiktoken's cache or fetch it as tiktoken does, checked
    against the sha256 tiktoken pins (see `batok.rank_files`). Raises ValueError for an unknown
    name, listing those that are known.
    """
    if not isinstance(encoding_name, str):
        raise TypeError(f"encoding_name must be a str, not {type(encoding_name).__name__}")
    if encoding_name not in _REGISTRY:
        available = ", ".join(list_encoding_names())
        raise ValueError(
            f"Unknown encoding {encoding_name!r}. Available encodings: {available}. Load "
            "another rank file with `batok.Encoding.from_rank_file`."
        )
    # One instance per name even when threads race for the first load.
    with _registry_lock:
        return _load_registered(encoding_name)


@functools.cache
def _load_registered(encoding_name: str) -> Encoding:
    spec = _REGISTRY[encoding_name]
    if spec.bundled:
        # A plain file next to this module: cheaper to reach than through importlib.resources,
        # which costs more at import than loading the ranks.
        with open(os.path.join(_DATA_DIR, f"{spec.rank_file}.tiktoken.gz"), "rb") as f:
            rank_text = zlib.decompress(f.read(), wbits=16 + zlib.MAX_WBITS)  # gzip framing
    else:
        from .rank_files import rank_text as fetch_rank_text

        rank_text = fetch_rank_text(f"{spec.rank_file}.tiktoken")
    encoding = Encoding._from_rank_text(
        encoding_name, spec.pat_str, rank_text, spec.special_tokens, spec.explicit_n_vocab
    )
    # Shipped encodings pickle by name; the others by their ranks, so that unpickling in a
    # worker never needs the network.
    encoding._from_registry = spec.bundled
    return encoding


# tiktoken's model tables (tiktoken/model.py).
# Prefixes are tried in order, so a longer prefix must come before a shorter one it extends.
MODEL_PREFIX_TO_ENCODING: dict[str, str] = {
    "o1-": "o200k_base",
    "o3-": "o200k_base",
    "o4-mini-": "o200k_base",
    "gpt-5": "o200k_base",
    "gpt-4.5-": "o200k_base",
    "gpt-4.1-": "o200k_base",
    "chatgpt-4o-": "o200k_base",
    "gpt-4o-": "o200k_base",
    "gpt-4-": "cl100k_base",
    "gpt-3.5-turbo-": "cl100k_base",
    "gpt-35-turbo-": "cl100k_base",
    "gpt-oss-": "o200k_harmony",
    "ft:gpt-4o": "o200k_base",
    "ft:gpt-4": "cl100k_base",
    "ft:gpt-3.5-turbo": "cl100k_base",
    "ft:davinci-002": "cl100k_base",
    "ft:babbage-002": "cl100k_base",
}

MODEL_TO_ENCODING: dict[str, str] = {
    "o1": "o200k_base",
    "o3": "o200k_base",
    "o4-mini": "o200k_base",
    "gpt-5": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4o": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-3.5-turbo": "cl100k_base",
    "gpt-3.5": "cl100k_base",
    "gpt-35-turbo": "cl100k_base",
    "davinci-002": "cl100k_base",
    "babbage-002": "cl100k_base",
    "text-embedding-ada-002": "cl100k_base",
    "text-embedding-3-small": "cl100k_base",
    "text-embedding-3-large": "cl100k_base",
    # deprecated models
    "text-davinci-003": "p50k_base",
    "text-davinci-002": "p50k_base",
    "text-davinci-001": "r50k_base",
    "text-curie-001": "r50k_base",
    "text-babbage-001": "r50k_base",
    "text-ada-001": "r50k_base",
    "davinci": "r50k_base",
    "curie": "r50k_base",
    "babbage": "r50k_base",
    "ada": "r50k_base",
    "code-davinci-002": "p50k_base",
    "code-davinci-001": "p50k_base",
    "code-cushman-002": "p50k_base",
    "code-cushman-001": "p50k_base",
    "davinci-codex": "p50k_base",
    "cushman-codex": "p50k_base",
    "text-davinci-edit-001": "p50k_edit",
    "code-davinci-edit-001": "p50k_edit",
    "text-similarity-davinci-001": "r50k_base",
    "text-similarity-curie-001": "r50k_base",
    "text-similarity-babbage-001": "r50k_base",
    "text-similarity-ada-001": "r50k_base",
    "text-search-davinci-doc-001": "r50k_base",
    "text-search-curie-doc-001": "r50k_base",
    "text-search-babbage-doc-001": "r50k_base",
    "text-search-ada-doc-001": "r50k_base",
    "code-search-babbage-code-001": "r50k_base",
    "code-search-ada-code-001": "r50k_base",
    # open source
    "gpt2": "gpt2",
    "gpt-2": "gpt2",
}


def encoding_name_for_model(model_name: str) -> str:
    """The name of the encoding a model uses. Raises KeyError for an unknown model."""
    if not isinstance(model_name, str):
        raise TypeError(f"model_name must be a str, not {type(model_name).__name__}")
    if model_name in MODEL_TO_ENCODING:
        return MODEL_TO_ENCODING[model_name]
    for prefix, encoding_name in MODEL_PREFIX_TO_ENCODING.items():
        if model_name.startswith(prefix):
            return encoding_name
    raise KeyError(
        f"Could not automatically map {model_name} to a tokeniser. "
        "Please use `batok.get_encoding` to explicitly get the tokeniser you expect."
    )


def encoding_for_model(model_name: str) -> Encoding:
    """The encoding a model uses. Raises KeyError for a model batok cannot map."""
    return get_encoding(encoding_name_for_model(model_name))
