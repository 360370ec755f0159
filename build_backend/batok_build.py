"""batok's build backend: maturin's, with wheels linked for manylinux on Linux.

maturin's own `build_wheel` hook passes `--compatibility off` unless told otherwise, so
`pip wheel .` would tag the wheel plain `linux` (which no package index accepts) whatever
`[tool.maturin] compatibility` says, and pyproject.toml cannot ask maturin to link with zig. On
Linux this hook adds `--compatibility <that setting> --zig`: zig (the `ziglang` build requirement)
links against the old glibc the tag promises, and maturin checks the result. Build arguments
passed by the caller (`-C maturin.build-args=...` or MATURIN_PEP517_ARGS) replace these. Every
other hook is maturin's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import maturin


def build_wheel(
    wheel_directory: str,
    config_settings: Mapping[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    return maturin.build_wheel(
        wheel_directory, _manylinux_settings(config_settings), metadata_directory
    )


def _manylinux_settings(config_settings: Mapping[str, Any] | None) -> dict[str, Any]:
    settings = dict(config_settings or {})
    chosen = "maturin.build-args" in settings or "build-args" in settings
    if chosen or os.environ.get("MATURIN_PEP517_ARGS") or not sys.platform.startswith("linux"):
        return settings
    compatibility = maturin.get_config().get("compatibility")
    if compatibility:
        settings["maturin.build-args"] = ["--compatibility", str(compatibility), "--zig"]
    return settings


def __getattr__(name: str) -> Any:
    return getattr(maturin, name)
