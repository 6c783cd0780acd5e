"""Field semantics: key rules from the lexicons, checked by validators.

A field whose ``parent.key`` (or, failing that, ``key``) is in a lexicon group with a category,
and whose value passes the group's validator, is a finding of that category (detector
``<category>.key``). This covers names, birth dates, account, device and advertising ids, IP
addresses, postal addresses, coarse locations, card and bank data, national ids, conversation
ids, device attributes and analytics event names, in English and in the spellings of the common
Chinese SDKs. Exact-path rules (``path_rules``) cover positional formats. An analytics
``distinct_id`` holding the same value as the device id beside it (an SDK-made anonymous id,
before the person is identified) is also a device id.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.classifiers import Context, lexicons
from auditor.classifiers.validators import VALIDATORS
from auditor.models import Finding

_KINDS = frozenset({"value"})
# Analytics ids that name the person once identified and the device before (PostHog, Mixpanel).
_DISTINCT_KEYS = frozenset({"distinctid"})


def interested(part: str, path: str, parent: str, key: str) -> bool:
    pair, single = lexicons.key_rules()
    return (bool(parent) and f"{parent}.{key}" in pair) or key in single or path in lexicons.path_rules()


def detect(ctx: Context) -> Iterator[Finding]:
    pair, single = lexicons.key_rules()
    by_path = lexicons.path_rules()
    host = ctx.host
    device_values: set[str] = set()
    distinct: list = []
    for f, (parent, key) in ctx.select("rules"):
        if f.kind != "value" or not f.value:
            continue
        rules = pair.get(f"{parent}.{key}") if parent else None
        if rules is None:
            rules = single.get(key)
        elif key in single:  # a parent.key rule first, the key's own rules if it does not fit
            rules = rules + single[key]
        if rules:
            for r in rules:
                if r.parts is not None and f.part not in r.parts:
                    continue
                if r.top_level and parent:
                    continue
                if r.hosts is not None and not lexicons.host_matches(host, r.hosts):
                    continue
                if r.requires and not all(n in ctx.names() for n in r.requires):
                    continue
                if r.requires_any and not any(n in ctx.names() for n in r.requires_any):
                    continue
                if not VALIDATORS[r.validator](f.value):
                    continue
                yield Finding(r.category, f.part, f.path, f.value, f"{r.category}.key", r.confidence)
                if r.category == "device_id":
                    device_values.add(f.value)
                elif key in _DISTINCT_KEYS:
                    distinct.append(f)
                break
        if by_path and f.path in by_path:
            for pr in by_path[f.path]:
                if pr.hosts is not None and not lexicons.host_matches(host, pr.hosts):
                    continue
                if VALIDATORS[pr.validator](f.value):
                    yield Finding(pr.category, f.part, f.path, f.value, f"{pr.category}.path", 0.9)
    for f in distinct:  # an analytics id that is the device's own id: the person is anonymous yet
        if f.value in device_values:
            yield Finding("device_id", f.part, f.path, f.value, "device_id.anonymous", 0.8)
