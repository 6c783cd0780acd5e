"""The live audit's reports: ``report.<ext>`` written beside the capture, owner-only."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from auditor.live.capture import fallback_dir

log = logging.getLogger(__name__)


def write_reports(doc: dict[str, Any], directory: Path, formats: str) -> list[Path]:
    """Write ``report.<ext>`` files for ``formats`` into ``directory`` (owner-only)."""
    from auditor.renderers import FORMATS, render
    from auditor.renderers.output import parse_formats, write_private

    out = []
    for fmt in parse_formats(formats):
        path = directory / f"report{FORMATS[fmt]}"
        write_private(path, render(doc, fmt))
        out.append(path)
    return out


def write_reports_safely(doc: dict[str, Any], directory: Path, formats: str) -> tuple[list[Path], list[str]]:
    """Write every format of ``formats`` (each in full or not at all) into ``directory``, or into a
    fallback folder (:func:`auditor.live.capture.fallback_dir`) where that fails; the paths
    written and the errors (a report that cannot be rendered or written is logged and listed
    there)."""
    from auditor.io import write_private
    from auditor.renderers import FORMATS, render
    from auditor.renderers.output import parse_formats

    paths: list[Path] = []
    errors: list[str] = []
    fallback: Path | None = None
    for fmt in parse_formats(formats):
        name = f"report{FORMATS[fmt]}"
        try:
            text = render(doc, fmt)
        except Exception as e:
            log.exception("auditor: rendering %s failed", name)
            errors.append(f"{name}: rendering failed ({e})")
            continue
        try:
            paths.append(write_private(directory / name, text))
            continue
        except OSError as e:
            first = e
        try:
            fallback = fallback or fallback_dir(directory)
            paths.append(write_private(fallback / name, text))
            log.warning(
                "auditor: cannot write %s (%s); wrote %s instead",
                directory / name, first.strerror or first, fallback / name,
            )
        except OSError as e:
            errors.append(f"{directory / name}: {first.strerror or first}; fallback: {e.strerror or e}")
            log.error("auditor: the report %s could not be written (%s)", directory / name, first.strerror or first)
    return paths, errors
