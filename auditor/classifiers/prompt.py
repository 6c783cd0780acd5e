"""Prompts: text a person wrote to an AI assistant.

Two ways in: the request formats of AI chat APIs (OpenAI, Anthropic, Gemini, DeepSeek, Mistral,
Perplexity, Copilot...), which say where the user's text sits and which role wrote it, and key
names that carry a prompt elsewhere (``prompt_text`` in an analytics event).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import lexicons
from ..models import Finding
from . import Context

_ID_LIKE = re.compile(r"^[0-9a-fA-F-]{8,}$|^[A-Za-z0-9_-]{20,}$")


def is_free_text(value: str) -> bool:
    """Looks like words someone typed, not an id, a number or a token."""
    v = value.strip()
    if len(v) < 2 or not any(c.isalpha() for c in v):
        return False
    if " " not in v and _ID_LIKE.match(v):
        return False
    return True


def detect(ctx: Context) -> Iterator[Finding]:
    formats = lexicons.prompt_formats()
    keys = lexicons.names("prompt_keys")
    for f in ctx.sent:
        if f.kind != "value" or f.part not in ("request.body", "websocket.client", "request.query"):
            continue
        shape, indices = lexicons.shape(f.path)
        matched = False
        for fmt in formats.get(shape, ()):
            if fmt.part is not None and fmt.part != f.part:
                continue
            if fmt.part is None and f.part == "websocket.client":
                continue
            if fmt.role is not None:
                role = ctx.value(f.part, lexicons.fill(fmt.role, indices))
                if role is None or role not in fmt.roles:
                    continue
            if is_free_text(f.value):
                yield Finding("prompt", f.part, f.path, f.value, f"prompt.format.{fmt.id}", fmt.confidence)
            matched = True
            break
        if matched:
            continue
        if lexicons.normalize_key(lexicons.last_key(f.path)) in keys and is_free_text(f.value):
            yield Finding("prompt", f.part, f.path, f.value, "prompt.key_name", 0.7)
