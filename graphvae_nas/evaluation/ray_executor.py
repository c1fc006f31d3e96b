"""Evaluate a study's batches as Ray tasks (the ``distributed`` extra).

One Ray task per architecture, each reserving ``cpus_per_trial`` CPUs and ``gpus_per_trial``
GPUs (fractions pack several trainings on one GPU: 0.25 runs four at a time). Results come
back in the order the architectures were given, each as soon as it and all before it are
known, so a study records the same trials with this executor as with the serial one.

Failures never reach the study as exceptions; each becomes a failed :class:`Evaluation`:

* a worker process that dies (killed, out of memory, segfault) is a *system* failure: Ray
  reruns the task up to ``max_retries`` times and only its last outcome is reported, so the
  architecture is recorded once;
* an evaluator that raises fails at once, not retried (it would most likely raise again),
  with the exception's type and message as the reason;
* a task still running ``timeout_s`` seconds after it *started* (time spent queued for a
  free CPU/GPU does not count; time of retried attempts does) is cancelled with
  ``ray.cancel(force=True)``, which kills its worker, and reported as
  ``"timed out after X s"``.

The evaluator is shipped to the cluster once per batch with ``ray.put``; it must be
picklable, and on a remote cluster ``graphvae_nas`` (and whatever the evaluator's class
needs) must be importable by the workers.
"""
from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation.base import Evaluation, Evaluator
from graphvae_nas.evaluation.executors import timed_evaluate
from graphvae_nas.graph import Architecture

if TYPE_CHECKING:
    from typing_extensions import Self

_STARTED = "started"


def _import_ray() -> ModuleType:
    """``import ray``, or an ImportError saying which extra to install."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError('RayExecutor needs Ray: pip install "graphvae_nas[distributed]"') from exc
    return ray


def _evaluate_task(evaluator: Evaluator, arch: Architecture) -> Iterator[Any]:
    """The Ray generator task: announce the start, then yield ``(evaluation, seconds)``.

    The first item tells the driver when the task started running (for the timeout);
    an exception of the evaluator becomes a failed evaluation here, in the worker.
    """
    yield _STARTED
    start = time.perf_counter()
    try:
        outcome = timed_evaluate(evaluator, arch)
    except Exception as exc:  # noqa: BLE001 - any evaluator error is a failed trial
        outcome = (Evaluation(None, failure=f"evaluation raised {_describe(exc)}"),
                   time.perf_counter() - start)
    yield outcome


@functools.lru_cache(maxsize=1)
def _remote_task() -> Any:
    """``_evaluate_task`` as a Ray remote function (a streaming generator)."""
    return _import_ray().remote(num_returns="streaming")(_evaluate_task)


def _describe(exc: BaseException) -> str:
    """``Type: first line of the message``, unwrapping Ray's task-error wrapper."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException) and cause is not exc:
        exc = cause
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


@dataclass
class _Trial:
    """One submitted architecture: its Ray generator and when it started running."""

    index: int
    stream: Any
    started: float | None = None
    deadline: float | None = None


