"""Real training as an evaluator: build the architecture's network, train it, score it."""
from __future__ import annotations

from typing import Any

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation.base import Evaluation
from graphvae_nas.evaluation.images import ImageData
from graphvae_nas.evaluation.trainer import (
    TrainingConfig,
    TrainingDiverged,
    train_network,
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
    does not depend on the order or the process it was computed in.
    """

    def __init__(self, space: SearchSpace, data: ImageData, config: TrainingConfig | None = None, *,
                 objective: str = "valid_acc", network: dict[str, Any] | None = None,
                 progress: bool = False) -> None:
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

    def spec(self) -> dict[str, Any]:
        config = self.config.to_dict()
        config.pop("device")  # where it ran does not change what a result means
        return {"kind": "training", "objective": self.objective, "data": self.data.spec(),
                "network": self.network, "config": config}

    def build(self, arch: Architecture) -> torch.nn.Module:
        """The untrained network of ``arch`` for this data (seeded by the config)."""
        torch.manual_seed(self.config.seed)
        return self.space.to_module(arch, self.data.num_classes, in_channels=self.data.in_channels,
                                    **self.network)

    def evaluate(self, arch: Architecture) -> Evaluation:
        try:
            record = train_network(self.build(arch), self.data, self.config, progress=self.progress)
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
        return Evaluation(metrics=metrics, cost=metrics["seconds"], info={"device": device},
                          values={self.objective: metrics[self.objective]})
