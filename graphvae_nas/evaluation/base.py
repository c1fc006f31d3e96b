"""The evaluator protocol: architecture in, metrics record out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from graphvae_nas.graph import Architecture


@dataclass
class Evaluation:
    """The result of evaluating one architecture.

    ``values`` holds the raw value of every objective the evaluator measures, by name (first
    the primary one); ``objective`` is the first of them (what a single-objective search
    optimises), so ``Evaluation(0.93)`` still works for an evaluator that measures one thing, and
    ``Evaluation(values={"acc": 0.93, "latency": 4.1})`` sets ``objective`` to 0.93. Whether an
    objective is maximised or minimised is the study's business, not the evaluation's.
    ``metrics`` holds everything else worth keeping (reported metrics, ...). A
    failed evaluation has ``objective=None`` and a ``failure`` reason; it is recorded, never
    retried silently. ``info`` keeps non-numeric details (e.g. the device a network was trained on).
    ``cost`` is what the evaluation cost in the evaluator's unit (epochs, seconds; 0: not
    counted) and ``fidelity`` the fidelity it ran at (e.g. epochs of training; None: the
    evaluator has one fidelity).
    """

    objective: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    cost: float = 0.0
    failure: str | None = None
    info: dict[str, str] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    fidelity: float | None = None

    def __post_init__(self) -> None:
        self.values = {str(k): float(v) for k, v in self.values.items()}
        if self.values:
            first = next(iter(self.values.values()))
            if self.objective is None:
                self.objective = first
            elif float(self.objective) != first:
                raise ValueError(f"Evaluation.objective ({self.objective}) must be the first of "
                                 f"its values ({first})")

    def to_dict(self) -> dict[str, Any]:
        data = {"objective": self.objective, "values": self.values, "metrics": self.metrics,
                "cost": self.cost, "failure": self.failure}
        if self.info:
            data["info"] = self.info
        if self.fidelity is not None:
            data["fidelity"] = self.fidelity
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        return cls(data.get("objective"), dict(data.get("metrics") or {}),
                   float(data.get("cost") or 0.0), data.get("failure"), dict(data.get("info") or {}),
                   dict(data.get("values") or {}),
                   None if data.get("fidelity") is None else float(data["fidelity"]))


@runtime_checkable
class Evaluator(Protocol):
    """Scores architectures of one search space."""

    def evaluate(self, arch: Architecture) -> Evaluation: ...

    def spec(self) -> dict[str, Any]:
        """What identifies this evaluator (kept in a study's store, checked on resume)."""
        ...
