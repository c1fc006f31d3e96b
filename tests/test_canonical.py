"""Property tests of graphvae_nas.graph.canonical: the hash is equal exactly for isomorphic DAGs.

Every equality claim is checked against networkx's exact (VF2) labelled isomorphism test.
"""
from __future__ import annotations

import os
import subprocess
import sys

import networkx as nx
import pytest
from dag_strategies import dags, nx_graph, nx_isomorphic
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from graphvae_nas.graph import Architecture, canonical_form, canonical_hash

VOCAB = ("input", "output", "a", "b", "c")

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- helpers


def relabel(arch: Architecture, perm) -> Architecture:
    """``arch`` with old node v renamed ``perm[v]``, rebuilt through ``from_edges``."""
    n = arch.num_nodes
    ops = [""] * n
    for v, op in enumerate(arch.ops):
        ops[perm[v]] = op
    edges = [(perm[s], perm[d]) for s, d in reversed(arch.edges)]
    return Architecture.from_edges(ops, edges, input_node=perm[0], output_node=perm[n - 1])


def assert_hash_agrees_with_networkx(a: Architecture, b: Architecture) -> bool:
    iso = nx_isomorphic(a, b)
    assert (a.canonical_hash == b.canonical_hash) == iso, (a, b, iso)
    assert (canonical_form(a) == canonical_form(b)) == iso, (a, b, iso)
    return iso


def has_path(arch: Architecture, src: int, dst: int) -> bool:
    succs = arch.successors()
    stack, seen = [src], {src}
    while stack:
        v = stack.pop()
        if v == dst:
            return True
        for w in succs[v]:
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return False


def single_mutations(arch: Architecture) -> list[tuple]:
    """Every single op change, every valid added edge (either direction) and every valid removal."""
    n = arch.num_nodes
    present = set(arch.edges)
    indeg = [len(p) for p in arch.predecessors()]
    outdeg = [len(s) for s in arch.successors()]
    muts: list[tuple] = []
    for v in range(n):
        for label in VOCAB:
            if label != arch.ops[v]:
                muts.append(("op", v, label))
    for s in range(n - 1):  # the output may not get an outgoing edge
        for d in range(1, n):  # the input may not get an incoming edge
            if s != d and (s, d) not in present and not has_path(arch, d, s):
                muts.append(("add", s, d))
    for s, d in arch.edges:
        if outdeg[s] >= 2 and indeg[d] >= 2:
            muts.append(("remove", s, d))
    return muts


def apply_mutation(arch: Architecture, mut: tuple) -> Architecture:
    kind = mut[0]
    ops, edges = list(arch.ops), list(arch.edges)
    if kind == "op":
        _, v, label = mut
        ops[v] = label
    elif kind == "add":
        edges.append((mut[1], mut[2]))
    elif kind == "remove":
        edges.remove((mut[1], mut[2]))
    elif kind == "swap":  # exchange the labels of two nodes
        _, u, v = mut
        ops[u], ops[v] = ops[v], ops[u]
    elif kind == "rewire":  # remove one edge, add another
        _, rem, add = mut
        edges.remove(rem)
        edges.append(add)
    else:  # pragma: no cover
        raise AssertionError(mut)
    return Architecture.from_edges(ops, edges)


@st.composite
def dag_with_single_mutation(draw):
    arch = draw(dags())
    muts = single_mutations(arch)
    assert muts  # an op can always be changed
    return arch, draw(st.sampled_from(muts))


# --------------------------------------------------------------------------- basics
def test_hash_format_and_determinism() -> None:
    a = Architecture(["input", "a", "b", "output"], [(0, 1), (0, 2), (1, 3), (2, 3)])
    h = canonical_hash(a)
    assert isinstance(h, str) and len(h) == 32
    int(h, 16)  # hexadecimal
    assert h == a.canonical_hash == canonical_hash(Architecture(a.ops, a.edges))


