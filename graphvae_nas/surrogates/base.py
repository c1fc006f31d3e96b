"""The surrogate seam: fitted on (architectures, objective values), returns a BoTorch model.

A surrogate maps architectures to a feature tensor (``featurize``) and, given the objective
values of evaluated architectures, returns a BoTorch ``Model`` over those features
(``fit``), so every BoTorch acquisition function works on it. Objective values come as an
``n x m`` tensor, one column per objective, each oriented so that larger is better.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch

from graphvae_nas.graph import Architecture


@runtime_checkable
class Surrogate(Protocol):
    """What the search strategies need of a surrogate model."""

    def featurize(self, archs: Sequence[Architecture]) -> torch.Tensor:
        """The model's inputs for ``archs``: a float64 ``[len(archs), d]`` tensor."""
        ...

    def fit(self, archs: Sequence[Architecture], Y: torch.Tensor) -> Any:
        """A BoTorch ``Model`` fitted to ``Y [n, m]`` (larger is better per column) at
        ``featurize(archs)``; its posterior is in the units of ``Y``."""
        ...

    def spec(self) -> dict[str, Any]:
        """Name and settings (stored with the study)."""
        ...


def gaussian_copula(y: torch.Tensor) -> torch.Tensor:
    """Replace each column's values by the normal quantiles of their ranks (ties share their
    mean rank).

    Benchmarks such as NAS-Bench-201 hold a few architectures at chance level far below the
    rest; standardised raw values let those outliers set a surrogate's scale, ranks do not.
    """
    if y.dim() == 2 and y.shape[-1] > 1:
        return torch.stack([gaussian_copula(y[:, j]) for j in range(y.shape[-1])], dim=-1)
    flat = y.reshape(-1)
    order = flat.argsort(stable=True)
    ranks = torch.empty_like(flat)
    ranks[order] = torch.arange(1, len(flat) + 1, dtype=flat.dtype)
    for value in flat.unique():  # mean rank of ties
        tied = flat == value
        ranks[tied] = ranks[tied].mean()
    normal = torch.distributions.Normal(0.0, 1.0)
    return normal.icdf((ranks - 0.5) / len(flat)).reshape(y.shape)


def check_targets(archs: Sequence[Architecture], Y: torch.Tensor) -> torch.Tensor:
    """``Y`` as a float64 ``[n, m]`` tensor matching ``archs``; raises ValueError otherwise."""
    Y = torch.as_tensor(Y, dtype=torch.float64)
    if Y.dim() != 2 or Y.shape[0] != len(archs) or Y.shape[1] < 1:
        raise ValueError(f"Y must be [n, m] with n = {len(archs)} architectures, got {tuple(Y.shape)}")
    if not torch.isfinite(Y).all():
        raise ValueError("Y holds non-finite values")
    return Y
