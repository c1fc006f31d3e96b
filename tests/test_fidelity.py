"""Fidelities and costs: table columns as fidelities, the study's cost budget, successive halving."""
from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from graphvae_nas.datasets import ArchitectureDataset
from graphvae_nas.errors import DataFormatError, GraphVAENASError
from graphvae_nas.evaluation import AtFidelity, TabularEvaluator, fidelities_of
from graphvae_nas.experiments.fidelity_summary import (
    best_report_at_cost,
    cost_to_optimum,
    summarise_cost,
)
from graphvae_nas.search import RandomSearch, RegularizedEvolution, Study, StudyStore
from graphvae_nas.search.strategies.base import History, Proposal
from graphvae_nas.search.strategies.promotion import (
    PROMOTION_TAG,
    ModelBasedPromotion,
    SuccessiveHalving,
)
from graphvae_nas.spaces import get_space
from shared_data import BEST_CELL, needs_data


@pytest.fixture(scope="module")
def table() -> ArchitectureDataset:
    """Every 3-layer ENAS architecture with a high-fidelity score and a noisy low-fidelity
    one that ranks them only roughly (a seeded perturbation)."""
    space = get_space("enas:num_layers=3")
    archs = list(space.enumerate())
    rng = random.Random(0)
    high = [sum(op == "conv5x5" for op in a.ops) * 10 + a.num_edges for a in archs]
    low = [h / 2 + rng.uniform(-4, 4) for h in high]
    return ArchitectureDataset.from_architectures(space, archs, {"high": high, "low": low,
                                                                 "test": [h + 1 for h in high]})


def evaluator_of(table: ArchitectureDataset) -> TabularEvaluator:
    return TabularEvaluator(table, "high", report=["test"], fidelities={1: "low", 10: "high"})


def test_a_table_reads_the_first_objective_at_each_fidelity(table) -> None:
    evaluator = evaluator_of(table)
    arch = table.archs[7]
    low, high = evaluator.evaluate_at(arch, 1), evaluator.evaluate_at(arch, 10)
    assert low.values == {"high": pytest.approx(table.metrics["low"][7])}
    assert high.values == {"high": table.metrics["high"][7]}
    assert (low.fidelity, low.cost, high.fidelity, high.cost) == (1, 1, 10, 10)
    assert low.metrics == high.metrics == {"test": table.metrics["test"][7]}
    assert evaluator.evaluate(arch) == high          # without a fidelity: the highest
    assert fidelities_of(evaluator) == (1.0, 10.0)
    assert fidelities_of(TabularEvaluator(table, "high")) is None
    assert AtFidelity(evaluator, 1).evaluate(arch) == low
    assert evaluator.spec()["fidelities"] == {"1": "low", "10": "high"}


def test_fidelities_are_checked(table) -> None:
    with pytest.raises(DataFormatError, match="no column 'nope'"):
        TabularEvaluator(table, "high", fidelities={1: "nope", 10: "high"})
    with pytest.raises(DataFormatError, match="costs its fidelity"):
        TabularEvaluator(table, "high", cost="low", fidelities={1: "low"})
    with pytest.raises(GraphVAENASError, match="positive"):
        TabularEvaluator(table, "high", fidelities={0: "low"})
    with pytest.raises(GraphVAENASError, match="not one of the evaluator's"):
        AtFidelity(evaluator_of(table), 5)
    with pytest.raises(DataFormatError, match="no column for fidelity 5"):
        evaluator_of(table).evaluate_at(table.archs[0], 5)
    with pytest.raises(GraphVAENASError, match="at least two"):
        SuccessiveHalving(RandomSearch(), [10])
    with pytest.raises(GraphVAENASError, match="eta"):
        SuccessiveHalving(RandomSearch(), [1, 10], eta=1)


def test_promotion_takes_the_best_share_of_each_rung_highest_rung_first(table) -> None:
    space = table.space
    history = History(space)
    archs = table.archs[:10]
    for i, arch in enumerate(archs[:6]):     # rung 1: values 0..5
        history.add(arch, float(i), "random", fidelity=1)
    history.add(archs[5], 50.0, PROMOTION_TAG, fidelity=3)
    history.add(archs[4], 40.0, PROMOTION_TAG, fidelity=3)
    asha = SuccessiveHalving(RandomSearch(), [1, 3, 9], eta=2)
    proposals = asha.propose(history, 4, random.Random(0))
    # rung 3 holds 2 results: the best half (archs[5]) goes to rung 9 first; then rung 1's best
    # 3 of 6 not yet at rung 3: archs[3]; then new architectures at the lowest rung
    assert [(p.arch, p.fidelity, p.tag) for p in proposals[:2]] == [
        (archs[5], 9.0, PROMOTION_TAG), (archs[3], 3.0, PROMOTION_TAG)]
    assert all(p.fidelity == 1 and p.tag == "random" and p.arch.canonical_hash not in history.seen
               for p in proposals[2:])
    assert len(proposals) == 4 and asha.counters["promotions"] == 4


