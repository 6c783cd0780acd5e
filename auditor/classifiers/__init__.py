"""Classifiers: find personal data in the fields of an exchange.

Each classifier module exposes ``detect(ctx) -> Iterable[Finding]``. Only what the client sent
is classified (URL, query, headers, cookies, request body, client WebSocket messages): the
question is which personal data the app sends. The detectors combine three kinds of evidence:

* field semantics: the key (or ``parent.key``) of a field, from the lexicons in
  ``data/lexicons.json``, with a validator for the value (:mod:`.rules`, :mod:`.credential`,
  :mod:`.location`, :mod:`.activity`);
* value patterns with checksums (Luhn, mod-97, ISO 7064, libphonenumber), found with one
  multi-pattern scan per exchange (:mod:`.patterns`, :mod:`auditor.classifiers.textscan`);
* context: the AI chat request formats and hosts (:mod:`.prompt`, :mod:`.content`).

Every finding names its detector and carries a confidence. Response fields stay available in the
context for detectors that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from auditor.classifiers import lexicons
from auditor.models import Exchange, Field, Finding

SENT_PARTS = frozenset(
    {"request.url", "request.query", "request.header", "request.cookie", "request.body", "websocket.client"}
)


@dataclass
class Context:
    """An exchange, its fields, and lookups the detectors share.

    ``sent`` holds the fields the client sent, ``keys`` their ``(parent, key)`` names (normalized,
    same order), and ``found`` the ``(category, part, path)`` of findings made so far by earlier
    detectors.
    """

    exchange: Exchange
    fields: Sequence[Field]
    sent: list[Field] = field(init=False, repr=False)
    keys: list[tuple[str, str]] = field(init=False, repr=False)
    found: set[tuple[str, str, str]] = field(init=False, repr=False)
    _by_path: dict[tuple[str, str], str] | None = field(default=None, init=False, repr=False)
    _names: frozenset[str] | None = field(default=None, init=False, repr=False)
    _hits: dict[str, list[int]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        interests = _INTERESTS or _load_interests()
        sent: list[Field] = []
        keys: list[tuple[str, str]] = []
        by: dict[str, list[int]] = {name: [] for name in interests}
        others: list[int] = []
        plans = _PLANS
        for f in self.fields:
            if f.part not in SENT_PARTS:
                continue
            if f.kind != "value" or f.content_type is not None:  # files, binaries, replayed text
                others.append(len(sent))
            plan = plans.get((f.part, f.path))
            if plan is None:
                plan = _plan(f.part, f.path, interests)
            for name in plan[1]:
                by[name].append(len(sent))
            sent.append(f)
            keys.append(plan[0])
        self.sent, self.keys, self._by, self.others = sent, keys, by, others
        self.found = set()

    def select(self, detector: str) -> list[tuple[Field, tuple[str, str]]]:
        """The sent fields (with their ``(parent, key)``) whose path ``detector`` declared an interest in."""
        sent, keys = self.sent, self.keys
        return [(sent[i], keys[i]) for i in self._by[detector]]

    @property
    def host(self) -> str:
        return self.exchange.host

    def value(self, part: str, path: str) -> str | None:
        """The value of the field at ``(part, path)``, if any."""
        if self._by_path is None:
            self._by_path = {}
            for f in self.fields:
                self._by_path.setdefault((f.part, f.path), f.value)
        return self._by_path.get((part, path))

    def names(self) -> frozenset[str]:
        """Every normalized key name used anywhere in the sent fields' paths."""
        if self._names is None:
            out: set[str] = set()
            comps = lexicons.components
            for f in self.sent:
                out.update(comps(f.path))
            self._names = frozenset(out)
        return self._names

    def hits(self, pattern: str | None = None) -> dict[str, list[int]] | list[int]:
        """Indices into ``sent`` of the fields the multi-pattern prefilter matched for ``pattern``
        (all patterns, as a dict, when ``pattern`` is None)."""
        if self._hits is None:
            from auditor.classifiers.patterns import prefilter

            self._hits = prefilter(self)
        return self._hits if pattern is None else self._hits.get(pattern, [])


Detector = Callable[[Context], Iterable[Finding]]
# ``interested(part, path, parent, key)``: whether a detector looks at fields with this path at all.
Interest = Callable[[str, str, str, str], bool]

_INTERESTS: dict[str, Interest] = {}
_PLANS: dict[tuple[str, str], tuple[tuple[str, str], tuple[str, ...]]] = {}
_PLAN_LIMIT = 200_000


def _load_interests() -> dict[str, Interest]:
    from auditor.classifiers import activity, credential, location, prompt, rules

    for mod in (rules, credential, prompt, location, activity):
        _INTERESTS[mod.__name__.rsplit(".", 1)[-1]] = mod.interested
    return _INTERESTS


def _plan(part: str, path: str, interests: dict[str, Interest]) -> tuple[tuple[str, str], tuple[str, ...]]:
    """``((parent, key), detectors interested)`` for a path, memoized: paths repeat across exchanges."""
    parent, key = lexicons.key_of(path)
    plan = ((parent, key), tuple(name for name, wants in interests.items() if wants(part, path, parent, key)))
    if len(_PLANS) < _PLAN_LIMIT:
        _PLANS[(part, path)] = plan
    return plan


def detectors() -> list[Detector]:
    """The detectors, in the order they run (value patterns last: they skip fields already found)."""
    from auditor.classifiers import activity, content, credential, location, patterns, prompt, replay, rules

    return [
        prompt.detect,
        rules.detect,
        credential.detect,
        location.detect,
        activity.detect,
        content.detect,
        replay.detect,
        patterns.detect,
    ]


def classify(exchange: Exchange, fields: Sequence[Field]) -> list[Finding]:
    """All findings for one exchange, without duplicates, in field order."""
    ctx = Context(exchange, fields)
    seen: set[tuple[str, str, str, str]] = set()
    out: list[Finding] = []
    for det in _DETECTORS or _load():
        for f in det(ctx):
            key = (f.category, f.part, f.path, f.value)
            if key not in seen:
                seen.add(key)
                out.append(f)
                ctx.found.add((f.category, f.part, f.path))
    if len(out) > 1:
        order: dict[tuple[str, str], int] = {}
        for i, fl in enumerate(ctx.sent):
            order.setdefault((fl.part, fl.path), i)

        def position(f: Finding) -> int:
            pos = order.get((f.part, f.path))
            if pos is None:  # a finding for a whole list or object: where its first member is
                pos = next(
                    (
                        i
                        for i, fl in enumerate(ctx.sent)
                        if fl.part == f.part and fl.path.startswith((f.path + "[", f.path + "."))
                    ),
                    len(ctx.sent),
                )
            return pos

        out.sort(key=position)
    return out


_DETECTORS: list[Detector] = []


def _load() -> list[Detector]:
    _DETECTORS.extend(detectors())
    return _DETECTORS
