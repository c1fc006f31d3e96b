"""Search curves show what the tables report (graphvae_nas.experiments.curves, viz.plot_curves)."""
from __future__ import annotations

import math
import random

import pytest

from graphvae_nas.experiments.compare import best_report_at, summarise
from graphvae_nas.experiments.curves import (
    best_by_objective,
    comparison_curves,
    random_init_length,
    study_curves,
)


def _runs(seeds: int = 7, length: int = 30) -> list[dict]:
    """Hand-made runs where the best test value and the test value of the best-by-validation
    cell differ, so that a running maximum of the report would not match the table."""
    runs = []
    for name, init in (("bo", 10), ("random", length)):
        for seed in range(seeds):
            rng = random.Random(f"{name}{seed}")
            valid = [round(rng.uniform(80, 95), 1) for _ in range(length)]
            valid[rng.randrange(length)] = None  # a failed evaluation
            test = [None if v is None else round(v + rng.uniform(-2, 2), 2) for v in valid]
            tags = ["random-init"] * init + ["bo"] * (length - init) if name == "bo" else ["random"] * length
            runs.append({"strategy": name, "objective": valid, "report": test, "tags": tags,
                         "overhead_s": 0.0, "proposals": length, "counters": {}})
    return runs


def test_best_by_objective_is_the_report_of_the_best_so_far_not_a_running_max() -> None:
    values = best_by_objective([None, 1.0, 3.0, 2.0, 3.0], [5.0, 10.0, 8.0, 99.0, 50.0])
    assert math.isnan(values[0]) and values[1:] == [10.0, 8.0, 8.0, 8.0]  # ties keep the first
    assert best_by_objective([3.0, 1.0, 2.0], [1, 2, 3], minimize=True) == [1.0, 2.0, 2.0]


def test_random_init_length() -> None:
    assert random_init_length(["random-init"] * 3 + ["bo", "random-init"]) == 3
    assert random_init_length(["random", "mutation"]) == 1 and random_init_length([]) == 0


def test_comparison_curves_equal_the_table_at_every_budget() -> None:
    runs = _runs()
    curves = comparison_curves(runs, 30)
    table = summarise(runs, list(range(1, 31)), optimum=95.0)
    for name, curve in curves.items():
        assert curve.steps == list(range(1, 31)) and curve.runs == 7
        for b in curve.steps:
            assert curve.mean[b - 1] == table[name][str(b)]["mean"]
            assert curve.std[b - 1] == table[name][str(b)]["std"]
    assert curves["bo"].init_end == 10 and curves["random"].init_end is None
    running_max = [max(r for r in run["report"][:30] if r is not None) for run in runs[:7]]
    assert sum(running_max) / 7 > curves["bo"].mean[-1]  # what the old plot showed instead


def test_plotted_lines_equal_the_curves(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from graphvae_nas.viz import plot_curves, plotted_lines

    runs = _runs()
    curves = comparison_curves(runs, 30)
    path = tmp_path / "curves.png"
    fig = plot_curves({"test accuracy (%)": curves}, path, title="a title that is long " * 4)
    assert path.read_bytes()[:4] == b"\x89PNG"
    lines = plotted_lines(fig)
    table = summarise(runs, [10, 20, 30], optimum=95.0)
    for name in ("bo", "random"):
        x, y = lines[0, f"{name} (7 runs)"]
        assert x == [float(s) for s in range(1, 31)]
        assert [y[b - 1] for b in (10, 20, 30)] == [table[name][str(b)]["mean"] for b in (10, 20, 30)]
    ax = fig.axes[0]
    assert ax.get_title().startswith("a title") and "queries" in ax.get_xlabel()
    assert ax.get_ylabel() == "test accuracy (%)"
    assert [line.get_xdata()[0] for line in ax.get_lines() if "initialisation" in line.get_label()] == [10.5]


def test_study_curves_follow_the_best_trial() -> None:
    from types import SimpleNamespace as NS

    trials = [NS(objective=o, tag=t, evaluation=NS(metrics={"test_acc": r}))
              for o, r, t in [(90.0, 88.0, "random-init"), (95.0, 91.0, "random-init"),
                              (93.0, 99.0, "bo"), (96.0, 90.0, "bo")]]
    curves = study_curves(trials, "valid_acc", "test_acc")
    assert curves["valid_acc"].mean == [90.0, 95.0, 95.0, 96.0]
    assert curves["test_acc"].mean == [88.0, 91.0, 91.0, 90.0]
    assert curves["test_acc"].init_end == 2
    assert best_report_at({"objective": [t.objective for t in trials],
                           "report": [t.evaluation.metrics["test_acc"] for t in trials]}, 3) == 91.0


def test_proposal_origins_count_each_trial_by_its_tag_up_to_the_budget():
    from graphvae_nas.errors import GraphVAENASError
    from graphvae_nas.experiments.compare import proposal_origins

    runs = _runs(seeds=3, length=30)
    shares = proposal_origins(runs)
    assert shares["bo"] == pytest.approx({"bo": 20 / 30, "random-init": 10 / 30})
    assert list(shares["bo"]) == ["bo", "random-init"]          # largest share first
    assert shares["random"] == {"random": 1.0}
    assert proposal_origins(runs, budget=5)["bo"] == {"random-init": 1.0}
    untagged = [{k: v for k, v in runs[0].items() if k != "tags"}]
    with pytest.raises(GraphVAENASError, match="no tags"):
        proposal_origins(untagged)


def test_the_origins_table_marks_a_strategy_recorded_without_origins() -> None:
    """benchmarks/report.py --origins over a run file without tags says so for that strategy
    and still tabulates the others."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "report.py"
    spec = importlib.util.spec_from_file_location("report_script", path)
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    runs = _runs(seeds=2, length=30)
    runs[0] = {k: v for k, v in runs[0].items() if k != "tags"}     # one bo run untagged
    lines = report.origins_table(runs, 30).splitlines()
    assert lines[2].startswith("| `bo` | not recorded")
    assert lines[3] == "| `random` | random 100.0 % |"
