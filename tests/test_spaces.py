"""Tests for graphvae_nas.spaces: NB201, ENAS, NB101, the generic DAG space and the registry.

Tests that read the real benchmark tables skip when ../shared/data is absent.
"""
from __future__ import annotations

import ast
import csv
import itertools
import json
import random
from collections import Counter, deque
from pathlib import Path

import networkx as nx
import pytest
from shared_data import ENAS_FILE, NB201_DIR, needs_data

from graphvae_nas.errors import ArchitectureError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import (
    ENAS_OPS,
    NB101_OPS,
    NB201_OPS,
    EnasMacroSpace,
    FiniteSearchSpace,
    GenericDagSpace,
    NasBench101Space,
    NasBench201Space,
    SearchSpace,
    available_spaces,
    get_space,
    space_from_spec,
)


IN, OUT = "input", "output"

# The NB201 8-node DAG written out by hand from the nb201.py docstring. Op nodes 1..6 are the
# cell edges in official string order: 1:(0->1) 2:(0->2) 3:(1->2) 4:(0->3) 5:(1->3) 6:(2->3).
# input feeds the ops on edges leaving cell node 0 (1, 2, 4); an op node feeds the ops on
# edges leaving its target (1 -> 3, 5; 2 -> 6; 3 -> 6); ops into cell node 3 feed the output.
NB201_EXPECTED_EDGES = ((0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6),
                        (4, 7), (5, 7), (6, 7))
# NASLib order (0->1), (0->2), (0->3), (1->2), (1->3), (2->3) -> position in string order.
NASLIB_POS = (0, 1, 3, 2, 4, 5)
NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")


def error_message(callable_, *args, **kwargs) -> str:
    with pytest.raises(ArchitectureError) as info:
        callable_(*args, **kwargs)
    return str(info.value)


def nx_of(arch: Architecture) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from((i, {"op": op}) for i, op in enumerate(arch.ops))
    g.add_edges_from(arch.edges)
    return g


def op_match(a: dict, b: dict) -> bool:
    return a["op"] == b["op"]


def renumber(arch: Architecture, order: list[int]) -> tuple[list[str], list[tuple[int, int]]]:
    """Ops/edges of ``arch`` with old node ``order[k]`` becoming new node ``k``."""
    new = {old: k for k, old in enumerate(order)}
    ops = [arch.ops[old] for old in order]
    edges = [(new[s], new[d]) for s, d in arch.edges]
    return ops, edges


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def nb201() -> NasBench201Space:
    return get_space("nb201")


@pytest.fixture(scope="module")
def nb201_rows() -> list[dict[str, str]]:
    return read_csv(NB201_DIR / "nb201_cifar10_200ep.csv")


@pytest.fixture(scope="module")
def enas_lines() -> list[str]:
    return ENAS_FILE.read_text().splitlines()


# =========================================================================== protocol/registry
ALL_SPACES = [
    ("nb201", {}),
    ("nb101", {}),
    ("enas", {}),
    ("enas", {"num_layers": 12}),
    ("enas", {"num_layers": 1}),
    ("dag", {"ops": ("a", "b"), "max_nodes": 4}),
    ("dag", {"ops": ["conv", "pool", "id"], "max_nodes": 9, "max_edges": 12, "min_nodes": 3,
             "edge_prob": 0.5}),
]


@pytest.mark.parametrize("name,params", ALL_SPACES)
def test_builtin_spaces_satisfy_protocols(name, params) -> None:
    space = get_space(name, **params)
    assert isinstance(space, SearchSpace)
    assert space.name == name
    assert space.vocabulary == (IN, OUT, *space.ops)
    if name in ("nb201", "enas", "dag"):
        assert isinstance(space, FiniteSearchSpace)


def test_protocol_rejects_unrelated_objects() -> None:
    assert not isinstance(object(), SearchSpace)
    assert not isinstance("nb201", SearchSpace)


def test_registry_types_and_names() -> None:
    assert {"nb201", "nb101", "enas", "dag"} <= set(available_spaces())
    assert type(get_space("nb201")) is NasBench201Space
    assert type(get_space("nb101")) is NasBench101Space
    assert type(get_space("enas")) is EnasMacroSpace
    assert type(get_space("dag", ops=("a",), max_nodes=3)) is GenericDagSpace


@pytest.mark.parametrize("name,params", ALL_SPACES)
def test_spec_round_trip(name, params) -> None:
    space = get_space(name, **params)
    spec = space.spec()
    assert spec["name"] == name
    json.dumps(spec)  # a spec is plain data
    rebuilt = space_from_spec(spec)
    assert type(rebuilt) is type(space)
    assert rebuilt.spec() == spec
    assert rebuilt == space and hash(rebuilt) == hash(space)
    assert rebuilt.ops == space.ops and rebuilt.max_nodes == space.max_nodes
    # and through JSON text, as a spec is stored
    assert space_from_spec(json.loads(json.dumps(spec))) == space


