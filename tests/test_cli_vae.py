"""``graphvae-nas vae train|eval|encode|sample`` on small data (fast settings)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from graphvae_nas.cli import main
from graphvae_nas.datasets import load_dataset
from graphvae_nas.vae.persistence import read_model_file

torch.set_num_threads(1)

FAST = ["--hidden", "16", "--latent", "4", "--batch-size", "16", "--lr", "1e-3",
        "--threads", "1", "--precision", "fp32"]


def run(capsys, *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


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
