"""Where reports go, and how they are written (owner-only: they hold evidence about people)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from .renderers import FORMATS


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
    return {f: stem.parent / (stem.name + FORMATS[f]) for f in fmts}


@contextmanager
def open_private(path: Path) -> Iterator[TextIO]:
    """Open ``path`` to write UTF-8 text into, readable by its owner only (for streamed reports)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        yield fh


def write_private(path: Path, text: str | bytes) -> None:
    """Write a file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    data = text.encode("utf-8") if isinstance(text, str) else text
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)
