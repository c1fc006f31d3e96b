"""Multi-objective search: Pareto and hypervolume utilities on hand-computed fronts, reference
points, the exact front of a table, qLogNEHVI in the acquisition factory, the multi-objective
strategies (evolution over Pareto rank, NSGA-II, surrogate BO), the Pareto comparison and
``graphvae-nas data pareto``."""
from __future__ import annotations

import json
import math
import random

import pytest
import torch
from test_objectives import OBJECTIVES, dominated, two_objective_table

from graphvae_nas.datasets import save_dataset
from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation import TabularEvaluator
from graphvae_nas.evaluation.tabular import is_missing
from graphvae_nas.search import RandomSearch, RegularizedEvolution, Study, make_strategy
from graphvae_nas.search.objectives import Objective, as_objectives
from graphvae_nas.search.strategies import NSGA2Evolution

botorch = pytest.importorskip("botorch")

from graphvae_nas.experiments.nb201 import REFERENCE_POINTS  # noqa: E402
from graphvae_nas.search.pareto import (  # noqa: E402
    crowding_distances,
    front_hypervolume,
    hypervolume,
    leaders,
    pareto_mask,
    pareto_ranks,
    raw_front,
    reference_point,
    survival_order,
    table_front,
    table_rows,
)


@pytest.fixture(scope="module")
def table():
    return two_objective_table()


# ------------------------------------------------------------------ hand-computed fronts
def test_pareto_mask_and_hypervolume_of_a_hand_computed_front() -> None:
    Y = [[1, 5], [2, 4], [3, 3], [2, 2], [1, 1], [3, 3]]  # larger is better
    assert pareto_mask(Y).tolist() == [True, True, True, False, False, True]  # ties all stay
    # staircase from (0, 0): 1 x 5 + 1 x 4 + 1 x 3
    assert hypervolume(Y, [0, 0]) == pytest.approx(12.0)
    # from (1.5, 0): (2 - 1.5) x 4 + 1 x 3; (1, 5) is not better than the reference in x
    assert hypervolume(Y, [1.5, 0]) == pytest.approx(5.0)
    assert hypervolume([[0, 9]], [0, 0]) == 0.0 and hypervolume(torch.zeros(0, 2), [0, 0]) == 0.0
    # three objectives: two boxes 2x1x1 and 1x2x1 overlapping in a 1x1x1 cube
    assert hypervolume([[2, 1, 1], [1, 2, 1]], [0, 0, 0]) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="reference point"):
        hypervolume([[1, 2]], [0, 0, 0])


def test_non_dominated_sorting_and_crowding_by_hand() -> None:
    Y = [[0, 4], [1, 2], [2, 1], [4, 0], [1, 1], [0, 0]]
    assert pareto_ranks(Y).tolist() == [0, 0, 0, 0, 1, 2]
    crowding = crowding_distances(Y[:4])
    assert math.isinf(crowding[0]) and math.isinf(crowding[3])
    # (1, 2): (2 - 0) / 4 in x plus (4 - 1) / 4 in y; (2, 1): (4 - 1) / 4 plus (2 - 0) / 4
    assert crowding[1].item() == pytest.approx(1.25) and crowding[2].item() == pytest.approx(1.25)
    assert survival_order(Y) == [0, 3, 1, 2, 4, 5]
    assert leaders(Y, 2) == [0, 3]
    assert leaders([[3.0], [5.0], [5.0], [1.0]], 3) == [1, 2, 0]  # one objective: by value


def test_raw_fronts_respect_directions() -> None:
    objectives = as_objectives(["acc:max", "latency:min"])
    rows = [{"acc": 90, "latency": 5}, {"acc": 80, "latency": 1}, {"acc": 85, "latency": 6},
            {"acc": 95}, {"acc": 90, "latency": 5}]
    assert raw_front(objectives, rows) == [0, 1, 4]  # row 3 lacks a latency
    # maximising latency instead picks other rows: a min objective is never maximised
    assert raw_front(as_objectives(["acc:max", "latency:max"]), rows) == [0, 2, 4]
    ref = reference_point(objectives, rows)
    assert ref.source == "observed" and ref.values == {"acc": 80, "latency": 6}
    # (90 - 80) x (6 - 5) + (80 - 80) ... only row 0 adds volume from the observed worst
    assert front_hypervolume(objectives, rows, ref) == pytest.approx(10.0)


