"""Pareto fronts, non-dominated sorting, hypervolumes and their fixed reference points.

Every function here works on values *oriented larger-is-better* (a ``min`` objective negated,
see :mod:`graphvae_nas.search.objectives`) unless it says it takes raw values. Dominance and
hypervolume come from BoTorch (``is_non_dominated``, ``DominatedPartitioning``); only the
crowding distance of NSGA-II, which BoTorch does not have, is computed here.

Reference points
----------------
A hypervolume is measured from a reference point, and two hypervolumes are only comparable
with the same one. :func:`reference_point` takes the fixed points a benchmark documents
(``known``, by objective set: e.g. NAS-Bench-201's in
:data:`graphvae_nas.experiments.nb201.REFERENCE_POINTS`) and otherwise falls back to the
*observed* worst value of each objective over the values given, and says so
(``source == "observed"``); such hypervolumes are not comparable across studies.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.search.objectives import Objective

@dataclass(frozen=True)
class ReferencePoint:
    """Raw reference values by objective name, and where they come from: ``"fixed"`` (a
    benchmark's documented point) or ``"observed"`` (the worst values seen)."""

    values: dict[str, float]
    source: str

    def oriented(self, objectives: Sequence[Objective]) -> list[float]:
        return [o.orient(self.values[o.name]) for o in objectives]

    def to_dict(self) -> dict[str, Any]:
        return {"values": dict(self.values), "source": self.source}


def _botorch():
    try:
        from botorch.utils.multi_objective.box_decompositions.dominated import (
            DominatedPartitioning,
        )
        from botorch.utils.multi_objective.pareto import is_non_dominated
    except ImportError as exc:
        raise GraphVAENASError("Pareto fronts and hypervolumes need BoTorch: pip install "
                               "'graphvae_nas[bo]'") from exc
    return is_non_dominated, DominatedPartitioning


def _tensor(Y: Any) -> torch.Tensor:
    Y = torch.as_tensor(Y, dtype=torch.float64)
    if Y.dim() != 2:
        raise ValueError(f"values must be [n, m], got shape {tuple(Y.shape)}")
    return Y


def reference_point(objectives: Sequence[Objective],
                    raw_rows: Sequence[Mapping[str, float]] | None = None, *,
                    known: Mapping[frozenset[str], Mapping[str, float]] | None = None
                    ) -> ReferencePoint:
    """The fixed reference point of ``objectives`` when ``known`` (raw values by objective
    name, keyed by the set of objective names) has their set, else the worst raw value of
    each objective over ``raw_rows`` (``source="observed"``)."""
    names = [o.name for o in objectives]
    fixed = (known or {}).get(frozenset(names))
    if fixed is not None:
        return ReferencePoint({n: fixed[n] for n in names}, "fixed")
    rows = [r for r in (raw_rows or []) if all(n in r for n in names)]
    if not rows:
        raise GraphVAENASError(f"no fixed reference point for objectives {', '.join(names)} and "
                               "no values to take the worst of")
    worst = {o.name: (min if o.direction == "max" else max)(float(r[o.name]) for r in rows)
             for o in objectives}
    return ReferencePoint(worst, "observed")


def pareto_mask(Y: Any) -> torch.Tensor:
    """Which rows of ``Y [n, m]`` (larger is better) no other row dominates; equal rows all
    stay. BoTorch's ``is_non_dominated``."""
    is_non_dominated, _ = _botorch()
    Y = _tensor(Y)
    if len(Y) == 0:
        return torch.zeros(0, dtype=torch.bool)
    return is_non_dominated(Y, deduplicate=False)


def hypervolume(Y: Any, ref: Sequence[float]) -> float:
    """The volume dominated by the rows of ``Y [n, m]`` (larger is better) and bounded below by
    ``ref`` (oriented the same way); rows not strictly better than ``ref`` in every objective
    add nothing. BoTorch's ``DominatedPartitioning`` (exact)."""
    _, DominatedPartitioning = _botorch()
    Y = _tensor(Y)
    ref_t = torch.as_tensor(list(ref), dtype=torch.float64)
    if len(Y) and Y.shape[1] != len(ref_t):
        raise ValueError(f"{Y.shape[1]} objectives but a reference point of {len(ref_t)}")
    Y = Y[(Y > ref_t).all(-1)] if len(Y) else Y
    if len(Y) == 0:
        return 0.0
    Y = Y[pareto_mask(Y)]
    return float(DominatedPartitioning(ref_point=ref_t, Y=Y).compute_hypervolume())


def pareto_ranks(Y: Any) -> torch.Tensor:
    """The non-dominated sorting of NSGA-II: rank 0 for the Pareto front of ``Y [n, m]``, rank 1
    for the front of the rest, and so on (BoTorch's ``is_non_dominated`` per layer)."""
    Y = _tensor(Y)
    ranks = torch.full((len(Y),), -1, dtype=torch.long)
    left = torch.arange(len(Y))
    rank = 0
    while len(left):
        front = pareto_mask(Y[left])
        ranks[left[front]] = rank
        left = left[~front]
        rank += 1
    return ranks


def crowding_distances(Y: Any) -> torch.Tensor:
    """NSGA-II's crowding distance of each row of ``Y [n, m]`` within its set: per objective, the
    gap between its two neighbours over the objective's range, summed; the extremes are
    infinite (so they are kept first)."""
    Y = _tensor(Y)
    n, m = Y.shape
    distance = torch.zeros(n, dtype=torch.float64)
    if n <= 2:
        return torch.full((n,), math.inf, dtype=torch.float64)
    for j in range(m):
        order = Y[:, j].argsort(stable=True)
        column = Y[order, j]
        span = float(column[-1] - column[0])
        distance[order[0]] = distance[order[-1]] = math.inf
        if span > 0:
            distance[order[1:-1]] += (column[2:] - column[:-2]) / span
    return distance


def survival_order(Y: Any) -> list[int]:
    """Row indices of ``Y [n, m]`` from most to least preferred by NSGA-II: lower Pareto rank
    first, then larger crowding distance, then the earlier row (stable, deterministic). With
    one objective this is simply descending value."""
    Y = _tensor(Y)
    ranks = pareto_ranks(Y)
    crowding = torch.zeros(len(Y), dtype=torch.float64)
    for rank in ranks.unique().tolist():
        members = (ranks == rank).nonzero().reshape(-1)
        crowding[members] = crowding_distances(Y[members])
    return sorted(range(len(Y)), key=lambda i: (int(ranks[i]), -float(crowding[i]), i))


def leaders(Y: Any, k: int) -> list[int]:
    """The ``k`` best rows of ``Y [n, m]``: by value for one objective, by
    :func:`survival_order` for several (what the candidate generators centre on)."""
    Y = _tensor(Y)
    if Y.shape[1] == 1:
        return Y[:, 0].argsort(descending=True, stable=True)[:k].tolist()
    return survival_order(Y)[:k]


def raw_front(objectives: Sequence[Objective], rows: Sequence[Mapping[str, float]]) -> list[int]:
    """Indices (in order) of the raw value rows that lie on the Pareto front of
    ``objectives``; rows lacking an objective are left out."""
    kept = [i for i, r in enumerate(rows) if all(o.name in r for o in objectives)]
    if not kept:
        return []
    Y = [[o.orient(float(rows[i][o.name])) for o in objectives] for i in kept]
    return [i for i, keep in zip(kept, pareto_mask(Y).tolist()) if keep]


def table_rows(dataset, objectives: Sequence[Objective]) -> list[tuple[Any, dict[str, float]]]:
    """``(architecture, raw values)`` of every distinct architecture of a dataset (the first row
    of each canonical hash, as :class:`~graphvae_nas.evaluation.TabularEvaluator` reads it)
    that has every objective (missing values: see
    :func:`graphvae_nas.evaluation.tabular.is_missing`)."""
    from graphvae_nas.evaluation.tabular import is_missing

    for o in objectives:
        if o.name not in dataset.metrics:
            raise GraphVAENASError(f"no column {o.name!r} in the dataset; available: "
                                   f"{', '.join(dataset.metric_names)}")
    out = []
    for row in dataset.index_by_hash().values():
        values = {o.name: float(dataset.metrics[o.name][row]) for o in objectives}
        if not any(is_missing(k, v) for k, v in values.items()):
            out.append((dataset.archs[row], values))
    return out


def table_front(dataset, objectives: Sequence[Objective]) -> list[tuple[Any, dict[str, float]]]:
    """The exact Pareto front of a table: ``(architecture, raw values)`` of every distinct
    architecture no other dominates, sorted by the first objective (best first)."""
    rows = table_rows(dataset, objectives)
    front = [rows[i] for i in raw_front(objectives, [r for _, r in rows])]
    first = objectives[0]
    return sorted(front, key=lambda item: -first.orient(item[1][first.name]))


def oriented(objectives: Sequence[Objective], rows: Sequence[Mapping[str, float]]) -> torch.Tensor:
    """Raw value rows as an ``[n, m]`` larger-is-better tensor."""
    return torch.tensor([[o.orient(float(r[o.name])) for o in objectives] for r in rows],
                        dtype=torch.float64).reshape(len(rows), len(objectives))


def front_hypervolume(objectives: Sequence[Objective], rows: Sequence[Mapping[str, float]],
                      ref: ReferencePoint) -> float:
    """The hypervolume of raw value ``rows`` from ``ref``."""
    rows = [r for r in rows if all(o.name in r for o in objectives)]
    return hypervolume(oriented(objectives, rows), ref.oriented(objectives))
