"""Keystroke dynamics: typing rhythm (key intervals, hold and flight times, typing speed).

Any numeric value under a keystroke-named key counts, however deep (a list of intervals, a list
of key events with times); the values under one such key are reported as one finding at that
key's path, with the numbers joined.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.classifiers import Context, lexicons
from auditor.models import Finding

_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_MAX_VALUES = 32


def _prefix(path: str, name: str) -> str:
    """The part of ``path`` up to and including the first component normalized to ``name``."""
    for m in lexicons._COMPONENT.finditer(path):
        quoted, index, bracket, plain = m.groups()
        raw = plain if plain is not None else bracket if bracket is not None else quoted
        if index is None and raw is not None and lexicons.normalize_key(raw) == name:
            return path[: m.end()]
    return path


_PARTS = frozenset({"request.body", "request.query", "websocket.client"})


def interested(part: str, path: str, parent: str, key: str) -> bool:
    names = lexicons.names("keystroke_keys")
    return part in _PARTS and any(c in names for c in lexicons.components(path))


def detect(ctx: Context) -> Iterator[Finding]:
    names = lexicons.names("keystroke_keys")
    groups: dict[tuple[str, str], list[str]] = {}
    for f, _key in ctx.select("activity"):
        if f.kind != "value":
            continue
        comps = lexicons.components(f.path)
        hit = next((c for c in comps if c in names), None)
        if hit is None or not _NUMBER.match(f.value):
            continue
        groups.setdefault((f.part, _prefix(f.path, hit)), []).append(f.value)
    for (part, path), values in groups.items():
        value = ",".join(values[:_MAX_VALUES]) + (",..." if len(values) > _MAX_VALUES else "")
        yield Finding("keystroke_dynamics", part, path, value, "keystroke_dynamics.key", 0.85)
