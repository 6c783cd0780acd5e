"""The JUnit XML output of ``auditor check`` now lives with the gate, in :mod:`auditor.policy.junit`.

This name is kept so that ``from auditor.renderers.junit import render_junit`` keeps working;
the renderers of the report document do not depend on the gate.
"""

from __future__ import annotations

from ..policy.junit import render_junit, xml_text

__all__ = ["render_junit", "xml_text"]
