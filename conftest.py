"""Root of the test suite: where the real venue captures live, for every test folder.

The captures (copied from public sources, listed in tests/resources/hyperliquid/SOURCES.md) are
part of the repository, so a clone of the project alone runs its whole suite. Test modules that
parametrise over them at import time take the path from ``jarvis.testkit.VENUE_CAPTURES``;
everything else asks for the ``venue_capture`` fixture.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from jarvis.testkit import VENUE_CAPTURES


@pytest.fixture(scope="session")
def venue_captures_dir() -> Any:
    """The folder of real venue captures."""
    return VENUE_CAPTURES


@pytest.fixture(scope="session")
def venue_capture() -> Callable[[str], Any]:
    """Load one capture by file name (``info_meta.json``), decoded from JSON."""

    def load(name: str) -> Any:
        return json.loads((VENUE_CAPTURES / name).read_text())

    return load
