"""A JSON-lines record of finished comparison runs, so an interrupted comparison resumes.

Each line is one run (a dict with ``strategy`` and ``seed``) plus the ``settings`` that decide
its outcome. Reading checks every line's settings against the current comparison's and refuses
a file written for other settings, naming the line and the first field that differs; a last line
cut off mid-write (the process was killed) is dropped so that appending stays valid; lines are
written and fsync'd by the same :class:`~graphvae_nas.jsonl_log.AppendLog` as the study store.

A run that ends in an error is recorded too, marked ``"partial": true`` with the ``error`` and
the trials it finished (:class:`RunInterrupted` carries it out of the run), so nothing it did
is lost; it does not count as finished, so the comparison runs it again when it resumes. A run
stopped by Ctrl-C is recorded the same way (:class:`RunCancelled`) before the comparison stops.

A setting named in ``vae_settings`` (by default ``model``, the VAE's file) only decides the
runs of strategies that search a VAE's latent space, so the runs of the others are kept when
only it differs: a comparison of the cheap strategies can later be extended with latent BO in
the same file.
"""
from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from graphvae_nas.errors import DataFormatError, GraphVAENASError
from graphvae_nas.jsonl_log import AppendLog
from graphvae_nas.locking import exclusive_lock


VAE_SETTINGS = frozenset({"model"})
"""The settings of a comparison that only decide the runs of strategies searching a VAE."""


class RunInterrupted(GraphVAENASError):
    """A comparison run ended in an error; ``record`` is what it did, marked ``partial``."""

    def __init__(self, message: str, record: dict[str, Any]) -> None:
        super().__init__(message)
        self.record = record

    def __reduce__(self) -> tuple:     # from worker processes
        return RunInterrupted, (str(self), self.record)


class RunCancelled(KeyboardInterrupt):
    """A comparison run stopped by the user (Ctrl-C); ``record`` is what it did, marked
    ``partial``. A ``KeyboardInterrupt``, so it stops the program as Ctrl-C does."""

    def __init__(self, message: str, record: dict[str, Any]) -> None:
        super().__init__(message)
        self.record = record

    def __reduce__(self) -> tuple:     # from worker processes
        return RunCancelled, (str(self), self.record)


def partial_record(record: dict[str, Any], error: BaseException) -> dict[str, Any]:
    """``record`` of a run cut short by ``error``, marked as such."""
    return {**record, "partial": True, "error": f"{type(error).__name__}: {error}"}


def stopped_run(message: str, record: dict[str, Any],
                error: BaseException) -> RunInterrupted | RunCancelled:
    """The exception to raise for a run that ``error`` cut short: :class:`RunCancelled` for
    Ctrl-C, else :class:`RunInterrupted`; either carries ``record`` marked partial."""
    done = partial_record(record, error)
    kind = RunCancelled if isinstance(error, KeyboardInterrupt) else RunInterrupted
    return kind(f"{message}: {done['error']}", done)


def run_study(study: Any, budget: int | None, batch_size: int,
              record: Callable[[Any, float], dict[str, Any]],
              budget_cost: float | None = None) -> dict[str, Any]:
    """Optimise ``study`` (a :class:`~graphvae_nas.search.Study`) to ``budget`` trials (and at
    most ``budget_cost`` of cost) in batches of ``batch_size``; returns
    ``record(study, seconds)``. When the run fails, raises
    :class:`RunInterrupted` (on Ctrl-C :class:`RunCancelled`) with the record of the trials
    done, marked partial."""
    start = time.perf_counter()
    try:
        study.optimize(budget, batch_size=batch_size, budget_cost=budget_cost)
    except (Exception, KeyboardInterrupt) as exc:
        done = record(study, time.perf_counter() - start)
        raise stopped_run(f"{done['strategy']} seed {done['seed']} stopped after "
                          f"{len(study.trials)} trials", done, exc) from exc
    return record(study, time.perf_counter() - start)


