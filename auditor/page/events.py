"""The page events file (``page-events.jsonl``): one JSON object per line.

Lines come from two writers. The browser driver (``"source": "driver"``) says what it did:
``session`` (the URL, the canary and the prompts it typed), ``navigate``, ``type``, ``clear``,
``submit``, ``settled``. The instrumentation in every frame (``"source": "page"``) says which
fingerprinting or cookie API a script called: ``canvas_fingerprint``, ``webgl_fingerprint``,
``audio_fingerprint``, ``font_probe``, ``navigator_enumeration``, ``cookie_write``.

Each event has ``t`` (milliseconds since the epoch, the machine's clock, as are the capture's
timestamps), ``type``, and for page events ``script`` and ``frame`` (URLs) and ``detail``. The
file is written by a page that may be hostile: reading it checks every field and bounds sizes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError

PAGE_TYPES = frozenset(
    {
        "canvas_fingerprint",
        "webgl_fingerprint",
        "audio_fingerprint",
        "font_probe",
        "navigator_enumeration",
        "cookie_write",
    }
)
DRIVER_TYPES = frozenset({"session", "navigate", "type", "clear", "submit", "settled"})
FILE_NAME = "page-events.jsonl"
MAX_LINE = 16 << 10  # bytes of one event line kept
MAX_EVENTS = 100_000  # events read from one file
MAX_TEXT = 2048  # characters of a URL or text field kept


class PageEventsError(AuditorError, ValueError):
    """A page events file that cannot be read at all (missing, unreadable, not events)."""


@dataclass(frozen=True, slots=True)
class PageEvent:
    t: float
    type: str
    source: str  # "page" or "driver"
    script: str = ""
    frame: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _detail(value: Any) -> dict[str, Any]:
    """Keep scalar details and short lists of strings (the instrumentation writes nothing else)."""
    out: dict[str, Any] = {}
    if not isinstance(value, dict):
        return out
    for k, v in list(value.items())[:32]:
        if not isinstance(k, str):
            continue
        if isinstance(v, bool | int | float) or v is None:
            out[k[:64]] = v
        elif isinstance(v, str):
            out[k[:64]] = v[:MAX_TEXT]
        elif isinstance(v, list):
            out[k[:64]] = [x[:MAX_TEXT] for x in v[:64] if isinstance(x, str)]
    return out


def parse_event(obj: Any, source: str | None = None) -> PageEvent | None:
    """A checked event from a decoded JSON object, or None when it is not one."""
    if not isinstance(obj, dict):
        return None
    t, kind = obj.get("t"), obj.get("type")
    src = source or obj.get("source")
    if not isinstance(t, int | float) or isinstance(t, bool) or not isinstance(kind, str):
        return None
    if (src == "page" and kind not in PAGE_TYPES) or (src == "driver" and kind not in DRIVER_TYPES):
        return None
    if src not in ("page", "driver"):
        return None
    return PageEvent(float(t), kind, src, _text(obj.get("script")), _text(obj.get("frame")), _detail(obj.get("detail")))


def to_json(ev: PageEvent) -> str:
    obj: dict[str, Any] = {"t": ev.t, "type": ev.type, "source": ev.source}
    if ev.script:
        obj["script"] = ev.script
    if ev.frame:
        obj["frame"] = ev.frame
    if ev.detail:
        obj["detail"] = ev.detail
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@dataclass
class PageEvents:
    """The events of one browse session, and what reading them skipped."""

    events: list[PageEvent] = field(default_factory=list)
    path: str | None = None
    skipped: int = 0

    def session(self) -> dict[str, Any]:
        """The driver's ``session`` event detail (URL, canary, prompts), or an empty dict."""
        for ev in self.events:
            if ev.source == "driver" and ev.type == "session":
                return ev.detail
        return {}

    def site(self) -> str | None:
        """The registrable domain of the page the session opened: the first party of a browse
        session unless the user names one."""
        from urllib.parse import urlsplit

        from auditor.destinations.owners import registrable_domain

        try:
            host = urlsplit(str(self.session().get("url") or "")).hostname
        except ValueError:
            return None
        return registrable_domain(host) if host else None

    def of(self, *types: str) -> Iterator[PageEvent]:
        return (ev for ev in self.events if ev.type in types)

    @property
    def warnings(self) -> list[str]:
        if not self.skipped:
            return []
        name = Path(self.path).name if self.path else "page events"
        return [f"{name}: {self.skipped} line(s) that are not page events were skipped"]


def read_events(path: str | os.PathLike[str]) -> PageEvents:
    """Read a page events file; bad lines are counted, not fatal. Raises :class:`PageEventsError`."""
    name = os.fspath(path)
    out = PageEvents(path=name)
    try:
        fh = open(name, "rb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise PageEventsError(f"cannot read page events {name}: {e.strerror or e}") from None
    with fh:
        for raw in fh:
            if len(out.events) >= MAX_EVENTS:
                out.skipped += 1
                continue
            if len(raw) > MAX_LINE or not raw.strip():
                out.skipped += bool(raw.strip())
                continue
            try:
                ev = parse_event(json.loads(raw))
            except (ValueError, RecursionError):
                ev = None
            if ev is None:
                out.skipped += 1
            else:
                out.events.append(ev)
    if not out.events and out.skipped:
        raise PageEventsError(f"{name}: no page events in it (is it a page-events.jsonl written by auditor browse?)")
    out.events.sort(key=lambda e: e.t)
    return out


def beside(captures: Iterable[str | os.PathLike[str]]) -> Path | None:
    """The ``page-events.jsonl`` next to the first capture that has one."""
    for c in captures:
        candidate = Path(c).parent / FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def events_for(captures: Iterable[str | os.PathLike[str]], given: str | os.PathLike[str] | None) -> PageEvents | None:
    """The page events given explicitly, else those beside the first capture that has some, else
    None. Raises :class:`PageEventsError`."""
    path = given if given is not None else beside(captures)
    return None if path is None else read_events(path)
