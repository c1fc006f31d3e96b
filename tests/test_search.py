"""The ask/tell study, its store and resume, and the baseline strategies."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from graphvae_nas.datasets import ArchitectureDataset
from graphvae_nas.errors import DataFormatError, GraphVAENASError
from graphvae_nas.evaluation import Evaluation, TabularEvaluator
from graphvae_nas.search import (
    LocalSearch,
    RandomSearch,
    RegularizedEvolution,
    Study,
    StudyStore,
    make_strategy,
)
from graphvae_nas.surrogates import gaussian_copula
from graphvae_nas.spaces import get_space

ROOT = Path(__file__).resolve().parents[1]


def synthetic_table(space_name: str = "enas:num_layers=3") -> ArchitectureDataset:
    """Every architecture of a small space, scored by a smooth function of its ops and skips:
    the unique optimum is all-conv5x5 with every skip connection."""
    space = get_space(space_name)
    archs = list(space.enumerate())
    score = [sum(op == "conv5x5" for op in a.ops) * 10 + a.num_edges for a in archs]
    return ArchitectureDataset.from_architectures(space, archs, {"score": score,
                                                                 "neg": [-s for s in score]})


@pytest.fixture(scope="module")
def table() -> ArchitectureDataset:
    return synthetic_table()


STRATEGIES = [RandomSearch, RegularizedEvolution, LocalSearch]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("make", [RegularizedEvolution, LocalSearch])
def test_guided_strategies_find_the_optimum_within_a_sixth_of_the_space(make, seed, table) -> None:
    evaluator = TabularEvaluator(table, "score", report=["neg"])
    best_arch, best_value = evaluator.best()
    budget = len(table) // 6   # 288 of 1,728: well below the space, so finding it is search
    study = Study(table.space, make(), evaluator, seed=seed)
    study.optimize(budget)
    assert study.best().objective == best_value
    assert study.best().arch.canonical_hash == best_arch.canonical_hash
    hashes = [t.arch.canonical_hash for t in study.trials]
    assert len(hashes) == len(set(hashes)) == budget  # nothing evaluated twice


@pytest.mark.parametrize("make", STRATEGIES)
def test_no_strategy_evaluates_an_architecture_twice(make, table) -> None:
    evaluator = TabularEvaluator(table, "score")
    budget = len(table) // 2
    study = Study(table.space, make(), evaluator, seed=0)
    study.optimize(budget)
    hashes = [t.arch.canonical_hash for t in study.trials]
    assert len(hashes) == len(set(hashes)) == budget


@pytest.mark.parametrize("make", [lambda: RegularizedEvolution(8, 3), LocalSearch])
def test_guided_strategies_beat_random_on_average(make, table) -> None:
    evaluator = TabularEvaluator(table, "score")

    def mean_best(factory) -> float:
        values = []
        for seed in range(10):
            study = Study(table.space, factory(), evaluator, seed=seed)
            study.optimize(60)
            values.append(study.best().objective)
        return sum(values) / len(values)

    assert mean_best(make) > mean_best(RandomSearch)


def test_same_seed_same_trajectory(table) -> None:
    evaluator = TabularEvaluator(table, "score")
    runs = [[t.arch for t in Study(table.space, RegularizedEvolution(6, 3), evaluator, seed=4)
             .optimize(30, batch_size=3)] for _ in range(2)]
    assert runs[0] == runs[1]


def test_ask_tell_by_hand_and_errors(table) -> None:
    evaluator = TabularEvaluator(table, "score")
    study = Study(table.space, RandomSearch(), evaluator, seed=0)
    asked = study.ask(4)
    assert len({a.canonical_hash for a in asked}) == 4
    for arch in asked:
        study.tell(arch, evaluator.evaluate(arch))
    with pytest.raises(GraphVAENASError, match="not asked"):
        study.tell(asked[0], Evaluation(1.0))
    with pytest.raises(GraphVAENASError, match="larger than the space"):
        Study(table.space, RandomSearch(), evaluator).optimize(len(table) + 1)


def test_evaluator_errors(table) -> None:
    with pytest.raises(DataFormatError, match="no column 'nope'"):
        TabularEvaluator(table, "nope")
    with pytest.raises(DataFormatError, match="space"):
        TabularEvaluator(table, "score", space=get_space("nb201"))
    evaluator = TabularEvaluator(table, "score")
    outside = get_space("enas:num_layers=3").from_rows([[0], [0, 1], [0, 1, 1]])
    small = table.subset([i for i, a in enumerate(table.archs) if a != outside])
    result = TabularEvaluator(small, "score").evaluate(outside)
    assert result.objective is None and "not in the table" in result.failure
    assert evaluator.evaluate(outside).objective is not None


# ------------------------------------------------------------------------------ store and resume
def header(table, strategy, evaluator, seed=0):
    return Study.store_header(table.space, strategy, evaluator, seed)


def stopped_and_resumed(path: Path, table, make, evaluator, *, seed: int, stop: int, total: int,
                        batch_size: int) -> Study:
    """A study of ``make()`` stored in ``path``, stopped after ``stop`` evaluations, then a new
    study of a fresh ``make()`` resumed from the file and run to ``total``."""
    first = Study(table.space, make(), evaluator, seed=seed,
                  store=StudyStore(path, header(table, make(), evaluator, seed)))
    first.optimize(stop, batch_size=batch_size)
    first.store.close()
    resumed = Study(table.space, make(), evaluator, seed=seed,
                    store=StudyStore(path, header(table, make(), evaluator, seed), resume=True))
    resumed.optimize(total, batch_size=batch_size)
    return resumed


def test_resume_continues_the_same_study(tmp_path: Path, table) -> None:
    evaluator = TabularEvaluator(table, "score")
    straight = Study(table.space, LocalSearch(), evaluator, seed=2)
    straight.optimize(25, batch_size=4)

    path = tmp_path / "study.jsonl"
    first = Study(table.space, LocalSearch(), evaluator, seed=2,
                  store=StudyStore(path, header(table, LocalSearch(), evaluator, 2)))
    class Interrupted(Exception):
        pass

    def stop_after_ten(trial) -> None:
        if trial.number == 9:
            raise Interrupted  # e.g. Ctrl-C in the middle of the third batch of 4

    with pytest.raises(Interrupted):
        first.optimize(25, batch_size=4, callback=stop_after_ten)
    first.store.close()   # as the interrupted process's end would
    resumed = Study(table.space, LocalSearch(), evaluator, seed=2,
                    store=StudyStore(path, header(table, LocalSearch(), evaluator, 2), resume=True))
    assert len(resumed.trials) == 10
    resumed.optimize(25, batch_size=4)
    assert [t.arch for t in resumed.trials] == [t.arch for t in straight.trials]


def test_store_refuses_overwrite_foreign_and_corrupt_files(tmp_path: Path, table) -> None:
    evaluator = TabularEvaluator(table, "score")
    path = tmp_path / "study.jsonl"
    StudyStore(path, header(table, RandomSearch(), evaluator))
    with pytest.raises(DataFormatError, match="already exists"):
        StudyStore(path, header(table, RandomSearch(), evaluator))
    with pytest.raises(DataFormatError, match="another study"):
        StudyStore(path, header(table, LocalSearch(), evaluator), resume=True)
    with pytest.raises(DataFormatError, match="another study"):
        StudyStore(path, header(table, RandomSearch(), evaluator, seed=1), resume=True)
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"format": "graphvae_nas.dataset"}\n')
    with pytest.raises(DataFormatError, match="not a graphvae_nas study store"):
        StudyStore(foreign, header(table, RandomSearch(), evaluator), resume=True)
    with path.open("a") as handle:
        handle.write('{"trial": 5}\n')
    with pytest.raises(DataFormatError, match="expected trial 0"):
        StudyStore(path, header(table, RandomSearch(), evaluator), resume=True)


def test_half_written_last_line_is_dropped(tmp_path: Path, table) -> None:
    evaluator = TabularEvaluator(table, "score")
    path = tmp_path / "study.jsonl"
    study = Study(table.space, RandomSearch(), evaluator, seed=0,
                  store=StudyStore(path, header(table, RandomSearch(), evaluator)))
    study.optimize(3)
    study.store.close()
    with path.open("a") as handle:
        handle.write('{"trial": 3, "hash": "ab')  # killed mid-write
    store = StudyStore(path, header(table, RandomSearch(), evaluator), resume=True)
    assert len(store.records) == 3
    assert path.read_text().endswith("\n")


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    from test_search import synthetic_table
    from graphvae_nas.evaluation import TabularEvaluator
    from graphvae_nas.search import RegularizedEvolution, Study, StudyStore

    class SlowEvaluator(TabularEvaluator):
        def evaluate(self, arch):
            time.sleep(0.02)
            return super().evaluate(arch)

    table = synthetic_table()
    evaluator = SlowEvaluator(table, "score")
    strategy = RegularizedEvolution(8, 3)
    store = StudyStore({path!r}, Study.store_header(table.space, strategy, evaluator, 7),
                       resume=True)
    Study(table.space, strategy, evaluator, seed=7, store=store).optimize(60, batch_size=5)
    print("done")
""")


