"""The journal of a sharded job, so that `--resume` redoes only the shards that were not finished.

After every shard is renamed to its final name, the job writes `.batok-job.json` in the
output directory (atomically): which job this is, the shards done, and where in the input they
end (documents complete, and for llm.c shards, which cut the token stream anywhere, how many
tokens of the next document's stream they already hold). A resumed job reads the same inputs,
passes over the documents the finished shards hold without encoding them, and writes the rest
exactly as an uninterrupted run would. The journal is removed once the job is complete; the
manifest then records the same job, so resuming a finished job does nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from .outputs import AtomicFile

JOURNAL = ".batok-job.json"
MANIFEST = "manifest.json"


@dataclass
class Progress:
    """Where the finished shards end: `documents` wholly written, `tokens` of theirs, and
    `partial` tokens of the next document's stream (llm.c shards only)."""

    shards: list[str] = field(default_factory=list)
    documents: int = 0
    tokens: int = 0
    partial: int = 0


def identity(
    files: list[str], tokenizer: dict[str, Any], options: dict[str, Any]
) -> dict[str, Any]:
    """What makes two runs the same job: the inputs as they are on disk (size and modification
    time), the tokenizer's content and every option that changes the output's bytes."""
    inputs = []
    for path in files:
        st = os.stat(path)
        inputs.append([path, st.st_size, st.st_mtime_ns])
    return {"inputs": inputs, "tokenizer": tokenizer, **options}


class Journal:
    def __init__(self, directory: str, job: dict[str, Any]) -> None:
        self.path = os.path.join(directory, JOURNAL)
        self.directory = directory
        self.job = job

    def save(self, progress: Progress) -> None:
        f = AtomicFile(self.path)
        f.file.write(json.dumps({"job": self.job, "progress": asdict(progress)}).encode())
        f.commit()

    def remove(self) -> None:
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass

    def load(self) -> Progress | None:
        """The progress of this same job, or None when there is none to resume. Raises when
        the directory holds another job's shards (resuming would mix two jobs' output)."""
        try:
            with open(self.path, encoding="utf-8") as f:
                saved = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise ValueError(f"{self.path}: unreadable job journal ({e}); start over") from e
        if saved.get("job") != self.job:
            raise ValueError(
                f"{self.directory} holds the output of a different job (other inputs, "
                "tokenizer or options, or inputs changed since): run without --resume to "
                "start over, or write to another directory"
            )
        progress = Progress(**saved["progress"])
        for name in progress.shards:
            if not os.path.isfile(os.path.join(self.directory, name)):
                raise ValueError(
                    f"{self.directory}: shard {name} of the interrupted job is missing; "
                    "run without --resume to start over"
                )
        return progress

    def finished_manifest(self) -> dict[str, Any] | None:
        """The manifest of this same job when it already completed, else None."""
        try:
            with open(os.path.join(self.directory, MANIFEST), encoding="utf-8") as f:
                manifest = json.load(f)
        except (OSError, ValueError):
            return None
        if manifest.get("job") != self.job:
            return None
        if not all(os.path.isfile(os.path.join(self.directory, n)) for n in manifest["outputs"]):
            return None
        return manifest
