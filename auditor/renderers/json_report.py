"""The JSON report: the document itself, following ``schema/audit-v1.schema.json``.

Written as ``json.dumps(doc, indent=2, ensure_ascii=False)`` would write it, with two
differences that keep the values identical: a spooled findings list (see
:class:`auditor.spool.RecordSpool`) is written one finding at a time, never held whole in
memory; and characters that can fool a terminal or an editor (DEL, C1 controls, line and
paragraph separators, bidirectional overrides) and lone surrogates are written as ``\\uXXXX``
escapes.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any, TextIO

# JSON escapes C0 controls itself; these are the others worth escaping (and lone surrogates,
# which UTF-8 cannot encode).
_UNSAFE = re.compile("[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SENTINEL = "\x00auditor-findings\x00"


def _safe(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_json(doc: dict[str, Any], out: TextIO) -> None:
    """Write the JSON report of ``doc`` to ``out``, streaming its findings."""
    findings = doc.get("findings")
    if findings is None or isinstance(findings, list):
        out.write(_safe(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n")
        return
    marker = '"findings": ' + json.dumps(_SENTINEL)
    text = _safe(json.dumps({**doc, "findings": _SENTINEL}, indent=2, ensure_ascii=False))
    head, found, tail = text.partition(marker)
    if not found:  # cannot happen: the key is written as the marker says
        raise ValueError("findings not found in the report document")
    out.write(head)
    out.write('"findings": ')
    first = True
    for f in findings:
        item = _safe(json.dumps(f, indent=2, ensure_ascii=False)).replace("\n", "\n    ")
        out.write(("[\n    " if first else ",\n    ") + item)
        first = False
    out.write("[]" if first else "\n  ]")
    out.write(tail)
    out.write("\n")


def render_json(doc: dict[str, Any]) -> str:
    out = io.StringIO()
    write_json(doc, out)
    return out.getvalue()
