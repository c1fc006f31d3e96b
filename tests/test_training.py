"""Real training: the trainer, the training evaluator, `graphvae-nas train` and the default search."""
from __future__ import annotations

import json

import pytest
import torch
from cli_run import run
from torch import nn

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation.images import load_image_data
from graphvae_nas.evaluation.trainer import (
    TrainingConfig,
    TrainingDiverged,
    train_network,
)
from graphvae_nas.evaluation.training import TrainingEvaluator
from graphvae_nas.search import Study, StudyStore, make_strategy
from graphvae_nas.spaces import get_space

CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|"
SMALL = {"C": 8, "N": 1}


@pytest.fixture(scope="module")
def digits():
    return load_image_data("digits", seed=0)


def quick_config(**kw) -> TrainingConfig:
    return TrainingConfig(**{"epochs": 3, "batch_size": 64, "lr": 0.05, "device": "cpu", **kw})


def test_short_training_learns_digits_and_reports_every_metric(digits) -> None:
    space = get_space("nb201")
    module = space.to_module(space.parse(CELL), 10, in_channels=1, **SMALL)
    epochs = []
    record = train_network(module, digits, quick_config(), on_epoch=lambda e, loss, s: epochs.append(loss))
    assert record["valid_acc"] > 60 and record["test_acc"] > 60  # chance is 10 %
    assert 0 < record["test_f1"] <= 100 and record["epochs"] == 3 and record["device"] == "cpu"
    assert record["params"] == sum(p.numel() for p in module.parameters())
    assert record["flops"] > 0 and len(epochs) == 3 and epochs[-1] < epochs[0]


def test_training_is_reproducible_for_a_seed(digits) -> None:
    evaluator = TrainingEvaluator(get_space("nb201"), digits, quick_config(epochs=1), network=SMALL)
    arch = get_space("nb201").parse(CELL)
    first, second = evaluator.evaluate(arch), evaluator.evaluate(arch)
    for key in ("valid_acc", "test_acc", "train_loss", "params", "flops"):
        assert first.metrics[key] == second.metrics[key]
    assert first.objective == first.metrics["valid_acc"] and first.info == {"device": "cpu"}
    assert first.cost == first.metrics["seconds"]


class NaNSpace:
    """A space whose networks output NaN: training must report divergence, not crash."""

    name = "nan"

    def to_module(self, arch, num_classes, in_channels=1, **kw):
        return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * 64, num_classes), _Times(float("nan")))


