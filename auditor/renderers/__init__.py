"""Renderers: turn the report document into JSON, HTML or Markdown text."""

from __future__ import annotations

from typing import Any, TextIO

FORMATS = {"json": ".json", "html": ".html", "md": ".md"}


def render(doc: dict[str, Any], fmt: str) -> str:
    """Render ``doc`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        from auditor.renderers.json_report import render_json

        return render_json(doc)
    if fmt == "html":
        from auditor.renderers.html import render_html

        return render_html(doc)
    if fmt == "md":
        from auditor.renderers.markdown import render_markdown

        return render_markdown(doc)
    raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


def render_to(doc: dict[str, Any], fmt: str, out: TextIO) -> None:
    """Write ``doc`` in ``fmt`` to ``out`` (any text file object), as it is made: the JSON
    report finding by finding, the HTML and Markdown piece by piece from a bounded view."""
    if fmt == "json":
        from auditor.renderers.json_report import write_json

        write_json(doc, out)
    elif fmt == "html":
        from auditor.renderers.html import write_html

        write_html(doc, out)
    elif fmt == "md":
        from auditor.renderers.markdown import write_markdown

        write_markdown(doc, out)
    else:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
