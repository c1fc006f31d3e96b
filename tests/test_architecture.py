"""Tests for graphvae_nas.graph.Architecture: validation errors and exact round trips."""
from __future__ import annotations

import json
import pickle
import random

import networkx as nx
import numpy as np
import pytest
import torch
from dag_strategies import dags, nx_graph, nx_isomorphic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph import Architecture


INNER_LABELS = ("a", "b", "c")
VOCAB = ["input", "output", "a", "b", "c"]

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- strategies


@st.composite
def dag_and_permutation(draw, **kwargs) -> tuple[Architecture, list[int]]:
    arch = draw(dags(**kwargs))
    perm = draw(st.permutations(range(arch.num_nodes)))
    return arch, list(perm)


def permuted_parts(arch: Architecture, perm: list[int]):
    """Ops/edges of ``arch`` with old node v renamed perm[v] (edge list order shuffled too)."""
    n = arch.num_nodes
    ops = [""] * n
    for v, op in enumerate(arch.ops):
        ops[perm[v]] = op
    edges = [(perm[s], perm[d]) for s, d in arch.edges]
    random.Random(sum(perm)).shuffle(edges)
    return ops, edges, perm[0], perm[n - 1]


def longest_path_depths(arch: Architecture) -> list[int]:
    """Independent longest-path depth from node 0, by memoised recursion over predecessors."""
    preds: dict[int, list[int]] = {v: [] for v in range(arch.num_nodes)}
    for s, d in arch.edges:
        preds[d].append(s)
    memo: dict[int, int] = {}

    def depth(v: int) -> int:
        if v not in memo:
            memo[v] = 0 if not preds[v] else 1 + max(depth(p) for p in preds[v])
        return memo[v]

    return [depth(v) for v in range(arch.num_nodes)]


def error_message(callable_, *args, **kwargs) -> str:
    with pytest.raises(ArchitectureError) as info:
        callable_(*args, **kwargs)
    return str(info.value).lower()


# --------------------------------------------------------------------------- validation
def test_error_type_is_value_error() -> None:
    assert issubclass(ArchitectureError, ValueError)


def test_valid_small_architectures_accepted() -> None:
    a = Architecture(["input", "output"], [(0, 1)])
    assert a.num_nodes == 2 and a.num_edges == 1
    b = Architecture(["input", "a", "b", "output"], [(0, 1), (0, 2), (1, 3), (2, 3), (1, 2)])
    assert b.edges == ((0, 1), (0, 2), (1, 2), (1, 3), (2, 3))
    assert b.predecessors() == [[], [0], [0, 1], [1, 2]]
    assert b.successors() == [[1, 2], [2, 3], [3], []]


def test_edges_are_sorted_and_input_order_does_not_matter() -> None:
    a = Architecture(["input", "a", "b", "output"], [(2, 3), (0, 2), (1, 3), (0, 1)])
    b = Architecture(["input", "a", "b", "output"], [[0, 1], [0, 2], [1, 3], [2, 3]])
    assert a.edges == ((0, 1), (0, 2), (1, 3), (2, 3))
    assert a == b and hash(a) == hash(b)


def test_cycle_via_from_edges() -> None:
    msg = error_message(Architecture.from_edges, ["input", "a", "b", "output"],
                        [(0, 1), (1, 2), (2, 1), (2, 3)])
    assert "cycle" in msg
    assert "1" in msg and "2" in msg


def test_longer_cycle_via_from_edges() -> None:
    msg = error_message(Architecture.from_edges, ["input", "a", "b", "c", "output"],
                        [(0, 1), (1, 2), (2, 3), (3, 1), (3, 4)])
    assert "cycle" in msg


def test_cycle_via_from_dense() -> None:
    adj = np.zeros((4, 4), dtype=np.uint8)
    for s, d in [(0, 1), (1, 2), (2, 1), (2, 3)]:
        adj[s, d] = 1
    msg = error_message(Architecture.from_dense, adj, [0, 2, 3, 1], VOCAB)
    assert "cycle" in msg


def test_self_loop_via_from_dense() -> None:
    adj = np.zeros((3, 3), dtype=np.uint8)
    for s, d in [(0, 1), (1, 1), (1, 2)]:
        adj[s, d] = 1
    msg = error_message(Architecture.from_dense, adj, [0, 2, 1], VOCAB)
    assert "self-loop" in msg or "cycle" in msg


