"""Several named objectives, each maximised or minimised: parsing, evaluations, the history's
orientation, the Pareto front, the version-2 store, and resuming version-1 stores."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from test_search import kill_then_resume, synthetic_table

from graphvae_nas.datasets import ArchitectureDataset
from graphvae_nas.errors import DataFormatError, GraphVAENASError
from graphvae_nas.evaluation import Evaluation, TabularEvaluator
from graphvae_nas.search import (
    History,
    LocalSearch,
    RandomSearch,
    RegularizedEvolution,
    Study,
    StudyStore,
)
from graphvae_nas.search.objectives import Objective, as_objectives, parse_objective

LATENCY = {"conv3x3": 3.0, "sep_conv3x3": 2.0, "conv5x5": 5.0, "sep_conv5x5": 3.0,
           "avg_pool3x3": 1.0, "max_pool3x3": 1.0}


def two_objective_table() -> ArchitectureDataset:
    """The synthetic table plus a ``latency`` column that conflicts with ``score`` (big
    convolutions and many skips score high and are slow); every 97th architecture has no
    latency."""
    base = synthetic_table()
    latency = [sum(LATENCY.get(op, 0.0) for op in a.ops) + 0.5 * a.num_edges for a in base.archs]
    latency = [float("nan") if i % 97 == 0 else v for i, v in enumerate(latency)]
    score = base.metrics["score"].tolist()
    return ArchitectureDataset.from_architectures(
        base.space, base.archs, {"score": score, "neg": [-s for s in score], "latency": latency})


@pytest.fixture(scope="module")
def table() -> ArchitectureDataset:
    return two_objective_table()


OBJECTIVES = ["score:max", "latency:min"]


# ------------------------------------------------------------------------------ objectives
def test_parse_objective_and_validation() -> None:
    assert parse_objective("cifar10_valid") == Objective("cifar10_valid", "max")
    assert parse_objective("hw_edgegpu_latency:min") == Objective("hw_edgegpu_latency", "min")
    assert parse_objective(" acc:max ") == Objective("acc", "max")
    assert str(Objective("lat", "min")) == "lat:min"
    assert Objective.from_dict(Objective("lat", "min").to_dict()) == Objective("lat", "min")
    assert Objective("lat", "min").orient(3.0) == -3.0 and Objective("acc").orient(3.0) == 3.0
    with pytest.raises(GraphVAENASError, match="direction must be 'max' or 'min'.*'up'"):
        parse_objective("acc:up")
    with pytest.raises(GraphVAENASError, match="no name"):
        parse_objective(":min")
    with pytest.raises(GraphVAENASError, match="direction"):
        Objective("acc", "maximise")
    with pytest.raises(GraphVAENASError, match="non-empty name"):
        Objective("")
    with pytest.raises(GraphVAENASError, match="more than once"):
        as_objectives(["acc", "acc:min"])
    with pytest.raises(GraphVAENASError, match="at least one"):
        as_objectives([])
    with pytest.raises(GraphVAENASError, match="name"):
        Objective.from_dict({"name": "acc"})
    with pytest.raises(AttributeError):
        Objective("acc").direction = "min"  # frozen


def test_evaluation_values_and_first_objective() -> None:
    both = Evaluation(values={"acc": 0.9, "lat": 4.0}, metrics={"test": 0.8})
    assert both.objective == 0.9 and both.values == {"acc": 0.9, "lat": 4.0}
    assert Evaluation(0.5).values == {} and Evaluation(0.5).objective == 0.5  # one unnamed value
    with pytest.raises(ValueError, match="first of its values"):
        Evaluation(0.1, values={"acc": 0.9})
    again = Evaluation.from_dict(json.loads(json.dumps(both.to_dict())))
    assert again == both


def test_tabular_evaluator_measures_several_columns(table) -> None:
    evaluator = TabularEvaluator(table, ["score", "latency"], report=["neg"])
    arch = table.archs[1]
    result = evaluator.evaluate(arch)
    assert result.values == {"score": table.metrics["score"][1], "latency": table.metrics["latency"][1]}
    assert result.objective == table.metrics["score"][1] and result.metrics == {"neg": -result.objective}
    partial = evaluator.evaluate(table.archs[0])  # no latency: still scored, without it
    assert partial.failure is None and set(partial.values) == {"score"}
    assert evaluator.spec()["objectives"] == ["score", "latency"]
    assert "objectives" not in TabularEvaluator(table, "score").spec()  # unchanged spec for one
    assert evaluator.best("min", "latency")[1] == min(v for v in table.metrics["latency"] if v == v)
    assert evaluator.best()[1] == max(table.metrics["score"])
    with pytest.raises(DataFormatError, match="repeat"):
        TabularEvaluator(table, ["score", "score"])
    with pytest.raises(DataFormatError, match="no column 'nope'"):
        TabularEvaluator(table, ["score", "nope"])


# ------------------------------------------------------------------------------ history and study
def test_history_orients_every_objective(table) -> None:
    history = History(table.space, objective_specs=as_objectives(OBJECTIVES))
    a, b, c = table.archs[1:4]
    history.add(a, 10.0, "x", {"score": 10.0, "latency": 3.0})
    history.add(b, None, "x", {})
    history.add(c, 12.0, "x", {"score": 12.0})  # no latency
    assert history.scored() == [(a, 10.0), (c, 12.0)]
    assert history.scores() == [10.0, None, 12.0]
    assert history.scored_matrix() == ([a], [[10.0, -3.0]])
    minimised = History(table.space, objective_specs=(Objective("latency", "min"),))
    minimised.add(a, 3.0, "x")
    assert minimised.scored() == [(a, -3.0)] and minimised.values == [{"latency": 3.0}]
    assert History(table.space).scored() == []  # default: one objective


@pytest.mark.parametrize("make", [lambda: RegularizedEvolution(8, 3), LocalSearch])
def test_a_min_objective_is_never_maximised(make, table) -> None:
    """Minimising ``neg`` (= -score) is maximising ``score``: same trajectory, same optimum."""
    by_score = Study(table.space, make(), TabularEvaluator(table, "score"), seed=5)
    by_neg = Study(table.space, make(), TabularEvaluator(table, "neg"), seed=5,
                   objectives=["neg:min"])
    by_score.optimize(60, batch_size=3)
    by_neg.optimize(60, batch_size=3)
    assert [t.arch for t in by_neg.trials] == [t.arch for t in by_score.trials]
    negs = [t.objective for t in by_neg.trials]
    assert by_neg.best().objective == min(negs) == -by_score.best().objective
    assert by_neg.best().objective < max(negs)
    # maximising neg goes elsewhere: the direction is really used
    by_neg_max = Study(table.space, make(), TabularEvaluator(table, "neg"), seed=5)
    by_neg_max.optimize(60, batch_size=3)
    assert [t.arch for t in by_neg_max.trials] != [t.arch for t in by_neg.trials]
    assert by_neg_max.best().objective == max(t.objective for t in by_neg_max.trials)


def dominated(a: list[float], b: list[float]) -> bool:
    """Whether larger-is-better point ``a`` is dominated by ``b``."""
    return all(y >= x for x, y in zip(a, b)) and any(y > x for x, y in zip(a, b))


def test_pareto_front_of_a_two_objective_study(table) -> None:
    pytest.importorskip("botorch")
    evaluator = TabularEvaluator(table, ["score", "latency"])
    study = Study(table.space, RandomSearch(), evaluator, seed=0, objectives=OBJECTIVES)
    study.optimize(150, batch_size=5)
    points = {t.number: [t.evaluation.values["score"], -t.evaluation.values["latency"]]
              for t in study.trials if "latency" in t.evaluation.values}
    assert len(points) < 150  # some trials lack a latency; they are not on the front
    expected = [n for n, p in points.items() if not any(dominated(p, q) for q in points.values())]
    front = study.pareto_front()
    assert [t.number for t in front] == sorted(expected) and len(front) > 1
    assert study.best().objective == max(t.objective for t in study.trials)  # the first objective
    assert study.history.scored_matrix()[1] == [points[n] for n in sorted(points)]


def test_study_objectives_are_checked(table, tmp_path) -> None:
    evaluator = TabularEvaluator(table, ["score", "latency"])
    with pytest.raises(GraphVAENASError, match="declare the study's objectives"):
        Study(table.space, RandomSearch(), evaluator)
    with pytest.raises(GraphVAENASError, match="does not measure objective.*neg"):
        Study(table.space, RandomSearch(), evaluator, objectives=["score", "neg:min"])
    assert Study(table.space, RandomSearch(), TabularEvaluator(table, "score")).objectives == (
        Objective("score", "max"),)

    class Unnamed:  # an evaluator that measures one unnamed thing
        def spec(self):
            return {"kind": "unnamed"}

        def evaluate(self, arch):
            return Evaluation(float(arch.num_edges))

    path = tmp_path / "study.jsonl"
    study = Study(table.space, RandomSearch(), Unnamed(), seed=0, store=StudyStore(
        path, Study.store_header(table.space, RandomSearch(), Unnamed(), 0)))
    study.optimize(5)
    study.store.close()
    assert study.objectives == (Objective("objective"),)
    assert all(t.evaluation.values == {"objective": t.arch.num_edges} for t in study.trials)
    resumed = Study(table.space, RandomSearch(), Unnamed(), seed=0, store=StudyStore(
        path, Study.store_header(table.space, RandomSearch(), Unnamed(), 0), resume=True))
    assert resumed.history.values == study.history.values == [t.evaluation.values
                                                              for t in study.trials]

    class Named(Unnamed):
        def evaluate(self, arch):
            return Evaluation(values={"edges": float(arch.num_edges)}, metrics={"ops": 3.0})

    study = Study(table.space, RandomSearch(), Named(), seed=0, objectives=["edges", "ops:min"])
    study.optimize(3)
    assert all(set(t.evaluation.values) == {"edges", "ops"} for t in study.trials)  # ops from metrics
    study = Study(table.space, RandomSearch(), Named(), seed=0, objectives=["typo"])
    with pytest.raises(GraphVAENASError, match="no value for objective 'typo'"):
        study.optimize(1)


# ------------------------------------------------------------------------------ store
def header(table, strategy, evaluator, seed=0, objectives=None):
    return Study.store_header(table.space, strategy, evaluator, seed, objectives)


def test_store_keeps_objectives_and_values(tmp_path: Path, table) -> None:
    evaluator = TabularEvaluator(table, ["score", "latency"])
    path = tmp_path / "study.jsonl"
    store = StudyStore(path, header(table, RandomSearch(), evaluator, 0, OBJECTIVES))
    Study(table.space, RandomSearch(), evaluator, seed=0, store=store, objectives=OBJECTIVES).optimize(6)
    store.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["version"] == 2 and lines[0]["objectives"] == [
        {"name": "score", "direction": "max"}, {"name": "latency", "direction": "min"}]
    trials = [r for r in lines[1:] if "trial" in r]
    assert all(r["objective"] == r["values"]["score"] for r in trials)
    resumed = Study(table.space, RandomSearch(), evaluator, seed=0, objectives=OBJECTIVES,
                    store=StudyStore(path, header(table, RandomSearch(), evaluator, 0, OBJECTIVES),
                                     resume=True))
    assert [t.evaluation.values for t in resumed.trials] == [r["values"] for r in trials]
    resumed.store.close()
    swapped = ["score:max", "latency:max"]
    with pytest.raises(DataFormatError, match="another study: objectives"):
        StudyStore(path, header(table, RandomSearch(), evaluator, 0, swapped), resume=True)
    with pytest.raises(GraphVAENASError, match="store's objectives"):
        Study(table.space, RandomSearch(), evaluator, objectives=swapped,
              store=StudyStore(tmp_path / "other.jsonl", header(table, RandomSearch(), evaluator, 0,
                                                                OBJECTIVES)))


def write_version_1_store(path: Path, table, strategy, evaluator, seed: int, trials) -> None:
    """A study store exactly as graphvae_nas 0.1.0 wrote it (store version 1: one maximised
    objective, ``objective`` per record, one ``batch`` line before each batch of one)."""
    lines = [{"format": "graphvae_nas.study", "version": 1, "space": table.space.spec(),
              "strategy": strategy.spec(), "evaluator": evaluator.spec(), "seed": seed}]
    for t in trials:
        native = table.space.format(t.arch)
        lines.append({"batch": [{"arch": native, "tag": t.tag}]})
        lines.append({"trial": t.number, "hash": t.arch.canonical_hash, "arch": native,
                      "objective": t.objective, "metrics": t.evaluation.metrics,
                      "cost": t.evaluation.cost, "failure": t.evaluation.failure, "tag": t.tag,
                      "seconds": 0.0})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_a_version_1_store_resumes(tmp_path: Path, table) -> None:
    evaluator = TabularEvaluator(table, "score", report=["neg"])
    straight = Study(table.space, LocalSearch(), evaluator, seed=3)
    straight.optimize(25)
    path = tmp_path / "study.jsonl"
    write_version_1_store(path, table, LocalSearch(), evaluator, 3, straight.trials[:10])

    store = StudyStore(path, header(table, LocalSearch(), evaluator, 3), resume=True)
    assert store.version == 1 and len(store.records) == 10
    resumed = Study(table.space, LocalSearch(), evaluator, seed=3, store=store)
    assert [t.evaluation.values for t in resumed.trials] == [
        {"score": t.objective} for t in straight.trials[:10]]
    resumed.optimize(25)
    store.close()
    assert [t.arch for t in resumed.trials] == [t.arch for t in straight.trials]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["version"] == 1 and "objectives" not in lines[0]  # still a version-1 file
    added = [r for r in lines[1:] if r.get("trial", -1) >= 10]
    assert len(added) == 15 and all(r["objective"] == r["values"]["score"] for r in added)
    again = StudyStore(path, header(table, LocalSearch(), evaluator, 3), resume=True)
    assert [r["values"]["score"] for r in again.records] == [t.objective for t in straight.trials]
    again.close()

    # a version-1 store holds one maximised objective: anything else is refused, naming it
    with pytest.raises(DataFormatError, match="version-1 study store holds one maximised"):
        StudyStore(path, header(table, LocalSearch(), evaluator, 3, ["score:min"]), resume=True)


def test_unknown_store_versions_are_refused(tmp_path: Path, table) -> None:
    evaluator = TabularEvaluator(table, "score")
    path = tmp_path / "study.jsonl"
    head = {"format": "graphvae_nas.study", "version": 3, **header(table, RandomSearch(), evaluator)}
    path.write_text(json.dumps(head) + "\n")
    with pytest.raises(DataFormatError, match=r"version 3 is not supported \(this release reads "
                                              r"versions 1, 2\)"):
        StudyStore(path, header(table, RandomSearch(), evaluator), resume=True)
    path.write_text(json.dumps({**head, "version": None}) + "\n")
    with pytest.raises(DataFormatError, match="version None is not supported"):
        StudyStore(path, header(table, RandomSearch(), evaluator), resume=True)
    with pytest.raises(ValueError, match="objectives"):
        StudyStore(tmp_path / "new.jsonl", {"seed": 0})


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    from test_objectives import OBJECTIVES, two_objective_table
    from graphvae_nas.evaluation import TabularEvaluator
    from graphvae_nas.search import RegularizedEvolution, Study, StudyStore, make_strategy
    from graphvae_nas.search.strategies import NSGA2Evolution

    class SlowEvaluator(TabularEvaluator):
        def evaluate(self, arch):
            time.sleep(0.02)
            return super().evaluate(arch)

    table = two_objective_table()
    evaluator = SlowEvaluator(table, ["score", "latency"])
    strategy = {strategy}
    store = StudyStore({path!r}, Study.store_header(table.space, strategy, evaluator, 7, OBJECTIVES),
                       resume=True)
    Study(table.space, strategy, evaluator, seed=7, store=store,
          objectives=OBJECTIVES).optimize(60, batch_size=5)
    print("done")
""")