def kill_then_resume(child: str, path: Path, tmp_path: Path, trials: int = 60) -> list[dict]:
    """Run the study script ``child`` (a template like ``CHILD``: ``trials`` trials into the
    store ``path``), SIGKILL it once 12 trials are on disk, run it again to the end; the trial
    records of the store, checked to be numbered 0 to ``trials - 1``."""
    script = tmp_path / "child.py"
    script.write_text(child.format(root=str(ROOT), tests=str(ROOT / "tests"), path=str(path)))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until some trials are on disk, then kill hard
        if path.exists() and path.read_text().count('"trial"') >= 12:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = path.read_text().count('"trial"')
    assert 12 <= killed_at < trials
    resumed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert resumed.stdout.strip() == "done", resumed.stderr
    records = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    found = [r for r in records if "trial" in r]
    assert [r["trial"] for r in found] == list(range(trials))
    return found


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_run(tmp_path: Path, table) -> None:
    path = tmp_path / "study.jsonl"
    trials = kill_then_resume(CHILD, path, tmp_path)

    evaluator = TabularEvaluator(table, "score")
    straight = Study(table.space, RegularizedEvolution(8, 3), evaluator, seed=7)
    straight.optimize(60, batch_size=5)
    assert [r["arch"] for r in trials] == [table.space.format(t.arch) for t in straight.trials]
    assert len({r["hash"] for r in trials}) == 60
    assert os.path.getsize(path) > 0


