"""Pure pieces: URL building, name validation, etags, the error tree, the settings."""

from __future__ import annotations

import pickle

import pytest

from batok.hub import errors
from batok.hub.auth import Credential, get_credential
from batok.hub.download import HubSettings
from batok.hub.endpoints import (
    DEFAULT_ENDPOINT,
    check_url,
    file_url,
    get_endpoint,
    is_commit_hash,
    is_loopback_host,
    normalize_etag,
    origin_of,
    redact_url,
    repo_folder_name,
    validate_filename,
    validate_repo_id,
    validate_revision,
)

HOSTILE_FILENAMES = [
    "../secret",
    "a/../../b",
    "/etc/passwd",
    "C:\\Windows\\x",
    "C:evil",
    "D:/x",
    "\\\\server\\share\\x",
    "dir\\file",
    "a\x00b",
    "",
    "a//b",
    "./x",
    "x/.",
    "file:stream",
]
HOSTILE_REVISIONS = ["../main", "refs/../../x", "/abs", "a\\b", "a\x00b", "", "a//b", "x.lock"]
HOSTILE_REPO_IDS = ["../x", "org/../x", "/org/x", "org\\x", "a/b/c", "org--x/y", "org/x\x00", ""]


def test_file_url_encodes_revision_fully_and_keeps_path_slashes() -> None:
    url = file_url("https://h.example", "org/m", "sub dir/tok.json", "refs/pr/1")
    assert url == "https://h.example/org/m/resolve/refs%2Fpr%2F1/sub%20dir/tok.json"


def test_file_url_prefixes_datasets() -> None:
    assert (
        file_url("https://h", "o/d", "f", repo_type="dataset")
        == "https://h/datasets/o/d/resolve/main/f"
    )


def test_endpoint_precedence_argument_then_env_then_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert get_endpoint() == DEFAULT_ENDPOINT
    monkeypatch.setenv("BA_ENDPOINT", "http://127.0.0.1:9/")
    assert get_endpoint() == "http://127.0.0.1:9"
    assert get_endpoint("https://other.example") == "https://other.example"


def test_endpoint_rejects_non_http_scheme() -> None:
    with pytest.raises(errors.UnsafeInputError):
        get_endpoint("file:///etc")


@pytest.mark.parametrize("name", HOSTILE_FILENAMES)
def test_validate_filename_rejects_hostile_name(name: str) -> None:
    with pytest.raises(errors.UnsafeInputError):
        validate_filename(name)


@pytest.mark.parametrize(
    "name", ["tokenizer.json", "sub/dir/vocab.txt", "a b.json", ".gitattributes"]
)
def test_validate_filename_accepts_ordinary_name(name: str) -> None:
    assert validate_filename(name) == name


@pytest.mark.parametrize("rev", HOSTILE_REVISIONS)
def test_validate_revision_rejects_hostile_revision(rev: str) -> None:
    with pytest.raises(errors.UnsafeInputError):
        validate_revision(rev)


@pytest.mark.parametrize("rev", ["main", "v1.0", "refs/pr/1", "a" * 40, "feature/x-y_z"])
def test_validate_revision_accepts_ordinary_revision(rev: str) -> None:
    assert validate_revision(rev) == rev


@pytest.mark.parametrize("repo_id", HOSTILE_REPO_IDS)
def test_validate_repo_id_rejects_hostile_id(repo_id: str) -> None:
    with pytest.raises(errors.UnsafeInputError):
        validate_repo_id(repo_id)


def test_repo_folder_name_follows_hf_layout() -> None:
    assert repo_folder_name("meta-llama/Llama-2-7b-ba") == "models--meta-llama--Llama-2-7b-ba"
    assert repo_folder_name("gpt2") == "models--gpt2"
    assert repo_folder_name("o/d", "dataset") == "datasets--o--d"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"' + "a" * 40 + '"', "a" * 40),
        ('W/"' + "b" * 64 + '"', "b" * 64),
        ('"../../x"', None),
        ('"' + "A" * 40 + '"', None),
        ('"abc"', None),
        (None, None),
    ],
)
def test_normalize_etag_accepts_only_lowercase_hex_ids(
    raw: str | None, expected: str | None
) -> None:
    assert normalize_etag(raw) == expected


