"""Key-name lexicons, AI chat request formats and chat URLs, loaded from ``data/lexicons.json``.

Key names are compared in a normalized form (:func:`normalize_key`). A *key rule* is a lexicon
group with a ``category``: a field whose key (or ``parent.key``) is in the group and whose value
passes the group's validator is a finding of that category. Everything here is cached: the data
file is read once per process, and path parsing is memoized because paths repeat across exchanges.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

_INDEX = re.compile(r"\[\d+\]")
_COMPONENT = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|\[([^\]]*)\]|([^.\[\]]+)')
_NORMALIZE = str.maketrans("", "", "-_.$ ")
_MEMO_LIMIT = 200_000
# Decoding steps that leave the document as it was (compression found by sniffing): not names.
_TRANSPARENT = frozenset({"@gzip", "@zlib", "@deflate", "@zstd", "@lzstring"})
# Where a decoded document starts inside a path (``data.@base64.@gzip.messages[0]``).
_ROOT = re.compile(r"(?:^|\.)@(?:gzip|zlib|deflate|zstd|lzstring|base64)(?=[.\[]|$)")


def normalize_key(name: str) -> str:
    """Lower-case a key name and drop ``-``, ``_``, ``.``, ``$`` and spaces (``X-Api-Key`` -> ``xapikey``)."""
    return name.lower().translate(_NORMALIZE)


def last_key(path: str) -> str:
    """The last named component of a field path (``a.b[2].c`` -> ``c``; ``a["x y"]`` -> ``x y``)."""
    p = _INDEX.sub("", path)
    if p.endswith('"]'):
        start = p.rfind('["')
        return p[start + 2 : -2] if start >= 0 else p
    return p.rsplit(".", 1)[-1]


_SHAPES: dict[str, tuple[str, tuple[int, ...]]] = {}


def shape(path: str) -> tuple[str, list[int]]:
    """A path with its list indices blanked, and the indices: ``m[3].c[0]`` -> (``m[].c[]``, [3, 0])."""
    hit = _SHAPES.get(path)
    if hit is None:
        indices = tuple(int(m.group()[1:-1]) for m in _INDEX.finditer(path))
        hit = (_INDEX.sub("[]", path), indices)
        if len(_SHAPES) < _MEMO_LIMIT:
            _SHAPES[path] = hit
    return hit[0], list(hit[1])


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


_COMPONENTS: dict[str, tuple[str, ...]] = {}


def components(path: str) -> tuple[str, ...]:
    """The normalized named components of a path, list indices left out.

    ``events[0].user.userID`` -> (``events``, ``user``, ``userid``); form-style brackets count as
    names (``card[exp_month]`` -> (``card``, ``expmonth``)); quoted keys are unquoted (``$``
    dropped: ``properties["$email"]`` -> (``properties``, ``email``)); the markers of
    decompressed content (``@gzip``...) are left out, so ``@gzip.user`` is a top-level ``user``.
    """
    hit = _COMPONENTS.get(path)
    if hit is None:
        out = []
        for m in _COMPONENT.finditer(path):
            quoted, index, bracket, plain = m.groups()
            if index is not None:
                continue
            name = plain if plain is not None else bracket if bracket is not None else quoted
            if quoted is not None:
                with suppress(ValueError):
                    name = json.loads(f'"{quoted}"')
            if name and name not in _TRANSPARENT:
                out.append(normalize_key(name))
        hit = tuple(out)
        if len(_COMPONENTS) < _MEMO_LIMIT:
            _COMPONENTS[path] = hit
    return hit


def document_root(path: str) -> tuple[str, str]:
    """``(root, rest)``: where the innermost decoded document of a path starts, and the path
    inside it: ``d.@base64.@gzip.messages[0].content`` -> (``d.@base64.@gzip``,
    ``messages[0].content``); a path with no decoding step has root ``""``."""
    if "@" not in path:
        return "", path
    last = None
    for m in _ROOT.finditer(path):
        last = m
    if last is None:
        return "", path
    return path[: last.end()], path[last.end() :].removeprefix(".")


def under(root: str, path: str) -> str:
    """``path`` inside the document at ``root`` (the inverse of :func:`document_root`)."""
    if not root:
        return path
    return root + path if path.startswith("[") or not path else f"{root}.{path}"


def key_of(path: str) -> tuple[str, str]:
    """``(parent, key)``: the last two normalized names of a path (parent ``""`` at top level)."""
    comps = components(path)
    if not comps:
        return "", ""
    return (comps[-2] if len(comps) > 1 else ""), comps[-1]


@dataclass(frozen=True, slots=True)
class KeyRule:
    """One lexicon group used as a rule: key names -> category, if the value passes ``validator``."""

    group: str
    category: str
    validator: str
    confidence: float
    parts: frozenset[str] | None = None
    hosts: tuple[str, ...] | None = None
    requires: tuple[str, ...] = ()
    requires_any: tuple[str, ...] = ()
    top_level: bool = False


@dataclass(frozen=True, slots=True)
class PromptFormat:
    id: str
    path: str
    part: str | None
    role: str | None
    roles: frozenset[str]
    confidence: float
    exact: bool = False
    norole: bool = False
    hosts: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ChatUrl:
    """A conversation URL of an AI chat web client: ``host`` + ``prefix`` + the id."""

    host: str
    prefix: str
    id_after: str | None = None


@dataclass(frozen=True, slots=True)
class PathRule:
    """A category for one exact field path (positional formats such as Gemini web's ``f.req``)."""

    path: str
    category: str
    validator: str
    hosts: tuple[str, ...] | None


@cache
def _data() -> dict[str, Any]:
    with resources.files("auditor").joinpath("data/lexicons.json").open("rb") as fh:
        return json.load(fh)


@cache
def names(group: str) -> frozenset[str]:
    """The normalized key names of a lexicon group (``parent.key`` names as ``parent.key``)."""
    out = set()
    for n in _data()["groups"][group]["names"]:
        parent, dot, key = n.rpartition(".")
        out.add(f"{normalize_key(parent)}.{normalize_key(key)}" if dot else normalize_key(n))
    return frozenset(out)


@cache
def host_list(name: str) -> tuple[str, ...]:
    """A named host list (``ai_chat_hosts``)."""
    return tuple(h.lower() for h in _data()["lists"][name]["names"])


@lru_cache(maxsize=4096)
def host_matches(host: str, hosts: tuple[str, ...]) -> bool:
    """True when ``host`` is one of ``hosts`` or a subdomain of one."""
    host = host.lower()
    return any(host == h or host.endswith("." + h) for h in hosts)


def _hosts(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return host_list(value)
    return tuple(h.lower() for h in value)


@cache
def key_rules() -> tuple[dict[str, tuple[KeyRule, ...]], dict[str, tuple[KeyRule, ...]]]:
    """The key rules: ``(by "parent.key", by "key")``. A ``parent.key`` entry takes precedence."""
    pair: dict[str, list[KeyRule]] = {}
    single: dict[str, list[KeyRule]] = {}
    for group, g in _data()["groups"].items():
        if "category" not in g:
            continue
        rule = KeyRule(
            group=group,
            category=g["category"],
            validator=g["validator"],
            confidence=float(g.get("confidence", 0.8)),
            parts=frozenset(g["parts"]) if "parts" in g else None,
            hosts=_hosts(g.get("hosts")),
            requires=tuple(normalize_key(n) for n in g.get("requires", ())),
            requires_any=tuple(normalize_key(n) for n in g.get("requires_any", ())),
            top_level=bool(g.get("top_level", False)),
        )
        parents = [normalize_key(p) for p in g.get("parents", ())]
        for n in g["names"]:
            parent, dot, key = n.rpartition(".")
            if dot:
                pair.setdefault(f"{normalize_key(parent)}.{normalize_key(key)}", []).append(rule)
            elif parents:
                for p in parents:
                    pair.setdefault(f"{p}.{normalize_key(n)}", []).append(rule)
            else:
                single.setdefault(normalize_key(n), []).append(rule)

    def ordered(rules: list[KeyRule]) -> tuple[KeyRule, ...]:
        # Narrower rules first: one limited to some hosts, parts or neighbours wins over a general one.
        return tuple(
            sorted(
                rules,
                key=lambda r: (
                    -((r.hosts is not None) * 4 + bool(r.requires or r.requires_any) * 2 + (r.parts is not None))
                ),
            )
        )

    return {k: ordered(v) for k, v in pair.items()}, {k: ordered(v) for k, v in single.items()}


@cache
def prompt_formats() -> tuple[dict[str, tuple[PromptFormat, ...]], dict[str, tuple[PromptFormat, ...]]]:
    """AI chat request formats: ``(by path shape, by exact path)``."""
    by_shape: dict[str, list[PromptFormat]] = {}
    by_path: dict[str, list[PromptFormat]] = {}
    for f in _data()["prompt_formats"]:
        pf = PromptFormat(
            id=f["id"],
            path=f["path"],
            part=f.get("part"),
            role=f.get("role"),
            roles=frozenset(f.get("roles", ())),
            confidence=float(f.get("confidence", 0.95)),
            exact=bool(f.get("exact", False)),
            norole=bool(f.get("norole", False)),
            hosts=_hosts(f.get("hosts")),
        )
        (by_path if pf.exact else by_shape).setdefault(pf.path, []).append(pf)
    return {k: tuple(v) for k, v in by_shape.items()}, {k: tuple(v) for k, v in by_path.items()}


@cache
def chat_urls() -> tuple[ChatUrl, ...]:
    """Conversation URL patterns of AI chat web clients."""
    return tuple(ChatUrl(e["host"].lower(), e["prefix"], e.get("id_after")) for e in _data()["chat_urls"]["entries"])


@cache
def conversation_paths() -> tuple[tuple[str, str], ...]:
    """``(host, path template)`` pairs of requests whose URL path names a conversation."""
    return tuple((e["host"].lower(), e["path"]) for e in _data()["conversation_paths"]["entries"])


@cache
def key_paths() -> tuple[tuple[str, str], ...]:
    """``(host, path template)`` pairs of requests whose URL path names an API key."""
    return tuple((e["host"].lower(), e["path"]) for e in _data()["key_paths"]["entries"])


def path_template(template: str) -> tuple[re.Pattern[str], int]:
    """A request path template (``/v1/projects/{id}/settings``, ``{*}`` for any segment) as a
    regular expression capturing the ``{id}`` segment, and that segment's index."""
    segs = [s for s in template.split("/") if s]
    parts = ["([^/]+)" if s == "{id}" else "[^/]+" if s == "{*}" else re.escape(s) for s in segs]
    return re.compile("^/" + "/".join(parts) + "/?$"), segs.index("{id}")


@cache
def path_rules() -> dict[str, tuple[PathRule, ...]]:
    """Exact-path rules, by path."""
    out: dict[str, list[PathRule]] = {}
    for r in _data()["path_rules"]:
        out.setdefault(r["path"], []).append(PathRule(r["path"], r["category"], r["validator"], _hosts(r.get("hosts"))))
    return {k: tuple(v) for k, v in out.items()}
