"""Add the ``page`` section to a report document: the same step offline and after a browse."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from auditor.io.capture import open_capture
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.models import Exchange
from auditor.page.detect import analyze
from auditor.page.events import PageEvents


def add_page_section(
    doc: dict[str, Any],
    captures: Sequence[str | os.PathLike[str]],
    events: PageEvents,
    reveal: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """Read the captures again with the page events and set ``doc["page"]``; returns it.

    The page's warnings are added to the first capture's warnings too, so every renderer shows
    them where it shows what was skipped."""

    def exchanges() -> Iterator[Exchange]:
        for i, path in enumerate(captures):
            yield from open_capture(os.fspath(path), capture=i, limits=limits).exchanges

    section = analyze(events, exchanges(), doc, reveal)
    doc["page"] = section
    if section["warnings"] and doc.get("captures"):
        doc["captures"][0].setdefault("warnings", []).extend(section["warnings"])
    return section
