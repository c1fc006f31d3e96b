"""Compare search strategies on a tabular benchmark over many seeds, in worker processes.

Every strategy runs the same :class:`~graphvae_nas.search.Study` harness against the same
:class:`~graphvae_nas.evaluation.TabularEvaluator`, so results are comparable. One runner
serves one objective and several: :func:`run_comparison` records every run (all objectives'
values, the report column, tags, overhead); :func:`summarise` tabulates single-objective runs
(for each budget the reported metric of the best-by-objective architecture, mean and std over
seeds, the median number of queries to reach the table's optimum, the search overhead per
proposal), :func:`graphvae_nas.experiments.pareto_summary.summarise_pareto` multi-objective
ones (hypervolume ratios). Objectives are written ``name[:max|min]`` (maximised by default).
"""
from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.search.objectives import as_objectives
from graphvae_nas.experiments.runs_file import RunsFile, run_jobs, run_study
from graphvae_nas.threads import DEFAULT_THREADS, bounded_threads

_STATE: dict[str, Any] = {}


@dataclass
class ComparisonSpec:
    """What to compare: a dataset file, strategies, one or more objectives (``name[:max|min]``,
    table columns), a ``report`` column recorded for every trial (e.g. test accuracy where the
    objective is validation accuracy), seeds, the budget, the batch size, the VAE of the
    latent strategies, and options per strategy (nested, as ``make_strategy`` takes them).

    ``fidelities`` (fidelity, e.g. epochs -> the column holding the first objective at it)
    evaluates at several fidelities: with two or more, every strategy proposes new
    architectures at the lowest and :class:`~graphvae_nas.search.strategies.promotion.
    SuccessiveHalving` promotes the best ``1/eta`` of each rung (``promotion="model"``:
    :class:`~graphvae_nas.search.strategies.promotion.ModelBasedPromotion` chooses which); with
    one, it only makes each evaluation cost its fidelity. ``budget_cost`` ends a run when the
    costs add up to it."""

    dataset: str
    strategies: Sequence[str]
    objectives: Sequence[str]
    report: str | None = None
    seeds: int = 100
    first_seed: int = 0
    budget: int = 150
    batch_size: int = 5
    model: str | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads_per_worker: int = DEFAULT_THREADS   # see graphvae_nas.threads
    fidelities: dict[str, str] | None = None
    eta: float = 3.0
    budget_cost: float | None = None
    promotion: str = "rank"
    shortlist: int = 10

    def __post_init__(self) -> None:
        check_options_keys(self.options, self.strategies)
        if self.fidelities is not None:
            self.fidelities = {f"{float(k):g}": str(v) for k, v in self.fidelities.items()}
        if self.promotion not in PROMOTIONS:
            raise GraphVAENASError(f"promotion must be one of {', '.join(PROMOTIONS)}, got "
                                   f"{self.promotion!r}")


PROMOTIONS = ("rank", "model")
"""How a multi-fidelity comparison promotes: by rank at the lower fidelity (ASHA) or by a
multi-task GP of all fidelities."""


def check_options_keys(options: dict[str, Any], strategies: Sequence[str]) -> None:
    """Refuse a comparison's options (keyed by strategy) for a strategy it does not run: an
    option group given bare (``{"joint": ...}``) would otherwise be ignored without a word."""
    stray = sorted(set(options) - set(strategies))
    if stray:
        raise GraphVAENASError(
            f"options are given per strategy ({{\"STRATEGY\": {{...}}}}); "
            f"{', '.join(map(repr, stray))} is not one of the compared strategies "
            f"({', '.join(strategies)})")


def _init_worker(spec: ComparisonSpec) -> None:
    import torch

    from graphvae_nas.datasets import load_dataset
    from graphvae_nas.evaluation import TabularEvaluator
    from graphvae_nas.search.factory import needs_vae
    from graphvae_nas.spaces.restricted import restricted_to

    torch.set_num_threads(bounded_threads(spec.threads_per_worker))
    dataset = load_dataset(spec.dataset, verify=False)
    objectives = as_objectives(spec.objectives)
    report = [spec.report] if spec.report else []
    fidelities = None if spec.fidelities is None else {float(k): v for k, v in
                                                        spec.fidelities.items()}
    _STATE.update(spec=spec, dataset=dataset, objectives=objectives,
                  space=restricted_to(dataset.space, dataset.archs),   # what the table can score
                  evaluator=TabularEvaluator(dataset, [o.name for o in objectives],
                                             report=report, fidelities=fidelities))
    if spec.model and any(needs_vae(name) for name in spec.strategies):
        from graphvae_nas.vae.persistence import load_model

        _STATE["model"], _ = load_model(spec.model, space=dataset.space)


