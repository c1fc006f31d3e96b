"""Gaussian-process surrogates from latent vectors to scores (BoTorch / GPyTorch).

Small training sets get an exact ``SingleTaskGP``; large ones (e.g. 17k ENAS latents) a sparse
GP with inducing points (SGPR: gpytorch's ``InducingPointKernel`` inside the same model), whose
cost grows as N * M^2 instead of N^3.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

DEFAULT_INDUCING = 500
GP_KERNELS = ("scaled_rbf", "botorch", "isotropic", "additive")


def make_gp(train_x: torch.Tensor | np.ndarray, train_y: torch.Tensor | np.ndarray, *,
            kernel: str = "scaled_rbf", input_bounds: torch.Tensor | None = None,
            standardize: bool = False, inducing_points: int | None = DEFAULT_INDUCING,
            seed: int = 0, groups: Sequence[Sequence[int]] | None = None):
    """An unfitted float64 ``SingleTaskGP`` on ``train_x [N, d]`` and ``train_y [N]`` or ``[N, m]``.

    ``kernel``: ``"scaled_rbf"`` (a scaled ARD RBF kernel, the predictive check's),
    ``"botorch"`` (BoTorch's default kernel and priors, the latent-BO surrogate's) or
    ``"isotropic"`` (a scaled RBF kernel with one lengthscale: on 0/1 features such as a
    structure's arcs, a function of the Hamming distance) or ``"additive"`` (a sum over the
    column ``groups`` of scaled RBF kernels, each with one lengthscale, on its group's columns
    only: a function that is a sum of one term per group, as a Bayesian network's BIC is a sum
    of one term per variable's family).
    ``input_bounds [2, d]``: inputs normalised to that box; ``standardize``: outcomes
    standardised (the posterior stays in the units of ``train_y``). When
    ``N > inducing_points`` the kernel is sparse, with inducing points initialised at a seeded
    random subset of the inputs and then optimised with the hyper-parameters.
    """
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from gpytorch.kernels import InducingPointKernel, RBFKernel, ScaleKernel
    from gpytorch.likelihoods import GaussianLikelihood

    if kernel not in GP_KERNELS:
        raise ValueError(f"kernel must be one of {GP_KERNELS}, got {kernel!r}")
    x = torch.as_tensor(train_x, dtype=torch.float64)
    y = torch.as_tensor(train_y, dtype=torch.float64)
    y = y.reshape(-1, 1) if y.dim() < 2 else y
    if x.dim() != 2 or x.shape[0] != y.shape[0] or x.shape[0] < 2:
        raise ValueError(f"need train_x [N, d] and train_y [N] with N >= 2, got {tuple(x.shape)}, {tuple(y.shape)}")
    extra = {}
    if input_bounds is not None:
        extra["input_transform"] = Normalize(x.shape[-1], bounds=input_bounds)
    if standardize:
        extra["outcome_transform"] = Standardize(y.shape[-1])
    if (groups is not None) != (kernel == "additive"):
        raise ValueError("groups go with kernel='additive', and only with it")
    if kernel in ("botorch", "isotropic", "additive"):
        if inducing_points is not None and x.shape[0] > inducing_points:
            raise ValueError("the sparse GP needs kernel='scaled_rbf'")
        if kernel == "isotropic":
            extra["covar_module"] = ScaleKernel(RBFKernel())
        if kernel == "additive":
            extra["covar_module"] = additive_kernel(groups, x.shape[-1])
        return SingleTaskGP(x, y, **extra)
    base = ScaleKernel(RBFKernel(ard_num_dims=x.shape[1]))
    if inducing_points is not None and x.shape[0] > inducing_points:
        generator = torch.Generator().manual_seed(seed)
        start = x[torch.randperm(x.shape[0], generator=generator)[:inducing_points]].clone()
        likelihood = GaussianLikelihood()
        covar = InducingPointKernel(base, inducing_points=start, likelihood=likelihood)
        return SingleTaskGP(x, y, likelihood=likelihood, covar_module=covar, **extra)
    return SingleTaskGP(x, y, covar_module=base, **extra)


def additive_kernel(groups: Sequence[Sequence[int]], dim: int):
    """The sum over ``groups`` (lists of column indices below ``dim``) of a scaled RBF kernel
    with one lengthscale on that group's columns."""
    from gpytorch.kernels import AdditiveKernel, RBFKernel, ScaleKernel

    if not groups or any(not g for g in groups):
        raise ValueError("an additive kernel needs at least one group, each of columns")
    if any(not 0 <= c < dim for g in groups for c in g):
        raise ValueError(f"an additive kernel's groups must index the {dim} feature columns")
    return AdditiveKernel(*[ScaleKernel(RBFKernel(active_dims=torch.tensor(list(g))))
                            for g in groups])


def fit_hyperparameters(model, *, max_iter: int = 200, strict: bool = True,
                        callback: Callable[..., None] | None = None) -> bool:
    """Maximise the exact marginal likelihood of ``model`` (L-BFGS, at most ``max_iter``
    iterations) and leave it in eval mode. With ``strict=False`` a failed fit (numerical
    trouble) keeps the prior hyper-parameters and returns ``False`` instead of raising."""
    from botorch.exceptions.errors import ModelFittingError
    from botorch.fit import fit_gpytorch_mll
    from gpytorch.mlls import ExactMarginalLogLikelihood

    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    optimizer_kwargs: dict = {"options": {"maxiter": max_iter}}
    if callback is not None:
        optimizer_kwargs["callback"] = callback
    try:
        with sparse_algebra(model):
            fit_gpytorch_mll(mll, optimizer_kwargs=optimizer_kwargs)
    except (RuntimeError, ValueError, ModelFittingError):
        # BoTorch rolls the hyper-parameters back when every attempt fails
        if strict:
            raise
        model.eval()
        return False
    model.eval()
    return True


def clamp_to_bounds(model) -> None:
    """Clamp every raw parameter of ``model`` whose constraint is not enforced by a transform
    (BoTorch's likelihood noise: ``GreaterThan(..., transform=None)``, kept in bounds by
    L-BFGS-B during a fit) back into its bounds, in place. Needed after a plain gradient step
    (e.g. Adam in a joint fine-tuning), which can push such a parameter out of its bounds:
    below zero the noise prior fails and the GP is invalid."""
    with torch.no_grad():
        for _, parameter, constraint in model.named_parameters_and_constraints():
            if constraint is not None and not constraint.enforced:
                parameter.clamp_(constraint.lower_bound.to(parameter),
                                 constraint.upper_bound.to(parameter))


def fit_gp(train_x: torch.Tensor | np.ndarray, train_y: torch.Tensor | np.ndarray, *,
           inducing_points: int | None = DEFAULT_INDUCING, seed: int = 0, max_iter: int = 200,
           kernel: str = "scaled_rbf", input_bounds: torch.Tensor | None = None,
           standardize: bool = False, callback: Callable[..., None] | None = None):
    """Fit a GP (float64) to ``train_x [N, d]`` and ``train_y [N]`` and return the BoTorch model:
    :func:`make_gp` then :func:`fit_hyperparameters` (the one GP-fitting path of the library).
    ``callback`` is called after every optimiser step (e.g. to advance a progress bar)."""
    model = make_gp(train_x, train_y, kernel=kernel, input_bounds=input_bounds,
                    standardize=standardize, inducing_points=inducing_points, seed=seed)
    fit_hyperparameters(model, max_iter=max_iter, callback=callback)
    return model


def is_sparse(model) -> bool:
    """Whether ``model`` is a sparse GP (an ``InducingPointKernel``, see :func:`make_gp`)."""
    from gpytorch.kernels import InducingPointKernel

    return isinstance(getattr(model, "covar_module", None), InducingPointKernel)


def sparse_algebra(model):
    """The context to fit or query ``model`` in: a sparse model needs gpytorch's structured
    (Woodbury) algebra, which BoTorch turns off by default; without it every step factorises
    the dense N x N covariance. A no-op for exact GPs."""
    import contextlib

    from gpytorch.settings import fast_computations

    if is_sparse(model):
        return fast_computations(covar_root_decomposition=True, log_prob=True, solves=True)
    return contextlib.nullcontext()


def predict_mean(model, x: torch.Tensor | np.ndarray, batch: int = 4096) -> np.ndarray:
    """Posterior mean at ``x`` (in the units of the training targets)."""
    x = torch.as_tensor(x, dtype=torch.float64)
    out = []
    with torch.no_grad(), sparse_algebra(model):
        for first in range(0, x.shape[0], batch):
            out.append(model.posterior(x[first:first + batch]).mean.reshape(-1))
    return torch.cat(out).numpy()


@dataclass(frozen=True)
class PredictiveScore:
    rmse: float
    pearson: float


def predictive_performance(train_x, train_y, test_x, test_y, *,
                           inducing_points: int | None = DEFAULT_INDUCING, seed: int = 0,
                           callback: Callable[..., None] | None = None) -> PredictiveScore:
    """D-VAE's latent-space check: targets standardised with the training mean and std, a GP
    fitted on the training latents, RMSE and Pearson r of its mean on the test latents."""
    train_y = np.asarray(train_y, dtype=np.float64)
    test_y = np.asarray(test_y, dtype=np.float64)
    mean, std = train_y.mean(), train_y.std()
    if std == 0:
        raise ValueError("training targets are constant")
    model = fit_gp(train_x, (train_y - mean) / std, inducing_points=inducing_points, seed=seed,
                   callback=callback)
    predicted = predict_mean(model, test_x)
    truth = (test_y - mean) / std
    rmse = float(np.sqrt(np.mean((predicted - truth) ** 2)))
    pearson = float(np.corrcoef(predicted, truth)[0, 1])
    return PredictiveScore(rmse, pearson)
