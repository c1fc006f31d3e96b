"""Tests for the Bayesian-network space (graphvae_nas.spaces.bn): formats, hashing, moves, sampling."""
from __future__ import annotations

import itertools
import random

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import DATA

from graphvae_nas.errors import ArchitectureError, DataFormatError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import SearchSpace, get_space, space_from_spec
from graphvae_nas.spaces.bn import BayesianNetworkSpace, count_dags

ASIA = ("A", "S", "T", "L", "B", "E", "X", "D")
ASIA_TRUE = "[A][S][T|A][L|S][B|S][E|T:L][X|E][D|B:E]"
SPACE = BayesianNetworkSpace(variables=ASIA)


@st.composite
def bn_with_order(draw, n: int = len(ASIA), max_parents: int | None = None):
    """``(parent masks, a topological listing order)`` of a random DAG over ``n`` variables."""
    order = draw(st.permutations(range(n)))
    masks = [0] * n
    for i, v in enumerate(order):
        earlier = list(order[:i])
        chosen = draw(st.lists(st.sampled_from(earlier), unique=True,
                               max_size=len(earlier) if max_parents is None else min(max_parents, len(earlier)))
                      if earlier else st.just([]))
        for u in chosen:
            masks[v] |= 1 << u
    return tuple(masks), list(order)


def arcs_of(masks) -> set[tuple[int, int]]:
    return {(p, c) for c, m in enumerate(masks) for p in range(len(masks)) if m >> p & 1}


# ------------------------------------------------------------------------ space and registry
def test_registry_and_spec_round_trip(tmp_path) -> None:
    space = get_space("bn:variables=A,S,T,L,B,E,X,D")
    assert isinstance(space, SearchSpace)
    assert space.variables == ASIA and space.vocabulary == ("input", "output", *ASIA)
    assert space.max_nodes == 10
    assert space_from_spec(space.spec()) == space
    csv_file = tmp_path / "d.csv"
    csv_file.write_text("A,S,T,L,B,E,X,D\n" + ",".join("01" * 4) + "\n")
    from_data = get_space(f"bn:data={csv_file};max_parents=2")
    assert from_data.variables == ASIA and from_data.max_parents == 2
    assert from_data.data_path == str(csv_file)
    assert from_data.spec() == {"name": "bn", "variables": list(ASIA), "max_parents": 2, "arc_prob": 0.5}


@pytest.mark.parametrize("params, message", [
    ({}, "exactly one of"),
    ({"variables": ("A", "A")}, "listed twice"),
    ({"variables": ("A", "input")}, "reserved"),
    ({"variables": ("A", "B|C")}, "contains"),
    ({"variables": ("A", "B"), "max_parents": -1}, "max_parents"),
    ({"variables": ("A", "B"), "arc_prob": 1.5}, "arc_prob"),
])
def test_bad_space_parameters(params, message) -> None:
    with pytest.raises(ArchitectureError, match=message):
        BayesianNetworkSpace(**params)


def test_missing_data_file_is_named(tmp_path) -> None:
    with pytest.raises(DataFormatError, match="no such file"):
        get_space(f"bn:data={tmp_path / 'absent.csv'}")


def test_count_dags() -> None:
    assert [count_dags(n) for n in range(6)] == [1, 1, 3, 25, 543, 29281]
    assert count_dags(8) == 783702329343


# ------------------------------------------------------------------------ formats
def test_asia_in_every_format() -> None:
    arch = SPACE.parse(ASIA_TRUE)
    assert SPACE.format(arch) == ASIA_TRUE
    assert SPACE.parents(arch)["D"] == ("B", "E") and SPACE.parents(arch)["A"] == ()
    rows = "[[0], [1, 0], [2, 1, 0], [3, 0, 1, 0], [4, 0, 1, 0, 0], [5, 0, 0, 1, 1, 0], [6, 0, 0, 0, 0, 0, 1], [7, 0, 0, 0, 0, 1, 1, 0]]"
    assert SPACE.format_as(arch, "dvae") == rows
    mat = SPACE.to_matrix(arch)
    assert mat[0, 2] == 1 and mat[2, 0] == 0  # row = parent: A -> T
    assert mat.sum() == 8
    for fmt in ("dvae", "matrix"):
        assert SPACE.parse(SPACE.format_as(arch, fmt)) == arch