# ------------------------------------------------------------------------------ latent BO
@pytest.fixture(scope="module")
def small_vae(table):
    import torch

    from graphvae_nas.vae import GraphVAE, VAEConfig
    from graphvae_nas.vae.trainer import TrainConfig, train_vae

    torch.manual_seed(0)
    model = GraphVAE(table.space, VAEConfig(hidden_size=32, latent_size=6))
    train_vae(model, table.archs, TrainConfig(epochs=3, batch_size=64, lr=3e-3, precision="fp32",
                                              progress=False))
    return model


@pytest.mark.slow
@pytest.mark.parametrize("name,options", [
    ("bo", {}), ("bo-pool", {}),
    ("bo", {"acquisition": {"name": "qlogei"}}),
    ("bo", {"acquisition": {"name": "ucb", "ucb_beta": 1.0}}),
    ("bo", {"decode": {"neighbourhood": 0, "explore": 0}}),
    ("bo", {"decode": {"neighbourhood": 200, "explore": 0}, "acquisition": {"shortlist": 7}}),
    ("bo-pool", {"acquisition": {"shortlist": 7}})])
def test_latent_bo_proposes_only_valid_unseen_architectures(name, options, table, small_vae) -> None:
    pytest.importorskip("botorch")
    from graphvae_nas.search.configs import merge

    evaluator = TabularEvaluator(table, "score")
    small = {"optimise": {"decodes": 5, "restarts": 2, "raw_samples": 32}} if name == "bo" else {}

    def run():
        strategy = make_strategy(name, model=small_vae, candidates=table.archs, n_init=8,
                                 options=merge(small, options))
        study = Study(table.space, strategy, evaluator, seed=3)
        study.optimize(24, batch_size=4)
        return study, strategy

    study, strategy = run()
    hashes = [t.arch.canonical_hash for t in study.trials]
    assert len(hashes) == len(set(hashes)) == 24
    assert all(table.space.is_valid(t.arch) and t.objective is not None for t in study.trials)
    tags = {t.tag for t in study.trials}
    assert "random-init" in tags and name in tags
    assert strategy.spec()["name"] == name
    assert [t.arch for t in run()[0].trials] == [t.arch for t in study.trials]  # deterministic


def test_rank_weights_follow_tripp_et_al() -> None:
    """1 / (k N + rank), rank 0 for the best, normalised."""
    import numpy as np

    from graphvae_nas.search.strategies.retraining import rank_weights

    weights = rank_weights(np.array([1.0, 3.0, 2.0]), k=1.0)
    expected = np.array([1 / 5, 1 / 3, 1 / 4])
    assert np.allclose(weights, expected / expected.sum())
    sharp = rank_weights(np.arange(100.0), k=1e-3)
    assert sharp.argmax() == 99 and sharp[99] > 0.3      # small k: the best dominates


def test_weighted_retraining_refuses_several_objectives_before_any_evaluation(table) -> None:
    from graphvae_nas.search.objectives import Objective
    from graphvae_nas.search.strategies.base import History
    from graphvae_nas.search.configs import RetrainConfig
    from graphvae_nas.search.strategies.retraining import WeightedRetraining

    inner = RandomSearch()
    strategy = WeightedRetraining(lambda model: inner, None, RetrainConfig(every=5))
    history = History(table.space, objective_specs=(Objective("score"),
                                                    Objective("latency", "min")))
    with pytest.raises(GraphVAENASError, match="ranks one objective; this study has 2"):
        strategy.propose(history, 3, random.Random(0))
    single = History(table.space, objective_specs=(Objective("score"),))
    assert len(strategy.propose(single, 3, random.Random(0))) == 3


