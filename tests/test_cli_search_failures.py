"""A search never hides a failure: failed evaluations are counted by reason, a search with no
success exits non-zero, an interrupted one records what it did and says how to continue, and a
--resume with nothing to resume is refused. One row per case, as the next adversarial pass adds
them."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from cli_run import run
from test_search import synthetic_table

from graphvae_nas.datasets import ArchitectureDataset, save_dataset
from graphvae_nas.spaces import get_space


@pytest.fixture()
def small_nb201_table(tmp_path) -> Path:
    """20 of NB201's 15,625 cells: a table that does not cover its space."""
    space = get_space("nb201")
    cells = list(space.enumerate())[:20]
    path = tmp_path / "small.jsonl"
    save_dataset(ArchitectureDataset.from_architectures(space, cells, {"acc": [float(i) for i in
                                                                                range(20)]}), path)
    return path


def test_a_search_in_which_nothing_succeeded_exits_non_zero_with_the_counts(
        tmp_path, capsys) -> None:
    """A table whose objective column holds no value at all (as zero-cost proxies miss some
    cells, here every one)."""
    space = get_space("nb201")
    cells = list(space.enumerate())[:20]
    path = tmp_path / "empty_column.jsonl"
    save_dataset(ArchitectureDataset.from_architectures(
        space, cells, {"acc": [float(i) for i in range(20)], "proxy": [float("nan")] * 20}), path)
    out = tmp_path / "run"
    rc, _, err = run(capsys, "search", "--dataset", path, "--objective", "proxy",
                     "--strategy", "random", "--budget", "8", "--out", out)
    assert rc == 2, err
    assert "no evaluation succeeded in 8: no 'proxy' value in the table (8)" in err
    assert "8 of 8 evaluations failed: no 'proxy' value in the table (8)" in err
    summary = json.loads((out / "summary.json").read_text())    # what was done is written
    assert summary["failure_counts"] == {"no 'proxy' value in the table": 8}
    assert summary["best"] is None


def test_failures_are_counted_on_the_console_and_in_the_summary(tmp_path, capsys) -> None:
    """A table with missing values: some trials fail, and the console says how many, why."""
    table = synthetic_table()
    values = table.metrics["score"].copy()
    values[::3] = float("nan")
    holes = ArchitectureDataset(table.space, table.archs, {"score": values}, table.sources)
    path = tmp_path / "holes.jsonl"
    save_dataset(holes, path)
    rc, _, err = run(capsys, "search", "--dataset", path, "--objective", "score", "--strategy",
                     "random", "--budget", "30", "--out", tmp_path / "run")
    assert rc == 0, err
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    failed = summary["failure_counts"]["no 'score' value in the table"]
    assert failed > 0 and f"{failed} of 30 evaluations failed: no 'score' value in the table" in err


def test_resume_without_a_study_is_refused(tmp_path, capsys) -> None:
    table = tmp_path / "t.jsonl"
    save_dataset(synthetic_table(), table)
    for out in (tmp_path / "missing", tmp_path / "empty"):
        if out.name == "empty":
            out.mkdir()
        rc, _, err = run(capsys, "search", "--dataset", table, "--objective", "score", "--strategy",
                         "random", "--budget", "5", "--out", out, "--resume")
        assert rc == 2 and f"there is no study in {out} to continue" in err
        assert not (out / "study.jsonl").exists()


def test_an_interrupted_search_writes_its_summary_and_says_how_to_continue(
        tmp_path, capsys, monkeypatch) -> None:
    from graphvae_nas.evaluation import TabularEvaluator

    table = tmp_path / "t.jsonl"
    save_dataset(synthetic_table(), table)
    original = TabularEvaluator.evaluate
    calls = {"n": 0}

    def interrupt_after_7(self, arch):
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        return original(self, arch)

    monkeypatch.setattr(TabularEvaluator, "evaluate", interrupt_after_7)
    out = tmp_path / "run"
    args = ["search", "--dataset", str(table), "--objective", "score", "--strategy", "evolution",
            "--budget", "20", "--out", str(out)]
    rc, _, err = run(capsys, *args)
    assert rc == 130
    assert json.loads((out / "summary.json").read_text())["trials"] == 7
    command = err.split("continue with:\n", 1)[1].splitlines()[0].strip()
    assert command == shlex.join(["graphvae-nas", *args, "--resume"])
    monkeypatch.setattr(TabularEvaluator, "evaluate", original)
    rc, _, err = run(capsys, *shlex.split(command)[1:])
    assert rc == 0, err
    assert json.loads((out / "summary.json").read_text())["trials"] == 20