def run(table, budget_cost=None, budget=None, seed=0, store=None, eta=3):
    evaluator = evaluator_of(table)
    study = Study(table.space, SuccessiveHalving(RegularizedEvolution(10, 3), [1, 10], eta),
                  evaluator, seed=seed, store=store)
    study.optimize(budget, batch_size=4, budget_cost=budget_cost)
    return study


def test_successive_halving_pays_per_fidelity_and_ranks_at_the_highest(table) -> None:
    study = run(table, budget_cost=400)
    trials = study.trials
    assert study.total_cost == sum(t.evaluation.cost for t in trials)
    assert 400 <= study.total_cost < 400 + 4 * 10        # the last round is finished
    assert all(t.evaluation.cost == t.fidelity for t in trials)
    promoted = [t for t in trials if t.fidelity == 10]
    assert promoted and all(t.tag == PROMOTION_TAG for t in promoted)
    # each promoted architecture was evaluated at the low fidelity first, once
    low = {t.arch.canonical_hash: t.number for t in trials if t.fidelity == 1}
    assert len(low) == sum(t.fidelity == 1 for t in trials)
    assert all(low[t.arch.canonical_hash] < t.number for t in promoted)
    # best() and the Pareto front rank the highest fidelity only
    assert study.best() == max(promoted, key=lambda t: (t.objective, -t.number))
    assert {t.number for t in study.pareto_front()} <= {t.number for t in promoted}
    # a promotion was due: among the best third of the low-fidelity results evaluated before
    for t in promoted:
        before = sorted((u.objective for u in trials[:t.number] if u.fidelity == 1), reverse=True)
        value = next(u.objective for u in trials if u.fidelity == 1 and u.arch == t.arch)
        assert value >= before[len(before) // 3 - 1]


def test_a_study_with_fidelities_resumes_exactly(tmp_path: Path, table) -> None:
    straight = run(table, budget=60)
    path = tmp_path / "study.jsonl"
    evaluator = evaluator_of(table)

    def make():
        return SuccessiveHalving(RegularizedEvolution(10, 3), [1, 10], 3)
    header = Study.store_header(table.space, make(), evaluator, 0)
    first = Study(table.space, make(), evaluator, seed=0, store=StudyStore(path, header))

    class Interrupted(Exception):
        pass

    def stop(trial) -> None:
        if trial.number == 36:   # first of a batch of three promotions and one new cell
            raise Interrupted
    with pytest.raises(Interrupted):
        first.optimize(60, batch_size=4, callback=stop)
    first.store.close()
    with StudyStore(path, header, resume=True) as stored:
        assert [item["fidelity"] for item in stored.last_batch] == [10, 10, 10, 1]
    resumed = Study(table.space, make(), evaluator, seed=0,
                    store=StudyStore(path, header, resume=True))
    resumed.optimize(60, batch_size=4)
    assert [(t.arch, t.fidelity, t.tag) for t in resumed.trials] == [
        (t.arch, t.fidelity, t.tag) for t in straight.trials]
    assert resumed.total_cost == straight.total_cost


def test_a_proposal_at_a_fidelity_the_evaluator_lacks_is_refused(table) -> None:
    class AtFive(RandomSearch):
        def propose(self, history, n, rng):
            return [Proposal(p.arch, p.tag, 5.0) for p in super().propose(history, n, rng)]
    with pytest.raises(GraphVAENASError, match="fidelity 5"):
        Study(table.space, AtFive(), evaluator_of(table)).optimize(4)
    with pytest.raises(GraphVAENASError, match="single fidelity"):
        Study(table.space, AtFive(), TabularEvaluator(table, "high")).optimize(4)
    with pytest.raises(GraphVAENASError, match="budget in trials, in cost"):
        Study(table.space, RandomSearch(), evaluator_of(table)).optimize()


def test_cost_summaries_of_a_run_record() -> None:
    run_ = {"strategy": "asha", "seed": 0, "direction": "max", "fidelities": [1, 10],
            "objective": [5, 9, 7, 90, 95, 8], "report": [50, 90, 70, 91, 96, 80],
            "fidelity": [1, 1, 1, 10, 10, 1], "cost": [1, 1, 1, 10, 10, 1],
            "overhead_s": 0.0, "proposals": 6}
    assert best_report_at_cost(run_, 3) is None           # nothing at 10 yet
    assert best_report_at_cost(run_, 13) == 91
    assert best_report_at_cost(run_, 23) == 96
    assert cost_to_optimum(run_, 95) == 23
    assert cost_to_optimum(run_, 99) is None
    row = summarise_cost([run_], [13, 30], 95)["asha"]
    assert row["13"]["mean"] == 91 and row["13"]["at_optimum"] == 0
    assert row["30"]["at_optimum"] == 1 and row["median_cost_to_optimum"] == 23
    with pytest.raises(DataFormatError, match="no per-trial costs"):
        best_report_at_cost({k: v for k, v in run_.items() if k != "cost"}, 10)


@needs_data
def test_nb201_12_epochs_rank_the_200_epoch_optimum_17th(nb201_200ep_report, nb201_12ep_report
                                                         ) -> None:
    """The real table's two fidelities: what promotion by 12-epoch rank has to work with."""
    from graphvae_nas.datasets.merge import merge_datasets

    merged = merge_datasets([nb201_200ep_report.dataset, nb201_12ep_report.dataset])
    evaluator = TabularEvaluator(merged, "cifar10_valid", report=["cifar10_test"],
                                 fidelities={12: "12ep_cifar10_valid", 200: "cifar10_valid"})
    best = next(a for a in merged.archs if merged.space.format(a) == BEST_CELL)
    high, low = evaluator.evaluate_at(best, 200), evaluator.evaluate_at(best, 12)
    assert (high.objective, high.metrics["cifar10_test"]) == (91.6067, 94.3733)
    assert low.objective == 84.384 and low.metrics["cifar10_test"] == 94.3733
    lows = sorted(merged.metrics["12ep_cifar10_valid"], reverse=True)
    assert lows.index(low.objective) + 1 == 17
    # successive halving over the real fidelities: costs add up as epochs
    study = Study(merged.space, SuccessiveHalving(RegularizedEvolution(), [12, 200], 8),
                  evaluator, seed=0)
    study.optimize(batch_size=5, budget_cost=2000)
    assert {t.evaluation.cost for t in study.trials} == {12.0, 200.0}
    assert study.best().fidelity == 200 and study.best().objective > 90
    assert list(itertools.accumulate(t.evaluation.cost for t in study.trials))[-1] == \
        study.total_cost


def test_model_based_promotion_keeps_the_share_and_lets_the_model_choose(table) -> None:
    """The model promotes floor(n / eta) of the low fidelity, in the order of its expected
    improvement at the high fidelity; with a shortlist it also picks the new architectures."""
    evaluator = evaluator_of(table)
    strategy = ModelBasedPromotion(RegularizedEvolution(10, 3), [1, 10], 4, table.space,
                                   shortlist=5)
    study = Study(table.space, strategy, evaluator, seed=0)
    study.optimize(batch_size=4, budget_cost=160)
    low = [t for t in study.trials if t.fidelity == 1]
    high = [t for t in study.trials if t.fidelity == 10]
    # the share is kept: each promotion was due (fewer than a quarter promoted before it)
    for t in high:
        low_before = sum(u.fidelity == 1 for u in study.trials[:t.number])
        high_before = sum(u.fidelity == 10 for u in study.trials[:t.number])
        assert high_before < low_before // 4
    assert all(t.tag == PROMOTION_TAG for t in high)
    # the promotions follow the model, not the low-fidelity rank: some promotion was not the
    # best unpromoted architecture by its low-fidelity value at the time
    def best_by_rank_then(t) -> object:
        promoted = {u.arch.canonical_hash for u in study.trials[:t.number] if u.fidelity == 10}
        waiting = [u for u in study.trials[:t.number]
                   if u.fidelity == 1 and u.arch.canonical_hash not in promoted]
        return max(waiting, key=lambda u: (u.objective, -u.number)).arch
    assert any(t.arch != best_by_rank_then(t) for t in high)
    # the GP starts from random task factors: seeded by the history, not by torch's global state
    import torch

    torch.manual_seed(12345)
    again = Study(table.space, ModelBasedPromotion(RegularizedEvolution(10, 3), [1, 10], 4,
                                                   table.space, shortlist=5),
                  evaluator, seed=0)
    again.optimize(batch_size=4, budget_cost=160)
    assert [(t.arch, t.fidelity) for t in again.trials] == \
        [(t.arch, t.fidelity) for t in study.trials]
    # the model's score of a candidate is its predicted mean at the high fidelity
    candidates = [t.arch for t in low[:6]]
    scores = strategy.scores(study.history, candidates)
    assert len(scores) == 6 and all(s == s for s in scores)   # finite, no NaN
    assert strategy.spec()["name"] == "asha-model" and strategy.spec()["shortlist"] == 5


@needs_data
def test_the_model_ranks_the_real_200_epoch_values_better_than_12_epochs(
        nb201_200ep_report, nb201_12ep_report) -> None:
    """On NAS-Bench-201: trained on 150 random cells and the 12-epoch top 40 at 12 epochs, and
    8 of those at 200, the multi-task GP ranks the other 32 by 200-epoch accuracy better than
    their 12-epoch accuracy does (Spearman), and puts the 200-epoch optimum higher."""
    from graphvae_nas.datasets.merge import merge_datasets
    from graphvae_nas.search.objectives import Objective

    merged = merge_datasets([nb201_200ep_report.dataset, nb201_12ep_report.dataset])
    low, high = merged.metrics["12ep_cifar10_valid"], merged.metrics["cifar10_valid"]
    order = sorted(range(len(merged)), key=lambda i: -low[i])
    optimum = max(range(len(merged)), key=lambda i: high[i])
    promoted = [i for i in order[:40] if i != optimum][:8]
    candidates = [i for i in order[:40] if i not in promoted]
    history = History(merged.space, objective_specs=(Objective("cifar10_valid"),))
    for i in dict.fromkeys(random.Random(0).sample(range(len(merged)), 150) + order[:40]):
        history.add(merged.archs[i], low[i], "random", fidelity=12)
    for i in promoted:
        history.add(merged.archs[i], high[i], PROMOTION_TAG, fidelity=200)
    strategy = ModelBasedPromotion(RandomSearch(), [12, 200], 8, merged.space)
    scores = strategy.scores(history, [merged.archs[i] for i in candidates])

    def spearman(a, b) -> float:
        def ranks(v):
            return {i: r for r, i in enumerate(sorted(range(len(v)), key=lambda i: v[i]))}
        ra, rb = ranks(a), ranks(b)
        n = len(a)
        return 1 - 6 * sum((ra[i] - rb[i]) ** 2 for i in range(n)) / (n * (n * n - 1))
    truth = [high[i] for i in candidates]
    by_model = spearman(scores, truth)
    by_low = spearman([low[i] for i in candidates], truth)
    assert by_model > by_low
    position = candidates.index(optimum)
    model_rank = sum(s > scores[position] for s in scores)
    low_rank = sum(low[i] > low[optimum] for i in candidates)
    assert model_rank < low_rank


def test_a_comparison_with_fidelities_records_costs_and_the_report_tabulates_them(
        tmp_path: Path, table) -> None:
    """run_comparison with two fidelities wraps every strategy in successive halving, records
    each trial's fidelity and cost, resumes only with the same fidelities, and
    benchmarks/report.py --by cost tabulates the runs against cost."""
    import subprocess
    import sys

    from graphvae_nas.datasets import save_dataset
    from graphvae_nas.experiments.compare import ComparisonSpec, run_comparison

    path = tmp_path / "table.jsonl"
    save_dataset(table, path)
    spec = ComparisonSpec(str(path), ["random", "evolution"], ["high"], report="test", seeds=2,
                          budget=3000, batch_size=4, fidelities={1: "low", 10: "high"},
                          eta=3, budget_cost=200)
    runs = run_comparison(spec, runs_path=tmp_path / "runs.jsonl")
    assert len(runs) == 4
    for run in runs:
        assert run["fidelities"] == [1.0, 10.0] and len(run["cost"]) == len(run["objective"])
        assert run["cost"] == run["fidelity"] and 200 <= sum(run["cost"]) < 240
        assert run["counters"]["promotions"] == run["fidelity"].count(10.0) > 0
    other = ComparisonSpec(str(path), ["random"], ["high"], report="test", seeds=2,
                           budget=3000, batch_size=4, fidelities={1: "low", 10: "high"},
                           eta=4, budget_cost=200)
    with pytest.raises(DataFormatError, match="eta"):
        run_comparison(other, runs_path=tmp_path / "runs.jsonl")
    report = Path(__file__).resolve().parents[1] / "benchmarks" / "report.py"
    out = subprocess.run([sys.executable, str(report), f"{tmp_path / 'runs.jsonl'}=*-asha",
                          "--by", "cost", "--budgets", "50,200", "--optimum",
                          str(max(table.metrics["high"]))],
                         capture_output=True, text=True, check=True).stdout
    assert "`random-asha` | 2 |" in out and "`evolution-asha` | 2 |" in out
    assert "median cost to the optimum" in out
