"""Acquisition functions by name, keyed by the number of objectives.

Single objective: ``qlognei`` (noisy log expected improvement, the default: real training is
noisy), ``qlogei`` and ``ucb``. Each has an analytic counterpart that cheaply ranks thousands of
candidates before the batch acquisition picks among a shortlist (log-EI for both EI variants,
UCB for UCB). Multi-objective acquisitions (e.g. qLogNEHVI) plug in as another entry of
:data:`ACQUISITIONS` under their objective count.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphvae_nas.errors import GraphVAENASError

if TYPE_CHECKING:  # torch is imported on use, so the command line's --help stays quick
    import torch

DEFAULT_ACQUISITION = "qlognei"


@dataclass(frozen=True)
class AcquisitionSpec:
    """How to build one acquisition: ``batch(model, X, Y, options)`` returns the batch (MC)
    acquisition, ``analytic(model, X, Y, options)`` its cheap single-point counterpart."""

    batch: Callable
    analytic: Callable


@dataclass(frozen=True)
class AcquisitionOptions:
    ucb_beta: float = 2.0
    mc_samples: int = 128


def _sampler(options: AcquisitionOptions):
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

    return LogExpectedImprovement(model, best_f=float(Y.max()))


def _ucb(model, X, Y, options):
    from botorch.acquisition.analytic import UpperConfidenceBound

    return UpperConfidenceBound(model, beta=options.ucb_beta)


ACQUISITIONS: dict[int, dict[str, AcquisitionSpec]] = {
    1: {"qlognei": AcquisitionSpec(_qlognei, _logei),
        "qlogei": AcquisitionSpec(_qlogei, _logei),
        "ucb": AcquisitionSpec(_qucb, _ucb)},
}
"""``{objective count: {name: spec}}``."""


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


def make_acquisition(name: str, model, X: torch.Tensor, Y: torch.Tensor, *,
                     options: AcquisitionOptions = AcquisitionOptions()):
    """The batch acquisition ``name`` for ``model`` fitted at ``X [n, d]`` to ``Y [n, m]``
    (larger is better; the model's units). Draws its quasi-MC seed from torch's generator."""
    return _spec(name, Y.shape[-1]).batch(model, X, Y, options)


def make_prefilter(name: str, model, X: torch.Tensor, Y: torch.Tensor, *,
                   options: AcquisitionOptions = AcquisitionOptions()):
    """The analytic counterpart of ``name``, to rank many candidates one by one."""
    return _spec(name, Y.shape[-1]).analytic(model, X, Y, options)
