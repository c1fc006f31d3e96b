"""What strategies see (the history) and return (proposals), and their protocol."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import SearchSpace


@dataclass(frozen=True)
class Proposal:
    """An architecture to evaluate and the reason it was proposed (e.g. ``random``, ``bo``)."""

    arch: Architecture
    tag: str = ""


@dataclass
class History:
    """Everything evaluated so far, in order; ``seen`` holds their canonical hashes."""

    space: SearchSpace
    archs: list[Architecture] = field(default_factory=list)
    objectives: list[float | None] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def add(self, arch: Architecture, objective: float | None, tag: str) -> None:
        self.archs.append(arch)
        self.objectives.append(objective)
        self.tags.append(tag)
        self.seen.add(arch.canonical_hash)

    def __len__(self) -> int:
        return len(self.archs)

    def scored(self) -> list[tuple[Architecture, float]]:
        """``(arch, objective)`` of the successful evaluations, in order."""
        return [(a, y) for a, y in zip(self.archs, self.objectives) if y is not None]


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
