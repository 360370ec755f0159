"""The user's first program, verbatim apart from the endpoint, against a real gated loopback hub.

These need the engine (``batok.AutoTokenizer``) built and installed; they never skip.
"""

from __future__ import annotations

import os
from pathlib import Path

from batok.testing.hub import LoopbackHub

ALICE = "ba_alice_5ecret_9f8e7d6c5b4a"
BOB = "ba_bob_5ecret_1a2b3c4d5e6f"
EXPECTED = "[1, 15043, 3186, 29991]"

SEED = """\
from batok import AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained("meta-llama/Llama-2-7b-ba")   # a gated repo
print(tokenizer.encode("Hello world!"))                                 # [1, 15043, 3186, 29991]
"""

SEED_SETS_TOKEN = """\
from batok import AutoTokenizer
import os
os.environ["BA_ACCESS_TOKEN"] = {token!r}
tokenizer = AutoTokenizer.from_pretrained("meta-llama/Llama-2-7b-ba")   # a gated repo
print(tokenizer.encode("Hello world!"))                                 # [1, 15043, 3186, 29991]
"""


def _env(hub: LoopbackHub, token: str | None = None) -> dict[str, str]:
    env = {**os.environ, "BA_ENDPOINT": hub.endpoint}
    if token is not None:
        env["BA_ACCESS_TOKEN"] = token
    return env


def _no_token_in(result) -> None:
    for secret in (ALICE, BOB):
        assert secret not in result.stdout + result.stderr


def test_seed_program_with_env_token_prints_llama_ids(hub: LoopbackHub, run_python) -> None:
    result = run_python(SEED, _env(hub, ALICE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == EXPECTED
    assert [e.authenticated for e in hub.requests(origin="cdn")] == [False]
    _no_token_in(result)


def test_seed_program_with_token_set_in_program_prints_llama_ids(
    hub: LoopbackHub, run_python
) -> None:
    result = run_python(SEED_SETS_TOKEN.format(token=ALICE), _env(hub))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == EXPECTED
    _no_token_in(result)


def test_seed_program_without_token_raises_gated_error_naming_the_fix(
    hub: LoopbackHub, run_python
) -> None:
    result = run_python(SEED, _env(hub))
    assert result.returncode != 0
    assert "GatedRepoError" in result.stderr
    assert "BA_ACCESS_TOKEN" in result.stderr
    assert f"{hub.endpoint}/meta-llama/Llama-2-7b-ba" in result.stderr


def test_seed_program_with_token_lacking_access_says_so(hub: LoopbackHub, run_python) -> None:
    result = run_python(SEED, _env(hub, BOB))
    assert result.returncode != 0
    assert "GatedRepoError" in result.stderr
    assert "The token from BA_ACCESS_TOKEN has no access" in result.stderr
    _no_token_in(result)


def test_seed_program_offline_loads_from_cache_after_server_stops(
    hub: LoopbackHub, run_python, hub_env: Path
) -> None:
    online = run_python(SEED, _env(hub, ALICE))
    assert online.returncode == 0, online.stderr
    hub.stop()
    env = {**_env(hub, ALICE), "BA_HUB_OFFLINE": "1"}
    offline = run_python(SEED, env)
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.strip() == EXPECTED
    # And without BA_HUB_OFFLINE, an unreachable hub still falls back to the cache.
    env.pop("BA_HUB_OFFLINE")
    assert run_python(SEED, env).stdout.strip() == EXPECTED
