"""``graphvae-nas vae train|eval|encode|sample`` on small data (fast settings)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_run import run

from graphvae_nas.datasets import load_dataset
from graphvae_nas.vae.persistence import read_model_file, save_payload


FAST = ["--hidden", "16", "--latent", "4", "--batch-size", "16", "--lr", "1e-3",
        "--threads", "1", "--precision", "fp32"]


@pytest.fixture()
def nb201_sample(tmp_path: Path, capsys) -> Path:
    path = tmp_path / "cells.jsonl"
    assert run(capsys, "data", "sample", "--space", "nb201", "-n", "48", "--seed", "0", "-o", path)[0] == 0
    return path


@pytest.fixture()
def trained(tmp_path: Path, nb201_sample: Path, capsys) -> Path:
    model = tmp_path / "model.pt"
    rc, _, err = run(capsys, "vae", "train", "--dataset", nb201_sample, "--epochs", "2",
                     "--seed", "0", "--out", model, *FAST)
    assert rc == 0, err
    assert model.exists() and (tmp_path / "model.pt.ckpt").exists()
    return model


def test_train_eval_encode_sample(tmp_path: Path, nb201_sample: Path, trained: Path, capsys) -> None:
    rc, out, err = run(capsys, "vae", "eval", trained, "--dataset", nb201_sample, "--json",
                       "--encode-times", "2", "--decode-times", "2", "--prior-samples", "20")
    assert rc == 0, err
    result = json.loads(out)
    for key in ("recon_acc", "validity", "uniqueness", "novelty"):
        assert 0.0 <= result[key] <= 1.0
    assert result["validity"] == 1.0  # NB201 decodes are valid by construction
    assert result["rmse"] is None and result["pearson"] is None  # unlabelled cells: no target
    assert result["test"] == 5 and result["train"] == 43

    latents = tmp_path / "z.npz"
    assert run(capsys, "vae", "encode", trained, "--dataset", nb201_sample, "-o", latents)[0] == 0
    saved = np.load(latents)
    assert saved["mu"].shape == (48, 4) and len(saved["hash"]) == 48

    sampled = tmp_path / "new.jsonl"
    rc, _, err = run(capsys, "vae", "sample", trained, "-n", "7", "--seed", "1", "-o", sampled)
    assert rc == 0, err
    assert len(load_dataset(sampled)) == 7


def test_resume_extends_the_run(tmp_path: Path, nb201_sample: Path, trained: Path, capsys) -> None:
    rc, _, err = run(capsys, "vae", "train", "--dataset", nb201_sample, "--epochs", "3", "--seed",
                     "0", "--out", trained, "--resume", *FAST)
    assert rc == 0, err
    history = read_model_file(trained)["extra"]["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]


def test_errors_exit_2(tmp_path: Path, nb201_sample: Path, trained: Path, capsys) -> None:
    enas = tmp_path / "enas.jsonl"
    run(capsys, "data", "sample", "--space", "enas", "-n", "5", "-o", enas)
    rc, _, err = run(capsys, "vae", "eval", trained, "--dataset", enas)
    assert rc == 2 and "space" in err
    rc, _, err = run(capsys, "vae", "eval", tmp_path / "missing.pt", "--dataset", nb201_sample)
    assert rc == 2 and "no such model file" in err
    rc, _, err = run(capsys, "vae", "train", "--dataset", nb201_sample, "--epochs", "1", "--out",
                     tmp_path / "m.pt", "--resume", "--checkpoint", trained.with_suffix(".pt.ckpt"),
                     "--hidden", "8", "--latent", "4", "--threads", "1")
    assert rc == 2 and "another model" in err


def test_init_from_starts_a_second_phase(tmp_path: Path, nb201_sample: Path, trained: Path, capsys) -> None:
    second = tmp_path / "phase2.pt"
    rc, _, err = run(capsys, "vae", "train", "--dataset", nb201_sample, "--epochs", "0", "--seed", "0",
                     "--out", second, "--init-from", trained, *FAST)
    assert rc == 0, err
    first = read_model_file(trained)["state_dict"]
    after = read_model_file(second)["state_dict"]
    assert all(torch.equal(first[k], after[k]) for k in first)  # zero epochs: the same weights
    rc, _, err = run(capsys, "vae", "train", "--dataset", nb201_sample, "--epochs", "1", "--out",
                     tmp_path / "x.pt", "--init-from", trained, "--hidden", "8", "--latent", "4")
    assert rc == 2 and "differs" in err


@pytest.fixture()
def default_style_model(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """The library's default VAE of a 72-architecture space (one epoch), and its cells."""
    from graphvae_nas.datasets import ArchitectureDataset, save_dataset
    from graphvae_nas.spaces import get_space
    from graphvae_nas.vae import default_model as dm

    monkeypatch.setenv("GRAPHVAE_NAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(dm.DEFAULT_TRAINING, "epochs", 1)
    space = get_space("enas:num_layers=2")
    _, archs, path = dm.default_model(space, progress=False)
    cells = tmp_path / "cells.jsonl"
    save_dataset(ArchitectureDataset.from_architectures(space, archs), cells)
    return path, cells


def test_every_vae_command_works_on_the_default_model(default_style_model, tmp_path: Path,
                                                      capsys) -> None:
    model, cells = default_style_model
    extra = read_model_file(model)["extra"]
    assert extra["latent_mean"].shape == (16,) and (extra["latent_std"] > 0).all()
    sampled = tmp_path / "new.jsonl"
    rc, _, err = run(capsys, "vae", "sample", model, "-n", "6", "--seed", "1", "-o", sampled)
    assert rc == 0, err
    assert len(load_dataset(sampled)) <= 6 and "of 6 decodes valid" in err
    rc, out, err = run(capsys, "vae", "eval", model, "--dataset", cells, "--json", "--encode-times",
                       "1", "--decode-times", "1", "--prior-samples", "5")
    assert rc == 0, err
    assert 0.0 <= json.loads(out)["recon_acc"] <= 1.0
    rc, _, err = run(capsys, "vae", "encode", model, "--dataset", cells, "-o", tmp_path / "z.npz")
    assert rc == 0, err
    assert np.load(tmp_path / "z.npz")["mu"].shape == (72, 16)
    rc, _, err = run(capsys, "vae", "train", "--dataset", cells, "--epochs", "0", "--init-from",
                     model, "--hidden", "128", "--latent", "16", "--decoder-positions",
                     "--threads", "1", "--out", tmp_path / "tuned.pt")
    assert rc == 0, err


def test_sample_without_latent_statistics_uses_the_prior(trained: Path, tmp_path: Path, capsys) -> None:
    payload = read_model_file(trained)
    for key in ("latent_mean", "latent_std"):
        del payload["extra"][key]
    bare = tmp_path / "bare.pt"
    save_payload(payload, bare)
    rc, _, err = run(capsys, "vae", "sample", bare, "-n", "4", "-o", tmp_path / "s.jsonl")
    assert rc == 0, err
    assert "prior N(0, I)" in err and len(load_dataset(tmp_path / "s.jsonl")) == 4
    checkpoint = trained.with_suffix(".pt.ckpt")  # written by the library too: works the same way
    rc, _, err = run(capsys, "vae", "sample", checkpoint, "-n", "3", "-o", tmp_path / "c.jsonl")
    assert rc == 0 and "prior N(0, I)" in err, err


def test_train_uses_the_space_default_for_decoder_positions(tmp_path: Path, nb201_sample: Path,
                                                            capsys) -> None:
    rc, _, err = run(capsys, "vae", "train", "--dataset", nb201_sample, "--epochs", "1",
                     "-o", tmp_path / "m.pt", *FAST)
    assert rc == 0, err
    assert "decoder positions on (the default for the nb201 space" in err
    assert read_model_file(tmp_path / "m.pt")["config"]["decoder_positions"] is True
    rc, _, err = run(capsys, "vae", "train", "--dataset", nb201_sample, "--epochs", "1",
                     "-o", tmp_path / "m2.pt", "--no-decoder-positions", *FAST)
    assert rc == 0 and "decoder positions" not in err
    assert read_model_file(tmp_path / "m2.pt")["config"]["decoder_positions"] is False


def test_eval_predictive_step_shows_progress_and_can_be_skipped(tmp_path: Path, trained: Path,
                                                               capsys) -> None:
    from graphvae_nas.datasets import ArchitectureDataset, save_dataset
    from graphvae_nas.spaces import get_space

    space = get_space("nb201")
    archs = list(space.enumerate())[:40]
    labelled = tmp_path / "labelled.jsonl"
    save_dataset(ArchitectureDataset.from_architectures(
        space, archs, metrics={"acc": [float(sum(map(len, a.ops)) % 7) for a in archs]}), labelled)
    common = ["vae", "eval", trained, "--dataset", labelled, "--json", "--encode-times", "1",
              "--decode-times", "1", "--prior-samples", "5"]
    rc, out, err = run(capsys, *common)
    assert rc == 0, err
    assert json.loads(out)["rmse"] is not None and "GP on 36 latents" in err
    rc, out, err = run(capsys, *common, "--no-predictive")
    assert rc == 0, err
    assert json.loads(out)["rmse"] is None and "GP on" not in err
