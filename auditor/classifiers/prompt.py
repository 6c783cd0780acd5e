"""Prompts: text a person wrote to an AI assistant.

Three ways in, tried in this order for each field:

1. the request formats of AI chat APIs and web clients (``prompt_formats`` in the lexicons:
   OpenAI chat and Responses, Anthropic, Gemini API and web, DeepSeek, ChatGPT web, Mistral,
   Perplexity, Copilot, Kimi, Qwen, Doubao, Ernie), which say where the user's text sits and
   which role wrote it;
2. message-like structures of unknown formats: a text member (``content``, ``text``,
   ``message``, ``parts[]``...) of an object whose ``role``, ``author.role``, ``sender`` or
   ``speaker`` is the user;
3. key names that carry a prompt elsewhere (``prompt_text`` in an analytics event).

System and assistant messages are not prompts: the person did not write them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.classifiers import Context, lexicons
from auditor.models import Finding

_ID_LIKE = re.compile(r"^[0-9a-fA-F-]{8,}$|^[A-Za-z0-9_-]{20,}$")
_PARTS = frozenset({"request.body", "websocket.client", "request.query"})
USER_ROLES = frozenset({"user", "human", "customer", "me"})
_ROLE_KEYS = ("role", "author.role", "sender", "speaker", "from", "author")
# Where the text sits inside a message object, with indices blanked.
_TEXT_SUFFIXES = frozenset(
    {
        ".content",
        ".text",
        ".message",
        ".query",
        ".content[].text",
        ".content.text",
        ".content.parts[]",
        ".parts[].text",
        ".parts[]",
        ".content[].content",
        ".message.content",
        ".message.text",
    }
)
_INDEX_END = re.compile(r"\[\d+\]")
_TEXT_KEYS = frozenset({"content", "text", "message", "query", "parts"})
_LIST_END = re.compile(r"\[\d+\]$")
# Instructions the app wrote, whatever role they carry (google-genai sends systemInstruction
# with role "user"; Anthropic's system blocks, OpenAI Responses' instructions, Cohere's preamble).
_SYSTEM_KEYS = frozenset({"system", "systeminstruction", "systemprompt", "systemmessage", "instructions", "preamble"})


def is_free_text(value: str) -> bool:
    """Looks like words someone typed, not an id, a number or a token."""
    v = value.strip()
    if len(v) < 2 or not any(c.isalpha() for c in v):
        return False
    if " " not in v and _ID_LIKE.match(v):
        return False
    return v.lower() not in ("true", "false", "null", "none", "undefined")


def _structure_role(ctx: Context, part: str, path: str) -> bool:
    """True when ``path`` is the text of a message object whose role is the user (the message
    may be the whole body: ``{"role": "user", "content": ...}``)."""
    splits = [m.end() for m in _INDEX_END.finditer(path)]
    # and every plain object on the way: {"sender": "user", "message": ...}, {"item": {"role": ...}}
    splits += [i for i, c in enumerate(path) if c == "." and i > 0]
    splits.append(0)  # the root object
    for end in sorted(set(splits), reverse=True):
        obj, rest = path[:end], path[end:]
        if end == 0:
            rest = "." + rest
        if lexicons.shape(rest)[0] not in _TEXT_SUFFIXES:
            continue
        for rk in _ROLE_KEYS:
            role = ctx.value(part, f"{obj}.{rk}" if obj else rk)
            if role is None and rk[0].islower():
                role = ctx.value(part, f"{obj}.{rk.capitalize()}" if obj else rk.capitalize())
            if role is not None:
                return role.strip().lower() in USER_ROLES
    return False


def interested(part: str, path: str, parent: str, key: str) -> bool:
    if part not in _PARTS:
        return False
    by_shape, by_path = lexicons.prompt_formats()
    rest = lexicons.document_root(path)[1]
    return (
        rest in by_path
        or lexicons.shape(rest)[0] in by_shape
        or key in lexicons.names("prompt_keys")
        or key in _TEXT_KEYS
        or _LIST_END.search(path) is not None
    )


def detect(ctx: Context) -> Iterator[Finding]:
    by_shape, by_path = lexicons.prompt_formats()
    keys = lexicons.names("prompt_keys")
    host = ctx.host
    for f, (_parent, key) in ctx.select("prompt"):
        if f.kind != "value":
            continue
        root, rest = lexicons.document_root(f.path)  # a format applies inside a decoded document too
        shape, indices = lexicons.shape(rest)
        candidates = by_path.get(rest, ()) + by_shape.get(shape, ())
        matched = False
        for fmt in candidates:
            if fmt.part is not None and fmt.part != f.part:
                continue
            if fmt.part is None and f.part == "websocket.client":
                continue
            if fmt.hosts is not None and not lexicons.host_matches(host, fmt.hosts):
                continue
            if fmt.role is not None:
                role = ctx.value(f.part, lexicons.under(root, lexicons.fill(fmt.role, indices)))
                if fmt.norole:
                    if role is not None:
                        continue
                elif role is None or role.strip().lower() not in fmt.roles:
                    continue
            if is_free_text(f.value):
                yield Finding("prompt", f.part, f.path, f.value, f"prompt.format.{fmt.id}", fmt.confidence)
            matched = True
            break
        if matched:
            continue
        if (
            (key in _TEXT_KEYS or _LIST_END.search(f.path) is not None)
            and is_free_text(f.value)
            and not _SYSTEM_KEYS.intersection(lexicons.components(f.path))
            and _structure_role(ctx, f.part, f.path)
        ):
            yield Finding("prompt", f.part, f.path, f.value, "prompt.structure", 0.8)
            continue
        if key in keys and is_free_text(f.value):
            yield Finding("prompt", f.part, f.path, f.value, "prompt.key_name", 0.7)
