"""OS file locks: a study folder, a study store, a training checkpoint and the default-VAE cache,
each with two real processes synchronised by handshake files (no sleeps that stand in for
ordering)."""
from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cli_run import run
from test_search import synthetic_table

from graphvae_nas.datasets import save_dataset
from graphvae_nas.locking import LockedError, exclusive_lock

ROOT = Path(__file__).resolve().parents[1]
SAFETY_TIMEOUT_S = 300   # only to end a hung test; no result depends on timing


def spawn(script: str, *args: object) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, proc: subprocess.Popen) -> None:
    """Block until ``proc`` creates ``path`` (its handshake), failing if it exits first."""
    deadline = time.monotonic() + SAFETY_TIMEOUT_S
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"helper process exited early ({proc.returncode}): {proc.stderr.read()}")
        assert time.monotonic() < deadline, "helper process hung"
        time.sleep(0.01)


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=SAFETY_TIMEOUT_S)
    return proc.returncode, out, err


def test_lock_is_exclusive_and_released_on_exit(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    with exclusive_lock(lock, what="thing"):
        with pytest.raises(LockedError, match=f"thing is in use by another process \\(pid {os.getpid()}\\)"):
            with exclusive_lock(lock, what="thing"):
                pass
    with exclusive_lock(lock, what="thing"):   # released: free again
        pass


# A search process that pauses (holding its study folder) until the test lets it go.
PAUSED_SEARCH = """
    import sys, time
    from pathlib import Path
    from graphvae_nas.cli import main
    from graphvae_nas.search.study import Study

    ready, go = Path(sys.argv[1]), Path(sys.argv[2])
    original = Study.optimize
    def paused(self, *args, **kwargs):
        ready.touch()
        while not go.exists():
            time.sleep(0.01)
        return original(self, *args, **kwargs)
    Study.optimize = paused
    sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture(scope="module")
def table_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "table.jsonl"
    save_dataset(synthetic_table(), path)
    return path


def search_args(table_file: Path, out: Path, budget: int) -> list[object]:
    return ["search", "--dataset", table_file, "--objective", "score", "--strategy", "random",
            "--budget", budget, "--seed", "0", "--out", out]


def test_second_search_on_a_running_study_is_refused(table_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    ready, go = tmp_path / "ready", tmp_path / "go"
    first = spawn(PAUSED_SEARCH, ready, go, *search_args(table_file, out, 20))
    try:
        wait_for(ready, first)
        before = (out / "study.jsonl").read_bytes()
        rc, _, err = run(capsys, *search_args(table_file, out, 30), "--resume")
        assert rc == 2 and f"study folder {out} is in use by another process (pid {first.pid})" in err
        assert (out / "study.jsonl").read_bytes() == before   # untouched
        go.touch()
        rc, _, err = finish(first)
        assert rc == 0, err
    finally:
        first.kill()
    rc, _, err = run(capsys, *search_args(table_file, out, 30), "--resume")   # released: resumes
    assert rc == 0, err
    trials = [line for line in (out / "study.jsonl").read_text().splitlines() if '"trial"' in line]
    assert len(trials) == 30


def test_a_killed_search_releases_its_study(table_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    ready, go = tmp_path / "ready", tmp_path / "go"
    first = spawn(PAUSED_SEARCH, ready, go, *search_args(table_file, out, 20))
    wait_for(ready, first)
    first.send_signal(signal.SIGKILL)
    finish(first)
    rc, _, err = run(capsys, *search_args(table_file, out, 10), "--resume")
    assert rc == 0, err


# A library user's process: opens a StudyStore, says so, closes it when told, says so, and
# stays alive until told to exit (so that the test sees close() release it, not the exit).
HELD_STORE = """
    import sys, time
    from pathlib import Path
    from graphvae_nas.search import StudyStore

    path, opened, close, closed, leave = sys.argv[1], *map(Path, sys.argv[2:6])
    def wait(flag):
        while not flag.exists():
            time.sleep(0.01)
    store = StudyStore(path, {"seed": 0, "objectives": [{"name": "score", "direction": "max"}]})
    opened.touch()
    wait(close)
    store.close()
    closed.touch()
    wait(leave)
"""
STORE_HEADER = {"seed": 0, "objectives": [{"name": "score", "direction": "max"}]}


def test_a_study_store_locks_its_file_against_another_process(tmp_path: Path) -> None:
    from graphvae_nas.search import StudyStore

    path = tmp_path / "study.jsonl"
    opened, close, closed, leave = (tmp_path / name for name in ("opened", "close", "closed", "leave"))
    other = spawn(HELD_STORE, path, opened, close, closed, leave)
    try:
        wait_for(opened, other)
        before = path.read_bytes()
        with pytest.raises(LockedError, match=f"study store {path} is in use by another process "
                                              f"\\(pid {other.pid}\\); another study writes to it"):
            StudyStore(path, STORE_HEADER, resume=True)
        assert path.read_bytes() == before   # neither read into a store nor written
        close.touch()
        wait_for(closed, other)
        with StudyStore(path, STORE_HEADER, resume=True) as store:   # released while it lives on
            assert not store.closed and store.records == []
            leave.touch()
            rc, _, err = finish(other)
            assert rc == 0, err
    finally:
        other.kill()


def test_a_closed_or_collected_store_releases_its_lock(tmp_path: Path) -> None:
    from graphvae_nas.errors import DataFormatError, GraphVAENASError
    from graphvae_nas.search import StudyStore

    path = tmp_path / "study.jsonl"
    store = StudyStore(path, STORE_HEADER)
    with pytest.raises(LockedError, match=f"study store {path} is in use"):   # also in one process
        StudyStore(path, STORE_HEADER, resume=True)
    del store
    gc.collect()
    with StudyStore(path, STORE_HEADER, resume=True) as store:   # collected: released
        pass
    assert store.closed
    with pytest.raises(GraphVAENASError, match="study store .* is closed"):
        store.log_batch([])
    with pytest.raises(DataFormatError, match="already exists") as refused:
        StudyStore(path, STORE_HEADER)
    store = StudyStore(path, STORE_HEADER, resume=True)   # a refused store holds nothing, even
    assert refused.value.__traceback__ is not None        # while its exception is kept
    store.close()
    store.close()   # twice is fine
    StudyStore(path, STORE_HEADER, resume=True).close()


PAUSED_TRAINING = """
    import sys, time
    from pathlib import Path
    import torch
    from graphvae_nas.spaces import get_space, sample_distinct
    from graphvae_nas.vae import GraphVAE, VAEConfig
    from graphvae_nas.vae.trainer import TrainConfig, train_vae

    ready, go, ckpt = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    def pause(record):
        ready.touch()
        while not go.exists():
            time.sleep(0.01)
    space = get_space("nb201")
    model = GraphVAE(space, VAEConfig(hidden_size=8, latent_size=2, decoder_positions=True))
    train_vae(model, sample_distinct(space, 8, 0), TrainConfig(epochs=1, progress=False),
              checkpoint=ckpt, on_epoch=pause)
"""


def test_second_training_into_one_checkpoint_is_refused(tmp_path: Path) -> None:
    from graphvae_nas.spaces import get_space, sample_distinct
    from graphvae_nas.vae import GraphVAE, VAEConfig
    from graphvae_nas.vae.trainer import TrainConfig, train_vae

    ckpt = tmp_path / "run.ckpt"
    ready, go = tmp_path / "ready", tmp_path / "go"
    first = spawn(PAUSED_TRAINING, ready, go, ckpt)
    try:
        wait_for(ready, first)
        space = get_space("nb201")
        model = GraphVAE(space, VAEConfig(hidden_size=8, latent_size=2, decoder_positions=True))
        with pytest.raises(LockedError, match=f"checkpoint {ckpt} is in use by another process"):
            train_vae(model, sample_distinct(space, 8, 0), TrainConfig(epochs=2, progress=False),
                      checkpoint=ckpt, resume=True)
        go.touch()
        rc, _, err = finish(first)
        assert rc == 0, err
    finally:
        first.kill()
    history = train_vae(model, sample_distinct(space, 8, 0), TrainConfig(epochs=2, progress=False),
                        checkpoint=ckpt, resume=True)
    assert [h["epoch"] for h in history] == [1, 2]


# Needs the default VAE of a small space. "first" pauses inside its training until told;
# "second" must not train: it waits for the first and loads its file.
DEFAULT_VAE = """
    import sys, time
    from pathlib import Path
    import graphvae_nas.vae.trainer as trainer
    from graphvae_nas.spaces import get_space
    from graphvae_nas.vae import default_model as dm

    role, ready, go, trained = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    dm.DEFAULT_TRAINING["epochs"] = 1
    dm.ENUMERATE_LIMIT, dm.SAMPLE_SIZE = 0, 16   # a tiny training set: this tests the lock
    original = trainer.train_vae
    def train(*args, **kwargs):
        trained.write_text(role)
        if role == "first":
            ready.touch()
            while not go.exists():
                time.sleep(0.01)
        return original(*args, **kwargs)
    trainer.train_vae = train
    model, archs, path = dm.default_model(get_space("enas:num_layers=2"), progress=False)
    print(path)
"""


def test_second_process_waits_for_the_default_vae_and_reuses_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GRAPHVAE_NAS_CACHE", str(tmp_path / "cache"))
    ready, go = tmp_path / "ready", tmp_path / "go"
    first = spawn(DEFAULT_VAE, "first", ready, go, tmp_path / "trained_first")
    second = None
    try:
        wait_for(ready, first)
        second = spawn(DEFAULT_VAE, "second", ready, go, tmp_path / "trained_second")
        line = ""
        while "waiting for another process" not in line:   # blocks until the second one waits
            line = second.stderr.readline()
            assert line, "the second process ended without waiting"
        assert f"pid {first.pid}" in line, line
        go.touch()
        rc1, out1, err1 = finish(first)
        rc2, out2, err2 = finish(second)
    finally:
        first.kill()
        if second is not None:
            second.kill()
    assert rc1 == 0 and rc2 == 0, (err1, err2)
    assert out1 == out2 and Path(out1.strip()).exists()
    assert (tmp_path / "trained_first").exists() and not (tmp_path / "trained_second").exists()
