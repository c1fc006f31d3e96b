"""The kriging-believer batch rule (D-VAE's and the grammar VAE's batched greedy EI)."""
from __future__ import annotations

import pytest
import torch

from graphvae_nas.experiments.believer import believer_batch
from graphvae_nas.surrogates.gp import fit_gp, make_gp

BOUNDS = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)


def _data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand((n, 2), generator=generator, dtype=torch.float64)
    y = -((x - torch.tensor([0.7, 0.2], dtype=torch.float64)) ** 2).sum(-1) * 4
    return x, y + 0.01 * torch.randn(n, generator=generator, dtype=torch.float64)


def _pinned(n: int):
    """A GP on ``n`` points with pinned hyper-parameters (lengthscale 0.15 in the unit square,
    noise 1e-4): most of the box is uncertain, and a believed observation clearly shrinks the
    variance around it (with noise above the posterior variance it hardly would, and the
    believer, like D-VAE's rule, may then repeat a point)."""
    x, y = _data(n)
    model = make_gp(x, y, inducing_points=None)
    model.covar_module.base_kernel.lengthscale = 0.15
    model.covar_module.outputscale = 1.0
    model.likelihood.noise = 1e-4
    return model.eval(), x


def _pairwise_min(points: torch.Tensor) -> float:
    distances = torch.cdist(points, points) + torch.eye(len(points), dtype=points.dtype) * 1e9
    return float(distances.min())


def test_batch_lies_in_the_box_is_distinct_and_restores_the_training_data() -> None:
    model, _ = _pinned(8)
    inputs, targets = model.train_inputs[0].clone(), model.train_targets.clone()
    points = believer_batch(model, BOUNDS, 5, generator=torch.Generator().manual_seed(1),
                            grid_size=2000)
    assert points.shape == (5, 2)
    assert bool(((points >= 0) & (points <= 1)).all())
    assert torch.equal(model.train_inputs[0], inputs) and torch.equal(model.train_targets, targets)
    again = believer_batch(model, BOUNDS, 5, generator=torch.Generator().manual_seed(1),
                           grid_size=2000)
    assert torch.allclose(points, again)
    # on the grid alone, a believed point's expected improvement drops to about zero, so each
    # step takes another grid point (without the believer every step would take the same one)
    grid_only = believer_batch(model, BOUNDS, 5, generator=torch.Generator().manual_seed(1),
                               grid_size=2000, polish_starts=0)
    assert _pairwise_min(grid_only) > 1e-3


def test_first_point_is_the_grids_best_by_log_ei_without_polish() -> None:
    from botorch.acquisition.analytic import LogExpectedImprovement

    model, x = _pinned(8)
    points = believer_batch(model, BOUNDS, 2, generator=torch.Generator().manual_seed(3),
                            grid_size=500, polish_starts=0)
    grid = BOUNDS[0] + torch.rand((500, 2), generator=torch.Generator().manual_seed(3),
                                  dtype=torch.float64)
    with torch.no_grad():
        incumbent = torch.cat([model.posterior(x).mean.reshape(-1),
                               model.posterior(grid).mean.reshape(-1)]).max()
        values = LogExpectedImprovement(model, best_f=incumbent)(grid.unsqueeze(-2))
    assert torch.allclose(points[0], grid[values.argmax()])
    assert not torch.allclose(points[1], points[0])


def test_sparse_gp_batches() -> None:
    x, y = _data(300)
    model = fit_gp(x, y, inducing_points=40, max_iter=20)
    points = believer_batch(model, BOUNDS, 4, generator=torch.Generator().manual_seed(0),
                            grid_size=1000, polish_maxiter=10)
    assert points.shape == (4, 2) and _pairwise_min(points) > 1e-6
    assert model.train_inputs[0].shape[0] == 300


def test_believed_points_keep_the_posterior_mean() -> None:
    """Adding a point at its own posterior mean (through BoTorch's default outcome transform)
    leaves the mean unchanged: the believer only shrinks the variance."""
    from graphvae_nas.experiments.believer import _believed_target

    x, y = _data(25)
    model = fit_gp(x, y, inducing_points=None, max_iter=50)
    probe = torch.rand((50, 2), generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    with torch.no_grad():
        before = model.posterior(probe)
        point = torch.tensor([[0.4, 0.9]], dtype=torch.float64)
        model.set_train_data(torch.cat([x, point]),
                             torch.cat([model.train_targets, _believed_target(model, point)]),
                             strict=False)
        after = model.posterior(probe)
    assert torch.allclose(before.mean, after.mean, atol=1e-6)
    assert bool((after.variance <= before.variance + 1e-9).all())
    assert float((before.variance - after.variance).max()) > 1e-4


def test_refuses_input_transforms_and_empty_batches() -> None:
    x, y = _data(10)
    with pytest.raises(ValueError, match="input transform"):
        believer_batch(make_gp(x, y, inducing_points=None, input_bounds=BOUNDS), BOUNDS, 2,
                       generator=torch.Generator())
    with pytest.raises(ValueError, match="q and grid_size"):
        believer_batch(make_gp(x, y, inducing_points=None), BOUNDS, 0, generator=torch.Generator())
