"""The labels verdicts as console text, a Markdown section and JUnit test cases.

The HTML and Markdown reports render the JSON section (``doc["labels"]``) with the templates
``reports/labels.html.j2`` and ``reports/labels.md.j2``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.audit.document import LabelEvidence, LabelsSummary
from auditor.labels.judge import LabelsResult

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

FORMAT_NAMES = {
    "play_csv": "Google Play data safety CSV",
    "fastlane_json": "fastlane app_privacy_details.json",
    "app_store_page": "App Store page privacyDetails",
    "xcprivacy": "privacy manifest (PrivacyInfo.xcprivacy)",
}
TAGS = {
    "undeclared": "UNDECLARED",
    "mismatched": "MISMATCHED",
    "review": "REVIEW",
    "consistent": "OK",
    "not_observed": "NOT SEEN",
}


def _oneline(value: Any) -> str:
    return "".join(c if c.isprintable() else " " for c in str(value if value is not None else ""))


def _refs(ev: LabelEvidence) -> str:
    refs = ", ".join(f"#{r['index']}" if not r["capture"] else f"{r['capture']}#{r['index']}" for r in ev["requests"])
    more = ev["request_count"] - len(ev["requests"])
    return refs + (f" and {more} more" if more > 0 else "")


def counts_text(summary: LabelsSummary) -> str:
    return (
        f"{summary['undeclared']} undeclared, {summary['mismatched']} mismatched, {summary['review']} to review, "
        f"{summary['consistent']} consistent, {summary['not_observed']} declared but not seen"
    )


def verdict_lines(v: dict[str, Any], indent: str = "  ", verbose: bool = True) -> list[str]:
    """Lines for one declaration's verdict (its JSON form)."""
    lines = [
        f"{'FAIL' if not v['passed'] else 'PASS'} {_oneline(v['path'])} "
        f"({FORMAT_NAMES.get(v['format'], v['format'])}): {counts_text(v['summary'])}"
    ]
    for item in v["items"]:
        if item["kind"] == "consistent" and not verbose:
            continue
        cats = f" [{', '.join(item['categories'])}]" if item["categories"] else ""
        lines.append(f"{indent}{TAGS[item['kind']]} {item['type']} ({item['type_label']}){cats}")
        for p in item["problems"]:
            lines.append(f"{indent}    - {_oneline(p['text'])}")
        if item["kind"] in ("undeclared", "mismatched", "review"):
            for ev in item["evidence"]:
                lines.append(f"{indent}    evidence: {_oneline(ev['host'])} ({ev['party']}) requests {_refs(ev)}")
    return lines


def render_text(result: LabelsResult, doc: dict[str, Any]) -> str:
    """The console report of ``auditor labels``."""
    s = doc.get("summary") or {}
    j = result.to_json()
    out = [
        f"auditor labels: {s.get('exchanges', 0)} requests, {s.get('destinations', 0)} destinations, "
        f"{s.get('findings', 0)} findings"
    ]
    for v in j["declarations"]:
        out += verdict_lines(v)
    if result.failed:
        out.append(f"result: FAILED: {j['summary']['undeclared']} undeclared, {j['summary']['mismatched']} mismatched")
    else:
        review = j["summary"]["review"]
        out.append("result: passed" + (f" ({review} to review)" if review else ""))
    return "\n".join(out) + "\n"


def render_markdown(labels: dict[str, Any]) -> str:
    """The Markdown section of a labels result (its JSON form), as the Markdown report has it."""
    from auditor.renderers import view
    from auditor.renderers.markdown import md_code, md_escape

    env = view.environment()
    env.filters["md"] = md_escape
    env.filters["mdcode"] = md_code
    return env.get_template("labels.md.j2").render(doc={"labels": labels})


def junit_cases(suite: ET.Element, result: LabelsResult, severity: str, sub: Any) -> tuple[int, int, int]:
    """Add one test case per judged type and declaration to ``suite``; return (cases, failures,
    skipped). ``sub`` is the JUnit writer's element helper."""
    cases = failures = skipped = 0
    for v in result.verdicts:
        j = v.to_json()
        for item in j["items"]:
            cases += 1
            cats = f" [{', '.join(item['categories'])}]" if item["categories"] else ""
            name = f"labels: {item['type']}{cats} ({v.declaration.path})"
            case = sub(suite, "testcase", name=name, classname=f"auditor.labels.{v.declaration.store}", time="0.000")
            text = "\n".join(
                [p["text"] for p in item["problems"]]
                + [f"evidence: {e['host']} ({e['party']}) requests {_refs(e)}" for e in item["evidence"]]
            )
            if item["kind"] in ("undeclared", "mismatched"):
                if severity == "error":
                    failures += 1
                    sub(
                        case,
                        "failure",
                        text,
                        message=f"{item['kind']}: {item['type']} ({item['type_label']})",
                        type=f"labels.{item['kind']}",
                    )
                else:
                    sub(case, "system-out", f"{severity}: {item['kind']}\n{text}")
            elif item["kind"] == "not_observed":
                skipped += 1
                sub(
                    case,
                    "skipped",
                    message="declared, not seen in the captures (the test run may not have exercised it)",
                )
            elif item["kind"] == "review":
                sub(case, "system-out", f"review: {text}")
    return cases, failures, skipped


def labels_rule_lines(result: LabelsResult, severity: str) -> list[str]:
    """The built-in ``labels`` rule's lines in ``auditor check``'s console report."""
    failing = result.count("undeclared") + result.count("mismatched")
    tag = "PASS" if not failing else {"error": "FAIL", "warning": "WARN", "info": "INFO"}[severity]
    head = f"{tag} labels [{severity}] declared vs observed store labels"
    head += f": {result.count('undeclared')} undeclared, {result.count('mismatched')} mismatched" if failing else ""
    lines = [head]
    for v in result.verdicts:
        lines += ["  " + line for line in verdict_lines(v.to_json(), verbose=False)]
    return lines