def _run_one(job: tuple[str, int]) -> dict[str, Any]:
    from graphvae_nas.search import Study, make_strategy
    from graphvae_nas.search.strategies.promotion import with_promotion

    name, seed = job
    spec: ComparisonSpec = _STATE["spec"]
    dataset = _STATE["dataset"]
    space = _STATE["space"]
    strategy = make_strategy(name, model=_STATE.get("model"), model_name=Path(spec.model or "").name,
                             candidates=dataset.archs, space=space,
                             options=spec.options.get(name, {}))
    evaluator = _STATE["evaluator"]
    strategy = with_promotion(strategy, evaluator.fidelities, spec.eta, spec.promotion, space,
                              shortlist=spec.shortlist)
    study = Study(space, strategy, evaluator, seed=seed, objectives=_STATE["objectives"])
    return run_study(study, spec.budget, spec.batch_size,
                     lambda done, seconds: run_record(done, name, seconds, report=spec.report),
                     budget_cost=spec.budget_cost)


def run_record(study: Any, name: str, seconds: float, report: str | None = None) -> dict[str, Any]:
    """A comparison run's record of ``study`` (strategy ``name``): the first objective of
    every trial (``objective``, oriented by ``direction``), with several objectives every
    objective's value (``values``), the ``report`` metric of each (default: the first
    objective), tags, wall seconds, search overhead and the strategy's counters; with a
    fidelity-aware evaluator each trial's ``fidelity`` and ``cost`` and the evaluator's
    ``fidelities``."""
    objective = [t.objective for t in study.trials]
    record = {"strategy": name, "seed": study.seed, "seconds": seconds,
              "overhead_s": study.stats.overhead_s, "proposals": study.stats.proposals,
              "direction": study.objectives[0].direction, "objective": objective,
              "report": objective if report is None else
              [t.evaluation.metrics.get(report) for t in study.trials],
              "tags": [t.tag for t in study.trials], "counters": dict(study.stats.strategy)}
    if len(study.objectives) > 1:
        record["values"] = [t.evaluation.values for t in study.trials]
    if study.fidelities is not None:
        record.update(fidelities=list(study.fidelities),
                      fidelity=[t.fidelity for t in study.trials],
                      cost=[t.evaluation.cost for t in study.trials])
    return record


