"""``auditor batch``, ``auditor batch-report`` and ``auditor query`` (see :mod:`auditor.batch`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from auditor.cli.common import UsageFailure, _err, app


def _need_batch_extra() -> None:
    missing = [m for m in ("pyarrow", "duckdb") if not _importable(m)]
    if missing:
        raise UsageFailure(f"auditor batch needs {' and '.join(missing)}: pip install 'auditor[batch]'")


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


class _Progress:
    """A progress bar on a terminal; a line every 10% (and at the end) otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.done, self.quiet = total, 0, quiet
        self.counts = {"audited": 0, "skipped": 0, "failed": 0}
        self.bar: Any = None
        self.next_line = 0.1
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("auditing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.task = self.bar.add_task("captures", total=total)
            self.bar.start()

    def __call__(self, result: dict[str, Any]) -> None:
        self.done += 1
        self.counts[result["status"]] = self.counts.get(result["status"], 0) + 1
        if result["status"] == "failed" and not self.quiet:
            self._print(f"warning: {result['source']}: {result.get('error')}")
        if self.bar is not None:
            self.bar.advance(self.task)
        elif (
            not self.quiet and self.total >= 10 and self.done >= self.next_line * self.total and self.done < self.total
        ):
            _err(f"{self.done}/{self.total} captures")
            self.next_line += 0.1

    def _print(self, msg: str) -> None:
        if self.bar is not None:
            self.bar.console.print(f"auditor: {msg}", markup=False, highlight=False)
        else:
            _err(msg)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command()
def batch(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Captures, directories (one subdirectory per app), globs, or manifests (.csv, .jsonl); local paths "
                 "or fsspec URLs.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The dataset directory (created, or added to).")
    ] = Path("dataset"),
    app_name: Annotated[
        str | None,
        typer.Option(
            "--app", help="The app that captures given alone belong to (default: their parent directory's name)."
        ),
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option("--dask", help="Run on Dask: tcp://SCHEDULER:8786, or local:N for N local worker processes."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("-j", "--workers", min=1, help="Local worker processes (default: every core).")
    ] = None,
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal", help="Keep personal values unmasked in findings/ (masked, with value_sha256, by default)."
        ),
    ] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the cross-app HTML report here.")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing but errors.")] = False,
) -> None:
    """Audit many apps' captures into a Parquet dataset (captures, exchanges, findings, destinations, apps).

    A rerun skips captures already audited by this version of auditor. Exit 0 when every capture
    was audited, 1 when some failed (they are recorded in captures/ with their error), 2 on bad
    input. Example: auditor batch captures/ -o dataset --report dataset/report.html
    """
    _need_batch_extra()
    from auditor.batch.dataset import Dataset
    from auditor.batch.inputs import plan_inputs
    from auditor.batch.run import ExecutorError, run_dask, run_local
    from auditor.batch.summary import app_summaries

    plan = plan_inputs(list(inputs), app_name)
    dataset = Dataset(output)
    output.mkdir(parents=True, exist_ok=True, mode=0o700)
    (output / "captures").mkdir(exist_ok=True, mode=0o700)
    recovered = dataset.recover()
    if recovered and not quiet:
        _err(f"removed {recovered} file(s) left by an interrupted run")
    started = time.perf_counter()
    progress = _Progress(len(plan.tasks), quiet)
    try:
        if dask:
            outcome = run_dask(plan.tasks, str(output), dask, reveal, progress)
        else:
            outcome = run_local(plan.tasks, str(output), workers, reveal, progress)
    except ExecutorError as e:
        raise UsageFailure(str(e)) from None
    except KeyboardInterrupt:
        progress.close()
        _err(f"interrupted: {progress.counts['audited']} capture(s) written to {output}; a rerun resumes")
        raise typer.Exit(130) from None
    finally:
        progress.close()
    dataset.sweep_temporary()  # a worker killed mid-write left its file; its task was retried
    apps = app_summaries(dataset, plan.declarations)
    written = [str(output)]
    if report is not None:
        from auditor.batch.summary import render
        from auditor.renderers.output import write_private

        write_private(report, render(output))
        written.append(str(report))
    if not quiet:
        _err(
            f"{len(plan.tasks)} captures of {apps} app{'' if apps == 1 else 's'}: {outcome.count('audited')} audited, "
            f"{outcome.count('skipped')} already in the dataset, {outcome.count('failed')} failed "
            f"in {time.perf_counter() - started:.1f} s -> {', '.join(written)}"
        )
    raise typer.Exit(1 if outcome.count("failed") else 0)


@app.command("batch-report")
def batch_report(
    dataset: Annotated[Path, typer.Argument(help="A dataset written by auditor batch.", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML report to write.")] = Path(
        "batch-report.html"
    ),
) -> None:
    """Write the cross-app report: apps ranked by key findings, companies and SDKs across apps,
    prompts to third parties, and what changed since each app's previous version."""
    _need_batch_extra()
    from auditor.batch.summary import render
    from auditor.renderers.output import write_private

    html = render(dataset)
    try:
        write_private(output, html)
    except OSError as e:
        raise UsageFailure(f"cannot write {output}: {e.strerror or e}") from None
    _err(f"-> {output}")


@app.command()
def query(
    dataset: Annotated[Path, typer.Argument(help="A dataset written by auditor batch.", show_default=False)],
    sql: Annotated[
        str,
        typer.Argument(
            help="SQL (DuckDB) over the views captures, exchanges, findings, destinations, apps.", show_default=False
        ),
    ],
    format: Annotated[str, typer.Option("-f", "--format", help="Output: table, csv or json.")] = "table",
) -> None:
    """Query a batch dataset with SQL. Example:

    auditor query dataset "SELECT app, owner, country FROM destinations
    WHERE party = 'third' AND list_contains(data_categories, 'prompt')"
    """
    _need_batch_extra()
    import csv
    import json

    from auditor.batch.query import query as run_query

    if format not in ("table", "csv", "json"):
        raise UsageFailure(f"unknown --format {format!r}: expected table, csv or json")
    names, rows = run_query(dataset, sql)
    if format == "json":
        for r in rows:
            typer.echo(json.dumps(dict(zip(names, r, strict=True)), default=str, ensure_ascii=False))
    elif format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(names)
        w.writerows(rows)
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(*names)
        for r in rows:
            t.add_row(*("" if v is None else str(v) for v in r))
        Console(width=200).print(t)