MO_STRATEGIES = {
    "evolution": "RegularizedEvolution(8, 3)",
    "nsga2": "NSGA2Evolution(8)",
    # qLogNEHVI on a small GNN ensemble: the surrogate path with two objectives
    "bananas": "make_strategy('bananas', space=table.space, n_init=8, "
               "gnn=dict(members=2, epochs=15), mutate=dict(count=40, top=4))",
}


@pytest.mark.parametrize("name", ["evolution", "nsga2",
                                  pytest.param("bananas", marks=pytest.mark.slow)])
def test_two_objective_study_killed_then_resumed_gives_the_uninterrupted_run(name, tmp_path: Path,
                                                                              table) -> None:
    from graphvae_nas.search import make_strategy  # noqa: F401  (used by the strategy text)
    from graphvae_nas.search.strategies import NSGA2Evolution  # noqa: F401

    path = tmp_path / "study.jsonl"
    trials = kill_then_resume(CHILD.replace("{strategy}", MO_STRATEGIES[name]), path, tmp_path)

    evaluator = TabularEvaluator(table, ["score", "latency"])
    straight = Study(table.space, eval(MO_STRATEGIES[name]), evaluator, seed=7,
                     objectives=OBJECTIVES)
    straight.optimize(60, batch_size=5)
    assert [r["arch"] for r in trials] == [table.space.format(t.arch) for t in straight.trials]
    assert [r["values"] for r in trials] == [t.evaluation.values for t in straight.trials]
    assert len({r["hash"] for r in trials}) == 60