def test_hash_stable_across_processes_and_hash_seeds() -> None:
    """No dependence on set/dict iteration order (PYTHONHASHSEED) or on the process."""
    code = ("from graphvae_nas.graph import Architecture as A;"
            "a=A(['input','a','b','a','b','c','output'],"
            "[(0,1),(0,2),(1,3),(2,4),(3,5),(4,5),(0,5),(5,6),(1,6)]);"
            "print(a.canonical_hash)")
    here = Architecture(["input", "a", "b", "a", "b", "c", "output"],
                        [(0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 5), (0, 5), (5, 6), (1, 6)])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    results = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed,
               "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True, timeout=120)
        results.add(out.stdout.strip())
    assert results == {here.canonical_hash}


@pytest.mark.parametrize("ops,edges,expected", [
    (["input", "a", "b", "a", "b", "c", "output"],
     [(0, 1), (0, 2), (0, 5), (1, 3), (1, 6), (2, 4), (3, 5), (4, 5), (5, 6)],
     "f130ae2b3c45b7fc621bdaa296c47615"),
    (["input"] + ["a"] * 8 + ["output"],  # four parallel two-node chains
     [(0, 1), (0, 3), (0, 5), (0, 7), (1, 2), (2, 9), (3, 4), (4, 9), (5, 6), (6, 9), (7, 8),
      (8, 9)],
     "d7a82462f31c8120e3641484eabc3a4f"),
    (["input"] + ["a"] * 5 + ["b"] * 5 + ["output"],  # a 4-cycle and a 6-cycle between layers
     [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (1, 6), (1, 7), (2, 6), (2, 7), (3, 8), (3, 9),
      (4, 9), (4, 10), (5, 8), (5, 10), (6, 11), (7, 11), (8, 11), (9, 11), (10, 11)],
     "9ac5617bfb0f95365bcb825f8e554fb7"),
])
def test_pinned_hash_values(ops, edges, expected) -> None:
    """Hashes are stored in datasets: a change of the canonical form must bump _HASH_VERSION.

    The values were produced by the first released implementation (plain search without
    automorphism pruning); pruning must not change which form is the minimum.
    """
    a = Architecture(ops, edges)
    assert a.canonical_hash == expected
    assert relabel(a, [0, *range(a.num_nodes - 2, 0, -1), a.num_nodes - 1]).canonical_hash == expected


def test_label_matters_not_just_structure() -> None:
    a = Architecture(["input", "a", "output"], [(0, 1), (1, 2)])
    b = Architecture(["input", "b", "output"], [(0, 1), (1, 2)])
    c = Architecture(["x", "a", "output"], [(0, 1), (1, 2)])
    assert len({a.canonical_hash, b.canonical_hash, c.canonical_hash}) == 3


def test_direction_matters() -> None:
    # same undirected shape and labels: 'a' feeds 'b' versus 'b' feeds 'a'
    a = Architecture(["input", "a", "b", "output"], [(0, 1), (1, 2), (2, 3)])
    b = Architecture(["input", "b", "a", "output"], [(0, 1), (1, 2), (2, 3)])
    assert assert_hash_agrees_with_networkx(a, b) is False


def test_swapped_branches_are_isomorphic() -> None:
    a = Architecture(["input", "a", "b", "c", "output"],
                     [(0, 1), (0, 2), (1, 3), (2, 4), (3, 4)])
    b = Architecture(["input", "b", "a", "c", "output"],
                     [(0, 1), (0, 2), (1, 4), (2, 3), (3, 4)])
    assert a != b
    assert assert_hash_agrees_with_networkx(a, b) is True


def test_canonical_form_shape() -> None:
    a = Architecture(["input", "b", "a", "output"], [(0, 1), (0, 2), (1, 3), (2, 3), (1, 2)])
    ops, edges = canonical_form(a)
    assert isinstance(ops, tuple) and isinstance(edges, tuple)
    assert sorted(ops) == sorted(a.ops)
    assert list(edges) == sorted(edges) and len(edges) == a.num_edges


