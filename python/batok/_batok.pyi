"""Type stubs for the native engine `batok._batok` (Rust, PyO3).

The Python layer (`batok.tokenizer`, `batok.tiktoken`) wraps these classes; users rarely touch
them directly. Every method releases the GIL while the engine works.
"""

from collections.abc import Sequence
from typing import Any, final

__all__ = [
    "BatokError",
    "CoreBPE",
    "DatasetError",
    "DocChunk",
    "DocReader",
    "Encoding",
    "Tokenizer",
    "__version__",
    "encode_arrow_strings",
    "encode_chunk",
    "max_threads",
]

__version__: str

def max_threads() -> int:
    """The most threads a batch call runs on: 4 per CPU this process may use. A larger
    `num_threads` is taken as this many."""

class BatokError(ValueError):
    """A tokenizer file or rank file that batok cannot load (bad JSON, unsupported component)."""

@final
class Encoding:
    """The result of encoding one text, or a pair of texts, with a `Tokenizer`."""

    @property
    def ids(self) -> list[int]: ...
    @property
    def tokens(self) -> list[str]: ...
    @property
    def offsets(self) -> list[tuple[int, int]]:
        """(start, end) character offsets into the original Python str (for a pair, into the
        token's own text)."""
    @property
    def type_ids(self) -> list[int]: ...
    @property
    def sequence_ids(self) -> list[int | None]:
        """0 or 1 (second text of a pair) per token; None for special tokens."""
    @property
    def n_sequences(self) -> int: ...
    @property
    def attention_mask(self) -> list[int]: ...
    @property
    def special_tokens_mask(self) -> list[int]: ...
    @property
    def word_ids(self) -> list[int | None]:
        """The word (pre-tokenized piece) each token comes from; None for special tokens."""
    @property
    def words(self) -> list[int | None]:
        """`word_ids`, under its older name."""
    @property
    def overflowing(self) -> list[Encoding]:
        """The windows truncation cut off, each encoded as this one is."""
    def __len__(self) -> int: ...

@final
class Tokenizer:
    """A tokenizer.json pipeline: added tokens, normalizer, pre-tokenizer, model, post-processor,
    decoder."""

    @staticmethod
    def from_str(json: str) -> Tokenizer:
        """Raises BatokError naming the line and column of invalid JSON, or the path of an
        unsupported component (e.g. `normalizer.normalizers[2].type = "Foo" is not supported`)."""
    @staticmethod
    def from_file(path: str) -> Tokenizer:
        """Raises FileNotFoundError for a missing file, BatokError for bad contents."""
    def to_str(self) -> str:
        """The tokenizer.json text: as loaded, with the current truncation and padding."""
    def with_limits(self, truncation: str | None = None, padding: str | None = None) -> Tokenizer:
        """This tokenizer with other truncation and padding (each a tokenizer.json section as
        JSON text, or None for off), sharing the vocabulary and pipeline."""
    def with_prepend_at_start_only(self) -> Tokenizer | None:
        """This tokenizer with its normalizer's leading Prepend applied to the start of a text
        only (transformers' and Transformers.js's Llama `legacy: false`); None when the
        normalizer does not start with one. `to_str` still gives the file."""
    def added_tokens_json(self) -> str:
        """The file's `added_tokens` list as JSON text, as loaded or last replaced."""
    def with_added_tokens(self, added_tokens: str) -> Tokenizer:
        """This tokenizer with `added_tokens` (a JSON list, as a tokenizer.json's) in place of
        its added tokens; the vocabulary and the rest of the pipeline are copied, not loaded
        again. Raises BatokError for a bad list."""
    @property
    def truncation(self) -> str | None:
        """The truncation section as JSON text, or None when off."""
    @property
    def padding(self) -> str | None:
        """The padding section as JSON text, or None when off."""
    def encode(self, text: str, add_special_tokens: bool = True) -> Encoding: ...
    def encode_pair(self, text: str, pair: str, add_special_tokens: bool = True) -> Encoding:
        """Both texts with the post-processor's pair template, as `tokenizers` encodes a pair."""
    def encode_words(
        self,
        words: Sequence[str],
        pair: Sequence[str] | None = None,
        add_special_tokens: bool = True,
    ) -> Encoding:
        """Pre-tokenized input: each word encoded as a text of its own."""
    def encode_words_batch(
        self,
        items: Sequence[Sequence[str]],
        pairs: Sequence[Sequence[str] | None],
        add_special_tokens: bool = True,
        num_threads: int = 0,
    ) -> list[Encoding]: ...
    def encode_pair_batch(
        self,
        texts: Sequence[str],
        pairs: Sequence[str | None],
        add_special_tokens: bool = True,
        num_threads: int = 0,
    ) -> list[Encoding]:
        """`encode_pair(texts[i], pairs[i])`, or `encode(texts[i])` where `pairs[i]` is None."""
    def encode_ids(self, text: str, add_special_tokens: bool = True) -> list[int]: ...
    def encode_ids_without_added(self, text: str) -> list[int]:
        """`text` through the normalizer, pre-tokenizer and model only: no added token (special
        or not) matched, no post-processor, no truncation or padding."""
    def count_tokens(self, text: str, add_special_tokens: bool = True) -> int: ...
    def encode_batch(
        self, texts: Sequence[str], add_special_tokens: bool = True, num_threads: int = 0
    ) -> list[Encoding]:
        """num_threads=0 means every core; above `max_threads()` it is taken as that."""
    def encode_batch_ids(
        self, texts: Sequence[str], add_special_tokens: bool = True, num_threads: int = 0
    ) -> list[list[int]]: ...
    def encode_batch_ids_to_buffer(
        self, texts: Sequence[str], add_special_tokens: bool = True, num_threads: int = 0
    ) -> tuple[bytes, bytes]:
        """Flat little-endian u32 ids and u64 start offsets (len(texts) + 1)."""
    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        """Raises ValueError for an id outside the vocabulary."""
    def decode_batch(
        self,
        sequences: Sequence[Sequence[int]],
        skip_special_tokens: bool = False,
        num_threads: int = 0,
    ) -> list[str]: ...
    def token_to_id(self, token: str) -> int | None: ...
    def id_to_token(self, id: int) -> str | None: ...
    def get_vocab_size(self, with_added_tokens: bool = True) -> int: ...
    def get_vocab(self, with_added_tokens: bool = True) -> dict[str, int]: ...
    def added_tokens(self) -> list[tuple[int, str, bool]]:
        """(id, content, special) of every added token, in id order."""