def test_weighted_retraining_fine_tunes_a_copy_and_a_resumed_study_replays_it(
        tmp_path: Path, table, small_vae) -> None:
    """retrain.every=6: fine-tuned after 6 and 12 evaluations (counted), on a copy (the
    caller's VAE keeps its weights); a study stopped after 9 evaluations and resumed replays
    the first fine-tuning and continues the uninterrupted run exactly."""
    pytest.importorskip("botorch")
    import torch

    evaluator = TabularEvaluator(table, "score")
    options = {"n_init": 6, "optimise": {"decodes": 2, "restarts": 1, "raw_samples": 16},
               "decode": {"neighbourhood": 40, "explore": 40},
               "retrain": {"every": 6, "samples": 40, "k": 0.01}}
    before = {k: v.clone() for k, v in small_vae.state_dict().items()}

    def make():
        return make_strategy("bo", model=small_vae, candidates=table.archs, options=options)

    strategy = make()
    assert strategy.spec()["retrain"]["every"] == 6 and strategy.spec()["name"] == "bo"
    straight = Study(table.space, strategy, evaluator, seed=1)
    straight.optimize(15, batch_size=3)
    assert strategy.counters["retrains"] == 2 and strategy.counters["decoded_candidates"] > 0
    assert all(torch.equal(before[k], v) for k, v in small_vae.state_dict().items())
    assert not all(torch.equal(before[k], v) for k, v in strategy.model.state_dict().items())

    resumed = stopped_and_resumed(tmp_path / "study.jsonl", table, make, evaluator, seed=1,
                                  stop=9, total=15, batch_size=3)
    assert [t.arch for t in resumed.trials] == [t.arch for t in straight.trials]
    assert resumed.strategy.counters["retrains"] == 2


def test_decode_mode_chooses_among_decoded_candidates_by_acquisition(table, small_vae) -> None:
    pytest.importorskip("botorch")
    import torch

    from graphvae_nas.search.acquisition import make_acquisition
    from graphvae_nas.search.strategies.surrogate import observations

    strategy = make_strategy("bo", model=small_vae, candidates=table.archs, n_init=8,
                             decode={"neighbourhood": 300, "explore": 300},
                             optimise={"restarts": 2, "raw_samples": 32},
                             acquisition={"name": "qlogei"})
    study = Study(table.space, strategy, TabularEvaluator(table, "score"), seed=1)
    study.optimize(8)
    history = study.history
    proposals = strategy.propose(history, 4, random.Random(5))
    assert [p.tag for p in proposals] == ["bo"] * 4
    assert strategy.counters["decoded_candidates"] >= 4 and strategy.counters["random_fallbacks"] == 0
    assert not {p.arch.canonical_hash for p in proposals} & history.seen
    # the same acquisition as inside propose (same seed): the first pick scores highest alone
    archs, y = observations(history)
    with torch.random.fork_rng():
        torch.manual_seed(random.Random(5).getrandbits(62))
        y = gaussian_copula(y)
        model = strategy.surrogate.fit(archs, y)
        acq = make_acquisition("qlogei", model, strategy.surrogate.featurize(archs), y)
    with torch.no_grad():
        first = acq(strategy.surrogate.featurize([proposals[0].arch]).unsqueeze(1))
        others = acq(strategy.surrogate.featurize([p.arch for p in proposals[1:]]).unsqueeze(1))
    assert (first >= others - 1e-9).all()


def test_latent_bo_rejects_bad_options(table, small_vae) -> None:
    pytest.importorskip("botorch")
    with pytest.raises(GraphVAENASError, match="'decode.explore'.*>= 0"):
        make_strategy("bo", model=small_vae, candidates=table.archs, decode={"explore": -1})
    with pytest.raises(GraphVAENASError, match=r"unknown option.*decode\.explor .*'bo'.*"
                                               r"known: decode\.neighbourhood"):
        make_strategy("bo", model=small_vae, candidates=table.archs, decode={"explor": 10})
    with pytest.raises(GraphVAENASError, match="unknown option.*decode.*'bo-pool'"):
        make_strategy("bo-pool", model=small_vae, candidates=table.archs, decode={"explore": 10})
    with pytest.raises(GraphVAENASError, match="'explore' is now 'decode.explore'"):
        make_strategy("bo", model=small_vae, candidates=table.archs, explore=10)
    with pytest.raises(GraphVAENASError, match="'decode' of strategy 'bo': expected a JSON object"):
        make_strategy("bo", model=small_vae, candidates=table.archs, decode=10)
    with pytest.raises(GraphVAENASError, match="'decode.explore'.*neighbourhood.*both be 0"):
        make_strategy("bo-gnn", model=small_vae, candidates=table.archs,
                      decode={"explore": 0, "neighbourhood": 0})
    for removed in ("rerank", "restart_after", "trust_region"):
        with pytest.raises(GraphVAENASError, match=f"'{removed}'.*no longer exists"):
            make_strategy("bo", model=small_vae, candidates=table.archs, **{removed: 1})
    with pytest.raises(GraphVAENASError, match="needs a trained VAE"):
        make_strategy("bo-gnn", candidates=table.archs)


