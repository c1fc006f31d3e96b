"""Canonical labelling of node-labelled DAGs, and the isomorphism-invariant hash built on it.

The method is colour refinement followed by individualisation-refinement search, the scheme
used by practical graph-canonisation tools: node colours start as op labels and are refined
by the multisets of predecessor and successor colours until stable. If some colour class
still holds several nodes, each node of the first such class is individualised in turn and
the search recurses; the canonical form is the smallest form over all leaves. Every step
depends only on colours, never on the input numbering, so isomorphic graphs get the same
form, and each leaf is a renumbering of the graph, so different graphs never do. Nodes with
identical label, predecessors and successors ("twins") are interchangeable, so only one of
them is tried; and a sibling whose leftmost leaf equals that of an explored sibling is skipped
(the two leaves define an automorphism mapping one subtree onto the other), which keeps
symmetric graphs such as k parallel chains polynomial instead of k!.
"""
from __future__ import annotations

import functools
import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphvae_nas.graph.architecture import Architecture

CanonicalForm = tuple[tuple[str, ...], tuple[tuple[int, int], ...]]

_HASH_VERSION = "gvn1"


def canonical_form(arch: Architecture) -> CanonicalForm:
    """``(ops, edges)`` of ``arch`` renumbered canonically; equal iff the DAGs are isomorphic."""
    ops = arch.ops
    label_rank = {label: i for i, label in enumerate(sorted(set(ops)))}
    if len(label_rank) == len(ops):
        # unique labels (e.g. Bayesian networks): refinement would return the label ranks
        # unchanged, so the label order is already the canonical numbering
        return _leaf_form([label_rank[op] for op in ops], arch)
    preds = arch.predecessors()
    succs = arch.successors()
    colors = _refine([label_rank[op] for op in ops], preds, succs)
    return _search(colors, arch, preds, succs)


def canonical_hash(arch: Architecture) -> str:
    """32-hex-digit digest of :func:`canonical_form` (stable across runs and machines).

    Results are cached by exact graph, so tables that list the same architectures hash each
    one once.
    """
    return _cached_hash(arch)


@functools.lru_cache(maxsize=1 << 17)
def _cached_hash(arch: Architecture) -> str:
    ops, edges = canonical_form(arch)
    payload = json.dumps([_HASH_VERSION, ops, edges], separators=(",", ":"))
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


def _refine(colors: list[int], preds: list[list[int]], succs: list[list[int]]) -> list[int]:
    """Refine until stable; colours are re-ranked so that they depend only on the signatures."""
    n = len(colors)
    num_classes = len(set(colors))
    while True:
        signatures = [
            (colors[v], tuple(sorted([colors[p] for p in preds[v]])),
             tuple(sorted([colors[s] for s in succs[v]])))
            for v in range(n)
        ]
        ranking = {sig: i for i, sig in enumerate(sorted(set(signatures)))}
        new_colors = [ranking[sig] for sig in signatures]
        if len(ranking) == num_classes:
            return new_colors
        colors, num_classes = new_colors, len(ranking)


def _search(colors: list[int], arch: Architecture, preds: list[list[int]],
            succs: list[list[int]]) -> CanonicalForm:
    n = len(colors)
    target = _target_cell(colors)
    if target is None:
        return _leaf_form(colors, arch)
    best: CanonicalForm | None = None
    tried: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    first_leaves: set[CanonicalForm] = set()
    for v in range(n):
        if colors[v] != target:
            continue
        twin_key = (tuple(preds[v]), tuple(succs[v]))
        if twin_key in tried:
            continue  # swapping twins is an automorphism: same subtree
        tried.add(twin_key)
        child = _individualise(colors, v, target, preds, succs)
        leaf = _leftmost_leaf(child, arch, preds, succs)
        if leaf in first_leaves:
            # equal leftmost leaves give an automorphism fixing the path so far and mapping an
            # explored sibling to v, so this subtree is an image of one already searched
            continue
        first_leaves.add(leaf)
        form = _search(child, arch, preds, succs)
        if best is None or form < best:
            best = form
    assert best is not None
    return best


def _target_cell(colors: list[int]) -> int | None:
    """The smallest colour shared by several nodes, or None when the colouring is discrete."""
    counts: dict[int, int] = {}
    for c in colors:
        counts[c] = counts.get(c, 0) + 1
    shared = [c for c, k in counts.items() if k > 1]
    return min(shared) if shared else None


def _individualise(colors: list[int], v: int, target: int, preds: list[list[int]],
                   succs: list[list[int]]) -> list[int]:
    """Give ``v`` a colour of its own just before the rest of its cell, then refine."""
    split = [2 * c + (1 if c == target and u != v else 0) for u, c in enumerate(colors)]
    return _refine(split, preds, succs)


def _leftmost_leaf(colors: list[int], arch: Architecture, preds: list[list[int]],
                   succs: list[list[int]]) -> CanonicalForm:
    """The leaf reached by always individualising the first node of the target cell."""
    target = _target_cell(colors)
    while target is not None:
        colors = _individualise(colors, colors.index(target), target, preds, succs)
        target = _target_cell(colors)
    return _leaf_form(colors, arch)


def _leaf_form(colors: list[int], arch: Architecture) -> CanonicalForm:
    ops = [""] * len(colors)
    for v, c in enumerate(arch.ops):
        ops[colors[v]] = c
    edges = tuple(sorted((colors[s], colors[d]) for s, d in arch.edges))
    return tuple(ops), edges