def _records(path: Path, *, repair: bool) -> list[tuple[int, dict[str, Any]]]:
    """The run records of ``path`` with their line numbers; a last line cut off mid-write is
    cut from the file with ``repair``, else skipped (:class:`~graphvae_nas.jsonl_log.AppendLog`)."""
    records = []
    for number, line in AppendLog(path, "runs file").lines(repair=repair):
        try:
            run = json.loads(line)
            run["strategy"], int(run["seed"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DataFormatError(f"{path}:{number}: not a comparison run record ({exc})") from None
        records.append((number, run))
    return records


def read_runs(paths: Sequence[str | Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The finished runs of several runs files, for one table, and the partial runs (ended in
    an error, not finished since). Settings are not compared (a table may join comparisons run
    with other options); a (strategy, seed) is kept once, from the first file that has it.
    Nothing is written (a cut-off last line is skipped)."""
    finished: dict[tuple[str, int], dict[str, Any]] = {}
    partial: dict[tuple[str, int], dict[str, Any]] = {}
    for path in paths:
        if not Path(path).is_file():
            raise DataFormatError("no such runs file", path=str(path))
        for _, run in _records(Path(path), repair=False):
            key = (run["strategy"], int(run["seed"]))
            run.pop("settings", None)
            if run.get("partial"):
                partial.setdefault(key, run)
            else:
                finished.setdefault(key, run)
    return list(finished.values()), [r for k, r in partial.items() if k not in finished]


class RunsFile:
    """The finished runs of one comparison in ``path``, recorded with ``settings``; the fields
    in ``vae_settings`` are compared only for strategies that need a VAE."""

    def __init__(self, path: str | Path, settings: dict[str, Any], *,
                 vae_settings: frozenset[str] = VAE_SETTINGS) -> None:
        self.path = Path(path)
        self.settings = json.loads(json.dumps(settings))   # as it reads back from JSON
        self.vae_settings = vae_settings

    def load(self, *, partial: bool = False) -> dict[tuple[str, int], dict[str, Any]]:
        """The finished runs by (strategy, seed); none when the file does not exist. With
        ``partial``, instead the runs that ended in an error and were not finished since."""
        if not self.path.exists():
            return {}
        records = _records(self.path, repair=True)
        runs: dict[tuple[str, int], dict[str, Any]] = {}
        failed: dict[tuple[str, int], dict[str, Any]] = {}
        for number, run in records:
            key = (run["strategy"], int(run["seed"]))
            if not isinstance(run.get("settings"), dict):
                raise DataFormatError(f"{self.path}:{number}: not a comparison run record "
                                      "(no settings)")
            settings = run.pop("settings")
            for name, value in self.settings.items():
                if name in self.vae_settings and not _needs_vae(key[0]):
                    continue
                if settings.get(name) != value:
                    raise DataFormatError(
                        f"{self.path}:{number}: recorded with {name}={settings.get(name)!r}, but "
                        f"this comparison uses {name}={value!r}; use another runs file")
            (failed if run.get("partial") else runs)[key] = run
        if partial:
            return {key: run for key, run in failed.items() if key not in runs}
        return runs

    def append(self, run: dict[str, Any]) -> None:
        """Record one run, finished or partial (flushed and fsync'd before returning)."""
        AppendLog(self.path, "runs file").append({"settings": self.settings, **run})


def _needs_vae(strategy: str) -> bool:
    from graphvae_nas.search.factory import needs_vae, strategy_entry

    try:
        strategy_entry(strategy)
    except GraphVAENASError:    # a strategy registered by another program: compare everything
        return True
    return needs_vae(strategy)


Job = tuple[str, int]

_WORKER = {"busy": False, "interrupted": False}
"""A run_jobs worker process's state: running a job; Ctrl-C seen."""


def _on_interrupt(signum: int, frame: Any) -> None:
    """A worker's SIGINT handler: stop the running job; a worker waiting for one stays, and
    every job it is given after the interrupt ends at once (see :func:`_guarded`)."""
    _WORKER["interrupted"] = True
    if _WORKER["busy"]:
        raise KeyboardInterrupt


def _start_worker(initializer: Callable[..., None], initargs: tuple) -> None:
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:    # e.g. a background job's
        signal.signal(signal.SIGINT, _on_interrupt)
    initializer(*initargs)


def _guarded(run_one: Callable[[Job], dict[str, Any]], job: Job) -> dict[str, Any]:
    """``run_one(job)`` in a worker, unless the comparison was interrupted before it began
    (the pool hands queued jobs to workers after Ctrl-C, which would run them in full)."""
    if _WORKER["interrupted"]:
        raise KeyboardInterrupt(f"{job[0]} seed {job[1]} not started: interrupted")
    _WORKER["busy"] = True
    try:
        return run_one(job)
    finally:
        _WORKER["busy"] = False


def run_jobs(jobs: Sequence[Job], run_one: Callable[[Job], dict[str, Any]], *, workers: int,
             initializer: Callable[..., None], initargs: tuple,
             record: RunsFile | None = None,
             on_run: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Run every (strategy, seed) job not yet in ``record`` in ``workers`` processes (each set
    up by ``initializer(*initargs)``), recording each run as it ends and showing it to
    ``on_run``; returns the runs of ``jobs`` in their order, recorded and new.

    When a job fails, the jobs not started are cancelled, the running ones finish and are
    recorded, a :class:`RunInterrupted` job's partial record is recorded too, and the first
    error is raised. On Ctrl-C the jobs not started are cancelled and the running ones (which
    the terminal interrupts too) are recorded as they stop, partial when they raise
    :class:`RunCancelled`, and queued jobs end before they begin (each worker handles SIGINT
    so, unless it was started ignoring SIGINT); then ``KeyboardInterrupt`` is raised (a second
    Ctrl-C stops waiting). ``record``'s file is locked meanwhile (``FILE.lock``): a second
    comparison writing the same file is refused (:class:`~graphvae_nas.locking.LockedError`)."""
    with contextlib.ExitStack() as scope:
        if record is not None:
            scope.enter_context(exclusive_lock(
                f"{record.path}.lock", what=f"runs file {record.path}",
                hint="another comparison records its runs there; wait for it or use another "
                     "runs file"))
        return _run_jobs(jobs, run_one, workers, initializer, initargs, record, on_run)


def _run_jobs(jobs: Sequence[Job], run_one: Callable[[Job], dict[str, Any]], workers: int,
              initializer: Callable[..., None], initargs: tuple, record: RunsFile | None,
              on_run: Callable[[dict[str, Any]], None] | None) -> list[dict[str, Any]]:
    done = {} if record is None else record.load()
    todo = [job for job in jobs if job not in done]
    failure: BaseException | None = None
    settled: set[Future] = set()

    def settle(future: Future) -> None:
        """Record the run of a finished ``future`` (a partial one when it stopped)."""
        nonlocal failure
        settled.add(future)
        try:
            run = future.result()
        except (Exception, KeyboardInterrupt) as exc:   # noqa: BLE001 - recorded, raised below
            if isinstance(exc, (RunInterrupted, RunCancelled)) and record is not None:
                record.append(exc.record)
            failure = failure or exc
            for other in futures:
                other.cancel()
            return
        if record is not None:
            record.append(run)
        done[(run["strategy"], run["seed"])] = run
        if on_run is not None:
            on_run(run)

    if todo:
        with ProcessPoolExecutor(workers, initializer=_start_worker,
                                 initargs=(initializer, initargs)) as pool:
            futures = [pool.submit(_guarded, run_one, job) for job in todo]
            try:
                for future in as_completed(futures):
                    if not future.cancelled():
                        settle(future)
            except KeyboardInterrupt as exc:
                for other in futures:
                    other.cancel()
                # the running runs, and any that ended before as_completed handed them over
                left = [f for f in futures if not f.cancelled() and f not in settled]
                if left:
                    print(f"interrupted: recording the {len(left)} runs in progress as they "
                          "stop (Ctrl-C again to leave them)", file=sys.stderr)
                for future in left:
                    settle(future)
                failure = failure or exc
    if failure is not None:
        raise failure
    return [done[job] for job in jobs]
