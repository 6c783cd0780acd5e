"""Policy files for the CI gate: which findings a build must not contain.

A policy is a YAML file (``version: 1``) with a list of rules. A rule *denies* every finding of
the report document that matches all of its selectors, except those matching one of its
``allow`` entries. The selectors::

    categories  data categories (taxonomy ids: email, prompt, credential...)
    countries   ISO 3166-1 alpha-2 codes or the groups EU, EEA, adequacy, non-adequate, unknown
    party       first, third, unknown, platform (the browser's or OS's own traffic)
    cleartext   true: the request went over http:// or ws://
    hosts       glob patterns (fnmatch) on the destination host
    owners      owner or parent company names (case-insensitive, globs allowed)
    services    destination service categories (analytics, crash_reporting..., or unknown)
    undeclared  true: the finding's data type is not in the store labels given with --declared

A rule can also deny what a web page did (the ``page`` section of an ``auditor browse``
session): ``keylogging``, ``session_replay``, ``fingerprinting``, ``third_party_cookies`` and
``pixels`` (each ``true``), optionally narrowed by ``party``, ``countries``, ``hosts``, ``owners`` or
``services`` of the host involved. A rule with none of these keys only matches findings.

(``category``, ``country``, ``host``, ``owner`` and ``service`` are accepted as spellings too.)

Countries are the owner's country and the registry country of every server address. A deny
selector matches when *any* of them is listed; an allow entry only when *every* one is (so
``allow: [{countries: [EU]}]`` does not exempt a US owner with a server in Germany).

A top-level ``first_party:`` (a host, domain or owner name, or a list of them) names the app
itself, like ``--first-party`` (which wins when both are given). A top-level
``dpf_participants:`` names owners checked on the Data Privacy Framework List: a US recipient
they own counts as ``adequacy``, beside those in ``auditor/data/dpf.json``.

Errors in a policy file raise :class:`PolicyError` with one line naming the file and the line.

The package, one module per concern, each depending only on those before it::

    facts     what a selector is matched against, read from the report document
    model     the policy, its rules and selectors, and how a selector matches facts
    parse     policy YAML to a checked model
    check     evaluation: violations, rule results, the check result (and baseline changes)
    text      the console output, and the violation texts the other outputs share
    markdown  the Markdown summary (CI step summary, pull-request comment)
    junit     the JUnit XML document
"""

from __future__ import annotations

from auditor.gate.check import (
    MAX_KEPT_VIOLATIONS,
    CheckResult,
    RuleResult,
    Violation,
    evaluate,
    page_finding,
    run_check,
)
from auditor.gate.facts import Facts, destination_countries, destination_facts, finding_cleartext, finding_facts
from auditor.gate.junit import render_junit, xml_text
from auditor.gate.markdown import MARKDOWN_ROWS, render_markdown
from auditor.gate.model import (
    BASELINE_KEYS,
    COUNTRY_GROUPS,
    LABELS_SEVERITIES,
    PARTIES,
    POLICY_VERSION,
    RULE_KEYS,
    SELECTOR_ALIASES,
    SELECTOR_KEYS,
    SEVERITIES,
    TOP_KEYS,
    BaselineSettings,
    Policy,
    PolicyError,
    Rule,
    Selector,
    known_categories,
    known_services,
)
from auditor.gate.parse import load_policy, parse_policy
from auditor.gate.text import MAX_REFS, group_violations, render_text, request_text, unlisted_text

__all__ = [
    "BASELINE_KEYS",
    "COUNTRY_GROUPS",
    "LABELS_SEVERITIES",
    "MARKDOWN_ROWS",
    "MAX_KEPT_VIOLATIONS",
    "MAX_REFS",
    "PARTIES",
    "POLICY_VERSION",
    "RULE_KEYS",
    "SELECTOR_ALIASES",
    "SELECTOR_KEYS",
    "SEVERITIES",
    "TOP_KEYS",
    "BaselineSettings",
    "CheckResult",
    "Facts",
    "Policy",
    "PolicyError",
    "Rule",
    "RuleResult",
    "Selector",
    "Violation",
    "destination_countries",
    "destination_facts",
    "evaluate",
    "finding_cleartext",
    "finding_facts",
    "group_violations",
    "known_categories",
    "known_services",
    "load_policy",
    "page_finding",
    "parse_policy",
    "render_junit",
    "render_markdown",
    "render_text",
    "request_text",
    "run_check",
    "unlisted_text",
    "xml_text",
]
