"""Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright) as a module-scoped
``browser`` fixture::

    browser = chromium_browser()
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def chromium_browser() -> Any:
    """A fixture named ``browser``: one headless Chromium for the module's tests."""

    @pytest.fixture(scope="module", name="browser")
    def fixture() -> Iterator[Any]:
        from conftest import need

        need(CHROMIUM.exists(), "Debian's chromium is not installed (apt-get install chromium)")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            yield b
            b.close()

    return fixture