def test_gaussian_copula_ranks_with_ties() -> None:
    import torch

    y = torch.tensor([[10.0], [91.0], [90.0], [90.0]], dtype=torch.float64)
    z = gaussian_copula(y).reshape(-1)
    normal = torch.distributions.Normal(0.0, 1.0)
    # ranks 1, 4, 2.5, 2.5 of 4 -> quantiles of 0.125, 0.875, 0.5, 0.5
    expected = normal.icdf(torch.tensor([0.125, 0.875, 0.5, 0.5], dtype=torch.float64))
    assert torch.allclose(z, expected)
    assert gaussian_copula(y * 3 + 7).equal(gaussian_copula(y))  # only the order matters
    two = gaussian_copula(torch.cat([y, -y], 1))  # columns are ranked separately
    assert torch.allclose(two[:, 0], expected) and torch.allclose(two[:, 1], -expected)


def test_comparison_summary_on_hand_made_runs() -> None:
    from graphvae_nas.experiments.compare import (
        best_report_at,
        queries_to_optimum,
        summarise,
    )

    runs = [{"strategy": "a", "objective": [1.0, 3.0, None, 5.0], "report": [10.0, 30.0, None, 50.0],
             "overhead_s": 2.0, "proposals": 4, "counters": {"x": 1}},
            {"strategy": "a", "objective": [5.0, 1.0, 2.0, 2.0], "report": [40.0, 1.0, 2.0, 2.0],
             "overhead_s": 0.0, "proposals": 4, "counters": {"x": 2}},
            {"strategy": "b", "objective": [1.0, 2.0, 3.0, 4.0], "report": [1.0, 2.0, 3.0, 4.0],
             "overhead_s": 0.0, "proposals": 4, "counters": {}}]
    assert best_report_at(runs[0], 2) == 30.0 and best_report_at(runs[0], 4) == 50.0
    assert queries_to_optimum(runs[0], 5.0) == 4 and queries_to_optimum(runs[2], 5.0) is None
    table = summarise(runs, [2, 4], optimum=5.0)
    assert table["a"]["2"] == {"mean": 35.0, "std": 5.0} and table["a"]["4"]["mean"] == 45.0
    assert table["a"]["median_queries_to_optimum"] == 2.5 and table["a"]["found_optimum"] == "2/2"
    assert table["b"]["median_queries_to_optimum"] is None  # JSON-safe, unlike inf
    assert table["b"]["queries_to_optimum"] == "not reached (0/1)"
    assert table["a"]["queries_to_optimum"] == "2.5 (2/2)"
    assert table["a"]["overhead_s_per_proposal"] == 0.25 and table["a"]["counters"] == {"x": 3}


def test_comparison_runs_file_resumes_and_refuses_other_settings(tmp_path) -> None:
    """Finished runs land in the runs file; a rerun returns them without running them again
    (a record edited on disk comes back as edited), completes only the missing ones, drops a
    record cut off mid-write, and refuses a file written with other settings."""
    from test_objectives import two_objective_table

    from graphvae_nas.datasets import save_dataset
    from graphvae_nas.errors import DataFormatError
    from graphvae_nas.experiments.compare import ComparisonSpec, run_comparison

    data = tmp_path / "t.jsonl"
    save_dataset(two_objective_table(), data)
    runs_file = tmp_path / "runs.jsonl"
    spec = ComparisonSpec(str(data), ["random"], ["score"], report="neg", seeds=2, budget=6,
                          batch_size=3)
    first = run_comparison(spec, runs_path=runs_file)
    assert [(r["strategy"], r["seed"]) for r in first] == [("random", 0), ("random", 1)]
    lines = runs_file.read_text().splitlines()
    assert len(lines) == 2
    edited = json.loads(lines[0])
    edited["seconds"] = -1.0
    seed_of_edited = edited["seed"]
    runs_file.write_text(json.dumps(edited) + "\n" + lines[1] + "\n" + lines[1][:40])
    spec.strategies = ["random", "evolution"]
    again = run_comparison(spec, runs_path=runs_file)
    assert [(r["strategy"], r["seed"]) for r in again] == [           # seed by seed
        ("random", 0), ("evolution", 0), ("random", 1), ("evolution", 1)]
    random_runs = [r for r in again if r["strategy"] == "random"]
    assert random_runs[seed_of_edited]["seconds"] == -1.0     # read back, not rerun
    assert [r["objective"] for r in random_runs] == [r["objective"] for r in first]
    assert len(runs_file.read_text().splitlines()) == 4    # partial record dropped, two added
    other = ComparisonSpec(str(data), ["random"], ["score"], report="neg", seeds=2, budget=9,
                           batch_size=3)
    with pytest.raises(DataFormatError, match=r"runs\.jsonl:1: recorded with budget=6"):
        run_comparison(other, runs_path=runs_file)


