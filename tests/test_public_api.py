"""The package surface: exports, typing stub and marker."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import batok
from batok import _batok

PACKAGE = Path(batok.__file__).resolve().parent


def test_all_is_sorted_and_exported() -> None:
    assert batok.__all__ == sorted(batok.__all__)
    assert all(hasattr(batok, n) for n in batok.__all__)


def test_py_typed_marker_ships() -> None:
    assert (PACKAGE / "py.typed").is_file()


def test_stub_declares_every_native_class_and_method() -> None:
    tree = ast.parse((PACKAGE / "_batok.pyi").read_text(encoding="utf-8"))
    stub: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            stub[node.name] = {
                n.name
                for n in node.body
                if isinstance(n, ast.FunctionDef) and not n.name.startswith("__")
            }
    for cls_name in ("Tokenizer", "Encoding", "CoreBPE", "BatokError"):
        assert cls_name in stub, cls_name
        native = getattr(_batok, cls_name)
        public = {n for n in dir(native) if not n.startswith("_")} - set(dir(ValueError))
        assert public <= stub[cls_name] | {"args", "with_traceback", "add_note"}, (
            cls_name,
            public - stub[cls_name],
        )


def test_stub_matches_native_module_under_stubtest(tmp_path: Path) -> None:
    # stubtest imports the built module and compares every signature, property and class flag
    # with `_batok.pyi`; run from an empty directory so that only the installed package is seen.
    env = {**os.environ, "MYPY_CACHE_DIR": str(tmp_path / "mypy_cache")}
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "batok._batok"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_version_is_a_string() -> None:
    assert isinstance(batok.__version__, str) and batok.__version__


def test_version_is_the_installed_distribution_version() -> None:
    # Cargo.toml holds the version; the package metadata and the native module both take it.
    assert batok.__version__ == importlib.metadata.version("batok")


def test_import_batok_stays_light() -> None:
    # The cold-load budget (benches/test_cold_load.py) has no room for these: each costs as much
    # as loading cl100k_base's ranks, or pulls in a large dependency nobody asked for.
    heavy = ("dataclasses", "inspect", "requests", "numpy", "hashlib", "json", "tempfile")
    code = f"import sys, batok; print(sorted(set({heavy!r}) & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