# --------------------------------------------------------------------------- (a) invariance
@SETTINGS
@given(dags(), st.data())
def test_invariant_under_relabelling(a: Architecture, data) -> None:
    perm = data.draw(st.permutations(range(a.num_nodes)))
    b = relabel(a, perm)
    assert nx_isomorphic(a, b)  # the construction itself is sound
    assert b.canonical_hash == a.canonical_hash
    assert canonical_form(b) == canonical_form(a)


@SETTINGS
@given(dags(labels=("a",)), st.data())
def test_invariant_under_relabelling_single_label(a: Architecture, data) -> None:
    # one inner label: symmetries are frequent, so the search really has to branch
    perm = data.draw(st.permutations(range(a.num_nodes)))
    b = relabel(a, perm)
    assert b.canonical_hash == a.canonical_hash
    assert canonical_form(b) == canonical_form(a)


@SETTINGS
@given(dags())
def test_canonical_form_is_a_renumbering_of_the_graph(a: Architecture) -> None:
    ops, edges = canonical_form(a)
    assert len(ops) == a.num_nodes and len(edges) == a.num_edges
    assert len(set(edges)) == len(edges)
    assert all(0 <= s < len(ops) and 0 <= d < len(ops) for s, d in edges)
    assert nx.is_isomorphic(nx_graph(ops, edges), nx_graph(a.ops, a.edges),
                            node_match=lambda x, y: x["op"] == y["op"])


# --------------------------------------------------------------------------- (b) sensitivity
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag_with_single_mutation())
def test_single_change_changes_hash(case) -> None:
    a, mut = case
    b = apply_mutation(a, mut)  # valid by construction: must not raise
    iso = assert_hash_agrees_with_networkx(a, b)
    # a single op change alters the label multiset and a single edge change the edge
    # count, so no such change can give an isomorphic graph
    assert not iso
    assert a.canonical_hash != b.canonical_hash


def test_every_single_change_of_a_fixed_graph() -> None:
    """Exhaustive version on a hand-made graph with symmetric parts."""
    a = Architecture(["input", "a", "a", "b", "b", "c", "output"],
                     [(0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 5), (5, 6), (0, 5)])
    muts = single_mutations(a)
    kinds = {m[0] for m in muts}
    assert kinds == {"op", "add", "remove"}
    hashes = set()
    for mut in muts:
        b = apply_mutation(a, mut)
        assert not assert_hash_agrees_with_networkx(a, b)
        hashes.add(b.canonical_hash)
    assert a.canonical_hash not in hashes
    # symmetric changes coincide: e.g. relabelling node 1 or node 2 gives isomorphic graphs
    assert (apply_mutation(a, ("op", 1, "c")).canonical_hash
            == apply_mutation(a, ("op", 2, "c")).canonical_hash)
    assert (apply_mutation(a, ("add", 1, 4)).canonical_hash
            == apply_mutation(a, ("add", 2, 3)).canonical_hash)
    assert (apply_mutation(a, ("add", 1, 4)).canonical_hash
            != apply_mutation(a, ("add", 1, 2)).canonical_hash)


@st.composite
def dag_with_swap_or_rewire(draw):
    """Changes that keep label multiset and edge count, so isomorphic results do occur."""
    arch = draw(dags(labels=("a", "b"), densities=(0, 10, 25, 40)))
    n = arch.num_nodes
    swaps = [("swap", u, v) for u in range(n) for v in range(u + 1, n)
             if arch.ops[u] != arch.ops[v]]
    indeg = [len(p) for p in arch.predecessors()]
    outdeg = [len(s) for s in arch.successors()]
    removable = [e for e in arch.edges if outdeg[e[0]] >= 2 and indeg[e[1]] >= 2]
    absent = [(s, d) for s in range(n) for d in range(s + 1, n) if (s, d) not in arch.edges]
    rewires = [("rewire", rem, add) for rem in removable for add in absent]
    kinds = [m for m in (swaps, rewires) if m]
    if not kinds:
        return arch, None
    return arch, draw(st.sampled_from(draw(st.sampled_from(kinds))))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag_with_swap_or_rewire())