def test_origin_fills_default_ports() -> None:
    assert origin_of("https://H.example/x") == origin_of("https://h.example:443/y")
    assert origin_of("http://h:80") != origin_of("https://h")
    assert origin_of("http://127.0.0.1:1") != origin_of("http://127.0.0.1:2")


def test_loopback_hosts_are_recognised() -> None:
    assert (
        is_loopback_host("127.0.0.1") and is_loopback_host("localhost") and is_loopback_host("::1")
    )
    assert not is_loopback_host("10.0.0.1") and not is_loopback_host("hub.example")


def test_redact_url_drops_query_and_userinfo() -> None:
    assert redact_url("https://u:p@cdn.example/a/b?sig=SECRET#f") == "https://cdn.example/a/b"


def test_error_tree_matches_the_protocol() -> None:
    assert issubclass(errors.HubError, OSError)
    assert issubclass(errors.GatedRepoError, errors.RepositoryNotFoundError)
    assert issubclass(errors.LocalEntryNotFoundError, errors.EntryNotFoundError)
    assert issubclass(errors.LocalEntryNotFoundError, FileNotFoundError)
    assert issubclass(errors.RemoteEntryNotFoundError, errors.EntryNotFoundError)
    assert issubclass(errors.OfflineModeIsEnabled, ConnectionError)
    assert issubclass(errors.UnsafeInputError, ValueError)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.HubError)


def test_error_pickles_with_its_fields() -> None:
    error = errors.GatedRepoError("gated", repo_id="o/r", revision="main", status=401)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is errors.GatedRepoError
    assert (str(clone), clone.repo_id, clone.status) == ("gated", "o/r", 401)


def test_credential_repr_hides_the_token(clean) -> None:
    cred = Credential("ba_alice_5ecret_9f8e7d6c5b4a", "argument")
    clean(cred, [cred], {"c": cred})
    assert "argument" in repr(cred)
    with pytest.raises(TypeError):
        pickle.dumps(cred)


def test_token_precedence_argument_env_file(monkeypatch: pytest.MonkeyPatch, hub_env) -> None:
    assert get_credential() is None
    hub_env.mkdir(parents=True)
    (hub_env / "token").write_text("from_file\n")
    assert get_credential().source == "token file"
    monkeypatch.setenv("BA_ACCESS_TOKEN", "  from_env  ")
    assert get_credential().source == "BA_ACCESS_TOKEN"
    assert get_credential().authorization() == "Bearer from_env"
    assert get_credential("arg").source == "argument"
    assert get_credential(False) is None
    monkeypatch.setenv("BA_ACCESS_TOKEN", "   ")  # empty means unset
    assert get_credential("").source == "token file"


def test_backoff_doubles_and_is_capped() -> None:
    settings = HubSettings()
    assert [settings.backoff(i) for i in range(6)] == [1, 2, 4, 8, 8, 8]


@pytest.mark.parametrize(
    "value",
    ["a" * 40 + "\n", "org/name\n"],
)
def test_a_final_newline_never_passes_a_name_check(value: str) -> None:
    assert not is_commit_hash(value)
    with pytest.raises(errors.UnsafeInputError):
        validate_repo_id(value)
    with pytest.raises(errors.UnsafeInputError):
        validate_revision(value)


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example:1\\@hub.example/",
        "http://user:pw@hub.example/",
        "http://hub.example/a b",
        "http://hub.example/\r\nX: y",
        "file:///etc/passwd",
        "http:/no-host",
        "http://[::1",
    ],
)
def test_check_url_refuses_what_parsers_could_read_apart(url: str) -> None:
    with pytest.raises(errors.UnsafeInputError) as info:
        check_url(url, "The URL")
    assert "pw" not in str(info.value)


def test_check_url_gives_the_origin_the_transport_connects_to() -> None:
    assert check_url("https://Hub.Example/x", "u") == ("https", "hub.example", 443)
    assert check_url("http://[::1]:8080/x", "u") == ("http", "::1", 8080)
