"""Real training as an evaluator: build the architecture's network, train it, score it."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation.base import Evaluation
from graphvae_nas.evaluation.fidelity import checked_fidelities
from graphvae_nas.evaluation.images import ImageData
from graphvae_nas.evaluation.trainer import (
    TrainingConfig,
    TrainingDiverged,
    train_network_until,
)
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import SearchSpace

OBJECTIVES = ("valid_acc", "valid_f1", "train_acc", "valid_loss", "train_loss")
"""Metrics a training evaluation can be searched by (losses are minimised: ``valid_loss:min``)."""


def _is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


class TrainingEvaluator:
    """Scores an architecture by training ``space.to_module(arch)`` on ``data``.

    ``objective`` is the metric the search maximises (validation accuracy by default; the
    test split is only reported). ``network`` holds keyword arguments of ``to_module``
    (e.g. ``{"C": 16, "N": 5}`` for NAS-Bench-201). Divergence and out-of-memory give a failed
    evaluation with the reason; every architecture is trained with the same seed, so a result
    does not depend on the order or the process it was computed in. An evaluation costs its
    wall seconds.

    ``fidelities`` (numbers of epochs) makes it a fidelity-aware evaluator, each evaluation
    costing the epochs it trained. With ``continue_training`` (the default) the learning-rate
    schedule is planned for the most epochs, a lower fidelity stops part way through it and
    saves the training's state in ``state_dir``, and a promotion continues from the saved
    state of the highest lower fidelity (paying only the further epochs; on a CPU the result
    equals one uninterrupted training). Without it each fidelity is its own training with its
    own schedule, and a promotion starts again.
    """

    def __init__(self, space: SearchSpace, data: ImageData, config: TrainingConfig | None = None, *,
                 objective: str = "valid_acc", network: dict[str, Any] | None = None,
                 progress: bool = False, fidelities: Sequence[int] | None = None,
                 continue_training: bool = True, state_dir: str | Path | None = None) -> None:
        if not hasattr(space, "to_module"):
            raise GraphVAENASError(f"space {space.name!r} cannot build networks (no to_module)")
        missing = getattr(space, "missing_network_ops", list)()
        if missing:  # fail before a study evaluates or writes anything
            raise GraphVAENASError(
                f"space {space.name!r} cannot be trained: no network module registered for op(s) "
                f"{missing}; register each with graphvae_nas.networks.register_op(name, factory) "
                "first (command line: --ops-module MODULE, a module that registers them)")
        if objective not in OBJECTIVES:
            raise GraphVAENASError(f"objective {objective!r} is not measured by training "
                                   f"(choose from {', '.join(OBJECTIVES)})")
        self.space = space
        self.data = data
        self.config = config or TrainingConfig()
        self.config.check_data(data)
        self.objective = objective
        self.network = dict(network or {})
        self.progress = progress
        self.fidelities: tuple[float, ...] = ()
        self.continue_training = continue_training
        self.state_dir = None if state_dir is None else Path(state_dir)
        if fidelities is not None:
            self.fidelities = checked_fidelities(fidelities, "fidelities (epochs)")
            if any(f != int(f) for f in self.fidelities):
                raise GraphVAENASError(f"fidelities are numbers of epochs, got {list(self.fidelities)}")
            if continue_training and len(self.fidelities) > 1 and self.state_dir is None:
                raise GraphVAENASError("continuing trainings across fidelities needs a folder for "
                                       "their saved states (state_dir=...)")

    def spec(self) -> dict[str, Any]:
        config = self.config.to_dict()
        config.pop("device")  # where it ran does not change what a result means
        spec = {"kind": "training", "objective": self.objective, "data": self.data.spec(),
                "network": self.network, "config": config}
        if self.fidelities:
            spec.update(fidelities=[int(f) for f in self.fidelities],
                        continue_training=self.continue_training)
            spec["config"].pop("epochs")   # the fidelities say how long each training is
        return spec

    def build(self, arch: Architecture) -> torch.nn.Module:
        """The untrained network of ``arch`` for this data (seeded by the config)."""
        torch.manual_seed(self.config.seed)
        return self.space.to_module(arch, self.data.num_classes, in_channels=self.data.in_channels,
                                    **self.network)

    def evaluate(self, arch: Architecture) -> Evaluation:
        """Train ``arch`` for ``config.epochs`` (with fidelities: for the most epochs)."""
        if self.fidelities:
            return self.evaluate_at(arch, self.fidelities[-1])
        return self._train(arch, self.config, None, None)

    def evaluate_at(self, arch: Architecture, fidelity: float) -> Evaluation:
        """Train ``arch`` for ``fidelity`` epochs (one of ``fidelities``), continuing from the
        saved state of a lower fidelity where there is one (``continue_training``)."""
        if float(fidelity) not in self.fidelities:
            raise GraphVAENASError(f"no fidelity {fidelity:g} (fidelities: "
                                   f"{', '.join(f'{f:g}' for f in self.fidelities) or 'none'})")
        epochs = int(fidelity)
        if not self.continue_training:
            return self._train(arch, replace(self.config, epochs=epochs), None, None)
        config = replace(self.config, epochs=int(self.fidelities[-1]))
        state = None
        for lower in reversed([int(f) for f in self.fidelities if f < epochs]):
            state = self._load_state(arch, lower)
            if state is not None:
                break
        return self._train(arch, config, epochs, state)

    def _state_path(self, arch: Architecture, epochs: int) -> Path:
        assert self.state_dir is not None
        return self.state_dir / f"{arch.canonical_hash}-{epochs}.pt"

    def _load_state(self, arch: Architecture, epochs: int) -> dict[str, Any] | None:
        path = self._state_path(arch, epochs)
        if not path.is_file():
            return None
        # tensors and plain values only: a state file from elsewhere cannot run code
        return torch.load(path, map_location="cpu", weights_only=True)

    def _save_state(self, arch: Architecture, epochs: int, state: dict[str, Any]) -> None:
        path = self._state_path(arch, epochs)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        torch.save(state, partial)
        os.replace(partial, path)   # whole or absent, never half written

    def _train(self, arch: Architecture, config: TrainingConfig, until: int | None,
               state: dict[str, Any] | None) -> Evaluation:
        try:
            record, final = train_network_until(self.build(arch), self.data, config, until=until,
                                                state=state, progress=self.progress)
        except TrainingDiverged as exc:
            return Evaluation(None, failure=f"diverged: {exc}")
        except (torch.cuda.OutOfMemoryError, RuntimeError) as exc:
            if not _is_out_of_memory(exc):
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            return Evaluation(None, failure=f"out of memory: {str(exc).splitlines()[0]}")
        device = record.pop("device")
        metrics = {k: float(v) for k, v in record.items()}
        if not self.fidelities:
            return Evaluation(metrics=metrics, cost=metrics["seconds"], info={"device": device},
                              values={self.objective: metrics[self.objective]})
        reached = int(record["epochs"])
        if self.continue_training and reached < self.fidelities[-1]:
            self._save_state(arch, reached, final)
        trained = reached - (0 if state is None else int(state["epoch"]))
        return Evaluation(metrics=metrics, cost=float(trained), info={"device": device},
                          values={self.objective: metrics[self.objective]},
                          fidelity=float(reached))
