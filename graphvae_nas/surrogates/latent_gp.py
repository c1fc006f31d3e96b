"""A GP on latent vectors of architectures (the surrogate of latent-space BO).

The features come from a callable (a VAE's encoder means, cached by the search layer, or a
fixed encoding such as :mod:`graphvae_nas.surrogates.structure`'s), so this module knows
nothing of the VAE. The model is a float64 ``SingleTaskGP`` with BoTorch's
default kernel, inputs normalised to a fixed latent box, outcomes standardised, fitted by
:func:`graphvae_nas.surrogates.gp.fit_hyperparameters` (the path the VAE's predictive check uses).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch

from graphvae_nas.graph import Architecture
from graphvae_nas.surrogates.base import check_targets
from graphvae_nas.surrogates.gp import fit_hyperparameters, make_gp


class LatentGP:
    """``features(archs) -> [n, d]`` latent vectors; ``bounds [2, d]`` the box they are normalised
    to; ``fit_maxiter`` caps the hyper-parameter fit. A failed fit keeps the prior
    hyper-parameters and counts in ``counters["gp_fit_failures"]``."""

    def __init__(self, features: Callable[[Sequence[Architecture]], torch.Tensor],
                 bounds: torch.Tensor, *, fit_maxiter: int = 100) -> None:
        if fit_maxiter < 1:
            raise ValueError("fit_maxiter must be >= 1")
        self._features = features
        self.bounds = bounds
        self.fit_maxiter = fit_maxiter
        self.counters: dict[str, float] = {}

    def spec(self) -> dict[str, Any]:
        return {"name": "latent-gp", "fit_maxiter": self.fit_maxiter}

    def featurize(self, archs: Sequence[Architecture]) -> torch.Tensor:
        return self._features(archs)

    def fit(self, archs: Sequence[Architecture], Y: torch.Tensor):
        Y = check_targets(archs, Y)
        with warnings.catch_warnings():
            # The box is that of the VAE's training latents; in a space too large to enumerate
            # (bn) evaluated decodes can lie a little outside it, which BoTorch warns about on
            # every fit. The GP is defined there all the same.
            warnings.filterwarnings("ignore", message=r".*not contained to the unit cube")
            gp = make_gp(self.featurize(archs), Y, kernel="botorch", input_bounds=self.bounds,
                         standardize=True, inducing_points=None)
            if not fit_hyperparameters(gp, max_iter=self.fit_maxiter, strict=False):
                self.counters["gp_fit_failures"] = self.counters.get("gp_fit_failures", 0) + 1
        return gp