def test_spec_keeps_parameters() -> None:
    enas12 = space_from_spec(get_space("enas", num_layers=12).spec())
    assert enas12.num_layers == 12 and enas12.max_nodes == 14
    dag = space_from_spec(get_space("dag", ops=("x", "y"), max_nodes=6, max_edges=7,
                                    min_nodes=3, edge_prob=0.25).spec())
    assert (dag.ops, dag.max_nodes, dag.max_edges, dag.min_nodes, dag.edge_prob) == (
        ("x", "y"), 6, 7, 3, 0.25)
    assert get_space("enas") != get_space("enas", num_layers=12)
    assert get_space("dag", ops=("a", "b"), max_nodes=4) != get_space("dag", ops=("a", "b"),
                                                                      max_nodes=5)


def test_space_from_spec_without_name_raises() -> None:
    assert "name" in error_message(space_from_spec, {"num_layers": 3})


def test_unknown_space_lists_known_spaces() -> None:
    msg = error_message(get_space, "nb301")
    assert "nb301" in msg
    for known in available_spaces():
        assert repr(known) in msg
    msg = error_message(get_space, "nope:num_layers=3")
    assert "'nope'" in msg and "nb201" in msg


def test_bad_space_parameters_raise_architecture_error() -> None:
    assert "key=value" in error_message(get_space, "enas:num_layers")
    assert "enas" in error_message(get_space, "enas:layers=3")  # unexpected keyword
    assert "nb201" in error_message(get_space, "nb201:num_layers=3")
    error_message(get_space, "nb201", num_layers=3)
    assert "num_layers" in error_message(get_space, "enas", num_layers=0)
    error_message(get_space, "dag", ops=("a", "a"), max_nodes=4)  # duplicate ops
    error_message(get_space, "dag", ops=("input", "a"), max_nodes=4)  # reserved label
    error_message(get_space, "dag", ops=("a",), max_nodes=1)
    error_message(get_space, "dag", ops=("a",), max_nodes=4, max_edges=0)
    error_message(get_space, "dag", ops=("a",), max_nodes=4, edge_prob=1.5)


def test_string_parameters() -> None:
    assert get_space("enas:num_layers=12") == get_space("enas", num_layers=12)
    assert get_space("enas:num_layers=12").num_layers == 12
    s = get_space("dag:ops=a,b;max_nodes=4")
    assert s == get_space("dag", ops=("a", "b"), max_nodes=4)
    assert s.ops == ("a", "b") and s.max_nodes == 4 and s.max_edges is None
    single = get_space("dag:ops=a;max_nodes=3;max_edges=5")
    assert single.ops == ("a",) and single.max_edges == 5
    # keyword arguments win over the string form
    assert get_space("enas:num_layers=3", num_layers=4).num_layers == 4


def test_string_parameters_float_and_none_values() -> None:
    space = get_space("dag:ops=a,b;max_nodes=4;edge_prob=0.5;max_edges=none")
    assert space.edge_prob == 0.5 and space.max_edges is None


# =========================================================================== NB201
def test_nb201_dag_shape(nb201) -> None:
    arch = nb201.parse("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
                       "+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|")
    assert arch.num_nodes == 8
    assert arch.edges == NB201_EXPECTED_EDGES
    assert arch.ops == (IN, "avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_1x1",
                        "none", "nor_conv_3x3", OUT)
    assert nb201.max_nodes == 8
    assert nb201.ops == NB201_OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                      "avg_pool_3x3")
    assert nb201.edge_ops(arch) == arch.ops[1:-1]


def test_nb201_enumerate_all_distinct(nb201) -> None:
    archs = list(nb201.enumerate())
    assert nb201.size() == 15625 == len(archs)
    assert len({a.canonical_hash for a in archs}) == 15625
    assert len({nb201.format(a) for a in archs}) == 15625
    assert all(a.edges == NB201_EXPECTED_EDGES for a in archs)
    for a in archs[::997]:
        nb201.validate(a)


@needs_data
def test_nb201_200ep_csv_round_trip_and_covers_space(nb201, nb201_rows) -> None:
    assert len(nb201_rows) == 15625
    parsed = []
    for row in nb201_rows:
        arch = nb201.parse(row["arch_str"])
        assert nb201.format(arch) == row["arch_str"], row["index"]
        parsed.append(arch)
    assert set(parsed) == set(nb201.enumerate())


@needs_data
def test_nb201_12ep_csv_round_trip(nb201) -> None:
    rows = read_csv(NB201_DIR / "nb201_all_12ep.csv")
    assert len(rows) == 15625
    for row in rows:
        assert nb201.format(nb201.parse(row["arch_str"])) == row["arch_str"], row["index"]


@needs_data
def test_nb201_naslib_tuples_match_strings(nb201) -> None:
    rows = read_csv(NB201_DIR / "nb201_zc_proxies.csv")
    assert len(rows) == 9445
    for row in rows:
        net = row["net"]
        arch = nb201.parse(row["net_str"])
        assert nb201.parse_naslib(net) == arch, net
        as_tuple = ast.literal_eval(net)
        assert nb201.parse_naslib(as_tuple) == arch
        assert nb201.to_naslib(arch) == as_tuple
        # independent reading of the NASLib order/op table from data/README.md
        edge_ops = nb201.edge_ops(arch)
        assert tuple(NASLIB_OPS.index(edge_ops[p]) for p in NASLIB_POS) == as_tuple


@needs_data
def test_nb201_hw_table_nets_cover_space(nb201) -> None:
    rows = read_csv(NB201_DIR / "hw_cifar10.csv")
    archs = {nb201.parse_naslib(row["net"]) for row in rows}
    assert len(rows) == len(archs) == 15625
    assert archs == set(nb201.enumerate())