def test_cycle_via_from_networkx() -> None:
    g = nx.DiGraph()
    g.add_nodes_from([("in", {"op": "input"}), ("x", {"op": "a"}), ("y", {"op": "b"}),
                      ("out", {"op": "output"})])
    g.add_edges_from([("in", "x"), ("x", "y"), ("y", "x"), ("y", "out")])
    msg = error_message(Architecture.from_networkx, g)
    assert "cycle" in msg


def test_backwards_edge_in_constructor() -> None:
    msg = error_message(Architecture, ["input", "a", "b", "output"],
                        [(0, 2), (2, 1), (1, 3)])
    assert "backwards" in msg
    assert "(2, 1)" in msg
    assert "from_edges" in msg  # points the user to the constructor that renumbers


def test_backwards_edge_is_fine_through_from_edges() -> None:
    a = Architecture.from_edges(["input", "a", "b", "output"], [(0, 2), (2, 1), (1, 3)])
    assert a.ops == ("input", "b", "a", "output")
    assert a.edges == ((0, 1), (1, 2), (2, 3))


def test_self_loop_in_constructor() -> None:
    msg = error_message(Architecture, ["input", "a", "output"], [(0, 1), (1, 1), (1, 2)])
    assert "self-loop" in msg


def test_self_loop_via_from_edges() -> None:
    msg = error_message(Architecture.from_edges, ["input", "a", "output"],
                        [(0, 1), (1, 1), (1, 2)])
    assert "self-loop" in msg


def test_duplicate_edge() -> None:
    msg = error_message(Architecture, ["input", "a", "output"], [(0, 1), (1, 2), (0, 1)])
    assert "duplicate" in msg and "(0, 1)" in msg
    msg = error_message(Architecture.from_edges, ["input", "a", "output"],
                        [(0, 1), (1, 2), (1, 2)])
    assert "duplicate" in msg


def test_node_not_reachable_from_input() -> None:
    # node 1 has no predecessor
    msg = error_message(Architecture, ["input", "a", "b", "output"], [(0, 2), (1, 2), (2, 3)])
    assert "node 1" in msg and "not reachable from the input" in msg


def test_node_not_reachable_from_input_deeper() -> None:
    # nodes 1 and 2 form an island fed by nothing; 2 still reaches the output
    msg = error_message(Architecture, ["input", "a", "b", "c", "output"],
                        [(0, 3), (1, 2), (2, 4), (3, 4)])
    assert "node 1" in msg and "not reachable" in msg


def test_node_without_path_to_output() -> None:
    # node 2 has no successor
    msg = error_message(Architecture, ["input", "a", "b", "output"], [(0, 1), (0, 2), (1, 3)])
    assert "node 2" in msg and "no path to the output" in msg


def test_node_without_path_to_output_deeper() -> None:
    # node 1 only leads to node 2, which is a dead end
    msg = error_message(Architecture, ["input", "a", "b", "c", "output"],
                        [(0, 1), (1, 2), (0, 3), (3, 4)])
    assert "no path to the output" in msg


def test_output_unreachable_without_edges() -> None:
    msg = error_message(Architecture, ["input", "output"], [])
    assert "not reachable" in msg or "no path" in msg


@pytest.mark.parametrize("ops", [[], ["input"]])
def test_fewer_than_two_nodes(ops) -> None:
    msg = error_message(Architecture, ops, [])
    assert "at least 2 nodes" in msg
    msg = error_message(Architecture.from_edges, ops, [])
    assert "at least 2 nodes" in msg


@pytest.mark.parametrize("bad_op", ["", None, 3, b"conv"])
def test_empty_or_non_string_op(bad_op) -> None:
    msg = error_message(Architecture, ["input", bad_op, "output"], [(0, 1), (1, 2)])
    assert "node 1" in msg and "non-empty string" in msg


def test_edge_out_of_range() -> None:
    msg = error_message(Architecture, ["input", "output"], [(0, 1), (1, 2)])
    assert "outside" in msg
    msg = error_message(Architecture.from_edges, ["input", "output"], [(0, 1), (0, 5)])
    assert "outside" in msg
    msg = error_message(Architecture, ["input", "output"], [(-1, 1), (0, 1)])
    assert "outside" in msg


