"""Classifiers: find personal data in the fields of an exchange.

Each classifier module exposes ``detect(ctx) -> Iterable[Finding]``. Only what the client sent
is classified (URL, query, headers, cookies, request body, client WebSocket messages): the
question is which personal data the app sends. Response fields stay available in the context
for classifiers that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ..models import Exchange, Field, Finding

SENT_PARTS = frozenset(
    {"request.url", "request.query", "request.header", "request.cookie", "request.body", "websocket.client"}
)


@dataclass
class Context:
    """An exchange, its fields, and lookups classifiers share."""

    exchange: Exchange
    fields: Sequence[Field]
    _by_path: dict[tuple[str, str], str] | None = field(default=None, repr=False)

    @property
    def sent(self) -> Iterable[Field]:
        return (f for f in self.fields if f.part in SENT_PARTS)

    def value(self, part: str, path: str) -> str | None:
        """The value of the field at ``(part, path)``, if any."""
        if self._by_path is None:
            self._by_path = {}
            for f in self.fields:
                self._by_path.setdefault((f.part, f.path), f.value)
        return self._by_path.get((part, path))


Detector = Callable[[Context], Iterable[Finding]]


def detectors() -> list[Detector]:
    from . import credential, email, phone, prompt

    return [email.detect, phone.detect, credential.detect, prompt.detect]


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
    return out


_DETECTORS: list[Detector] = []


def _load() -> list[Detector]:
    _DETECTORS.extend(detectors())
    return _DETECTORS