def test_nb201_naslib_known_example(nb201) -> None:
    arch = nb201.parse_naslib("(4, 0, 3, 1, 4, 3)")
    assert nb201.format(arch) == ("|avg_pool_3x3~0|+|skip_connect~0|none~1|"
                                  "+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|")
    for arch in itertools.islice(nb201.enumerate(), 0, 15625, 101):
        assert nb201.parse_naslib(nb201.to_naslib(arch)) == arch


def test_nb201_naslib_errors(nb201) -> None:
    assert "0..4" in error_message(nb201.parse_naslib, (5, 0, 0, 0, 0, 0))
    assert "6" in error_message(nb201.parse_naslib, (0, 1, 2))
    assert "non-integer" in error_message(nb201.parse_naslib, "(a, 1, 2, 3, 4, 0)")
    assert "(a, b" in error_message(nb201.parse_naslib, "0, 1, 2, 3, 4, 0")


SAMPLE_CELLS = [
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
]


@pytest.mark.parametrize("cell", SAMPLE_CELLS)
def test_nb201_format_of_renumbered_cell(nb201, cell) -> None:
    arch = nb201.parse(cell)
    # swap the op nodes of edges 0->1 (node 1) and 0->2 (node 2): still topological
    ops, edges = renumber(arch, [0, 2, 1, 3, 4, 5, 6, 7])
    swapped = Architecture.from_edges(ops, edges)
    assert swapped.edges != NB201_EXPECTED_EDGES  # really a different numbering
    assert swapped.ops == tuple(ops)  # from_edges kept the (valid) numbering
    nb201.validate(swapped)
    assert swapped.canonical_hash == arch.canonical_hash
    assert nb201.format(swapped) == cell
    assert nb201.edge_ops(swapped) == nb201.edge_ops(arch)
    assert nb201.to_naslib(swapped) == nb201.to_naslib(arch)
    # input and output given at other positions, nodes in reverse order
    rev_ops, rev_edges = renumber(arch, list(range(7, -1, -1)))
    reversed_arch = Architecture.from_edges(rev_ops, rev_edges, input_node=7, output_node=0)
    assert nb201.format(reversed_arch) == cell


