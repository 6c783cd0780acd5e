"""The audit of a live session: its engine, its report document, and the reports at the end."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from mitmproxy import command, ctx

from auditor.live.capture import CAPTURE_NAME, ignore_file_size_signal
from auditor.live.engine import Engine, ThreadEngine
from auditor.live.marks import MarkFlows
from auditor.live.messages import count_text, log_destination
from auditor.live.reports import write_reports_safely
from auditor.worker import Mark, ProcessEngine

log = logging.getLogger(__name__)

#: Called with a destination summary whenever a destination first appears or receives a new
#: category of personal data (from the engine's thread).
Update = Callable[[dict[str, Any]], None]


class AuditSession:
    """The mitmproxy addon of ``audit_dir``, ``audit_formats``, ``audit_reveal``,
    ``audit_first_party`` and ``audit_process``, and of the ``audit.report`` command.

    It starts the engine once the options are known, passes its results on (destination
    updates to ``on_update``, marks to :class:`~auditor.live.marks.MarkFlows`), and at the end
    (mitmproxy's ``done``, or :meth:`finish`) closes it and writes the reports. Without
    ``on_update`` (``mitmdump -s``) it logs each new destination and a summary at the end."""

    def __init__(self, marks: MarkFlows, on_update: Update | None = None) -> None:
        self.standalone = on_update is None
        self.on_update = on_update if on_update is not None else log_destination
        self.marks = marks
        self.engine: Engine | None = None  # made once the options are known
        #: What the other parts lost, added to the capture's warnings in the report.
        self.warning_sources: list[Callable[[], list[str]]] = []
        self.finished = False
        self.report_paths: list[Path] = []
        self.report_errors: list[str] = []
        self._capture_path: Path | None = None
        self._finish_lock = threading.Lock()
        self._doc: dict[str, Any] | None = None
        self._formats = "html,json"
        self._in_process = False
        self._reveal = False
        self._first_party: tuple[str, ...] = ()

    # -- options -------------------------------------------------------------------------
    def load(self, loader: Any) -> None:
        loader.add_option("audit_dir", str | None, None, "Directory for capture.flows and the reports.")
        loader.add_option("audit_formats", str, "html,json", "Report formats written at the end: html, json, md.")
        loader.add_option("audit_reveal", bool, False, "Show personal values unmasked in the reports.")
        loader.add_option("audit_first_party", Sequence[str], [], "Hosts, domains or owners of the app itself.")
        loader.add_option(
            "audit_process", bool, True,
            "Write the capture and analyse in a separate process (false: in a thread of the proxy's process).",
        )

    def configure(self, updated: set[str]) -> None:
        self._apply_options()

    def running(self) -> None:
        # An addon added with master.addons.add() after start-up gets no configure call.
        self._apply_options()
        ignore_file_size_signal()
        from auditor.live.proxy import protect_ca_key

        with suppress(Exception):
            protect_ca_key(Path(ctx.options.confdir).expanduser())
        if self.standalone and not ctx.options.audit_dir:
            log.warning(
                "auditor: audit_dir is not set: flows are audited, but no capture and no report will be written "
                "(add --set audit_dir=DIR)"
            )

    def _apply_options(self) -> None:
        opts = ctx.options
        self._formats = opts.audit_formats
        reveal, first_party = bool(opts.audit_reveal), tuple(opts.audit_first_party)
        if self.engine is None:
            self._reveal, self._first_party, self._in_process = reveal, first_party, not opts.audit_process
            if opts.audit_dir:
                self._capture_path = Path(opts.audit_dir).expanduser() / CAPTURE_NAME
            self._start_engine()
        elif (reveal, first_party) != (self._reveal, self._first_party):
            self._reveal, self._first_party = reveal, first_party
            self.engine.configure(reveal, first_party)

    # -- the engine ----------------------------------------------------------------------
    def ensure_engine(self) -> Engine:
        """The engine (started with the options known so far if it is not yet)."""
        return self.engine or self._start_engine()

    def _start_engine(self) -> Engine:
        path = str(self._capture_path) if self._capture_path else None
        engine: Engine
        # (a frozen mitmproxy build cannot run ``python -m auditor.worker``)
        if not self._in_process and not getattr(sys, "frozen", False):
            try:
                engine = ProcessEngine(path, self._results, self._reveal, self._first_party)
                self.engine = engine
                return engine
            except OSError as e:
                log.warning("auditor: cannot start the analysis process (%s); analysing in the proxy's process", e)
        engine = ThreadEngine(path, self._results, self._reveal, self._first_party)
        self.engine = engine
        return engine

    def _results(self, marks: list[Mark], updates: list[dict[str, Any]]) -> None:
        """The engine's results (from its thread)."""
        for summary in updates:
            try:
                self.on_update(summary)
            except Exception:  # a failing callback must not stop the results
                log.debug("auditor: update callback failed", exc_info=True)
        self.marks.receive(marks)

    # -- the document and the reports ----------------------------------------------------
    @command.command("audit.report")
    def audit_report(self) -> None:
        """Write the reports of the audit so far beside the capture (audit_dir), now."""
        if self._capture_path is None:
            log.warning("auditor: audit_dir is not set: there is nowhere to write the reports (set audit_dir=DIR)")
            return
        if self._doc is not None:
            doc = self._doc
        else:
            self.drain()
            doc = self._complete(self.ensure_engine().document())
        capture = self.capture_path or self._capture_path
        paths, errors = write_reports_safely(doc, capture.parent, self._formats)
        for p in paths:
            log.info("auditor: wrote %s", p)
        for e in errors:
            log.warning("auditor: report not written: %s", e)

    def drain(self) -> None:
        """Wait until every submitted flow is written and analysed (and marked)."""
        if self.engine is not None and not self.finished:
            self.engine.drain()
            self.marks.settle()

    @property
    def capture_path(self) -> Path | None:
        """Where the capture is (elsewhere than ``audit_dir`` if that folder vanished)."""
        if self._doc is not None and self._capture_path is not None and self._doc.get("captures"):
            return Path(self._doc["captures"][0]["path"])
        return self._capture_path

    def warnings(self) -> list[str]:
        """What the proxy's side lost (the engine reports the rest in the document)."""
        return [warning for source in self.warning_sources for warning in source()]

    def document(self) -> dict[str, Any]:
        """The report document so far (all of it after :meth:`finish`)."""
        if self._doc is not None:
            return self._doc
        return self._complete(self.ensure_engine().document())

    def _complete(self, doc: dict[str, Any]) -> dict[str, Any]:
        if doc.get("captures"):
            doc["captures"][0]["warnings"].extend(self.warnings())
        return doc

    def finish(self) -> dict[str, Any]:
        """Drain, close the capture, write the reports (if ``audit_dir``); return the document.

        Reports that cannot be written where the capture is go to a fallback folder
        (:func:`auditor.live.capture.fallback_dir`); ``report_paths`` and ``report_errors`` say
        what happened."""
        # mitmproxy's ``done`` (in the proxy's thread) and the command that embeds the proxy
        # may both call this: the second waits for the first and gets the same document.
        with self._finish_lock:
            if self._doc is not None:
                return self._doc
            engine = self.ensure_engine()
            self.finished = True
            doc = self._complete(engine.close())
            self.marks.flush()
            self._doc = doc
            capture = self.capture_path  # (where the capture ended up: the reports go beside it)
            if capture is not None:
                paths, errors = write_reports_safely(doc, capture.parent, self._formats)
                self.report_paths.extend(paths)
                self.report_errors.extend(errors)
            return doc

    def done(self) -> None:
        try:
            doc = self.finish()
        except Exception:
            log.exception("auditor: writing the reports failed")
            return
        if self.standalone:
            s = doc["summary"]
            log.info(
                "auditor: %s, %s (%d third-party), %s",
                count_text(s["exchanges"], "request"), count_text(s["destinations"], "destination"),
                s["third_party_destinations"], count_text(s["findings"], "finding"),
            )
            for p in (self.capture_path, *self.report_paths):
                if p is not None:
                    log.info("auditor: wrote %s", p)
            for capture in doc.get("captures", ()):
                for warning in capture.get("warnings", ()):
                    log.warning("auditor: %s", warning)
