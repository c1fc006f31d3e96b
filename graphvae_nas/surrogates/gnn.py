"""An ensemble of graph neural predictors (GIN layers from PyG) as a BoTorch model.

As in BANANAS and naszilla's predictors, several small networks trained from different random
initialisations predict an architecture's objective; their mean and variance form a Gaussian
posterior (diagonal covariance), so any BoTorch acquisition function scores candidates with it.

Architectures enter the model as fixed-size tensors (:class:`DenseGraphEncoding`: a padded
adjacency matrix and padded one-hot node labels), which the model turns back into a batch of
graphs for the GIN layers. The surrogate scores finite candidate sets (a continuous optimiser
over these tensors would be meaningless).
"""
from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from graphvae_nas.graph import Architecture
from graphvae_nas.graph.convert import op_index_map, op_indices
from graphvae_nas.surrogates.base import check_targets

VARIANCE_FLOOR = 1e-6
"""Smallest predictive variance (in standardised units), so that acquisitions stay finite."""


class DenseGraphEncoding:
    """Architectures of at most ``max_nodes`` nodes over ``vocabulary`` as float64 rows:
    the flattened ``max_nodes x max_nodes`` adjacency, then the flattened
    ``max_nodes x len(vocabulary)`` one-hot labels (zero rows pad smaller graphs)."""

    def __init__(self, vocabulary: Sequence[str], max_nodes: int) -> None:
        if max_nodes < 2:
            raise ValueError("max_nodes must be >= 2")
        self.vocabulary = tuple(vocabulary)
        self.max_nodes = max_nodes
        self._index = op_index_map(self.vocabulary)

    @property
    def dim(self) -> int:
        return self.max_nodes * (self.max_nodes + len(self.vocabulary))

    def encode(self, archs: Sequence[Architecture]) -> torch.Tensor:
        m, v = self.max_nodes, len(self.vocabulary)
        edge_rows: list[int] = []
        edge_cells: list[int] = []
        label_rows: list[int] = []
        label_cells: list[int] = []
        for row, arch in enumerate(archs):
            if arch.num_nodes > m:
                raise ValueError(f"architecture of {arch.num_nodes} nodes exceeds max_nodes={m}")
            edge_rows += [row] * arch.num_edges
            edge_cells += [s * m + d for s, d in arch.edges]
            label_rows += [row] * arch.num_nodes
            label_cells += [m * m + i * v + k for i, k in enumerate(op_indices(arch, self._index))]
        out = torch.zeros(len(archs), self.dim, dtype=torch.float64)
        out[edge_rows + label_rows, edge_cells + label_cells] = 1.0
        return out

    def dense(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Rows of ``x [N, dim]`` as dense graph batches: node labels ``[N, max_nodes, V]``,
        adjacency made symmetric (messages flow both ways) ``[N, max_nodes, max_nodes]`` and
        the mask of real nodes ``[N, max_nodes]``."""
        m, v = self.max_nodes, len(self.vocabulary)
        adjacency = x[:, :m * m].reshape(-1, m, m).float()
        labels = x[:, m * m:].reshape(-1, m, v).float()
        return labels, adjacency + adjacency.transpose(1, 2), labels.sum(-1) > 0.5


class GINRegressor(nn.Module):
    """``layers`` GIN convolutions (PyG's ``DenseGINConv``: small graphs as dense batches), a
    masked sum readout and a two-layer head: one scalar per graph and output."""

    def __init__(self, in_size: int, hidden: int, layers: int, outputs: int = 1) -> None:
        super().__init__()
        from torch_geometric.nn import DenseGINConv

        sizes = [in_size] + [hidden] * layers
        self.convs = nn.ModuleList(
            DenseGINConv(nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, b)), train_eps=True)
            for a, b in zip(sizes, sizes[1:]))
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, outputs))

    def forward(self, labels: torch.Tensor, adjacency: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = labels
        for conv in self.convs:
            h = torch.relu(conv(h, adjacency, mask))
        return self.head((h * mask.unsqueeze(-1)).sum(1))


class StackedEnsemble:
    """``count`` :class:`GINRegressor` s with their parameters stacked along a first dimension
    and run together with ``torch.func.vmap`` (one training step trains every member)."""

    def __init__(self, make: Callable[[], nn.Module], count: int) -> None:
        from torch.func import stack_module_state

        members = [make() for _ in range(count)]
        self.params, self.buffers = stack_module_state(members)
        self._base = copy.deepcopy(members[0]).to("meta")

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        """``[count, N, outputs]`` for shared inputs."""
        from torch.func import functional_call, vmap

        def one(params, buffers, *args):
            return functional_call(self._base, (params, buffers), args)

        return vmap(one, in_dims=(0, 0) + (None,) * len(inputs))(self.params, self.buffers, *inputs)


def distinct_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct rows of ``x [N, d]`` and, for each row, the index of its copy among them.
    0/1 rows (graph encodings) are compared as packed bits, much faster than
    ``torch.unique(dim=0)``; other rows fall back to it."""
    if len(x) and bool(((x == 0) | (x == 1)).all()):
        packed = np.packbits(x.detach().cpu().numpy() > 0.5, axis=1)
        keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return (x[torch.from_numpy(first).to(x.device)],
                torch.from_numpy(inverse.reshape(-1)).to(x.device))
    return torch.unique(x, dim=0, return_inverse=True)


@functools.cache
def _ensemble_model_class():
    """The BoTorch model class, built on first use (BoTorch is an optional dependency)."""
    from botorch.models.model import Model
    from botorch.posteriors.gpytorch import GPyTorchPosterior
    from gpytorch.distributions import MultitaskMultivariateNormal, MultivariateNormal
    from linear_operator.operators import DiagLinearOperator

    class _EnsembleModel(Model):
        """A BoTorch model whose posterior at ``X [..., q, d]`` is Gaussian with the ensemble's
        mean and variance (independent across points and outputs)."""

        def __init__(self, encoding: DenseGraphEncoding, ensemble: StackedEnsemble,
                     y_mean: torch.Tensor, y_std: torch.Tensor) -> None:
            super().__init__()
            self.encoding = encoding
            self.ensemble = ensemble
            self.register_buffer("y_mean", y_mean)
            self.register_buffer("y_std", y_std)

        @property
        def num_outputs(self) -> int:
            return int(self.y_mean.shape[-1])

        @torch.no_grad()
        def predict(self, x: torch.Tensor) -> torch.Tensor:
            """Member predictions ``[members, N, m]`` in the units of the training targets.
            Each distinct row is run once: a batch acquisition asks for the observations again
            in every t-batch (qLogNEI's baseline), which made most of BANANAS' round time."""
            rows, inverse = distinct_rows(x)
            out = self.ensemble(*self.encoding.dense(rows))[:, inverse]
            return out.double() * self.y_std + self.y_mean

        def posterior(self, X: torch.Tensor, output_indices=None, observation_noise=False,
                      posterior_transform=None, **kwargs):
            shape = X.shape[:-1]
            preds = self.predict(X.reshape(-1, X.shape[-1]))
            mean = preds.mean(0)
            var = preds.var(0) if preds.shape[0] > 1 else torch.zeros_like(mean)
            var = var.clamp_min(VARIANCE_FLOOR * self.y_std ** 2)
            mvns = [MultivariateNormal(mean[:, j].reshape(shape),
                                       DiagLinearOperator(var[:, j].reshape(shape)))
                    for j in range(mean.shape[-1])]
            dist = mvns[0] if len(mvns) == 1 else \
                MultitaskMultivariateNormal.from_independent_mvns(mvns)
            posterior = GPyTorchPosterior(dist)
            return posterior_transform(posterior) if posterior_transform is not None else posterior

    return _EnsembleModel


class GNNEnsemble:
    """The surrogate: ``members`` GIN regressors (``layers`` x ``hidden``) trained full-batch
    with Adam (``epochs``, ``lr``) on standardised targets, each from its own initialisation.
    Deterministic given the torch random state (the strategies seed it every round)."""

    def __init__(self, vocabulary: Sequence[str], max_nodes: int, *, members: int = 5,
                 hidden: int = 32, layers: int = 2, epochs: int = 60, lr: float = 0.02,
                 weight_decay: float = 1e-4) -> None:
        if members < 1 or hidden < 1 or layers < 1 or epochs < 1 or lr <= 0 or weight_decay < 0:
            raise ValueError("members, hidden, layers and epochs must be >= 1, lr > 0, "
                             "weight_decay >= 0")
        self.encoding = DenseGraphEncoding(vocabulary, max_nodes)
        self.members = members
        self.hidden = hidden
        self.layers = layers
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self._cache: dict[str, torch.Tensor] = {}

    def spec(self) -> dict[str, Any]:
        return {"name": "gnn-ensemble", "members": self.members, "hidden": self.hidden,
                "layers": self.layers, "epochs": self.epochs, "lr": self.lr,
                "weight_decay": self.weight_decay}

    def featurize(self, archs: Sequence[Architecture]) -> torch.Tensor:
        missing = [a for a in {a.canonical_hash: a for a in archs}.values()
                   if a.canonical_hash not in self._cache]
        if missing:
            for arch, row in zip(missing, self.encoding.encode(missing).bool()):
                self._cache[arch.canonical_hash] = row  # 0/1 entries: kept as bool, 8x smaller
        if not archs:
            return torch.zeros(0, self.encoding.dim, dtype=torch.float64)
        return torch.stack([self._cache[a.canonical_hash] for a in archs]).double()

    def fit(self, archs: Sequence[Architecture], Y: torch.Tensor):
        Y = check_targets(archs, Y)
        x = self.featurize(archs)
        mean = Y.mean(0)
        std = Y.std(0) if len(Y) > 1 else torch.ones_like(mean)
        std = torch.where(std > 0, std, torch.ones_like(std))
        target = ((Y - mean) / std).float()
        graphs = self.encoding.dense(x)
        ensemble = StackedEnsemble(lambda: GINRegressor(len(self.encoding.vocabulary), self.hidden,
                                                        self.layers, Y.shape[1]), self.members)
        weights = list(ensemble.params.values())
        optimiser = torch.optim.Adam(weights, lr=self.lr, weight_decay=self.weight_decay)
        for _ in range(self.epochs):
            optimiser.zero_grad()
            # the sum of the members' losses: each member gets its own gradient
            loss = ((ensemble(*graphs) - target) ** 2).mean((1, 2)).sum()
            loss.backward()
            optimiser.step()
        for weight in weights:
            weight.requires_grad_(False)
        return _ensemble_model_class()(self.encoding, ensemble, mean, std)