def test_bnlearn_order_matches_bnlearn() -> None:
    """hc(learning.test) in bnlearn prints [A][C][F][B|A][D|A:C][E|B:F]: depth first, then
    the node order (A..F), so F (a root) comes before B."""
    space = BayesianNetworkSpace(variables=tuple("ABCDEF"))
    arch = space.from_parents({"B": ["A"], "D": ["A", "C"], "E": ["B", "F"]})
    assert space.format(arch) == "[A][C][F][B|A][D|A:C][E|B:F]"
    # nodes and parents may come in any order when parsing
    assert space.parse("[E|F:B][D|C:A][B|A][F][C][A]") == arch


def test_dvae_adjacency_example() -> None:
    """D-VAE's util.adjstr_to_BN example: its flat matrix and its rows describe one DAG."""
    flat = ("0 1 0 0 0 1 0 0 0 0 0 0 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 "
            "0 0 0 0 0 0 1 1 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0")
    rows = ("[[0], [1, 1], [2, 0, 0], [3, 0, 0, 0], [4, 0, 1, 0, 0], [5, 1, 1, 0, 0, 0], "
            "[6, 0, 1, 0, 0, 1, 0], [7, 0, 0, 0, 1, 1, 1, 0]]")
    from_matrix = SPACE.parse_as(flat, "matrix")
    from_rows = SPACE.parse_as(rows, "dvae")
    assert from_matrix.canonical_hash == from_rows.canonical_hash
    assert SPACE.format_as(from_rows, "dvae") == rows
    assert SPACE.format_as(from_rows, "matrix") == " ".join(flat.split())


@settings(max_examples=150, deadline=None)
@given(bn_with_order())
def test_bnlearn_round_trip(case) -> None:
    masks, order = case
    arch = SPACE.from_masks(masks, order)
    text = SPACE.format_as(arch, "bnlearn")
    back = SPACE.parse_as(text, "bnlearn")
    assert SPACE.parent_masks(back) == masks
    assert SPACE.format_as(back, "bnlearn") == text
    assert back == SPACE.from_masks(masks)  # parsed architectures list nodes in bnlearn order
    blocks = text[1:-1].split("][")
    random.Random(len(text)).shuffle(blocks)
    assert SPACE.parse("[" + "][".join(blocks) + "]") == back


@settings(max_examples=150, deadline=None)
@given(bn_with_order())
def test_dvae_round_trip_keeps_the_listing_order(case) -> None:
    masks, order = case
    arch = SPACE.from_masks(masks, order)
    text = SPACE.format_as(arch, "dvae")
    back = SPACE.parse_as(text, "dvae")
    assert back == arch and SPACE.format_as(back, "dvae") == text
    assert [row[0] for row in eval(text)] == order  # noqa: S307 - our own output
    assert SPACE.parent_masks(back) == masks


@settings(max_examples=150, deadline=None)
@given(bn_with_order())
def test_matrix_round_trip(case) -> None:
    masks, order = case
    arch = SPACE.from_masks(masks, order)
    text = SPACE.format_as(arch, "matrix")
    back = SPACE.parse_as(text, "matrix")
    assert SPACE.parent_masks(back) == masks and SPACE.format_as(back, "matrix") == text
    assert arcs_of(masks) == {tuple(map(int, e)) for e in np.argwhere(SPACE.to_matrix(arch))}
    assert SPACE.from_matrix(SPACE.to_matrix(arch)) == back


@settings(max_examples=150, deadline=None)
@given(bn_with_order(), st.randoms(use_true_random=False))
def test_hash_is_invariant_under_listing_order(case, rnd) -> None:
    masks, order = case
    g = nx.DiGraph(arcs_of(masks))
    g.add_nodes_from(range(len(masks)))
    other = list(nx.lexicographical_topological_sort(g, key=lambda v: rnd.random()))
    a, b = SPACE.from_masks(masks, order), SPACE.from_masks(masks, other)
    assert a.canonical_hash == b.canonical_hash
    assert (a == b) == (order == other)


@settings(max_examples=100, deadline=None)
@given(bn_with_order(), bn_with_order())
def test_hash_separates_different_dags(one, two) -> None:
    a, b = SPACE.from_masks(one[0], one[1]), SPACE.from_masks(two[0], two[1])
    assert (a.canonical_hash == b.canonical_hash) == (one[0] == two[0])


