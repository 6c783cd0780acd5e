"""The live audit (being split into one module per concern; see :mod:`.session`)."""

import os as os  # (tests fill the disk by patching ``auditor.live.os.write``)

from .session import (
    CAPTURE_NAME,
    CaptureFile,
    LiveAuditor,
    Snapshots,
    ThreadEngine,
    destination_line,
    fallback_dir,
    ignore_file_size_signal,
    opaque_flow_state,
    owner_text,
    parse_map,
    tnetstring_dumps,
    upstream_hint,
    write_reports,
)

__all__ = [
    "CAPTURE_NAME",
    "CaptureFile",
    "LiveAuditor",
    "Snapshots",
    "ThreadEngine",
    "destination_line",
    "fallback_dir",
    "ignore_file_size_signal",
    "opaque_flow_state",
    "owner_text",
    "parse_map",
    "tnetstring_dumps",
    "upstream_hint",
    "write_reports",
]
