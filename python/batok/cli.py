"""The `batok` command: encode, count, decode, and the hub commands (login, logout, whoami,
serve-hub). Exit codes: 0 success, 1 failure, 2 bad usage."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import __version__
from .encoding import Encoding, get_encoding
from .tokenizer import Tokenizer

DEFAULT_ENCODING = "o200k_base"

Engine = Encoding | Tokenizer


def _engine(args: argparse.Namespace) -> Engine:
    if args.tokenizer:
        return Tokenizer.from_pretrained(args.tokenizer)
    return get_encoding(args.encoding)


def _encode(engine: Engine, text: str) -> list[int]:
    if isinstance(engine, Encoding):
        return engine.encode(text, disallowed_special=())
    return engine.encode(text)


def _cmd_encode(args: argparse.Namespace) -> int:
    engine = _engine(args)
    text = " ".join(args.text) if args.text else sys.stdin.read()
    print(json.dumps(_encode(engine, text)))
    return 0


def _cmd_decode(args: argparse.Namespace) -> int:
    engine = _engine(args)
    print(engine.decode([int(x) for x in args.ids]))
    return 0


def _cmd_count(args: argparse.Namespace) -> int:
    engine = _engine(args)
    total = 0
    for path in args.files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if isinstance(engine, Encoding):
            n = engine.count_tokens(text)
        else:
            n = engine.count_tokens(text, add_special_tokens=False)
        total += n
        print(f"{n}\t{path}")
    if len(args.files) > 1:
        print(f"{total}\ttotal")
    return 0


def _add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--encoding",
        default=DEFAULT_ENCODING,
        help=f"tiktoken encoding name (default {DEFAULT_ENCODING})",
    )
    p.add_argument("--tokenizer", help="a hub repo id or a directory with tokenizer.json")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="batok", description="Exact, fast tokenization.")
    parser.add_argument("--version", action="version", version=f"batok {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("encode", help="print the token ids of TEXT (or stdin)")
    p.add_argument("text", nargs="*")
    _add_source(p)
    p.set_defaults(func=_cmd_encode)
    p = sub.add_parser("decode", help="print the text of token IDS")
    p.add_argument("ids", nargs="+")
    _add_source(p)
    p.set_defaults(func=_cmd_decode)
    p = sub.add_parser("count", help="print the token count of each FILE")
    p.add_argument("files", nargs="+")
    _add_source(p)
    p.set_defaults(func=_cmd_count)
    from .bench import add_commands as add_bench
    from .hub.cli import add_commands as add_hub
    from .jobs.cli import add_commands as add_jobs

    add_hub(sub)
    add_jobs(sub)
    add_bench(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Any = args.func
    try:
        return int(func(args) or 0)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"batok: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
