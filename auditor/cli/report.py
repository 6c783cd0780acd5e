"""``auditor report``, ``evaluate``, ``explain`` and ``import-owners``: audits of saved captures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from auditor.cli.common import (
    FirstPartyOption,
    KeylogOption,
    OwnersOption,
    PageEventsOption,
    RevealOption,
    UsageFailure,
    _err,
    _load_keylog,
    app,
    output_paths,
    parse_formats,
    use_owners,
)
from auditor.limits import DEFAULT_LIMITS, Limits


@app.command()
def report(
    captures: Annotated[
        list[Path],
        typer.Argument(
            help="Saved captures: mitmproxy flow files, HAR (also .zhar) or pcap/pcapng. The format is read from the "
                 "content.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            help="Output path: a file stem (out/audit -> out/audit.html, out/audit.json), a directory, or - for "
                 "stdout.",
        ),
    ] = "report",
    format: Annotated[
        str, typer.Option("-f", "--format", help="Comma-separated report formats: html, json, md.")
    ] = "html,json",
    reveal: RevealOption = False,
    first_party: FirstPartyOption = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing but errors.")] = False,
    max_body_mb: Annotated[
        int,
        typer.Option(
            "--max-body-mb",
            min=0,
            help="MiB of one stored body or WebSocket message analysed; the rest is skipped and reported.",
        ),
    ] = DEFAULT_LIMITS.max_body >> 20,
    max_inflated_mb: Annotated[
        int,
        typer.Option(
            "--max-inflated-mb", min=0, help="MiB a compressed body is inflated to (decompression bombs stop there)."
        ),
    ] = DEFAULT_LIMITS.max_inflated >> 20,
    max_depth: Annotated[
        int, typer.Option("--max-depth", min=0, help="Nesting levels of JSON walked.")
    ] = DEFAULT_LIMITS.max_depth,
    max_fields: Annotated[
        int, typer.Option("--max-fields", min=0, help="Fields analysed per exchange.")
    ] = DEFAULT_LIMITS.max_fields,
    max_headers: Annotated[
        int, typer.Option("--max-headers", min=0, help="Headers kept per request or response.")
    ] = DEFAULT_LIMITS.max_headers,
    known: Annotated[
        Path | None,
        typer.Option(
            "--known",
            help="YAML file of known values (the test account's email, phone, name, device ids, prompt canaries) to "
                 "trace in every exchange.",
            show_default=False,
        ),
    ] = None,
    owners_file: OwnersOption = None,
    page_events: PageEventsOption = None,
    keylog: KeylogOption = None,
) -> None:
    """Audit saved captures and write HTML, JSON and Markdown reports.

    Example: auditor report fixtures/ai-chat-session.flows -o out/audit --format html,json,md
    """
    from auditor.audit.pipeline import AuditOptions, audit_paths
    from auditor.destinations.parties import FirstPartyError
    from auditor.io.capture import CaptureError
    from auditor.progress import OutputLog, progress_for
    from auditor.renderers import render_to
    from auditor.renderers.output import Outputs

    fmts = parse_formats(format)
    targets = output_paths(output, fmts)
    use_owners(owners_file)
    warnings: list[str] = []

    def warn(msg: str) -> None:
        warnings.append(msg)
        if not quiet:
            _err(f"warning: {msg}")

    known_values: tuple = ()
    if known is not None:
        from auditor.classifiers.known import load_known

        known_values = tuple(load_known(known))
    limits = Limits(
        max_body=max_body_mb << 20,
        max_inflated=max_inflated_mb << 20,
        max_depth=max_depth,
        max_fields=max_fields,
        max_headers=max_headers,
    )
    from auditor.page.events import events_for

    events = events_for(captures, page_events)  # what the page did, from an auditor browse session
    options = AuditOptions(
        reveal=reveal,
        first_party=tuple(first_party or ()),
        known=known_values,
        limits=limits,
        keylog=_load_keylog(keylog, warn),
    )
    log = OutputLog(planned=[str(p) for p in targets.values() if p is not None])
    try:
        with progress_for(quiet) as progress:
            doc = audit_paths(captures, options, warn, progress, stream=True)
        if events is not None:
            from auditor.page.report import add_page_section

            add_page_section(doc, captures, events, reveal, limits)
        current = output
        try:
            with Outputs() as outs:  # every format complete before any is renamed into place
                for fmt, path in targets.items():
                    if path is None:
                        render_to(doc, fmt, sys.stdout)
                        continue
                    current = str(path)
                    with outs.open_text(path) as fh:
                        render_to(doc, fmt, fh)
        except OSError as e:
            raise UsageFailure(f"cannot write {current}: {e.strerror or e}; no report written") from None
        log.written.extend(str(p) for p in targets.values() if p is not None)
    except (CaptureError, FirstPartyError) as e:
        raise UsageFailure(str(e)) from None
    except KeyboardInterrupt:
        raise log.interrupted() from None
    if not quiet and log.written:
        from auditor.renderers.view import count  # (jinja2 is imported only when it is needed)

        s = doc["summary"]
        _err(
            f"{count(s['exchanges'], 'request')}, {count(s['destinations'], 'destination')} "
            f"({s['third_party_destinations']:,} third-party), {count(s['findings'], 'finding')} "
            f"-> {', '.join(log.written)}"
        )


@app.command()
def evaluate(
    corpus: Annotated[
        Path,
        typer.Argument(
            help="Labeled corpus directory (labels.json, with corpus.har or the captures it lists).", show_default=True
        ),
    ] = Path("corpus"),
    errors: Annotated[
        bool, typer.Option("--errors", help="Also list every false positive and false negative.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Measure the classifiers on a labeled corpus: precision, recall and F1 per category, overall,
    and per batch and group (such as the SDK) where the labels name them.

    Example: auditor evaluate corpus    (or: auditor evaluate corpus/real, recorded from real SDKs)
    """
    from auditor.audit.evaluate import evaluate_corpus, format_report

    result = evaluate_corpus(corpus)
    if json_out:
        import json

        typer.echo(json.dumps(result.to_dict(errors), indent=2, ensure_ascii=False))
    else:
        typer.echo(format_report(result, errors))


