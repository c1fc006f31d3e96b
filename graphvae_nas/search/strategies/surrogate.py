"""A strategy made of a surrogate, an acquisition function and candidate generators.

Each round after ``n_init`` random architectures: the objective values of the evaluated
architectures (replaced per column by the normal quantiles of their ranks with ``copula``)
fit the surrogate (one output per objective); the acquisition is built on it (qLogNEHVI
for several objectives, see :mod:`graphvae_nas.search.acquisition`); the generators offer
candidates; the ``acquisition.shortlist`` best candidates (at most 100 with several
objectives) by the acquisition's analytic counterpart go to the greedy batch selection of
``optimize_acqf_discrete``. When fewer than ``n`` candidates come, random
unevaluated architectures fill the batch (with ``fallback``). Every round runs under a torch
seed drawn from the study's generator, so the strategy is a function of the history and that
generator, and resumed studies follow the same trajectory.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.search.acquisition import (
    MULTI_OBJECTIVE_SHORTLIST,
    make_acquisition,
    make_prefilter,
    resolve_acquisition,
)
from graphvae_nas.search.configs import AcquisitionConfig
from graphvae_nas.search.generators import CandidateGenerator, Round, UnionGenerator
from graphvae_nas.search.strategies.base import History, Proposal, random_unseen
from graphvae_nas.spaces import SearchSpace
from graphvae_nas.surrogates.base import Surrogate, gaussian_copula


def observations(history: History) -> tuple[list[Architecture], torch.Tensor]:
    """The evaluated architectures with every objective, and their values ``[n, m]`` oriented
    larger-is-better (see ``History.scored_matrix``)."""
    archs, values = history.scored_matrix()
    m = len(history.objective_specs)
    return list(archs), torch.tensor(values, dtype=torch.float64).reshape(len(archs), m)


class SurrogateStrategy:
    """``name`` tags its proposals and names it in ``spec()`` (with ``settings``, every option
    as configured). Options are validated where the config is built
    (:func:`~graphvae_nas.search.configs.make_config`), not here."""

    def __init__(self, name: str, space: SearchSpace, surrogate: Surrogate,
                 generators: CandidateGenerator | Sequence[CandidateGenerator], *,
                 acquisition: AcquisitionConfig = AcquisitionConfig(), n_init: int = 10,
                 copula: bool = True, fallback: bool = True,
                 settings: dict[str, Any] | None = None) -> None:
        try:
            import botorch  # noqa: F401
        except ImportError:
            raise GraphVAENASError(f'strategy {name!r} needs BoTorch: pip install '
                                   '"graphvae_nas[bo]"') from None
        self.name = name
        self.space = space
        self.surrogate = surrogate
        self.generator = generators if not isinstance(generators, Sequence) else (
            generators[0] if len(generators) == 1 else UnionGenerator(generators))
        self.acquisition = acquisition
        self.n_init = n_init
        self.copula = copula
        self.fallback = fallback
        self.settings = dict(settings or {})
        self._counters: dict[str, float] = {"random_fallbacks": 0}

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, **self.settings}

    @property
    def counters(self) -> dict[str, float]:
        """Random fallbacks, the generators' counts (e.g. invalid decodes), the surrogate's and,
        with several generators, how many proposals came from each (``picked_<name>``)."""
        merged = dict(self._counters)
        for part in (self.generator, self.surrogate):
            merged.update(getattr(part, "counters", {}))
        return merged

    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]:
        archs, Y = observations(history)
        if len(archs) < self.n_init:
            return random_unseen(self.space, history, rng, min(n, self.n_init - len(archs)),
                                 tag="random-init")
        seed = rng.getrandbits(62)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            if self.copula:
                Y = gaussian_copula(Y)
            model = self.surrogate.fit(archs, Y)
            X = self.surrogate.featurize(archs)
            acq = make_acquisition(self._acquisition(Y), model, X, Y, options=self.acquisition)
            state = Round(history, n, seed, archs, Y, X, model, acq,
                          torch.Generator().manual_seed(seed))
            candidates = self.generator.candidates(state)
            out = self._select(state, candidates) if candidates else []
        if len(out) < n and self.fallback:
            self._counters["random_fallbacks"] += n - len(out)
            taken = set(history.seen) | {p.arch.canonical_hash for p in out}
            out += random_unseen(self.space, history, random.Random(seed), n - len(out),
                                 exclude=taken, tag=f"{self.name}-random-fallback")
        return out

    def _acquisition(self, Y: torch.Tensor) -> str:
        """The acquisition for ``Y``'s objective count (the default means qLogNEHVI with
        several objectives)."""
        return resolve_acquisition(self.acquisition.name, Y.shape[-1])

    def _select(self, state: Round, candidates: list[Architecture]) -> list[Proposal]:
        """The batch acquisition over the candidates' features, after a cheap prefilter: the
        ``acquisition.shortlist`` best by the analytic counterpart (one posterior for all of them), so
        that the greedy batch selection runs over hundreds, not thousands."""
        from botorch.optim import optimize_acqf_discrete

        features = self.surrogate.featurize(candidates)
        shortlist = self.acquisition.shortlist if state.Y.shape[-1] == 1 else \
            min(self.acquisition.shortlist, MULTI_OBJECTIVE_SHORTLIST)
        if len(candidates) > shortlist:
            prefilter = make_prefilter(self._acquisition(state.Y), state.model, state.X, state.Y,
                                       options=self.acquisition)
            with torch.no_grad():
                scores = prefilter(features.unsqueeze(1))
            keep = scores.topk(shortlist).indices.sort().values
            candidates = [candidates[i] for i in keep.tolist()]
            features = features[keep]
        picked, _ = optimize_acqf_discrete(state.acquisition, q=min(state.n, len(candidates)),
                                           choices=features, unique=True)
        out = []
        origins = getattr(self.generator, "origins", {})
        for row in picked:
            index = int(torch.nonzero((features == row).all(-1))[0, 0])
            out.append(Proposal(candidates[index], self.name))
            origin = origins.get(candidates[index].canonical_hash)
            if origin is not None:
                key = f"picked_{origin}"
                self._counters[key] = self._counters.get(key, 0) + 1
        return out
