"""The CI gate commands: ``auditor check``, ``auditor diff`` and ``auditor redact``.

They are registered on the ``auditor`` typer app of :mod:`auditor.cli`. Exit status: 0 when
everything passes, 1 when the policy is violated (or redaction is incomplete), 2 on bad input.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from .cli import UsageFailure, _err, app, write_private

EXIT_VIOLATIONS = 1


def _audit(captures: list[Path], first_party: list[str] | None, quiet: bool, origin: str = "option") -> dict[str, Any]:
    """The masked report document of ``captures``. ``origin``: where ``first_party`` was named."""
    from .audit import AuditOptions, audit_paths
    from .capture import CaptureError
    from .parties import FirstPartyError

    def warn(msg: str) -> None:
        if not quiet:
            _err(f"warning: {msg}")

    try:
        options = AuditOptions(reveal=False, first_party=tuple(first_party or ()), first_party_origin=origin)
        return audit_paths(captures, options, warn)
    except (CaptureError, FirstPartyError) as e:
        raise UsageFailure(str(e)) from None


def _write(path: Path, text: str) -> None:
    try:
        write_private(path, text)
    except OSError as e:
        raise UsageFailure(f"cannot write {path}: {e.strerror or e}") from None


@app.command()
def check(
    captures: Annotated[
        list[Path],
        typer.Argument(help="Saved captures: mitmproxy flow files, HAR or pcap/pcapng.", show_default=False),
    ],
    policy: Annotated[
        Path, typer.Option("--policy", "-p", help="Policy file (YAML, version: 1). See docs/ci.md.", show_default=False)
    ],
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="A previous audit's JSON (auditor report -f json, or check --json): anything new is a violation.",
        ),
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML: one test case per rule.")] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Write a Markdown summary (for $GITHUB_STEP_SUMMARY).")
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the audit's JSON report with the check result added (usable as a baseline)."),
    ] = None,
    first_party: Annotated[
        list[str] | None,
        typer.Option(
            "--first-party",
            help="Host, registrable domain or owner name of the app itself (repeatable); wins over first_party: in the policy.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the result line and errors.")] = False,
) -> None:
    """Check captures against a policy: exit 0 if it passes, 1 on violations, 2 on bad input.

    Example: auditor check fixtures/ai-chat-session.flows --policy examples/policy.yaml --junit out/auditor.xml
    """
    from .baseline import ReportError, load_report
    from .policy import PolicyError, load_policy, render_markdown, render_text, run_check
    from .renderers.junit import render_junit

    started = time.monotonic()
    try:
        pol = load_policy(policy)
    except PolicyError as e:
        raise UsageFailure(str(e)) from None
    base = None
    if baseline is not None:
        try:
            base = load_report(baseline)
        except ReportError as e:
            raise UsageFailure(str(e)) from None
    if first_party:
        doc = _audit(captures, first_party, quiet)
    else:
        doc = _audit(captures, list(pol.first_party), quiet, "policy")
    result = run_check(pol, doc, base, str(baseline) if baseline is not None else None)
    elapsed = time.monotonic() - started
    if junit is not None:
        _write(junit, render_junit(result, elapsed))
    if markdown is not None:
        _write(markdown, render_markdown(result))
    if json_out is not None:
        _write(json_out, json.dumps({**doc, "check": result.to_json()}, indent=2, ensure_ascii=False) + "\n")
    text = render_text(result)
    sys.stdout.write(text.splitlines()[-1] + "\n" if quiet else text)
    sys.stdout.flush()
    if result.exit_code:
        raise typer.Exit(EXIT_VIOLATIONS)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier audit's JSON report.", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The later audit's JSON report.", show_default=False)],
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown instead of text.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit with status 1 when the audits differ (like git diff --exit-code).")
    ] = False,
) -> None:
    """Show what changed between two audits: destinations, data categories, countries.

    Example: auditor diff baseline.json out/audit.json --markdown
    """
    from .baseline import ReportError, diff_reports, load_report, render_diff_markdown, render_diff_text

    if markdown and as_json:
        raise UsageFailure("--markdown and --json cannot be used together")
    try:
        a, b = load_report(old), load_report(new)
    except ReportError as e:
        raise UsageFailure(str(e)) from None
    d = diff_reports(a, b)
    if as_json:
        sys.stdout.write(json.dumps(d.to_json(), indent=2, ensure_ascii=False) + "\n")
    elif markdown:
        sys.stdout.write(render_diff_markdown(d, str(old), str(new)))
    else:
        sys.stdout.write(render_diff_text(d, str(old), str(new)))
    sys.stdout.flush()
    if exit_code and not d.empty:
        raise typer.Exit(EXIT_VIOLATIONS)


@app.command()
def redact(
    capture: Annotated[Path, typer.Argument(help="A mitmproxy flow file or HAR (also .zhar).", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the redacted copy.", show_default=False)],
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing but errors.")] = False,
) -> None:
    """Write a copy of a capture with every detected personal value and credential replaced.

    Placeholders keep each value's shape (an email stays an address, a JWT three segments...), so
    the copy audits the same; it is checked for leftovers before being kept, and written owner-only.

    Example: auditor redact session.flows -o fixtures/session.redacted.flows
    """
    from .capture import CaptureError
    from .redact import RedactError, check_redacted, redact_capture

    def warn(msg: str) -> None:
        if not quiet:
            _err(f"warning: {msg}")

    try:
        summary = redact_capture(capture, output, warn=warn)
    except (RedactError, CaptureError) as e:
        raise UsageFailure(str(e)) from None
    result = check_redacted(output, summary.originals)
    if result.leftovers:
        output.unlink(missing_ok=True)
        _err(f"error: redaction incomplete: {len(result.leftovers)} value(s) still found in the copy; nothing written")
        raise typer.Exit(EXIT_VIOLATIONS)
    after = {d["host"]: d["data_categories"] for d in result.document["destinations"]}
    if after != summary.categories:
        changed = sorted(h for h in after.keys() | summary.categories.keys() if after.get(h) != summary.categories.get(h))
        warn(f"the redacted copy audits differently for {', '.join(changed)}")
    if not quiet:
        values = ", ".join(f"{n} {c}" for c, n in summary.values.items()) or "none"
        _err(
            f"{summary.exchanges} requests, {sum(summary.values.values())} values replaced ({values}), "
            f"{summary.replacements} occurrences -> {output}"
        )