@final
class CoreBPE:
    """A tiktoken-style byte-level BPE: ranks, a split pattern and special tokens."""

    def __new__(cls, ranks: bytes, special_tokens: dict[str, int], pattern: str) -> CoreBPE:
        """`ranks` is the text of a rank file (`base64(token) rank` per line)."""
    @property
    def n_vocab(self) -> int: ...
    @property
    def max_token_value(self) -> int: ...
    def encode_ordinary(self, text: str) -> list[int]: ...
    def encode(self, text: str, allowed_special: set[str]) -> list[int]:
        """Special tokens in `allowed_special` are encoded as their ids; all other text is
        ordinary. Checking disallowed specials is the Python layer's job."""
    def encode_plain(self, text: str) -> list[int] | None:
        """`encode_ordinary`, or None when `text` holds any special token (the default policy
        must then raise, which the Python layer does)."""
    def encode_plain_to_buffer(self, text: str) -> bytes | None:
        """`encode_plain` as little-endian uint32 bytes."""
    def count_ordinary(self, text: str) -> int: ...
    def encode_ordinary_batch(
        self, texts: Sequence[str], num_threads: int = 0
    ) -> list[list[int]]: ...
    def encode_batch(
        self, texts: Sequence[str], allowed_special: set[str], num_threads: int = 0
    ) -> list[list[int]]: ...
    def encode_ordinary_to_buffer(self, text: str) -> bytes:
        """Token ids as little-endian uint32, for zero-copy numpy output."""
    def encode_ordinary_batch_to_buffer(
        self, texts: Sequence[str], num_threads: int = 0
    ) -> tuple[bytes, bytes]:
        """Flat little-endian u32 ids and u64 start offsets (len(texts) + 1)."""
    def find_special(self, text: str, specials: set[str]) -> str | None:
        """The first of `specials` that occurs in `text`, or None."""
    def decode_bytes(self, ids: Sequence[int]) -> bytes:
        """Raises KeyError-like ValueError for an id that is neither a rank nor a special token."""
    def decode_utf8(self, ids: Sequence[int]) -> str | None:
        """The text of `ids` if their bytes are valid UTF-8, else None."""
    def decode_single_token_bytes(self, id: int) -> bytes: ...
    def encode_single_token(self, piece: bytes) -> int: ...
    def special_tokens(self) -> dict[str, int]: ...

# -- dataset files (batok.jobs, batok.ray) ------------------------------------------------------

class DatasetError(ValueError):
    """A dataset record batok cannot read; the message starts with `file:line:`."""

@final
class DocChunk:
    """Documents of consecutive records read by a `DocReader` (held in Rust)."""

    @property
    def nbytes(self) -> int: ...
    def __len__(self) -> int: ...

@final
class DocReader:
    """Every document of `(path, kind)` files ("jsonl" or "text"; `.gz`/`.zst` decompressed)."""

    def __new__(
        cls,
        files: Sequence[tuple[str, str]],
        field: str = ...,  # "text"
        separator: str | None = None,
        skip_bad: bool = False,
    ) -> DocReader: ...
    def read(self, max_bytes: int) -> DocChunk | None:
        """About `max_bytes` of input as documents; None once every file is read. Raises
        DatasetError (or OSError for an unreadable file) naming the file and line."""
    @property
    def skipped(self) -> int: ...
    @property
    def first_skipped(self) -> str | None: ...

def encode_chunk(
    engine: Tokenizer | CoreBPE,
    chunk: DocChunk,
    add_special_tokens: bool = False,
    num_threads: int = 0,
) -> tuple[bytes, bytes]:
    """Flat little-endian u32 ids and u64 offsets (n + 1) of a chunk's documents."""

def encode_arrow_strings(
    engine: Tokenizer | CoreBPE,
    offsets: Any,
    data: Any,
    wide: bool,
    start: int,
    len: int,
    add_special_tokens: bool = False,
    num_threads: int = 0,
) -> tuple[bytes, bytes]:
    """`encode_chunk` for `len` strings of an Arrow string array's offset and data buffers."""
