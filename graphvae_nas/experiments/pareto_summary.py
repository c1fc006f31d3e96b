"""Tabulate multi-objective comparisons by the hypervolume of the fronts they find.

The runs come from :func:`graphvae_nas.experiments.compare.run_comparison` with several
objectives: for each (strategy, seed) a :class:`~graphvae_nas.search.Study` searched the table
for all objectives (e.g. ``cifar10_valid:max`` and ``hw_edgegpu_latency:min``). At each budget the run's
*found front* is the Pareto front of its first ``budget`` trials; its hypervolume over the
table's exact front's hypervolume (both from the fixed reference point of
:mod:`graphvae_nas.search.pareto`) is the *hypervolume ratio*. The *report ratio* recomputes it
with a report column in place of the first objective (e.g. ``cifar10_test``): the found front's
architectures (chosen by validation) scored by test accuracy, over the exact front of the table
by test accuracy.
"""
from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphvae_nas.experiments.compare import ComparisonSpec
from graphvae_nas.search.objectives import Objective, as_objectives
from graphvae_nas.search.pareto import (
    front_hypervolume,
    raw_front,
    reference_point,
    table_front,
    table_rows,
)


def report_objectives(spec: ComparisonSpec) -> tuple[Objective, ...]:
    """The objectives with the report column in place of the first (same direction)."""
    objectives = as_objectives(spec.objectives)
    return (Objective(spec.report, objectives[0].direction), *objectives[1:])


@dataclass(frozen=True)
class TrueFronts:
    """The table's exact fronts and hypervolumes, by the objectives and by the report."""

    objectives: tuple[Objective, ...]
    report_objectives: tuple[Objective, ...]
    front: list
    report_front: list
    hypervolume: float
    report_hypervolume: float
    reference: dict[str, float]
    report_reference: dict[str, float]


def true_fronts(dataset, spec: ComparisonSpec,
                known: Mapping[frozenset[str], Mapping[str, float]] | None = None) -> TrueFronts:
    """The table's exact fronts by the objectives and by the report, measured from the fixed
    reference points in ``known`` (e.g. :data:`graphvae_nas.experiments.nb201.REFERENCE_POINTS`)
    or, failing that, from the worst values in the table."""
    objectives = as_objectives(spec.objectives)
    reported = report_objectives(spec)
    ref = reference_point(objectives, [v for _, v in table_rows(dataset, objectives)],
                          known=known)
    report_ref = reference_point(reported, [v for _, v in table_rows(dataset, reported)],
                                 known=known)
    front, report_front = table_front(dataset, objectives), table_front(dataset, reported)
    return TrueFronts(objectives, reported, front, report_front,
                      front_hypervolume(objectives, [v for _, v in front], ref),
                      front_hypervolume(reported, [v for _, v in report_front], report_ref),
                      ref.values, report_ref.values)


def ratios_at(run: dict[str, Any], budget: int, truth: TrueFronts) -> tuple[float, float]:
    """The run's hypervolume ratio and report ratio after ``budget`` trials."""
    from graphvae_nas.search.pareto import ReferencePoint

    values = run["values"][:budget]
    front = raw_front(truth.objectives, values)
    found = front_hypervolume(truth.objectives, [values[i] for i in front],
                              ReferencePoint(truth.reference, "fixed"))
    first, report = truth.objectives[0].name, truth.report_objectives[0].name
    rows = []
    for i in front:
        if run["report"][i] is not None:
            rows.append({**{k: v for k, v in values[i].items() if k != first},
                         report: run["report"][i]})
    found_report = front_hypervolume(truth.report_objectives, rows,
                                     ReferencePoint(truth.report_reference, "fixed"))
    return found / truth.hypervolume, found_report / truth.report_hypervolume


def summarise_pareto(runs: list[dict[str, Any]], budgets: Sequence[int],
                     truth: TrueFronts) -> dict[str, Any]:
    """Per strategy and budget: mean/std (population) of both ratios over its runs, the number
    of runs, and the search overhead per proposal."""
    table: dict[str, Any] = {}
    for name in dict.fromkeys(r["strategy"] for r in runs):
        mine = sorted((r for r in runs if r["strategy"] == name), key=lambda r: r["seed"])
        row: dict[str, Any] = {"runs": len(mine)}
        for b in budgets:
            pairs = [ratios_at(r, b, truth) for r in mine]
            hv, rep = [p[0] for p in pairs], [p[1] for p in pairs]
            row[str(b)] = {"hv_ratio_mean": statistics.mean(hv),
                           "hv_ratio_std": statistics.pstdev(hv) if len(hv) > 1 else 0.0,
                           "report_ratio_mean": statistics.mean(rep),
                           "report_ratio_std": statistics.pstdev(rep) if len(rep) > 1 else 0.0}
        row["overhead_s_per_proposal"] = (sum(r["overhead_s"] for r in mine)
                                          / max(sum(r["proposals"] for r in mine), 1))
        table[name] = row
    return table