def test_unique_label_fast_path_equals_the_general_canonical_form() -> None:
    from graphvae_nas.graph.canonical import _refine, _search, canonical_form

    rng = random.Random(3)
    for _ in range(50):
        arch = SPACE.sample(rng)
        preds, succs = arch.predecessors(), arch.successors()
        rank = {label: i for i, label in enumerate(sorted(arch.ops))}
        general = _search(_refine([rank[op] for op in arch.ops], preds, succs), arch, preds, succs)
        assert canonical_form(arch) == general


@pytest.mark.parametrize("text, message", [
    ("[A][S][T|A][L|S][B|S][E|T:L][X|E]", "lacks variables"),
    ("[A][S][T|A][L|S][B|S][E|T:L][X|E][D|B:E][A]", "twice"),
    ("[A|T][S][T|A][L|S][B|S][E|T:L][X|E][D|B:E]", "cycle"),
    ("[A][S][T|Q][L|S][B|S][E|T:L][X|E][D|B:E]", "unknown variable 'Q'"),
    ("[A][S][T|T][L|S][B|S][E|T:L][X|E][D|B:E]", "own parent"),
    ("[A][S][T|A:A][L|S][B|S][E|T:L][X|E][D|B:E]", "repeated"),
    ("[A][S] [T]", "not a bnlearn model string"),
    ("[[0], [0, 1], [2, 0, 0], [3, 0, 0, 0], [4, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0], [6, 0, 0, 0, 0, 0, 0], [7, 0, 0, 0, 0, 0, 0, 0]]", "listed twice"),
    ("[[0], [1, 2], [2, 0, 0], [3, 0, 0, 0], [4, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0], [6, 0, 0, 0, 0, 0, 0], [7, 0, 0, 0, 0, 0, 0, 0]]", "not 0 or 1"),
    ("[[0], [1]]", "expected 8 D-VAE rows"),
    ("0 1 1 0", "adjacency matrix is 64 digits"),
    (" ".join(["1"] + ["0"] * 63), "self-loop"),
    (" ".join(["0", "1"] + ["0"] * 6 + ["1"] + ["0"] * 55), "cycle"),
])
def test_parse_errors(text, message) -> None:
    with pytest.raises(ArchitectureError, match=message):
        SPACE.parse(text)


# ------------------------------------------------------------------------ validity
def test_validate_rejects_non_bn_graphs() -> None:
    good = SPACE.parse(ASIA_TRUE)
    ops, edges = list(good.ops), list(good.edges)

    def bad(ops_, edges_, message):
        with pytest.raises(ArchitectureError, match=message):
            SPACE.validate(Architecture(ops_, edges_))

    bad(ops[:3] + ["A"] + ops[4:], edges, "exactly once")  # T replaced by a second A
    bad(ops[:-2] + ops[-1:], [(s, d) for s, d in edges if d < 8] + [(5, 8), (7, 8)], "expected 10 nodes")
    bad(ops, edges + [(0, 3)], "has parents and an input edge")  # T has parent A
    bad(ops, edges + [(1, 9)], "has children and an output edge")  # A feeds T
    x_feeds_d = Architecture(ops, [e for e in edges if e != (7, 9)] + [(7, 8)])
    assert SPACE.parents(x_feeds_d)["D"] == ("B", "E", "X")  # a valid BN: X is no sink now
    assert not SPACE.is_valid(Architecture(["input", "A", "output"], [(0, 1), (1, 2)]))
    limited = BayesianNetworkSpace(variables=ASIA, max_parents=1)
    with pytest.raises(ArchitectureError, match="max_parents=1"):
        limited.validate(good)
    with pytest.raises(ArchitectureError, match="max_parents=1"):
        limited.parse(ASIA_TRUE)


def test_generation_constraints_describe_the_node_layout() -> None:
    c = SPACE.generation_constraints()
    assert c.vocabulary == SPACE.vocabulary and c.max_nodes == 10
    assert c.node_types[0].tolist() == [True] + [False] * 9
    assert c.node_types[9].tolist() == [False, True] + [False] * 8
    assert all(c.node_types[p].tolist() == [False, False] + [True] * 8 for p in range(1, 9))
    assert c.connect_loose_ends


