"""The evaluator protocol: architecture in, metrics record out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from graphvae_nas.graph import Architecture


@dataclass
class Evaluation:
    """The result of evaluating one architecture.

    ``objective`` is what the search maximises; ``metrics`` holds everything else worth keeping
    (the reported metric, a simulated cost, ...). A failed evaluation has ``objective=None``
    and a ``failure`` reason; it is recorded, never retried silently. ``info`` keeps
    non-numeric details (e.g. the device a network was trained on).
    """

    objective: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    cost: float = 0.0
    failure: str | None = None
    info: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {"objective": self.objective, "metrics": self.metrics, "cost": self.cost,
                "failure": self.failure}
        if self.info:
            data["info"] = self.info
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        return cls(data.get("objective"), dict(data.get("metrics") or {}),
                   float(data.get("cost") or 0.0), data.get("failure"), dict(data.get("info") or {}))


@runtime_checkable
class Evaluator(Protocol):
    """Scores architectures of one search space."""

    def evaluate(self, arch: Architecture) -> Evaluation: ...

    def spec(self) -> dict[str, Any]:
        """What identifies this evaluator (kept in a study's store, checked on resume)."""
        ...
