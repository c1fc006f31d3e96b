"""Structure encodings for surrogates that compare graphs arc by arc, and ``bo-structure``."""
from __future__ import annotations

import itertools
import random

import pytest
import torch
from shared_data import DATA

from graphvae_nas.errors import ArchitectureError, GraphVAENASError
from graphvae_nas.evaluation import TabularEvaluator
from graphvae_nas.search import Study, make_strategy
from graphvae_nas.spaces import get_space
from graphvae_nas.surrogates import (
    DenseGraphEncoding,
    LabelledAdjacencyEncoding,
    LatentGP,
    structure_encoding,
    unit_box,
)

ASIA_FILE = DATA / "bn" / "asia.csv"
needs_asia = pytest.mark.skipif(not ASIA_FILE.is_file(), reason=f"{ASIA_FILE} not found (../shared/data)")
BN = get_space("bn:variables=A,S,T,L,B,E,X,D")


def test_labelled_adjacency_is_the_arc_matrix_whatever_the_listing_order() -> None:
    masks = BN.parent_masks(BN.parse("[A][S][T|A][L|S][B|S][E|T:L][X|E][D|B:E]"))
    first = BN.from_masks(masks, order=[0, 1, 2, 3, 4, 5, 6, 7])
    second = BN.from_masks(masks, order=[1, 4, 3, 0, 2, 5, 7, 6])
    assert first.ops != second.ops                     # listed differently ...
    encoding = LabelledAdjacencyEncoding(BN.vocabulary)
    rows = encoding.encode([first, second])
    assert torch.equal(rows[0], rows[1])               # ... encoded the same
    v = len(BN.vocabulary)
    square = rows[0].reshape(v, v)
    labels = [BN.vocabulary.index(name) for name in BN.variables]
    arcs = square[labels][:, labels]                   # the variables' block, row = parent
    assert torch.equal(arcs, torch.as_tensor(BN.to_matrix(first), dtype=torch.float64))
    # the other entries are the input's edges to the roots and the sinks' edges to the output
    assert square.sum() == first.num_edges and encoding.dim == v * v


def test_labelled_adjacency_refuses_repeated_or_unknown_labels() -> None:
    enas = get_space("enas:num_layers=3")
    arch = next(a for a in enas.enumerate() if len(set(a.ops)) < len(a.ops))
    with pytest.raises(ValueError, match="occur more than once.*DenseGraphEncoding"):
        LabelledAdjacencyEncoding(enas.vocabulary).encode([arch])
    with pytest.raises(ValueError, match="architecture 0: label '[A-Z]' is not in the vocabulary"):
        LabelledAdjacencyEncoding(enas.vocabulary).encode([BN.sample(0)])
    with pytest.raises(ValueError, match="repeats a label"):
        LabelledAdjacencyEncoding(["a", "a"])


def test_structure_encoding_follows_the_space() -> None:
    assert isinstance(structure_encoding(BN), LabelledAdjacencyEncoding)
    assert isinstance(structure_encoding(get_space("nb201")), DenseGraphEncoding)


@needs_asia
def test_an_arc_gp_ranks_asia_structures_where_a_positional_one_cannot() -> None:
    """BIC of held-out random DAGs on asia.csv: a GP on the labelled adjacency ranks them almost
    perfectly; the same GP on the adjacency by node position (the listing order varies with
    the DAG) barely does."""
    from scipy.stats import spearmanr

    from graphvae_nas.evaluation.bic import BNScoreEvaluator

    space = get_space(f"bn:data={ASIA_FILE};arc_prob=0.25")
    evaluator = BNScoreEvaluator(space)
    rng = random.Random(0)
    archs = list({a.canonical_hash: a for a in (space.sample(rng) for _ in range(300))}.values())
    train, test = archs[:120], archs[120:240]
    y = torch.tensor([[evaluator.score(a)] for a in train], dtype=torch.float64)
    truth = [evaluator.score(a) for a in test]
    rho = {}
    for encoding in (structure_encoding(space), DenseGraphEncoding(space.vocabulary, space.max_nodes)):
        torch.manual_seed(0)
        model = LatentGP(encoding.encode, unit_box(encoding.dim), fit_maxiter=60).fit(train, y)
        with torch.no_grad():
            mean = model.posterior(encoding.encode(test)).mean.reshape(-1)
        rho[type(encoding).__name__] = spearmanr(mean.numpy(), truth).statistic
    assert rho["LabelledAdjacencyEncoding"] > 0.95
    assert rho["DenseGraphEncoding"] < 0.6


