"""`batok tokenize`: the dataset job from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .formats import DEFAULT_SHARD_SIZE, FORMATS, PARQUET_COMPRESSIONS


def _unescape(text: str | None) -> str | None:
    """`\\n`, `\\t`, `\\r` and `\\\\` as the characters they name, since a shell argument
    cannot easily hold a newline."""
    if text is None:
        return None
    names = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in names:
            out.append(names[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _cmd_tokenize(args: argparse.Namespace) -> int:
    if args.ray:
        from ..ray import tokenize_on_ray

        manifest = tokenize_on_ray(
            args.inputs,
            args.tokenizer,
            args.output,
            address=args.ray,
            column=args.column,
            field=args.field,
            separator=_unescape(args.separator),
            add_special_tokens=args.add_special_tokens,
            concurrency=args.ray_workers,
        )
    else:
        from .runner import tokenize_files

        manifest = tokenize_files(
            args.inputs,
            args.tokenizer,
            args.output,
            format=args.format,
            field=args.field,
            column=args.column,
            separator=_unescape(args.separator),
            add_special_tokens=args.add_special_tokens,
            delimiter=args.delimiter,
            shard_size=args.shard_size,
            num_threads=args.num_threads,
            on_error=args.on_error,
            progress=not args.quiet and sys.stderr.isatty(),
            resume=args.resume,
            compression=args.compression,
        )
    summary: dict[str, Any] = {
        k: manifest.get(k) for k in ("documents", "tokens", "skipped", "outputs", "seconds")
    }
    print(json.dumps(summary))
    if manifest.get("skipped"):
        print(
            f"batok: skipped {manifest['skipped']} bad records, the first: "
            f"{manifest['first_skipped']}",
            file=sys.stderr,
        )
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "tokenize",
        help="tokenize JSON lines, Parquet or text files into Parquet, llm.c or npy token files",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files, directories or globs")
    p.add_argument(
        "--tokenizer",
        required=True,
        help="a tiktoken encoding name, a tokenizer.json, a directory or a hub repo id",
    )
    p.add_argument("--output", "-o", required=True, help="the directory to write to")
    p.add_argument("--format", choices=FORMATS, default="parquet")
    p.add_argument(
        "--compression",
        choices=PARQUET_COMPRESSIONS,
        default="snappy",
        help="Parquet output's codec (snappy; none writes fastest)",
    )
    p.add_argument("--field", default="text", help="JSON lines: the text's field (text)")
    p.add_argument("--column", default="text", help="Parquet: the text's column (text)")
    p.add_argument(
        "--separator",
        help="text files: split documents on this string (default: one per file); "
        "backslash escapes such as \\n are understood",
    )
    p.add_argument("--add-special-tokens", action="store_true")
    p.add_argument(
        "--delimiter", help="llmc: the token (id or text) before each document (BOS, else EOS)"
    )
    p.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE, help="tokens per shard")
    p.add_argument("--num-threads", type=int, help="0 = all cores (BATOK_NUM_THREADS)")
    p.add_argument("--on-error", choices=("raise", "skip"), default="raise")
    p.add_argument(
        "--resume",
        action="store_true",
        help="go on with an interrupted job in OUTPUT (same inputs and options): finished "
        "shards are kept, the rest is redone",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster (Parquet output)")
    p.add_argument("--ray-workers", type=int, default=None, help="Ray: tokenizer workers")
    p.set_defaults(func=_cmd_tokenize)
