"""Tabular lookup: score architectures by reading an imported architecture dataset."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphvae_nas.datasets import ArchitectureDataset
from graphvae_nas.errors import DataFormatError
from graphvae_nas.evaluation.base import Evaluation
from graphvae_nas.evaluation.fidelity import checked_fidelities
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

    ``fidelities`` makes it a fidelity-aware evaluator
    (:class:`~graphvae_nas.evaluation.fidelity.FidelityEvaluator`): a map from each fidelity
    (e.g. epochs) to the column holding the first objective at that fidelity, e.g. ``{12:
    "12ep_cifar10_valid", 200: "cifar10_valid"}``. The value is reported under the first
    objective's name at every fidelity; an evaluation costs its fidelity (each column is its own
    training run, so a promotion from 12 to 200 epochs costs 200: the table cannot continue a
    training). Other objectives and the ``report`` columns do not depend on the fidelity.
    """

    def __init__(self, dataset: ArchitectureDataset, objective: str | Sequence[str],
                 report: list[str] | None = None, cost: str | None = None,
                 space: SearchSpace | None = None,
                 fidelities: Mapping[float, str] | None = None) -> None:
        if space is not None and not same_architectures(space, dataset.space):
            raise DataFormatError(f"dataset is of space {dataset.space.spec()}, the search is over "
                                  f"{space.spec()}", field="space")
        objectives = [objective] if isinstance(objective, str) else list(objective)
        if not objectives:
            raise DataFormatError("no objective column given", field="objective")
        if len(set(objectives)) < len(objectives):
            raise DataFormatError(f"objective columns repeat: {objectives}", field="objective")
        columns = {} if fidelities is None else {float(f): c for f, c in fidelities.items()}
        if fidelities is not None:
            checked_fidelities(columns, "fidelities")
            if cost:
                raise DataFormatError("with fidelities an evaluation costs its fidelity; give no "
                                      "cost column", field="cost")
        for name in [*objectives, *(report or []), *([cost] if cost else []), *columns.values()]:
            if name not in dataset.metrics:
                raise DataFormatError(f"no column {name!r} in the dataset; available: "
                                      f"{dataset.metric_names}", field=name)
        self.dataset = dataset
        self.objectives = objectives
        self.objective = objectives[0]
        self.report = list(report or [])
        self.cost = cost
        self.columns = dict(sorted(columns.items()))
        self.fidelities = tuple(self.columns)
        self._row = dataset.index_by_hash()

    def __len__(self) -> int:
        return len(self._row)

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": "tabular", "objective": self.objective}
        if len(self.objectives) > 1:
            spec["objectives"] = self.objectives
        if self.columns:
            spec["fidelities"] = {f"{f:g}": c for f, c in self.columns.items()}
        spec.update({"report": self.report, "cost": self.cost, "records": len(self.dataset),
                     "provenance": [p.get("sha256") or p.get("file")
                                    for p in self.dataset.provenance]})
        return spec

    def row_of(self, arch: Architecture) -> int | None:
        return self._row.get(arch.canonical_hash)

    def evaluate(self, arch: Architecture) -> Evaluation:
        """The architecture's row (with fidelities: at the highest)."""
        if self.fidelities:
            return self.evaluate_at(arch, self.fidelities[-1])
        return self._read(arch, self.objective)

    def evaluate_at(self, arch: Architecture, fidelity: float) -> Evaluation:
        """The architecture's row with the first objective read at ``fidelity`` (one of
        ``fidelities``); the evaluation costs ``fidelity``."""
        column = self.columns.get(float(fidelity))
        if column is None:
            raise DataFormatError(f"no column for fidelity {fidelity:g} (fidelities: "
                                  f"{', '.join(f'{f:g}' for f in self.fidelities) or 'none'})",
                                  field="fidelity")
        evaluation = self._read(arch, column)
        evaluation.fidelity, evaluation.cost = float(fidelity), float(fidelity)
        return evaluation

    def _read(self, arch: Architecture, first_column: str) -> Evaluation:
        row = self.row_of(arch)
        if row is None:
            return Evaluation(None, failure="architecture not in the table")
        columns = {self.objective: first_column, **{n: n for n in self.objectives[1:]}}
        values = {name: float(self.dataset.metrics[c][row]) for name, c in columns.items()}
        if is_missing(first_column, values[self.objective]):
            return Evaluation(None, failure=f"no {first_column!r} value in the table")
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
