"""Acquisition functions by name, keyed by the number of objectives.

Single objective: ``qlognei`` (noisy log expected improvement, the default: real training is
noisy), ``qlogei`` and ``ucb``. Each has an analytic counterpart that cheaply ranks thousands of
candidates before the batch acquisition picks among a shortlist (log-EI for both EI variants,
UCB for UCB).

Several objectives (2 to 4): ``qlognehvi``, BoTorch's noisy log expected hypervolume
improvement. Its reference point lives in the surrogate's units (after the rank copula the
strategies apply by default, where a fixed raw-unit point has no fixed image), so it is
BoTorch's ``infer_reference_point`` of the observed values: the nadir of their Pareto front
moved 10 % of the front's range further down in every objective. (The fixed raw-unit points of
:mod:`graphvae_nas.search.pareto` are what a study's hypervolume is *measured* with.) Its
analytic counterpart is BoTorch's ``ExpectedHypervolumeImprovement`` over the observed front,
and since the batch acquisition is costlier with several objectives, the strategies shortlist
at most :data:`MULTI_OBJECTIVE_SHORTLIST` candidates for it.
The default acquisition ``qlognei`` of the strategies' configs means ``qlognehvi`` when a
study has several objectives (:func:`resolve_acquisition`).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphvae_nas.errors import GraphVAENASError

if TYPE_CHECKING:  # torch is imported on use, so the command line's --help stays quick
    import torch

    from graphvae_nas.search.configs import AcquisitionConfig

DEFAULT_ACQUISITION = "qlognei"


@dataclass(frozen=True)
class AcquisitionSpec:
    """How to build one acquisition: ``batch(model, X, Y, options)`` returns the batch (MC)
    acquisition, ``analytic(model, X, Y, options)`` its cheap single-point counterpart."""

    batch: Callable
    analytic: Callable


def _sampler(options: AcquisitionConfig):
    import torch
    from botorch.sampling import SobolQMCNormalSampler

    return SobolQMCNormalSampler(sample_shape=torch.Size([options.mc_samples]))


def _qlognei(model, X, Y, options):
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement

    return qLogNoisyExpectedImprovement(model, X_baseline=X, sampler=_sampler(options))


def _qlogei(model, X, Y, options):
    from botorch.acquisition import qLogExpectedImprovement

    return qLogExpectedImprovement(model, best_f=Y.max(), sampler=_sampler(options))


def _qucb(model, X, Y, options):
    from botorch.acquisition import qUpperConfidenceBound

    return qUpperConfidenceBound(model, beta=options.ucb_beta, sampler=_sampler(options))


def _logei(model, X, Y, options):
    from botorch.acquisition.analytic import LogExpectedImprovement

    return LogExpectedImprovement(marginal_model(model), best_f=float(Y.max()))


def _ucb(model, X, Y, options):
    from botorch.acquisition.analytic import UpperConfidenceBound

    return UpperConfidenceBound(marginal_model(model), beta=options.ucb_beta)


def _qlognehvi(model, X, Y, options):
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.utils.multi_objective.hypervolume import infer_reference_point

    return qLogNoisyExpectedHypervolumeImprovement(
        model, ref_point=infer_reference_point(Y).tolist(), X_baseline=X,
        sampler=_sampler(options), prune_baseline=True)


def _ehvi(model, X, Y, options):
    """Analytic expected hypervolume improvement over the observed front (BoTorch's box
    decomposition), from the same inferred reference point, on the model's marginals."""
    from botorch.acquisition.multi_objective.analytic import ExpectedHypervolumeImprovement
    from botorch.utils.multi_objective.box_decompositions.non_dominated import (
        NondominatedPartitioning,
    )
    from botorch.utils.multi_objective.hypervolume import infer_reference_point

    ref = infer_reference_point(Y)
    return ExpectedHypervolumeImprovement(
        marginal_model(model), ref_point=ref.tolist(),
        partitioning=NondominatedPartitioning(ref_point=ref, Y=Y))


def marginal_model(model, chunk: int = 1024):
    """``model`` seen through its marginals (see ``_Marginals``): analytic acquisitions of
    single points over thousands of candidates at the cost of one joint posterior per
    ``chunk`` points."""
    return _marginal_model_class()(model, chunk)


