"""The HTML report: one self-contained file, no scripts, no external resources.

The only active content is one inline style sheet, allowed by its SHA-256 hash in a
Content-Security-Policy that forbids everything else (scripts, images, fonts, connections,
frames, forms). Jinja autoescaping escapes every captured value.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from . import view


def content_security_policy(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
    return (
        "default-src 'none'; "
        f"style-src 'sha256-{digest}'; "
        "img-src 'none'; font-src 'none'; connect-src 'none'; media-src 'none'; "
        "object-src 'none'; frame-src 'none'; script-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def render_html(doc: dict[str, Any]) -> str:
    css = view.asset("report.css")
    template = view.environment().get_template("report.html.j2")
    return template.render(v=view.build(doc), doc=doc, css=css, csp=content_security_policy(css))