@pytest.mark.parametrize("bad_edge", [(0,), (0, 1, 2), (0.5, 1), ("0", 1), None, 7])
def test_malformed_edge(bad_edge) -> None:
    msg = error_message(Architecture, ["input", "output"], [(0, 1), bad_edge])
    assert "not a pair of node indices" in msg


def test_from_edges_input_output_must_be_source_and_sink() -> None:
    msg = error_message(Architecture.from_edges, ["a", "input", "output"],
                        [(1, 0), (0, 2)])  # default input_node=0 has an incoming edge
    assert "input node 0" in msg and "incoming" in msg
    a = Architecture.from_edges(["a", "input", "output"], [(1, 0), (0, 2)], input_node=1)
    assert a == Architecture(["input", "a", "output"], [(0, 1), (1, 2)])
    msg = error_message(Architecture.from_edges, ["input", "output", "a"],
                        [(0, 1), (1, 2)], output_node=1)
    assert "output node 1" in msg and "outgoing" in msg
    msg = error_message(Architecture.from_edges, ["input", "output"], [(0, 1)],
                        input_node=1, output_node=1)
    assert "distinct" in msg


def test_check_unknown_op() -> None:
    a = Architecture(["input", "conv", "zzz", "output"], [(0, 1), (1, 2), (2, 3)])
    msg = error_message(a.check, vocabulary=["input", "output", "conv"])
    assert "unknown op" in msg and "zzz" in msg and "node 2" in msg
    a.check(vocabulary=["input", "output", "conv", "zzz"])  # must not raise


def test_check_limits() -> None:
    a = Architecture(["input", "a", "b", "output"], [(0, 1), (0, 2), (1, 3), (2, 3), (1, 2)])
    msg = error_message(a.check, max_nodes=3)
    assert "too many nodes" in msg and "4" in msg and "3" in msg
    msg = error_message(a.check, max_edges=4)
    assert "too many edges" in msg and "5" in msg and "4" in msg
    a.check(max_nodes=4, max_edges=5)  # limits are inclusive
    a.check(vocabulary=["input", "a", "b", "output"], max_nodes=100, max_edges=100)
    a.check()


def test_networkx_with_two_sources() -> None:
    g = nx.DiGraph()
    g.add_nodes_from([(0, {"op": "input"}), (1, {"op": "input"}), (2, {"op": "a"}),
                      (3, {"op": "output"})])
    g.add_edges_from([(0, 2), (1, 2), (2, 3)])
    msg = error_message(Architecture.from_networkx, g)
    assert "exactly one input" in msg and "[0, 1]" in msg


def test_networkx_with_two_sinks() -> None:
    g = nx.DiGraph()
    g.add_nodes_from([(0, {"op": "input"}), (1, {"op": "a"}), (2, {"op": "output"}),
                      (3, {"op": "output"})])
    g.add_edges_from([(0, 1), (1, 2), (1, 3)])
    msg = error_message(Architecture.from_networkx, g)
    assert "exactly one output" in msg


def test_networkx_missing_op_and_undirected() -> None:
    g = nx.DiGraph()
    g.add_nodes_from([(0, {"op": "input"}), (1, {}), (2, {"op": "output"})])
    g.add_edges_from([(0, 1), (1, 2)])
    msg = error_message(Architecture.from_networkx, g)
    assert "no 'op' attribute" in msg
    u = nx.Graph()
    u.add_edge(0, 1)
    msg = error_message(Architecture.from_networkx, u)
    assert "directed" in msg


def test_networkx_custom_op_attribute() -> None:
    g = nx.DiGraph()
    g.add_nodes_from([("s", {"kind": "input"}), ("m", {"kind": "a"}), ("t", {"kind": "output"})])
    g.add_edges_from([("m", "t"), ("s", "m")])
    a = Architecture.from_networkx(g, op_attr="kind")
    assert a == Architecture(["input", "a", "output"], [(0, 1), (1, 2)])