@functools.cache
def _marginal_model_class():
    import torch
    from botorch.models.model import Model
    from botorch.posteriors.gpytorch import GPyTorchPosterior
    from gpytorch.distributions import MultitaskMultivariateNormal, MultivariateNormal
    from linear_operator.operators import DiagLinearOperator

    class _Marginals(Model):
        """``model``'s marginal posterior at ``X [..., 1, d]``, computed from one joint
        posterior over all the points in chunks (the diagonal only): a GP's own t-batched
        posterior broadcasts its training covariance to every point, hundreds of times slower
        for thousands of candidates. For acquisitions of single points only."""

        def __init__(self, model, chunk: int = 1024) -> None:
            super().__init__()
            self.model = model
            self.chunk = chunk

        @property
        def num_outputs(self) -> int:
            return self.model.num_outputs

        def posterior(self, X, output_indices=None, observation_noise=False,
                      posterior_transform=None, **kwargs):
            if X.shape[-2] != 1:
                raise ValueError("marginal posteriors are for single points ([..., 1, d])")
            flat = X.reshape(-1, X.shape[-1])
            means, variances = [], []
            for first in range(0, len(flat), self.chunk):
                part = self.model.posterior(flat[first:first + self.chunk])
                means.append(part.mean.reshape(-1, self.num_outputs))
                variances.append(part.variance.reshape(-1, self.num_outputs))
            mean, var = torch.cat(means), torch.cat(variances).clamp_min(1e-12)
            shape = X.shape[:-1]
            mvns = [MultivariateNormal(mean[:, j].reshape(shape),
                                       DiagLinearOperator(var[:, j].reshape(shape)))
                    for j in range(mean.shape[-1])]
            dist = mvns[0] if len(mvns) == 1 else \
                MultitaskMultivariateNormal.from_independent_mvns(mvns)
            return GPyTorchPosterior(dist)

    return _Marginals


MULTI_OBJECTIVE_DEFAULT = "qlognehvi"
MULTI_OBJECTIVE_SHORTLIST = 100
"""At most this many candidates (the best by analytic EHVI) go to qLogNEHVI's greedy batch
selection: it costs about 5x qLogNEI per candidate, and 100 keeps a round of 5 proposals at
150 observations near a few seconds on two CPU cores."""

ACQUISITIONS: dict[int, dict[str, AcquisitionSpec]] = {
    1: {"qlognei": AcquisitionSpec(_qlognei, _logei),
        "qlogei": AcquisitionSpec(_qlogei, _logei),
        "ucb": AcquisitionSpec(_qucb, _ucb)},
    **{m: {MULTI_OBJECTIVE_DEFAULT: AcquisitionSpec(_qlognehvi, _ehvi)}
       for m in (2, 3, 4)},
}
"""``{objective count: {name: spec}}``."""


def all_acquisition_names() -> tuple[str, ...]:
    """Every acquisition of any objective count (what a strategy's config accepts)."""
    return tuple(dict.fromkeys(name for table in ACQUISITIONS.values() for name in table))


def resolve_acquisition(name: str, num_objectives: int) -> str:
    """``name``, or for several objectives and the single-objective default
    (:data:`DEFAULT_ACQUISITION`) the multi-objective default ``qlognehvi``."""
    if num_objectives > 1 and name == DEFAULT_ACQUISITION:
        return MULTI_OBJECTIVE_DEFAULT
    return name


def acquisition_names(num_objectives: int = 1) -> tuple[str, ...]:
    """The acquisitions available for ``num_objectives`` objectives."""
    return tuple(ACQUISITIONS.get(num_objectives, {}))


def _spec(name: str, num_objectives: int) -> AcquisitionSpec:
    table = ACQUISITIONS.get(num_objectives)
    if not table:
        raise GraphVAENASError(f"no acquisition function for {num_objectives} objectives yet "
                               f"(available for: {sorted(ACQUISITIONS)} objective(s))")
    if name not in table:
        raise GraphVAENASError(f"unknown acquisition {name!r} for {num_objectives} objective(s) "
                               f"(known: {', '.join(table)})")
    return table[name]


def _options(options: AcquisitionConfig | None) -> AcquisitionConfig:
    from graphvae_nas.search.configs import AcquisitionConfig

    return AcquisitionConfig() if options is None else options


def make_acquisition(name: str, model, X: torch.Tensor, Y: torch.Tensor, *,
                     options: AcquisitionConfig | None = None):
    """The batch acquisition ``name`` for ``model`` fitted at ``X [n, d]`` to ``Y [n, m]``
    (larger is better; the model's units), with ``options``' ``ucb_beta`` and ``mc_samples``.
    Draws its quasi-MC seed from torch's generator."""
    return _spec(name, Y.shape[-1]).batch(model, X, Y, _options(options))


def make_prefilter(name: str, model, X: torch.Tensor, Y: torch.Tensor, *,
                   options: AcquisitionConfig | None = None):
    """The analytic counterpart of ``name``, to rank many candidates one by one."""
    return _spec(name, Y.shape[-1]).analytic(model, X, Y, _options(options))
