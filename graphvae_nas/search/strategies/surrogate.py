"""A strategy made of a surrogate, an acquisition function and candidate generators.

Each round after ``n_init`` random architectures: the objective values of the evaluated
architectures (replaced per column by the normal quantiles of their ranks with ``copula``)
fit the surrogate (one output per objective); the acquisition is built on it (qLogNEHVI
for several objectives, see :mod:`graphvae_nas.search.acquisition`); the generators offer
candidates; the ``pool_shortlist`` best candidates (at most 100 with several objectives) by the acquisition's analytic counterpart go to the greedy
batch selection of ``optimize_acqf_discrete``. When fewer than ``n`` candidates come, random
unevaluated architectures fill the batch (with ``fallback``). Every round runs under a torch
seed drawn from the study's generator, so the strategy is a function of the history and that
generator, and resumed studies follow the same trajectory. With ``restart_after`` the strategy
restarts once the best of its current climb is that many evaluations old: a batch tagged
``<name>-restart`` (random architectures, or kicks of the best) starts a new climb, which the
history's tags mark, so restarts survive a resume too.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.search.acquisition import (
    DEFAULT_ACQUISITION,
    MULTI_OBJECTIVE_SHORTLIST,
    AcquisitionOptions,
    make_acquisition,
    make_prefilter,
    resolve_acquisition,
)
from graphvae_nas.search.generators import CandidateGenerator, Round, UnionGenerator
from graphvae_nas.search.objectives import oriented_row
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
    """``name`` tags its proposals and names it in ``spec()`` (with ``settings``)."""

    def __init__(self, name: str, space: SearchSpace, surrogate: Surrogate,
                 generators: CandidateGenerator | Sequence[CandidateGenerator], *,
                 acquisition: str = DEFAULT_ACQUISITION,
                 acquisition_options: AcquisitionOptions = AcquisitionOptions(),
                 n_init: int = 10, pool_shortlist: int = 500, copula: bool = True,
                 fallback: bool = True, restart_after: int | None = None,
                 restart_kick: int = 0, settings: dict[str, Any] | None = None) -> None:
        if n_init < 1 or pool_shortlist < 1:
            raise ValueError("n_init and pool_shortlist must be >= 1")
        if restart_after is not None and restart_after < 1:
            raise ValueError("restart_after must be >= 1 or None")
        if restart_kick < 0:
            raise ValueError("restart_kick must be >= 0")
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
        self.acquisition_options = acquisition_options
        self.n_init = n_init
        self.pool_shortlist = pool_shortlist
        self.copula = copula
        self.fallback = fallback
        self.restart_after = restart_after
        self.restart_kick = restart_kick
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
        climb = self._climb_start(history, Y.shape[-1])
        if climb is None:
            self._counters["restarts"] = self._counters.get("restarts", 0) + 1
            return self._restart(history, archs, Y, n, rng)
        seed = rng.getrandbits(62)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            if self.copula:
                Y = gaussian_copula(Y)
            model = self.surrogate.fit(archs, Y)
            X = self.surrogate.featurize(archs)
            acq = make_acquisition(self._acquisition(Y), model, X, Y,
                                   options=self.acquisition_options)
            state = Round(history, n, seed, archs, Y, X, model, acq,
                          torch.Generator().manual_seed(seed), climb=climb)
            candidates = self.generator.candidates(state)
            out = self._select(state, candidates) if candidates else []
        if len(out) < n and self.fallback:
            self._counters["random_fallbacks"] += n - len(out)
            taken = set(history.seen) | {p.arch.canonical_hash for p in out}
            out += random_unseen(self.space, history, random.Random(seed), n - len(out),
                                 exclude=taken, tag=f"{self.name}-random-fallback")
        return out

    @property
    def restart_tag(self) -> str:
        return f"{self.name}-restart"

    def _restart(self, history: History, archs: list[Architecture], Y: torch.Tensor, n: int,
                 rng: random.Random) -> list[Proposal]:
        """A new climb's first batch: random architectures, or with ``restart_kick`` = k the
        best so far changed by k random mutations each (iterated local search's kick)."""
        out: list[Proposal] = []
        if self.restart_kick:
            best = archs[int(Y[:, 0].argmax())]
            taken = set(history.seen)
            for _ in range(20 * n):
                if len(out) == n:
                    break
                arch = best
                for _ in range(self.restart_kick):
                    arch = self.space.mutate(arch, rng)
                if arch.canonical_hash not in taken:
                    taken.add(arch.canonical_hash)
                    out.append(Proposal(arch, self.restart_tag))
        if len(out) < n:
            out += random_unseen(self.space, history, rng, n - len(out),
                                 exclude={p.arch.canonical_hash for p in out}, tag=self.restart_tag)
        return out

    def _climb_start(self, history: History, num_objectives: int) -> int | None:
        """Where the current climb starts among the scored trials (0, or the first of the last
        restart batch), or ``None`` when it is time to restart: the climb's best is
        ``restart_after`` or more evaluations old."""
        tags = history.tags
        start = max((i for i, tag in enumerate(tags) if tag == self.restart_tag), default=None)
        while start is not None and start > 0 and tags[start - 1] == self.restart_tag:
            start -= 1
        start = start or 0
        if self.restart_after is None:
            return _scored_before(history, start)
        if num_objectives > 1:
            raise GraphVAENASError(f"{self.name}: restart_after needs a single objective")
        scores = history.scores()
        climb = [y for y in scores[start:] if y is not None]
        if climb:
            first_best = start + scores[start:].index(max(climb))
            if len(scores) - 1 - first_best >= self.restart_after:
                return None
        return _scored_before(history, start)

    def _acquisition(self, Y: torch.Tensor) -> str:
        """The acquisition for ``Y``'s objective count (the default means qLogNEHVI with
        several objectives)."""
        return resolve_acquisition(self.acquisition, Y.shape[-1])

    def _select(self, state: Round, candidates: list[Architecture]) -> list[Proposal]:
        """The batch acquisition over the candidates' features, after a cheap prefilter: the
        ``pool_shortlist`` best by the analytic counterpart (one posterior for all of them), so
        that the greedy batch selection runs over hundreds, not thousands."""
        from botorch.optim import optimize_acqf_discrete

        features = self.surrogate.featurize(candidates)
        shortlist = self.pool_shortlist if state.Y.shape[-1] == 1 else \
            min(self.pool_shortlist, MULTI_OBJECTIVE_SHORTLIST)
        if len(candidates) > shortlist:
            prefilter = make_prefilter(self._acquisition(state.Y), state.model, state.X, state.Y,
                                       options=self.acquisition_options)
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


def _scored_before(history: History, index: int) -> int:
    """How many trials before ``index`` have every objective (their rows in ``observations``)."""
    return sum(1 for values in history.values[:index]
               if oriented_row(history.objective_specs, values) is not None)
