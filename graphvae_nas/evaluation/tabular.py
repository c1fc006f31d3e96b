"""Tabular lookup: score architectures by reading an imported architecture dataset."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphvae_nas.datasets import ArchitectureDataset
from graphvae_nas.errors import DataFormatError
from graphvae_nas.evaluation.base import Evaluation
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import SearchSpace


class TabularEvaluator:
    """Looks architectures up by canonical hash in ``dataset``.

    ``objective`` is the column the search maximises (e.g. ``cifar10_valid``); ``report`` are
    further columns recorded with each evaluation (e.g. ``cifar10_test``); ``cost`` is an
    optional column of simulated evaluation cost (e.g. training seconds).
    """

    def __init__(self, dataset: ArchitectureDataset, objective: str, report: list[str] | None = None,
                 cost: str | None = None, space: SearchSpace | None = None) -> None:
        if space is not None and space.spec() != dataset.space.spec():
            raise DataFormatError(f"dataset is of space {dataset.space.spec()}, the search is over "
                                  f"{space.spec()}", field="space")
        for name in [objective, *(report or []), *([cost] if cost else [])]:
            if name not in dataset.metrics:
                raise DataFormatError(f"no column {name!r} in the dataset; available: "
                                      f"{dataset.metric_names}", field=name)
        self.dataset = dataset
        self.objective = objective
        self.report = list(report or [])
        self.cost = cost
        self._row = dataset.index_by_hash()

    def __len__(self) -> int:
        return len(self._row)

    def spec(self) -> dict[str, Any]:
        return {"kind": "tabular", "objective": self.objective, "report": self.report,
                "cost": self.cost, "records": len(self.dataset),
                "provenance": [p.get("sha256") or p.get("file") for p in self.dataset.provenance]}

    def row_of(self, arch: Architecture) -> int | None:
        return self._row.get(arch.canonical_hash)

    def evaluate(self, arch: Architecture) -> Evaluation:
        row = self.row_of(arch)
        if row is None:
            return Evaluation(None, failure="architecture not in the table")
        value = float(self.dataset.metrics[self.objective][row])
        if math.isnan(value):
            return Evaluation(None, failure=f"no {self.objective!r} value in the table")
        metrics = {name: float(self.dataset.metrics[name][row]) for name in self.report}
        cost = float(self.dataset.metrics[self.cost][row]) if self.cost else 0.0
        return Evaluation(value, {k: v for k, v in metrics.items() if not math.isnan(v)},
                          0.0 if math.isnan(cost) else cost)

    def best(self) -> tuple[Architecture, float]:
        """The table's best architecture by the objective (for reporting regret)."""
        values = self.dataset.metrics[self.objective]
        row = int(np.nanargmax(values))
        return self.dataset.archs[row], float(values[row])
