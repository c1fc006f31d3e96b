"""RayExecutor: same trials as the serial executor; worker deaths retried, timeouts and errors
recorded as failed evaluations. One small local Ray instance (2 CPUs) for the whole module."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason='Ray is not installed: pip install "graphvae_nas[distributed]"')

from graphvae_nas.datasets import ArchitectureDataset
from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation import Evaluation, SerialExecutor, TabularEvaluator
from graphvae_nas.evaluation.ray_executor import RayExecutor
from graphvae_nas.graph import Architecture
from graphvae_nas.search import RandomSearch, RegularizedEvolution, Study, StudyStore
from graphvae_nas.spaces import get_space

SPACE = "enas:num_layers=3"


@pytest.fixture(scope="module", autouse=True)
def ray_cluster():
    """A fresh local Ray instance: 2 CPUs and one declared (fake) GPU, for scheduling only."""
    module = sys.modules[__name__]
    ray.cloudpickle.register_pickle_by_value(module)  # workers cannot import this test module
    ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False,
             log_to_driver=False, logging_level="warning")
    yield
    ray.shutdown()
    ray.cloudpickle.unregister_pickle_by_value(module)


# ------------------------------------------------------------------------------ test evaluators
def score(arch: Architecture) -> float:
    """A deterministic objective for any architecture."""
    return float(int(arch.canonical_hash[:6], 16) % 1000)


def claim(directory: str, name: str, arch: Architecture) -> bool:
    """True for the one architecture that claims ``name`` first (on this and later attempts)."""
    path = Path(directory) / name
    try:
        os.close(os.open(path.with_suffix(".lock"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return path.exists() and path.read_text() == arch.canonical_hash
    write_atomically(path, arch.canonical_hash)
    return True


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@dataclass
class Scripted:
    """Scores with :func:`score`, after misbehaving as ``mode`` says (files in ``directory``).

    ``kill-once``: one architecture writes its worker's PID and sleeps on its first attempt;
    ``die``: one architecture kills its own worker on every attempt; ``slow``: one architecture
    sleeps ``seconds``; ``raise``: architectures whose hash starts with 0-7 raise;
    ``sleep``: every architecture sleeps ``seconds`` and reports its start/end and GPU ids;
    ``rendezvous``: every architecture announces itself and waits (at most ``seconds``) until
    ``together`` of them have; it reports whether they met, i.e. ran at the same time.
    Every attempt is logged as ``hash pid`` in ``attempts``.
    """

    directory: str
    mode: str
    seconds: float = 0.0
    together: int = 2

    def spec(self) -> dict[str, Any]:
        return {"kind": "scripted", "mode": self.mode}

    def evaluate(self, arch: Architecture) -> Evaluation:
        start = time.time()
        with open(Path(self.directory) / "attempts", "a") as handle:
            handle.write(f"{arch.canonical_hash} {os.getpid()}\n")
        if self.mode == "kill-once" and claim(self.directory, "victim", arch):
            pid_file = Path(self.directory) / "pid"
            if not pid_file.exists():
                write_atomically(pid_file, str(os.getpid()))
                time.sleep(60)  # killed long before
        elif self.mode == "die" and claim(self.directory, "victim", arch):
            os.kill(os.getpid(), signal.SIGKILL)
        elif self.mode == "slow" and claim(self.directory, "victim", arch):
            time.sleep(self.seconds)
        elif self.mode == "raise" and arch.canonical_hash[0] in "01234567":
            raise ValueError(f"cannot build {arch.canonical_hash}")
        elif self.mode == "rendezvous":
            write_atomically(Path(self.directory) / f"arrived-{arch.canonical_hash}", "")
            deadline = time.monotonic() + self.seconds   # only ends a wait that cannot succeed
            met = False
            while not met and time.monotonic() < deadline:
                met = len(list(Path(self.directory).glob("arrived-*"))) >= self.together
                time.sleep(0.01)
            return Evaluation(score(arch), {"met": float(met), "gpus": float(len(ray.get_gpu_ids()))})
        elif self.mode == "sleep":
            time.sleep(self.seconds)
            return Evaluation(score(arch), {"start": start, "end": time.time(),
                                            "gpus": float(len(ray.get_gpu_ids()))})
        return Evaluation(score(arch))


def attempts(directory: Path) -> list[tuple[str, int]]:
    lines = (directory / "attempts").read_text().split()
    return [(h, int(p)) for h, p in zip(lines[::2], lines[1::2])]


def victim(directory: Path) -> str:
    return (directory / "victim").read_text()


def run_study(evaluator, executor, budget: int, batch_size: int, *, seed: int = 0,
              store: Path | None = None) -> Study:
    space = get_space(SPACE)
    strategy = RandomSearch()
    study = Study(space, strategy, evaluator, seed=seed, store=None if store is None else StudyStore(
        store, Study.store_header(space, strategy, evaluator, seed), resume=store.exists()))
    study.optimize(budget, batch_size=batch_size, executor=executor)
    if study.store is not None:
        study.store.close()   # releases its lock: the file can be read again
    return study


def summary(study: Study) -> list[tuple]:
    return [(t.number, t.arch.canonical_hash, t.tag, t.evaluation.to_dict()) for t in study.trials]


# ------------------------------------------------------------------------------ tests
def test_same_trials_as_the_serial_executor_and_resumable_across_executors(tmp_path: Path) -> None:
    space = get_space(SPACE)
    archs = list(space.enumerate())
    values = [sum(op == "conv5x5" for op in a.ops) * 10 + a.num_edges for a in archs]
    table = ArchitectureDataset.from_architectures(space, archs, {"score": values,
                                                                  "neg": [-v for v in values]})
    evaluator = TabularEvaluator(table, "score", report=["neg"])

    def study(executor, budget: int, store: StudyStore | None = None) -> Study:
        s = Study(space, RegularizedEvolution(6, 3), evaluator, seed=3, store=store)
        s.optimize(budget, batch_size=4, executor=executor)
        if store is not None:
            store.close()
        return s

    serial = study(SerialExecutor(), 22)
    with RayExecutor(cpus_per_trial=0.5) as executor:
        assert executor.spec()["kind"] == "ray"
        distributed = study(executor, 22)
    assert ray.is_initialized()  # the executor did not start Ray, so it left it running
    assert summary(distributed) == summary(serial)
    assert all(t.seconds >= 0 for t in distributed.trials)

    # half the study serially, the rest with Ray: the store header does not name the executor
    path = tmp_path / "study.jsonl"
    header = Study.store_header(space, RegularizedEvolution(6, 3), evaluator, 3)
    study(SerialExecutor(), 12, StudyStore(path, header))  # three whole batches of 4
    resumed = study(RayExecutor(), 22, StudyStore(path, header, resume=True))
    assert summary(resumed) == summary(serial)


def test_a_killed_worker_is_retried_and_the_trial_recorded_once(tmp_path: Path) -> None:
    evaluator = Scripted(str(tmp_path), "kill-once")
    killed: list[int] = []

    def killer() -> None:
        pid_file = tmp_path / "pid"
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_file.exists():
            pid = int(pid_file.read_text())
            os.kill(pid, signal.SIGKILL)  # the Ray worker, mid-evaluation
            killed.append(pid)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    store = tmp_path / "study.jsonl"
    study = run_study(evaluator, RayExecutor(max_retries=2), budget=6, batch_size=3, store=store)
    thread.join(timeout=5)
    assert killed   # and (below) its trial was retried in a new worker, not waited for

    hash_ = victim(tmp_path)
    tries = [pid for h, pid in attempts(tmp_path) if h == hash_]
    assert len(tries) == 2 and tries[0] == killed[0] != tries[1]  # retried in a new worker

    records = StudyStore(store, Study.store_header(study.space, study.strategy, evaluator, 0),
                         resume=True).records
    hashes = [r["hash"] for r in records]
    assert [r["trial"] for r in records] == list(range(6))
    assert len(set(hashes)) == 6 and hashes.count(hash_) == 1
    assert all(r["failure"] is None for r in records)
    [record] = [r for r in records if r["hash"] == hash_]
    assert record["objective"] == score(study.space.parse(record["arch"]))
    assert summary(study) == summary(run_study(Scripted(str(tmp_path), "plain"),
                                               SerialExecutor(), budget=6, batch_size=3))


def test_a_trial_past_its_timeout_fails_and_the_study_goes_on(tmp_path: Path) -> None:
    study = run_study(Scripted(str(tmp_path), "slow", seconds=40), RayExecutor(timeout_s=1.5),
                      budget=5, batch_size=2)
    assert len(study.trials) == 5
    failed = [t for t in study.trials if t.objective is None]
    assert [t.arch.canonical_hash for t in failed] == [victim(tmp_path)]
    assert failed[0].evaluation.failure == "timed out after 1.5 s"
    assert failed[0].seconds >= 1.5
    assert all(t.objective == score(t.arch) for t in study.trials if t is not failed[0])

    # the clock starts when a trial starts running, not while it waits for the CPUs:
    # each trial takes both CPUs, so the four run one after another for at least 4 x 0.6 s,
    # longer than the 2 s timeout, and none times out
    queued = tmp_path / "queued"
    queued.mkdir()
    study = run_study(Scripted(str(queued), "sleep", seconds=0.6),
                      RayExecutor(cpus_per_trial=2, timeout_s=2.0), budget=4, batch_size=4)
    assert all(t.objective is not None for t in study.trials)
    spans = sorted((t.evaluation.metrics["start"], t.evaluation.metrics["end"]) for t in study.trials)
    assert all(end <= next_start for (_, end), (next_start, _) in pairwise(spans))  # one at a time


def test_errors_and_lost_workers_become_failed_evaluations(tmp_path: Path) -> None:
    study = run_study(Scripted(str(tmp_path), "raise"), RayExecutor(), budget=8, batch_size=4)
    assert len(study.trials) == 8
    for trial in study.trials:
        if trial.arch.canonical_hash[0] in "01234567":
            assert trial.objective is None
            assert trial.evaluation.failure == (f"evaluation raised ValueError: cannot build "
                                                f"{trial.arch.canonical_hash}")
        else:
            assert trial.objective == score(trial.arch) and trial.evaluation.failure is None
    assert len({h for h, _ in attempts(tmp_path)}) == 8  # raised trials were not retried
    assert len(attempts(tmp_path)) == 8

    dying = tmp_path / "dying"
    dying.mkdir()
    study = run_study(Scripted(str(dying), "die"), RayExecutor(max_retries=1), budget=3,
                      batch_size=3)
    [failed] = [t for t in study.trials if t.objective is None]
    assert failed.arch.canonical_hash == victim(dying)
    assert failed.evaluation.failure.startswith("worker lost on all 2 attempts (WorkerCrashedError")
    assert [h for h, _ in attempts(dying)].count(victim(dying)) == 2


def test_fractional_gpus_share_one_gpu_whole_gpus_do_not(tmp_path: Path) -> None:
    def spans(gpus: float, seconds: float, name: str) -> list[tuple[float, float, float]]:
        directory = tmp_path / name
        directory.mkdir()
        study = run_study(Scripted(str(directory), "sleep", seconds=seconds),
                          RayExecutor(gpus_per_trial=gpus, cpus_per_trial=0.5), budget=3, batch_size=3)
        return sorted((t.evaluation.metrics["start"], t.evaluation.metrics["end"],
                       t.evaluation.metrics["gpus"]) for t in study.trials)

    whole = spans(1.0, 0.3, "whole")
    assert all(gpus == 1 for _, _, gpus in whole)
    assert all(end <= next_start for (_, end, _), (next_start, _, _) in pairwise(whole))
    shared = tmp_path / "shared"   # a quarter GPU each: they run at the same time (handshake)
    shared.mkdir()
    study = run_study(Scripted(str(shared), "rendezvous", seconds=120), RayExecutor(
        gpus_per_trial=0.25, cpus_per_trial=0.5), budget=3, batch_size=3)
    assert [t.evaluation.metrics["met"] for t in study.trials] == [1.0] * 3
    assert all(t.evaluation.metrics["gpus"] == 1 for t in study.trials)  # each sees the one GPU


def test_arguments_are_checked() -> None:
    with pytest.raises(GraphVAENASError, match="negative"):
        RayExecutor(gpus_per_trial=-1)
    with pytest.raises(GraphVAENASError, match="timeout_s"):
        RayExecutor(timeout_s=0)
    with pytest.raises(GraphVAENASError, match="address="):
        RayExecutor(init_kwargs={"address": "auto"})
    assert list(RayExecutor().run(Scripted("/nonexistent", "plain"), [])) == []


def test_successive_halving_over_fidelities_gives_the_serial_trials_with_ray() -> None:
    """Promotions and new architectures of one round go to Ray fidelity by fidelity; the
    trials, their fidelities and costs are the serial executor's."""
    from graphvae_nas.search import SuccessiveHalving

    space = get_space(SPACE)
    archs = list(space.enumerate())
    values = [sum(op == "conv5x5" for op in a.ops) * 10 + a.num_edges for a in archs]
    table = ArchitectureDataset.from_architectures(space, archs, {
        "score": values, "low": [v // 3 for v in values]})
    evaluator = TabularEvaluator(table, "score", fidelities={1: "low", 3: "score"})

    def study(executor) -> Study:
        s = Study(space, SuccessiveHalving(RegularizedEvolution(6, 3), [1, 3], eta=3),
                  evaluator, seed=3)
        s.optimize(batch_size=4, budget_cost=60, executor=executor)
        return s

    serial = study(SerialExecutor())
    with RayExecutor(cpus_per_trial=0.5) as executor:
        distributed = study(executor)
    assert any(t.fidelity == 3 for t in serial.trials)
    assert [(n, h, tag, e["fidelity"], e["cost"]) for n, h, tag, e in summary(distributed)] == \
        [(n, h, tag, e["fidelity"], e["cost"]) for n, h, tag, e in summary(serial)]
