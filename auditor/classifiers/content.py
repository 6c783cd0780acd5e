"""Uploaded files, and conversation ids in the request's own URL path.

* ``user_file``: multipart file parts, and request bodies of a media or document type (an image
  PUT to an upload URL). Base64 media and ``data:`` URIs inside values are found by
  :mod:`.patterns`.
* ``conversation_id``: request paths of AI chat web clients that name a conversation
  (``/backend-api/conversation/<id>``, ``/api/chat/<id>/completion/stream``), from the lexicons.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from auditor.classifiers import Context, lexicons
from auditor.classifiers.validators import conversation_id
from auditor.models import Finding

_MEDIA = (
    "image/",
    "audio/",
    "video/",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats",
    "application/vnd.ms-",
    "application/zip",
)


@cache
def _path_templates() -> tuple[tuple[str, re.Pattern[str], int], ...]:
    return tuple((host, *lexicons.path_template(template)) for host, template in lexicons.conversation_paths())


def detect(ctx: Context) -> Iterator[Finding]:
    for i in ctx.others:
        f = ctx.sent[i]
        if f.kind == "file":
            yield Finding("user_file", f.part, f.path, f.value or "(unnamed file)", "user_file.multipart", 0.95)
        elif f.kind == "binary" and f.part == "request.body" and (f.content_type or "").startswith(_MEDIA):
            yield Finding("user_file", f.part, f.path, f.value, "user_file.body", 0.85)
    ex = ctx.exchange
    path = ex.path.partition("?")[0]
    for host, rx, seg in _path_templates():
        if not lexicons.host_matches(ex.host, (host,)):
            continue
        m = rx.match(path)
        if m and conversation_id(m.group(1)):
            yield Finding("conversation_id", "request.url", f"path[{seg}]", m.group(1), "conversation_id.url_path", 0.9)
            return
