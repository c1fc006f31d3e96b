"""Multi-fidelity search by promotion: asynchronous successive halving (ASHA).

ASHA (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020) fills
every free slot either by promoting an architecture to the next fidelity (a "rung") or, when
no promotion is due, with a new architecture at the lowest fidelity. An architecture is due
for promotion from rung k when it is among the best ``1/eta`` of all architectures evaluated
at rung k so far and has not been evaluated at rung k+1; the highest rung is tried first. So
it needs no synchronisation between rounds: it works with any batch size and with executors
that finish evaluations out of order.

New architectures come from any proposing strategy (random, evolution, BANANAS, latent BO),
which sees the history of the lowest fidelity only, as if that were the objective. A
promotion ranks by the first objective.

:class:`ModelBasedPromotion` keeps ASHA's share of promotions (``1/eta`` of each rung) but
lets a surrogate trained on every fidelity choose which architecture to promote: a multi-task
GP over the architecture's structure, one task per fidelity, ranks the candidates by their
expected improvement at the highest fidelity.
"""
from __future__ import annotations

import math
import random
import warnings
from collections.abc import Sequence
from typing import Any

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation.fidelity import checked_fidelities
from graphvae_nas.search.strategies.base import History, Proposal, Strategy
from graphvae_nas.spaces import SearchSpace

PROMOTION_TAG = "promotion"

SHORTLIST_BETA = 2.0
"""How far :class:`ModelBasedPromotion`'s shortlist of new architectures looks beyond the
predicted mean. On NAS-Bench-201 (evolution, eta 16, a shortlist of 10, seeds 0-9, 10,000
epochs), ranking the shortlist by the mean reached the 200-epoch optimum in 3 of 10 runs, none
within 2,500 epochs; by mean + 2 standard deviations in 5 of 10, 2 of them within 2,500
(docs/results/nb201-fidelity.md, section model-tuning)."""


class SuccessiveHalving:
    """Asynchronous successive halving over the fidelities ``rungs`` (ascending, at least
    two), with new architectures from ``proposer`` at the lowest rung; ``eta``: the share
    ``1/eta`` of each rung that is promoted to the next."""

    def __init__(self, proposer: Strategy, rungs: Sequence[float], eta: float = 3.0) -> None:
        self.rungs = checked_fidelities(rungs, "rungs")
        if len(self.rungs) < 2:
            raise GraphVAENASError("successive halving needs at least two fidelities (rungs); "
                                   f"got {list(self.rungs)}")
        if not eta > 1:
            raise GraphVAENASError(f"eta must be larger than 1, got {eta}")
        self.proposer = proposer
        self.eta = float(eta)
        self.counters: dict[str, float] = {}

    def spec(self) -> dict[str, Any]:
        return {"name": "asha", "rungs": list(self.rungs), "eta": self.eta,
                "proposer": self.proposer.spec()}

    def due(self, history: History, taken: set[tuple[str, float]]) -> Proposal | None:
        """The next promotion due (highest rung first), or None; ``taken``: (hash, rung)
        pairs evaluated or already proposed, updated with the promotion returned."""
        first = history.objective_specs[0]
        for k in range(len(self.rungs) - 2, -1, -1):
            rung, upper = self.rungs[k], self.rungs[k + 1]
            results = [(first.orient(y), -i, a) for i, (a, y, f) in
                       enumerate(zip(history.archs, history.objectives, history.fidelities))
                       if f == rung and y is not None]
            results.sort(key=lambda item: item[:2], reverse=True)
            for _, _, arch in results[:math.floor(len(results) / self.eta)]:
                key = (arch.canonical_hash, upper)
                if key not in taken:
                    taken.add(key)
                    return Proposal(arch, PROMOTION_TAG, upper)
        return None

    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]:
        taken = {(a.canonical_hash, f) for a, f in zip(history.archs, history.fidelities)}
        promotions = []
        for _ in range(n):
            promotion = self.due(history, taken)
            if promotion is None:
                break
            promotions.append(promotion)
        new = (self.new_architectures(history, n - len(promotions), rng, offered=n)
               if len(promotions) < n else [])
        self.counters["promotions"] = (sum(t == PROMOTION_TAG for t in history.tags)
                                       + len(promotions))
        return promotions + new

    def new_architectures(self, history: History, n: int, rng: random.Random, offered: int
                          ) -> list[Proposal]:
        """The first ``n`` of ``offered`` new architectures from the proposer (which sees the
        lowest fidelity's history), at the lowest fidelity. The proposer is always asked for a
        whole batch, however many slots promotions took: a strategy that counts rounds in
        batches of its history (``lolbo``'s trust region) then counts them the same way when a
        study resumes."""
        lowest = history.at_fidelity(self.rungs[0])
        new = [Proposal(p.arch, p.tag, self.rungs[0])
               for p in self.proposer.propose(lowest, offered, rng)[:n]]
        self.counters.update(getattr(self.proposer, "counters", {}))
        return new


