"""Model and checkpoint files: no code runs on load, damaged bytes are detected, old files refused."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from cli_run import run

from graphvae_nas.cli import main
from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.spaces import get_space, sample_distinct
from graphvae_nas.vae import GraphVAE, VAEConfig
from graphvae_nas.vae.persistence import (
    MODEL_FORMAT,
    convert_v1,
    load_model,
    model_payload,
    read_model_file,
    save_model,
)
from graphvae_nas.vae.trainer import TrainConfig, train_vae

SMALL = VAEConfig(hidden_size=16, latent_size=4, decoder_positions=True)
FAST = ["--hidden", "16", "--latent", "4", "--decoder-positions", "--batch-size", "16",
        "--lr", "1e-3", "--threads", "1", "--precision", "fp32"]


class CreatesMarker:
    """Unpickling this calls ``open(marker, "w")``: a stand-in for ``os.system``."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def small_model() -> GraphVAE:
    torch.manual_seed(0)
    return GraphVAE(get_space("nb201"), SMALL)


def write_malicious(path: Path, marker: Path, version: int) -> None:
    """A file shaped like a model of ``version`` whose payload runs code when unpickled."""
    payload = model_payload(small_model(), extra={"evil": CreatesMarker(marker)})
    payload.update({"format": MODEL_FORMAT, "version": version, "train": {"evil": CreatesMarker(marker)}})
    torch.save(payload, path)


@pytest.fixture()
def cells(tmp_path: Path, capsys) -> Path:
    path = tmp_path / "cells.jsonl"
    assert run(capsys, "data", "sample", "--space", "nb201", "-n", "16", "-o", path)[0] == 0
    return path


@pytest.mark.parametrize("version", [1, 2])
def test_a_crafted_file_runs_no_code_on_any_loading_path(tmp_path: Path, cells: Path, capsys,
                                                         version: int) -> None:
    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil.pt"
    write_malicious(evil, marker, version)
    evil_ckpt = tmp_path / "evil.pt.ckpt"
    write_malicious(evil_ckpt, marker, version)
    with pytest.raises(GraphVAENASError, match="never loaded"):
        load_model(evil)
    with pytest.raises(GraphVAENASError, match="never loaded"):
        train_vae(small_model(), sample_distinct(get_space("nb201"), 8, 0),
                  TrainConfig(epochs=1, progress=False), checkpoint=evil_ckpt, resume=True)
    with pytest.raises(GraphVAENASError, match="never loaded"):
        convert_v1(evil, tmp_path / "converted.pt")
    commands = [
        ["vae", "eval", evil, "--dataset", cells],
        ["vae", "sample", evil, "-o", tmp_path / "s.jsonl"],
        ["vae", "encode", evil, "--dataset", cells, "-o", tmp_path / "z.npz"],
        ["vae", "train", "--dataset", cells, "--epochs", "1", "--out", tmp_path / "evil.pt",
         "--resume", *FAST],
        ["vae", "train", "--dataset", cells, "--epochs", "1", "--out", tmp_path / "new.pt",
         "--init-from", evil, *FAST],
        ["search", "--model", evil, "--budget", "1", "--out", tmp_path / "run"],
    ]
    for command in commands:
        rc, _, err = run(capsys, *command)
        assert rc == 2 and "never loaded" in err, (command, err)
    assert not marker.exists()


def test_damaged_bytes_are_detected(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    save_model(small_model(), path)
    load_model(path)
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2   # inside the weights: the file is mostly tensor data
    while raw[middle:middle + 8] == bytes(8):
        middle += 8
    raw[middle:middle + 8] = bytes(8)   # what loaded silently with changed weights before
    path.write_bytes(bytes(raw))
    with pytest.raises(GraphVAENASError, match="damaged"):
        load_model(path)


def test_damage_anywhere_is_detected_or_harmless(tmp_path: Path) -> None:
    """Flipping 8 bytes at 200 places: an error, or (zip padding) exactly the saved model."""
    path = tmp_path / "m.pt"
    model = small_model()
    save_model(model, path, extra={"note": [1, 2.5]})
    good = path.read_bytes()
    detected = 0
    for offset in range(0, len(good) - 8, max(len(good) // 200, 1)):
        damaged = bytearray(good)
        damaged[offset:offset + 8] = bytes(b ^ 0xFF for b in damaged[offset:offset + 8])
        path.write_bytes(bytes(damaged))
        try:
            loaded, extra = load_model(path)
        except GraphVAENASError:
            detected += 1
            continue
        assert extra == {"note": [1, 2.5]}, offset
        for name, value in model.state_dict().items():
            assert torch.equal(value, loaded.state_dict()[name]), (offset, name)
    assert detected > 150


def test_version_1_files_are_refused_then_converted(tmp_path: Path) -> None:
    model = small_model()
    old = tmp_path / "old.pt"
    payload = model_payload(model, extra={"latent_mean": torch.zeros(4), "history": [{"loss": 1.5}]})
    torch.save({"format": MODEL_FORMAT, "version": 1, **payload}, old)
    with pytest.raises(GraphVAENASError, match="vae convert"):
        load_model(old)
    new = tmp_path / "new.pt"
    assert main(["vae", "convert", str(old), str(new)]) == 0
    loaded, extra = load_model(new)
    assert extra["history"] == [{"loss": 1.5}] and torch.equal(extra["latent_mean"], torch.zeros(4))
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name]), name


def test_checkpoint_state_round_trips(tmp_path: Path) -> None:
    """Optimiser (int keys, tuples), scheduler (inf) and generator states survive the JSON meta."""
    ckpt = tmp_path / "run.ckpt"
    archs = sample_distinct(get_space("nb201"), 16, 0)
    train_vae(small_model(), archs, TrainConfig(epochs=1, batch_size=8, lr=1e-3, progress=False),
              checkpoint=ckpt)
    state = read_model_file(ckpt)["train"]
    assert isinstance(state["optimizer"]["param_groups"][0]["betas"], tuple)
    assert all(isinstance(k, int) for k in state["optimizer"]["state"])
    assert state["shuffle_gen"].dtype == torch.uint8


def test_a_cached_default_vae_of_the_old_format_is_retrained(tmp_path: Path, monkeypatch, capsys) -> None:
    from graphvae_nas.vae import default_model as dm

    monkeypatch.setenv("GRAPHVAE_NAS_CACHE", str(tmp_path))
    monkeypatch.setitem(dm.DEFAULT_TRAINING, "epochs", 1)
    monkeypatch.setattr(dm, "ENUMERATE_LIMIT", 0)
    monkeypatch.setattr(dm, "SAMPLE_SIZE", 16)
    space = get_space("enas:num_layers=2")
    _, _, path = dm.default_model(space, progress=False)
    old = read_model_file(path)
    torch.save({"format": MODEL_FORMAT, "version": 1, **old}, path)   # as an old release wrote it
    capsys.readouterr()
    model, _, again = dm.default_model(space, progress=False)
    assert again == path and "retraining the cached default VAE" in capsys.readouterr().err
    assert read_model_file(path)["config"] == model.config.to_dict()   # rewritten in the new format