# ------------------------------------------------------------------------ sampling and moves
def test_sample_is_valid_deterministic_and_varied() -> None:
    archs = [SPACE.sample(random.Random(7)) for _ in range(2)]
    assert archs[0] == archs[1]
    rng = random.Random(0)
    sample = [SPACE.sample(rng) for _ in range(300)]
    for arch in sample:
        SPACE.validate(arch)
        assert arch == SPACE.from_masks(SPACE.parent_masks(arch))  # listed in bnlearn order
    assert len({a.canonical_hash for a in sample}) == 300
    mean_arcs = np.mean([sum(m.bit_count() for m in SPACE.parent_masks(a)) for a in sample])
    assert 12 < mean_arcs < 16  # 28 pairs, each an arc with probability 1/2


@pytest.mark.parametrize("arc_prob, arcs", [(0.0, 0), (1.0, 28)])
def test_sample_extremes(arc_prob, arcs) -> None:
    space = BayesianNetworkSpace(variables=ASIA, arc_prob=arc_prob)
    for seed in range(5):
        assert sum(m.bit_count() for m in space.parent_masks(space.sample(seed))) == arcs


def test_sample_respects_max_parents() -> None:
    space = BayesianNetworkSpace(variables=ASIA, max_parents=2, arc_prob=0.9)
    rng = random.Random(1)
    counts = [max(m.bit_count() for m in space.parent_masks(space.sample(rng))) for _ in range(200)]
    assert max(counts) == 2


def _brute_force_neighbours(space: BayesianNetworkSpace, masks) -> set:
    n = space.num_variables
    k = space.max_parents
    result = set()
    arcs = arcs_of(masks)
    candidates = []
    for i, j in itertools.permutations(range(n), 2):
        if (i, j) in arcs:
            candidates.append(arcs - {(i, j)})
            candidates.append((arcs - {(i, j)}) | {(j, i)})
        elif (j, i) not in arcs:
            candidates.append(arcs | {(i, j)})
    for cand in candidates:
        g = nx.DiGraph(cand)
        g.add_nodes_from(range(n))
        if not nx.is_directed_acyclic_graph(g):
            continue
        new = [0] * n
        for p, c in cand:
            new[c] |= 1 << p
        if k is None or max(m.bit_count() for m in new) <= k:
            result.add(tuple(new))
    return result


@settings(max_examples=60, deadline=None)
@given(bn_with_order(n=5), st.sampled_from([None, 1, 2]))
def test_neighbours_are_the_acyclic_one_arc_moves(case, max_parents) -> None:
    space = BayesianNetworkSpace(variables=tuple("VWXYZ"), max_parents=max_parents)
    masks, order = case
    if max_parents is not None and max(m.bit_count() for m in masks) > max_parents:
        return
    arch = space.from_masks(masks, order)
    neighbours = space.neighbours(arch)
    found = [space.parent_masks(a) for a in neighbours]
    for a in neighbours:
        space.validate(a)
        assert len(arcs_of(space.parent_masks(a)) ^ arcs_of(masks)) in (1, 2)
    assert len(found) == len(set(found))
    assert set(found) == _brute_force_neighbours(space, masks)


def test_neighbours_of_asia_and_mutate() -> None:
    arch = SPACE.parse(ASIA_TRUE)
    neighbours = SPACE.neighbours(arch)
    assert len(neighbours) == len(_brute_force_neighbours(SPACE, SPACE.parent_masks(arch)))
    empty = SPACE.parse("[A][S][T][L][B][E][X][D]")
    assert len(SPACE.neighbours(empty)) == 56  # every ordered pair can be added
    hashes = {a.canonical_hash for a in neighbours}
    for seed in range(10):
        assert SPACE.mutate(arch, seed).canonical_hash in hashes


def test_mutate_chooses_as_the_base_class_does() -> None:
    """The bn space builds only the chosen neighbour; the choice (and so every search that
    mutates) is the base class's for the same seed."""
    from graphvae_nas.spaces.base import SpaceBase

    arch = SPACE.parse(ASIA_TRUE)
    for seed in range(20):
        assert SPACE.mutate(arch, seed) == SpaceBase.mutate(SPACE, arch, seed)
    rng_a, rng_b = random.Random(5), random.Random(5)
    mine = base = arch
    for _ in range(50):  # a walk: the shared generator stays in step
        mine, base = SPACE.mutate(mine, rng_a), SpaceBase.mutate(SPACE, base, rng_b)
        assert mine == base
    assert mine != arch


