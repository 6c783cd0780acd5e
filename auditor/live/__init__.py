"""The live audit: mitmproxy addons that audit traffic as it passes.

Each finished flow is snapshotted on the proxy's event loop (its state, as ``flow.get_state()``
gives it, see :class:`Snapshots`) and handed to the analysis engine (:class:`Engine`), which by
default runs in a separate process (:mod:`auditor.worker`): it writes the flow to the capture
file and audits it with the same code that reads saved captures
(:func:`auditor.io.flowfile.state_to_exchange` and :class:`auditor.audit.pipeline.Auditor`), so the same
traffic gives the same findings live and offline. The proxy's process, which serves the app's
traffic, keeps its core and its interpreter lock to itself. The app's traffic never waits for
the analysis (unless the analysis falls far behind, see ``LiveAuditor.max_backlog``), and an
analysis error is logged and leaves the flow untouched.

One addon per concern, each declaring its own options (``--set name=value`` in mitmdump/mitmweb),
composed by :func:`default_addons`; :class:`LiveAuditor` is all of them as one addon
(``addons = [LiveAuditor()]`` in a ``mitmdump -s`` script, see ``addons/privacy_audit.py``):

- :class:`AuditSession` (:mod:`.session`): the engine, the report document, the reports.

  - ``audit_dir``: where ``capture.flows``, ``report.html`` and ``report.json`` go (none: no files)
  - ``audit_formats``: report formats written at the end (``html,json``)
  - ``audit_reveal``: show personal values unmasked in the reports
  - ``audit_first_party``: hosts, registrable domains or owners of the app itself
  - ``audit_process``: analyse in a separate process (default); false: in a thread of the proxy

- :class:`HostMap` (:mod:`.mapping`):

  - ``audit_map``: ``HOST=ADDR:PORT``: connect to ADDR:PORT for HOST, keep HOST in the capture
  - ``audit_block_unmapped``: refuse connections to hosts that ``audit_map`` does not name

- :class:`StreamSSE` (:mod:`.sse`): ``audit_stream_sse``: stream server-sent events to the client
  (bodies are still recorded)
- :class:`MarkFlows` (:mod:`.marks`): ``audit_mark``: mark flows with findings and comment them
  with categories and country (where flows are kept: mitmweb and mitmproxy's console)
- :class:`Recorder` (:mod:`.record`), no options: hands finished flows, connections the client
  refused, and failed upstream handshakes to the engine, and slows the proxy down when the
  engine falls far behind.

Beside them: the capture file (:mod:`.capture`, :mod:`.tnetstring`), flow snapshots
(:mod:`.snapshot`), the engine's interface and its in-process form (:mod:`.engine`), the reports
(:mod:`.reports`) and the lines said about destinations (:mod:`.messages`).
"""

import os as os  # (the fault tests fill the disk by patching ``auditor.live.os.write``)

from auditor.live.addon import LiveAddons, LiveAuditor, default_addons
from auditor.live.capture import CAPTURE_NAME, CaptureFile, fallback_dir, ignore_file_size_signal
from auditor.live.engine import Engine, ThreadEngine
from auditor.live.mapping import HostMap, parse_map
from auditor.live.marks import MarkFlows
from auditor.live.messages import destination_line, owner_text, upstream_hint
from auditor.live.record import Recorder, opaque_flow_state
from auditor.live.reports import write_reports
from auditor.live.session import AuditSession, Update
from auditor.live.snapshot import Snapshots
from auditor.live.sse import StreamSSE
from auditor.live.tnetstring import tnetstring_dumps

__all__ = [
    "CAPTURE_NAME",
    "AuditSession",
    "CaptureFile",
    "Engine",
    "HostMap",
    "LiveAddons",
    "LiveAuditor",
    "MarkFlows",
    "Recorder",
    "Snapshots",
    "StreamSSE",
    "ThreadEngine",
    "Update",
    "default_addons",
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
