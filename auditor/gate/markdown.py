"""The Markdown output of ``auditor check``: for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment."""

from __future__ import annotations

from auditor.gate.check import CheckResult
from auditor.gate.text import group_violations, unlisted_text

MARKDOWN_ROWS = 50
RESULT_ICONS: dict[str, str] = {
    "passed": "✅ passed",
    "failed": "❌ failed",
    "warning": "⚠️ warning",
    "info": "\N{INFORMATION SOURCE}\N{VARIATION SELECTOR-16} info",
}


def render_markdown(result: CheckResult) -> str:
    """A Markdown summary for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment."""
    from auditor.renderers.markdown import md_code, md_escape
    from auditor.renderers.view import count

    s = result.doc.get("summary") or {}
    out = [
        f"## auditor check: {'✅ passed' if result.passed else '❌ failed'}",
        "",
        f"Policy {md_code(result.policy.path)} · {count(s.get('exchanges', 0), 'request')} · "
        f"{count(s.get('destinations', 0), 'destination')} · {count(s.get('findings', 0), 'personal-data finding')}",
        "",
        md_escape(result.first_party_text.replace("\n", " · ")),
        "",
    ]
    if result.rules:
        out += ["| Rule | Denies | Severity | Result | Violations |", "|---|---|---|---|---:|"]
        for r in result.rules:
            icon = RESULT_ICONS[r.status]
            out.append(
                f"| {md_code(r.rule.id)} | {md_escape(r.rule.deny.describe())} | {r.rule.severity} | {icon} "
                f"| {r.count:,} |"
            )
        out.append("")
    for r in result.rules:
        if not r.violations:
            continue
        groups = group_violations(r.violations)
        out += [
            f"### {md_escape(r.rule.id)}: {r.count:,} violation{'s' if r.count != 1 else ''}",
            "",
        ]
        if r.rule.description:
            out += [md_escape(r.rule.description), ""]
        out += ["| Host | Category | Where | Value | Requests |", "|---|---|---|---|---|"]
        for group in groups[:MARKDOWN_ROWS]:
            v = group[0]
            f = v.finding
            loc = f.get("location") or {}
            req = f.get("request") or {}
            first = f"{v.request_ref} {req.get('method') or ''} {req.get('url') or ''}".strip()
            extra = f" (+{len(group) - 1} more)" if len(group) > 1 else ""
            out.append(
                f"| {md_code(f.get('host'))} | {md_escape(f.get('category'))} | "
                f"{md_code(str(loc.get('part')) + ' ' + str(loc.get('path') or ''))} | {md_code(f.get('value'))} | "
                f"{md_code(first)}{extra} |"
            )
        if len(groups) > MARKDOWN_ROWS:
            out.append(f"\n…and {len(groups) - MARKDOWN_ROWS:,} more (see the JSON output).")
        if r.unlisted:
            out.append(f"\n…and {md_escape(unlisted_text(r.unlisted))}.")
        out.append("")
    if result.baseline is not None:
        out += [f"### Baseline {md_code(result.baseline_path)}", ""]
        if not result.baseline:
            out += ["Nothing new since the baseline.", ""]
        else:
            out += ["| Change | Host | Category | Country | Detail |", "|---|---|---|---|---|"]
            for b in result.baseline[:MARKDOWN_ROWS]:
                out.append(
                    f"| {b.kind.replace('_', ' ')} | {md_code(b.host or '')} | {md_escape(b.category or '')} | "
                    f"{md_escape(b.country or '')} | {md_escape(b.detail)} |"
                )
            if len(result.baseline) > MARKDOWN_ROWS:
                out.append(f"\n…and {len(result.baseline) - MARKDOWN_ROWS} more (see the JSON output).")
            out.append("")
    if result.labels is not None:
        from auditor.labels.render import render_markdown as labels_markdown

        out += [labels_markdown(result.labels.to_json()).strip(), ""]
    version = (result.doc.get("generator") or {}).get("version", "")
    out.append(f"<sub>auditor {md_escape(version)} · values masked</sub>")
    return "\n".join(out) + "\n"
