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


# For screenshot tests: every piece of text under a selector with its rendered height, measured
# from the browser's layout boxes (conventions: no text under 11 px). Call with page.evaluate.
TEXT_HEIGHTS = """(sel) => {
  const root = document.querySelector(sel);
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) if (r.width > 0) out.push([n.textContent.trim().slice(0, 40), r.height]);
  }
  return out;
}"""


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


@pytest.fixture
def session_pcap(tmp_path: Path) -> Path:
    """A network capture of a phone's chat session (``support.packets.session_capture``), for the
    pcap audit tests and the report-document tests."""
    from support.packets import session_capture  # scapy and aioquic only for the tests that use it

    return session_capture(tmp_path / "session.pcap")