def run_comparison(spec: ComparisonSpec, workers: int = 1, runs_path: str | Path | None = None,
                   on_run: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """One run per (strategy, seed), seed by seed, spread over ``workers`` processes;
    ``on_run`` sees each new run as it ends (e.g. to print progress).

    With ``runs_path`` every finished run is appended to that JSONL file
    (:class:`~graphvae_nas.experiments.runs_file.RunsFile`) as it completes, and the runs already in
    it are not repeated: an interrupted comparison resumes where it stopped. A file written for
    other settings (dataset, objectives, report, budget, batch size, model, options) is
    refused."""
    # seed by seed, so that an interrupted comparison has equally many seeds of every strategy
    jobs = [(name, seed) for seed in range(spec.first_seed, spec.first_seed + spec.seeds)
            for name in spec.strategies]
    record = None if runs_path is None else RunsFile(runs_path, comparison_settings(spec))
    return run_jobs(jobs, _run_one, workers=workers, initializer=_init_worker, initargs=(spec,),
                    record=record, on_run=on_run)


def comparison_settings(spec: ComparisonSpec) -> dict[str, Any]:
    """The fields of ``spec`` that decide a run's outcome (strategies and seeds do not)."""
    settings = {"dataset": str(spec.dataset), "objectives": list(spec.objectives),
                "report": spec.report, "budget": spec.budget, "batch_size": spec.batch_size,
                "model": spec.model, "options": spec.options}
    if spec.fidelities is not None:   # absent otherwise, so older run files still resume
        settings.update(fidelities=spec.fidelities, budget_cost=spec.budget_cost)
        if len(spec.fidelities) > 1:
            settings["eta"] = spec.eta
            if spec.promotion != "rank":   # absent for ASHA, as in the first run files
                settings.update(promotion=spec.promotion, shortlist=spec.shortlist)
    return settings


def best_report_at(run: dict[str, Any], budget: int) -> float:
    """Report metric of the best-by-objective architecture among the first ``budget`` trials
    (lowest objective when ``run["direction"]`` is ``min``)."""
    sign = _sign(run)
    pairs = [(o, r) for o, r in zip(run["objective"][:budget], run["report"][:budget]) if o is not None]
    return max(pairs, key=lambda p: sign * p[0])[1]


def queries_to_optimum(run: dict[str, Any], optimum: float) -> int | None:
    """1-based number of queries until the objective reached ``optimum`` (None: never)."""
    sign = _sign(run)
    for i, value in enumerate(run["objective"]):
        if value is not None and sign * value >= sign * optimum:
            return i + 1
    return None


def _sign(run: dict[str, Any]) -> int:
    """+1 when the run maximised its objective (the default), -1 when it minimised it."""
    return -1 if run.get("direction", "max") == "min" else 1


def summarise(runs: list[dict[str, Any]], budgets: Sequence[int], optimum: float) -> dict[str, Any]:
    """Per strategy: mean/std of the report at each budget, median queries to the optimum
    (runs that never reach it count as infinite; None when the median is infinite) and as text
    (``queries_to_optimum``, e.g. "82.5 (80/100)" or "not reached (2/100)"), overhead per
    proposal, strategy counters."""
    table: dict[str, Any] = {}
    for name in dict.fromkeys(r["strategy"] for r in runs):
        mine = [r for r in runs if r["strategy"] == name]
        row: dict[str, Any] = {}
        for b in budgets:
            values = [best_report_at(r, b) for r in mine]
            row[str(b)] = {"mean": statistics.mean(values),
                           "std": statistics.pstdev(values) if len(values) > 1 else 0.0}
        reach = [queries_to_optimum(r, optimum) for r in mine]
        found = sorted(q for q in reach if q is not None)
        median = statistics.median(found + [float("inf")] * (len(reach) - len(found)))
        row["median_queries_to_optimum"] = None if median == float("inf") else median
        row["found_optimum"] = f"{len(found)}/{len(reach)}"
        row["queries_to_optimum"] = format_queries_to_optimum(median, len(found), len(reach))
        row["overhead_s_per_proposal"] = (sum(r["overhead_s"] for r in mine)
                                          / max(sum(r["proposals"] for r in mine), 1))
        row["counters"] = {k: sum(r["counters"].get(k, 0) for r in mine)
                           for k in sorted({k for r in mine for k in r["counters"]})}
        table[name] = row
    return table


def proposal_origins(runs: list[dict[str, Any]], budget: int | None = None
                     ) -> dict[str, dict[str, float]]:
    """Per strategy, the share of its trials (the first ``budget`` of each run; all when None)
    by origin, i.e. by the tag its strategy gave each proposal (``random-init``, ``decode``,
    ``mutation``, ...), over all its runs; shares sum to 1, largest first."""
    shares: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(r["strategy"] for r in runs):
        counts: Counter[str] = Counter()
        for run in (r for r in runs if r["strategy"] == name):
            if "tags" not in run:
                raise GraphVAENASError(f"a {name} run (seed {run.get('seed')}) has no tags: it "
                                       "was recorded without the origin of its proposals")
            counts.update(run["tags"][:budget])
        total = counts.total()
        shares[name] = {tag: n / total for tag, n in
                        sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}
    return shares


def format_queries_to_optimum(median: float | None, found: int, runs: int) -> str:
    """``"93 (80/100)"``: the median queries to the optimum and how many runs reached it, or
    ``"not reached (2/100)"`` when fewer than half did."""
    reached = median is not None and median != float("inf")
    return f"{median:g} ({found}/{runs})" if reached else f"not reached ({found}/{runs})"


def comparison_model(model: str | None, strategies: Sequence[str], space: Any) -> str | None:
    """``model``, or for strategies that need a VAE and none given, the path of the space's
    default VAE (trained once and cached)."""
    from graphvae_nas.search.factory import needs_vae

    if model is None and any(needs_vae(s) for s in strategies):
        from graphvae_nas.vae.default_model import default_model

        return str(default_model(space)[2])
    return model