def test_swap_or_rewire_agrees_with_networkx(case) -> None:
    a, mut = case
    assume(mut is not None)   # a graph with no such change: not an example
    b = apply_mutation(a, mut)
    assert_hash_agrees_with_networkx(a, b)


# --------------------------------------------------------------------------- (c) random pairs
@st.composite
def graph_pairs(draw):
    labels = draw(st.sampled_from([("a",), ("a", "b")]))
    n = draw(st.integers(4, 9))  # smaller graphs are covered exhaustively below
    densities = (0, 10, 20, 35, 60)
    a = draw(dags(n=n, labels=labels, densities=densities))
    if draw(st.booleans()):
        perm = draw(st.permutations(range(n)))
        b = relabel(a, perm)
    else:
        b = draw(dags(n=n, labels=labels, densities=densities))
    return a, b


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph_pairs())
def test_random_pairs_agree_with_networkx(pair) -> None:
    a, b = pair
    assert_hash_agrees_with_networkx(a, b)
    assert a.is_isomorphic(b) == b.is_isomorphic(a) == (a.canonical_hash == b.canonical_hash)


@pytest.mark.parametrize("n,labels", [(5, "ab"), (6, "a")])
def test_all_small_dags_are_classified_exactly(n: int, labels: str) -> None:
    """Every valid DAG on ``n`` nodes with the given inner labels: hash classes == iso classes."""
    import itertools

    pairs = [(s, d) for s in range(n) for d in range(s + 1, n)]
    archs = []
    for mask in range(1 << len(pairs)):
        edges = [p for i, p in enumerate(pairs) if mask >> i & 1]
        if not all(any(d == v for _, d in edges) for v in range(1, n)):
            continue
        if not all(any(s == v for s, _ in edges) for v in range(n - 1)):
            continue
        for inner in itertools.product(labels, repeat=n - 2):
            archs.append(Architecture(["input", *inner, "output"], edges))
    by_hash: dict[str, list[Architecture]] = {}
    for a in archs:
        by_hash.setdefault(a.canonical_hash, []).append(a)
    # same hash => isomorphic
    for group in by_hash.values():
        for other in group[1:]:
            assert nx_isomorphic(group[0], other), (group[0], other)
    # different hash => not isomorphic (compare class representatives pairwise, only within
    # buckets of equal isomorphism invariants: per node (op, in-degree, out-degree, level))
    reps = [g[0] for g in by_hash.values()]
    buckets: dict[tuple, list[Architecture]] = {}
    for r in reps:
        preds, succs, levels = r.predecessors(), r.successors(), r.levels()
        key = tuple(sorted((r.ops[v], len(preds[v]), len(succs[v]), levels[v])
                           for v in range(r.num_nodes)))
        buckets.setdefault(key, []).append(r)
    for bucket in buckets.values():
        for i, x in enumerate(bucket):
            for y in bucket[i + 1:]:
                assert not nx_isomorphic(x, y), (x, y)
    assert len(reps) < len(archs)  # isomorphic duplicates really occur here


# --------------------------------------------------------------------------- (d) hard cases
def parallel_chains(k: int, length: int, label: str = "a", cross: int = 0) -> Architecture:
    """``k`` identical chains of ``length`` nodes between input and output.

    With ``cross`` > 0, chain i's first node also feeds chain (i + cross) % k's second node
    (the chain nodes then form one or several undirected cycles depending on gcd(k, cross)).
    """
    ops = ["input"]
    chain_nodes = []
    for _ in range(k):
        chain = []
        for _ in range(length):
            ops.append(label)
            chain.append(len(ops) - 1)
        chain_nodes.append(chain)
    out = len(ops)
    ops.append("output")
    edges = []
    for i, chain in enumerate(chain_nodes):
        edges.append((0, chain[0]))
        edges.extend(zip(chain, chain[1:]))
        edges.append((chain[-1], out))
        if cross:
            edges.append((chain[0], chain_nodes[(i + cross) % k][1]))
    return Architecture.from_edges(ops, edges)


