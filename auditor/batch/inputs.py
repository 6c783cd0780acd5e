"""What ``auditor batch`` is given: files, directories (one subdirectory per app), globs, and
manifests (CSV or JSONL), local or behind fsspec URLs (``s3://``, ``gs://``, ``memory://``...)."""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError

MANIFEST_SUFFIXES = (".csv", ".jsonl", ".ndjson")
CAPTURE_SUFFIXES = (".flows", ".mitm", ".har", ".zhar", ".pcap", ".pcapng", ".cap", ".gz")
MANIFEST_FIELDS = ("app", "version", "platform", "captures", "declarations")


class InputError(AuditorError, ValueError):
    """Inputs that cannot be used (a bad manifest, nothing matched); one line for the user."""


@dataclass(frozen=True)
class Task:
    """One capture to audit, with the app it belongs to."""

    app: str
    source: str  # a local path or an fsspec URL
    version: str | None = None
    platform: str | None = None
    declarations: tuple[str, ...] = ()


@dataclass
class Plan:
    tasks: list[Task] = field(default_factory=list)
    declarations: dict[str, list[str]] = field(default_factory=dict)  # app -> declaration files


def is_url(source: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source))


def _fs(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:
        raise InputError(f"{url}: reading URLs needs fsspec: pip install fsspec (and its s3fs or gcsfs)") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:
        raise InputError(f"{url}: {e}") from None


def read_bytes(source: str, limit: int | None = None) -> bytes:
    """The content of a local path or an fsspec URL (up to ``limit`` bytes)."""
    if is_url(source):
        fs, path = _fs(source)
        with fs.open(path, "rb") as fh:
            return fh.read(-1 if limit is None else limit)
    with open(source.removeprefix("file://"), "rb") as fh:
        return fh.read(-1 if limit is None else limit)


def _is_capture_name(name: str) -> bool:
    return name.lower().endswith(CAPTURE_SUFFIXES)


def _listing(source: str) -> tuple[list[str], bool]:
    """(entries, is_directory) for a local path or URL: a directory's files, recursively."""
    if is_url(source):
        fs, path = _fs(source)
        if fs.isdir(path):
            root = path.rstrip("/")
            base = source.rstrip("/")
            return sorted(f"{base}/{p[len(root) :].lstrip('/')}" for p in fs.find(path) if p.startswith(root)), True
        if fs.exists(path):
            return [source], False
        raise InputError(f"{source}: no such file or directory")
    p = Path(source.removeprefix("file://"))
    if p.is_dir():
        return sorted(str(f) for f in p.rglob("*") if f.is_file()), True
    if p.is_file():
        return [str(p)], False
    matches = sorted(glob.glob(source, recursive=True))
    if matches:
        return [m for m in matches if Path(m).is_file()], False
    raise InputError(f"{source}: no such file, directory or glob match")


def _app_of(file: str, root: str | None, named: str | None) -> str:
    if named:
        return named
    parts = file.replace("\\", "/").rstrip("/").split("/")
    if root is not None:
        rel = file[len(root.rstrip("/")) + 1 :].split("/")
        if len(rel) > 1:  # DIR/APP/.../capture: the first level below the directory names the app
            return rel[0]
    return parts[-2] if len(parts) > 1 and parts[-2] else "app"


def _manifest_rows(source: str) -> list[dict[str, Any]]:
    text = read_bytes(source).decode("utf-8-sig", errors="replace")
    rows: list[dict[str, Any]] = []
    if source.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "app" not in reader.fieldnames or "captures" not in reader.fieldnames:
            raise InputError(
                f"{source}: a manifest CSV needs the columns app and captures "
                "(and optionally version, platform, declarations)"
            )
        for n, row in enumerate(reader, 2):
            rows.append({"line": n, **{k: (v or "").strip() for k, v in row.items() if k}})
        return rows
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{source}:{n}: not JSON: {e.msg}") from None
        if not isinstance(obj, dict):
            raise InputError(f"{source}:{n}: expected a JSON object")
        rows.append({"line": n, **obj})
    return rows


def _listish(value: Any, where: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[;|]", value) if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InputError(f"{where}: expected a path or a list of paths")


def _from_manifest(source: str, plan: Plan) -> None:
    base = "" if is_url(source) else str(Path(source).parent)
    for row in _manifest_rows(source):
        where = f"{source}:{row['line']}"
        app = row.get("app")
        if not isinstance(app, str) or not app.strip():
            raise InputError(f"{where}: missing app")
        unknown = sorted(set(row) - {"line", *MANIFEST_FIELDS})
        if unknown:
            raise InputError(f"{where}: unknown field(s) {', '.join(unknown)} (expected {', '.join(MANIFEST_FIELDS)})")
        captures = _listish(row.get("captures"), where)
        if not captures:
            raise InputError(f"{where}: no captures")
        resolve = lambda p: p if is_url(p) or os.path.isabs(p) or not base else os.path.join(base, p)  # noqa: E731
        decls = tuple(resolve(d) for d in _listish(row.get("declarations"), where))
        version = row.get("version")
        platform = row.get("platform")
        for c in captures:
            plan.tasks.append(
                Task(
                    app.strip(),
                    resolve(c),
                    str(version) if version not in (None, "") else None,
                    str(platform) if platform not in (None, "") else None,
                    decls,
                )
            )
        if decls:
            plan.declarations.setdefault(app.strip(), []).extend(decls)


def plan_inputs(sources: list[str], app: str | None = None) -> Plan:
    """Expand the command's inputs into tasks (one per capture). Raises :class:`InputError`."""
    plan = Plan()
    for source in sources:
        if source.lower().endswith(MANIFEST_SUFFIXES):
            _from_manifest(source, plan)
            continue
        files, is_dir = _listing(source)
        for f in files:
            name = f.rsplit("/", 1)[-1]
            if is_dir and not _is_capture_name(name):
                continue  # reports, page events, notes kept beside the captures
            plan.tasks.append(Task(_app_of(f, source if is_dir else None, app), f))
    seen: set[tuple[str, str]] = set()
    unique = []
    for t in plan.tasks:
        if (t.app, t.source) not in seen:
            seen.add((t.app, t.source))
            unique.append(t)
    plan.tasks = unique
    if not plan.tasks:
        raise InputError(f"no captures found in {', '.join(sources)}")
    return plan
