"""Declared vs observed: an app's store privacy labels checked against what its traffic shows.

Declarations are read from Google Play's data safety CSV, fastlane's
``app_privacy_details.json``, an App Store page's ``privacyDetails`` JSON or a
``PrivacyInfo.xcprivacy`` manifest (:func:`load_declaration`); :func:`judge` compares one with
an audit's report document; :func:`draft` writes a corrected declaration.
"""

from __future__ import annotations

from auditor.labels.load import load_declaration, parse_declaration
from auditor.labels.model import Declaration, DeclaredType, LabelsError

__all__ = ["Declaration", "DeclaredType", "LabelsError", "load_declaration", "parse_declaration"]
