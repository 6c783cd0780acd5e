"""Key-name lexicons and AI chat request formats, loaded from ``data/lexicons.json``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_INDEX = re.compile(r"\[\d+\]")


def normalize_key(name: str) -> str:
    """Lower-case a key name and drop ``-``, ``_`` and ``.`` (``X-Api-Key`` -> ``xapikey``)."""
    return name.lower().replace("-", "").replace("_", "").replace(".", "")


def last_key(path: str) -> str:
    """The last named component of a field path (``a.b[2].c`` -> ``c``; ``a["x y"]`` -> ``x y``)."""
    p = _INDEX.sub("", path)
    if p.endswith('"]'):
        start = p.rfind('["')
        return p[start + 2 : -2] if start >= 0 else p
    return p.rsplit(".", 1)[-1]


def shape(path: str) -> tuple[str, list[int]]:
    """A path with its list indices blanked, and the indices: ``m[3].c[0]`` -> (``m[].c[]``, [3, 0])."""
    indices = [int(m.group()[1:-1]) for m in _INDEX.finditer(path)]
    return _INDEX.sub("[]", path), indices


def fill(template: str, indices: list[int]) -> str:
    """Put ``indices`` back into the ``[]`` slots of ``template``, in order."""
    out = []
    it = iter(indices)
    parts = template.split("[]")
    for i, piece in enumerate(parts):
        out.append(piece)
        if i < len(parts) - 1:
            out.append(f"[{next(it, 0)}]")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class PromptFormat:
    id: str
    path: str
    part: str | None
    role: str | None
    roles: frozenset[str]
    confidence: float


@cache
def _data() -> dict:
    with resources.files("auditor").joinpath("data/lexicons.json").open("rb") as fh:
        return json.load(fh)


@cache
def names(group: str) -> frozenset[str]:
    """The normalized key names of a lexicon group."""
    return frozenset(normalize_key(n) for n in _data()["groups"][group]["names"])


@cache
def prompt_formats() -> dict[str, tuple[PromptFormat, ...]]:
    """AI chat request formats, keyed by their path shape."""
    out: dict[str, list[PromptFormat]] = {}
    for f in _data()["prompt_formats"]:
        pf = PromptFormat(
            id=f["id"],
            path=f["path"],
            part=f.get("part"),
            role=f.get("role"),
            roles=frozenset(f.get("roles", ())),
            confidence=float(f.get("confidence", 0.95)),
        )
        out.setdefault(pf.path, []).append(pf)
    return {k: tuple(v) for k, v in out.items()}
