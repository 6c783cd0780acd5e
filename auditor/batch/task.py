"""One batch task: audit one capture as ``auditor report`` does and write its rows.

Runs in a worker process (local pool or Dask worker); everything it needs travels in the
:class:`~.inputs.Task` and the dataset path, and everything it returns is a small dict.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.batch.dataset import Dataset, data_version, version_tag
from auditor.batch.inputs import Task, is_url
from auditor.batch.tables import destination_rows, exchange_rows, finding_rows, table

MAX_INPUT = 4 << 30  # bytes of one capture fetched from a URL


def _local_copy(source: str) -> tuple[Path, str, int, tempfile.TemporaryDirectory[str] | None]:
    """(local path, sha256, size); a URL is copied to a private temporary file first."""
    h = hashlib.sha256()
    size = 0
    if not is_url(source):
        path = Path(source.removeprefix("file://"))
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
        return path, h.hexdigest(), size, None
    import fsspec

    tmp = tempfile.TemporaryDirectory(prefix="auditor-batch-")
    local = Path(tmp.name) / source.rstrip("/").rsplit("/", 1)[-1]
    fs, remote = fsspec.core.url_to_fs(source)
    with fs.open(remote, "rb") as src, open(local, "wb") as dst:
        while chunk := src.read(1 << 20):
            size += len(chunk)
            if size > MAX_INPUT:
                raise ValueError(f"larger than {MAX_INPUT >> 30} GiB")
            h.update(chunk)
            dst.write(chunk)
    return local, h.hexdigest(), size, tmp


def audit_task(task: Task, dataset_dir: str, reveal: bool = False) -> dict[str, Any]:
    """Audit ``task`` into the dataset; returns ``{"status": "audited"|"skipped"|"failed", ...}``."""
    from auditor.audit.pipeline import AuditOptions, audit_paths

    started = time.perf_counter()
    dataset = Dataset(dataset_dir)
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    tag = version_tag()
    base_row: dict[str, Any] = {
        "app": task.app,
        "version": task.version,
        "platform": task.platform,
        "source": task.source,
        "auditor_version": __version__,
        "data_version": data_version(),
        "audited_at": now,
        "batch_schema": 1,
    }
    tmp = None
    try:
        try:
            local, sha, size, tmp = _local_copy(task.source)
        except (OSError, ValueError, ImportError) as e:
            sha = hashlib.sha256(task.source.encode()).hexdigest()
            name = f"{sha[:40]}-{tag}"
            reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
            dataset.write(
                task.app,
                name,
                {
                    "captures": table(
                        "captures",
                        [{**base_row, "sha256": None, "key": name, "error": f"cannot read: {reason}", "warnings": []}],
                    )
                },
                failed=True,
            )
            return {"status": "failed", "app": task.app, "source": task.source, "error": f"cannot read: {reason}"}
        name = f"{sha[:40]}-{tag}"
        if dataset.done(task.app, name):
            return {"status": "skipped", "app": task.app, "source": task.source, "key": name}
        row = {**base_row, "sha256": sha, "bytes": size, "key": name}
        try:
            doc = audit_paths([local], AuditOptions(reveal=reveal))
        except Exception as e:  # noqa: BLE001 - a capture auditor cannot read: recorded, the batch goes on
            msg = str(e).replace(str(local), Path(task.source).name) or type(e).__name__
            dataset.write(
                task.app, name, {"captures": table("captures", [{**row, "error": msg, "warnings": []}])}, failed=True
            )
            return {"status": "failed", "app": task.app, "source": task.source, "error": msg}
        base = {"app": task.app, "version": task.version, "capture_sha256": sha}
        capture = doc["captures"][0]
        summary = doc["summary"]
        tables = {
            "exchanges": table("exchanges", exchange_rows(str(local), doc, base)),
            "findings": table("findings", finding_rows(doc, base)),
            "destinations": table("destinations", destination_rows(doc, base)),
        }
        first = tables["exchanges"].column("timestamp").to_pylist()
        tables["captures"] = table(
            "captures",
            [
                {
                    **row,
                    "format": capture["format"],
                    "exchanges": summary["exchanges"],
                    "findings": summary["findings"],
                    "destinations": summary["destinations"],
                    "third_party_destinations": summary["third_party_destinations"],
                    "first_capture_at": min((t for t in first if t is not None), default=None),
                    "warnings": [w.replace(str(local), Path(task.source).name) for w in capture["warnings"]],
                    "error": None,
                }
            ],
        )
        dataset.write(task.app, name, tables)
        return {
            "status": "audited",
            "app": task.app,
            "source": task.source,
            "key": name,
            "exchanges": summary["exchanges"],
            "seconds": time.perf_counter() - started,
            "pid": os.getpid(),
        }
    finally:
        if tmp is not None:
            tmp.cleanup()
