"""Shared fixtures. Real data lives in ../shared (beside the repo); tests skip without it."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "data").is_dir():
        pytest.skip(f"shared data not found at {SHARED} (needed for this test)")
    return SHARED


@pytest.fixture(scope="session")
def nlp():
    from lagebild.nlp import get_nlp

    return get_nlp()


@pytest.fixture(scope="session")
def example_text() -> str:
    return (REPO / "examples" / "beispiel_grenzkonflikt.txt").read_text(encoding="utf-8")