class _Times(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def test_divergence_is_a_failed_evaluation(digits) -> None:
    arch = get_space("nb201").parse(CELL)
    with pytest.raises(TrainingDiverged, match="epoch 1"):
        train_network(NaNSpace().to_module(arch, 10, in_channels=1), digits, quick_config(epochs=1))
    evaluation = TrainingEvaluator(NaNSpace(), digits, quick_config(epochs=1)).evaluate(arch)
    assert evaluation.objective is None and evaluation.failure.startswith("diverged")


def test_bad_training_settings_are_clear_errors(digits) -> None:
    with pytest.raises(GraphVAENASError, match="larger than the training split"):
        TrainingEvaluator(get_space("nb201"), digits, quick_config(batch_size=100_000))
    with pytest.raises(GraphVAENASError, match="epochs"):
        TrainingConfig(epochs=0)
    with pytest.raises(GraphVAENASError, match="objective"):
        TrainingEvaluator(get_space("nb201"), digits, quick_config(), objective="test_acc")


def test_study_with_real_training_is_stored_and_resumable(digits, tmp_path) -> None:
    space = get_space("nb201")
    evaluator = TrainingEvaluator(space, digits, quick_config(epochs=1), network={"C": 4, "N": 1})
    header = Study.store_header(space, make_strategy("random"), evaluator, 3)
    store = StudyStore(tmp_path / "study.jsonl", header)
    Study(space, make_strategy("random"), evaluator, seed=3, store=store).optimize(2, batch_size=2)
    store.close()
    resumed = Study(space, make_strategy("random"), evaluator, seed=3,
                    store=StudyStore(tmp_path / "study.jsonl", header, resume=True))
    assert [t.evaluation.info["device"] for t in resumed.trials] == ["cpu", "cpu"]
    resumed.optimize(3)
    records = [json.loads(line) for line in (tmp_path / "study.jsonl").read_text().splitlines()]
    assert sum("trial" in r for r in records) == 3


def test_cli_train_saves_weights_that_reload(tmp_path, capsys) -> None:
    out = tmp_path / "net.pt"
    rc, stdout, err = run(capsys, "train", CELL, "--epochs", "1", "--width", "4", "--out", out,
                          "--json", "--threads", "1")
    assert rc == 0, err
    record = json.loads(stdout)
    from graphvae_nas.cli.train import NETWORK_FORMAT
    from graphvae_nas.vae.persistence import load_payload

    saved = load_payload(out, file_format=NETWORK_FORMAT)
    assert saved["arch"] == CELL and saved["metrics"]["test_acc"] == record["test_acc"]
    space = get_space("nb201")
    module = space.to_module(space.parse(CELL), saved["num_classes"], in_channels=saved["in_channels"],
                             **saved["network"])
    module.load_state_dict(saved["state_dict"])
    rc, _, err = run(capsys, "train", "|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|", "--out", out)
    assert rc == 2 and "bogus" in err


@pytest.mark.slow
def test_default_search_runs_latent_bo_with_real_training(tmp_path, capsys, monkeypatch) -> None:
    """`graphvae-nas search` without a table: latent BO (default VAE, trained and cached) over
    NB201 cells trained on digits; here with a 1-epoch VAE and 1-epoch trainings."""
    from graphvae_nas.vae import default_model

    monkeypatch.setenv("GRAPHVAE_NAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(default_model.DEFAULT_TRAINING, "epochs", 1)
    out = tmp_path / "run"
    rc, stdout, err = run(capsys, "search", "--budget", "10", "--epochs", "1", "--width", "4",
                          "--out", out, "--threads", "1")
    assert rc == 0, err
    assert "best after 10 queries" in stdout and "test_acc" in stdout and "test_f1" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["evaluator"]["kind"] == "training" and summary["strategy"]["name"] == "bo"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    assert summary["trials"] == 10 and summary["best"]["info"]["device"] == device
    tags = [json.loads(line).get("tag") for line in (out / "study.jsonl").read_text().splitlines()
            if '"trial"' in line]
    assert tags.count("random-init") == 8 and len(tags) == 10
    assert (out / "curve.png").exists() and list((tmp_path / "cache").glob("vae-nb201-*.pt"))


def test_validation_loss_is_a_minimised_training_objective(digits) -> None:
    """``valid_loss:min``: the study keeps the cell of the lowest validation loss."""
    from graphvae_nas.search.objectives import parse_objective

    space = get_space("nb201")
    evaluator = TrainingEvaluator(space, digits, quick_config(epochs=1), objective="valid_loss",
                                  network={"C": 4, "N": 1})
    study = Study(space, make_strategy("random"), evaluator, seed=1,
                  objectives=[parse_objective("valid_loss:min")])
    study.optimize(3, batch_size=3)
    losses = [t.evaluation.metrics["valid_loss"] for t in study.trials]
    assert [t.evaluation.values["valid_loss"] for t in study.trials] == losses
    assert len(set(losses)) == 3 and study.best().evaluation.metrics["valid_loss"] == min(losses)


def test_search_trains_cells_with_the_one_epoch_proxy_and_train_with_the_full_recipe() -> None:
    """``search`` on digits scores cells after one epoch unless --epochs says otherwise; ``train``
    keeps the full 8-epoch recipe; CIFAR keeps NAS-Bench-201's 200 epochs in both."""
    from graphvae_nas.cli import build_parser
    from graphvae_nas.cli.training_args import training_evaluator, training_recipe

    parser = build_parser()
    space = get_space("nb201")
    searched = training_evaluator(parser.parse_args(["search"]), space, search=True)
    trained = training_evaluator(parser.parse_args(["train", CELL]), space)
    chosen = training_evaluator(parser.parse_args(["search", "--epochs", "3"]), space, search=True)
    assert (searched.config.epochs, trained.config.epochs, chosen.config.epochs) == (1, 8, 3)
    assert searched.config.lr == trained.config.lr == 0.05
    assert training_recipe("cifar10", search=True)["epochs"] == training_recipe("cifar10")["epochs"] == 200


def test_default_search_prints_how_to_train_the_winner_fully(tmp_path, capsys) -> None:
    import shlex

    from graphvae_nas.cli import main

    assert main(["search", "--strategy", "random", "--budget", "2", "--batch-size", "2",
                 "--width", "4", "--threads", "1", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["evaluator"]["config"]["epochs"] == 1
    command = out.split("all 8 epochs: ")[1].rstrip(")\n")
    assert shlex.split(command) == ["graphvae-nas", "train", summary["best"]["arch"]]
    assert main(["search", "--strategy", "random", "--budget", "1", "--epochs", "1", "--width",
                 "4", "--threads", "1", "--out", str(tmp_path / "e")]) == 0
    assert "all 8 epochs" not in capsys.readouterr().out   # the user chose the epochs


def test_a_promotion_continues_the_training_and_equals_one_uninterrupted_run(digits, tmp_path
                                                                             ) -> None:
    """Fidelities 1 and 3 epochs: 1 epoch stops part way through the 3-epoch schedule and saves
    its state; the promotion to 3 trains 2 more epochs from it, and the network it ends with
    is the one 3 uninterrupted epochs give (same metrics, bit for bit on a CPU)."""
    space = get_space("nb201")
    arch = space.parse(CELL)
    evaluator = TrainingEvaluator(space, digits, quick_config(), network=SMALL,
                                  fidelities=[1, 3], state_dir=tmp_path / "states")
    low = evaluator.evaluate_at(arch, 1)
    assert (low.fidelity, low.cost, low.metrics["epochs"]) == (1, 1, 1)
    assert (tmp_path / "states" / f"{arch.canonical_hash}-1.pt").is_file()
    high = evaluator.evaluate_at(arch, 3)
    assert (high.fidelity, high.cost, high.metrics["epochs"]) == (3, 2, 3)
    straight = TrainingEvaluator(space, digits, quick_config(), network=SMALL).evaluate(arch)
    for key in ("valid_acc", "test_acc", "train_loss", "valid_loss"):
        assert high.metrics[key] == straight.metrics[key]
    # without a saved state a promotion trains from the start, on the same schedule
    other = TrainingEvaluator(space, digits, quick_config(), network=SMALL, fidelities=[1, 3],
                              state_dir=tmp_path / "empty")
    again = other.evaluate_at(arch, 3)
    assert again.cost == 3 and again.metrics["valid_loss"] == straight.metrics["valid_loss"]
    # restarting: each fidelity is its own training with its own schedule
    restart = TrainingEvaluator(space, digits, quick_config(), network=SMALL, fidelities=[1, 3],
                                continue_training=False)
    one = restart.evaluate_at(arch, 1)
    assert one.cost == 1 and one.metrics["train_loss"] != low.metrics["train_loss"]
    assert evaluator.spec()["fidelities"] == [1, 3] and "epochs" not in evaluator.spec()["config"]


def test_training_fidelities_are_checked(digits) -> None:
    space = get_space("nb201")
    with pytest.raises(GraphVAENASError, match="state_dir"):
        TrainingEvaluator(space, digits, quick_config(), fidelities=[1, 3])
    with pytest.raises(GraphVAENASError, match="numbers of epochs"):
        TrainingEvaluator(space, digits, quick_config(), fidelities=[0.5, 3],
                          continue_training=False)
    evaluator = TrainingEvaluator(space, digits, quick_config(), fidelities=[1, 3],
                                  continue_training=False)
    with pytest.raises(GraphVAENASError, match="no fidelity 2"):
        evaluator.evaluate_at(space.parse(CELL), 2)