def test_bo_structure_proposes_valid_unseen_decodes_scored_by_the_arc_gp() -> None:
    pytest.importorskip("botorch")
    from graphvae_nas.datasets import ArchitectureDataset
    from graphvae_nas.vae import GraphVAE, VAEConfig

    space = get_space("bn:variables=a,b,c,d")
    archs = all_dags(space)
    assert len(archs) == 543      # every DAG on 4 labelled nodes: any decode is in the table
    # a toy score that rewards arcs from a: the GP must see which arcs a structure has
    scores = [sum(1 for s, _ in a.edges if a.ops[s] == "a") - 0.1 * a.num_edges for a in archs]
    table = ArchitectureDataset.from_architectures(space, archs, {"score": scores})
    torch.manual_seed(0)
    vae = GraphVAE(space, VAEConfig(hidden_size=16, latent_size=4))
    strategy = make_strategy("bo-structure", model=vae, candidates=archs, n_init=6, preset=None,
                             decode={"neighbourhood": 100, "explore": 200},
                             gp={"fit_maxiter": 30})
    study = Study(space, strategy, TabularEvaluator(table, "score"), seed=0)
    study.optimize(14, batch_size=4)
    hashes = [t.arch.canonical_hash for t in study.trials]
    assert len(hashes) == len(set(hashes)) == 14
    assert {t.tag for t in study.trials} == {"random-init", "bo-structure"}
    assert strategy.counters["decoded_candidates"] > 0 and strategy.counters["random_fallbacks"] == 0
    assert strategy.spec()["name"] == "bo-structure" and strategy.spec()["decode"]["explore"] == 200
    assert not any(key.startswith("picked_") for key in strategy.counters)   # one generator


def test_bo_structure_with_mutations_counts_where_its_proposals_came_from() -> None:
    pytest.importorskip("botorch")
    from graphvae_nas.datasets import ArchitectureDataset
    from graphvae_nas.vae import GraphVAE, VAEConfig

    space = get_space("bn:variables=a,b,c,d")
    archs = all_dags(space)
    table = ArchitectureDataset.from_architectures(space, archs, {"score": [a.num_edges for a in archs]})
    torch.manual_seed(0)
    vae = GraphVAE(space, VAEConfig(hidden_size=16, latent_size=4))
    strategy = make_strategy("bo-structure", model=vae, candidates=archs, n_init=4, preset=None,
                             decode={"neighbourhood": 50, "explore": 50}, gp={"fit_maxiter": 20},
                             mutate={"top": 2, "count": 20})
    study = Study(space, strategy, TabularEvaluator(table, "score"), seed=1)
    study.optimize(16, batch_size=4)
    picked = {k: v for k, v in strategy.counters.items() if k.startswith("picked_")}
    assert set(picked) <= {"picked_decode", "picked_mutation"} and picked
    assert sum(picked.values()) == sum(t.tag == "bo-structure" for t in study.trials) == 12


def all_dags(space) -> list:
    """Every DAG of a 4-variable bn space, from every choice of parent sets without a cycle."""
    out = []
    for masks in itertools.product(range(16), repeat=4):
        if not any(m >> v & 1 for v, m in enumerate(masks)):
            try:
                out.append(space.from_masks(masks))
            except ArchitectureError:   # a cycle
                pass
    return out


