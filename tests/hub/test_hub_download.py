"""Downloading through the cache from a real loopback hub: revisions, errors, offline, tokens."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from batok.hub import (
    GatedRepoError,
    InvalidTokenError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
    download,
    resolve_tokenizer_files,
)
from batok.testing.hub import LoopbackHub

ALICE = "ba_alice_5ecret_9f8e7d6c5b4a"
BOB = "ba_bob_5ecret_1a2b3c4d5e6f"
CAROL = "ba_carol_5ecret_0f1e2d3c4b5a"
BAD = "ba_revoked_5ecret_deadbeef00"
TINY = b'{"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []}}\n'


def _repo(cache: Path, repo: str = "org/tiny") -> Path:
    return cache / ("models--" + repo.replace("/", "--"))


def test_download_public_file_returns_snapshot_link_to_blob(
    hub: LoopbackHub, cache_dir: Path
) -> None:
    path = download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    commit = hub.repos[("model", "org/tiny")].refs["main"]
    assert path == _repo(cache_dir) / "snapshots" / commit / "tokenizer.json"
    assert path.is_symlink() and os.readlink(path).startswith("../../blobs/")
    assert path.read_bytes() == TINY
    assert (_repo(cache_dir) / "refs" / "main").read_text() == commit


def test_download_cached_main_revalidates_with_one_head_and_no_get(
    hub: LoopbackHub, cache_dir: Path
) -> None:
    download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    hub.clear()
    download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert [e.method for e in hub.log] == ["HEAD"]


def test_download_cached_commit_makes_no_request(hub: LoopbackHub, cache_dir: Path) -> None:
    commit = hub.repos[("model", "org/tiny")].refs["main"]
    download(
        "org/tiny", "tokenizer.json", revision=commit, endpoint=hub.endpoint, cache_dir=cache_dir
    )
    hub.clear()
    path = download(
        "org/tiny", "tokenizer.json", revision=commit, endpoint=hub.endpoint, cache_dir=cache_dir
    )
    assert path.read_bytes() == TINY
    assert hub.log == []


def test_download_new_commit_on_main_is_picked_up(hub: LoopbackHub, cache_dir: Path) -> None:
    download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    new = hub.commit("org/tiny", {"tokenizer.json": b"{}\n"})
    path = download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert path.read_bytes() == b"{}\n" and path.parent.name == new
    assert (_repo(cache_dir) / "refs" / "main").read_text() == new


def test_download_tag_branch_and_pr_revisions_write_nested_refs(
    hub: LoopbackHub, cache_dir: Path
) -> None:
    first = hub.repos[("model", "org/tiny")].refs["main"]
    hub.create_ref("org/tiny", "v1.0", first)
    pr = hub.commit("org/tiny", {"tokenizer.json": b"[]\n"}, branch="refs/pr/1")
    for rev in ("v1.0", "refs/pr/1"):
        download(
            "org/tiny", "tokenizer.json", revision=rev, endpoint=hub.endpoint, cache_dir=cache_dir
        )
    assert (_repo(cache_dir) / "refs" / "v1.0").read_text() == first
    assert (_repo(cache_dir) / "refs" / "refs" / "pr" / "1").read_text() == pr
    paths = [e.path for e in hub.requests(method="HEAD")]
    assert "/org/tiny/resolve/refs%2Fpr%2F1/tokenizer.json" in paths


def test_download_lfs_file_goes_through_signed_cdn_url(hub: LoopbackHub, cache_dir: Path) -> None:
    path = download("org/tiny", "big.bin", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert path.read_bytes() == bytes(range(256)) * 4096
    assert len(os.readlink(path).rsplit("/", 1)[1]) == 64  # blob named by its sha256
    assert [e.status for e in hub.requests(origin="cdn")] == [200]


def test_download_renamed_repo_follows_relative_307(hub: LoopbackHub, cache_dir: Path) -> None:
    hub.rename("org/tiny", "org/tiny-v2")
    path = download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert path.read_bytes() == TINY
    assert [e.status for e in hub.requests(method="HEAD")] == [307, 200]


def test_resolve_tokenizer_files_returns_both_files(hub: LoopbackHub, cache_dir: Path) -> None:
    tok, cfg = resolve_tokenizer_files("org/tiny", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert tok.name == "tokenizer.json" and cfg is not None and cfg.name == "tokenizer_config.json"
    assert tok.parent == cfg.parent


def test_resolve_tokenizer_files_missing_config_is_remembered(
    hub: LoopbackHub, cache_dir: Path
) -> None:
    tok, cfg = resolve_tokenizer_files("org/no-config", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert cfg is None
    commit = tok.parent.name
    assert (
        _repo(cache_dir, "org/no-config") / ".no_exist" / commit / "tokenizer_config.json"
    ).is_file()
    hub.clear()
    # Pinned to the commit, the second load needs no network: the marker answers for the config.
    tok2, cfg2 = resolve_tokenizer_files(
        "org/no-config", revision=commit, endpoint=hub.endpoint, cache_dir=cache_dir
    )
    assert (tok2, cfg2) == (tok, None) and hub.log == []


def test_resolve_tokenizer_files_local_directory(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_bytes(TINY)
    assert resolve_tokenizer_files(str(tmp_path)) == (tmp_path / "tokenizer.json", None)
    (tmp_path / "tokenizer_config.json").write_text("{}")
    assert resolve_tokenizer_files(tmp_path)[1] == tmp_path / "tokenizer_config.json"


def test_resolve_tokenizer_files_local_directory_without_tokenizer_json(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="tokenizer.json"):
        resolve_tokenizer_files(str(tmp_path))


def test_gated_repo_without_token_raises_gated_error_naming_the_fix(
    hub: LoopbackHub, cache_dir: Path, clean
) -> None:
    with pytest.raises(GatedRepoError) as info:
        resolve_tokenizer_files(
            "meta-llama/Llama-2-7b-ba", endpoint=hub.endpoint, cache_dir=cache_dir
        )
    message = str(info.value)
    assert "gated" in message and "BA_ACCESS_TOKEN" in message and "token=" in message
    assert f"{hub.endpoint}/meta-llama/Llama-2-7b-ba" in message
    assert info.value.status == 401
    clean(info.value)


def test_gated_repo_with_token_lacking_access_says_so(
    hub: LoopbackHub, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, clean
) -> None:
    monkeypatch.setenv("BA_ACCESS_TOKEN", BOB)
    with pytest.raises(GatedRepoError) as info:
        download(
            "meta-llama/Llama-2-7b-ba", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir
        )
    assert "The token from BA_ACCESS_TOKEN has no access" in str(info.value)
    assert info.value.status == 403
    clean(info.value)


def test_gated_repo_with_granted_token_from_env_set_at_runtime(
    hub: LoopbackHub, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(GatedRepoError):
        download(
            "meta-llama/Llama-2-7b-ba",
            "tokenizer_config.json",
            endpoint=hub.endpoint,
            cache_dir=cache_dir,
        )
    monkeypatch.setenv("BA_ACCESS_TOKEN", ALICE)  # read per request, not at import
    path = download(
        "meta-llama/Llama-2-7b-ba",
        "tokenizer_config.json",
        endpoint=hub.endpoint,
        cache_dir=cache_dir,
    )
    assert b"LlamaTokenizer" in path.read_bytes()


def test_token_argument_false_sends_no_token(
    hub: LoopbackHub, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BA_ACCESS_TOKEN", ALICE)
    download("org/tiny", "tokenizer.json", token=False, endpoint=hub.endpoint, cache_dir=cache_dir)
    assert [e.authenticated for e in hub.log] == [False, False]


def test_private_repo_without_token_is_not_found_with_login_hint(
    hub: LoopbackHub, cache_dir: Path
) -> None:
    with pytest.raises(RepositoryNotFoundError) as info:
        download("carol/private", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert not isinstance(info.value, GatedRepoError)
    assert "set BA_ACCESS_TOKEN" in str(info.value) and info.value.status == 401


def test_private_repo_with_other_users_token_is_404(
    hub: LoopbackHub, cache_dir: Path, clean
) -> None:
    with pytest.raises(RepositoryNotFoundError) as info:
        download(
            "carol/private", "tokenizer.json", token=BOB, endpoint=hub.endpoint, cache_dir=cache_dir
        )
    assert info.value.status == 404 and "cannot see it" in str(info.value)
    clean(info.value)


def test_private_repo_with_owner_token_downloads(hub: LoopbackHub, cache_dir: Path) -> None:
    path = download(
        "carol/private", "tokenizer.json", token=CAROL, endpoint=hub.endpoint, cache_dir=cache_dir
    )
    assert path.read_bytes() == TINY


def test_invalid_token_on_public_repo_raises_invalid_token_not_repo_missing(
    hub: LoopbackHub, cache_dir: Path, clean
) -> None:
    with pytest.raises(InvalidTokenError) as info:
        download(
            "org/tiny", "tokenizer.json", token=BAD, endpoint=hub.endpoint, cache_dir=cache_dir
        )
    assert "the token= argument" in str(info.value) and "expired or mistyped" in str(info.value)
    clean(info.value)


def test_token_file_from_login_is_used(hub: LoopbackHub, cache_dir: Path, hub_env: Path) -> None:
    from batok.hub import save_token

    save_token(CAROL)
    path = download("carol/private", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert path.read_bytes() == TINY


def test_unknown_revision_raises_revision_not_found(hub: LoopbackHub, cache_dir: Path) -> None:
    with pytest.raises(RevisionNotFoundError, match="Revision nope does not exist in org/tiny"):
        download(
            "org/tiny",
            "tokenizer.json",
            revision="nope",
            endpoint=hub.endpoint,
            cache_dir=cache_dir,
        )


def test_missing_file_raises_entry_not_found_and_writes_marker(
    hub: LoopbackHub, cache_dir: Path
) -> None:
    with pytest.raises(RemoteEntryNotFoundError, match="vocab.txt is not in org/tiny at main"):
        download("org/tiny", "vocab.txt", endpoint=hub.endpoint, cache_dir=cache_dir)
    commit = hub.repos[("model", "org/tiny")].refs["main"]
    assert (_repo(cache_dir) / ".no_exist" / commit / "vocab.txt").is_file()


def test_endpoint_from_environment_variable(
    hub: LoopbackHub, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BA_ENDPOINT", hub.endpoint)
    assert download("org/tiny", "tokenizer.json", cache_dir=cache_dir).read_bytes() == TINY


def test_default_cache_is_under_ba_home(hub: LoopbackHub, hub_env: Path) -> None:
    path = download("org/tiny", "tokenizer.json", endpoint=hub.endpoint)
    assert path.is_relative_to(hub_env / "hub")
    assert (hub_env / "hub").stat().st_mode & 0o077 == 0  # private to the user


@pytest.mark.parametrize("how", ["env", "argument"])
def test_offline_loads_from_cache_with_no_request(
    hub: LoopbackHub, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    resolve_tokenizer_files("org/tiny", endpoint=hub.endpoint, cache_dir=cache_dir)
    hub.clear()
    if how == "env":
        monkeypatch.setenv("BA_HUB_OFFLINE", "1")
    tok, cfg = resolve_tokenizer_files(
        "org/tiny", endpoint=hub.endpoint, cache_dir=cache_dir, local_files_only=how == "argument"
    )
    assert tok.read_bytes() == TINY and cfg is not None
    assert hub.log == []


def test_offline_without_cache_raises_clear_local_entry_error(
    hub: LoopbackHub, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BA_HUB_OFFLINE", "1")
    with pytest.raises(LocalEntryNotFoundError) as info:
        download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    assert isinstance(info.value, FileNotFoundError)
    assert "not cached" in str(info.value) and "BA_HUB_OFFLINE" in str(info.value)
    assert hub.log == []


def test_force_download_in_offline_mode_is_a_value_error(cache_dir: Path) -> None:
    with pytest.raises(ValueError, match="force_download"):
        download(
            "org/tiny",
            "tokenizer.json",
            local_files_only=True,
            force_download=True,
            cache_dir=cache_dir,
        )


def test_force_download_fetches_again(hub: LoopbackHub, cache_dir: Path) -> None:
    download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    hub.clear()
    download(
        "org/tiny",
        "tokenizer.json",
        endpoint=hub.endpoint,
        cache_dir=cache_dir,
        force_download=True,
    )
    assert [e.method for e in hub.log] == ["HEAD", "GET"]


def test_hub_down_serves_cached_main(hub: LoopbackHub, cache_dir: Path) -> None:
    first = download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir)
    hub.stop()
    assert (
        download("org/tiny", "tokenizer.json", endpoint=hub.endpoint, cache_dir=cache_dir) == first
    )


def test_hub_down_without_cache_raises_unreachable(hub: LoopbackHub, cache_dir: Path) -> None:
    endpoint = hub.endpoint
    hub.stop()
    with pytest.raises(LocalEntryNotFoundError, match="is unreachable"):
        download("org/tiny", "tokenizer.json", endpoint=endpoint, cache_dir=cache_dir)


def test_revoked_access_still_reads_the_cache(hub: LoopbackHub, cache_dir: Path) -> None:
    first = download(
        "meta-llama/Llama-2-7b-ba",
        "tokenizer_config.json",
        token=ALICE,
        endpoint=hub.endpoint,
        cache_dir=cache_dir,
    )
    hub.repos[("model", "meta-llama/Llama-2-7b-ba")].granted.clear()
    again = download(
        "meta-llama/Llama-2-7b-ba",
        "tokenizer_config.json",
        token=ALICE,
        endpoint=hub.endpoint,
        cache_dir=cache_dir,
    )
    assert again == first