def test_dense_errors() -> None:
    msg = error_message(Architecture.from_dense, np.zeros((3, 3)), [0, 1], VOCAB)
    assert "shape" in msg
    adj = np.array([[0, 1], [0, 0]])
    msg = error_message(Architecture.from_dense, adj, [0, 99], VOCAB)
    assert "outside vocabulary" in msg
    msg = error_message(Architecture.from_dense, adj, [-1, 1], VOCAB)
    assert "outside vocabulary" in msg
    a = Architecture(["input", "zzz", "output"], [(0, 1), (1, 2)])
    msg = error_message(a.to_dense, VOCAB)
    assert "unknown op" in msg and "zzz" in msg
    msg = error_message(a.to_dense, ["input", "zzz", "input", "output"])
    assert "repeats" in msg


def test_json_and_dict_errors() -> None:
    msg = error_message(Architecture.from_json, "{not json")
    assert "invalid json" in msg
    msg = error_message(Architecture.from_json, "[1, 2]")
    assert "'ops' and 'edges'" in msg
    msg = error_message(Architecture.from_dict, {"ops": ["input", "output"]})
    assert "'ops' and 'edges'" in msg


@pytest.mark.parametrize("text", [
    '{"ops": null, "edges": []}',
    '{"ops": 7, "edges": [[0, 1]]}',
    '{"ops": ["input", "output"], "edges": 5}',
    '{"ops": ["input", "output"], "edges": null}',
])
def test_json_with_wrongly_typed_fields(text: str) -> None:
    msg = error_message(Architecture.from_json, text)
    assert "ops" in msg or "edges" in msg


def test_pyg_errors() -> None:
    from torch_geometric.data import Data

    a = Architecture(["input", "a", "output"], [(0, 1), (1, 2)])
    data = a.to_pyg(VOCAB)
    msg = error_message(Architecture.from_pyg, data, ["input", "output"])
    assert "outside vocabulary" in msg
    msg = error_message(Architecture.from_pyg, Data(edge_index=data.edge_index, num_nodes=3), VOCAB)
    assert "neither" in msg


def test_immutable() -> None:
    a = Architecture(["input", "a", "output"], [(0, 1), (1, 2)])
    with pytest.raises(AttributeError):
        a.ops = ("input", "b", "output")  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a.extra = 1  # type: ignore[attr-defined]
    assert isinstance(a.ops, tuple) and isinstance(a.edges, tuple)
    # mutating the inputs after construction does not affect the architecture
    ops = ["input", "a", "output"]
    edges = [[0, 1], [1, 2]]
    b = Architecture(ops, edges)
    ops[1] = "zzz"
    edges[0][1] = 2
    assert b == a


def test_equality_is_exact_numbering_but_hash_is_isomorphism() -> None:
    a = Architecture(["input", "a", "b", "output"], [(0, 1), (0, 2), (1, 3), (2, 3)])
    b = Architecture(["input", "b", "a", "output"], [(0, 1), (0, 2), (1, 3), (2, 3)])
    c = Architecture(["input", "a", "a", "output"], [(0, 1), (0, 2), (1, 3), (2, 3)])
    assert a != b
    assert a.canonical_hash == b.canonical_hash and a.is_isomorphic(b)
    assert a.canonical_hash != c.canonical_hash and not a.is_isomorphic(c)
    assert a != "not an architecture"
    assert len({a, b, c, Architecture(a.ops, a.edges)}) == 3


def test_levels_hand_made() -> None:
    #   0 -> 1 -> 2 -> 6
    #   0 -> 3 ------> 6
    #   0 -> 4 -> 5 -> 6,  1 -> 4, 3 -> 5
    a = Architecture(["input", "a", "b", "c", "a", "b", "output"],
                     [(0, 1), (1, 2), (2, 6), (0, 3), (3, 6), (0, 4), (4, 5), (5, 6),
                      (1, 4), (3, 5)])
    assert a.levels() == [0, 1, 2, 1, 2, 3, 4]
    chain = Architecture(["input", "a", "b", "output"], [(0, 1), (1, 2), (2, 3), (0, 3)])
    assert chain.levels() == [0, 1, 2, 3]
    assert Architecture(["input", "output"], [(0, 1)]).levels() == [0, 1]


def test_repr_roundtrips_through_eval() -> None:
    a = Architecture(["input", "a", "output"], [(0, 1), (1, 2), (0, 2)])
    assert eval(repr(a), {"Architecture": Architecture}) == a