def test_the_bn_preset_sets_the_defaults_of_its_latent_strategies() -> None:
    """On a bn space the ``bn`` preset is chosen automatically: ``bo`` and ``bo-structure``
    start from the measured Asia options; options given win, ``preset=None`` keeps the
    configs' defaults, the spec records the preset, and other spaces get none."""
    pytest.importorskip("botorch")
    from graphvae_nas.search.factory import option_defaults, resolve_preset
    from graphvae_nas.search.presets import PRESETS
    from graphvae_nas.vae import GraphVAE, VAEConfig

    space = get_space("bn:variables=a,b,c,d")
    archs = all_dags(space)[:40]
    torch.manual_seed(0)
    vae = GraphVAE(space, VAEConfig(hidden_size=8, latent_size=2))
    bo = make_strategy("bo", model=vae, candidates=archs, decode={"explore": 7})  # space from VAE
    assert bo.spec()["decode"]["scale"] == 0.02 and bo.spec()["decode"]["explore"] == 7
    assert bo.spec()["retrain"]["every"] == 50 and bo.spec()["gp"]["kernel"] == "isotropic"
    assert bo.spec()["preset"] == "bn" and type(bo).__name__ == "WeightedRetraining"
    generic = make_strategy("bo", model=vae, candidates=archs, preset=None)
    assert generic.spec() == {"name": "bo", "preset": None, **option_defaults("bo"), "model": ""}
    structure = make_strategy("bo-structure", model=vae, candidates=archs, space=space)
    assert structure.spec()["equivalence"] is True and structure.spec()["mutate"]["top"] == 10
    assert set(PRESETS["bn"]) == {"bo", "bo-structure"}
    assert resolve_preset("auto", get_space("nb201")) is None
    assert resolve_preset("auto", space) == "bn" and resolve_preset("auto", None) is None
    assert resolve_preset("auto", get_space("nb201"), training=True) == "training"
    with pytest.raises(GraphVAENASError, match="unknown preset 'fast'"):
        make_strategy("bo", model=vae, candidates=archs, preset="fast")


def test_every_preset_is_checked_against_the_configs_when_the_package_loads(monkeypatch) -> None:
    """A preset naming an option that does not exist, or an invalid value, fails the check
    that runs when graphvae_nas.search.factory is imported."""
    from graphvae_nas.search import presets

    presets.check_presets()
    monkeypatch.setitem(presets.PRESETS, "broken", {"bo": {"gp": {"kernal": "ard"}}})
    with pytest.raises(GraphVAENASError, match=r"gp\.kernal.*bo \(preset broken\)"):
        presets.check_presets()
    monkeypatch.setitem(presets.PRESETS, "broken", {"bo": {"decode": {"scale": 0}}})
    with pytest.raises(GraphVAENASError, match=r"decode\.scale.*must be > 0"):
        presets.check_presets()


def test_an_additive_gp_learns_a_sum_of_group_terms_that_one_kernel_cannot() -> None:
    """y = a lookup table of each group of 4 bits, summed over 3 groups (as BIC sums a term per
    family): the additive kernel ranks held-out rows perfectly, the isotropic and ARD ones do
    not; groups go with the additive kernel only."""
    from scipy.stats import spearmanr

    from graphvae_nas.surrogates.gp import fit_hyperparameters, make_gp

    generator = torch.Generator().manual_seed(0)
    groups = [list(range(4 * i, 4 * i + 4)) for i in range(3)]
    tables = torch.randn(3, 16, generator=generator, dtype=torch.float64)
    x = (torch.rand(250, 12, generator=generator) < 0.5).double()
    index = (x.reshape(-1, 3, 4) * torch.tensor([1.0, 2.0, 4.0, 8.0], dtype=torch.float64)).sum(-1)
    y = tables.gather(1, index.long().T).sum(0)
    rho = {}
    for kernel in ("isotropic", "botorch", "additive"):
        torch.manual_seed(0)
        model = make_gp(x[:120], y[:120], kernel=kernel, standardize=True, inducing_points=None,
                        groups=groups if kernel == "additive" else None)
        fit_hyperparameters(model)
        with torch.no_grad():
            rho[kernel] = spearmanr(model.posterior(x[120:]).mean.reshape(-1), y[120:]).statistic
    assert rho["additive"] > 0.99 and rho["isotropic"] < 0.9 and rho["botorch"] < 0.9
    with pytest.raises(ValueError, match="groups go with kernel='additive'"):
        make_gp(x[:5], y[:5], kernel="additive", inducing_points=None)
    with pytest.raises(ValueError, match="groups go with kernel='additive'"):
        make_gp(x[:5], y[:5], kernel="isotropic", inducing_points=None, groups=groups)
    with pytest.raises(ValueError, match="must index the 12 feature columns"):
        make_gp(x[:5], y[:5], kernel="additive", inducing_points=None, groups=[[0, 12]])
    with pytest.raises(ValueError, match="needs column groups"):
        LatentGP(lambda a: a, unit_box(12), kernel="additive")


