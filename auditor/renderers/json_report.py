"""The JSON report: the document itself, following ``schema/audit-v1.schema.json``.

Written as ``json.dumps(doc, indent=2, ensure_ascii=False)`` would write it, with two
differences that keep the values identical: a spooled list (the findings, the violations of
``auditor check``; see :class:`auditor.audit.spool.RecordSpool`) is written one record at a time,
never held whole in memory; and characters that can fool a terminal or an editor (DEL, C1 controls, line and
paragraph separators, bidirectional overrides) and lone surrogates are written as ``\\uXXXX``
escapes.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

# JSON escapes C0 controls itself; these are the others worth escaping (and lone surrogates,
# which UTF-8 cannot encode).
_UNSAFE = re.compile("[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# A captured value cannot guess it (it would be found instead of the list it stands for).
_SENTINEL = "\x00auditor-spool-" + secrets.token_hex(16) + "-{}\x00"


def _safe(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _swap_spools(node: Any, spools: list[Iterable[Any]]) -> Any:
    """``node`` with every spooled list (a non-list sequence of records) replaced by a sentinel."""
    if type(node) in _PLAIN:  # (most nodes: no abstract-class check for them)
        return node
    if isinstance(node, dict):
        return {k: _swap_spools(v, spools) for k, v in node.items()}
    if isinstance(node, list):
        return [_swap_spools(v, spools) for v in node]
    if isinstance(node, Sequence) and not isinstance(node, str | bytes | tuple):
        spools.append(node)
        return _SENTINEL.format(len(spools) - 1)
    return node


def write_json(doc: dict[str, Any], out: TextIO) -> None:
    """Write the JSON report of ``doc`` to ``out``, streaming its spooled lists record by record
    (the findings, and the violations of ``auditor check``)."""
    spools: list[Iterable[Any]] = []
    swapped = _swap_spools(doc, spools)
    text = _safe(json.dumps(swapped, indent=2, ensure_ascii=False))
    if not spools:
        out.write(text + "\n")
        return
    pos = 0
    for i, items in enumerate(spools):
        marker = json.dumps(_SENTINEL.format(i))
        at = text.find(marker, pos)
        if at < 0:  # cannot happen: each sentinel is written once, as it was given
            raise ValueError("spooled list not found in the report document")
        out.write(text[pos:at])
        prefix = text[text.rfind("\n", 0, at) + 1 : at]  # '    "findings": '
        indent = prefix[: len(prefix) - len(prefix.lstrip(" "))]
        inner = indent + "  "
        first = True
        for item in items:
            body = _safe(json.dumps(item, indent=2, ensure_ascii=False)).replace("\n", "\n" + inner)
            out.write(("[\n" if first else ",\n") + inner + body)
            first = False
        out.write("[]" if first else "\n" + indent + "]")
        pos = at + len(marker)
    out.write(text[pos:])
    out.write("\n")


def render_json(doc: dict[str, Any]) -> str:
    out = io.StringIO()
    write_json(doc, out)
    return out.getvalue()
