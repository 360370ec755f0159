"""Finding the token: ``token=`` argument, then ``BA_ACCESS_TOKEN``, then ``{BA_HOME}/token``.

Everything is read when a request is made, never at import, so a program may set
``os.environ["BA_ACCESS_TOKEN"]`` any time before it loads a tokenizer. The token only ever lives
inside a :class:`Credential`, whose ``repr`` and ``str`` say where it came from but not what it is.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .errors import InvalidTokenError

__all__ = [
    "Credential",
    "TokenArg",
    "ba_home",
    "delete_token",
    "describe_source",
    "get_credential",
    "save_token",
    "token_path",
]

TokenArg = str | bool | None

SOURCE_ARGUMENT = "argument"
SOURCE_ENV = "BA_ACCESS_TOKEN"
SOURCE_FILE = "token file"

# What may travel in ``Authorization: Bearer ...``: visible ASCII. Anything else (a line break
# from a two-line file, a space, a non-ASCII character) would fail inside the HTTP library with
# the header, token included, in its message.
_SENDABLE = re.compile(r"[\x21-\x7e]+")


class Credential:
    """A token and where it came from. Prints as ``Credential(source='BA_ACCESS_TOKEN')``."""

    __slots__ = ("_secret", "source")

    def __init__(self, secret: str, source: str) -> None:
        self._secret = secret
        self.source = source

    def authorization(self) -> str:
        """The header value, exactly ``Bearer <token>``."""
        return f"Bearer {self._secret}"

    def reveal(self) -> str:
        """The raw token, for the one caller that stores it (``batok login``)."""
        return self._secret

    def __repr__(self) -> str:
        return f"Credential(source={self.source!r})"

    __str__ = __repr__

    def __reduce__(self) -> None:  # type: ignore[override]
        # Pickling would copy the secret into places we do not control.
        raise TypeError("Credential cannot be pickled")


def ba_home() -> Path:
    """``BA_HOME``, default ``~/.cache/batok``."""
    value = os.environ.get("BA_HOME", "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "batok"


def token_path() -> Path:
    return ba_home() / "token"


def get_credential(token: TokenArg = None) -> Credential | None:
    """Resolve the token for one request. ``token=False`` means send none."""
    if token is False:
        return None
    if isinstance(token, str) and token.strip():
        return _sendable(Credential(token.strip(), SOURCE_ARGUMENT))
    if token is not None and token is not True and not isinstance(token, str):
        raise TypeError("token must be a str, True, False or None")
    env = os.environ.get("BA_ACCESS_TOKEN", "").strip()
    if env:
        return _sendable(Credential(env, SOURCE_ENV))
    stored = _read_token_file()
    return _sendable(Credential(stored, SOURCE_FILE)) if stored else None


def describe_source(cred: Credential | None) -> str:
    """Where a token came from, for messages: never the token itself."""
    if cred is None:
        return "nowhere (none was found)"
    if cred.source == SOURCE_ARGUMENT:
        return "the token= argument"
    if cred.source == SOURCE_ENV:
        return "BA_ACCESS_TOKEN"
    return f"the token file ({token_path()})"


def _sendable(cred: Credential) -> Credential:
    if not _SENDABLE.fullmatch(cred.reveal()):
        raise InvalidTokenError(
            f"The token from {describe_source(cred)} has a character that cannot be sent in an "
            "HTTP header (a line break, a space or a non-ASCII character); a token is one line "
            "of plain ASCII. Fix it, or pass token=False to send none."
        )
    return cred


def _read_token_file() -> str | None:
    try:
        text = token_path().read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    except UnicodeDecodeError:
        raise InvalidTokenError(
            f"The token file ({token_path()}) is not UTF-8 text; run `batok login` again."
        ) from None
    return text.strip() or None


def save_token(token: str) -> Path:
    """Write the token file 0600 inside a 0700 ``BA_HOME``, atomically."""
    value = token.strip()
    if not _SENDABLE.fullmatch(value):
        raise ValueError("A token is one word of plain ASCII, with no spaces.")
    home = ba_home()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    path = home / "token"
    tmp = home / f".token.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileExistsError:
        os.unlink(tmp)
        fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # Again after the rename: a umask or an odd filesystem must not leave it readable by others.
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return path


def delete_token() -> bool:
    """Remove the token file; True if there was one."""
    try:
        token_path().unlink()
    except FileNotFoundError:
        return False
    return True
