"""CPU thread counts, chosen for shared machines and set only inside an explicit scope.

The VAE's node recurrence and the small networks of a default search run many small tensor
operations; with several intra-op threads every one of them synchronises the threads, and on
a busy machine the waiting threads spin while their peers are descheduled, so other CPU-bound
processes slow us by orders of magnitude instead of in proportion to the load. Measured
(issue 14) on 2 loaded cores: one epoch of 1,024 NB201 cells took 4.9 s with 1 thread and
19.0 s with 2. graphvae_nas therefore uses ``DEFAULT_THREADS = 1`` intra-op thread for its CPU
work unless the caller asks for more (``--threads N``, ``TrainConfig(threads=N)``), and gains
parallelism from processes (Ray, the workers of ``graphvae_nas.experiments.compare``) instead.
A count above the CPUs this process may use (:func:`available_cpus`) is lowered to that number,
with a warning: more threads than cores only wait for each other (and torch crashed with
100,000).
"""
from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator

DEFAULT_THREADS = 1
THREADS_HELP = (f"CPU intra-op threads (default {DEFAULT_THREADS}: robust on a busy machine; "
                "more can help on an idle one)")


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):   # not on Linux
        return os.cpu_count() or 1


def bounded_threads(threads: int, *, warn: bool = True) -> int:
    """``threads``, or :func:`available_cpus` when it asks for more (with a warning unless
    ``warn`` is false: a caller that says so itself)."""
    cpus = available_cpus()
    if threads > cpus:
        if warn:
            warnings.warn(f"{threads} CPU threads asked for, {cpus} available: using {cpus}",
                          stacklevel=3)
        return cpus
    return threads


@contextlib.contextmanager
def cpu_threads(threads: int | None = DEFAULT_THREADS) -> Iterator[int]:
    """Run the ``with`` block with ``threads`` intra-op CPU threads (``None``: leave torch's
    setting; more than the machine has: as many as it has, see :func:`bounded_threads`), then
    restore the previous count. Yields the count in effect."""
    import torch   # here, so that importing this module (e.g. for CLI help) stays light

    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if threads is not None:
        threads = bounded_threads(threads)
    previous = torch.get_num_threads()
    if threads is not None and threads != previous:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
