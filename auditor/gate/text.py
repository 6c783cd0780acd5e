"""The console output of ``auditor check``, and the violation texts its other outputs share."""

from __future__ import annotations

from typing import Any

from auditor.gate.check import CheckResult, Violation


def group_violations(violations: list[Violation]) -> list[list[Violation]]:
    """Violations grouped by value and place (host, category, part, path, value), in order."""
    groups: dict[tuple[str, str, str, str, str], list[Violation]] = {}
    for v in violations:
        groups.setdefault(v.group_key, []).append(v)
    return list(groups.values())


def _oneline(value: Any) -> str:
    s = "" if value is None else str(value)
    return "".join(c if c.isprintable() else " " for c in s)


def request_text(v: Violation) -> str:
    req = v.finding.get("request") or {}
    method = _oneline(req.get("method") or "")
    url = _oneline(req.get("url") or v.finding.get("host", ""))
    return f"{v.request_ref} {method} {url}".strip()


MAX_REFS = 8


def unlisted_text(n: int) -> str:
    """``"1,234 more violations (every one is in the --json output)"``."""
    return f"{n:,} more violation{'s' if n != 1 else ''} (every one is in the --json output)"


def render_text(result: CheckResult) -> str:
    """The console report: every violation with its rule, host, category, place and request."""
    from auditor.renderers.view import count

    s = result.doc.get("summary") or {}
    lines = [
        f"auditor check: policy {result.policy.path}: {count(s.get('exchanges', 0), 'request')}, "
        f"{count(s.get('destinations', 0), 'destination')}, {count(s.get('findings', 0), 'finding')}",
        result.first_party_text,
    ]
    for r in result.rules:
        n = r.count
        tag = {"passed": "PASS", "failed": "FAIL", "warning": "WARN", "info": "INFO"}[r.status]
        head = f"{tag} {r.rule.id} [{r.rule.severity}] deny {r.rule.deny.describe()}"
        lines.append(head + (f": {n} violation{'s' if n != 1 else ''}" if n else ""))
        for group in group_violations(r.violations):
            v = group[0]
            f = v.finding
            loc = f.get("location") or {}
            refs = ", ".join(x.short_ref(v) for x in group[1 : 1 + MAX_REFS])
            more = len(group) - 1 - MAX_REFS
            also = ""
            if len(group) > 1:
                also = f" (also {refs}{f' and {more} more' if more > 0 else ''})"
            lines.append(
                f"  - {_oneline(f.get('host'))}: {f.get('category')} at {loc.get('part')} "
                f"{_oneline(loc.get('path')) or '-'} = {_oneline(f.get('value'))!s} in {request_text(v)}{also}"
            )
        if r.unlisted:
            lines.append(f"  - and {unlisted_text(r.unlisted)}")
    if result.baseline is not None:
        n = len(result.baseline)
        status = "FAIL" if result.baseline_failed else result.policy.baseline.severity.upper()[:4]
        if not n:
            status = "PASS"
        lines.append(
            f"{status} baseline {result.baseline_path}"
            + (f": {n} change{'s' if n != 1 else ''} not in the baseline" if n else ": nothing new")
        )
        for b in result.baseline:
            lines.append(f"  - {b.text()}")
    if result.labels is not None:
        from auditor.labels.render import labels_rule_lines

        lines += labels_rule_lines(result.labels, result.policy.labels)
    failed = [r for r in result.rules if r.failed]
    if result.passed:
        verdict = "passed"
    else:
        bits = []
        if failed:
            nv = sum(r.count for r in failed)
            rules = f"{len(failed)} rule{'s' if len(failed) != 1 else ''}"
            bits.append(f"{rules} violated ({nv} finding{'s' if nv != 1 else ''})")
        if result.baseline_failed:
            bits.append(f"{len(result.baseline or ())} new since the baseline")
        if result.labels_failed and result.labels is not None:
            undeclared, mismatched = result.labels.count("undeclared"), result.labels.count("mismatched")
            bits.append(f"store labels: {undeclared} undeclared, {mismatched} mismatched")
        verdict = "FAILED: " + ", ".join(bits)
    lines.append(f"result: {verdict}")
    return "\n".join(lines) + "\n"