class ModelBasedPromotion(SuccessiveHalving):
    """Successive halving whose promotions a surrogate of all fidelities chooses.

    From rung k, as many architectures are promoted as ASHA's rule allows in total
    (``floor(n_k / eta)`` of the ``n_k`` results at rung k); which ones is decided by a
    multi-task GP (BoTorch ``MultiTaskGP``: an isotropic RBF kernel over the space's 0/1
    structure encoding, a function of the Hamming distance, times
    a learned correlation between fidelities) fitted to every result, each fidelity's values
    standardised on their own: the candidate with the highest predicted mean at the highest
    fidelity goes first. ASHA's share of promotions is the exploration. On NAS-Bench-201
    (trained on 150 random cells and the 12-epoch top 40, 8 of them at 200 epochs; 3 seeds,
    measured ad hoc), the mean ranked the other 32 by their 200-epoch accuracy at Spearman
    0.39-0.43; the expected improvement, which favours uncertain cells, at 0.19-0.28; the
    12-epoch accuracy at 0.32. ``tests/test_fidelity.py`` checks that the mean beats the
    12-epoch accuracy.

    With ``shortlist`` > 1 the same model also chooses the new architectures: the proposer
    offers ``shortlist`` times a whole batch, and those with the highest upper confidence bound
    at the highest fidelity (mean + :data:`SHORTLIST_BETA` x standard deviation) are evaluated
    at the lowest fidelity.
    """

    def __init__(self, proposer: Strategy, rungs: Sequence[float], eta: float, space: SearchSpace,
                 *, shortlist: int = 10, fit_iterations: int = 30) -> None:
        from graphvae_nas.surrogates.structure import structure_encoding

        super().__init__(proposer, rungs, eta)
        if shortlist < 1:
            raise GraphVAENASError(f"shortlist must be at least 1, got {shortlist}")
        self.encoding = structure_encoding(space)
        self.shortlist = shortlist
        self.fit_iterations = fit_iterations
        self._model: tuple[int, Any] | None = None   # (history length, fitted GP)

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "name": "asha-model", "surrogate": "multi-task GP",
                "shortlist": self.shortlist, "shortlist_beta": SHORTLIST_BETA,
                "fit_iterations": self.fit_iterations}

    def new_architectures(self, history: History, n: int, rng: random.Random, offered: int
                          ) -> list[Proposal]:
        if self.shortlist == 1 or len(history) < 2:
            return super().new_architectures(history, n, rng, offered)
        total = offered * self.shortlist
        candidates = super().new_architectures(history, total, rng, total)
        scores = self.scores(history, [p.arch for p in candidates], beta=SHORTLIST_BETA)
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
        return [candidates[i] for i in order[:n]]

    def due(self, history: History, taken: set[tuple[str, float]]) -> Proposal | None:
        for k in range(len(self.rungs) - 2, -1, -1):
            rung, upper = self.rungs[k], self.rungs[k + 1]
            results = [a for a, y, f in zip(history.archs, history.objectives, history.fidelities)
                       if f == rung and y is not None]
            promoted = sum((a.canonical_hash, upper) in taken for a in results)
            if promoted >= math.floor(len(results) / self.eta):
                continue
            candidates = [a for a in results if (a.canonical_hash, upper) not in taken]
            if candidates:
                best = max(zip(self.scores(history, candidates), range(len(candidates))))[1]
                taken.add((candidates[best].canonical_hash, upper))
                return Proposal(candidates[best], PROMOTION_TAG, upper)
        return None

    def scores(self, history: History, candidates: list, beta: float = 0.0) -> list[float]:
        """Each candidate's predicted (standardised) value at the highest fidelity: the
        multi-task GP's posterior mean, plus ``beta`` posterior standard deviations."""
        import torch

        model = self.model(history)
        task = torch.full((len(candidates), 1), float(len(self.rungs) - 1), dtype=torch.float64)
        x = torch.cat([self.encoding.encode(candidates), task], dim=1)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse invariant checks")
            posterior = model.posterior(x)
            score = posterior.mean if beta == 0 else posterior.mean + beta * posterior.variance.sqrt()
            return score.reshape(-1).tolist()

    def model(self, history: History) -> Any:
        """The multi-task GP on ``history`` (refitted when the history has grown)."""
        import torch
        from botorch.models import MultiTaskGP
        from gpytorch.kernels import RBFKernel, ScaleKernel

        from graphvae_nas.surrogates.gp import fit_hyperparameters

        if self._model is not None and self._model[0] == len(history):
            return self._model[1]
        first = history.objective_specs[0]
        rows, tasks, values = [], [], []
        for arch, y, f in zip(history.archs, history.objectives, history.fidelities):
            if y is not None and f in self.rungs:
                rows.append(arch)
                tasks.append(self.rungs.index(f))
                values.append(first.orient(y))
        y = torch.tensor(values, dtype=torch.float64)
        task = torch.tensor(tasks, dtype=torch.float64)
        for t in set(tasks):   # each fidelity standardised on its own
            mask = task == t
            spread = y[mask].std() if mask.sum() > 1 else torch.tensor(1.0, dtype=torch.float64)
            y[mask] = (y[mask] - y[mask].mean()) / (spread if spread > 0 else 1.0)
        x = torch.cat([self.encoding.encode(rows), task.unsqueeze(1)], dim=1)
        top = len(self.rungs) - 1
        with warnings.catch_warnings(), torch.random.fork_rng():
            # linear_operator builds a sparse tensor for the task index; torch warns each time
            warnings.filterwarnings("ignore", message="Sparse invariant checks")
            # the task kernel starts from random factors, and a failed fit restarts from
            # hyper-parameters drawn with torch's generator: seeded by the history, so a
            # resumed study (or another process) fits the same GP
            torch.manual_seed(len(history))
            model = MultiTaskGP(x, y.unsqueeze(1), task_feature=-1, output_tasks=[top],
                                all_tasks=list(range(len(self.rungs))), outcome_transform=None,
                                covar_module=ScaleKernel(RBFKernel()))
            fit_hyperparameters(model, max_iter=self.fit_iterations, strict=False)
        self._model = (len(history), model)
        return model


def with_promotion(strategy: Strategy, fidelities: Sequence[float] | None, eta: float,
                   promotion: str, space: SearchSpace, *, shortlist: int = 10) -> Strategy:
    """``strategy`` inside successive halving over ``fidelities`` (``promotion``: ``"rank"``
    for :class:`SuccessiveHalving`, ``"model"`` for :class:`ModelBasedPromotion`); unchanged
    with fewer than two fidelities."""
    if fidelities is None or len(fidelities) < 2:
        return strategy
    if promotion == "rank":
        return SuccessiveHalving(strategy, fidelities, eta)
    if promotion == "model":
        return ModelBasedPromotion(strategy, fidelities, eta, space, shortlist=shortlist)
    raise GraphVAENASError(f"promotion must be 'rank' or 'model', got {promotion!r}")
