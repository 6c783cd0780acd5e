"""Evaluating a policy against a report document: violations, rule results and the check result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.audit.document import Destination
from auditor.audit.spool import RecordSpool
from auditor.gate.facts import Facts, destination_countries, destination_facts, finding_cleartext, finding_facts
from auditor.gate.model import Policy, Rule

if TYPE_CHECKING:
    from auditor.gate.baseline import BaselineViolation
    from auditor.labels.judge import LabelsResult


@dataclass(frozen=True)
class Violation:
    """One finding a rule denies."""

    rule: str
    severity: str
    finding: dict[str, Any]  # a report finding, or a page detection in its shape (page_finding)
    destination: Destination | None
    capture: str

    @property
    def request_ref(self) -> str:
        """``capture.flows#7``: the capture's file name and the request's index in it."""
        flow = self.finding.get("flow") or {}
        return f"{Path(self.capture).name}#{flow.get('index', '?')}"

    def short_ref(self, first: Violation) -> str:
        """``#7`` when in the same capture as ``first``, else the full reference."""
        if self.capture == first.capture:
            return f"#{(self.finding.get('flow') or {}).get('index', '?')}"
        return self.request_ref

    @property
    def group_key(self) -> tuple[str, str, str, str, str]:
        loc = self.finding.get("location") or {}
        return (
            self.finding.get("host", ""),
            self.finding.get("category", ""),
            loc.get("part", ""),
            loc.get("path", ""),
            self.finding.get("value_sha256", ""),
        )

    def to_json(self) -> dict[str, Any]:
        f = self.finding
        flow = f.get("flow") or {}
        req = f.get("request") or {}
        d = self.destination
        owner = d.get("owner") if d else None
        return {
            "rule": self.rule,
            "severity": self.severity,
            "host": f.get("host"),
            "category": f.get("category"),
            "location": f.get("location"),
            "value": f.get("value"),
            "value_sha256": f.get("value_sha256"),
            "request": {
                "capture": self.capture,
                "capture_index": flow.get("capture"),
                "index": flow.get("index"),
                "id": flow.get("id"),
                "method": req.get("method"),
                "url": req.get("url"),
            },
            "owner": owner.get("name") if owner else None,
            "countries": sorted(destination_countries(self.destination)),
            "party": d.get("party") if d else None,
            "cleartext": finding_cleartext(f, self.destination),
        }


# Violations kept per rule for the text, Markdown and JUnit outputs (each with its finding); the
# others are counted, and every violation goes to the JSON output through a spool on disk.
MAX_KEPT_VIOLATIONS = 1000


@dataclass
class RuleResult:
    rule: Rule
    violations: list[Violation] = field(default_factory=list)  # the first MAX_KEPT_VIOLATIONS
    count: int = 0  # every violation, kept or not
    records: RecordSpool = field(default_factory=RecordSpool)  # every violation's JSON

    def add(self, v: Violation) -> None:
        self.count += 1
        self.records.append(v.to_json())
        if len(self.violations) < MAX_KEPT_VIOLATIONS:
            self.violations.append(v)

    @property
    def unlisted(self) -> int:
        """Violations counted but not kept (they are in the JSON output)."""
        return self.count - len(self.violations)

    @property
    def failed(self) -> bool:
        """True when the rule has violations and its severity fails the build."""
        return bool(self.count) and self.rule.severity == "error"

    @property
    def status(self) -> str:
        if not self.count:
            return "passed"
        return "failed" if self.rule.severity == "error" else self.rule.severity


def evaluate(
    policy: Policy, doc: dict[str, Any], undeclared: frozenset[tuple[str, str]] = frozenset()
) -> list[RuleResult]:
    """Match every finding of the report document against every rule. ``undeclared``: the
    (host, category) pairs whose data type no store label given declares."""
    dests = {d.get("host"): d for d in doc.get("destinations") or ()}
    captures = [c.get("path", "") for c in doc.get("captures") or ()]
    results = [RuleResult(rule) for rule in policy.rules]
    if not results:
        return results
    for f in doc.get("findings") or ():
        dest = dests.get(f.get("host"))
        facts = finding_facts(f, dest, (f.get("host"), f.get("category")) in undeclared, policy.dpf_participants)
        ci = (f.get("flow") or {}).get("capture", 0)
        capture = captures[ci] if isinstance(ci, int) and 0 <= ci < len(captures) else "capture"
        for r in results:
            if r.rule.denies(facts):
                r.add(Violation(r.rule.id, r.rule.severity, f, dest, capture))
    for det in (doc.get("page") or {}).get("detections") or ():
        host = str(det.get("host") or "")
        dest = dests.get(host)
        base = destination_facts(dest, host, policy.dpf_participants)
        facts = Facts(
            host=base.host,
            countries=base.countries,
            party=str(det.get("party") or base.party),
            owner_names=base.owner_names,
            service=base.service,
            behaviour=det.get("behaviour"),
            dpf_participant=base.dpf_participant,
        )
        for r in results:
            if r.rule.denies(facts):
                capture = captures[0] if captures else "capture"
                r.add(Violation(r.rule.id, r.rule.severity, page_finding(det), dest, capture))
    return results


