"""The Markdown report: a short summary fit for a CI step summary or a pull-request comment."""

from __future__ import annotations

import io
import re
from typing import Any, TextIO

from auditor.renderers import view

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def md_escape(value: Any) -> str:
    """Escape captured text for Markdown tables: no markup, no HTML, no line breaks."""
    s = str(value if value is not None else "")
    s = s.replace("\r", " ").replace("\n", " ")
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", s)


def md_code(value: Any) -> str:
    """Captured text as inline code (escapes are not processed inside code, so no backticks)."""
    s = str(value if value is not None else "").replace("\r", " ").replace("\n", " ").replace("|", "¦")
    s = s.replace("`", "'")
    return f"`{s}`" if s else ""


def write_markdown(doc: dict[str, Any], out: TextIO) -> None:
    """Write the Markdown report of ``doc`` to ``out``, piece by piece as the template makes it."""
    env = view.environment()
    env.filters["md"] = md_escape
    env.filters["mdcode"] = md_code
    template = env.get_template("report.md.j2")
    for piece in template.generate(v=view.build(doc), doc=doc):
        out.write(piece)


def render_markdown(doc: dict[str, Any]) -> str:
    out = io.StringIO()
    write_markdown(doc, out)
    return out.getvalue()