def complete_layered(widths, label: str = "a") -> Architecture:
    ops = ["input"]
    layers = []
    for w in widths:
        layers.append(list(range(len(ops), len(ops) + w)))
        ops.extend([label] * w)
    out = len(ops)
    ops.append("output")
    edges = [(0, v) for v in layers[0]]
    for la, lb in zip(layers, layers[1:]):
        edges.extend((u, v) for u in la for v in lb)
    edges.extend((v, out) for v in layers[-1])
    return Architecture.from_edges(ops, edges)


def reversed_numbering(a: Architecture) -> Architecture:
    """Isomorphic copy with the inner nodes numbered in reverse (a non-trivial permutation)."""
    n = a.num_nodes
    perm = [0] + [n - 1 - v for v in range(1, n - 1)] + [n - 1]
    return relabel(a, perm)


@pytest.mark.parametrize("k,length", [(2, 1), (5, 1), (12, 1), (2, 2), (4, 2), (6, 2),
                                      (3, 3), (5, 3), (4, 4)])
def test_parallel_chains(k: int, length: int) -> None:
    a = parallel_chains(k, length)
    b = reversed_numbering(a)
    assert assert_hash_agrees_with_networkx(a, b) is True
    # one chain with a different label in the middle: not isomorphic
    ops = list(a.ops)
    ops[1] = "b"
    c = Architecture(ops, a.edges)
    assert assert_hash_agrees_with_networkx(a, c) is False
    # one more chain of the same kind (different node count): not isomorphic
    assert parallel_chains(k + 1, length).canonical_hash != a.canonical_hash
    if length >= 2:
        # the tails of chains 1 and 2 exchanged: the same graph again
        swapped = {(1, 2), (1 + length, 2 + length)}
        d = Architecture.from_edges(a.ops, [e for e in a.edges if e not in swapped]
                                    + [(1, 2 + length), (1 + length, 2)])
        assert d != a
        assert assert_hash_agrees_with_networkx(a, d) is True
        # chain 1's head also feeding chain 2's second node: not isomorphic
        e = Architecture(a.ops, list(a.edges) + [(1, 2 + length)])
        assert assert_hash_agrees_with_networkx(a, e) is False