@pytest.mark.skipif(not (DATA / "bn" / "asia.csv").is_file(), reason="asia.csv not in ../shared/data")
def test_space_from_the_asia_data() -> None:
    space = get_space(f"bn:data={DATA / 'bn' / 'asia.csv'}")
    assert space.variables == ASIA and space == SPACE


# ------------------------------------------------------------------------ decoding rules and the VAE
def test_decoding_rules_are_labels_once() -> None:
    from graphvae_nas.spaces.rules import LabelsOnceRules

    rules = BayesianNetworkSpace(variables=ASIA, max_parents=2).decoding_rules()
    assert isinstance(rules, LabelsOnceRules)
    assert rules.labels == ASIA and rules.max_parents == 2 and rules.max_nodes == 10


def _bn_vae(space, seed: int = 0):
    import torch

    from graphvae_nas.vae.config import VAEConfig
    from graphvae_nas.vae.model import GraphVAE

    torch.manual_seed(seed)
    return GraphVAE(space, VAEConfig(hidden_size=32, latent_size=8))


def _invalid(space, decoded) -> int:
    return sum(a is None or not space.is_valid(a) for a in decoded)


@pytest.mark.parametrize("max_parents", [None, 2])
def test_untrained_vae_decodes_only_valid_bns(max_parents) -> None:
    import torch

    space = BayesianNetworkSpace(variables=ASIA, max_parents=max_parents)
    model = _bn_vae(space)
    z = 3.0 * torch.randn(300, 8, generator=torch.Generator().manual_seed(1))
    stochastic = model.decode_raw(z, generator=torch.Generator().manual_seed(2))
    greedy = model.decode_raw(z, stochastic=False)
    assert _invalid(space, stochastic + greedy) == 0
    assert len({a.canonical_hash for a in stochastic}) > 250   # varied, not one collapsed graph


def test_briefly_trained_vae_decodes_only_valid_bns() -> None:
    import torch

    from graphvae_nas.vae.trainer import TrainConfig, train_vae

    space = BayesianNetworkSpace(variables=ASIA)
    rng = random.Random(0)
    train = [space.sample(rng) for _ in range(64)]
    model = _bn_vae(space)
    history = train_vae(model, train, TrainConfig(epochs=15, batch_size=16, lr=1e-2, seed=0,
                                                  precision="fp32", progress=False))
    assert history[-1]["loss"] < history[0]["loss"]
    mu, _ = model.encode(train)
    greedy = model.decode(mu, samples=1, stochastic=False)
    prior = model.decode_raw(torch.randn(200, 8, generator=torch.Generator().manual_seed(3)),
                             generator=torch.Generator().manual_seed(4))
    assert _invalid(space, greedy) == 0 and _invalid(space, prior) == 0


def test_sampler_settings_do_not_change_which_dags_a_space_holds(tmp_path) -> None:
    """A VAE or dataset of sparse random DAGs serves the same variables at another arc_prob
    (and takes the caller's space); other variables or max_parents are refused."""
    from graphvae_nas.datasets import ArchitectureDataset
    from graphvae_nas.datasets.jsonl import load_dataset, save_dataset
    from graphvae_nas.errors import GraphVAENASError
    from graphvae_nas.spaces import same_architectures, structure_spec
    from graphvae_nas.vae.persistence import load_model, save_model

    sparse = BayesianNetworkSpace(variables=ASIA, arc_prob=0.25)
    dense = BayesianNetworkSpace(variables=ASIA)
    capped = BayesianNetworkSpace(variables=ASIA, max_parents=2)
    assert sparse != dense and same_architectures(sparse, dense)
    assert structure_spec(sparse) == {"name": "bn", "variables": list(ASIA), "max_parents": None}
    assert not same_architectures(dense, capped)
    assert not same_architectures(dense, BayesianNetworkSpace(variables=ASIA[:7]))

    save_model(_bn_vae(sparse), tmp_path / "sparse.pt")
    model, _ = load_model(tmp_path / "sparse.pt", space=dense)
    assert model.space.spec() == dense.spec()
    with pytest.raises(GraphVAENASError, match="model was trained on space"):
        load_model(tmp_path / "sparse.pt", space=capped)

    archs = [sparse.sample(i) for i in range(5)]
    save_dataset(ArchitectureDataset(sparse, archs), tmp_path / "sparse.jsonl")
    assert load_dataset(tmp_path / "sparse.jsonl", space=dense).space.spec() == dense.spec()
    with pytest.raises(DataFormatError, match="dataset is of space"):
        load_dataset(tmp_path / "sparse.jsonl", space=capped)


