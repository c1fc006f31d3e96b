"""Decoding rules owned by the space: static rules decode exactly as the old per-position masks,
"each label exactly once" and "exactly two inputs" decode only valid graphs, and the teacher-forced
likelihood matches a plain sequential one under every kind of rule."""
from __future__ import annotations

import random
from typing import Any

import pytest
import torch

from graphvae_nas import Architecture
from graphvae_nas.errors import ArchitectureError, GraphVAENASError
from graphvae_nas.spaces import get_space
from graphvae_nas.spaces.base import SpaceBase, as_rng
from graphvae_nas.spaces.constraints import (
    GenerationConstraints,
    check_labels_once,
    labels_once_form,
)
from graphvae_nas.spaces.rules import (
    DecodingRules,
    LabelsOnceRules,
    PredecessorRule,
    StaticRules,
    capped_free_edges,
)
from graphvae_nas.vae import GraphVAE, VAEConfig, dense_graphs
from graphvae_nas.vae.trainer import TrainConfig, train_vae

from decoding_reference import assert_teacher_forcing_matches, legacy_generate


SMALL = VAEConfig(hidden_size=32, latent_size=8)
LABELS = ("A", "B", "C", "D", "E", "F")


# ------------------------------------------------------------------------------ test spaces
class LabelsOnceSpace(SpaceBase):
    """Every label exactly once, any DAG over them (a Bayesian network's structure), written
    in :func:`labels_once_form`; at most ``max_parents`` parents per label when given."""

    name = "labels-once-test"

    def __init__(self, labels: tuple[str, ...] = LABELS, max_parents: int | None = None,
                 arc_prob: float = 0.35) -> None:
        self.ops = tuple(labels)
        self.max_nodes = len(labels) + 2
        self.max_parents = max_parents
        self.arc_prob = arc_prob

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "labels": self.ops, "max_parents": self.max_parents}

    def parse(self, text: str) -> Architecture:
        arch = Architecture.from_json(text)
        self.validate(arch)
        return arch

    def format(self, arch: Architecture) -> str:
        return arch.to_json()

    def validate(self, arch: Architecture) -> None:
        check_labels_once(arch, self.ops, self.max_parents, self.name)

    def decoding_rules(self) -> DecodingRules:
        return LabelsOnceRules(self.vocabulary, self.ops, self.max_parents)

    def sample(self, seed: Any = None) -> Architecture:
        rng = as_rng(seed)
        order = list(self.ops)
        rng.shuffle(order)
        arcs = []
        for d in range(len(order)):
            parents = [s for s in range(d) if rng.random() < self.arc_prob]
            if self.max_parents is not None:
                parents = rng.sample(parents, min(len(parents), self.max_parents))
            arcs += [(s, d) for s in parents]
        return labels_once_form(order, arcs)

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        return []


class TwoInputsRules(StaticRules):
    """DARTS-style cells: node ``v`` of ``1..M`` is fed by exactly ``min(2, v)`` earlier
    nodes (any of them); the output is fed by the loose ends."""

    def predecessors(self, types: torch.Tensor, adj: torch.Tensor) -> PredecessorRule:
        rule = super().predecessors(types, adj)
        p = adj.shape[1]
        if p == self.max_nodes - 1:
            return rule
        k = min(2, p)
        return PredecessorRule(rule.forced, rule.free, min_count=k, max_count=k)

    def teacher_edge_masks(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor | None:
        n = adj.shape[1]
        free = torch.from_numpy(self.candidate_edges[:n, :n].copy()).unsqueeze(0)
        return capped_free_edges(adj, free, 2)


class TwoInputsSpace(SpaceBase):
    """Cells of ``num_nodes`` ops between input and output, each op fed by exactly two earlier
    nodes (one for the first op), loose ends into the output."""

    name = "two-inputs-test"

    def __init__(self, ops: tuple[str, ...] = ("conv", "pool", "skip"), num_nodes: int = 5) -> None:
        self.ops = tuple(ops)
        self.num_nodes = num_nodes
        self.max_nodes = num_nodes + 2

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "ops": self.ops, "num_nodes": self.num_nodes}

    def generation_constraints(self) -> GenerationConstraints:
        m = self.num_nodes
        free = [(s, d) for d in range(1, m + 1) for s in range(d)]
        return GenerationConstraints.fixed(
            self.vocabulary, [["input"]] + [list(self.ops)] * m + [["output"]], free_edges=free)

    def decoding_rules(self) -> DecodingRules:
        return TwoInputsRules(self.generation_constraints())

    def parse(self, text: str) -> Architecture:
        return Architecture.from_json(text)

    def format(self, arch: Architecture) -> str:
        return arch.to_json()

    def validate(self, arch: Architecture) -> None:
        self.check_terminals(arch)
        if arch.num_nodes != self.max_nodes:
            raise ArchitectureError(f"{self.name}: {arch.num_nodes} nodes, not {self.max_nodes}")
        preds = arch.predecessors()
        for v in range(1, self.num_nodes + 1):
            if len(preds[v]) != min(2, v):
                raise ArchitectureError(f"{self.name}: node {v} has {len(preds[v])} inputs")
        succs = arch.successors()
        loose = [v for v in range(self.num_nodes + 1) if succs[v] == [self.max_nodes - 1]]
        if preds[-1] != loose or any(not s for s in succs[:-1]):
            raise ArchitectureError(f"{self.name}: the output must be fed by the loose ends")

    def sample(self, seed: Any = None) -> Architecture:
        rng = as_rng(seed)
        m = self.num_nodes
        edges = [(s, d) for d in range(1, m + 1) for s in rng.sample(range(d), min(2, d))]
        has_child = {s for s, _ in edges}
        edges += [(v, m + 1) for v in range(m + 1) if v not in has_child]
        ops = ["input"] + [rng.choice(self.ops) for _ in range(m)] + ["output"]
        return Architecture(ops, edges)

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        return []