# --------------------------------------------------------------------------- round trips
@SETTINGS
@given(dags())
def test_strategy_generates_valid_dags(a: Architecture) -> None:
    n = a.num_nodes
    assert 2 <= n <= 10
    assert a.ops[0] == "input" and a.ops[-1] == "output"
    g = nx_graph(a.ops, a.edges)
    assert nx.is_directed_acyclic_graph(g)
    for v in range(n):
        assert v == 0 or nx.has_path(g, 0, v)
        assert v == n - 1 or nx.has_path(g, v, n - 1)


@SETTINGS
@given(dags())
def test_json_round_trip(a: Architecture) -> None:
    text = a.to_json()
    assert isinstance(text, str)
    b = Architecture.from_json(text)
    assert b == a
    assert b.ops == a.ops and b.edges == a.edges
    assert json.loads(text) == {"ops": list(a.ops), "edges": [list(e) for e in a.edges]}


@SETTINGS
@given(dags())
def test_dict_round_trip(a: Architecture) -> None:
    d = a.to_dict()
    assert d == {"ops": list(a.ops), "edges": [list(e) for e in a.edges]}
    assert Architecture.from_dict(d) == a
    # the dict is a fresh copy: mutating it leaves the architecture alone
    d["ops"][0] = "zzz"
    assert a.ops[0] == "input"


@SETTINGS
@given(dags())
def test_networkx_round_trip(a: Architecture) -> None:
    g = a.to_networkx()
    assert isinstance(g, nx.DiGraph)
    assert list(g.nodes) == list(range(a.num_nodes))
    assert [g.nodes[v]["op"] for v in g.nodes] == list(a.ops)
    assert sorted(g.edges) == list(a.edges)
    assert Architecture.from_networkx(g) == a


@SETTINGS
@given(dag_and_permutation())
def test_networkx_any_node_names_and_order(a_perm) -> None:
    a, perm = a_perm
    ops, edges, _, _ = permuted_parts(a, perm)
    g = nx.DiGraph()
    # string node names, inserted in permuted order: the input is not necessarily first
    g.add_nodes_from((f"n{i}", {"op": op}) for i, op in enumerate(ops))
    g.add_edges_from((f"n{s}", f"n{d}") for s, d in edges)
    b = Architecture.from_networkx(g)
    assert b.canonical_hash == a.canonical_hash
    assert nx_isomorphic(a, b)


@SETTINGS
@given(dags())
def test_dense_round_trip(a: Architecture) -> None:
    adj, idx = a.to_dense(VOCAB)
    n = a.num_nodes
    assert adj.shape == (n, n) and adj.dtype == np.uint8
    assert idx.shape == (n,) and idx.dtype == np.int64
    assert {(int(s), int(d)) for s, d in zip(*np.nonzero(adj))} == set(a.edges)
    assert int(adj.sum()) == a.num_edges
    assert [VOCAB[i] for i in idx] == list(a.ops)
    assert Architecture.from_dense(adj, idx, VOCAB) == a
    # plain nested lists and a bool matrix are accepted too
    assert Architecture.from_dense(adj.tolist(), idx.tolist(), VOCAB) == a
    assert Architecture.from_dense(adj.astype(bool), list(idx), VOCAB) == a


@SETTINGS
@given(dag_and_permutation())
def test_dense_permuted_inner_nodes_is_isomorphic(a_perm) -> None:
    a, perm = a_perm
    n = a.num_nodes
    # keep the input first and the output last (from_dense uses the default input/output)
    inner = [p for p in perm if p not in (0, n - 1)]
    perm = [0, *inner, n - 1] if n > 2 else [0, 1]
    adj, idx = a.to_dense(VOCAB)
    inv = np.argsort(perm)  # new position i holds old node inv[i]
    adj_p = adj[np.ix_(inv, inv)]
    idx_p = idx[inv]
    b = Architecture.from_dense(adj_p, idx_p, VOCAB)
    assert b.canonical_hash == a.canonical_hash
    assert nx_isomorphic(a, b)


