"""A GP on latent vectors of architectures (the surrogate of latent-space BO).

The features come from a callable (a VAE's encoder means, cached by the search layer, or a
fixed encoding such as :mod:`graphvae_nas.surrogates.structure`'s), so this module knows
nothing of the VAE. The model is a float64 ``SingleTaskGP`` with BoTorch's
default kernel (or an isotropic one), inputs normalised to a fixed latent box, outcomes
standardised, fitted by :func:`graphvae_nas.surrogates.gp.fit_hyperparameters` (the path the
VAE's predictive check uses). Fitting costs a Cholesky factorisation and its gradient per
optimiser step, cubic in the observations; with ``fit_points`` the hyper-parameters are fitted on
a random subset of that size (drawn from torch's generator, which the search seeds every round)
and the GP then conditions on every observation with them.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch

from graphvae_nas.graph import Architecture
from graphvae_nas.surrogates.base import check_targets
from graphvae_nas.surrogates.gp import fit_hyperparameters, make_gp


KERNELS = {"ard": "botorch", "isotropic": "isotropic", "additive": "additive"}
"""Kernel names of :class:`LatentGP` and the :func:`~graphvae_nas.surrogates.gp.make_gp` kernel
of each: ``ard`` is BoTorch's default (a lengthscale per dimension, with its priors),
``isotropic`` one lengthscale for all, ``additive`` a sum of isotropic kernels over groups of
feature columns (``groups``)."""


class LatentGP:
    """``features(archs) -> [n, d]`` latent vectors; ``bounds [2, d]`` the box they are normalised
    to; ``fit_maxiter`` caps the hyper-parameter fit; ``kernel`` one of :data:`KERNELS`;
    ``fit_points`` (``None``: all) bounds the observations the hyper-parameters are fitted on;
    ``groups``: the column groups of the ``additive`` kernel (needed by it, refused by the
    others). A failed fit keeps the prior hyper-parameters and counts in
    ``counters["gp_fit_failures"]``."""

    def __init__(self, features: Callable[[Sequence[Architecture]], torch.Tensor],
                 bounds: torch.Tensor, *, fit_maxiter: int = 100, kernel: str = "ard",
                 fit_points: int | None = None,
                 groups: Sequence[Sequence[int]] | None = None) -> None:
        if fit_maxiter < 1:
            raise ValueError("fit_maxiter must be >= 1")
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
        if fit_points is not None and fit_points < 2:
            raise ValueError("fit_points must be >= 2 or None")
        if (groups is not None) != (kernel == "additive"):
            raise ValueError("the additive kernel needs column groups, and only it takes them")
        self.groups = None if groups is None else [list(g) for g in groups]
        self._features = features
        self.bounds = bounds
        self.fit_maxiter = fit_maxiter
        self.kernel = kernel
        self.fit_points = fit_points
        self.counters: dict[str, float] = {}

    def spec(self) -> dict[str, Any]:
        return {"name": "latent-gp", "fit_maxiter": self.fit_maxiter, "kernel": self.kernel,
                "fit_points": self.fit_points}

    def featurize(self, archs: Sequence[Architecture]) -> torch.Tensor:
        return self._features(archs)

    def fit(self, archs: Sequence[Architecture], Y: torch.Tensor):
        Y = check_targets(archs, Y)
        with warnings.catch_warnings():
            # The box is that of the VAE's training latents; in a space too large to enumerate
            # (bn) evaluated decodes can lie a little outside it, which BoTorch warns about on
            # every fit. The GP is defined there all the same.
            warnings.filterwarnings("ignore", message=r".*not contained to the unit cube")
            X = self.featurize(archs)
            gp = self._make(X, Y)
            subset = None
            if self.fit_points is not None and len(archs) > self.fit_points:
                subset = torch.randperm(len(archs))[:self.fit_points]
            fitted = gp if subset is None else self._make(X[subset], Y[subset])
            if not fit_hyperparameters(fitted, max_iter=self.fit_maxiter, strict=False):
                self.counters["gp_fit_failures"] = self.counters.get("gp_fit_failures", 0) + 1
            if subset is not None:
                # Every hyper-parameter; the outcome transform's buffers are the data's.
                gp.load_state_dict({k: v for k, v in fitted.state_dict().items()
                                    if not k.startswith("outcome_transform.")}, strict=False)
                gp.eval()
        return gp

    def _make(self, X: torch.Tensor, Y: torch.Tensor):
        return make_gp(X, Y, kernel=KERNELS[self.kernel], input_bounds=self.bounds,
                       standardize=True, inducing_points=None, groups=self.groups)
