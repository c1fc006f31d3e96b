"""Summaries of comparison runs against cost (multi-fidelity runs and their single-fidelity rows).

A run's result at a cost budget is the reported metric of the best-by-objective trial at the
run's highest fidelity among the trials paid for within that budget (e.g. the 200-epoch test
accuracy of the best cell evaluated at 200 epochs); a run that has evaluated nothing at its
highest fidelity by then has no result (None). Runs without per-trial costs cannot be
summarised against cost and are refused.
"""
from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from typing import Any

from graphvae_nas.errors import DataFormatError


def _costs(run: dict[str, Any]) -> list[float]:
    if "cost" not in run or "fidelity" not in run:
        raise DataFormatError(f"run {run.get('strategy')} seed {run.get('seed')} has no per-trial "
                              "costs (run it with fidelities to compare against cost)",
                              field="cost")
    return run["cost"]


def top_fidelity(run: dict[str, Any]) -> float:
    """The highest fidelity of the run's evaluator."""
    _costs(run)
    return max(run.get("fidelities") or [f for f in run["fidelity"] if f is not None])


def paid_within(run: dict[str, Any], budget: float) -> int:
    """How many of the run's trials (in order) were paid for within ``budget``."""
    return sum(1 for total in itertools.accumulate(_costs(run)) if total <= budget + 1e-9)


def best_report_at_cost(run: dict[str, Any], budget: float) -> float | None:
    """The report metric of the best-by-objective trial at the run's highest fidelity among
    those paid for within ``budget`` (None: none evaluated at that fidelity by then)."""
    top, sign = top_fidelity(run), -1 if run.get("direction") == "min" else 1
    n = paid_within(run, budget)
    pairs = [(o, r) for o, r, f in zip(run["objective"][:n], run["report"][:n], run["fidelity"][:n])
             if o is not None and f == top]
    return max(pairs, key=lambda p: sign * p[0])[1] if pairs else None


def cost_to_optimum(run: dict[str, Any], optimum: float) -> float | None:
    """The cumulative cost when a trial at the run's highest fidelity first reached
    ``optimum`` (None: never)."""
    top, sign = top_fidelity(run), -1 if run.get("direction") == "min" else 1
    for total, o, f in zip(itertools.accumulate(_costs(run)), run["objective"], run["fidelity"]):
        if o is not None and f == top and sign * o >= sign * optimum:
            return total
    return None


def summarise_cost(runs: list[dict[str, Any]], budgets: Sequence[float], optimum: float
                   ) -> dict[str, Any]:
    """Per strategy: at each cost budget the mean and std of :func:`best_report_at_cost` over
    the runs that have a result (and how many do), the runs at the optimum by then, the
    median cost to the optimum (runs that never reach it count as infinite; None when the
    median is), promotions and evaluations per run, and the overhead per proposal."""
    table: dict[str, Any] = {}
    for name in dict.fromkeys(r["strategy"] for r in runs):
        mine = [r for r in runs if r["strategy"] == name]
        row: dict[str, Any] = {"runs": len(mine)}
        for b in budgets:
            values = [v for v in (best_report_at_cost(r, b) for r in mine) if v is not None]
            reached = [c for c in (cost_to_optimum(r, optimum) for r in mine) if c is not None]
            row[f"{b:g}"] = {"mean": statistics.mean(values) if values else None,
                             "std": statistics.pstdev(values) if len(values) > 1 else 0.0,
                             "with_result": len(values),
                             "at_optimum": sum(c <= b + 1e-9 for c in reached)}
        costs = [cost_to_optimum(r, optimum) for r in mine]
        found = sorted(c for c in costs if c is not None)
        median = statistics.median(found + [float("inf")] * (len(costs) - len(found)))
        row["median_cost_to_optimum"] = None if median == float("inf") else median
        row["found_optimum"] = f"{len(found)}/{len(costs)}"
        row["evaluations_per_run"] = statistics.mean(len(r["objective"]) for r in mine)
        row["top_fidelity_evaluations_per_run"] = statistics.mean(
            sum(f == top_fidelity(r) for f in r["fidelity"]) for r in mine)
        row["overhead_s_per_proposal"] = (sum(r["overhead_s"] for r in mine)
                                          / max(sum(r["proposals"] for r in mine), 1))
        table[name] = row
    return table


def cost_curves(runs: list[dict[str, Any]], budget: int, step: int) -> dict[str, Any]:
    """Per strategy: :func:`best_report_at_cost` at costs ``step``, 2 x ``step``, ...,
    ``budget`` (mean and population std over the runs with a result by then; NaN before any
    has one), as :class:`~graphvae_nas.experiments.curves.Curve` objects for plotting."""
    import math

    from graphvae_nas.experiments.curves import Curve

    grid = list(range(step, budget + 1, step))
    out: dict[str, Curve] = {}
    for name in dict.fromkeys(r["strategy"] for r in runs):
        mine = [r for r in runs if r["strategy"] == name]
        mean, std = [], []
        for cost in grid:
            values = [v for v in (best_report_at_cost(r, cost) for r in mine) if v is not None]
            mean.append(statistics.mean(values) if values else math.nan)
            std.append(statistics.pstdev(values) if len(values) > 1 else 0.0)
        out[name] = Curve(grid, mean, std, None, len(mine))
    return out
