"""Evaluators with several fidelities (a table's 12- and 200-epoch columns, epochs of training).

A fidelity-aware evaluator lists its ``fidelities`` (ascending) and scores an architecture at
one of them with ``evaluate_at``; ``evaluate`` scores it at the highest. Executors evaluate
batches with a plain :class:`~graphvae_nas.evaluation.base.Evaluator`: :class:`AtFidelity`
binds one fidelity, so a batch is run fidelity by fidelity.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation.base import Evaluation, Evaluator
from graphvae_nas.graph import Architecture


@runtime_checkable
class FidelityEvaluator(Protocol):
    """Scores architectures at one of several fidelities; each evaluation records its
    ``fidelity`` and its ``cost``."""

    fidelities: tuple[float, ...]

    def evaluate(self, arch: Architecture) -> Evaluation: ...

    def evaluate_at(self, arch: Architecture, fidelity: float) -> Evaluation: ...

    def spec(self) -> dict[str, Any]: ...


def checked_fidelities(fidelities: Iterable[float], what: str = "fidelities") -> tuple[float, ...]:
    """``fidelities`` as ascending floats; raises on an empty, repeated or non-positive list."""
    values = sorted(float(f) for f in fidelities)
    if not values:
        raise GraphVAENASError(f"{what}: give at least one fidelity")
    if len(set(values)) < len(values):
        raise GraphVAENASError(f"{what}: fidelities repeat ({values})")
    if values[0] <= 0:
        raise GraphVAENASError(f"{what}: fidelities must be positive ({values})")
    return tuple(values)


def fidelities_of(evaluator: Evaluator) -> tuple[float, ...] | None:
    """The evaluator's fidelities, or None for an evaluator with one fidelity (also one
    that could have several but was given none, e.g. a table without ``fidelities``)."""
    if not isinstance(evaluator, FidelityEvaluator) or not evaluator.fidelities:
        return None
    return tuple(evaluator.fidelities)


class AtFidelity:
    """``evaluator`` bound to one of its fidelities: an ordinary evaluator for executors."""

    def __init__(self, evaluator: FidelityEvaluator, fidelity: float) -> None:
        if float(fidelity) not in evaluator.fidelities:
            raise GraphVAENASError(f"fidelity {fidelity} is not one of the evaluator's "
                                   f"({', '.join(f'{f:g}' for f in evaluator.fidelities)})")
        self.evaluator = evaluator
        self.fidelity = float(fidelity)

    def evaluate(self, arch: Architecture) -> Evaluation:
        return self.evaluator.evaluate_at(arch, self.fidelity)

    def spec(self) -> dict[str, Any]:
        return {**self.evaluator.spec(), "fidelity": self.fidelity}


def parse_fidelities(text: str) -> dict[float, str | None]:
    """``"1,4"`` (epochs of training) as ``{1.0: None, 4.0: None}``, or
    ``"12=12ep_cifar10_valid,200=cifar10_valid"`` (a table's column per fidelity) as
    ``{12.0: "12ep_cifar10_valid", 200.0: "cifar10_valid"}``; checked as
    :func:`checked_fidelities` checks them."""
    out: dict[float, str | None] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        value, sep, column = (s.strip() for s in item.partition("="))
        try:
            fidelity = float(value)
        except ValueError:
            raise GraphVAENASError(f"--fidelities: {value!r} is not a number (expected e.g. 1,4 "
                                   "or 12=COLUMN,200=COLUMN)") from None
        if sep and not column:
            raise GraphVAENASError(f"--fidelities: no column after {value}=")
        if fidelity in out:
            raise GraphVAENASError(f"--fidelities: {value} is given twice")
        out[fidelity] = column or None
    checked_fidelities(out, "--fidelities")
    if len({c is None for c in out.values()}) > 1:
        raise GraphVAENASError("--fidelities: give a column for every fidelity or for none")
    return out