def test_runs_file_keeps_runs_of_strategies_without_a_vae_when_only_the_model_differs(tmp_path) -> None:
    """Cheap strategies first (no VAE), latent BO later in the same file: the first runs are
    kept; a latent-BO run recorded with another VAE is still refused."""
    from graphvae_nas.experiments.runs_file import RunsFile

    path = tmp_path / "runs.jsonl"
    without = RunsFile(path, {"budget": 6, "model": None})
    without.append({"strategy": "random", "seed": 0, "objective": [1.0]})
    with_model = RunsFile(path, {"budget": 6, "model": "vae.pt"})
    assert list(with_model.load()) == [("random", 0)]
    without.append({"strategy": "bo", "seed": 0, "objective": [2.0]})
    with pytest.raises(DataFormatError, match=r"runs\.jsonl:2: recorded with model=None.*'vae\.pt'"):
        with_model.load()
    with pytest.raises(DataFormatError, match=r"runs\.jsonl:1: recorded with budget=6"):
        RunsFile(path, {"budget": 9, "model": None}).load()


class _FailsAfter:
    """An evaluator that scores like ``inner`` and raises on its ``limit + 1``-th call."""

    def __init__(self, inner, limit: int) -> None:
        self.inner, self.limit, self.calls = inner, limit, 0
        self.objective = inner.objective

    def evaluate(self, arch):
        self.calls += 1
        if self.calls > self.limit:
            raise RuntimeError("evaluation server went away")
        return self.inner.evaluate(arch)

    def spec(self) -> dict:
        return {"kind": "fails-after", "limit": self.limit}


def _crashing_job(job: tuple[str, int]) -> dict:
    """A run_jobs job: seed 1 fails with its partial record, seed 3 fails plainly."""
    from graphvae_nas.experiments.runs_file import RunInterrupted, partial_record

    name, seed = job
    if seed == 1:
        raise RunInterrupted("seed 1 failed", partial_record(
            {"strategy": name, "seed": seed, "objective": [1.0, 2.0]}, RuntimeError("boom")))
    if seed == 3:
        raise RuntimeError("no record")
    return {"strategy": name, "seed": seed, "objective": [float(seed)]}


def _no_setup() -> None:
    pass


def _cancelled_job(job: tuple[str, int]) -> dict:
    """A run_jobs job: seed 5 is stopped by Ctrl-C after two trials."""
    from graphvae_nas.experiments.runs_file import RunCancelled, partial_record

    name, seed = job
    if seed == 5:
        raise RunCancelled("seed 5 stopped", partial_record(
            {"strategy": name, "seed": seed, "objective": [3.0, 4.0]}, KeyboardInterrupt()))
    return {"strategy": name, "seed": seed, "objective": [float(seed)]}


class _CtrlCAfter(_FailsAfter):
    """An evaluator interrupted by the user (Ctrl-C) after ``limit`` evaluations."""

    def evaluate(self, arch):
        self.calls += 1
        if self.calls > self.limit:
            raise KeyboardInterrupt
        return self.inner.evaluate(arch)


def test_a_run_stopped_by_ctrl_c_keeps_its_trials_and_stops_the_comparison(tmp_path) -> None:
    """run_study turns Ctrl-C into RunCancelled (a KeyboardInterrupt) carrying the trials done;
    run_jobs records it as a partial run, keeps the runs that finished and stops with it."""
    from test_objectives import two_objective_table

    from graphvae_nas.evaluation import TabularEvaluator
    from graphvae_nas.search import Study, make_strategy
    from graphvae_nas.experiments.compare import run_record
    from graphvae_nas.experiments.runs_file import RunCancelled, RunsFile, run_jobs, run_study

    table = two_objective_table()
    study = Study(table.space, make_strategy("random"),
                  _CtrlCAfter(TabularEvaluator(table, "score"), limit=4), seed=2)
    with pytest.raises(RunCancelled, match="random seed 2 stopped after 4 trials: KeyboardInterrupt"
                       ) as caught:
        run_study(study, 9, 2, lambda done, seconds: run_record(done, "random", seconds))
    assert isinstance(caught.value, KeyboardInterrupt)
    assert caught.value.record["partial"] is True and len(caught.value.record["objective"]) == 4
    record = RunsFile(tmp_path / "runs.jsonl", {"budget": 2})
    with pytest.raises(RunCancelled, match="seed 5 stopped"):
        run_jobs([("random", 0), ("random", 5)], _cancelled_job, workers=1,
                 initializer=_no_setup, initargs=(), record=record)
    assert list(record.load()) == [("random", 0)]
    assert record.load(partial=True)[("random", 5)]["objective"] == [3.0, 4.0]
    assert record.load(partial=True)[("random", 5)]["error"] == "KeyboardInterrupt: "