def test_arcs_into_each_label_group_the_labelled_adjacency_by_family() -> None:
    """groups_into(labels): the columns of the arcs into each label's node, so a group's sum
    is that node's in-degree (a BN variable's parents, plus the input arc of a root)."""
    encoding = LabelledAdjacencyEncoding(BN.vocabulary)
    arch = BN.parse("[A][S][T|A][L|S][B|S][E|T:L][X|E][D|B:E]")
    row = encoding.encode([arch])[0]
    groups = encoding.groups_into(BN.ops)
    parents = {var: len(ps) for var, ps in BN.parents(arch).items()}
    assert [int(row[g].sum()) for g in groups] == [max(parents[v], 1) for v in BN.ops]
    assert sorted(c for g in groups for c in g) == sorted(set(c for g in groups for c in g))
    with pytest.raises(ValueError, match=r"labels \['Z'\] are not in the vocabulary"):
        encoding.groups_into(["Z"])


def test_bo_structure_with_the_additive_kernel_finds_the_best_of_a_family_score() -> None:
    """On every DAG of 4 variables scored by a sum of one term per variable (its parents), the
    additive ``bo-structure`` finds the best; spaces that repeat labels refuse the kernel, and
    ``bo`` does not take it."""
    pytest.importorskip("botorch")
    from graphvae_nas.datasets import ArchitectureDataset
    from graphvae_nas.errors import GraphVAENASError
    from graphvae_nas.vae import GraphVAE, VAEConfig

    space = get_space("bn:variables=a,b,c,d")
    archs = all_dags(space)
    term = torch.randn(4, 16, generator=torch.Generator().manual_seed(3)).tolist()
    scores = [sum(term[space.variables.index(v)][sum(1 << space.variables.index(p) for p in ps)]
                  for v, ps in space.parents(a).items()) for a in archs]
    table = ArchitectureDataset.from_architectures(space, archs, {"score": scores})
    torch.manual_seed(0)
    vae = GraphVAE(space, VAEConfig(hidden_size=16, latent_size=4))
    strategy = make_strategy("bo-structure", model=vae, candidates=archs, n_init=8, preset=None,
                             gp={"kernel": "additive", "fit_maxiter": 40},
                             decode={"neighbourhood": 50, "explore": 50}, mutate={"top": 3})
    assert strategy.spec()["gp"]["kernel"] == "additive"
    study = Study(space, strategy, TabularEvaluator(table, "score"), seed=0)
    study.optimize(48, batch_size=8)
    assert max(t.objective for t in study.trials) == pytest.approx(max(scores))
    nb201 = get_space("nb201")
    nb_vae = GraphVAE(nb201, VAEConfig(hidden_size=8, latent_size=2))
    cells = [nb201.sample(i) for i in range(20)]
    with pytest.raises(GraphVAENASError, match="one node per label"):
        make_strategy("bo-structure", model=nb_vae, candidates=cells, gp={"kernel": "additive"})
    with pytest.raises(GraphVAENASError, match="'gp.kernel'.*additive is for bo-structure"):
        make_strategy("bo", model=vae, candidates=archs, gp={"kernel": "additive"})


