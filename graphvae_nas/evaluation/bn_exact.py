"""The exact score-optimal Bayesian network by dynamic programming (Silander & Myllymaki, 2006).

1. Local scores: the family score of every variable with every parent set (``n 2^(n-1)``).
2. Best parent sets: ``bps_v(C)`` = the best family of ``v`` with parents inside candidate set
   ``C``, by a sweep over the bits (``bps_v(C) = max(score_v(C), max_x bps_v(C - x))``).
3. Best sinks: for every variable set ``W`` the best network over ``W`` ends with a sink
   ``s`` whose parents are ``bps_s(W - s)``; ``best(W) = max_s best(W - s) + bps_s(W - s)``,
   computed over the subsets one size at a time.
4. Read back the order of sinks and their parent sets from the full set.

Time and memory grow as ``n 2^n``, so networks of more than :data:`MAX_EXACT_VARIABLES`
variables are refused. Step 1 dominates: 1,024 family scores for 8 variables (well under a
second), about 10^7 for 20 (minutes; ``max_parents`` does not shorten the sweep, only the counting). Ties are broken deterministically (the first best found).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graphvae_nas.errors import DataFormatError
from graphvae_nas.evaluation.bic import FamilyScores
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces.bn import BayesianNetworkSpace

MAX_EXACT_VARIABLES = 20


@dataclass(frozen=True)
class ExactResult:
    """The optimum: its score, parent masks (variable order) and architecture of the space."""

    score: float
    masks: tuple[int, ...]
    arch: Architecture


def exact_optimum(space: BayesianNetworkSpace, scores: FamilyScores) -> ExactResult:
    """The DAG of ``space`` (respecting its ``max_parents``) with the best total score."""
    n = space.num_variables
    if tuple(scores.data.names) != tuple(space.variables):
        raise DataFormatError(f"the scores are over {list(scores.data.names)}, the space over "
                              f"{list(space.variables)}", field="variables")
    if n > MAX_EXACT_VARIABLES:
        raise DataFormatError(
            f"exact search is limited to {MAX_EXACT_VARIABLES} variables (time and memory grow as "
            f"n 2^n); this network has {n}: use a heuristic search instead",
            path=scores.data.path)
    full = 1 << n
    everything = np.arange(full, dtype=np.int64)
    best_value, best_set = [], []
    for v in range(n):
        value = scores.local_scores(v, space.max_parents)
        chosen = everything.copy()
        for b in range(n):
            if b == v:
                continue
            with_b = everything[(everything >> b) & 1 == 1]
            without = with_b ^ (1 << b)
            better = value[without] > value[with_b]
            value[with_b[better]] = value[without[better]]
            chosen[with_b[better]] = chosen[without[better]]
        best_value.append(value)
        best_set.append(chosen)
    popcount = np.zeros(full, dtype=np.int64)
    for b in range(n):
        popcount += (everything >> b) & 1
    network = np.full(full, -np.inf)
    network[0] = 0.0
    sink = np.full(full, -1, dtype=np.int64)
    for size in range(1, n + 1):
        sets = everything[popcount == size]
        top = np.full(len(sets), -np.inf)
        top_sink = np.full(len(sets), -1, dtype=np.int64)
        for s in range(n):
            has = (sets >> s) & 1 == 1
            rest = sets[has] ^ (1 << s)
            candidate = network[rest] + best_value[s][rest]
            better = candidate > top[has]
            idx = np.flatnonzero(has)[better]
            top[idx] = candidate[better]
            top_sink[idx] = s
        network[sets] = top
        sink[sets] = top_sink
    masks = [0] * n
    remaining = full - 1
    while remaining:
        s = int(sink[remaining])
        remaining ^= 1 << s
        masks[s] = int(best_set[s][remaining])
    arch = space.from_masks(masks)
    return ExactResult(scores.total(masks), tuple(masks), arch)
