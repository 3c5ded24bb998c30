"""Fixtures of the SDK-conformance, seed-guide and property tests.

The helpers themselves live in ``sdk_oracle.py`` (importable from the tests, since
pytest puts this directory on ``sys.path``); these fixtures only hand them out.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import sdk_oracle


@pytest.fixture(scope="session")
def seed_path() -> Path:
    """The user guide whose snippets must run with lbfast (``$LBFAST_SEED`` overrides).

    In CI the shared directory sits beside the checkout: ``<checkout>/../shared``. A
    bare clone has no guide: its tests skip, and ``test_guide_kinds.py`` covers the same
    predictions, ontology and NDJSON payloads without it.
    """
    env = os.environ.get("LBFAST_SEED")
    path = (
        Path(env)
        if env
        else Path(__file__).parents[1].parent / "shared/seed/upload-image-predictions.md"
    )
    if not path.is_file():
        pytest.skip(f"seed guide not found at {path}; set LBFAST_SEED to its path")
    return path


@pytest.fixture(scope="session")
def make_png():
    """``make_png(uint8 array, mode=None) -> bytes``: gray, RGB or RGBA PNG."""
    return sdk_oracle.make_png


@pytest.fixture(scope="session")
def palette_png():
    """``palette_png(indices, [(r, g, b), ...]) -> bytes``: an 8-bit palette PNG."""
    return sdk_oracle.palette_png


@pytest.fixture(scope="session")
def composite_rgb() -> np.ndarray:
    """A 6x8 RGB composite mask: three instances, one colour each, on black."""
    arr = np.zeros((6, 8, 3), np.uint8)
    arr[0:2, 0:3] = (255, 0, 0)
    arr[2:6, 5:8] = (0, 255, 0)
    arr[4, 0] = (0, 0, 255)
    arr[5, 1] = (255, 255, 255)
    return arr
