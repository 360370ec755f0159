"""Protocol fidelity both ways: unmodified huggingface_hub against our hub, and our cache layout
against the one huggingface_hub writes."""

from __future__ import annotations

import os
from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub.errors import GatedRepoError as HfGatedRepoError
from huggingface_hub.errors import RepositoryNotFoundError as HfRepositoryNotFoundError

from batok.hub import resolve_tokenizer_files
from batok.testing.hub import LoopbackHub

ALICE = "ba_alice_5ecret_9f8e7d6c5b4a"
BOB = "ba_bob_5ecret_1a2b3c4d5e6f"
LLAMA = "meta-llama/Llama-2-7b-ba"


def _hf(hub: LoopbackHub, cache: Path, filename: str, token: object, repo: str = LLAMA) -> Path:
    return Path(
        huggingface_hub.hf_hub_download(
            repo, filename, endpoint=hub.endpoint, token=token, cache_dir=cache
        )
    )


def test_huggingface_hub_downloads_gated_lfs_file_with_token(
    hub: LoopbackHub, tmp_path: Path
) -> None:
    path = _hf(hub, tmp_path / "hf", "tokenizer.json", ALICE)
    assert path.stat().st_size == 1842767
    assert [e.authenticated for e in hub.requests(origin="cdn")] == [False]


def test_huggingface_hub_sees_gated_error_without_token(hub: LoopbackHub, tmp_path: Path) -> None:
    with pytest.raises(HfGatedRepoError):
        _hf(hub, tmp_path / "hf", "tokenizer.json", False)


def test_huggingface_hub_sees_gated_error_for_token_without_access(
    hub: LoopbackHub, tmp_path: Path
) -> None:
    with pytest.raises(HfGatedRepoError) as info:
        _hf(hub, tmp_path / "hf", "tokenizer.json", BOB)
    assert info.value.response.status_code == 403


def test_huggingface_hub_sees_private_repo_as_not_found(hub: LoopbackHub, tmp_path: Path) -> None:
    with pytest.raises(HfRepositoryNotFoundError):
        _hf(hub, tmp_path / "hf", "tokenizer.json", False, repo="carol/private")


def _tree(root: Path) -> dict[str, str]:
    """Every path under a repo folder: 'file' or the link target."""
    return {
        p.relative_to(root).as_posix(): (os.readlink(p) if p.is_symlink() else "file")
        for p in sorted(root.rglob("*"))
        if not p.is_dir() or p.is_symlink()
    }


def test_batok_cache_layout_matches_huggingface_hub(hub: LoopbackHub, tmp_path: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json"):
        _hf(hub, tmp_path / "hf", name, ALICE)
    hub.add_repo("org/cfgless", {"tokenizer.json": b"{}"})
    _hf(hub, tmp_path / "hf", "tokenizer.json", False, repo="org/cfgless")
    with pytest.raises(huggingface_hub.errors.EntryNotFoundError):
        _hf(hub, tmp_path / "hf", "tokenizer_config.json", False, repo="org/cfgless")

    resolve_tokenizer_files(LLAMA, token=ALICE, endpoint=hub.endpoint, cache_dir=tmp_path / "ba")
    resolve_tokenizer_files("org/cfgless", endpoint=hub.endpoint, cache_dir=tmp_path / "ba")

    for folder in ("models--meta-llama--Llama-2-7b-ba", "models--org--cfgless"):
        ours, theirs = _tree(tmp_path / "ba" / folder), _tree(tmp_path / "hf" / folder)
        assert ours == theirs
        assert ours  # not vacuously equal
    assert (tmp_path / "ba" / "models--org--cfgless" / "refs" / "main").read_text() == (
        tmp_path / "hf" / "models--org--cfgless" / "refs" / "main"
    ).read_text()


def test_batok_reads_a_cache_written_by_huggingface_hub_offline(
    hub: LoopbackHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json"):
        _hf(hub, tmp_path / "hf", name, ALICE)
    hub.stop()
    monkeypatch.setenv("BA_HUB_OFFLINE", "1")
    tok, cfg = resolve_tokenizer_files(LLAMA, cache_dir=tmp_path / "hf")
    assert tok.stat().st_size == 1842767 and cfg is not None
