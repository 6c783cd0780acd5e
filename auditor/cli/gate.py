"""The CI gate commands: ``auditor check``, ``auditor diff``, ``auditor redact`` and ``auditor labels``.

They are registered on the ``auditor`` typer app of :mod:`auditor.cli`. Exit status: 0 when
everything passes, 1 when the policy is violated (or redaction is incomplete, or store labels
leave out what the traffic shows), 2 on bad input.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from auditor.cli.common import (
    FirstPartyOption,
    KeylogOption,
    OwnersOption,
    PageEventsOption,
    UsageFailure,
    _err,
    _load_keylog,
    app,
    output_paths,
    parse_formats,
    use_owners,
    write_private,
)
from auditor.limits import DEFAULT_LIMITS
from auditor.progress import OutputLog, progress_for

EXIT_VIOLATIONS = 1


def _audit(
    captures: list[Path],
    first_party: list[str] | None,
    quiet: bool,
    page_events: Path | None = None,
    keylog: Path | None = None,
    origin: str = "option",
) -> dict[str, Any]:
    """The masked report document of ``captures`` (its findings stay on disk when many), with
    what the page did when an auditor browse session's page events are beside the capture.
    ``origin``: where ``first_party`` was named (``option`` or ``policy``)."""
    from auditor.audit.pipeline import AuditOptions, audit_paths

    def warn(msg: str) -> None:
        if not quiet:
            _err(f"warning: {msg}")

    from auditor.page.events import events_for
    from auditor.page.report import add_page_section

    keys = _load_keylog(keylog, warn)
    events = events_for(captures, page_events)  # what the page did, from an auditor browse session
    options = AuditOptions(
        reveal=False, first_party=tuple(first_party or ()), first_party_origin=origin, keylog=keys
    )
    with progress_for(quiet) as progress:
        doc = audit_paths(captures, options, warn, progress, stream=True)
    if events is not None:
        add_page_section(doc, captures, events)
    return doc


def _write_text(path: Path, text: str) -> None:
    """Write a small text file (a draft declaration) owner-only; an error is a usage error."""
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
        Path | None,
        typer.Option("--policy", "-p", help="Policy file (YAML, version: 1). See docs/ci.md.", show_default=False),
    ] = None,
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
        typer.Option(
            "--json", help="Write the audit's JSON report with the check result added (usable as a baseline)."
        ),
    ] = None,
    first_party: FirstPartyOption = None,
    declared: Annotated[
        list[Path] | None,
        typer.Option(
            "--declared",
            help="Store privacy labels to check the captures against (repeatable; see docs/labels.md): adds the "
                 "built-in labels rule.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the result line and errors.")] = False,
    owners_file: OwnersOption = None,
    page_events: PageEventsOption = None,
    keylog: KeylogOption = None,
) -> None:
    """Check captures against a policy and/or store labels: exit 0 if it passes, 1 on violations, 2 on bad input.

    Example: auditor check fixtures/ai-chat-session.flows --policy examples/policy.yaml --junit out/auditor.xml
    (add --declared data_safety.csv to check the store labels too: see docs/labels.md)
    """
    from auditor.gate import Policy, load_policy, render_markdown, render_text, run_check
    from auditor.gate.baseline import load_report
    from auditor.gate.junit import render_junit
    from auditor.renderers.json_report import write_json

    started = time.monotonic()
    if policy is None and not declared:
        raise UsageFailure("nothing to check: give --policy FILE, --declared FILE, or both")
    pol = load_policy(policy) if policy is not None else Policy(rules=(), path="(no policy)")
    needing = pol.rules_needing_declarations()
    if needing and not declared:
        raise UsageFailure(f"{pol.path}: rule {needing[0]!r} selects undeclared data, which needs --declared FILE")
    decls = None
    if declared:
        from auditor.labels.command import load_all

        decls = load_all(declared)
    base = None
    if baseline is not None:
        base = load_report(baseline)
    use_owners(owners_file)
    log = OutputLog(planned=[str(p) for p in (junit, markdown, json_out) if p is not None])
    try:
        if first_party:
            doc = _audit(captures, first_party, quiet, page_events, keylog=keylog)
        else:
            doc = _audit(captures, list(pol.first_party), quiet, page_events, keylog=keylog, origin="policy")
        labels = None
        if decls is not None:
            from auditor.labels.judge import judge_all

            labels = judge_all(decls, doc)
            doc["labels"] = labels.to_json()
        result = run_check(pol, doc, base, str(baseline) if baseline is not None else None, labels)
        elapsed = time.monotonic() - started
        from auditor.io import Outputs

        current: Path | None = None
        try:
            with Outputs() as outs:  # all of them, or none (an older file stays as it was)
                if junit is not None:
                    current = junit
                    outs.write(junit, render_junit(result, elapsed))
                if markdown is not None:
                    current = markdown
                    outs.write(markdown, render_markdown(result))
                if json_out is not None:
                    current = json_out
                    with outs.open_text(json_out) as fh:  # streamed: the findings may be on disk
                        write_json({**doc, "check": result.to_json()}, fh)
        except OSError as e:
            raise UsageFailure(f"cannot write {current}: {e.strerror or e}; no output written") from None
        log.written.extend(str(p) for p in (junit, markdown, json_out) if p is not None)
    except KeyboardInterrupt:
        raise log.interrupted() from None
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
    from auditor.gate.baseline import diff_reports, load_report, render_diff_markdown, render_diff_text

    if markdown and as_json:
        raise UsageFailure("--markdown and --json cannot be used together")
    a, b = load_report(old), load_report(new)
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
    capture: Annotated[
        Path,
        typer.Argument(help="A mitmproxy flow file or HAR (also .zhar); - reads standard input.", show_default=False),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the redacted copy.", show_default=False)
    ],
    known: Annotated[
        Path | None,
        typer.Option(
            "--known",
            help="YAML file of known values (the test account's name, address, email...) to replace wherever they "
                 "occur.",
            show_default=False,
        ),
    ] = None,
    max_body_mb: Annotated[
        int,
        typer.Option(
            "--max-body-mb", min=0, help="MiB of one body or message kept; longer ones are cut there in the copy."
        ),
    ] = DEFAULT_LIMITS.max_body >> 20,
    max_inflated_mb: Annotated[
        int, typer.Option("--max-inflated-mb", min=0, help="MiB a compressed body is inflated to.")
    ] = DEFAULT_LIMITS.max_inflated >> 20,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing but errors.")] = False,
) -> None:
    """Write a copy of a capture with every detected personal value and credential replaced.

    Placeholders keep each value's shape (an email stays an address, a JWT three segments...), so
    the copy audits the same. Values are replaced in requests and responses, and wherever they
    occur in free text (an answer that echoes a name). The copy is checked before it is kept:
    exit 1, and nothing written, when a found or known value is still in it. Written owner-only.

    Example: auditor redact session.flows -o fixtures/session.redacted.flows --known known.yaml
    """
    from auditor.limits import Limits
    from auditor.redact import redact_capture

    def warn(msg: str) -> None:
        if not quiet:
            _err(f"warning: {msg}")

    known_values: list[Any] = []
    if known is not None:
        from auditor.classifiers.known import load_known

        known_values = load_known(known)
    limits = Limits(max_body=max_body_mb << 20, max_inflated=max_inflated_mb << 20)
    summary = redact_capture(capture, output, warn=warn, known=known_values, limits=limits)
    if summary.leftovers:
        _err(f"error: redaction incomplete: {summary.leftovers} value(s) still found in the copy; nothing written")
        raise typer.Exit(EXIT_VIOLATIONS)
    after = summary.after or {}
    if after != summary.categories:
        changed = sorted(
            h for h in after.keys() | summary.categories.keys() if after.get(h) != summary.categories.get(h)
        )
        warn(f"the redacted copy audits differently for {', '.join(changed)}")
    if not quiet:
        values = ", ".join(f"{n} {c}" for c, n in summary.values.items()) or "none"
        _err(
            f"{summary.exchanges} requests, {sum(summary.values.values())} values replaced ({values}), "
            f"{summary.replacements} occurrences -> {output}"
        )


@app.command()
def labels(
    captures: Annotated[
        list[Path],
        typer.Argument(help="Saved captures: mitmproxy flow files, HAR or pcap/pcapng.", show_default=False),
    ],
    declared: Annotated[
        list[Path],
        typer.Option(
            "--declared",
            help="A declaration (repeatable): Play data safety CSV, fastlane app_privacy_details.json, "
            "an App Store page's privacyDetails JSON, or PrivacyInfo.xcprivacy (XML or binary). Told from the content.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="Also write reports with a labels section: a file stem, a directory, or -.",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        str, typer.Option("-f", "--format", help="Report formats with -o: html, json, md.")
    ] = "html,json",
    draft: Annotated[
        Path | None,
        typer.Option(
            "--draft",
            help="Write a corrected declaration here (with several --declared: a directory, one "
                 "<name>.draft.csv/.json per input). Never the input.",
            show_default=False,
        ),
    ] = None,
    first_party: FirstPartyOption = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the result line and errors.")] = False,
) -> None:
    """Check store privacy labels against captures: exit 0 if all is declared, 1 if not, 2 on bad input.

    Example: auditor labels fixtures/ai-chat-session.flows --declared data_safety.csv --draft corrected.csv
    """
    from auditor.io import Outputs
    from auditor.labels.command import load_all, run
    from auditor.renderers import render_to

    targets = output_paths(output, parse_formats(format)) if output is not None else {}
    decls = load_all(declared)
    doc = _audit(captures, first_party, quiet)
    # With -o -, the report goes to standard output and the verdicts to standard error.
    result = run(doc, decls, draft, _write_text, quiet, sys.stderr if None in targets.values() else None)
    current: Path | None = None
    try:
        with Outputs() as outs:  # every format complete before any is renamed into place
            for fmt, path in targets.items():
                if path is None:
                    render_to(doc, fmt, sys.stdout)
                    continue
                current = path
                with outs.open_text(path) as fh:
                    render_to(doc, fmt, fh)
    except OSError as e:
        raise UsageFailure(f"cannot write {current}: {e.strerror or e}; no report written") from None
    if result.failed:
        raise typer.Exit(EXIT_VIOLATIONS)