def test_comparison_honours_a_min_objective() -> None:
    from graphvae_nas.experiments.compare import best_report_at, queries_to_optimum

    run = {"direction": "min", "objective": [5.0, 3.0, None, 1.0], "report": [50.0, 30.0, None, 10.0]}
    assert best_report_at(run, 2) == 30.0 and best_report_at(run, 4) == 10.0
    assert queries_to_optimum(run, 1.0) == 4 and queries_to_optimum(run, 0.5) is None
    assert queries_to_optimum({**run, "direction": "max"}, 5.0) == 1


def test_random_seeded_history_is_unchanged_by_objectives(table) -> None:
    """Random search does not look at values: the same seed gives the same trials whatever the
    objectives."""
    one = Study(table.space, RandomSearch(), TabularEvaluator(table, "score"), seed=9)
    two = Study(table.space, RandomSearch(), TabularEvaluator(table, ["score", "latency"]), seed=9,
                objectives=OBJECTIVES)
    assert [t.arch for t in one.optimize(20)] == [t.arch for t in two.optimize(20)]


def test_pareto_front_without_botorch_says_what_to_install(table, monkeypatch) -> None:
    study = Study(table.space, RandomSearch(), TabularEvaluator(table, "score"), seed=0)
    study.optimize(3)
    monkeypatch.setitem(sys.modules, "botorch.utils.multi_objective.pareto", None)  # not importable
    with pytest.raises(GraphVAENASError, match=r"need BoTorch: pip install 'graphvae_nas\[bo\]'"):
        study.pareto_front()