@pytest.mark.parametrize("k", [4, 6])
def test_cross_linked_chains_one_cycle_versus_two(k: int) -> None:
    """Regular graphs that colour refinement alone cannot tell apart.

    Between the chains' first and second nodes, offset 1 makes one undirected 2k-cycle and
    offset k/2 makes k/2 four-cycles; every node has the same refined colour in both.
    """
    one_cycle = parallel_chains(k, 2, cross=1)
    other = parallel_chains(k, 2, cross=k // 2)
    assert assert_hash_agrees_with_networkx(one_cycle, other) is False
    assert assert_hash_agrees_with_networkx(one_cycle, reversed_numbering(one_cycle)) is True
    assert assert_hash_agrees_with_networkx(other, reversed_numbering(other)) is True


def test_bipartite_twelve_cycle_versus_two_six_cycles() -> None:
    """Six 'a' nodes feeding six 'b' nodes, 2-regular: one 12-cycle versus two 6-cycles."""

    def build(pairs):
        ops = ["input"] + ["a"] * 6 + ["b"] * 6 + ["output"]
        edges = [(0, i) for i in range(1, 7)] + [(j, 13) for j in range(7, 13)]
        edges += [(1 + i, 7 + j) for i, j in pairs]
        return Architecture(ops, edges)

    one = build([(i, i) for i in range(6)] + [(i, (i + 1) % 6) for i in range(6)])
    two = build([(i, i) for i in range(6)]
                + [(i, (i + 1) % 3) for i in range(3)] + [(i, 3 + (i + 1) % 3) for i in range(3, 6)])
    assert assert_hash_agrees_with_networkx(one, two) is False
    shuffled = relabel(one, [0, 3, 1, 6, 2, 5, 4, 12, 8, 7, 11, 10, 9, 13])
    assert assert_hash_agrees_with_networkx(one, shuffled) is True


def two_layer_cycles(parts, order, labels=("a", "b")) -> Architecture:
    """Input -> k nodes labelled labels[0] -> k nodes labelled labels[1] -> output.

    Between the two layers every node has exactly two edges; they form undirected cycles of
    2 * p nodes for each p in ``parts`` (``order`` decides which indices each cycle uses).
    Every inner node has the same refined colour within its layer, so colour refinement
    alone tells nothing apart and only the individualisation search can; two such graphs
    are isomorphic exactly when their sorted ``parts`` agree.
    """
    k = sum(parts)
    sigma = [0] * k
    start = 0
    for p in parts:
        cycle = order[start:start + p]
        for j, i in enumerate(cycle):
            sigma[i] = cycle[(j + 1) % p]
        start += p
    ops = ["input"] + [labels[0]] * k + [labels[1]] * k + ["output"]
    out = 2 * k + 1
    edges = [(0, 1 + i) for i in range(k)] + [(1 + k + i, out) for i in range(k)]
    edges += [(1 + i, 1 + k + i) for i in range(k)] + [(1 + i, 1 + k + sigma[i]) for i in range(k)]
    return Architecture(ops, edges)


@st.composite
def cycle_partitions(draw, k: int) -> list[int]:
    """A random partition of ``k`` >= 2 into parts >= 2."""
    parts, rest = [], k
    while rest > 0:
        part = rest if rest <= 3 else draw(st.integers(2, rest - 2) | st.just(rest))
        parts.append(part)
        rest -= part
    return parts


@st.composite
def two_layer_cycle_pairs(draw):
    k = draw(st.integers(3, 8))
    labels = draw(st.sampled_from([("a", "b"), ("a", "a")]))
    graphs = []
    for _ in range(2):
        parts = draw(cycle_partitions(k))
        order = draw(st.permutations(range(k)))
        g = two_layer_cycles(parts, order, labels)
        perm = draw(st.permutations(range(g.num_nodes)))
        graphs.append((sorted(parts), relabel(g, perm)))
    return graphs


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_layer_cycle_pairs())
def test_refinement_blind_graphs_need_the_search(pair) -> None:
    """Graphs on which colour refinement is useless: the result must still be exact.

    A search that tries only one node of an ambiguous colour class, or prunes non-twins
    as twins, numbers such graphs differently depending on the input order.
    """
    (parts_a, a), (parts_b, b) = pair
    iso = assert_hash_agrees_with_networkx(a, b)
    assert iso == (parts_a == parts_b)


@pytest.mark.parametrize("parts", [[2, 3], [2, 4], [3, 4], [2, 2, 3], [3, 5]])
def test_refinement_blind_graph_is_invariant_under_every_rotation(parts) -> None:
    """Cycles of different lengths in one graph: nodes of one colour lie in different orbits."""
    k = sum(parts)
    base = two_layer_cycles(parts, list(range(k)))
    forms = set()
    for shift in range(k):  # rotate which indices the cycles occupy
        order = [(i + shift) % k for i in range(k)]
        g = two_layer_cycles(parts, order)
        assert nx_isomorphic(g, base)
        forms.add((g.canonical_hash, canonical_form(g)))
        rev = reversed_numbering(g)
        forms.add((rev.canonical_hash, canonical_form(rev)))
    assert len(forms) == 1


