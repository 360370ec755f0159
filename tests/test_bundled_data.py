"""The rank files bundled in the package are exactly the official OpenAI files.

Their sha256 (after gunzip) must equal the hash in ../shared/tokenizers/SOURCES.md (which is the
hash tiktoken pins for the official download) and their bytes the staged copies.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from importlib import resources
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXPECTED_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}


def _sources_sha256(sources: Path, file_name: str) -> str:
    """The sha256 SOURCES.md gives for `file_name` in its table of rank files."""
    for line in sources.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"| `{file_name}`"):
            hashes = re.findall(r"`([0-9a-f]{64})`", line)
            assert len(hashes) == 1, f"expected one sha256 on the SOURCES.md row: {line}"
            return hashes[0]
    raise AssertionError(f"{file_name} has no row in {sources}")


@pytest.mark.parametrize("name", sorted(EXPECTED_SHA256))
def test_bundled_rank_file_in_checkout_is_the_official_file(name: str, tiktoken_dir: Path) -> None:
    data = gzip.decompress(
        (REPO_ROOT / "python" / "batok" / "data" / f"{name}.tiktoken.gz").read_bytes()
    )
    assert hashlib.sha256(data).hexdigest() == EXPECTED_SHA256[name]
    assert (
        _sources_sha256(tiktoken_dir.parent / "SOURCES.md", f"{name}.tiktoken")
        == EXPECTED_SHA256[name]
    )
    assert data == (tiktoken_dir / f"{name}.tiktoken").read_bytes()


@pytest.mark.parametrize("name", sorted(EXPECTED_SHA256))
def test_installed_package_ships_the_rank_file(name: str) -> None:
    # What `get_encoding` reads: the data inside the installed package, not the checkout.
    resource = resources.files("batok").joinpath("data").joinpath(f"{name}.tiktoken.gz")
    data = gzip.decompress(resource.read_bytes())
    assert hashlib.sha256(data).hexdigest() == EXPECTED_SHA256[name]
