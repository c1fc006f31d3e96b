"""Outputs that must not be written: an output that is also an input (or another output), and
a path that is not a regular file. One table of command lines each; the next adversarial pass
adds rows. Every row exits with status 2, names what it refused, and leaves the files as they
were."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from cli_run import run

from graphvae_nas.datasets import ArchitectureDataset, save_dataset
from graphvae_nas.errors import DataFormatError
from graphvae_nas.files import atomic_write
from graphvae_nas.spaces import get_space

NB201 = get_space("nb201")
CSV = "arch_str,acc\n" + "".join(
    f"{NB201.format(a)},{i}.5\n" for i, a in enumerate(list(NB201.enumerate())[:6]))


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    """t.csv (a table), d.jsonl (a dataset), m.pt (a tiny VAE) in ``tmp_path``."""
    import torch

    from graphvae_nas.vae import GraphVAE, VAEConfig
    from graphvae_nas.vae.persistence import save_model

    (tmp_path / "t.csv").write_text(CSV)
    cells = list(NB201.enumerate())[:8]
    save_dataset(ArchitectureDataset.from_architectures(NB201, cells, {"acc": [0.0] * 8}),
                 tmp_path / "d.jsonl")
    torch.manual_seed(0)
    save_model(GraphVAE(NB201, VAEConfig(hidden_size=8, latent_size=2)), tmp_path / "m.pt")
    (tmp_path / "link.jsonl").symlink_to(tmp_path / "d.jsonl")
    return tmp_path


SAME_FILE = [
    (["data", "import", "--space", "nb201", "t.csv", "-o", "t.csv"], "-o"),
    (["data", "import", "--space", "nb201", "t.csv", "-o", "./sub/../t.csv"], "-o"),
    (["data", "merge", "d.jsonl", "link.jsonl", "-o", "x.jsonl"], None),   # two inputs: fine
    (["data", "merge", "d.jsonl", "-o", "link.jsonl"], "-o"),               # through the link
    (["data", "dedupe", "d.jsonl", "-o", "d.jsonl"], "-o"),
    (["data", "split", "d.jsonl", "--train-out", "o.jsonl", "--test-out", "o.jsonl"], "--test-out"),
    (["data", "split", "d.jsonl", "--train-out", "d.jsonl", "--test-out", "o.jsonl"], "--train-out"),
    (["data", "sample", "d.jsonl", "-n", "2", "-o", "d.jsonl"], "-o"),
    (["vae", "train", "--dataset", "d.jsonl", "--out", "d.jsonl", "--epochs", "1"], "--out"),
    (["vae", "train", "--dataset", "d.jsonl", "--out", "m2.pt", "--checkpoint", "d.jsonl",
      "--epochs", "1"], "--checkpoint"),
    (["vae", "sample", "m.pt", "-n", "2", "-o", "m.pt"], "-o"),
    (["vae", "encode", "m.pt", "--dataset", "d.jsonl", "-o", "d.jsonl"], "-o"),
    (["vae", "convert", "m.pt", "m.pt"], "new"),
]


@pytest.mark.parametrize("args, refused", SAME_FILE)
def test_an_output_that_is_an_input_or_another_output_is_refused(files, capsys, monkeypatch,
                                                                  args, refused) -> None:
    monkeypatch.chdir(files)
    (files / "sub").mkdir()
    before = {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()}
    rc, _, err = run(capsys, *args)
    if refused is None:
        assert rc == 0, err
        return
    assert rc == 2 and "is the same file as the" in err and "nothing was written" in err, err
    flag = "--out" if refused == "-o" else refused
    assert f"{flag} " in err
    assert {p.name: p.read_bytes() for p in files.iterdir()
            if p.is_file() and p.name in before} == before
    assert not [p for p in files.iterdir() if p.name.startswith(".")]   # no temporary left


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("make, kind", [
    (lambda tmp: Path("/dev/null"), "a character device"),
    (lambda tmp: Path("/dev/full"), "a character device"),
    (_fifo, "a named pipe (FIFO)"),
    (lambda tmp: tmp, "a folder"),
])
def test_only_a_regular_file_or_a_new_name_is_replaced(tmp_path, make, kind) -> None:
    target = make(tmp_path)
    if not target.exists():
        pytest.skip(f"{target} does not exist here")
    before = os.stat(target)
    with pytest.raises(DataFormatError, match=re.escape(f"this is {kind}")):
        atomic_write(target, lambda tmp: Path(tmp).write_text("x"))
    after = os.stat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)


def test_a_symlink_is_written_through_to_its_file(tmp_path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic_write(link, lambda tmp: Path(tmp).write_text("new"))
    assert link.is_symlink() and real.read_text() == "new"
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "made.txt")
    atomic_write(dangling, lambda tmp: Path(tmp).write_text("made"))
    assert dangling.is_symlink() and (tmp_path / "made.txt").read_text() == "made"


def test_data_import_to_a_device_is_refused_on_the_command_line(files, capsys, monkeypatch) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    monkeypatch.chdir(files)
    rc, _, err = run(capsys, "data", "import", "--space", "nb201", "t.csv", "-o", "/dev/full")
    assert rc == 2 and "this is a character device" in err and "/dev/full" in err
    assert Path("/dev/full").is_char_device()


UNWRITABLE = [
    (["data", "import", "--space", "nb201", "t.csv", "-o", "afile/x.jsonl"], "is not a folder"),
    (["search", "--dataset", "d.jsonl", "--objective", "acc", "--strategy", "random",
      "--budget", "3", "--out", "afile/sub"], "is not a folder"),
    (["data", "import", "--space", "nb201", "t.csv", "-o", "ro/x.jsonl"], "is not writable"),
    (["data", "import", "--space", "nb201", "t.csv", "-o", "ro/new/x.jsonl"], "is not writable"),
    (["search", "--dataset", "d.jsonl", "--objective", "acc", "--strategy", "random",
      "--budget", "3", "--out", "ro/sub"], "is not writable"),
    (["vae", "sample", "m.pt", "-n", "2", "-o", "ro/s.jsonl"], "is not writable"),
]


@pytest.mark.parametrize("args, message", UNWRITABLE)
def test_an_output_in_a_folder_that_cannot_be_written_is_refused_first(files, capsys, monkeypatch,
                                                                       args, message) -> None:
    monkeypatch.chdir(files)
    (files / "afile").write_text("x")
    readonly = files / "ro"
    readonly.mkdir()
    readonly.chmod(0o555)
    if os.geteuid() == 0:        # root writes anywhere: let the check see what a user would
        real_access = os.access
        monkeypatch.setattr("graphvae_nas.cli.paths.os.access", lambda path, mode: (
            False if Path(path).absolute() == readonly else real_access(path, mode)))
    rc, _, err = run(capsys, *args)
    readonly.chmod(0o755)
    assert rc == 2 and message in err and "nothing was written" in err, err
    assert "Traceback" not in err
    assert list(readonly.iterdir()) == [] and (files / "afile").read_text() == "x"


def test_a_file_the_system_refuses_is_named_without_a_traceback(files, capsys, monkeypatch) -> None:
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", "/data/locked.jsonl")

    monkeypatch.chdir(files)
    monkeypatch.setattr("graphvae_nas.cli.data.load_dataset", refuse)
    rc, _, err = run(capsys, "data", "stats", "d.jsonl")
    assert rc == 2 and err.strip() == "graphvae-nas: error: /data/locked.jsonl: Permission denied"
