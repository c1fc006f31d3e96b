"""Baseline strategies: random search, regularised evolution (over Pareto rank with several
objectives), NSGA-II, local search."""
from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from graphvae_nas.graph import Architecture
from graphvae_nas.search.pareto import survival_order
from graphvae_nas.search.strategies.base import (
    EvaluatedClasses,
    History,
    Proposal,
    random_unseen,
)


class RandomSearch:
    """Uniform samples of the space, never repeating an architecture."""

    def spec(self) -> dict[str, Any]:
        return {"name": "random"}

    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]:
        return random_unseen(history.space, history, rng, n)


class RegularizedEvolution:
    """Aging evolution (Real et al., 2019): the population is the ``population_size`` most
    recent evaluations; a parent is the best of ``sample_size`` random members, and its child
    is a random mutation that was not evaluated before. The first ``population_size``
    architectures are random. With several objectives a member's fitness is its NSGA-II order
    in the population (Pareto rank, then crowding distance): regularised evolution over Pareto
    rank."""

    def __init__(self, population_size: int = 20, sample_size: int = 5) -> None:
        self.population_size = population_size
        self.sample_size = sample_size

    def spec(self) -> dict[str, Any]:
        return {"name": "evolution", "population_size": self.population_size,
                "sample_size": self.sample_size}

    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]:
        if len(history.objective_specs) > 1:
            archs, rows = history.scored_matrix()
            # several objectives: a member's fitness is its NSGA-II order within the population
            # (Pareto rank, then crowding distance), larger is better
            population_rows = rows[-self.population_size:]
            order = survival_order(population_rows) if population_rows else []
            fitness = {i: -position for position, i in enumerate(order)}
            scored = [(a, fitness[i]) for i, a in enumerate(archs[-self.population_size:])]
        else:
            scored = history.scored()
        if len(scored) < self.population_size:
            return random_unseen(history.space, history, rng, n)
        population = scored[-self.population_size:]
        return mutate_parents(history, n, rng, lambda: max(
            rng.sample(population, self.sample_size), key=lambda item: item[1])[0])


def mutate_parents(history: History, n: int, rng: random.Random,
                   parent: Callable[[], Architecture]) -> list[Proposal]:
    """``n`` children, each a random mutation of ``parent()`` not evaluated or proposed before
    (walking on through mutations when every nearby one was seen; random when none is found)."""
    out: list[Proposal] = []
    taken: set[str] = set()
    for _ in range(n):
        current = parent()
        child = None
        for _ in range(100):
            candidate = history.space.mutate(current, rng)
            h = candidate.canonical_hash
            if h not in history.seen and h not in taken:
                child = candidate
                break
            current = candidate  # walk on when every nearby mutation was seen
        if child is None:
            out.extend(random_unseen(history.space, history, rng, 1, taken))
        else:
            out.append(Proposal(child, "mutation"))
        taken.add(out[-1].arch.canonical_hash)
    return out


class NSGA2Evolution:
    """NSGA-II (Deb et al., 2002) as a batch strategy for several objectives: every round the
    population is the ``population_size`` evaluated architectures NSGA-II keeps (non-dominated
    sorting, then crowding distance, over everything evaluated: elitist), parents are chosen by
    binary tournaments on that order, and each child is a random mutation not evaluated before.
    The first ``population_size`` architectures are random. With one objective the order is
    simply by value (truncation selection)."""

    def __init__(self, population_size: int = 20, tournament: int = 2) -> None:
        self.population_size = population_size
        self.tournament = tournament

    counters: dict[str, float] = {}

    def spec(self) -> dict[str, Any]:
        return {"name": "nsga2", "population_size": self.population_size,
                "tournament": self.tournament}

    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]:
        archs, rows = history.scored_matrix()
        if len(archs) < self.population_size:
            return random_unseen(history.space, history, rng, n)
        survivors = survival_order(rows)[:self.population_size]  # best first
        return mutate_parents(history, n, rng, lambda: archs[survivors[min(
            rng.sample(range(self.population_size), self.tournament))]])


class LocalSearch:
    """Local search (White et al., 2021): from a random start, evaluate the neighbours of the
    best architecture of the current climb; when all of its neighbours are evaluated and none
    is better, it is a local optimum and the climb restarts from a new random architecture.
    With ``between_classes`` (bn) the neighbours are the moves out of the centre's Markov
    equivalence class (``space.class_neighbours``), none of a class evaluated already: a greedy
    search over equivalence classes, as GES climbs (Chickering 2002), from random restarts."""

    def __init__(self, between_classes: bool = False) -> None:
        self.between_classes = between_classes
        self._classes: EvaluatedClasses | None = None

    def spec(self) -> dict[str, Any]:
        return {"name": "local", "between_classes": self.between_classes}

    def _fresh(self, history: History, center: Architecture) -> list[Architecture]:
        space = history.space
        if not self.between_classes:
            return [a for a in space.neighbours(center) if a.canonical_hash not in history.seen]
        if self._classes is None or self._classes.space is not space:
            self._classes = EvaluatedClasses(space, "local with between_classes")
        taken = self._classes.of(history)
        return [a for a in space.class_neighbours(center) if self._classes.key(a) not in taken]

    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]:
        space = history.space
        start = max((i for i, tag in enumerate(history.tags) if tag in ("random", "restart")),
                    default=None)
        if start is None:
            return random_unseen(space, history, rng, n, tag="restart")
        climb = [(a, y) for a, y in zip(history.archs[start:], history.scores()[start:])
                 if y is not None]
        if not climb:
            return random_unseen(space, history, rng, n, tag="restart")
        center = max(climb, key=lambda item: item[1])[0]
        fresh = self._fresh(history, center)
        rng.shuffle(fresh)
        out = [Proposal(a, "neighbour") for a in fresh[:n]]
        if len(out) < n and not fresh[n:]:
            # the centre's neighbourhood is exhausted: once those come back, restart
            if not out:
                out = random_unseen(space, history, rng, n, tag="restart")
        return out
