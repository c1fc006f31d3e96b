"""A search space restricted to the architectures of a table.

A search over a benchmark table can only score the architectures the table holds. When the
table covers its whole space (NAS-Bench-201's 15,625 cells) nothing changes; when it does not
(a sample of a large space, zero-cost proxies for part of NB201), :func:`restricted_to` gives a
space whose random samples, neighbours and mutations are table members, and which
``contains`` only them, so that strategies propose nothing the table cannot score.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from graphvae_nas.graph import Architecture
from graphvae_nas.spaces.base import SearchSpace, Seed, as_rng


class TableSpace:
    """``base`` restricted to ``members``; everything else (name, format, validity, decoding
    rules) is the base space's."""

    def __init__(self, base: SearchSpace, members: Sequence[Architecture]) -> None:
        self.base = base
        self.members = list({a.canonical_hash: a for a in members}.values())
        self._hashes = {a.canonical_hash for a in self.members}

    def __getattr__(self, name: str) -> Any:
        if name == "class_neighbours":       # bn: the moves between classes, kept in the table
            moves = getattr(self.base, name)
            return lambda arch, *args, **kwargs: [a for a in moves(arch, *args, **kwargs)
                                                  if self.contains(a)]
        return getattr(self.base, name)

    def contains(self, arch: Architecture) -> bool:
        """Whether ``arch`` (up to isomorphism) is a member."""
        return arch.canonical_hash in self._hashes

    def size(self) -> int:
        return len(self.members)

    def enumerate(self) -> Iterator[Architecture]:
        return iter(self.members)

    def sample(self, seed: Seed = None) -> Architecture:
        return as_rng(seed).choice(self.members)

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        return [a for a in self.base.neighbours(arch) if self.contains(a)]

    def mutate(self, arch: Architecture, seed: Seed = None) -> Architecture:
        """A random neighbour in the table, or a random member when it has none."""
        rng = as_rng(seed)
        options = self.neighbours(arch)
        return rng.choice(options) if options else self.sample(rng)


def restricted_to(space: SearchSpace, archs: Sequence[Architecture]) -> SearchSpace:
    """``space`` itself when ``archs`` cover all of it, else the :class:`TableSpace` of them."""
    size = getattr(space, "size", lambda: None)()
    distinct = len({a.canonical_hash for a in archs})
    return space if size is not None and distinct >= size else TableSpace(space, archs)