def test_the_default_bn_vae_trains_on_sparse_dags(monkeypatch) -> None:
    """The bn default VAE's training DAGs come from arc probability 1/4 (about 7 arcs on 8
    variables, not 14), its cache key ignores the search space's own arc_prob, and a sampler
    change that would alter the space's DAGs is refused."""
    from graphvae_nas.errors import GraphVAENASError
    from graphvae_nas.vae import default_model as dm

    monkeypatch.setitem(dm.SPACE_TRAINING, "bn", {**dm.SPACE_TRAINING["bn"], "sample_size": 400})
    dense = BayesianNetworkSpace(variables=ASIA)
    archs = dm.training_architectures(dense)
    arcs = np.mean([sum(m.bit_count() for m in dense.parent_masks(a)) for a in archs])
    assert len(archs) == 400 and 6.0 < arcs < 8.0
    assert dm.training_settings(dense)[0]["epochs"] == dm.SPACE_TRAINING["bn"]["epochs"]
    assert dm.default_model_path(dense) == dm.default_model_path(
        BayesianNetworkSpace(variables=ASIA, arc_prob=0.7))
    assert dm.default_model_path(dense) != dm.default_model_path(
        BayesianNetworkSpace(variables=ASIA, max_parents=3))
    # NAS-Bench-201's cached default VAE keeps its file (the published search figures used it)
    assert dm.default_model_path(get_space("nb201")).name.startswith("vae-nb201-bef3316b2fbc")
    monkeypatch.setitem(dm.SPACE_TRAINING, "bn", {"sampler": {"max_parents": 2}})
    with pytest.raises(GraphVAENASError, match="not sampler fields"):
        dm.training_architectures(dense)


def test_the_default_bn_vae_is_shared_by_spaces_of_one_shape(monkeypatch, tmp_path, capsys) -> None:
    """Two data sets of 4 variables under other names use one cached default VAE (variable i
    for variable i); another count or max_parents trains its own; a model given by the user is
    not relabelled."""
    from graphvae_nas.errors import GraphVAENASError
    from graphvae_nas.spaces import same_shape
    from graphvae_nas.vae import default_model as dm
    from graphvae_nas.vae.persistence import load_model

    monkeypatch.setenv("GRAPHVAE_NAS_CACHE", str(tmp_path))
    monkeypatch.setitem(dm.SPACE_TRAINING, "bn", {**dm.SPACE_TRAINING["bn"], "sample_size": 30,
                                                  "epochs": 1})
    first = BayesianNetworkSpace(variables=("a", "b", "c", "d"))
    second = BayesianNetworkSpace(variables=("w", "x", "y", "z"), arc_prob=0.3)
    assert same_shape(first, second)
    assert not same_shape(first, BayesianNetworkSpace(variables=("a", "b", "c")))
    assert not same_shape(first, BayesianNetworkSpace(variables=("a", "b", "c", "d"), max_parents=1))
    assert dm.default_model_path(first) == dm.default_model_path(second)
    assert dm.default_model_path(first) != dm.default_model_path(
        BayesianNetworkSpace(variables=("a", "b", "c", "d"), max_parents=1))
    monkeypatch.setitem(dm.MEASURED_MINUTES, ("bn", 6), 0.5)      # 4 variables + input, output
    model, _, path = dm.default_model(first, progress=False)
    assert "(1 epoch, about 0.5 min on a quiet 2-core CPU; once, then cached in" in capsys.readouterr().err
    stamp = path.stat().st_mtime_ns
    again, _, same_path = dm.default_model(second, progress=False)
    assert same_path == path and path.stat().st_mtime_ns == stamp        # loaded, not retrained
    assert again.space.variables == second.variables
    for key, value in model.state_dict().items():
        assert torch.equal(value, again.state_dict()[key])
    decoded = again.decode_raw(torch.zeros(3, again.config.latent_size), stochastic=False)
    assert all(d is not None and set(d.ops[1:-1]) == set(second.variables) for d in decoded)
    with pytest.raises(GraphVAENASError, match="model was trained on space"):
        load_model(path, space=second)
