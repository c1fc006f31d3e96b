"""Compare search strategies on a two-objective table by the hypervolume of the fronts they find.

For each (strategy, seed) a :class:`~graphvae_nas.search.Study` searches the table for both
objectives (e.g. ``cifar10_valid:max`` and ``hw_edgegpu_latency:min``). At each budget the run's
*found front* is the Pareto front of its first ``budget`` trials; its hypervolume over the
table's exact front's hypervolume (both from the fixed reference point of
:mod:`graphvae_nas.search.pareto`) is the *hypervolume ratio*. The *report ratio* recomputes it
with a report column in place of the first objective (e.g. ``cifar10_test``): the found front's
architectures (chosen by validation) scored by test accuracy, over the exact front of the table
by test accuracy.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphvae_nas.search.objectives import Objective, as_objectives
from graphvae_nas.search.runs_file import RunsFile, run_jobs, run_study
from graphvae_nas.search.pareto import (
    front_hypervolume,
    raw_front,
    reference_point,
    table_front,
)
from graphvae_nas.threads import DEFAULT_THREADS

_STATE: dict[str, Any] = {}


@dataclass
class ParetoSpec:
    """A dataset file, strategies, two objectives, a report column standing in for the first
    objective, seeds, the largest budget, the batch size and the VAE of the BO strategies."""

    dataset: str
    strategies: Sequence[str]
    objectives: Sequence[str] = ("cifar10_valid:max", "hw_edgegpu_latency:min")
    report: str = "cifar10_test"
    seeds: int = 30
    first_seed: int = 0
    budget: int = 150
    batch_size: int = 5
    model: str | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads_per_worker: int = DEFAULT_THREADS


def report_objectives(spec: ParetoSpec) -> tuple[Objective, ...]:
    """The objectives with the report column in place of the first (same direction)."""
    objectives = as_objectives(spec.objectives)
    return (Objective(spec.report, objectives[0].direction), *objectives[1:])


def _init_worker(spec: ParetoSpec) -> None:
    import torch

    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.evaluation import TabularEvaluator

    torch.set_num_threads(spec.threads_per_worker)
    dataset = load_dataset(spec.dataset, verify=False)
    objectives = as_objectives(spec.objectives)
    _STATE.update(spec=spec, dataset=dataset, objectives=objectives,
                  evaluator=TabularEvaluator(dataset, [o.name for o in objectives],
                                             report=[spec.report]))
    if spec.model and any(needs_model(s) for s in spec.strategies):
        from graphvae_nas.vae.persistence import load_model

        _STATE["model"], _ = load_model(spec.model, space=dataset.space)


def needs_model(name: str) -> bool:
    from graphvae_nas.search.factory import needs_vae

    return needs_vae(name)


def _run_one(job: tuple[str, int]) -> dict[str, Any]:
    from graphvae_nas.search import Study, make_strategy

    name, seed = job
    spec: ParetoSpec = _STATE["spec"]
    dataset = _STATE["dataset"]
    strategy = make_strategy(name, model=_STATE.get("model"),
                             model_name=Path(spec.model or "").name, candidates=dataset.archs,
                             space=dataset.space, **spec.options.get(name, {}))
    study = Study(dataset.space, strategy, _STATE["evaluator"], seed=seed,
                  objectives=_STATE["objectives"])

    def record(done: Study, seconds: float) -> dict[str, Any]:
        return {"strategy": name, "seed": seed, "seconds": seconds,
                "overhead_s": done.stats.overhead_s, "proposals": done.stats.proposals,
                "values": [t.evaluation.values for t in done.trials],
                "report": [t.evaluation.metrics.get(spec.report) for t in done.trials],
                "counters": dict(done.stats.strategy)}

    return run_study(study, spec.budget, spec.batch_size, record)


def run_pareto_comparison(spec: ParetoSpec, workers: int = 1,
                          runs_path: str | Path | None = None,
                          on_run: Callable[[dict[str, Any]], None] | None = None
                          ) -> list[dict[str, Any]]:
    """One run per (strategy, seed) in ``workers`` processes, seed by seed; ``on_run`` sees each
    new run as it ends (e.g. to print progress). With ``runs_path`` finished runs are recorded
    there and not repeated (:class:`~graphvae_nas.search.runs_file.RunsFile`), so an
    interrupted comparison resumes; the result holds the recorded and the new runs."""
    jobs = [(name, seed) for seed in range(spec.first_seed, spec.first_seed + spec.seeds)
            for name in spec.strategies]
    record = None if runs_path is None else RunsFile(runs_path, pareto_settings(spec))
    return run_jobs(jobs, _run_one, workers=workers, initializer=_init_worker, initargs=(spec,),
                    record=record, on_run=on_run)


def pareto_settings(spec: ParetoSpec) -> dict[str, Any]:
    """The fields of ``spec`` that decide a run's outcome (strategies and seeds do not)."""
    return {"dataset": str(spec.dataset), "objectives": list(spec.objectives),
            "report": spec.report, "budget": spec.budget, "batch_size": spec.batch_size,
            "model": spec.model, "options": spec.options}


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


def true_fronts(dataset, spec: ParetoSpec) -> TrueFronts:
    objectives = as_objectives(spec.objectives)
    reported = report_objectives(spec)
    ref, report_ref = reference_point(objectives), reference_point(reported)
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