def test_a_failed_run_keeps_its_trials_as_a_partial_record() -> None:
    """run_study: a run whose evaluator fails mid-way raises RunInterrupted carrying the trials
    it finished, marked partial, with the error; a run that does not fail returns its record."""
    from test_objectives import two_objective_table

    from graphvae_nas.evaluation import TabularEvaluator
    from graphvae_nas.search import Study, make_strategy
    from graphvae_nas.experiments.compare import run_record
    from graphvae_nas.experiments.runs_file import RunInterrupted, run_study

    table = two_objective_table()
    evaluator = _FailsAfter(TabularEvaluator(table, "score"), limit=7)
    study = Study(table.space, make_strategy("random"), evaluator, seed=4)
    with pytest.raises(RunInterrupted, match="random seed 4 stopped after 7 trials: RuntimeError: "
                                             "evaluation server went away") as caught:
        run_study(study, 12, 3, lambda done, seconds: run_record(done, "random", seconds))
    record = caught.value.record
    assert record["partial"] is True and record["seed"] == 4
    assert record["error"] == "RuntimeError: evaluation server went away"
    assert record["objective"] == [t.objective for t in study.trials] and len(record["objective"]) == 7
    fresh = Study(table.space, make_strategy("random"), TabularEvaluator(table, "score"), seed=4)
    full = run_study(fresh, 12, 3, lambda done, seconds: run_record(done, "random", seconds))
    assert "partial" not in full and full["objective"][:7] == record["objective"]
    assert len(full["objective"]) == 12


def test_run_jobs_records_partial_runs_and_reruns_them_on_resume(tmp_path) -> None:
    """A failed job's partial record is written and its error raised; the jobs that finished
    are recorded; load() does not count the partial run as finished (load(partial=True) lists
    it), so a resumed comparison runs it again, and read_runs leaves it out of the table."""
    from graphvae_nas.experiments.runs_file import RunInterrupted, RunsFile, read_runs, run_jobs

    path = tmp_path / "runs.jsonl"
    record = RunsFile(path, {"budget": 2})
    jobs = [("random", 0), ("random", 2), ("random", 1)]     # the failure last: one worker
    with pytest.raises(RunInterrupted, match="seed 1 failed"):
        run_jobs(jobs, _crashing_job, workers=1, initializer=_no_setup, initargs=(),
                 record=record)
    assert sorted(record.load()) == [("random", 0), ("random", 2)]
    failed = record.load(partial=True)
    assert list(failed) == [("random", 1)]
    assert failed[("random", 1)]["objective"] == [1.0, 2.0]
    assert failed[("random", 1)]["error"] == "RuntimeError: boom"
    finished, partial = read_runs([path])
    assert [r["seed"] for r in finished] == [0, 2] and [r["seed"] for r in partial] == [1]
    with pytest.raises(RuntimeError, match="no record"):         # a plain error: nothing to keep
        run_jobs([("random", 3)], _crashing_job, workers=1, initializer=_no_setup, initargs=(),
                 record=record)
    assert ("random", 3) not in record.load() | record.load(partial=True)
    record.append({"strategy": "random", "seed": 1, "objective": [5.0]})   # the rerun finished
    assert record.load(partial=True) == {}
    assert record.load()[("random", 1)]["objective"] == [5.0]
    assert [r["seed"] for r in read_runs([path])[0]] == [0, 2, 1] and read_runs([path])[1] == []