def test_equivalence_class_encoding_gives_members_of_a_class_one_row() -> None:
    from graphvae_nas.spaces.bn_equivalence import class_members, equivalence_key
    from graphvae_nas.surrogates import EquivalenceClassEncoding

    space = get_space("bn:variables=a,b,c,d")
    archs = all_dags(space)
    encoding = structure_encoding(space, equivalence=True)
    assert isinstance(encoding, EquivalenceClassEncoding) and encoding.dim == 6 * 5
    rows = encoding.encode(archs)
    keys = [equivalence_key(space.parent_masks(a)) for a in archs]
    by_row = {}
    for key, row in zip(keys, rows):
        by_row.setdefault(tuple(row.tolist()), set()).add(key)
    assert len(by_row) == 185 and all(len(k) == 1 for k in by_row.values())  # one row per class
    chain = space.parse("[a][b|a][c|b][d]")
    members = [space.from_masks(m) for m in class_members(space.parent_masks(chain), 100)]
    assert len(members) == 3 and len({tuple(r.tolist()) for r in encoding.encode(members)}) == 1
    collider = encoding.encode([space.parse("[a][c][b|a:c][d]")])[0]
    assert collider.sum() == 3   # two arcs of the skeleton and one v-structure
    with pytest.raises(ValueError, match="no equivalence classes"):
        structure_encoding(get_space("nb201"), equivalence=True)


def test_bo_structure_over_equivalence_classes_proposes_one_structure_per_class() -> None:
    pytest.importorskip("botorch")
    from graphvae_nas.datasets import ArchitectureDataset
    from graphvae_nas.vae import GraphVAE, VAEConfig

    space = get_space("bn:variables=a,b,c,d")
    archs = all_dags(space)
    table = ArchitectureDataset.from_architectures(space, archs,
                                                   {"score": [a.num_edges for a in archs]})
    torch.manual_seed(0)
    vae = GraphVAE(space, VAEConfig(hidden_size=16, latent_size=4))
    strategy = make_strategy("bo-structure", model=vae, candidates=archs, n_init=4, preset=None,
                             decode={"neighbourhood": 50, "explore": 50},
                             gp={"fit_maxiter": 20, "kernel": "isotropic", "fit_points": 8},
                             mutate={"top": 2, "count": 20}, equivalence=True,
                             acquisition={"name": "qlogei"})
    study = Study(space, strategy, TabularEvaluator(table, "score"), seed=1)
    study.optimize(24, batch_size=4)
    proposed = [t.arch for t in study.trials if t.tag == "bo-structure"]
    assert len(proposed) == 20
    evaluated = {space.equivalence_key(t.arch) for t in study.trials if t.tag == "random-init"}
    keys = [space.equivalence_key(a) for a in proposed]
    assert len(set(keys)) == len(keys) and not set(keys) & evaluated
    assert strategy.counters["equivalent_dropped"] > 0
    assert max(t.objective for t in study.trials) == max(a.num_edges for a in archs)


@needs_asia
def test_local_search_over_equivalence_classes_beats_the_arc_moves_local_optimum() -> None:
    """From the local optimum of bnlearn's arc moves (-11111.3504), local search over classes
    reaches the global optimum in one round; over arcs it must restart."""
    from graphvae_nas.evaluation.bic import BNScoreEvaluator
    from graphvae_nas.search import History

    space = get_space(f"bn:data={ASIA_FILE}")
    evaluator = BNScoreEvaluator(space, score="bic")
    start = space.parse("[A][E][T|E][X|E][L|T:E][S|L][B|S][D|B:E]")
    for between, expected in ((True, -11107.2933094), (False, None)):
        history = History(space)
        history.add(start, evaluator.score(start), "random")
        strategy = make_strategy("local", between_classes=between)
        proposals = strategy.propose(history, 200, random.Random(0))
        best = max(evaluator.score(p.arch) for p in proposals)
        if expected is None:
            assert best <= evaluator.score(start)   # at best a covered arc reversed
        else:
            assert best == pytest.approx(expected, abs=1e-6)
            keys = {space.equivalence_key(p.arch) for p in proposals}
            assert len(keys) == len(proposals) and space.equivalence_key(start) not in keys
    assert make_strategy("local").spec() == {"name": "local", "between_classes": False}
