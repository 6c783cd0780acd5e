"""Shared test helpers.

Tests that need something from outside the repo (the peer captures in ../shared, Chromium)
skip with a reason on a developer machine, and fail in CI (CI=true), where everything must run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PEER = ROOT.parent / "shared" / "data" / "peer-captures" / "mitmproxy-tests"
IN_CI = os.environ.get("CI", "").lower() == "true"


def need(condition: bool, reason: str) -> None:
    """Skip (or, in CI, fail) when ``condition`` is false."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def peer() -> Path:
    need(PEER.is_dir(), f"peer captures not found at {PEER}")
    return PEER
