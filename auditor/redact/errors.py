"""The error of the redaction."""

from __future__ import annotations

from auditor.errors import AuditorError

__all__ = ["RedactError"]


class RedactError(AuditorError, ValueError):
    """The capture cannot be redacted. ``str()`` is one line meant for the user."""