def test_scores_print_at_their_natural_precision_and_fronts_best_first(tmp_path, capsys) -> None:
    from test_objectives import two_objective_table

    from graphvae_nas.cli.numbers import format_value

    assert format_value(-11149.26431) == "-11149.2643" and format_value(91.55) == "91.55"
    assert format_value(0.00012345) == "0.0001234" and format_value(3.0) == "3"
    path = tmp_path / "two.jsonl"
    save_dataset(two_objective_table(), path)
    rc, out, err = run(capsys, "search", "--dataset", path, "--objective", "score:max",
                       "--objective", "latency:min", "--strategy", "random", "--budget", "30",
                       "--out", tmp_path / "mo")
    assert rc == 0, err
    rows = [line for line in out.splitlines() if line.startswith("  ")]
    scores = [float(line.split("score ", 1)[1].split(",")[0]) for line in rows]
    assert scores == sorted(scores, reverse=True) and len(scores) >= 1


def test_a_closed_pipe_ends_the_command_quietly(tmp_path) -> None:
    """`graphvae-nas data stats --json FILE | head -1`: no BrokenPipeError traceback."""
    import subprocess
    import sys

    space = get_space("nb201")
    cells = list(space.enumerate())[:50]
    path = tmp_path / "d.jsonl"
    save_dataset(ArchitectureDataset.from_architectures(
        space, cells, {f"m{i}": [float(j) for j in range(50)] for i in range(200)}), path)
    proc = subprocess.run(f"{shlex.quote(sys.executable)} -m graphvae_nas data stats --json "
                          f"{shlex.quote(str(path))} | head -c 10", shell=True,
                          capture_output=True, text=True, timeout=120)
    assert len(proc.stdout) == 10 and "Traceback" not in proc.stderr, proc.stderr


def test_a_search_that_fails_before_recording_leaves_no_folder(tmp_path, capsys) -> None:
    table = tmp_path / "t.jsonl"
    save_dataset(synthetic_table(), table)
    (tmp_path / "bad.pt").write_text("garbage")
    out = tmp_path / "run"
    rc, _, err = run(capsys, "search", "--dataset", table, "--objective", "score", "--strategy",
                     "bo", "--model", tmp_path / "bad.pt", "--budget", "5", "--out", out)
    assert rc == 2 and "not a readable model file" in err
    assert "weights_only" not in err           # torch's advice to load it unsafely is not ours
    assert not out.exists()
    (tmp_path / "afile").write_text("x")
    rc, _, err = run(capsys, "search", "--dataset", table, "--objective", "score", "--strategy",
                     "random", "--budget", "5", "--out", tmp_path / "afile" / "sub")
    assert rc == 2 and "is not a folder" in err and "Traceback" not in err


def test_an_unknown_space_parameter_lists_the_known_ones(tmp_path, capsys) -> None:
    rc, _, err = run(capsys, "data", "sample", "--space", "bn:variables=a,b;colour=red", "-n", "2",
                     "-o", tmp_path / "x.jsonl")
    assert rc == 2 and "unknown parameter(s) colour of space 'bn'" in err
    assert "known: arc_prob, data, max_parents, variables" in err and "__init__" not in err


def test_a_vae_of_one_architecture_saves_finite_latent_statistics(tmp_path, capsys) -> None:
    import torch

    from graphvae_nas.vae.persistence import read_model_file

    space = get_space("nb201")
    path = tmp_path / "one.jsonl"
    save_dataset(ArchitectureDataset.from_architectures(space, [space.sample(0)], {}), path)
    rc, _, err = run(capsys, "vae", "train", "--dataset", path, "--hidden", "8", "--latent", "2",
                     "--epochs", "1", "--out", tmp_path / "m.pt")
    assert rc == 0, err
    extra = read_model_file(tmp_path / "m.pt")
    stats = {k: v for k, v in extra.items() if k in ("latent_mean", "latent_std")} or \
        {k: v for k, v in extra.get("extra", {}).items() if k in ("latent_mean", "latent_std")}
    assert stats and all(torch.isfinite(torch.as_tensor(v)).all() for v in stats.values())


