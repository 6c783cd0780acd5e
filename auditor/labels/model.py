"""What a declaration says, in one shape for every format: one entry per store data type."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.errors import AuditorError


class LabelsError(AuditorError, ValueError):
    """A declaration that cannot be used. ``str()`` is one line: ``FILE:LINE: message``."""


@dataclass
class DeclaredType:
    """One store data type as declared (Play: ``PSL_EMAIL``; Apple: ``EMAIL_ADDRESS``).

    Play answers ``collected``/``shared`` and purposes for each; Apple only ``linked`` and
    ``tracking`` and one list of purposes (kept in ``collection_purposes``). ``None`` means
    the declaration does not say.
    """

    id: str
    collected: bool = True
    shared: bool = False
    collection_purposes: set[str] = field(default_factory=set)
    sharing_purposes: set[str] = field(default_factory=set)
    ephemeral: bool | None = None
    required: bool | None = None
    linked: bool | None = None
    tracking: bool = False
    line: int = 0

    def practice(self) -> tuple[object, ...]:
        """What the declaration says about this type, without where it said it (for comparing)."""
        return (
            self.id,
            self.collected,
            self.shared,
            frozenset(self.collection_purposes),
            frozenset(self.sharing_purposes),
            self.linked,
            self.tracking,
        )


@dataclass
class Declaration:
    """A parsed declaration file.

    ``store`` is ``play`` or ``apple``; ``format`` one of ``play_csv``, ``fastlane_json``,
    ``app_store_page``, ``xcprivacy``. ``rows`` keeps a Play CSV's rows (line, five columns) so a
    draft can keep the answers it does not correct.
    """

    path: str
    store: str
    format: str
    types: dict[str, DeclaredType] = field(default_factory=dict)
    not_collected: bool = False
    tracking: bool | None = None
    tracking_domains: list[str] | None = None
    rows: list[tuple[int, list[str]]] = field(default_factory=list)

    def practices(self) -> dict[str, tuple[object, ...]]:
        """Every declared type's practice, by id."""
        return {t: d.practice() for t, d in sorted(self.types.items())}