def test_nb201_format_under_every_topological_numbering(nb201) -> None:
    arch = nb201.from_edge_ops(["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                "avg_pool_3x3", "skip_connect"])
    official = nb201.format(arch)
    assert official == ("|none~0|+|skip_connect~0|nor_conv_1x1~1|"
                        "+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|")
    orders = list(nx.all_topological_sorts(nx_of(arch)))
    assert len(orders) > 10
    for order in orders:
        ops, edges = renumber(arch, order)
        other = Architecture(ops, edges)
        assert nb201.is_valid(other)
        assert nb201.format(other) == official, order


def test_nb201_neighbours(nb201) -> None:
    for seed in range(5):
        arch = nb201.sample(seed)
        ops = nb201.edge_ops(arch)
        nbrs = nb201.neighbours(arch)
        assert len(nbrs) == 24
        assert len(set(nbrs)) == 24
        assert arch not in nbrs
        for nb in nbrs:
            assert nb201.is_valid(nb)
            diff = [k for k, (a, b) in enumerate(zip(ops, nb201.edge_ops(nb))) if a != b]
            assert len(diff) == 1
        assert Counter(k for nb in nbrs for k, (a, b) in
                       enumerate(zip(ops, nb201.edge_ops(nb))) if a != b) == {k: 4 for k in range(6)}


def test_nb201_mutate_and_sample_deterministic(nb201) -> None:
    arch = nb201.parse(SAMPLE_CELLS[1])
    nbrs = set(nb201.neighbours(arch))
    results = set()
    for seed in range(30):
        m = nb201.mutate(arch, seed)
        assert m == nb201.mutate(arch, seed)
        assert m in nbrs
        results.add(m)
    assert len(results) > 5
    samples = [nb201.sample(seed) for seed in range(30)]
    assert samples == [nb201.sample(seed) for seed in range(30)]
    assert nb201.sample(random.Random(11)) == nb201.sample(11)
    assert len(set(samples)) > 20
    assert all(nb201.is_valid(s) for s in samples)


def test_nb201_parse_errors(nb201) -> None:
    good = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    nb201.parse(good)
    msg = error_message(nb201.parse, good.replace("none~1|none~2", "conv~1|none~2"))
    assert "unknown op" in msg and "'conv'" in msg and "1->3" in msg
    msg = error_message(nb201.parse, "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert "none~1" in msg and "op~0" in msg
    msg = error_message(nb201.parse, "|none~0|+|none~0|none~0|+|none~0|none~1|none~2|")
    assert "op~1" in msg
    msg = error_message(nb201.parse, "|none~0|+|none~0|none~1|")
    assert "3 groups" in msg and "got 2" in msg
    msg = error_message(nb201.parse, good + "+|none~0|")
    assert "3 groups" in msg and "got 4" in msg
    msg = error_message(nb201.parse, "none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert "'|'" in msg
    msg = error_message(nb201.parse, "|none~0|+|none~0|none~1+|none~0|none~1|none~2|")
    assert "'|'" in msg
    msg = error_message(nb201.parse, "|none~0|+|none~0|+|none~0|none~1|none~2|")
    assert "node 2" in msg and "2 incoming" in msg
    msg = error_message(nb201.parse, "|none|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert "op~0" in msg
    error_message(nb201.parse, "")


def test_nb201_validate_rejects_foreign_graphs(nb201) -> None:
    assert "8 nodes" in error_message(nb201.validate, Architecture([IN, "none", OUT], [(0, 1), (1, 2)]))
    ok = nb201.parse(SAMPLE_CELLS[0])
    extra = Architecture(ok.ops, [*ok.edges, (0, 7)])
    assert "edges" in error_message(nb201.validate, extra)
    # same edge count, different shape: move 2->6 to 2->7
    moved = Architecture(ok.ops, [e if e != (2, 6) else (2, 7) for e in ok.edges])
    assert not nb201.is_valid(moved)
    bad_op = Architecture((IN, "conv", *ok.ops[2:]), ok.edges)
    assert "unknown op" in error_message(nb201.validate, bad_op)
    bad_term = Architecture(("in", *ok.ops[1:]), ok.edges)
    assert "input" in error_message(nb201.validate, bad_term)
    error_message(nb201.format, moved)
    error_message(nb201.from_edge_ops, ["none"] * 5)


# =========================================================================== ENAS
def expected_enas(rows: list[list[int]]) -> tuple[tuple[str, ...], set[tuple[int, int]]]:
    n = len(rows)
    ops = (IN, *(ENAS_OPS[r[0]] for r in rows), OUT)
    edges = {(i, i + 1) for i in range(n)} | {(n, n + 1)}
    edges |= {(j, i + 1) for i, r in enumerate(rows) for j, b in enumerate(r[1:]) if b}
    return ops, edges


def test_enas_vocabulary() -> None:
    assert ENAS_OPS == ("conv3x3", "sep_conv3x3", "conv5x5", "sep_conv5x5", "avg_pool3x3",
                        "max_pool3x3")
    space = get_space("enas")
    assert space.num_layers == 6 and space.max_nodes == 8


@needs_data
def test_enas_file_round_trips_byte_for_byte(enas_lines) -> None:
    space = get_space("enas")
    assert len(enas_lines) == 20020
    archs = []
    for k, line in enumerate(enas_lines):
        text, sep, score = line.rpartition(", ")
        assert sep and 0.7 <= float(score) <= 0.76
        arch = space.parse(text)
        assert space.format(arch) == text, k
        rows = ast.literal_eval(text)
        assert space.to_rows(arch) == rows
        assert space.from_rows(rows) == arch
        ops, edges = expected_enas(rows)
        assert arch.num_nodes == 8
        assert arch.ops == ops and set(arch.edges) == edges, k
        archs.append(arch)
    assert len(set(archs)) == 20015
    # the chain fixes the numbering, so isomorphism classes are the distinct architectures
    assert len({a.canonical_hash for a in archs}) == 20015


def test_enas_known_line_dag() -> None:
    space = get_space("enas")
    text = "[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]]"
    arch = space.parse(text)
    assert arch.ops == (IN, "sep_conv3x3", "avg_pool3x3", "max_pool3x3", "conv3x3", "conv5x5",
                        "sep_conv5x5", OUT)
    assert arch.edges == ((0, 1), (0, 4), (0, 5), (1, 2), (1, 4), (1, 5), (2, 3), (2, 4), (2, 5),
                          (3, 4), (3, 5), (4, 5), (4, 6), (5, 6), (6, 7))
    assert space.format(arch) == text
    # parse is whitespace-tolerant, format is canonical Python list spacing
    assert space.format(space.parse(text.replace(" ", ""))) == text


@pytest.mark.parametrize("num_layers", [1, 2, 6, 12])
def test_enas_sample_format_parse_round_trip(num_layers) -> None:
    space = get_space("enas", num_layers=num_layers)
    samples = [space.sample(seed) for seed in range(40)]
    assert samples == [space.sample(seed) for seed in range(40)]
    for arch in samples:
        assert arch.num_nodes == num_layers + 2
        space.validate(arch)
        text = space.format(arch)
        assert space.parse(text) == arch
        rows = space.to_rows(arch)
        assert [len(r) for r in rows] == list(range(1, num_layers + 1))
        assert space.from_rows(rows) == arch
        ops, edges = expected_enas(rows)
        assert arch.ops == ops and set(arch.edges) == edges
    if num_layers >= 6:
        assert len(set(samples)) == 40


def test_enas_12_layers_by_string_and_keyword() -> None:
    a = get_space("enas", num_layers=12)
    b = get_space("enas:num_layers=12")
    assert a == b and a.max_nodes == b.max_nodes == 14
    arch = a.sample(3)
    assert b.parse(a.format(arch)) == arch
    assert not get_space("enas").is_valid(arch)


@pytest.mark.parametrize("num_layers", [1, 2, 6, 12])
def test_enas_neighbours(num_layers) -> None:
    space = get_space("enas", num_layers=num_layers)
    n = num_layers
    arch = space.sample(7)
    rows = space.to_rows(arch)
    flat = [x for r in rows for x in r]
    nbrs = space.neighbours(arch)
    assert len(nbrs) == n * 5 + n * (n - 1) // 2
    assert len(set(nbrs)) == len(nbrs) and arch not in nbrs
    for nb in nbrs:
        space.validate(nb)
        nb_flat = [x for r in space.to_rows(nb) for x in r]
        assert sum(a != b for a, b in zip(flat, nb_flat)) == 1
    m = space.mutate(arch, 5)
    assert m == space.mutate(arch, 5) and m in nbrs


def test_enas_enumerate_small() -> None:
    space = get_space("enas", num_layers=2)
    archs = list(space.enumerate())
    assert len(archs) == space.size() == 6 ** 2 * 2
    assert len(set(archs)) == len(archs)
    assert len({a.canonical_hash for a in archs}) == len(archs)
    assert get_space("enas").size() == 6 ** 6 * 2 ** 15
    assert get_space("enas", num_layers=3).size() == sum(1 for _ in get_space("enas", num_layers=3).enumerate())


def test_enas_bad_rows() -> None:
    space = get_space("enas")
    good = [[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]]
    space.from_rows(good)

    def with_row(i, row):
        return json.dumps(good[:i] + [row] + good[i + 1:])

    msg = error_message(space.parse, with_row(2, [5, 0]))
    assert "layer 2" in msg and "2 skip bits" in msg
    msg = error_message(space.parse, with_row(2, [5, 0, 0, 1]))
    assert "layer 2" in msg
    msg = error_message(space.parse, with_row(3, [6, 1, 1, 1]))
    assert "layer 3" in msg and "op index 6" in msg and "0..5" in msg
    msg = error_message(space.parse, with_row(3, [-1, 1, 1, 1]))
    assert "op index -1" in msg
    msg = error_message(space.parse, with_row(4, [2, 1, 2, 1, 1]))
    assert "layer 4" in msg and "skip bit 1 is 2" in msg
    msg = error_message(space.parse, with_row(0, [1.0]))
    assert "layer 0" in msg and "op index 1.0" in msg
    msg = error_message(space.parse, with_row(1, [1, 0.0]))
    assert "skip bit 0 is 0.0" in msg
    msg = error_message(space.parse, json.dumps(good[:5]))
    assert "expected 6 layers, got 5" in msg
    msg = error_message(space.parse, with_row(1, 4))
    assert "layer 1" in msg
    assert "not a list" in error_message(space.parse, "[[1], [4, 0]")
    assert "list of layers" in error_message(space.parse, '{"a": 1}')
    # a trailing score is not part of the native format
    error_message(space.parse, str(good) + ", 0.73")


def test_enas_validate_rejects() -> None:
    space = get_space("enas", num_layers=3)
    arch = space.from_rows([[0], [1, 1], [2, 0, 1]])
    assert arch.edges == ((0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (3, 4))
    no_chain = Architecture(arch.ops, [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)])
    assert "chain edge 1->2" in error_message(space.validate, no_chain)
    early_end = Architecture(arch.ops, [*arch.edges, (1, 4)])
    assert "END" in error_message(space.validate, early_end)
    assert "5 nodes" in error_message(space.validate, get_space("enas", num_layers=4).sample(0))
    bad_op = Architecture((IN, "conv", *arch.ops[2:]), arch.edges)
    assert "unknown op" in error_message(space.validate, bad_op)
    error_message(space.to_rows, no_chain)
    error_message(space.format, early_end)


# =========================================================================== NB101
C3, C1, MP = NB101_OPS


@pytest.fixture(scope="module")
def nb101() -> NasBench101Space:
    return get_space("nb101")


def test_nb101_vocabulary(nb101) -> None:
    assert NB101_OPS == ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
    assert nb101.max_nodes == 7 and nb101.max_edges == 9


def test_nb101_pruning(nb101) -> None:
    # node 2 has no path to the output; node 3 is not reachable from the input
    matrix = [[0, 1, 1, 0, 0],
              [0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0],
              [0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0]]
    arch = nb101.from_spec(matrix, [IN, C3, C1, MP, OUT])
    assert arch.ops == (IN, C3, OUT)
    assert arch.edges == ((0, 1), (1, 2))
    assert nb101.to_spec(arch) == ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [IN, C3, OUT])
    # a dead node between kept nodes: numbering of the kept nodes is compacted
    matrix = [[0, 1, 0, 1, 0],
              [0, 0, 1, 0, 0],
              [0, 0, 0, 0, 0],
              [0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0]]
    arch = nb101.from_spec(matrix, [IN, C3, MP, C1, OUT])
    assert arch.ops == (IN, C1, OUT) and arch.edges == ((0, 1), (1, 2))


def test_nb101_pruned_size_is_what_counts(nb101) -> None:
    # 8 nodes before pruning, 7 after: valid (the limit applies to the pruned cell)
    n = 8
    matrix = [[1 if d == s + 1 else 0 for d in range(n)] for s in range(n)]
    matrix[0][6] = 0
    matrix[5][6] = 0
    matrix[5][7] = 1  # node 6 now unreachable from the input
    arch = nb101.from_spec(matrix, [IN, C3, C3, C1, C1, MP, MP, OUT])
    assert arch.num_nodes == 7 and nb101.is_valid(arch)
    # many edges before pruning, few after
    matrix = [[0, 1, 0, 0, 0, 0, 0],
              [0, 0, 0, 0, 0, 0, 1],
              [0, 0, 0, 1, 1, 1, 0],
              [0, 0, 0, 0, 1, 1, 0],
              [0, 0, 0, 0, 0, 1, 0],
              [0, 0, 0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0, 0, 0]]
    arch = nb101.from_spec(matrix, [IN, C3, C3, C3, C3, C3, OUT])
    assert arch.ops == (IN, C3, OUT)


def test_nb101_errors(nb101) -> None:
    msg = error_message(nb101.from_spec, [[0, 0, 0], [0, 0, 1], [0, 0, 0]], [IN, C3, OUT])
    assert "not connected" in msg
    msg = error_message(nb101.from_spec, [[0, 1, 0], [0, 0, 0], [0, 0, 0]], [IN, C3, OUT])
    assert "not connected" in msg
    # 10 edges among 7 nodes, all on paths
    n = 7
    matrix = [[0] * n for _ in range(n)]
    for s, d in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (0, 2), (0, 3), (0, 4), (0, 5)]:
        matrix[s][d] = 1
    msg = error_message(nb101.from_spec, matrix, [IN, C3, C3, C1, C1, MP, OUT])
    assert "too many edges" in msg and "10" in msg and "9" in msg
    matrix[0][5] = 0  # 9 edges: fine
    assert nb101.from_spec(matrix, [IN, C3, C3, C1, C1, MP, OUT]).num_edges == 9
    n = 8
    chain = [[1 if d == s + 1 else 0 for d in range(n)] for s in range(n)]
    msg = error_message(nb101.from_spec, chain, [IN] + [C3] * 6 + [OUT])
    assert "too many nodes" in msg and "8" in msg
    msg = error_message(nb101.from_spec, [[0, 1, 1], [1, 0, 1], [0, 0, 0]], [IN, C3, OUT])
    assert "upper triangular" in msg and "matrix[1][0]" in msg
    msg = error_message(nb101.from_spec, [[1, 1, 1], [0, 0, 1], [0, 0, 0]], [IN, C3, OUT])
    assert "upper triangular" in msg
    msg = error_message(nb101.from_spec, [[0, 1, 1], [0, 0, 1], [0, 0, 0]], [IN, "conv5x5", OUT])
    assert "unknown op" in msg and "'conv5x5'" in msg
    msg = error_message(nb101.from_spec, [[0, 2, 0], [0, 0, 1], [0, 0, 0]], [IN, C3, OUT])
    assert "matrix[0][1]" in msg
    msg = error_message(nb101.from_spec, [[0, 1], [0, 0]], [IN, C3, OUT])
    assert "3x3" in msg
    error_message(nb101.from_spec, [[0, 1, 1], [0, 0, 1], [0, 0, 0]], [C3, C3, OUT])
    error_message(nb101.from_spec, [[0]], [IN])
    assert "JSON" in error_message(nb101.parse, "{matrix")
    error_message(nb101.parse, '{"matrix": [[0, 1], [0, 0]]}')


def test_nb101_format_parse_round_trip(nb101) -> None:
    matrix = [[0, 1, 1, 0, 0],
              [0, 0, 0, 1, 0],
              [0, 0, 0, 1, 1],
              [0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0]]
    ops = [IN, C3, MP, C1, OUT]
    arch = nb101.from_spec(matrix, ops)
    text = nb101.format(arch)
    assert json.loads(text) == {"matrix": matrix, "ops": ops}
    assert nb101.parse(text) == arch
    assert nb101.parse(json.dumps([matrix, ops])) == arch
    for seed in range(20):
        s = nb101.sample(seed)
        assert nb101.parse(nb101.format(s)) == s


def test_nb101_sample(nb101) -> None:
    samples = [nb101.sample(seed) for seed in range(60)]
    assert samples == [nb101.sample(seed) for seed in range(60)]
    for arch in samples:
        nb101.validate(arch)
        assert 2 <= arch.num_nodes <= 7 and arch.num_edges <= 9
        assert arch.ops[0] == IN and arch.ops[-1] == OUT
        assert set(arch.ops[1:-1]) <= set(NB101_OPS)
    assert len({a.canonical_hash for a in samples}) > 40


def check_neighbours(space, arch):
    """Neighbours exist, are valid, pairwise non-isomorphic, not ``arch`` itself, and differ from
    it by at most one node; returns them."""
    nbrs = space.neighbours(arch)
    assert nbrs
    hashes = [nb.canonical_hash for nb in nbrs]
    assert len(set(hashes)) == len(hashes)
    assert arch.canonical_hash not in hashes
    for nb in nbrs:
        space.validate(nb)
        assert abs(nb.num_nodes - arch.num_nodes) <= 1
    return nbrs


def test_nb101_neighbours(nb101) -> None:
    for seed in range(8):
        arch = nb101.sample(seed)
        nbrs = check_neighbours(nb101, arch)
        assert all(nb.num_nodes <= 7 and nb.num_edges <= 9 for nb in nbrs)
        assert nb101.mutate(arch, 1) == nb101.mutate(arch, 1)
    # the 7-node, 9-edge cell above: no neighbour may add a node or exceed 9 edges
    n = 7
    matrix = [[0] * n for _ in range(n)]
    for s, d in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (0, 2), (0, 3), (0, 4)]:
        matrix[s][d] = 1
    full = nb101.from_spec(matrix, [IN, C3, C3, C1, C1, MP, OUT])
    for nb in nb101.neighbours(full):
        assert nb.num_nodes <= 7 and nb.num_edges <= 9


# =========================================================================== generic DAG
def brute_force_classes(ops, max_nodes, max_edges=None, min_nodes=2):
    """Isomorphism classes of valid DAGs, found independently with networkx.

    All labelled DAGs in topological numbering with ``min_nodes..max_nodes`` nodes (node 0
    'input', node n-1 'output', inner labels from ``ops``) whose every node lies on an
    input->output path, deduplicated by ``nx.is_isomorphic`` with op labels. Returns buckets
    of representatives keyed by a cheap isomorphism invariant.
    """
    buckets: dict[tuple, list[nx.DiGraph]] = {}
    for n in range(min_nodes, max_nodes + 1):
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        for mask in range(1 << len(pairs)):
            edges = [p for k, p in enumerate(pairs) if mask >> k & 1]
            if max_edges is not None and len(edges) > max_edges:
                continue
            g = nx.DiGraph()
            g.add_nodes_from(range(n))
            g.add_edges_from(edges)
            on_path = (nx.descendants(g, 0) | {0}) & (nx.ancestors(g, n - 1) | {n - 1})
            if len(on_path) != n:
                continue
            for inner in itertools.product(ops, repeat=n - 2):
                labels = (IN, *inner, OUT)
                h = nx.DiGraph()
                h.add_nodes_from((v, {"op": labels[v]}) for v in range(n))
                h.add_edges_from(edges)
                bucket = buckets.setdefault(invariant(h), [])
                if not any(nx.is_isomorphic(h, r, node_match=op_match) for r in bucket):
                    bucket.append(h)
    return buckets


def invariant(g: nx.DiGraph) -> tuple:
    return (g.number_of_nodes(), g.number_of_edges(),
            tuple(sorted(Counter((g.nodes[v]["op"], g.in_degree(v), g.out_degree(v))
                                 for v in g).items())))


@pytest.mark.parametrize("ops,max_nodes,max_edges", [
    (("a", "b"), 4, None),
    (("a", "b"), 5, None),
    (("a", "b", "c"), 5, 6),
    (("a",), 5, 5),
])
def test_dag_enumerate_matches_brute_force(ops, max_nodes, max_edges) -> None:
    space = get_space("dag", ops=ops, max_nodes=max_nodes, max_edges=max_edges)
    archs = list(space.enumerate())
    buckets = brute_force_classes(ops, max_nodes, max_edges)
    expected = sum(len(b) for b in buckets.values())
    assert len(archs) == expected
    assert len({a.canonical_hash for a in archs}) == len(archs)
    # every enumerated DAG is valid and matches exactly one class, each class hit once
    hit: Counter = Counter()
    for arch in archs:
        space.validate(arch)
        g = nx_of(arch)
        matches = [i for i, r in enumerate(buckets.get(invariant(g), []))
                   if nx.is_isomorphic(g, r, node_match=op_match)]
        assert len(matches) == 1, arch
        hit[(invariant(g), matches[0])] += 1
    assert len(hit) == expected and set(hit.values()) == {1}
    sizes = [a.num_nodes for a in archs]
    assert sizes == sorted(sizes)  # smallest first


def test_dag_enumerate_known_small_counts() -> None:
    # n=2: 1; n=3: 2 shapes x 2 labels = 4; total with max_nodes=3 is 5
    assert sum(1 for _ in get_space("dag", ops=("a", "b"), max_nodes=3).enumerate()) == 5
    assert sum(1 for _ in get_space("dag", ops=("a",), max_nodes=3).enumerate()) == 3
    assert sum(1 for _ in get_space("dag", ops=("a",), max_nodes=3, min_nodes=3).enumerate()) == 2
    assert sum(1 for _ in get_space("dag:ops=a,b;max_nodes=4").enumerate()) == sum(
        len(b) for b in brute_force_classes(("a", "b"), 4).values())


def test_dag_neighbourhood_connects_whole_space() -> None:
    """BFS over neighbours from the 2-node DAG reaches exactly the enumerated classes."""
    space = get_space("dag", ops=("a", "b"), max_nodes=4)
    enumerated = {a.canonical_hash for a in space.enumerate()}
    start = Architecture([IN, OUT], [(0, 1)])
    seen = {start.canonical_hash}
    queue = deque([start])
    while queue:
        arch = queue.popleft()
        for nb in space.neighbours(arch):
            assert space.is_valid(nb)
            if nb.canonical_hash not in seen:
                seen.add(nb.canonical_hash)
                queue.append(nb)
    assert seen == enumerated


@pytest.mark.parametrize("params", [
    {"ops": ("a", "b"), "max_nodes": 4},
    {"ops": ("a", "b", "c"), "max_nodes": 8, "max_edges": 9},
    {"ops": ("x",), "max_nodes": 12, "max_edges": 14, "min_nodes": 5, "edge_prob": 0.1},
    {"ops": ("x", "y"), "max_nodes": 6, "edge_prob": 1.0},
    {"ops": ("x", "y"), "max_nodes": 6, "edge_prob": 0.0},
])
def test_dag_sample_respects_limits(params) -> None:
    space = get_space("dag", **params)
    samples = [space.sample(seed) for seed in range(80)]
    assert samples == [space.sample(seed) for seed in range(80)]
    assert space.sample(random.Random(4)) == space.sample(4)
    for arch in samples:
        space.validate(arch)
        assert space.min_nodes <= arch.num_nodes <= space.max_nodes
        if space.max_edges is not None:
            assert arch.num_edges <= space.max_edges
        assert arch.ops[0] == IN and arch.ops[-1] == OUT
        assert set(arch.ops[1:-1]) <= set(space.ops)
        assert space.parse(space.format(arch)) == arch
    assert len({a.num_nodes for a in samples}) > 1


@pytest.mark.parametrize("params", [
    {"ops": ("a", "b"), "max_nodes": 4},
    {"ops": ("a", "b", "c"), "max_nodes": 7, "max_edges": 8},
])
def test_dag_neighbours(params) -> None:
    space = get_space("dag", **params)
    for seed in range(10):
        arch = space.sample(seed)
        nbrs = check_neighbours(space, arch)
        m = space.mutate(arch, seed)
        assert m == space.mutate(arch, seed) and m in nbrs


def test_dag_neighbours_of_input_output() -> None:
    space = get_space("dag", ops=("a", "b"), max_nodes=3)
    start = Architecture([IN, OUT], [(0, 1)])
    nbrs = space.neighbours(start)
    # only insertions of a node fed by input and feeding output; existing edges are kept
    assert sorted(nb.ops for nb in nbrs) == [(IN, "a", OUT), (IN, "b", OUT)]
    assert all(nb.edges == ((0, 1), (0, 2), (1, 2)) for nb in nbrs)
    tiny = get_space("dag", ops=("a",), max_nodes=2)
    assert tiny.neighbours(start) == []
    assert "no neighbours" in error_message(tiny.mutate, start, 0)


def test_dag_validate_and_parse_errors() -> None:
    space = get_space("dag", ops=("a", "b"), max_nodes=4, max_edges=4, min_nodes=3)
    assert "too few nodes" in error_message(space.validate, Architecture([IN, OUT], [(0, 1)]))
    five = Architecture([IN, "a", "a", "a", OUT], [(0, 1), (1, 2), (2, 3), (3, 4)])
    assert "too many nodes" in error_message(space.validate, five)
    dense = Architecture([IN, "a", "b", OUT], [(0, 1), (0, 2), (0, 3), (1, 2), (2, 3)])
    assert "too many edges" in error_message(space.validate, dense)
    assert "unknown op 'c'" in error_message(
        space.validate, Architecture([IN, "c", OUT], [(0, 1), (1, 2)]))
    assert "'input'" in error_message(
        space.validate, Architecture(["a", "b", OUT], [(0, 1), (1, 2)]))
    assert "'output'" in error_message(
        space.validate, Architecture([IN, "b", "a"], [(0, 1), (1, 2)]))
    assert "JSON" in error_message(space.parse, "{not json")
    error_message(space.parse, '{"ops": ["input", "c", "output"], "edges": [[0, 1], [1, 2]]}')
    ok = Architecture([IN, "b", OUT], [(0, 1), (1, 2)])
    assert space.parse(space.format(ok)) == ok
    # the JSON form accepts inner nodes in any order and renumbers them topologically
    text = '{"ops": ["input", "b", "a", "output"], "edges": [[0, 2], [2, 1], [1, 3]]}'
    assert space.parse(text) == Architecture([IN, "a", "b", OUT], [(0, 1), (1, 2), (2, 3)])


def test_sample_distinct() -> None:
    from graphvae_nas.spaces import sample_distinct

    archs = sample_distinct(get_space("enas"), 50, seed=3)
    assert len({a.canonical_hash for a in archs}) == 50
    assert archs == sample_distinct(get_space("enas"), 50, seed=3)
    with pytest.raises(ArchitectureError, match="the space has 15625"):
        sample_distinct(get_space("nb201"), 15626)
    tiny = get_space("dag:ops=a;max_nodes=3")  # 2 DAGs of 2 nodes... a handful in all
    with pytest.raises(ArchitectureError, match="distinct architectures in 50 draws"):
        sample_distinct(tiny, 40, seed=0, max_draws=50)


def test_distance_counts_what_differs_in_each_space() -> None:
    """bn: arcs (a reversal counts 2); nb201: cell edges whose op differs; elsewhere: labelled
    edges in one architecture and not the other. Zero exactly for the same architecture."""
    from graphvae_nas.spaces import get_space

    bn = get_space("bn:variables=a,b,c")
    chain = bn.from_parents({"b": ["a"], "c": ["b"]})
    assert bn.distance(chain, chain) == 0
    assert bn.distance(chain, bn.from_parents({"b": ["a"]})) == 1
    assert bn.distance(chain, bn.from_parents({"a": ["b"], "c": ["b"]})) == 2
    nb201 = get_space("nb201")
    cell = nb201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|")
    other = nb201.parse("|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|none~2|")
    assert nb201.distance(cell, cell) == 0 and nb201.distance(cell, other) == 2
    enas = get_space("enas")
    first, second = enas.sample(0), enas.sample(1)
    assert enas.distance(first, first) == 0
    assert enas.distance(first, second) == enas.distance(second, first) > 0
