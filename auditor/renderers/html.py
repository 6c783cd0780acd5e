"""The HTML report: one self-contained file, no scripts, no external resources.

The only active content is one inline style sheet, allowed by its SHA-256 hash in a
Content-Security-Policy that forbids everything else (scripts, images, fonts, connections,
frames, forms). Jinja autoescaping escapes every captured value.
"""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any, TextIO

from auditor.renderers import view


def content_security_policy(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
    return (
        "default-src 'none'; "
        f"style-src 'sha256-{digest}'; "
        "img-src 'none'; font-src 'none'; connect-src 'none'; media-src 'none'; "
        "object-src 'none'; frame-src 'none'; script-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def write_html(doc: dict[str, Any], out: TextIO) -> None:
    """Write the HTML report of ``doc`` to ``out``, piece by piece as the template makes it."""
    css = view.asset("report.css")
    template = view.environment().get_template("report.html.j2")
    for piece in template.generate(v=view.build(doc), doc=doc, css=css, csp=content_security_policy(css)):
        out.write(piece)


def render_html(doc: dict[str, Any]) -> str:
    out = io.StringIO()
    write_html(doc, out)
    return out.getvalue()
