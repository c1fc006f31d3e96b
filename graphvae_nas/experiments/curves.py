"""The data behind search curves: what a results table reports, query by query.

A table reports, at a budget ``b``, a metric (e.g. test accuracy) of the architecture that is
best by the search objective (e.g. validation accuracy) among the first ``b`` queries. The
curves here are exactly that at every ``b`` (not a running maximum of the reported metric, which
would pick the best test accuracy by hindsight), so a plot of them agrees with the table.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Trial tags of proposals drawn at random before a strategy starts using its history.
RANDOM_INIT_TAGS = frozenset({"random", "random-init"})


@dataclass(frozen=True)
class Curve:
    """One line of a search plot: ``mean[i]`` (and ``std[i]`` over runs) after ``steps[i]``
    queries; ``init_end``: queries drawn at random before the strategy proper started (None
    when the whole run is random, e.g. random search)."""

    steps: list[int]
    mean: list[float]
    std: list[float]
    init_end: int | None = None
    runs: int = 1


def best_by_objective(objectives: Sequence[float | None], reports: Sequence[float | None],
                      *, minimize: bool = False) -> list[float]:
    """``out[i]``: the report of the best-by-objective trial among the first ``i + 1`` trials
    (the first one on ties; NaN until some trial has an objective)."""
    out: list[float] = []
    best: float | None = None
    value = math.nan
    for objective, report in zip(objectives, reports):
        if objective is not None and (best is None or (objective < best if minimize else objective > best)):
            best = objective
            value = math.nan if report is None else float(report)
        out.append(value)
    return out


def random_init_length(tags: Sequence[str]) -> int:
    """Number of leading trials whose tag marks a random initial proposal."""
    for i, tag in enumerate(tags):
        if tag not in RANDOM_INIT_TAGS:
            return i
    return len(tags)


def _init_end(tag_lists: Sequence[Sequence[str]], length: int) -> int | None:
    if not tag_lists:
        return None
    end = int(statistics.median(random_init_length(tags[:length]) for tags in tag_lists))
    return end if 0 < end < length else None


def summarise_curves(values: Sequence[Sequence[float]], tag_lists: Sequence[Sequence[str]] = ()
                     ) -> Curve:
    """Mean and population std over runs (as :func:`graphvae_nas.experiments.compare.summarise`),
    truncated to the shortest run."""
    length = min(len(v) for v in values)
    columns = [[run[i] for run in values] for i in range(length)]
    mean = [statistics.mean(c) for c in columns]
    std = [statistics.pstdev(c) if len(c) > 1 else 0.0 for c in columns]
    return Curve(list(range(1, length + 1)), mean, std, _init_end(tag_lists, length), len(values))


def comparison_curves(runs: Sequence[Mapping[str, Any]], budget: int) -> dict[str, Curve]:
    """Per strategy of :func:`~graphvae_nas.experiments.compare.run_comparison`'s runs: the report of
    the best-by-objective architecture after 1..``budget`` queries, mean and std over seeds."""
    out: dict[str, Curve] = {}
    for name in dict.fromkeys(r["strategy"] for r in runs):
        mine = [r for r in runs if r["strategy"] == name]
        values = [best_by_objective(r["objective"][:budget], r["report"][:budget]) for r in mine]
        out[name] = summarise_curves(values, [r.get("tags", ()) for r in mine])
    return out


def study_curves(trials: Sequence[Any], objective: str, report: str | None = None, *,
                 minimize: bool = False) -> dict[str, Curve]:
    """One study's curves: the best objective so far (the lowest with ``minimize``), and (when
    ``report`` names a recorded metric) that metric of the best-by-objective trial; keyed by
    metric name."""
    objectives = [t.objective for t in trials]
    tags = [[t.tag for t in trials]]
    out = {objective: summarise_curves([best_by_objective(objectives, objectives,
                                                          minimize=minimize)], tags)}
    if report and report != objective and any(report in t.evaluation.metrics for t in trials):
        values = best_by_objective(objectives, [t.evaluation.metrics.get(report) for t in trials],
                                   minimize=minimize)
        out[report] = summarise_curves([values], tags)
    return out
