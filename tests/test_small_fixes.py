"""Issue 15, item 7: missing-value markers in table imports; file permissions of what we write."""
from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import pytest
from shared_data import NB201_DIR, needs_data

from graphvae_nas.cli import main
from graphvae_nas.datasets import load_dataset, read_table, save_dataset
from graphvae_nas.errors import DataFormatError
from graphvae_nas.spaces import get_space

CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
OTHER = "|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"


def _table(tmp_path: Path) -> Path:
    path = tmp_path / "hw.csv"
    path.write_text(f"arch,tpu,gpu\n\"{CELL}\",-1,-1\n\"{OTHER}\",2.5,-1.0\n")
    return path


def test_declared_markers_become_missing_values(tmp_path: Path) -> None:
    space = get_space("nb201")
    plain = read_table(_table(tmp_path), space).dataset
    assert plain.metrics["tpu"][0] == -1.0  # undeclared: a real value
    report = read_table(_table(tmp_path), space, missing_values={"tpu": -1})
    tpu, gpu = report.dataset.metrics["tpu"], report.dataset.metrics["gpu"]
    assert math.isnan(tpu[0]) and tpu[1] == 2.5 and list(gpu) == [-1.0, -1.0]
    assert report.marked_missing == {"tpu": 1} and "1 in tpu" in report.summary()
    everywhere = read_table(_table(tmp_path), space, missing_values={"*": ["-1"]})
    assert everywhere.marked_missing == {"tpu": 1, "gpu": 2}  # "-1.0" equals the marker -1
    with pytest.raises(DataFormatError, match="not imported metric columns"):
        read_table(_table(tmp_path), space, missing_values={"cpu": -1})
    with pytest.raises(DataFormatError, match="not a number"):
        read_table(_table(tmp_path), space, missing_values={"tpu": "n/a"})


def test_cli_missing_value_option(tmp_path: Path, capsys) -> None:
    out = tmp_path / "hw.jsonl"
    assert main(["data", "import", "--space", "nb201", "--prefix", "hw_", "--missing-value",
                 "tpu=-1", str(_table(tmp_path)), "-o", str(out)]) == 0
    assert "missing-value markers: 1 in tpu" in capsys.readouterr().err
    dataset = load_dataset(out)
    assert math.isnan(dataset.metrics["hw_tpu"][0]) and dataset.metrics["hw_gpu"][0] == -1.0


@needs_data
def test_hardware_table_edgetpu_sentinel() -> None:
    report = read_table(NB201_DIR / "hw_cifar10.csv", get_space("nb201"), prefix="hw_",
                        missing_values={"edgetpu_latency": -1})
    tpu = report.dataset.metrics["hw_edgetpu_latency"]
    assert report.marked_missing == {"edgetpu_latency": 4_699}
    assert (tpu[~(tpu != tpu)] > 0).all()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_models_and_datasets_get_the_usual_permissions(tmp_path: Path) -> None:
    from graphvae_nas.datasets import ArchitectureDataset
    from graphvae_nas.vae import GraphVAE, VAEConfig
    from graphvae_nas.vae.persistence import save_model

    space = get_space("nb201")
    old = os.umask(0o022)
    try:
        save_model(GraphVAE(space, VAEConfig(hidden_size=8, latent_size=2)), tmp_path / "m.pt")
        save_dataset(ArchitectureDataset.from_architectures(space, [space.parse(CELL)]),
                     tmp_path / "d.jsonl")
        os.umask(0o077)
        save_model(GraphVAE(space, VAEConfig(hidden_size=8, latent_size=2)), tmp_path / "private.pt")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "m.pt") == _mode(tmp_path / "d.jsonl") == 0o644
    assert _mode(tmp_path / "private.pt") == 0o600  # the umask is respected
