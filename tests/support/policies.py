"""Policies shared by the gate tests."""

from __future__ import annotations

# The example policy of the gate's issue: no personal data to China, prompts to the first party
# only, no personal data in cleartext.
ISSUE_POLICY = """\
version: 1
rules:
  - id: no-personal-data-to-cn
    deny: {countries: [CN]}
  - id: prompts-first-party-only
    deny: {categories: [prompt], party: third}
  - id: no-cleartext-personal-data
    deny: {cleartext: true}
"""
