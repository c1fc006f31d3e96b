"""``graphvae-nas search`` on a small synthetic table."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run
from test_objectives import two_objective_table
from test_search import synthetic_table

from graphvae_nas.datasets import save_dataset


@pytest.fixture(autouse=True)
def private_vae_cache(tmp_path, monkeypatch) -> None:
    """A search that falls back to the default VAE never writes to the user's cache."""
    monkeypatch.setenv("GRAPHVAE_NAS_CACHE", str(tmp_path / "vae-cache"))


@pytest.fixture(scope="module")
def table_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "table.jsonl"
    save_dataset(synthetic_table(), path)
    return path


@pytest.mark.parametrize("strategy", ["random", "evolution", "local"])
def test_search_writes_study_summary_and_curve(strategy, table_file, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    rc, stdout, err = run(capsys, "search", "--dataset", table_file, "--objective", "score",
                          "--report", "neg", "--strategy", strategy, "--budget", "30",
                          "--seed", "1", "--out", out)
    assert rc == 0, err
    assert "best after 30 queries" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trials"] == 30 and summary["best"]["metrics"]["neg"] == -summary["best"]["objective"]
    assert (out / "curve.png").read_bytes()[:4] == b"\x89PNG"
    lines = (out / "study.jsonl").read_text().splitlines()
    assert sum('"trial"' in line for line in lines) == 30

    # resuming a finished study adds nothing; a larger budget continues it
    rc, _, err = run(capsys, "search", "--dataset", table_file, "--objective", "score", "--report",
                     "neg", "--strategy", strategy, "--budget", "40", "--seed", "1", "--out", out,
                     "--resume")
    assert rc == 0, err
    assert json.loads((out / "summary.json").read_text())["trials"] == 40


def test_search_errors(table_file, tmp_path, capsys) -> None:
    base = ["search", "--dataset", table_file, "--budget", "10", "--out", tmp_path / "r"]
    rc, _, err = run(capsys, *base, "--objective", "nope", "--strategy", "random")
    assert rc == 2 and "no column 'nope'" in err
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "random", "--space", "nb201")
    assert rc == 2 and "space" in err
    rc, _, err = run(capsys, *base, "--objective", "score:up", "--strategy", "random")
    assert rc == 2 and "direction must be 'max' or 'min'" in err
    rc, _, err = run(capsys, *base, "--objective", "score", "--objective", "score:min")
    assert rc == 2 and "more than once" in err
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "bo", "--bo-options", "{bad")
    assert rc == 2 and "--bo-options is not valid JSON" in err
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "bo", "--options", "[1]")
    assert rc == 2 and "--options must be a JSON object" in err
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "bo", "--options",
                     '{"gp": {"kernal": "ard"}}')
    assert rc == 2 and "unknown option(s) gp.kernal" in err and "known: gp.kernel" in err
    assert not (tmp_path / "r").exists()    # options are checked before anything is written
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "bo", "--options", "{}",
                     "--bo-options", "{}")
    assert rc == 2 and "not both" in err
    rc, _, err = run(capsys, "search", "--dataset", table_file, "--objective", "score", "--strategy",
                     "random", "--budget", "5000", "--out", tmp_path / "big")
    assert rc == 2 and "larger than the space" in err
    assert not (tmp_path / "big").exists()  # checked before anything is written
    assert run(capsys, *base, "--objective", "score", "--strategy", "random")[0] == 0
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "random")
    assert rc == 2 and "already exists" in err
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "local", "--resume")
    assert rc == 2 and "another study" in err
    rc, _, err = run(capsys, "search", "--objective", "valid_loss", "--strategy", "random",
                     "--budget", "2", "--out", tmp_path / "loss")
    assert rc == 2 and "would maximise a loss; write valid_loss:min" in err
    assert not (tmp_path / "loss").exists()


@pytest.fixture(scope="module")
def two_objective_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "two.jsonl"
    save_dataset(two_objective_table(), path)
    return path