def page_finding(det: dict[str, Any]) -> dict[str, Any]:
    """A page detection in the shape of a finding, for violations and their renderers."""
    return {
        "host": det.get("host"),
        "category": f"page:{det.get('behaviour')}",
        "location": {"part": "page", "path": det.get("kind")},
        "value": det.get("detail"),
        "value_sha256": None,
        "flow": det.get("flow") or {},
        "request": det.get("request") or {"method": None, "url": det.get("script")},
    }


@dataclass
class CheckResult:
    """Everything ``auditor check`` decided: rule results and baseline changes."""

    policy: Policy
    doc: dict[str, Any]
    rules: list[RuleResult]
    baseline_path: str | None = None
    baseline: list[BaselineViolation] | None = None
    labels: LabelsResult | None = None  # the built-in labels rule (check --declared)

    @property
    def baseline_failed(self) -> bool:
        return bool(self.baseline) and self.policy.baseline.severity == "error"

    @property
    def labels_failed(self) -> bool:
        return self.labels is not None and self.labels.failed and self.policy.labels == "error"

    @property
    def passed(self) -> bool:
        return not any(r.failed for r in self.rules) and not self.baseline_failed and not self.labels_failed

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_json(self) -> dict[str, Any]:
        first_party = self.doc.get("first_party") or {}
        baseline = None
        if self.baseline is not None:
            baseline = {
                "path": self.baseline_path,
                "severity": self.policy.baseline.severity,
                "passed": not self.baseline_failed,
                "violations": [b.to_json() for b in self.baseline],
            }
        return {
            "policy": self.policy.path,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "summary": {
                "rules": len(self.rules),
                "failed_rules": sum(1 for r in self.rules if r.failed),
                "violations": sum(r.count for r in self.rules),
                "baseline_violations": len(self.baseline or ()),
            },
            "rules": [
                {
                    "id": r.rule.id,
                    "description": r.rule.description,
                    "severity": r.rule.severity,
                    "deny": r.rule.deny.describe(),
                    "allow": [a.describe() for a in r.rule.allow],
                    "status": r.status,
                    "violations": r.records.value(),
                }
                for r in self.rules
            ],
            "baseline": baseline,
            "labels": None
            if self.labels is None
            else {
                "severity": self.policy.labels,
                "passed": not self.labels_failed,
                "summary": self.labels.to_json()["summary"],
            },
            "first_party": {k: first_party.get(k) for k in ("method", "guessed", "basis", "hosts")},
        }

    @property
    def first_party_text(self) -> str:
        """How the first party was decided, in one line (with a warning when it was guessed)."""
        fp = self.doc.get("first_party") or {}
        who = ", ".join(fp.get("owners") or fp.get("hosts") or ()) or "none"
        line = f"first party: {who} ({fp.get('basis') or 'not decided'})"
        if fp.get("guessed"):
            line += "\nwarning: the first party was guessed; name it with --first-party or first_party: in the policy"
        return line


def run_check(
    policy: Policy,
    doc: dict[str, Any],
    baseline_doc: dict[str, Any] | None = None,
    baseline_path: str | None = None,
    labels: LabelsResult | None = None,
) -> CheckResult:
    """Evaluate the policy's rules and, with a baseline report, the changes since it; with
    ``labels`` (the verdicts of ``--declared``), the built-in labels rule too."""
    undeclared: frozenset[tuple[str, str]] = frozenset()
    if labels is not None:
        from auditor.labels.judge import undeclared_pairs

        undeclared = undeclared_pairs(labels)
    result = CheckResult(policy=policy, doc=doc, rules=evaluate(policy, doc, undeclared), labels=labels)
    if baseline_doc is not None:
        from auditor.gate.baseline import baseline_violations

        result.baseline_path = baseline_path
        result.baseline = baseline_violations(baseline_doc, doc, policy.baseline.allow, policy.dpf_participants)
    return result