@SETTINGS
@given(dags())
def test_pyg_round_trip(a: Architecture) -> None:
    data = a.to_pyg(VOCAB)
    n, e = a.num_nodes, a.num_edges
    op_idx = [VOCAB.index(op) for op in a.ops]
    assert data.num_nodes == n
    assert data.x.dtype == torch.float32
    assert tuple(data.x.shape) == (n, len(VOCAB))
    expected_x = torch.zeros(n, len(VOCAB))
    expected_x[torch.arange(n), torch.tensor(op_idx)] = 1.0
    assert torch.equal(data.x, expected_x)
    assert data.x.argmax(dim=-1).tolist() == op_idx
    if "op" in data:  # an explicit op index field is optional, but must agree with x
        assert data.op.dtype == torch.long and data.op.tolist() == op_idx
    assert data.edge_index.dtype == torch.long
    assert tuple(data.edge_index.shape) == (2, e)
    assert [tuple(p) for p in data.edge_index.t().tolist()] == list(a.edges)
    assert data.level.dtype == torch.long
    assert data.level.tolist() == longest_path_depths(a)
    assert Architecture.from_pyg(data, VOCAB) == a
    # a freshly built Data with only x and edge_index (e.g. after a DataLoader) works too
    from torch_geometric.data import Data

    bare = Data(x=data.x.clone(), edge_index=data.edge_index.clone())
    assert Architecture.from_pyg(bare, VOCAB) == a
    # an explicit 'op' index field, when present, is used
    with_op = Data(x=data.x.clone(), edge_index=data.edge_index.clone(),
                   op=torch.tensor(op_idx, dtype=torch.long))
    assert Architecture.from_pyg(with_op, VOCAB) == a


@SETTINGS
@given(st.lists(dags(max_nodes=6), min_size=1, max_size=4))
def test_pyg_list_matches_single(archs) -> None:
    from graphvae_nas.graph.convert import to_pyg_list

    datas = to_pyg_list(archs, VOCAB)
    assert len(datas) == len(archs)
    for a, d in zip(archs, datas):
        single = a.to_pyg(VOCAB)
        assert torch.equal(d.x, single.x)
        assert torch.equal(d.edge_index, single.edge_index)
        assert torch.equal(d.level, single.level)
        assert Architecture.from_pyg(d, VOCAB) == a


@SETTINGS
@given(dags())
def test_pickle_round_trip(a: Architecture) -> None:
    b = pickle.loads(pickle.dumps(a))
    assert type(b) is Architecture
    assert b == a and hash(b) == hash(a)
    assert b.canonical_hash == a.canonical_hash
    # also after the cached hash is filled in, and at the oldest supported protocol
    c = pickle.loads(pickle.dumps(a, protocol=2))
    assert c == a and c.canonical_hash == a.canonical_hash


@SETTINGS
@given(dags())
def test_levels_are_longest_path_depths(a: Architecture) -> None:
    assert a.levels() == longest_path_depths(a)


@SETTINGS
@given(dags())
def test_from_edges_keeps_topological_numbering(a: Architecture) -> None:
    assert Architecture.from_edges(a.ops, a.edges) == a
    shuffled = list(a.edges)
    random.Random(len(shuffled)).shuffle(shuffled)
    b = Architecture.from_edges(list(a.ops), [list(e) for e in shuffled],
                                input_node=0, output_node=a.num_nodes - 1)
    assert b == a


@SETTINGS
@given(dag_and_permutation())
def test_from_edges_on_permuted_numbering_is_isomorphic(a_perm) -> None:
    a, perm = a_perm
    ops, edges, inp, out = permuted_parts(a, perm)
    b = Architecture.from_edges(ops, edges, input_node=inp, output_node=out)
    assert b.num_nodes == a.num_nodes and b.num_edges == a.num_edges
    assert b.ops[0] == "input" and b.ops[-1] == "output"
    assert all(s < d for s, d in b.edges)
    assert nx_isomorphic(a, b)
    assert b.canonical_hash == a.canonical_hash
    # when the permuted numbering happens to be topological, it is kept exactly
    if inp == 0 and out == a.num_nodes - 1 and all(s < d for s, d in edges):
        assert b == Architecture(ops, edges)


@pytest.mark.parametrize("text", ['{"ops": "io", "edges": [[0, 1]]}',
                                  '{"ops": ["input", "output"], "edges": [[false, true]]}'])
def test_json_strings_as_ops_and_bools_as_nodes_are_rejected(text: str) -> None:
    msg = error_message(Architecture.from_json, text)
    assert "ops" in msg or "node indices" in msg
