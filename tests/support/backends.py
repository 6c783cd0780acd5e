"""The loopback backends of the tests as module-scoped pytest fixtures.

A test module takes one as its ``backend`` fixture::

    backend = record_backend()

Each yields the running backend; ``backend.maps()`` gives the ``HOST=ADDR:PORT`` entries for
``auditor run --map`` where the backend has them.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent


def record_backend() -> Any:
    """The fake AI-chat backend and trackers of ``fixtures/record.py``, in a thread."""

    @pytest.fixture(scope="module", name="backend")
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from fixtures.record import BackendThread

        with BackendThread(tmp_path_factory.mktemp("backend")) as b:
            yield b

    return fixture


def load_backend() -> Any:
    """The load backend of ``tests/loadgen.py`` (TLS, cleartext and HTTP/2), in its own process."""

    @pytest.fixture(scope="module", name="backend")
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
        from loadgen import Backend

        with Backend(tmp_path_factory.mktemp("backend")) as b:
            yield b

    return fixture


def tls_backend(hosts: list[str], tools: tuple[str, ...] = ()) -> Any:
    """The hypercorn backend of ``tests/tls_backend.py`` (HTTP/1.1, HTTP/2, HTTP/3) with a
    certificate for ``hosts``; ``tools`` are system tools the module needs (the module skips, or
    fails in CI, when one is missing)."""

    @pytest.fixture(scope="module", name="backend")
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
        from conftest import need

        for tool in tools:
            need(shutil.which(tool) is not None, f"{tool} is not installed")
        from tls_backend import TlsBackend

        with TlsBackend(tmp_path_factory.mktemp("tls-backend"), hosts) as b:
            yield b

    return fixture
