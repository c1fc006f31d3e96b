"""Executors: how a batch of proposed architectures gets evaluated.

The study hands an executor its evaluator and one batch of architectures; the executor returns
one ``(Evaluation, seconds)`` per architecture, in the order given, yielded as soon as each is
known so the study can store it at once. Results are recorded in that order, so the same seeds
give the same study whichever executor ran the batch. The default
:class:`SerialExecutor` evaluates in this process; ``RayExecutor`` (the ``distributed`` extra)
spreads a batch over a Ray cluster.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from graphvae_nas.evaluation.base import Evaluation, Evaluator
from graphvae_nas.graph import Architecture


@runtime_checkable
class Executor(Protocol):
    """Evaluates batches of architectures with an evaluator."""

    def run(self, evaluator: Evaluator, archs: Sequence[Architecture]) -> Iterator[tuple[Evaluation, float]]:
        """Yield one ``(evaluation, seconds)`` per architecture, in the order of ``archs``."""
        ...

    def spec(self) -> dict[str, Any]: ...


def timed_evaluate(evaluator: Evaluator, arch: Architecture) -> tuple[Evaluation, float]:
    """Evaluate one architecture and measure its wall time."""
    start = time.perf_counter()
    evaluation = evaluator.evaluate(arch)
    return evaluation, time.perf_counter() - start


class SerialExecutor:
    """Evaluates one architecture after another in the calling process."""

    def run(self, evaluator: Evaluator, archs: Sequence[Architecture]) -> Iterator[tuple[Evaluation, float]]:
        for arch in archs:
            yield timed_evaluate(evaluator, arch)

    def spec(self) -> dict[str, Any]:
        return {"kind": "serial"}
