"""The live audit: a mitmproxy addon that audits traffic as it passes.

Each finished flow is snapshotted on the proxy's event loop (``flow.get_state()``, cheap) and
handed to one worker thread, which writes it to the capture file and analyses it with the same
code that reads saved captures (:func:`auditor.flowfile.state_to_exchange` and
:class:`auditor.audit.Auditor`): the same traffic gives the same findings live and offline.
The app's traffic never waits for the analysis, and an analysis error is logged and leaves the
flow untouched.

Options (``--set name=value`` in mitmdump/mitmweb):

- ``audit_dir``: where ``capture.flows``, ``report.html`` and ``report.json`` go (none: no files)
- ``audit_formats``: report formats written at the end (``html,json``)
- ``audit_reveal``: show personal values unmasked in the reports
- ``audit_first_party``: hosts, registrable domains or owners of the app itself
- ``audit_map``: ``HOST=ADDR:PORT``: connect to ADDR:PORT for HOST, keep HOST in the capture
- ``audit_block_unmapped``: refuse connections to hosts that ``audit_map`` does not name
- ``audit_stream_sse``: stream server-sent events to the client (bodies are still recorded)
- ``audit_mark``: mark flows with findings and comment them with categories and country
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from mitmproxy import ctx, http
from mitmproxy.io import tnetstring

from .audit import AuditOptions, Auditor
from .flowfile import state_to_exchange
from .models import CaptureInfo, Finding

log = logging.getLogger(__name__)

CAPTURE_NAME = "capture.flows"
Update = Callable[[dict[str, Any]], None]


def parse_map(entries: Sequence[str]) -> dict[str, tuple[str, int]]:
    """``["api.openai.com=127.0.0.1:8443"]`` -> ``{"api.openai.com": ("127.0.0.1", 8443)}``."""
    out: dict[str, tuple[str, int]] = {}
    for entry in entries:
        host, sep, target = entry.partition("=")
        addr, colon, port = target.rpartition(":")
        if not sep or not host or not colon or not addr or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"invalid map {entry!r}: expected HOST=ADDR:PORT")
        out[host.strip().lower()] = (addr.strip("[]"), int(port))
    return out


class LiveAuditor:
    """The mitmproxy addon. ``on_update`` (optional) is called with a destination summary
    whenever a destination first appears or receives a new category of personal data."""

    def __init__(self, on_update: Update | None = None) -> None:
        self.on_update = on_update
        self.auditor = Auditor()
        self.maps: dict[str, tuple[str, int]] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditor")
        self._lock = threading.Lock()
        self._capture: BinaryIO | None = None
        self._capture_path: Path | None = None
        self._next_index = 0
        self._submitted: set[str] = set()
        self._pending: list[Future[None]] = []
        self._reported: dict[str, set[str]] = {}
        self._finished = False
        self._doc: dict[str, Any] | None = None
        self._formats = "html,json"
        self._mark_flows = True
        self._block_unmapped = False
        self.errors = 0

    # -- options -------------------------------------------------------------------------
    def load(self, loader: Any) -> None:
        loader.add_option("audit_dir", str | None, None, "Directory for capture.flows and the reports.")
        loader.add_option("audit_formats", str, "html,json", "Report formats written at the end: html, json, md.")
        loader.add_option("audit_reveal", bool, False, "Show personal values unmasked in the reports.")
        loader.add_option("audit_first_party", Sequence[str], [], "Hosts, domains or owners of the app itself.")
        loader.add_option("audit_map", Sequence[str], [], "HOST=ADDR:PORT: connect there for HOST, keep HOST in the capture.")
        loader.add_option(
            "audit_block_unmapped", bool, False, "Refuse connections to hosts not in audit_map (keeps tests on loopback)."
        )
        loader.add_option("audit_stream_sse", bool, True, "Stream server-sent events to the client while recording them.")
        loader.add_option("audit_mark", bool, True, "Mark flows with findings and comment them.")

    def configure(self, updated: set[str]) -> None:
        self._apply_options()

    def running(self) -> None:
        # An addon added with master.addons.add() after start-up gets no configure call.
        self._apply_options()

    def _apply_options(self) -> None:
        opts = ctx.options
        self._formats = opts.audit_formats
        self._mark_flows = opts.audit_mark
        self._block_unmapped = opts.audit_block_unmapped
        self.auditor.options = AuditOptions(reveal=opts.audit_reveal, first_party=tuple(opts.audit_first_party))
        try:
            self.maps = parse_map(opts.audit_map)
        except ValueError as e:
            from mitmproxy import exceptions

            raise exceptions.OptionsError(str(e)) from None
        if opts.audit_stream_sse and "store_streamed_bodies" in opts and not opts.store_streamed_bodies:
            opts.update(store_streamed_bodies=True)
        if opts.audit_dir and self._capture is None:
            d = Path(opts.audit_dir).expanduser()
            d.mkdir(parents=True, exist_ok=True)
            self._capture_path = d / CAPTURE_NAME
            fd = os.open(self._capture_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._capture = os.fdopen(fd, "wb")
        if not self.auditor.captures:
            path = str(self._capture_path) if self._capture_path else "live"
            self.auditor.captures.append(CaptureInfo(path=path, format="mitmproxy"))

    # -- traffic -------------------------------------------------------------------------
    def server_connect(self, data: Any) -> None:
        host = str(data.server.address[0]).lower() if data.server.address else ""
        target = self.maps.get(host)
        if target is not None:
            data.server.address = target
        elif self._block_unmapped:
            data.server.error = f"auditor: connection to {host or 'an unknown host'} refused (not in --map)"

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if (
            ctx.options.audit_stream_sse
            and flow.response is not None
            and "text/event-stream" in flow.response.headers.get("content-type", "")
        ):
            flow.response.stream = True

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None:
            self._submit(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        if flow.websocket is None:
            self._submit(flow)

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        self._submit(flow)

    def tls_failed_client(self, data: Any) -> None:
        """The client refused the proxy's certificate (pinning, or the CA is not trusted)."""
        sni = data.context.client.sni
        if not sni:
            return
        reason = str(data.conn.error or "TLS handshake with the client failed")
        self._executor.submit(self._opaque, sni, reason)

    def _opaque(self, host: str, reason: str) -> None:
        with self._lock:
            new = host not in self.auditor.resolver.by_host
            self.auditor.resolver.add_opaque(host, reason)
        if new:
            self._notify(host)

    def _submit(self, flow: http.HTTPFlow) -> None:
        if flow.id in self._submitted or self._finished:
            return
        self._submitted.add(flow.id)
        try:
            state = flow.get_state()
        except Exception:  # never break the app's traffic
            log.exception("auditor: cannot snapshot flow %s", flow.id)
            return
        index = self._next_index
        self._next_index += 1
        loop = asyncio.get_running_loop() if _in_loop() else None
        fut = self._executor.submit(self._analyse, state, index, flow, loop)
        self._pending.append(fut)
        if len(self._pending) > 1000:
            self._pending = [f for f in self._pending if not f.done()]

    def _analyse(self, state: dict[str, Any], index: int, flow: http.HTTPFlow, loop: asyncio.AbstractEventLoop | None) -> None:
        try:
            if self._capture is not None:
                tnetstring.dump(state, self._capture)
                self._capture.flush()
            ex = state_to_exchange(state, 0, index)
            if ex is None:
                return
            with self._lock:
                found = self.auditor.add_exchange(ex)
                self.auditor.captures[0].exchanges += 1
            host = ex.host
            cats = {f.category for f in found}
            reported = self._reported.get(host)
            if reported is None or cats - reported:
                self._reported.setdefault(host, set()).update(cats)
                self._notify(host)
            if found and self._mark_flows:
                if loop is not None:
                    loop.call_soon_threadsafe(self._mark, flow, found, host)
                else:
                    self._mark(flow, found, host)
        except Exception:
            self.errors += 1
            log.exception("auditor: analysis of flow %s failed; the flow is unaffected", state.get("id"))

    def _mark(self, flow: http.HTTPFlow, found: list[Finding], host: str) -> None:
        try:
            dest = self.auditor.resolver.by_host.get(host)
            country = dest.owner.country if dest and dest.owner and dest.owner.country else "??"
            cats = sorted({f.category for f in found})
            flow.marked = ":warning:" if {"prompt", "credential"} & set(cats) else ":large_orange_diamond:"
            flow.comment = f"auditor: {', '.join(cats)} -> {host} ({country})"
            from mitmproxy import hooks

            ctx.master.addons.trigger(hooks.UpdateHook([flow]))
        except Exception:
            log.debug("auditor: could not mark flow", exc_info=True)

    def _notify(self, host: str) -> None:
        if self.on_update is None:
            return
        with self._lock:
            d = self.auditor.resolver.by_host.get(host)
            if d is None:
                return
            summary = {
                "host": d.host,
                "owner": d.owner.name if d.owner else None,
                "country": d.owner.country if d.owner else None,
                "categories": sorted(d.data_categories),
                "exchanges": d.exchanges,
                "opaque": d.opaque,
            }
        try:
            self.on_update(summary)
        except Exception:
            log.debug("auditor: update callback failed", exc_info=True)

    # -- the end -------------------------------------------------------------------------
    def drain(self) -> None:
        """Wait until every submitted flow is written and analysed."""
        self._executor.submit(lambda: None).result()

    def document(self) -> dict[str, Any]:
        self.drain()
        with self._lock:
            return self.auditor.document()

    def finish(self) -> dict[str, Any]:
        """Drain, close the capture, write the reports (if ``audit_dir``); return the document."""
        if self._doc is not None:
            return self._doc
        doc = self.document()
        self._finished = True
        self._executor.shutdown(wait=True)
        if self._capture is not None:
            self._capture.close()
        if self._capture_path is not None:
            write_reports(doc, self._capture_path.parent, self._formats)
        self._doc = doc
        return doc

    def done(self) -> None:
        try:
            self.finish()
        except Exception:
            log.exception("auditor: writing the reports failed")


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def write_reports(doc: dict[str, Any], directory: Path, formats: str) -> list[Path]:
    """Write ``report.<ext>`` files for ``formats`` into ``directory`` (owner-only)."""
    from .output import parse_formats, write_private
    from .renderers import FORMATS, render

    out = []
    for fmt in parse_formats(formats):
        path = directory / f"report{FORMATS[fmt]}"
        write_private(path, render(doc, fmt))
        out.append(path)
    return out
