"""Reading a capture the live proxy wrote, with mitmproxy's own reader: every flow, or a test
failure naming where the file is damaged."""

from __future__ import annotations

from pathlib import Path

import pytest
from mitmproxy import http
from mitmproxy.exceptions import FlowReadException
from mitmproxy.io import FlowReader


def read_flows(path: Path) -> list[http.HTTPFlow]:
    flows: list[http.HTTPFlow] = []
    with path.open("rb") as fh:
        try:
            for f in FlowReader(fh).stream():
                assert isinstance(f, http.HTTPFlow)
                flows.append(f)
        except FlowReadException as e:
            pytest.fail(f"{path} is damaged after {len(flows)} flows: {e}")
    return flows