@app.command()
def explain(
    host: Annotated[
        str, typer.Argument(help="A host name, an IP address or a URL (its host is used).", show_default=False)
    ],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    owners_file: OwnersOption = None,
) -> None:
    """Print what auditor knows of a host: owner, parent, countries, category, legal notes, and sources.

    Example: auditor explain mcs.volceapplog.com
    """
    from auditor.destinations.explain import explain as explain_host
    from auditor.destinations.explain import format_text

    if not host.strip():
        raise UsageFailure("no host given")
    use_owners(owners_file)
    info = explain_host(host)
    if json_out:
        import json

        typer.echo(json.dumps(info, indent=2, ensure_ascii=False))
    else:
        typer.echo("\n".join(format_text(info)))


@app.command("import-owners")
def import_owners(
    source: Annotated[
        Path,
        typer.Argument(
            help="The dist/ folder of AdGuard's companiesdb (companies.json and trackers.json), downloaded by you.",
            show_default=False,
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="The owners file to write.")] = Path(
        "owners-companiesdb.json"
    ),
) -> None:
    """Convert AdGuard's companiesdb into an owners file for --owners (no countries; CC BY-SA 4.0).

    Example: auditor import-owners companiesdb/dist -o owners-companiesdb.json
             auditor report app.har --owners owners-companiesdb.json
    """
    from auditor.destinations.owners_import import convert, dumps

    doc = convert(source)
    try:
        output.write_text(dumps(doc), encoding="utf-8")
    except OSError as e:
        raise UsageFailure(f"cannot write {output}: {e.strerror or e}") from None
    domains = sum(len(e["domains"]) for e in doc["entries"])
    _err(f"{domains} domains of {len(doc['entries'])} owners -> {output}")
