"""Fine-tuning a VAE together with a GP on the evaluated architectures (LOL-BO's end-to-end
update, Maus et al., NeurIPS 2022).

The loss of each minibatch is the VAE's negative ELBO per graph plus ``weight`` x the exact
GP's negative marginal log-likelihood of the objective values at the encoder's means; the
gradient of the second term moves the encoder (and the GP's hyper-parameters), so that latent
distance follows the objective among the evaluated architectures while the first keeps the
decoder reconstructing them.
"""
from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence

import torch

from graphvae_nas.graph import Architecture
from graphvae_nas.search.configs import JointConfig
from graphvae_nas.surrogates.base import gaussian_copula
from graphvae_nas.surrogates.gp import clamp_to_bounds, fit_hyperparameters, make_gp
from graphvae_nas.surrogates.latent_gp import KERNELS


def fine_tune_jointly(model, archs: Sequence[Architecture], Y: torch.Tensor,
                      bounds: torch.Tensor, joint: JointConfig, *, kernel: str = "ard",
                      seed: int = 0):
    """A copy of ``model`` fine-tuned on ``archs`` with objective values ``Y [n, m]`` (larger
    is better; replaced by the normal scores of their ranks) for ``joint.epochs`` epochs;
    ``bounds [2, d]`` normalise the GP's inputs, ``kernel`` is a
    :data:`~graphvae_nas.surrogates.latent_gp.KERNELS` name. ``model`` is not changed; the
    copy is returned in eval mode. Seeded by ``seed`` alone."""
    from gpytorch.mlls import ExactMarginalLogLikelihood

    tuned = copy.deepcopy(model)
    targets = gaussian_copula(Y.to(torch.float64))
    m = targets.shape[-1]
    graphs = tuned.batch(archs)
    generator = torch.Generator().manual_seed(seed)
    noise = torch.Generator(device=tuned.device).manual_seed(seed + 1)
    with torch.no_grad():
        start = tuned.encode(graphs)[0].double().cpu()
    with warnings.catch_warnings():
        # fine-tuned latents may leave the pretrained box (see LatentGP.fit)
        warnings.filterwarnings("ignore", message=r".*not contained to the unit cube")
        gp = make_gp(start, targets, kernel=KERNELS[kernel], input_bounds=bounds,
                     inducing_points=None)
        fit_hyperparameters(gp, max_iter=50, strict=False)
    mll = ExactMarginalLogLikelihood(gp.likelihood, gp)
    optimizer = torch.optim.Adam(list(tuned.parameters()) + list(gp.parameters()), lr=joint.lr)
    tuned.train()
    gp.train()
    n = len(archs)
    for _ in range(joint.epochs):
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, joint.batch_size):
            rows = order[first:first + joint.batch_size]
            if len(rows) < 2:
                continue
            parts = tuned.loss(graphs[rows.to(tuned.device)], noise)
            mu = parts.mu.double().cpu()
            y = targets[rows]
            inputs = mu if m == 1 else mu.unsqueeze(0).expand(m, -1, -1)
            labels = y[:, 0] if m == 1 else y.T
            gp.set_train_data(inputs=inputs, targets=labels, strict=False)
            gp_loss = -mll(gp(inputs), labels).sum()
            loss = parts.loss / len(rows) + joint.weight * gp_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            clamp_to_bounds(gp)   # Adam does not respect the noise's bounds; L-BFGS-B did
    tuned.eval()
    return tuned