def test_fixed_reference_points_are_documented_per_pair() -> None:
    """NAS-Bench-201's fixed points live with the experiments and are passed in."""
    pair = as_objectives(["cifar10_valid:max", "hw_edgegpu_latency:min"])
    ref = reference_point(pair, [{"cifar10_valid": 50.0, "hw_edgegpu_latency": 3.0}],
                          known=REFERENCE_POINTS)
    assert ref.source == "fixed" and ref.values == {"cifar10_valid": 10.0, "hw_edgegpu_latency": 12.0}
    assert ref.oriented(pair) == [10.0, -12.0]
    assert frozenset({"cifar10_test", "hw_pixel3_latency"}) in REFERENCE_POINTS
    with pytest.raises(GraphVAENASError, match="no fixed reference point"):
        reference_point(as_objectives(["a:max", "b:min"]), known=REFERENCE_POINTS)
    assert reference_point(pair, [{"cifar10_valid": 50.0, "hw_edgegpu_latency": 3.0}]
                           ).source == "observed"   # the library itself knows no benchmark


def test_hardware_minus_one_marks_a_missing_value() -> None:
    assert is_missing("hw_edgetpu_latency", -1.0) and is_missing("score", float("nan"))
    assert not is_missing("score", -1.0) and not is_missing("hw_edgetpu_latency", 0.3)


def test_table_front_is_the_brute_force_front(table) -> None:
    objectives = as_objectives(OBJECTIVES)
    rows = table_rows(table, objectives)
    assert len(rows) < len(table.index_by_hash())  # rows without a latency are left out
    points = [[v["score"], -v["latency"]] for _, v in rows]
    expected = {rows[i][0].canonical_hash for i, p in enumerate(points)
                if not any(dominated(p, q) for q in points)}
    front = table_front(table, objectives)
    assert {a.canonical_hash for a, _ in front} == expected and len(front) > 2
    assert [v["score"] for _, v in front] == sorted((v["score"] for _, v in front), reverse=True)


