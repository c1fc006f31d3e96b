"""What strategies see (the history) and return (proposals), and their protocol."""
from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.search.objectives import Objective, oriented_row
from graphvae_nas.spaces import SearchSpace


@dataclass(frozen=True)
class Proposal:
    """An architecture to evaluate and the reason it was proposed (e.g. ``random``, ``bo``);
    with a fidelity-aware evaluator, the ``fidelity`` to evaluate it at (None: the highest)."""

    arch: Architecture
    tag: str = ""
    fidelity: float | None = None


@dataclass
class History:
    """Everything evaluated so far, in order; ``seen`` holds their canonical hashes.

    ``objectives`` holds each trial's raw first-objective value (None: failed) and ``values`` its
    raw values of every objective; ``objective_specs`` says which objectives and in which
    direction. Strategies should read :meth:`scored` or :meth:`scored_matrix`, which orient
    every value so that larger is better (a ``min`` objective's values are negated).

    ``fidelities`` holds the fidelity of each trial (None without fidelities). With several
    fidelities one architecture can appear once per fidelity; :meth:`at_fidelity` is the
    history of one fidelity, as a strategy that knows nothing of fidelities should see it.
    """

    space: SearchSpace
    archs: list[Architecture] = field(default_factory=list)
    objectives: list[float | None] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    objective_specs: tuple[Objective, ...] = (Objective("objective"),)
    values: list[dict[str, float]] = field(default_factory=list)
    fidelities: list[float | None] = field(default_factory=list)

    def add(self, arch: Architecture, objective: float | None, tag: str,
            values: Mapping[str, float] | None = None, fidelity: float | None = None) -> None:
        """Append one trial: its raw first-objective value and (for several objectives) the
        raw value of each by name (default: ``objective`` under the first objective's name),
        and the fidelity it was evaluated at."""
        if values is None:
            values = {} if objective is None else {self.objective_specs[0].name: objective}
        self.archs.append(arch)
        self.objectives.append(objective)
        self.tags.append(tag)
        self.values.append(dict(values))
        self.fidelities.append(fidelity)
        self.seen.add(arch.canonical_hash)

    def at_fidelity(self, fidelity: float | None) -> History:
        """The trials evaluated at ``fidelity``, in order; ``seen`` still holds every
        architecture evaluated at any fidelity (so a strategy proposes none of them again)."""
        sub = History(self.space, objective_specs=self.objective_specs, seen=set(self.seen))
        for i, f in enumerate(self.fidelities):
            if f == fidelity:
                sub.archs.append(self.archs[i])
                sub.objectives.append(self.objectives[i])
                sub.tags.append(self.tags[i])
                sub.values.append(self.values[i])
                sub.fidelities.append(f)
        return sub

    def __len__(self) -> int:
        return len(self.archs)

    def scores(self) -> list[float | None]:
        """Every trial's first objective, oriented larger-is-better (None: failed)."""
        first = self.objective_specs[0]
        return [None if y is None else first.orient(y) for y in self.objectives]

    def scored(self) -> list[tuple[Architecture, float]]:
        """``(arch, first objective oriented larger-is-better)`` of the successful evaluations,
        in order."""
        return [(a, y) for a, y in zip(self.archs, self.scores()) if y is not None]

    def scored_matrix(self) -> tuple[list[Architecture], list[list[float]]]:
        """The trials with a value for every objective, and their values (one row per trial,
        one column per objective, each oriented larger-is-better)."""
        archs, rows = [], []
        for arch, values in zip(self.archs, self.values):
            row = oriented_row(self.objective_specs, values)
            if row is not None:
                archs.append(arch)
                rows.append(row)
        return archs, rows


@runtime_checkable
class Strategy(Protocol):
    """Proposes architectures; must be a function of the history and the generator only, so
    that a resumed study continues the same trajectory."""

    def propose(self, history: History, n: int, rng: random.Random) -> list[Proposal]: ...

    def spec(self) -> dict[str, Any]:
        """Name and settings (stored with the study, checked on resume)."""
        ...


def random_unseen(space: SearchSpace, history: History, rng: random.Random, n: int,
                  exclude: set[str] | None = None, tag: str = "random",
                  max_draws: int = 100_000) -> list[Proposal]:
    """Up to ``n`` random architectures not in ``history`` (nor in ``exclude``)."""
    taken = set(exclude or ())
    out: list[Proposal] = []
    for _ in range(max_draws):
        if len(out) == n:
            break
        arch = space.sample(rng)
        h = arch.canonical_hash
        if h not in history.seen and h not in taken:
            taken.add(h)
            out.append(Proposal(arch, tag))
    if not out and n:
        raise GraphVAENASError("could not find an unevaluated architecture (is the space exhausted?)")
    return out


class EvaluatedClasses:
    """The equivalence classes (``space.equivalence_key``: bn's Markov classes) of a history's
    architectures, each architecture's key computed once; ``what`` names the option that needs
    them in the error raised for a space without classes."""

    def __init__(self, space: SearchSpace, what: str) -> None:
        if not hasattr(space, "equivalence_key"):
            raise GraphVAENASError(f"{what}: space {space.name!r} has no equivalence classes of "
                                   "structures (needs space.equivalence_key)")
        self.space = space
        self._keys: dict[str, str] = {}

    def key(self, arch: Architecture) -> str:
        return self.space.equivalence_key(arch)

    def of(self, history: History) -> set[str]:
        """The keys of every architecture in ``history``."""
        for arch in history.archs:
            if arch.canonical_hash not in self._keys:
                self._keys[arch.canonical_hash] = self.key(arch)
        return {self._keys[a.canonical_hash] for a in history.archs}
