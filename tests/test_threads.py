"""Thread counts are set inside explicit scopes and restored afterwards."""
from __future__ import annotations

import pytest
import torch

from graphvae_nas.cli import main
from graphvae_nas.spaces import get_space, sample_distinct
from graphvae_nas.threads import DEFAULT_THREADS, cpu_threads
from graphvae_nas.vae import GraphVAE, VAEConfig
from graphvae_nas.vae.trainer import TrainConfig, train_vae


@pytest.fixture()
def three_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(3)
    yield
    torch.set_num_threads(previous)


def test_scope_sets_and_restores(three_threads) -> None:
    with cpu_threads(1) as inside:
        assert inside == torch.get_num_threads() == 1
        with cpu_threads(2):
            assert torch.get_num_threads() == 2
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 3
    with cpu_threads(None) as inside:   # None: torch's setting
        assert inside == 3
    with pytest.raises(ValueError):
        with cpu_threads(0):
            pass


def test_training_uses_the_default_and_restores(three_threads) -> None:
    seen = []
    space = get_space("nb201")
    model = GraphVAE(space, VAEConfig(hidden_size=8, latent_size=2, decoder_positions=True))
    train_vae(model, sample_distinct(space, 8, 0), TrainConfig(epochs=1, progress=False),
              on_epoch=lambda record: seen.append(torch.get_num_threads()))
    assert seen == [DEFAULT_THREADS] and torch.get_num_threads() == 3
    train_vae(model, sample_distinct(space, 8, 0), TrainConfig(epochs=1, progress=False, threads=2),
              on_epoch=lambda record: seen.append(torch.get_num_threads()))
    assert seen[-1] == 2 and torch.get_num_threads() == 3


def test_cli_runs_with_its_threads_option_and_restores(three_threads, tmp_path, monkeypatch) -> None:
    import graphvae_nas.cli.data as data_cli

    seen = []
    original = data_cli.cmd_sample
    monkeypatch.setattr(data_cli, "cmd_sample", lambda args: (seen.append(torch.get_num_threads()),
                                                              original(args)))
    # the parser binds func at build time, so patch before main() builds it
    assert main(["data", "sample", "--space", "nb201", "-n", "2", "-o", str(tmp_path / "s.jsonl")]) == 0
    assert seen == [DEFAULT_THREADS] and torch.get_num_threads() == 3


def test_more_threads_than_cpus_are_bounded_with_a_warning() -> None:
    """--threads 100000 once crashed torch after the results were written: a count above the
    CPUs this process may use becomes that number, and the caller is told."""
    import torch

    from graphvae_nas.threads import available_cpus, cpu_threads

    before = torch.get_num_threads()
    with pytest.warns(UserWarning, match=f"100000 CPU threads asked for, {available_cpus()} "
                                         "available"):
        with cpu_threads(100_000) as used:
            assert used == available_cpus() == torch.get_num_threads()
    assert torch.get_num_threads() == before


def test_the_command_line_bounds_threads(tmp_path, capsys) -> None:
    from cli_run import run

    from graphvae_nas.threads import available_cpus

    from graphvae_nas.datasets import ArchitectureDataset, save_dataset

    cells = list(get_space("nb201").enumerate())[:20]
    save_dataset(ArchitectureDataset.from_architectures(get_space("nb201"), cells, {}),
                 tmp_path / "d.jsonl")
    rc, out, err = run(capsys, "vae", "train", "--dataset", tmp_path / "d.jsonl", "--hidden", "8",
                       "--latent", "2", "--epochs", "1", "--threads", "100000",
                       "--out", tmp_path / "m.pt")
    assert rc == 0, err
    assert f"using {available_cpus()}" in err