class RayExecutor:
    """Evaluates each batch as parallel Ray tasks; results in the order given (see module doc).

    ``address`` is passed to ``ray.init`` (``None`` starts a local Ray instance, or joins the
    one found the usual way: ``RAY_ADDRESS``, a ``ray start`` cluster), together with
    ``init_kwargs``; Ray is started only on the first :meth:`run`, and only if this process
    is not connected already. :meth:`shutdown` (or leaving a ``with`` block) disconnects only
    if this executor connected.
    """

    def __init__(self, gpus_per_trial: float = 0.0, cpus_per_trial: float = 1.0,
                 timeout_s: float | None = None, max_retries: int = 2,
                 address: str | None = None, init_kwargs: dict[str, Any] | None = None) -> None:
        if gpus_per_trial < 0 or cpus_per_trial < 0:
            raise GraphVAENASError(f"resources per trial must not be negative, got "
                                   f"gpus_per_trial={gpus_per_trial}, cpus_per_trial={cpus_per_trial}")
        if timeout_s is not None and timeout_s <= 0:
            raise GraphVAENASError(f"timeout_s must be positive (or None), got {timeout_s}")
        if max_retries < -1:
            raise GraphVAENASError(f"max_retries must be >= 0 (or -1: unlimited), got {max_retries}")
        if "address" in (init_kwargs or {}):
            raise GraphVAENASError("pass the cluster as address=..., not in init_kwargs")
        self._ray = _import_ray()
        self.gpus_per_trial = float(gpus_per_trial)
        self.cpus_per_trial = float(cpus_per_trial)
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.address = address
        self.init_kwargs = dict(init_kwargs or {})
        self._started_ray = False

    # ------------------------------------------------------------------ lifecycle
    def _connect(self) -> None:
        """Start or join Ray unless this process is connected already."""
        ray = self._ray
        if ray.is_initialized():
            return
        ray.init(address=self.address, **self.init_kwargs)
        self._started_ray = True
        if self.address is None:  # a local instance: a trial that cannot fit would wait forever
            resources = ray.cluster_resources()
            for name, need in (("CPU", self.cpus_per_trial), ("GPU", self.gpus_per_trial)):
                if need > resources.get(name, 0.0):
                    self.shutdown()
                    raise GraphVAENASError(f"each trial needs {need:g} {name}(s) but this Ray "
                                           f"instance has {resources.get(name, 0.0):g}")

    def shutdown(self) -> None:
        """Disconnect from Ray (stopping a local instance) if this executor connected."""
        if self._started_ray and self._ray.is_initialized():
            self._ray.shutdown()
        self._started_ray = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.shutdown()

    def spec(self) -> dict[str, Any]:
        return {"kind": "ray", "gpus_per_trial": self.gpus_per_trial,
                "cpus_per_trial": self.cpus_per_trial, "timeout_s": self.timeout_s,
                "max_retries": self.max_retries}

    # ------------------------------------------------------------------ evaluation
    def _failure(self, exc: BaseException) -> Evaluation:
        ray = self._ray
        reason = _describe(exc)
        system = (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                  ray.exceptions.OutOfMemoryError)
        if isinstance(exc, system) and self.max_retries >= 0:
            tries = self.max_retries + 1
            reason = f"worker lost on all {tries} attempt{'s' if tries > 1 else ''} ({reason})"
        return Evaluation(None, failure=reason)

    def run(self, evaluator: Evaluator, archs: Sequence[Architecture]) -> Iterator[tuple[Evaluation, float]]:
        """Yield ``(evaluation, seconds)`` per architecture, in the order of ``archs``.

        ``seconds`` is the evaluation's wall time in the worker (for a timed-out or lost
        trial: the time since it started). Leaving the loop early cancels the tasks left.
        """
        archs = list(archs)
        if not archs:
            return
        ray = self._ray
        self._connect()
        task = _remote_task().options(num_cpus=self.cpus_per_trial, num_gpus=self.gpus_per_trial,
                                      max_retries=self.max_retries, retry_exceptions=False)
        shipped = ray.put(evaluator)
        running = {i: _Trial(i, task.remote(shipped, arch)) for i, arch in enumerate(archs)}
        results: dict[int, tuple[Evaluation, float]] = {}
        try:
            for index in range(len(archs)):
                while index not in results:
                    self._step(running, results)
                yield results.pop(index)
        finally:
            for trial in running.values():  # the consumer stopped early (an error, Ctrl-C)
                with contextlib.suppress(Exception):  # best effort: it may be gone already
                    ray.cancel(trial.stream, force=True)

    def _step(self, running: dict[int, _Trial], results: dict[int, tuple[Evaluation, float]]) -> None:
        """Wait for the next event (a start, a result, a deadline) and record what it settles."""
        ray = self._ray
        deadlines = [t.deadline for t in running.values() if t.deadline is not None]
        wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        streams = {id(t.stream): t for t in running.values()}
        if not running:
            raise RuntimeError("RayExecutor: no task left for a result still missing")
        ready, _ = ray.wait([t.stream for t in running.values()], num_returns=1, timeout=wait_s)
        for stream in ready:
            self._advance(streams[id(stream)], running, results)
        now = time.monotonic()
        for trial in [t for t in running.values() if t.deadline is not None and now >= t.deadline]:
            if ray.wait([trial.stream], timeout=0)[0]:  # finished just in time
                self._advance(trial, running, results)
                continue
            ray.cancel(trial.stream, force=True)
            del running[trial.index]
            results[trial.index] = (Evaluation(None, failure=f"timed out after {self.timeout_s:g} s"),
                                    now - trial.started)

    def _advance(self, trial: _Trial, running: dict[int, _Trial],
                 results: dict[int, tuple[Evaluation, float]]) -> None:
        """Take the next item of a ready stream: the start marker, the result, or an error."""
        now = time.monotonic()
        elapsed = now - trial.started if trial.started is not None else 0.0
        try:
            item = self._ray.get(next(trial.stream))
        except StopIteration:
            outcome = Evaluation(None, failure="the Ray task ended without a result"), elapsed
        except Exception as exc:  # noqa: BLE001 - worker lost, cancelled, unpicklable, ...
            outcome = self._failure(exc), elapsed
        else:
            if trial.started is None:  # the start marker (retried attempts do not repeat it)
                trial.started = now
                if self.timeout_s is not None:
                    trial.deadline = now + self.timeout_s
                return
            outcome = self._result(item)
        del running[trial.index]
        results[trial.index] = outcome

    @staticmethod
    def _result(item: Any) -> tuple[Evaluation, float]:
        """Check that a task's second item is ``(Evaluation, seconds)``."""
        if (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Evaluation)
                and isinstance(item[1], (int, float))):
            return item[0], float(item[1])
        return Evaluation(None, failure=f"the Ray task returned {type(item).__name__}, "
                                        "not an evaluation"), 0.0