def model_for(space, config: VAEConfig = SMALL, seed: int = 0) -> GraphVAE:
    torch.manual_seed(seed)
    return GraphVAE(space, config)


def latents(count: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.randn(count, SMALL.latent_size, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------------ static rules
STATIC_SPACES = ["nb201", "enas", "nb101", "dag:ops=a,b;max_nodes=6",
                 "dag:ops=a,b,c;max_nodes=9;min_nodes=4"]


@pytest.mark.parametrize("positions", [False, True])
@pytest.mark.parametrize("space_name", STATIC_SPACES)
def test_static_rules_decode_exactly_as_the_per_position_masks(space_name: str, positions: bool) -> None:
    """Same model, same seed: the rules-driven decoder gives bit-identical graphs to the
    pre-rules decoder reading the space's per-position masks."""
    space = get_space(space_name)
    model = model_for(space, VAEConfig(hidden_size=32, latent_size=8, decoder_positions=positions))
    assert isinstance(model.rules, StaticRules)
    z = latents(300, seed=1, scale=2.0)
    for stochastic in (True, False):
        new = model.decoder.generate(z, stochastic=stochastic, generator=torch.Generator().manual_seed(2))
        old = legacy_generate(model.decoder, space.generation_constraints(), z, stochastic=stochastic,
                              generator=torch.Generator().manual_seed(2))
        assert torch.equal(new.types, old.types)
        assert torch.equal(new.adj, old.adj)
        assert torch.equal(new.num_nodes, old.num_nodes)


def test_a_checkpoint_with_the_old_type_mask_buffer_still_loads() -> None:
    model = model_for(get_space("enas"))
    state = model.state_dict()
    state["decoder.type_mask"] = torch.from_numpy(get_space("enas").generation_constraints().node_types)
    fresh = model_for(get_space("enas"), seed=1)
    fresh.load_state_dict(state)
    z = latents(20, seed=0)
    assert fresh.decode(z, samples=3) == model.decode(z, samples=3)


def test_rules_that_allow_no_type_for_a_live_graph_are_a_clear_error() -> None:
    class Stuck(StaticRules):
        def allowed_types(self, types: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
            return torch.zeros(1, len(self.vocabulary), dtype=torch.bool)

    model = model_for(get_space("nb201"))
    model.decoder.rules = Stuck(get_space("nb201").generation_constraints())
    with pytest.raises(GraphVAENASError, match="allow no type for node 1"):
        model.decode(latents(3, seed=0))


# ------------------------------------------------------------------------------ labels once
def test_labels_once_form_round_trips_and_is_checked() -> None:
    arch = labels_once_form(["B", "A", "C"], [(0, 2), (1, 2)])
    assert arch.ops == ("input", "B", "A", "C", "output")
    assert set(arch.edges) == {(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)}
    check_labels_once(arch, ("A", "B", "C"))
    with pytest.raises(ArchitectureError, match="max_parents=1"):
        check_labels_once(arch, ("A", "B", "C"), max_parents=1)
    with pytest.raises(ArchitectureError, match="exactly once"):
        check_labels_once(Architecture(["input", "A", "A", "C", "output"],
                                       [(0, 1), (1, 2), (2, 3), (3, 4)]), ("A", "B", "C"))
    with pytest.raises(ArchitectureError, match="without a parent"):   # redundant input edge
        check_labels_once(Architecture(["input", "A", "B", "C", "output"],
                                       [(0, 1), (0, 2), (1, 2), (2, 3), (3, 4)]), ("A", "B", "C"))
    with pytest.raises(ArchitectureError, match="without a child"):    # redundant output edge
        check_labels_once(Architecture(["input", "A", "B", "C", "output"],
                                       [(0, 1), (1, 2), (1, 4), (2, 3), (3, 4)]), ("A", "B", "C"))
    space = LabelsOnceSpace()
    assert all(space.is_valid(space.sample(seed)) for seed in range(50))


def test_labels_once_allowed_types_follow_the_partial_graphs() -> None:
    space = LabelsOnceSpace(("A", "B", "C"))
    rules = space.decoding_rules()
    vocab = space.vocabulary
    types = torch.tensor([[0, vocab.index("B")], [0, vocab.index("C")]])
    allowed = rules.allowed_types(types, torch.zeros(2, 2, 2))
    names = [[vocab[t] for t in row.nonzero().flatten().tolist()] for row in allowed]
    assert names == [["A", "C"], ["A", "B"]]
    full = torch.tensor([[0, vocab.index("B"), vocab.index("A"), vocab.index("C")]])
    assert rules.allowed_types(full, torch.zeros(1, 4, 4)).nonzero()[:, 1].tolist() == [vocab.index("output")]
    # the teacher-forcing masks are the step-by-step answers on complete graphs
    archs = [space.sample(seed) for seed in range(8)]
    graphs = dense_graphs(archs, vocab, space.max_nodes)
    masks = rules.teacher_type_masks(graphs.types, graphs.adj)
    for v in range(1, space.max_nodes):
        step = rules.allowed_types(graphs.types[:, :v], graphs.adj[:, :v, :v])
        assert torch.equal(masks[:, v - 1], step.expand_as(masks[:, v - 1]))


def assert_all_valid(space, decoded: list) -> None:
    invalid = [a for a in decoded if a is None or not space.is_valid(a)]
    assert not invalid, f"{len(invalid)} of {len(decoded)} decodes invalid"


@pytest.mark.parametrize("max_parents", [None, 1, 2])
def test_labels_once_untrained_decodes_are_all_valid(max_parents: int | None) -> None:
    space = LabelsOnceSpace(max_parents=max_parents)
    model = model_for(space)
    z = latents(400, seed=1, scale=3.0)
    stochastic = model.decode_raw(z, generator=torch.Generator().manual_seed(2))
    greedy = model.decode_raw(z, stochastic=False)
    assert_all_valid(space, stochastic + greedy)
    assert len({a.canonical_hash for a in stochastic}) > 200  # stochastic, not collapsed
    parents = [len([u for u in p if u != 0]) for a in stochastic for p in a.predecessors()[1:-1]]
    if max_parents is not None:
        assert max(parents) == max_parents      # reached (validity says never exceeded)
    else:
        assert max(parents) > 2


def test_static_masks_alone_cannot_keep_each_label_once() -> None:
    """Control: per-position masks (any label at any inner position) decode repeated labels."""
    space = LabelsOnceSpace()
    k = len(space.ops)
    static = StaticRules(GenerationConstraints.fixed(
        space.vocabulary, [["input"]] + [list(space.ops)] * k + [["output"]],
        free_edges=[(s, d) for d in range(2, k + 1) for s in range(1, d)] + [(0, d) for d in range(1, k + 1)]))
    model = model_for(space)
    model.decoder.rules = static
    decoded = model.decode_raw(latents(200, seed=1, scale=3.0), generator=torch.Generator().manual_seed(2))
    assert sum(a is None for a in decoded) > 150


def test_labels_once_briefly_trained_decodes_are_all_valid_and_fit_the_data() -> None:
    space = LabelsOnceSpace(("A", "B", "C", "D", "E"), max_parents=2)
    rng = random.Random(0)
    train = [space.sample(rng) for _ in range(64)]
    model = model_for(space, VAEConfig(hidden_size=32, latent_size=8))
    history = train_vae(model, train, TrainConfig(epochs=60, batch_size=16, lr=1e-2, seed=0,
                                                  precision="fp32", progress=False))
    assert history[-1]["loss"] < 0.3 * history[0]["loss"]
    mu, _ = model.encode(train)
    greedy = model.decode(mu, samples=1, stochastic=False)
    assert_all_valid(space, greedy)
    # it learned: most training graphs come back (47 of 64 when written; there are
    # 29,281 labelled DAGs on 5 nodes)
    assert sum(a.canonical_hash == b.canonical_hash for a, b in zip(greedy, train)) >= 32
    prior = model.decode_raw(latents(300, seed=3), generator=torch.Generator().manual_seed(4))
    assert_all_valid(space, prior)


# ------------------------------------------------------------------------------ exactly two inputs
def test_exactly_two_inputs_untrained_decodes_are_all_valid() -> None:
    space = TwoInputsSpace()
    model = model_for(space)
    z = latents(300, seed=1, scale=3.0)
    decoded = model.decode_raw(z, generator=torch.Generator().manual_seed(2))
    decoded += model.decode_raw(z, stochastic=False)
    assert_all_valid(space, decoded)
    assert len({a.canonical_hash for a in decoded}) > 100


# ------------------------------------------------------------------------------ teacher forcing
@pytest.mark.parametrize("space", [LabelsOnceSpace(), LabelsOnceSpace(max_parents=1),
                                   TwoInputsSpace()], ids=["labels", "labels-max1", "two-inputs"])
def test_teacher_forcing_equals_sequential_decoder_under_dynamic_rules(space) -> None:
    torch.manual_seed(0)
    model = model_for(space, VAEConfig(hidden_size=32, latent_size=8, decoder_positions=True)).double()
    assert_teacher_forcing_matches(model, [space.sample(seed) for seed in range(6)])
