"""Tabular lookup: score architectures by reading an imported architecture dataset."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from graphvae_nas.datasets import ArchitectureDataset
from graphvae_nas.errors import DataFormatError
from graphvae_nas.evaluation.base import Evaluation
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import SearchSpace, same_architectures

HARDWARE_PREFIX = "hw_"
"""Columns of hardware cost (HW-NAS-Bench style), where the benchmark writes -1 for a cost it
did not measure (e.g. Edge TPU latency of 4,699 NAS-Bench-201 cells)."""


def is_missing(name: str, value: float) -> bool:
    """Whether ``value`` of column ``name`` is missing: NaN, or negative in a hardware-cost
    column (``hw_`` prefix: the benchmark's -1 marker)."""
    return math.isnan(value) or (name.startswith(HARDWARE_PREFIX) and value < 0)


class TabularEvaluator:
    """Looks architectures up by canonical hash in ``dataset``.

    ``objective`` is the column a search optimises (e.g. ``cifar10_valid``), or a list of them
    for a search with several objectives (e.g. ``["cifar10_valid", "hw_edgegpu_latency"]``):
    each evaluation's ``values`` holds them all, ``objective`` the first. ``report`` are further
    columns recorded with each evaluation (e.g. ``cifar10_test``); ``cost`` is an optional column
    of simulated evaluation cost (e.g. training seconds). An architecture without a value in the
    first objective column fails; one missing a later objective's value succeeds without it
    (missing: see :func:`is_missing`).
    """

    def __init__(self, dataset: ArchitectureDataset, objective: str | Sequence[str],
                 report: list[str] | None = None, cost: str | None = None,
                 space: SearchSpace | None = None) -> None:
        if space is not None and not same_architectures(space, dataset.space):
            raise DataFormatError(f"dataset is of space {dataset.space.spec()}, the search is over "
                                  f"{space.spec()}", field="space")
        objectives = [objective] if isinstance(objective, str) else list(objective)
        if not objectives:
            raise DataFormatError("no objective column given", field="objective")
        if len(set(objectives)) < len(objectives):
            raise DataFormatError(f"objective columns repeat: {objectives}", field="objective")
        for name in [*objectives, *(report or []), *([cost] if cost else [])]:
            if name not in dataset.metrics:
                raise DataFormatError(f"no column {name!r} in the dataset; available: "
                                      f"{dataset.metric_names}", field=name)
        self.dataset = dataset
        self.objectives = objectives
        self.objective = objectives[0]
        self.report = list(report or [])
        self.cost = cost
        self._row = dataset.index_by_hash()

    def __len__(self) -> int:
        return len(self._row)

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": "tabular", "objective": self.objective}
        if len(self.objectives) > 1:
            spec["objectives"] = self.objectives
        spec.update({"report": self.report, "cost": self.cost, "records": len(self.dataset),
                     "provenance": [p.get("sha256") or p.get("file")
                                    for p in self.dataset.provenance]})
        return spec

    def row_of(self, arch: Architecture) -> int | None:
        return self._row.get(arch.canonical_hash)

    def evaluate(self, arch: Architecture) -> Evaluation:
        row = self.row_of(arch)
        if row is None:
            return Evaluation(None, failure="architecture not in the table")
        values = {name: float(self.dataset.metrics[name][row]) for name in self.objectives}
        if is_missing(self.objective, values[self.objective]):
            return Evaluation(None, failure=f"no {self.objective!r} value in the table")
        metrics = {name: float(self.dataset.metrics[name][row]) for name in self.report}
        cost = float(self.dataset.metrics[self.cost][row]) if self.cost else 0.0
        return Evaluation(metrics={k: v for k, v in metrics.items() if not math.isnan(v)},
                          cost=0.0 if math.isnan(cost) else cost,
                          values={k: v for k, v in values.items() if not is_missing(k, v)})

    def best(self, direction: str = "max", objective: str | None = None) -> tuple[Architecture, float]:
        """The table's best architecture by ``objective`` (default: the first), maximised or
        minimised (``direction``), for reporting regret."""
        if direction not in ("max", "min"):
            raise ValueError(f"direction must be 'max' or 'min', got {direction!r}")
        name = objective or self.objective
        if name not in self.dataset.metrics:
            raise DataFormatError(f"no column {name!r} in the dataset", field=name)
        values = np.array([math.nan if is_missing(name, float(v)) else float(v)
                           for v in self.dataset.metrics[name]])
        if np.isnan(values).all():
            raise DataFormatError(f"column {name!r} holds no value", field=name)
        row = int(np.nanargmax(values) if direction == "max" else np.nanargmin(values))
        return self.dataset.archs[row], float(values[row])
