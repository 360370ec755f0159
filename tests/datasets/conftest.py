"""Fixtures for dataset jobs: documents from the shared corpus (see `_datasets`)."""

from __future__ import annotations

import pytest
from _datasets import corpus_docs


@pytest.fixture(scope="session")
def docs() -> tuple[str, ...]:
    return corpus_docs()
