"""``graphvae-nas search`` on a small synthetic table."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_search import synthetic_table

from graphvae_nas.cli import main
from graphvae_nas.datasets import save_dataset


def run(capsys, *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


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
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "bo")
    assert rc == 2 and "needs a trained VAE" in err
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "bo", "--bo-options", "{bad")
    assert rc == 2 and "--bo-options is not valid JSON" in err
    rc, _, err = run(capsys, "search", "--dataset", table_file, "--objective", "score", "--strategy",
                     "random", "--budget", "5000", "--out", tmp_path / "big")
    assert rc == 2 and "larger than the space" in err
    assert not (tmp_path / "big").exists()  # checked before anything is written
    assert run(capsys, *base, "--objective", "score", "--strategy", "random")[0] == 0
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "random")
    assert rc == 2 and "already exists" in err
    rc, _, err = run(capsys, *base, "--objective", "score", "--strategy", "local", "--resume")
    assert rc == 2 and "another study" in err


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
    assert summary["strategy"]["members"] == 2 and summary["strategy"]["acquisition"] == "qlognei"
    rc, _, err = run(capsys, "search", "--dataset", table_file, "--objective", "score", "--strategy",
                     "evolution", "--bo-options", '{"population": 3}', "--out", tmp_path / "e")
    assert rc == 2 and "unknown option(s) population of strategy 'evolution'" in err
