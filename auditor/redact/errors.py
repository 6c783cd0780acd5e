"""The error of the redaction."""

from __future__ import annotations

__all__ = ["RedactError"]


class RedactError(ValueError):
    """The capture cannot be redacted. ``str()`` is one line meant for the user."""
