"""Where reports go. They are written through :mod:`auditor.io.outputs` (atomic, owner-only);
its names are re-exported here for the modules that import them from ``auditor.renderers.output``."""

from __future__ import annotations

import os
from pathlib import Path

from auditor.io.outputs import OutputError, Outputs, open_private, private_dir, write_private
from auditor.renderers import FORMATS

__all__ = ["OutputError", "Outputs", "open_private", "output_paths", "parse_formats", "private_dir", "write_private"]


def parse_formats(value: str) -> list[str]:
    """``"html, json"`` -> ``["html", "json"]``; ValueError for an unknown or empty list."""
    fmts: list[str] = []
    for part in value.split(","):
        p = part.strip().lower()
        if p == "markdown":
            p = "md"
        if not p:
            continue
        if p not in FORMATS:
            raise ValueError(f"unknown report format {part.strip()!r} (choose from html, json, md)")
        if p not in fmts:
            fmts.append(p)
    if not fmts:
        raise ValueError("no report format given (choose from html, json, md)")
    return fmts


def output_paths(output: str, fmts: list[str]) -> dict[str, Path | None]:
    """Where each format goes: ``None`` means standard output.

    ``-o out/audit`` or ``-o out/audit.html`` gives ``out/audit.html``, ``out/audit.json``...;
    an existing directory gets ``report.<ext>`` files; ``-o -`` writes one format to stdout.
    """
    if output == "-":
        if len(fmts) != 1:
            raise ValueError("-o - writes to standard output and needs exactly one --format")
        return {fmts[0]: None}
    path = Path(output)
    if path.is_dir() or output.endswith(("/", os.sep)):
        stem = path / "report"
    elif path.suffix.lower() in FORMATS.values():
        stem = path.with_suffix("")
    else:
        stem = path
    for parent in (stem.parent, *stem.parent.parents):
        if parent.exists() and not parent.is_dir():
            raise ValueError(f"cannot write under {parent}: it is a file, not a folder (-o {output})")
    return {f: stem.parent / (stem.name + FORMATS[f]) for f in fmts}
