"""CPU thread counts, chosen for shared machines and set only inside an explicit scope.

The VAE's node recurrence and the small networks of a default search run many small tensor
operations; with several intra-op threads every one of them synchronises the threads, and on
a busy machine the waiting threads spin while their peers are descheduled, so other CPU-bound
processes slow us by orders of magnitude instead of in proportion to the load. Measured
(issue 14) on 2 loaded cores: one epoch of 1,024 NB201 cells took 4.9 s with 1 thread and
19.0 s with 2. graphvae_nas therefore uses ``DEFAULT_THREADS = 1`` intra-op thread for its CPU
work unless the caller asks for more (``--threads N``, ``TrainConfig(threads=N)``), and gains
parallelism from processes (Ray, ``search.compare`` workers) instead.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

DEFAULT_THREADS = 1
THREADS_HELP = (f"CPU intra-op threads (default {DEFAULT_THREADS}: robust on a busy machine; "
                "more can help on an idle one)")


@contextlib.contextmanager
def cpu_threads(threads: int | None = DEFAULT_THREADS) -> Iterator[int]:
    """Run the ``with`` block with ``threads`` intra-op CPU threads (``None``: leave torch's
    setting), then restore the previous count. Yields the count in effect."""
    import torch   # here, so that importing this module (e.g. for CLI help) stays light

    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    previous = torch.get_num_threads()
    if threads is not None and threads != previous:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
