"""Greedy batches by the kriging believer: the batch rule of the grammar VAE's and D-VAE's latent
BO (``batched_greedy_ei`` of their sparse GP).

The batch is built one point at a time. Each point maximises analytic LogEI, first over a uniform
random grid in a box and then polished by L-BFGS-B from the best grid points. The chosen point
is then added to the GP as an observation at its own posterior mean: that leaves the mean where
it was and shrinks the variance around the point, so the next point's expected improvement
there is lower and the batch spreads out. One joint posterior per grid (the marginals only) and
one cache update per point keep this cheap for a sparse GP on thousands of observations, where
BoTorch's joint MC batch acquisitions are not.
"""
from __future__ import annotations

import torch

from graphvae_nas.surrogates.gp import is_sparse, sparse_algebra


def believer_batch(model, bounds: torch.Tensor, q: int, *, generator: torch.Generator,
                   grid_size: int = 10_000, polish_starts: int = 4,
                   polish_maxiter: int = 50) -> torch.Tensor:
    """``q`` points ``[q, d]`` in ``bounds [2, d]`` chosen greedily by LogEI under the kriging
    believer (module docstring). ``model``: a fitted single-output BoTorch GP (exact or sparse)
    without an input transform, whose training data are changed while the batch is built and
    restored before returning. One grid serves the whole batch; the incumbent is the best
    posterior mean over the observed inputs and the grid, as in the grammar VAE's code.
    ``polish_starts=0`` takes the grid's best point as it is."""
    from botorch.acquisition.analytic import LogExpectedImprovement
    from botorch.optim import optimize_acqf

    from graphvae_nas.search.acquisition import marginal_model

    if getattr(model, "input_transform", None) is not None:
        raise ValueError("believer_batch needs a GP without an input transform (its believed "
                         "points are written to the training inputs)")
    if q < 1 or grid_size < 1:
        raise ValueError(f"q and grid_size must be >= 1, got {q} and {grid_size}")
    bounds = bounds.to(torch.float64)
    inputs, targets = model.train_inputs[0], model.train_targets
    if targets.dim() != 1:
        raise ValueError("believer_batch needs a single-output GP")
    chosen: list[torch.Tensor] = []
    # a sparse GP's marginals cost little per point but much per call: one call for the grid
    chunk = grid_size if is_sparse(model) else 1024
    try:
        with sparse_algebra(model):
            grid = _uniform(bounds, grid_size, generator)
            marginals = marginal_model(model, chunk)
            with torch.no_grad():
                incumbent = max(marginals.posterior(inputs.unsqueeze(-2)).mean.max(),
                                marginals.posterior(grid.unsqueeze(-2)).mean.max())
            for _ in range(q):
                acquisition = LogExpectedImprovement(marginals, best_f=incumbent)
                with torch.no_grad():
                    values = acquisition(grid.unsqueeze(-2))
                best = grid[values.argmax()].unsqueeze(0)
                if polish_starts:
                    starts = grid[values.topk(min(polish_starts, grid_size)).indices]
                    best, _ = optimize_acqf(LogExpectedImprovement(model, best_f=incumbent),
                                            bounds=bounds, q=1, num_restarts=len(starts),
                                            batch_initial_conditions=starts.unsqueeze(-2),
                                            options={"maxiter": polish_maxiter})
                    best = best.reshape(1, -1).detach()
                chosen.append(best)
                believed = _believed_target(model, best)
                model.set_train_data(torch.cat([model.train_inputs[0], best]),
                                     torch.cat([model.train_targets, believed]), strict=False)
    finally:
        model.set_train_data(inputs, targets, strict=False)
    return torch.cat(chosen)


def _believed_target(model, point: torch.Tensor) -> torch.Tensor:
    """The posterior mean at ``point [1, d]`` in the units of ``model.train_targets`` (through
    the outcome transform, e.g. BoTorch's default ``Standardize``, when there is one)."""
    with torch.no_grad():
        mean = model.posterior(point).mean.reshape(1, 1)
        transform = getattr(model, "outcome_transform", None)
        if transform is not None:
            mean, _ = transform(mean)
    return mean.reshape(1)


def _uniform(bounds: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    unit = torch.rand((size, bounds.shape[-1]), generator=generator, dtype=torch.float64)
    return bounds[0] + unit * (bounds[1] - bounds[0])