def trial_records(out: Path) -> list[dict]:
    lines = (out / "study.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines[1:] if '"trial"' in line]


def test_search_with_a_minimised_objective(table_file, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    rc, stdout, err = run(capsys, "search", "--dataset", table_file, "--objective", "score:min",
                          "--strategy", "evolution", "--budget", "30", "--out", out)
    assert rc == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objectives"] == [{"name": "score", "direction": "min"}]
    scores = [r["objective"] for r in trial_records(out)]
    assert summary["best"]["objective"] == min(scores) < max(scores)
    assert summary["table_optimum"] == 4.0  # no conv5x5, only the chain's edges
    assert "pareto_front" not in summary and summary["model"] is None


def test_search_with_two_objectives_lists_the_pareto_front(two_objective_file, tmp_path,
                                                           capsys) -> None:
    pytest.importorskip("botorch")
    out = tmp_path / "run"
    args = ["search", "--dataset", two_objective_file, "--objective", "score:max", "--objective",
            "latency:min", "--report", "neg", "--strategy", "local", "--budget", "40", "--out", out]
    rc, stdout, err = run(capsys, *args)
    assert rc == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objectives"] == [{"name": "score", "direction": "max"},
                                     {"name": "latency", "direction": "min"}]
    assert "best" not in summary and summary["evaluator"]["objectives"] == ["score", "latency"]
    points = {r["trial"]: (r["values"]["score"], -r["values"]["latency"])
              for r in trial_records(out) if "latency" in r["values"]}
    front = [p for p, q in points.items()
             if not any(o[0] >= q[0] and o[1] >= q[1] and o != q for o in points.values())]
    assert [m["trial"] for m in summary["pareto_front"]] == sorted(front)
    assert set(summary["table_optima"]) == {"score", "latency"}
    assert f"Pareto front after 40 queries (score:max, latency:min): {len(front)} architectures" in stdout
    header = json.loads((out / "study.jsonl").read_text().splitlines()[0])
    assert header["version"] == 2 and header["objectives"] == summary["objectives"]

    rc, _, err = run(capsys, *args[:-4], "--budget", "45", "--out", out, "--resume")
    assert rc == 0, err
    assert json.loads((out / "summary.json").read_text())["trials"] == 45
    flipped = [a if a != "latency:min" else "latency:max" for a in args]
    rc, _, err = run(capsys, *flipped, "--resume")
    assert rc == 2 and "another study" in err and "objectives" in err


@pytest.mark.parametrize("strategy", ["bo", "bo-pool"])
def test_table_search_with_bo_uses_the_default_vae(strategy, table_file, tmp_path_factory, tmp_path,
                                                   capsys, monkeypatch) -> None:
    """No --model: the space's default VAE (trained on first use, here for 1 epoch, and cached)."""
    pytest.importorskip("botorch")
    from graphvae_nas.vae import default_model

    cache = tmp_path_factory.getbasetemp() / "vae-cache"  # shared by both strategies
    monkeypatch.setenv("GRAPHVAE_NAS_CACHE", str(cache))
    monkeypatch.setitem(default_model.DEFAULT_TRAINING, "epochs", 1)
    out = tmp_path / "run"
    rc, stdout, err = run(capsys, "search", "--dataset", table_file, "--objective", "score",
                          "--strategy", strategy, "--budget", "12", "--out", out, "--options",
                          '{"n_init": 8, "decode": {"explore": 50, "neighbourhood": 50}, '
                          '"optimise": {"raw_samples": 32, "restarts": 2}}' if strategy == "bo"
                          else '{"n_init": 8}')
    assert rc == 0, err
    [model] = cache.glob("vae-enas-*.pt")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == str(model) and summary["strategy"]["model"] == model.name
    assert summary["strategy"]["name"] == strategy and summary["trials"] == 12
    assert f"latent BO used the VAE {model}" in err
    assert [r["tag"] for r in trial_records(out)].count("random-init") == 8


@pytest.mark.slow
def test_search_with_bananas_and_strategy_options(table_file, tmp_path, capsys) -> None:
    pytest.importorskip("botorch")
    options = '{"n_init": 6, "members": 2, "hidden": 8, "epochs": 10, "mutations": 20}'
    out = tmp_path / "bananas"
    rc, stdout, err = run(capsys, "search", "--dataset", table_file, "--objective", "score",
                          "--strategy", "bananas", "--bo-options", options, "--budget", "14",
                          "--batch-size", "4", "--out", out)
    assert rc == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trials"] == 14 and summary["strategy"]["name"] == "bananas"
    assert summary["strategy"]["gnn"]["members"] == 2
    assert summary["strategy"]["acquisition"]["name"] == "qlognei"
    assert "--bo-options is deprecated: use --options" in err      # flat 0.1 names still read
    assert "options of bananas: preset none; n_init=6, gnn.members=2" in err
    rc, _, err = run(capsys, "search", "--dataset", table_file, "--objective", "score", "--strategy",
                     "evolution", "--bo-options", '{"population": 3}', "--out", tmp_path / "e")
    assert rc == 2 and "unknown option(s) population of strategy 'evolution'" in err


def test_list_options_prints_the_reference(capsys) -> None:
    """--list-options: every option with its type, default and meaning; for one strategy also
    its presets; --markdown prints docs/strategies.md."""
    rc, out, _ = run(capsys, "search", "--list-options", "bo-structure")
    assert rc == 0
    assert 'gp.kernel (str, default "ard"): ard (a lengthscale per input)' in out
    assert 'preset bn: {"decode": {"scale": 0.02' in out and "optimise." not in out
    rc, out, _ = run(capsys, "search", "--list-options")
    assert rc == 0 and "(bo, bo-pool, bananas, bo-gnn, bo-structure, lolbo)" in out
    rc, _, err = run(capsys, "search", "--list-options", "nope")
    assert rc == 2 and "unknown strategy 'nope'" in err
    rc, out, _ = run(capsys, "search", "--list-options", "--markdown")
    assert rc == 0 and out.startswith("# Strategies and their options")


def test_search_with_fidelities_of_a_table_promotes_and_counts_cost(tmp_path, capsys) -> None:
    """--fidelities FIDELITY=COLUMN on a table: new architectures at the low fidelity, the best
    quarter promoted, the search stops on --budget-cost and says what it spent."""
    import random

    from graphvae_nas.datasets import ArchitectureDataset

    table = synthetic_table()
    rng = random.Random(0)
    low = [s / 2 + rng.uniform(-2, 2) for s in table.metrics["score"]]
    path = tmp_path / "fidelities.jsonl"
    save_dataset(ArchitectureDataset.from_architectures(
        table.space, table.archs, {**table.metrics, "low": low}), path)
    out = tmp_path / "run"
    base = ["search", "--dataset", path, "--objective", "score", "--strategy", "evolution",
            "--fidelities", "1=low,4=score", "--budget-cost", "100", "--batch-size", "4",
            "--out", out]
    rc, stdout, err = run(capsys, *base)
    assert rc == 0, err
    assert "at fidelities 1, 4 (the best 1/4 promoted, by rank)" in err
    summary = json.loads((out / "summary.json").read_text())
    assert 100 <= summary["total_cost"] < 100 + 4 * 4
    counts = summary["evaluations_per_fidelity"]
    assert counts["1"] + 4 * counts["4"] == summary["total_cost"] and counts["4"] > 0
    assert "(at fidelity 4; total cost" in stdout
    # a resumed study with a larger cost budget continues it
    rc, _, err = run(capsys, *base[:-4], "--budget-cost", "140", "--batch-size", "4",
                     "--out", out, "--resume")
    assert rc == 0, err
    assert json.loads((out / "summary.json").read_text())["total_cost"] >= 140


def test_fidelity_options_are_checked(table_file, tmp_path, capsys) -> None:
    base = ["search", "--dataset", table_file, "--objective", "score", "--strategy", "random",
            "--budget", "10", "--out", tmp_path / "r"]
    rc, _, err = run(capsys, *base, "--eta", "3")
    assert rc == 2 and "--eta goes with --fidelities" in err
    rc, _, err = run(capsys, *base, "--fidelities", "1,4")
    assert rc == 2 and "give the table's column of the first objective" in err
    rc, _, err = run(capsys, *base, "--fidelities", "1=score,1=score")
    assert rc == 2 and "given twice" in err
    rc, _, err = run(capsys, "search", "--fidelities", "1=a,4=b", "--budget", "4",
                     "--out", tmp_path / "t")
    assert rc == 2 and "numbers of epochs" in err
    rc, _, err = run(capsys, "search", "--fidelities", "1,4", "--epochs", "2", "--budget", "4",
                     "--out", tmp_path / "t")
    assert rc == 2 and "leave out --epochs" in err
    assert not (tmp_path / "t").exists() and not (tmp_path / "r").exists()
