"""Run batch tasks: a local process pool on every core, or a Dask cluster.

Both run :func:`~.task.audit_task` once per capture. A task whose worker dies (killed, out of
memory) is run again, up to ``RETRIES`` more times; since every file of a task is written under
a temporary name and renamed, with its ``captures`` file last, a retried task leaves no
duplicate or half-written rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from auditor.batch.inputs import Task
from auditor.batch.task import audit_task
from auditor.errors import AuditorError

RETRIES = 2
Progress = Callable[[dict[str, Any]], None]


class ExecutorError(AuditorError, ValueError):
    """A --dask value or a cluster that cannot be used (one line for the user)."""


@dataclass
class Outcome:
    results: list[dict[str, Any]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r["status"] == status)


def _died(task: Task, why: str) -> dict[str, Any]:
    return {"status": "failed", "app": task.app, "source": task.source, "error": why}


def run_local(
    tasks: list[Task], dataset: str, workers: int | None, reveal: bool, progress: Progress | None = None
) -> Outcome:
    """Run the tasks in a process pool of ``workers`` processes (default: every core)."""
    out = Outcome()
    attempts = dict.fromkeys(range(len(tasks)), 0)
    pending = list(range(len(tasks)))
    workers = max(1, workers or os.cpu_count() or 1)
    while pending:
        with ProcessPoolExecutor(max_workers=min(workers, len(pending))) as pool:
            futures: dict[Future[dict[str, Any]], int] = {}
            for i in pending:
                attempts[i] += 1
                futures[pool.submit(audit_task, tasks[i], dataset, reveal)] = i
            pending = []
            broken = False
            remaining = set(futures)
            while remaining:
                finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for fut in finished:
                    i = futures[fut]
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        if attempts[i] <= RETRIES:
                            pending.append(i)
                        else:
                            result = _died(tasks[i], f"its worker process died {attempts[i]} times")
                            out.results.append(result)
                            if progress:
                                progress(result)
                        continue
                    except Exception as e:  # noqa: BLE001 - a bug in a task: recorded, the batch goes on
                        result = _died(tasks[i], f"{type(e).__name__}: {e}")
                    out.results.append(result)
                    if progress:
                        progress(result)
            if broken:
                pending.sort()
    return out


def _dask_client(spec: str) -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError("--dask needs Dask: pip install 'auditor[dask]'") from None
    if spec.startswith("local:"):
        try:
            n = int(spec.removeprefix("local:"))
        except ValueError:
            n = 0
        if n < 1:
            raise ExecutorError(f"--dask {spec}: expected local:N with N >= 1 worker processes")
        import dask

        # What a local cluster of a few processes does not need, and which takes CPU and the GIL
        # from the audit running in each worker: the statistical profiler (a sample of the running
        # task every 10 ms), the event loop's 20 ms tick and the half-second system monitor. Workers
        # are forked from this process, sharing the modules already imported, instead of each
        # spawning a new interpreter that imports Dask and the audit again.
        dask.config.set(
            {
                "distributed.worker.profile.enabled": False,
                "distributed.admin.tick.interval": "1s",
                "distributed.admin.system-monitor.interval": "5s",
                "distributed.worker.multiprocessing-method": "fork",
            }
        )
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            protocol="tcp",
            silence_logs=50,
        )
        return Client(cluster), cluster
    if not spec.startswith(("tcp://", "tls://")):
        raise ExecutorError(f"--dask {spec}: expected tcp://HOST:PORT (a scheduler) or local:N")
    try:
        return Client(spec, timeout=15), None
    except (OSError, TimeoutError) as e:
        raise ExecutorError(f"--dask {spec}: cannot reach the scheduler ({e})") from None


def run_dask(tasks: list[Task], dataset: str, spec: str, reveal: bool, progress: Progress | None = None) -> Outcome:
    """Run the tasks on a Dask cluster (``tcp://scheduler:8786``, or ``local:N`` processes)."""
    from dask.distributed import as_completed

    client, cluster = _dask_client(spec)
    out = Outcome()
    try:
        futures = client.map(audit_task, tasks, dataset_dir=dataset, reveal=reveal, pure=False, retries=RETRIES)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            try:
                result = fut.result()
            except Exception as e:  # noqa: BLE001 - the task failed on every try (its worker kept dying)
                result = _died(tasks[index[fut.key]], f"{type(e).__name__}: {e}")
            out.results.append(result)
            if progress:
                progress(result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return out