@pytest.mark.parametrize("widths", [(3,), (3, 3), (3, 3, 3), (4, 4), (2, 3, 4, 2), (5, 5, 5)])
def test_complete_layered_identical_labels(widths) -> None:
    a = complete_layered(widths)
    b = reversed_numbering(a)
    assert assert_hash_agrees_with_networkx(a, b) is True
    # drop one edge between two inner layers (or between input and a node if there is one layer)
    if len(widths) >= 2:
        drop = next(e for e in a.edges if e[0] != 0 and e[1] != a.num_nodes - 1)
        c = Architecture(a.ops, [e for e in a.edges if e != drop])
        assert assert_hash_agrees_with_networkx(a, c) is False
        # dropping a different (symmetric) edge gives the same graph as c
        drop2 = [e for e in a.edges if e[0] != 0 and e[1] != a.num_nodes - 1][-1]
        c2 = Architecture(a.ops, [e for e in a.edges if e != drop2])
        assert_hash_agrees_with_networkx(c, c2)
    # relabel one node: not isomorphic
    ops = list(a.ops)
    ops[1] = "b"
    assert assert_hash_agrees_with_networkx(a, Architecture(ops, a.edges)) is False


def test_many_twins() -> None:
    # input -> 10 identical twins -> 'b' -> 6 identical twins -> output, plus skip edges
    ops = ["input"] + ["a"] * 10 + ["b"] + ["c"] * 6 + ["output"]
    mid = 11
    out = len(ops) - 1
    edges = [(0, v) for v in range(1, 11)] + [(v, mid) for v in range(1, 11)]
    edges += [(mid, v) for v in range(12, 18)] + [(v, out) for v in range(12, 18)]
    edges += [(0, out)]
    a = Architecture(ops, edges)
    b = reversed_numbering(a)
    assert assert_hash_agrees_with_networkx(a, b) is True
    # one twin gets an extra skip edge to the output: breaks exactly one twin
    c = Architecture(ops, edges + [(1, out)])
    c2 = Architecture(ops, edges + [(7, out)])
    assert assert_hash_agrees_with_networkx(a, c) is False
    assert assert_hash_agrees_with_networkx(c, c2) is True
    # two twins of the first group each get a skip edge, versus one twin getting it twice over
    d = Architecture(ops, edges + [(1, 12), (2, 13)])
    e = Architecture(ops, edges + [(1, 12), (1, 13)])
    assert assert_hash_agrees_with_networkx(d, e) is False


def test_parallel_chains_search_is_not_factorial(monkeypatch) -> None:
    """k identical chains have k! automorphisms; the search must not visit one leaf per each.

    Counts how many leaves (complete renumberings) the individualisation-refinement search
    builds. Without automorphism pruning it would build k! of them, which would make hashing
    a graph of 10 parallel two-node chains (22 nodes) take minutes.
    """
    from graphvae_nas.graph import canonical as canonical_module

    calls = {"leaves": 0}
    real_leaf = canonical_module._leaf_form

    def counting_leaf(*args, **kwargs):
        calls["leaves"] += 1
        return real_leaf(*args, **kwargs)

    monkeypatch.setattr(canonical_module, "_leaf_form", counting_leaf)
    a = parallel_chains(7, 2)  # 16 nodes; 7! = 5040 automorphisms
    canonical_form(a)
    assert calls["leaves"] <= a.num_nodes ** 2, calls


@pytest.mark.parametrize("make", [
    lambda: parallel_chains(10, 2),
    lambda: parallel_chains(12, 3),
    lambda: parallel_chains(8, 2, cross=1),
    lambda: complete_layered((6, 6, 6, 6)),
    lambda: two_layer_cycles([3, 3, 3, 3], list(range(12))),
    lambda: two_layer_cycles([2, 2, 2, 2, 2, 2], list(range(12))),
], ids=["chains10x2", "chains12x3", "crossed8", "layered6x4", "cycles3333", "cycles2x6"])
def test_large_symmetric_graphs_finish_and_agree(make) -> None:
    """Graphs with huge automorphism groups (10! and more): hashing must finish quickly."""
    a = make()
    b = reversed_numbering(a)
    assert b.canonical_hash == a.canonical_hash
    assert canonical_form(b) == canonical_form(a)
    assert nx_isomorphic(a, b)
    # breaking the symmetry at one node changes the hash
    ops = list(a.ops)
    ops[a.num_nodes // 2] = "z"
    assert Architecture(ops, a.edges).canonical_hash != a.canonical_hash
