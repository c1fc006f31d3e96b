"""Markov equivalence of Bayesian-network structures, on parent bit masks.

Two DAGs are Markov equivalent (they encode the same conditional independences) exactly when
they have the same skeleton and the same v-structures (Verma & Pearl 1990). Score-equivalent
scores (BIC, BDeu) give every DAG of a class the same score, so a search that evaluates two
members of one class wastes an evaluation, and a search over arc moves can stall where the
better structure is one move away from *another* member of the class. Every member of a class
is reached from any other by reversing covered arcs, one at a time (Chickering 1995); an arc
``p -> c`` is covered when ``c``'s parents are ``p``'s parents and ``p``.

Masks are as in :mod:`graphvae_nas.spaces.bn`: ``masks[c]`` has bit ``p`` set for an arc
``p -> c``.
"""
from __future__ import annotations

from collections.abc import Sequence

Masks = tuple[int, ...]


def equivalence_key(masks: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The class's invariant as bit masks: the skeleton (``adjacent[v]``: the variables joined
    to ``v`` by an arc either way) and the v-structures (``colliders[c]``: bit ``a * n + b``
    for every ``a -> c <- b`` with ``a`` and ``b`` not adjacent)."""
    n = len(masks)
    adjacent = list(masks)
    for c, m in enumerate(masks):
        p = 0
        while m:
            if m & 1:
                adjacent[p] |= 1 << c
            m >>= 1
            p += 1
    colliders = []
    for m in masks:
        pairs, rest, a = 0, m, 0
        while rest:
            if rest & 1:
                pairs |= (m & ~adjacent[a] & ~(1 << a)) << (a * n)
            rest >>= 1
            a += 1
        colliders.append(pairs)
    return tuple(adjacent), tuple(colliders)


def class_members(masks: Sequence[int], limit: int = 64) -> list[Masks]:
    """Members of ``masks``'s equivalence class, ``masks`` first, then breadth first over
    covered-arc reversals, at most ``limit`` of them (a class can have n! members)."""
    if limit < 1:
        raise ValueError("limit must be >= 1")
    start = tuple(masks)
    found = {start: None}
    queue = [start]
    for current in queue:
        if len(found) >= limit:
            break
        for c, m in enumerate(current):
            for p in set_bits(m):
                if current[c] == current[p] | (1 << p):   # p -> c is covered: reverse it
                    reversed_ = list(current)
                    reversed_[c] &= ~(1 << p)
                    reversed_[p] |= 1 << c
                    member = tuple(reversed_)
                    if member not in found:
                        found[member] = None
                        queue.append(member)
    return list(found)[:limit]


def set_bits(mask: int) -> list[int]:
    """The positions of the 1 bits of ``mask``, lowest first."""
    out, p = [], 0
    while mask:
        if mask & 1:
            out.append(p)
        mask >>= 1
        p += 1
    return out