@pytest.mark.parametrize("strategy", ["random", "evolution", "local", "bananas", "bo-pool", "bo"])
def test_over_a_table_that_does_not_cover_its_space_every_proposal_is_in_the_table(
        strategy, small_nb201_table, tmp_path, capsys) -> None:
    """20 of NB201's cells: random starts, mutations, neighbours and decodes all come from the
    table, so no evaluation fails (bo-pool once never left its random start)."""
    if strategy in ("bananas", "bo-pool", "bo"):
        pytest.importorskip("botorch")
    import torch

    from graphvae_nas.vae import GraphVAE, VAEConfig
    from graphvae_nas.vae.persistence import save_model

    torch.manual_seed(0)
    model = tmp_path / "m.pt"
    save_model(GraphVAE(get_space("nb201"), VAEConfig(hidden_size=16, latent_size=4)), model)
    options = {"bananas": '{"n_init": 4, "gnn": {"members": 2, "epochs": 5}}',
               "bo-pool": '{"n_init": 4}',
               "bo": '{"n_init": 4, "decode": {"neighbourhood": 200, "explore": 200}, '
                     '"optimise": {"restarts": 1, "raw_samples": 8, "decodes": 2}}'}
    extra = ["--options", options[strategy], "--model", model] if strategy in options else []
    if strategy == "bananas":
        extra = extra[:2]
    out = tmp_path / "run"
    rc, _, err = run(capsys, "search", "--dataset", small_nb201_table, "--objective", "acc",
                     "--strategy", strategy, "--budget", "12", "--batch-size", "4",
                     "--out", out, *extra)
    assert rc == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trials"] == 12 and summary["failure_counts"] == {}, summary["failure_counts"]
    rc, _, err = run(capsys, "search", "--dataset", small_nb201_table, "--objective", "acc",
                     "--strategy", "random", "--budget", "21", "--out", tmp_path / "big")
    assert rc == 2 and "larger than the space (20 architectures)" in err


def test_vae_training_resumes_only_on_its_own_data(tmp_path, capsys) -> None:
    space = get_space("nb201")
    cells = list(space.enumerate())
    for name, part in (("a.jsonl", cells[:30]), ("b.jsonl", cells[30:60])):
        save_dataset(ArchitectureDataset.from_architectures(space, part, {}), tmp_path / name)
    common = ["--hidden", "8", "--latent", "2", "--out", tmp_path / "m.pt"]
    rc, _, err = run(capsys, "vae", "train", "--dataset", tmp_path / "a.jsonl", "--epochs", "1",
                     *common)
    assert rc == 0, err
    rc, _, err = run(capsys, "vae", "train", "--dataset", tmp_path / "b.jsonl", "--epochs", "2",
                     "--resume", *common)
    assert rc == 2 and "trained on other data than these 30 architectures" in err
    rc, _, err = run(capsys, "vae", "train", "--dataset", tmp_path / "a.jsonl", "--epochs", "2",
                     "--resume", *common)
    assert rc == 0, err


def test_a_quoted_space_value_may_hold_commas_and_semicolons(tmp_path, capsys) -> None:
    from shared_data import DATA

    asia = DATA / "bn" / "asia.csv"
    if not asia.exists():
        pytest.skip("benchmark data not found at ../shared/data (see data/README.md)")
    odd = tmp_path / "my;data, v2.csv"
    odd.write_bytes(asia.read_bytes())
    space = get_space(f'bn:data="{odd}";max_parents=3')
    assert space.data_path is not None and str(space.data_path) == str(odd)
    rc, _, err = run(capsys, "search", "--space", f'bn:data="{odd}"', "--strategy", "random",
                     "--budget", "5", "--out", tmp_path / "run")
    assert rc == 0, err
    from graphvae_nas.errors import ArchitectureError

    with pytest.raises(ArchitectureError, match="unclosed double quote"):
        get_space('bn:data="open.csv')
