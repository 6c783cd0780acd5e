"""JUnit XML for ``auditor check``: one test case per policy rule, plus one for the baseline.

The layout follows the commonly used JUnit schema (the one Jenkins, GitLab and the GitHub test
reporters read): ``<testsuites>`` holding one ``<testsuite>`` with ``name``, ``tests``,
``failures``, ``errors``, ``skipped``, ``time``, ``timestamp`` and ``hostname``, then
``<properties>``, the ``<testcase name classname time>`` elements and ``<system-out>`` /
``<system-err>``. A rule of severity ``error`` with violations gets a ``<failure message type>``
whose text lists them; ``warning`` and ``info`` rules pass and list theirs in the test case's
``<system-out>``. With ``check --declared``, each store data type of each declaration is a test
case too (classname ``auditor.labels.play`` or ``.apple``): undeclared and mismatched types fail,
types declared but not seen in the captures are skipped. Every value in it is masked, as in the
report.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from auditor.gate.check import CheckResult, RuleResult
from auditor.gate.text import group_violations, request_text, unlisted_text

# Characters XML 1.0 does not allow, even escaped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    """Text safe for an XML 1.0 document (characters it forbids become U+FFFD)."""
    return _NOT_XML.sub("\ufffd", "" if value is None else str(value))


def _violation_lines(r: RuleResult) -> str:
    lines = []
    for group in group_violations(r.violations):
        v = group[0]
        f = v.finding
        loc = f.get("location") or {}
        also = f" (+{len(group) - 1} more: {', '.join(x.short_ref(v) for x in group[1:])})" if len(group) > 1 else ""
        lines.append(
            f"{f.get('host')}: {f.get('category')} at {loc.get('part')} {loc.get('path') or '-'} "
            f"= {f.get('value')} in {request_text(v)}{also}"
        )
    if r.unlisted:
        lines.append(f"and {unlisted_text(r.unlisted)}")
    return "\n".join(lines)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def render_junit(result: CheckResult, elapsed: float = 0.0, timestamp: datetime | None = None) -> str:
    """The JUnit XML document for a check result."""
    from auditor import __version__

    when = (timestamp or datetime.now(UTC)).replace(microsecond=0, tzinfo=None).isoformat()
    cases = len(result.rules) + (1 if result.baseline is not None else 0)
    failures = sum(1 for r in result.rules if r.failed) + (1 if result.baseline_failed else 0)
    per_case = "0.000"  # the rules are evaluated together; the suite has the total time
    suites = ET.Element(
        "testsuites",
        {
            "name": "auditor check",
            "tests": str(cases),
            "failures": str(failures),
            "errors": "0",
            "time": f"{elapsed:.3f}",
        },
    )
    suite = _sub(
        suites,
        "testsuite",
        name=f"auditor policy {result.policy.path}",
        package="auditor",
        id="0",
        tests=str(cases),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{elapsed:.3f}",
        timestamp=when,
        hostname=socket.gethostname() or "localhost",
    )
    props = _sub(suite, "properties")
    summary = result.doc.get("summary") or {}
    for name, value in (
        ("auditor.version", __version__),
        ("policy", result.policy.path),
        ("captures", ", ".join(c.get("path", "") for c in result.doc.get("captures") or ())),
        ("requests", summary.get("exchanges", 0)),
        ("destinations", summary.get("destinations", 0)),
        ("findings", summary.get("findings", 0)),
    ):
        _sub(props, "property", name=name, value=str(value))
    if result.baseline_path:
        _sub(props, "property", name="baseline", value=result.baseline_path)
    for r in result.rules:
        # The class names stay those of 0.2.0 (auditor.policy, auditor.baseline): CI history keys on them.
        case = _sub(suite, "testcase", name=r.rule.id, classname="auditor.policy", time=per_case)
        n = r.count
        if r.failed:
            msg = f"{n} finding{'s' if n != 1 else ''} denied by rule {r.rule.id} ({r.rule.deny.describe()})"
            _sub(case, "failure", _violation_lines(r), message=msg, type="policy.violation")
        elif n:
            _sub(case, "system-out", f"{r.rule.severity}: {n} finding(s) match this rule\n{_violation_lines(r)}")
    if result.baseline is not None:
        case = _sub(suite, "testcase", name="baseline", classname="auditor.baseline", time=per_case)
        n = len(result.baseline)
        text = "\n".join(b.text() for b in result.baseline)
        if result.baseline_failed:
            msg = f"{n} change{'s' if n != 1 else ''} not in the baseline {result.baseline_path}"
            _sub(case, "failure", text, message=msg, type="baseline.change")
        elif n:
            _sub(case, "system-out", f"{result.policy.baseline.severity}: {n} change(s) not in the baseline\n{text}")
    if result.labels is not None:
        from auditor.labels.render import junit_cases

        n, failed, skipped = junit_cases(suite, result.labels, result.policy.labels, _sub)
        for el in (suites, suite):
            el.set("tests", str(int(el.get("tests", "0")) + n))
            el.set("failures", str(int(el.get("failures", "0")) + failed))
        suite.set("skipped", str(skipped))
    _sub(suite, "system-out", "")
    _sub(suite, "system-err", "")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
