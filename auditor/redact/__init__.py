"""Redacted copies of captures, safe to commit as CI fixtures (``auditor redact``)."""

from __future__ import annotations

from .pipeline import (
    Placeholders,
    RedactError,
    Substituter,
    _detected,
    encoded_forms,
    redact_capture,
    scramble,
    verify_redacted,
)

__all__ = [
    "Placeholders",
    "RedactError",
    "Substituter",
    "_detected",
    "encoded_forms",
    "redact_capture",
    "scramble",
    "verify_redacted",
]