# ------------------------------------------------------------------ acquisition factory
def test_the_factory_gives_qlognehvi_for_several_objectives() -> None:
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.models import SingleTaskGP

    from graphvae_nas.search.acquisition import (
        acquisition_names,
        make_acquisition,
        make_prefilter,
        resolve_acquisition,
    )

    assert acquisition_names(2) == ("qlognehvi",) and "qlognehvi" not in acquisition_names(1)
    assert resolve_acquisition("qlognei", 2) == "qlognehvi"
    assert resolve_acquisition("qlognei", 1) == "qlognei"
    generator = torch.Generator().manual_seed(0)
    X = torch.rand(12, 3, generator=generator, dtype=torch.float64)
    Y = torch.stack([X.sum(-1), -X[:, 0]], -1)
    model = SingleTaskGP(X, Y)
    acquisition = make_acquisition("qlognehvi", model, X, Y)
    assert isinstance(acquisition, qLogNoisyExpectedHypervolumeImprovement)
    candidates = torch.rand(40, 1, 3, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        scores = make_prefilter("qlognehvi", model, X, Y)(candidates)
        direct = make_prefilter("qlognehvi", model, X, Y)
    assert scores.shape == (40,) and torch.isfinite(scores).all()
    # the prefilter's marginal posterior is the model's own at single points
    posterior = direct.model.posterior(candidates[:5])
    assert torch.allclose(posterior.mean, model.posterior(candidates[:5]).mean, atol=1e-8)
    with pytest.raises(GraphVAENASError, match="unknown acquisition 'qlognei' for 2"):
        make_acquisition("qlognei", model, X, Y)


# ------------------------------------------------------------------ strategies
def small_bananas(table):
    return make_strategy("bananas", space=table.space, n_init=8,
                         gnn={"members": 2, "epochs": 15}, mutate={"count": 40, "top": 4})


MO_STRATEGIES = {
    "evolution": lambda table: RegularizedEvolution(8, 3),
    "nsga2": lambda table: NSGA2Evolution(8),
    "bananas": small_bananas,
}


@pytest.mark.parametrize("name", sorted(MO_STRATEGIES))
def test_multi_objective_strategies_find_fronts_of_evaluated_architectures(name, table) -> None:
    evaluator = TabularEvaluator(table, ["score", "latency"])
    study = Study(table.space, MO_STRATEGIES[name](table), evaluator, seed=3, objectives=OBJECTIVES)
    study.optimize(16, batch_size=4)
    evaluated = {t.arch.canonical_hash for t in study.trials}
    front = study.pareto_front()
    assert front and {t.arch.canonical_hash for t in front} <= evaluated
    assert len(evaluated) == 16
    assert all("latency" in t.evaluation.values for t in front)


def test_evolution_over_pareto_rank_beats_random_and_honours_min(table) -> None:
    """Over a few seeds, NSGA-II's fronts dominate more volume than random search's, and
    flipping latency to ``max`` makes it find slow architectures instead."""
    objectives = as_objectives(OBJECTIVES)
    evaluator = TabularEvaluator(table, ["score", "latency"])
    truth = [v for _, v in table_front(table, objectives)]
    ref = reference_point(objectives, [v for _, v in table_rows(table, objectives)])
    true_volume = front_hypervolume(objectives, truth, ref)

    def ratio(strategy, seed, objective_list=OBJECTIVES):
        study = Study(table.space, strategy, evaluator, seed=seed, objectives=objective_list)
        study.optimize(60, batch_size=5)
        return study, front_hypervolume(objectives, [t.evaluation.values for t in
                                                     study.pareto_front()], ref) / true_volume

    nsga = [ratio(NSGA2Evolution(10), s)[1] for s in range(3)]
    rand = [ratio(RandomSearch(), s)[1] for s in range(3)]
    assert sum(nsga) > sum(rand) and max(nsga) <= 1.0 + 1e-9
    fast, _ = ratio(NSGA2Evolution(10), 0)
    slow, _ = ratio(NSGA2Evolution(10), 0, ["score:max", "latency:max"])
    mean = lambda study: sum(t.evaluation.values.get("latency", 0) for t in study.trials[10:]) / 50
    assert mean(slow) > mean(fast)


def test_surrogate_strategy_with_two_objectives_uses_qlognehvi(table, monkeypatch) -> None:
    from graphvae_nas.search import acquisition

    used = []
    original = acquisition.ACQUISITIONS[2]["qlognehvi"]
    spy = acquisition.AcquisitionSpec(lambda *a: used.append("batch") or original.batch(*a),
                                      original.analytic)
    monkeypatch.setitem(acquisition.ACQUISITIONS[2], "qlognehvi", spy)
    evaluator = TabularEvaluator(table, ["score", "latency"])
    study = Study(table.space, small_bananas(table), evaluator, seed=1, objectives=OBJECTIVES)
    study.optimize(16, batch_size=4)
    assert used == ["batch", "batch"]  # two rounds after the 8 random ones
    assert {t.tag for t in study.trials[8:]} <= {"bananas", "bananas-random-fallback"}


def test_nsga2_options_are_checked() -> None:
    from graphvae_nas.search.configs import ConfigError

    assert make_strategy("nsga2", population_size=6, tournament=3).spec() == {
        "name": "nsga2", "population_size": 6, "tournament": 3}
    with pytest.raises(ConfigError, match="tournament"):
        make_strategy("nsga2", population_size=4, tournament=5)


# ------------------------------------------------------------------ comparison and CLI
def test_pareto_comparison_ratios(table, tmp_path) -> None:
    from graphvae_nas.experiments.compare import ComparisonSpec
    from graphvae_nas.experiments.pareto_summary import ratios_at, true_fronts

    path = tmp_path / "t.jsonl"
    base = table
    # the report column: a copy of score, so the report ratio equals the ratio
    with_report = type(base).from_architectures(
        base.space, base.archs, {**{k: v.tolist() for k, v in base.metrics.items()},
                                 "score_copy": base.metrics["score"].tolist()})
    save_dataset(with_report, path)
    spec = ComparisonSpec(str(path), ["random"], OBJECTIVES, report="score_copy")
    refs = {frozenset({"score", "latency"}): {"score": 0.0, "latency": 40.0},
            frozenset({"score_copy", "latency"}): {"score_copy": 0.0, "latency": 40.0}}
    truth = true_fronts(with_report, spec, known=refs)
    assert truth.reference == {"score": 0.0, "latency": 40.0}
    front_values = [v for _, v in truth.front]
    perfect = {"values": front_values,
               "report": [v["score"] for v in front_values]}
    assert ratios_at(perfect, len(front_values), truth) == pytest.approx((1.0, 1.0))
    half = {"values": front_values[:1], "report": [front_values[0]["score"]]}
    hv, rep = ratios_at(half, 1, truth)
    assert 0 < hv < 1 and hv == pytest.approx(rep)
    observed = true_fronts(with_report, spec)      # no fixed point: the table's worst values
    latencies = [v for v in with_report.metrics["latency"].tolist() if v == v]    # not NaN
    assert observed.reference["latency"] == max(latencies)


def test_data_pareto_prints_the_exact_front(table, tmp_path, capsys) -> None:
    from graphvae_nas.cli import main

    path = tmp_path / "t.jsonl"
    save_dataset(table, path)
    capsys.readouterr()
    assert main(["data", "pareto", str(path), "--objective", "score:max", "--objective",
                 "latency:min", "--json", "--png", str(tmp_path / "front.png")]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = table_front(table, as_objectives(OBJECTIVES))
    assert [m["hash"] for m in out["front"]] == [a.canonical_hash for a, _ in expected]
    assert out["reference_point"]["source"] == "observed"
    assert out["hypervolume"] > 0 and (tmp_path / "front.png").stat().st_size > 1000
    assert main(["data", "pareto", str(path), "--objective", "score:max"]) == 2
    assert "at least two" in capsys.readouterr().err


@pytest.mark.slow  # about 15 s on the loaded 2-core machine (four 1-epoch trainings)
def test_training_search_with_accuracy_and_parameter_count(tmp_path, capsys, monkeypatch) -> None:
    """``search --objective valid_acc:max --objective params:min`` on digits: the parameter
    count comes from the training record, and the summary holds the found front, its
    hypervolume from the observed reference point, and front.png."""
    pytest.importorskip("sklearn")
    from graphvae_nas.cli import main

    monkeypatch.setenv("GRAPHVAE_NAS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    capsys.readouterr()
    rc = main(["search", "--objective", "valid_acc:max", "--objective", "params:min",
               "--strategy", "nsga2", "--budget", "4", "--batch-size", "2", "--epochs", "1",
               "--device", "cpu", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "study.jsonl").read_text().splitlines()[1:]]
    trials = [r for r in rows if "trial" in r]
    assert len(trials) == 4 and all(set(r["values"]) == {"valid_acc", "params"} for r in trials)
    assert all(r["values"]["params"] == r["metrics"]["params"] > 0 for r in trials)
    front = {m["trial"] for m in summary["pareto_front"]}
    assert front <= {r["trial"] for r in trials} and front
    assert summary["reference_point"]["source"] == "observed"
    assert summary["reference_point"]["values"]["params"] == max(r["values"]["params"] for r in trials)
    assert summary["hypervolume"] >= 0 and "hypervolume_ratio" not in summary
    assert (out / "front.png").exists()


def test_pareto_comparison_records_runs_and_resumes(table, tmp_path) -> None:
    """``runs_path``: finished runs are recorded with their settings; a rerun with more seeds
    runs only the new ones and returns all of them seed by seed."""
    from graphvae_nas.experiments.compare import ComparisonSpec, run_comparison

    path = tmp_path / "t.jsonl"
    save_dataset(table, path)
    runs_file = tmp_path / "runs.jsonl"
    spec = ComparisonSpec(str(path), ["random"], OBJECTIVES, report="score", seeds=1, budget=6,
                          batch_size=3)
    seen: list = []
    first = run_comparison(spec, runs_path=runs_file, on_run=seen.append)
    assert [(r["strategy"], r["seed"]) for r in first] == [("random", 0)] and len(seen) == 1
    spec.seeds = 2
    again = run_comparison(spec, runs_path=runs_file, on_run=seen.append)
    assert [(r["strategy"], r["seed"]) for r in again] == [("random", 0), ("random", 1)]
    assert len(seen) == 2 and again[0]["values"] == first[0]["values"]   # seed 0 read back
    assert len(runs_file.read_text().splitlines()) == 2