def test_run_jobs_refuses_a_runs_file_another_comparison_writes(tmp_path) -> None:
    """While a comparison records into a runs file, another one into the same file is refused
    with the holder's pid, and runs nothing."""
    import os

    from graphvae_nas.locking import LockedError, exclusive_lock
    from graphvae_nas.experiments.runs_file import RunsFile, run_jobs

    path = tmp_path / "runs.jsonl"
    with exclusive_lock(f"{path}.lock", what="a test's comparison"):
        with pytest.raises(LockedError, match=f"runs file {path} is in use by another process "
                                              f"\\(pid {os.getpid()}\\); another comparison"):
            run_jobs([("random", 0)], _crashing_job, workers=1, initializer=_no_setup,
                     initargs=(), record=RunsFile(path, {"budget": 2}))
    assert not path.exists()
    run_jobs([("random", 0)], _crashing_job, workers=1, initializer=_no_setup, initargs=(),
             record=RunsFile(path, {"budget": 2}))
    assert list(RunsFile(path, {"budget": 2}).load()) == [("random", 0)]


def test_a_store_from_before_an_option_existed_resumes_at_its_default(tmp_path) -> None:
    """Options added by a later release default to the earlier behaviour, so a study stored
    without them resumes; set to anything else, it is another study. A 0.1 header's flat
    option names are read in their groups."""
    from graphvae_nas.errors import DataFormatError
    from graphvae_nas.search import StudyStore
    from graphvae_nas.search.factory import option_defaults

    old = {"seed": 0, "objectives": [{"name": "score", "direction": "max"}],
           "strategy": {"name": "local"}}
    path = tmp_path / "study.jsonl"
    StudyStore(path, old).close()
    StudyStore(path, {**old, "strategy": {"name": "local", "between_classes": False}},
               resume=True).close()
    with pytest.raises(DataFormatError, match="another study: its strategy has between_classes "
                                              "= False, this one True") as caught:
        StudyStore(path, {**old, "strategy": {"name": "local", "between_classes": True}},
                   resume=True)
    assert caught.value.field == "strategy.between_classes" and caught.value.line == 1
    # a bo header as graphvae_nas 0.1 wrote it: flat names, removed options at their defaults,
    # and no kernel or fit_points yet
    flat = {"n_init": 10, "acquisition": "qlognei", "ucb_beta": 2.0, "mc_samples": 128,
            "pool_shortlist": 500, "copula": True, "restart_after": None, "restart_kick": 0,
            "retrain_every": 0, "retrain_k": 0.001, "retrain_samples": 1000,
            "retrain_epochs": 1, "retrain_lr": 0.001, "fit_maxiter": 100, "samples": 10,
            "num_restarts": 4, "raw_samples": 256, "max_jitter": 5, "trust_region": None,
            "acq_maxiter": 50, "sequential": False, "neighbourhood": 1000,
            "neighbourhood_top": 5, "neighbourhood_scale": 0.1, "explore": 4000}
    path = tmp_path / "bo.jsonl"
    StudyStore(path, {**old, "strategy": {"name": "bo", **flat, "model": "vae.pt"}}).close()
    now = {"name": "bo", "preset": None, **option_defaults("bo"), "model": "vae.pt"}
    StudyStore(path, {**old, "strategy": now}, resume=True).close()
    other = {**now, "gp": {**now["gp"], "kernel": "isotropic"}}
    with pytest.raises(DataFormatError, match="its strategy has gp.kernel = 'ard', this one "
                                              "'isotropic'") as caught:
        StudyStore(path, {**old, "strategy": other}, resume=True)
    assert caught.value.field == "strategy.gp.kernel"
    restarting = tmp_path / "restarting.jsonl"     # a removed option away from its default
    StudyStore(restarting, {**old, "strategy": {"name": "bo", **flat, "restart_after": 30,
                                                "model": "vae.pt"}}).close()
    with pytest.raises(DataFormatError, match="another study"):
        StudyStore(restarting, {**old, "strategy": now}, resume=True)
    with pytest.raises(DataFormatError, match="another study: strategy is"):    # other keys
        StudyStore(path, {**old, "strategy": {"name": "local"}}, resume=True)


def test_the_progress_bar_says_when_a_round_is_being_proposed(table, capsys) -> None:
    """The command line's bar, fed by the study's hooks, reads "search (proposing)" while the
    strategy proposes (a GP fit or a VAE fine-tuning can take seconds) and "search" while the
    batch is evaluated; the engine itself prints nothing."""
    from graphvae_nas.cli.progress import SearchProgress

    seen = []

    class Watched(RandomSearch):
        def propose(self, history, n, rng):
            seen.append(capsys.readouterr().err)
            return super().propose(history, n, rng)

    study = Study(table.space, Watched(), TabularEvaluator(table, "score"), seed=0)
    study.optimize(3, batch_size=3)
    assert capsys.readouterr().err == ""           # no bar without the display
    with SearchProgress(study, 9) as progress:
        study.optimize(9, batch_size=3, on_proposing=progress.proposing, callback=progress.trial)
    seen = seen[1:]
    assert len(seen) == 2 and all("search (proposing)" in err for err in seen)
    assert "search:" in capsys.readouterr().err     # back to "search" once the batch is asked
