"""The search layer's seams: surrogates, candidate generators, acquisitions, the registry."""
from __future__ import annotations

import random

import pytest
import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation import TabularEvaluator
from graphvae_nas.search import History, Study, available_strategies, make_strategy
from graphvae_nas.search.configs import DecodeConfig
from graphvae_nas.search.generators import (
    DecodeGenerator,
    MutationGenerator,
    PoolGenerator,
    Round,
    UnionGenerator,
)
from graphvae_nas.spaces import get_space

pytest.importorskip("botorch")

SPACE = "enas:num_layers=3"


def toy_score(arch) -> float:
    """A smooth function of the ops and skips (the optimum: all conv5x5, every skip)."""
    return sum(op == "conv5x5" for op in arch.ops) * 10 + arch.num_edges


@pytest.fixture(scope="module")
def space():
    return get_space(SPACE)


@pytest.fixture(scope="module")
def archs(space):
    return list(space.enumerate())


def split(archs, n_train: int, seed: int = 0):
    order = list(range(len(archs)))
    random.Random(seed).shuffle(order)
    train = [archs[i] for i in order[:n_train]]
    test = [archs[i] for i in order[n_train:]]
    return train, test


def targets(archs) -> torch.Tensor:
    return torch.tensor([[toy_score(a)] for a in archs], dtype=torch.float64)


def small_gnn(space, **kw):
    from graphvae_nas.surrogates import GNNEnsemble

    return GNNEnsemble(space.vocabulary, space.max_nodes,
                       **{"members": 3, "hidden": 16, "epochs": 80, **kw})


def dense_gp(space):
    """The latent GP on a fixed feature map (the dense graph encoding) instead of a VAE."""
    from graphvae_nas.surrogates import DenseGraphEncoding, LatentGP

    encoding = DenseGraphEncoding(space.vocabulary, space.max_nodes)
    bounds = torch.stack([torch.zeros(encoding.dim), torch.ones(encoding.dim)]).double()
    return LatentGP(encoding.encode, bounds, fit_maxiter=50)


# ------------------------------------------------------------------------------ surrogates
@pytest.mark.parametrize("make", [small_gnn, dense_gp], ids=["gnn", "gp"])
def test_surrogate_posterior_shapes(make, space, archs) -> None:
    train, test = split(archs, 40)
    surrogate = make(space)
    torch.manual_seed(0)
    model = surrogate.fit(train, targets(train))
    x = surrogate.featurize(test[:12]).reshape(3, 4, -1)  # 3 batches of q = 4
    posterior = model.posterior(x)
    assert posterior.mean.shape == (3, 4, 1) and posterior.variance.shape == (3, 4, 1)
    assert (posterior.variance > 0).all()
    sample = posterior.rsample(torch.Size([5]))
    assert sample.shape == (5, 3, 4, 1)


def test_gnn_ensemble_with_two_objectives(space, archs) -> None:
    train, test = split(archs, 40)
    y = torch.cat([targets(train), -targets(train) ** 0.5], 1)
    torch.manual_seed(0)
    model = small_gnn(space).fit(train, y)
    posterior = model.posterior(small_gnn(space).featurize(test[:6]).reshape(2, 3, -1))
    assert posterior.mean.shape == (2, 3, 2) and (posterior.variance > 0).all()


@pytest.mark.parametrize("binary", [True, False], ids=["0/1 rows", "other rows"])
def test_distinct_rows_rebuild_every_row(binary) -> None:
    from graphvae_nas.surrogates.gnn import distinct_rows

    g = torch.Generator().manual_seed(0)
    base = (torch.rand(7, 130, generator=g) < 0.3).double()     # 130 bits: not a byte multiple
    if not binary:
        base[0, 0] = 0.5
    x = base[torch.randint(0, 7, (50,), generator=g)]
    rows, inverse = distinct_rows(x)
    assert torch.equal(rows[inverse], x)
    assert len(rows) == len({tuple(r.tolist()) for r in x})
    empty_rows, empty_inverse = distinct_rows(x[:0])
    assert empty_rows.shape == (0, 130) and empty_inverse.shape == (0,)


def test_gnn_ensemble_posterior_of_repeated_graphs_equals_each_graph_alone(space, archs) -> None:
    """A t-batched acquisition repeats the observations in every t-batch; the posterior runs
    each distinct graph once: every copy gets the same value, the graph's own prediction (up
    to float32 rounding: a batch of one takes another matrix-product path)."""
    train, test = split(archs, 40)
    surrogate = small_gnn(space)
    torch.manual_seed(0)
    model = surrogate.fit(train, targets(train))
    x = surrogate.featurize(test[:5] + train[:3])
    repeated = torch.stack([torch.cat([x[3:], x[i:i + 1]]) for i in range(3)])   # [3, 4, d]
    with torch.no_grad():
        together = model.posterior(repeated)
        alone = [model.posterior(row.reshape(1, 1, -1)) for row in repeated.reshape(-1, x.shape[-1])]
    assert torch.allclose(together.mean.reshape(-1),
                          torch.cat([p.mean.reshape(-1) for p in alone]), rtol=1e-5)
    assert torch.allclose(together.variance.reshape(-1),
                          torch.cat([p.variance.reshape(-1) for p in alone]), rtol=1e-3)
    for a, b in ((0, 1), (1, 2)):                 # the copies of a repeated graph: identical
        assert torch.equal(together.mean[a, :3], together.mean[b, :3])
        assert torch.equal(together.variance[a, :3], together.variance[b, :3])


@pytest.mark.parametrize("make,coverage", [(small_gnn, 0.5), (dense_gp, 0.8)], ids=["gnn", "gp"])
def test_surrogate_is_calibrated_on_a_toy_function(make, coverage, space, archs) -> None:
    """Trained on 60 architectures, it ranks the others well and its 2-sigma intervals
    cover most of them (an ensemble of few members is overconfident: a lower bar)."""
    train, test = split(archs, 60)
    surrogate = make(space)
    torch.manual_seed(0)
    model = surrogate.fit(train, targets(train))
    with torch.no_grad():
        posterior = model.posterior(surrogate.featurize(test).unsqueeze(1))
    mean, std = posterior.mean.reshape(-1), posterior.variance.reshape(-1).sqrt()
    truth = targets(test).reshape(-1)
    assert torch.corrcoef(torch.stack([mean, truth]))[0, 1] > 0.9
    assert ((mean - truth).abs() <= 2 * std).double().mean() >= coverage
    # uncertainty grows away from the data: larger than at the training points on average
    with torch.no_grad():
        at_train = model.posterior(surrogate.featurize(train).unsqueeze(1)).variance.mean()
    assert posterior.variance.mean() > at_train


def test_latent_gp_fits_points_outside_its_box_quietly(space, archs) -> None:
    """Evaluated decodes of a huge space can lie outside the VAE's training box: the fit
    neither fails nor warns on every round."""
    import warnings

    from graphvae_nas.surrogates import DenseGraphEncoding, LatentGP

    train = archs[:20]
    encoding = DenseGraphEncoding(space.vocabulary, space.max_nodes)
    narrow = torch.stack([torch.full((encoding.dim,), 0.25), torch.full((encoding.dim,), 0.75)]).double()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LatentGP(encoding.encode, narrow, fit_maxiter=20).fit(train, targets(train))
    assert model.posterior(encoding.encode(train[:3]).double()).mean.shape == (3, 1)


def test_latent_gp_fits_its_hyperparameters_on_a_subset(space, archs) -> None:
    """With ``fit_points`` the hyper-parameters come from a seeded subset, and the GP then
    conditions on every observation: it interpolates points left out of the fit."""
    from graphvae_nas.surrogates import DenseGraphEncoding, LatentGP

    encoding = DenseGraphEncoding(space.vocabulary, space.max_nodes)
    bounds = torch.stack([torch.zeros(encoding.dim), torch.ones(encoding.dim)]).double()
    train = split(archs, 80)[0]
    y = targets(train)
    surrogate = LatentGP(encoding.encode, bounds, fit_maxiter=50, kernel="isotropic",
                         fit_points=30)
    torch.manual_seed(0)
    model = surrogate.fit(train, y)
    assert model.train_inputs[0].shape[0] == 80 and not model.training
    assert model.covar_module.base_kernel.lengthscale.numel() == 1  # isotropic
    with torch.no_grad():
        mean = model.posterior(encoding.encode(train).double()).mean
    assert (mean - y).abs().max() < 0.05 * (y.max() - y.min())
    torch.manual_seed(0)
    again = surrogate.fit(train, y)
    assert torch.equal(again.covar_module.base_kernel.lengthscale,
                       model.covar_module.base_kernel.lengthscale)
    torch.manual_seed(1)  # another subset, other hyper-parameters
    other = surrogate.fit(train, y)
    assert not torch.equal(other.covar_module.base_kernel.lengthscale,
                           model.covar_module.base_kernel.lengthscale)
    with pytest.raises(ValueError, match="kernel must be one of ard, isotropic"):
        LatentGP(encoding.encode, bounds, kernel="matern")
    with pytest.raises(ValueError, match="fit_points must be >= 2"):
        LatentGP(encoding.encode, bounds, fit_points=1)


def test_surrogates_reject_bad_targets(space, archs) -> None:
    with pytest.raises(ValueError, match=r"\[n, m\]"):
        small_gnn(space).fit(archs[:5], torch.zeros(4, 1))
    with pytest.raises(ValueError, match="non-finite"):
        dense_gp(space).fit(archs[:3], torch.tensor([[1.0], [float("nan")], [2.0]]))


def test_dense_graph_encoding_round_trip(space, archs) -> None:
    from graphvae_nas.surrogates import DenseGraphEncoding

    encoding = DenseGraphEncoding(space.vocabulary, space.max_nodes)
    x = encoding.encode(archs[:20])
    labels, adjacency, mask = encoding.dense(x)
    for row, arch in enumerate(archs[:20]):
        assert mask[row].sum() == arch.num_nodes
        assert adjacency[row].sum() == 2 * arch.num_edges  # both directions
        ops = [space.vocabulary[i] for i in labels[row, :arch.num_nodes].argmax(-1).tolist()]
        assert tuple(ops) == tuple(arch.ops)
    with pytest.raises(ValueError, match="max_nodes"):
        DenseGraphEncoding(space.vocabulary, 3).encode(archs[:1])


# ------------------------------------------------------------------------------ generators
def make_round(space, archs, n_seen: int = 30, seed: int = 0) -> Round:
    history = History(space)
    for arch in archs[:n_seen]:
        history.add(arch, toy_score(arch), "")
    y = targets(archs[:n_seen])
    return Round(history, 4, seed, list(archs[:n_seen]), y, y, None, None,
                 torch.Generator().manual_seed(seed))


def assert_valid_unseen(candidates, space, history) -> None:
    hashes = [a.canonical_hash for a in candidates]
    assert candidates and len(hashes) == len(set(hashes))
    assert all(space.is_valid(a) for a in candidates)
    assert not set(hashes) & history.seen


def test_pool_generator(space, archs) -> None:
    state = make_round(space, archs)
    candidates = PoolGenerator(archs[:50]).candidates(state)
    assert_valid_unseen(candidates, space, state.history)
    assert candidates == archs[30:50]
    with pytest.raises(GraphVAENASError, match="every architecture of the pool"):
        PoolGenerator(archs[:10]).candidates(state)


def test_mutation_generator(space, archs) -> None:
    state = make_round(space, archs)
    generator = MutationGenerator(space, top=3, mutations=20)
    candidates = generator.candidates(state)
    assert_valid_unseen(candidates, space, state.history)
    best = max(archs[:30], key=toy_score)
    near = {a.canonical_hash for a in space.neighbours(best)} - state.history.seen
    assert near <= {a.canonical_hash for a in candidates}  # the best one's unseen neighbours
    assert candidates == generator.candidates(make_round(space, archs))  # seeded by the round


@pytest.fixture(scope="module")
def untrained_vae(space):
    from graphvae_nas.vae import GraphVAE, VAEConfig

    torch.manual_seed(0)
    return GraphVAE(space, VAEConfig(hidden_size=16, latent_size=4))


def test_decode_generator_without_optimisation(space, archs, untrained_vae) -> None:
    from graphvae_nas.search.latent import LatentSpace

    latent = LatentSpace(untrained_vae, archs)
    generator = DecodeGenerator(latent, DecodeConfig(neighbourhood=200, explore=200))
    state = make_round(space, archs)
    candidates = generator.candidates(state)
    assert_valid_unseen(candidates, space, state.history)
    assert generator.counters["decoded_candidates"] == len(candidates)
    assert candidates == generator.candidates(make_round(space, archs))  # same seed, same decodes


def test_union_generator_keeps_each_architecture_once(space, archs) -> None:
    state = make_round(space, archs)
    union = UnionGenerator([PoolGenerator(archs[:60]), MutationGenerator(space, top=2, mutations=0),
                            PoolGenerator(archs[40:80])])
    candidates = union.candidates(state)
    assert_valid_unseen(candidates, space, state.history)
    assert candidates[:30] == archs[30:60]
    assert {a.canonical_hash for a in archs[30:80]} <= {a.canonical_hash for a in candidates}


# ------------------------------------------------------------------------------ acquisitions
def test_acquisition_factory_by_objective_count(space, archs) -> None:
    from botorch.acquisition import qLogExpectedImprovement, qUpperConfidenceBound
    from botorch.acquisition.analytic import LogExpectedImprovement, UpperConfidenceBound
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement

    from graphvae_nas.search.acquisition import (
        acquisition_names,
        make_acquisition,
        make_prefilter,
    )

    train, test = split(archs, 30)
    surrogate = small_gnn(space, epochs=5)
    torch.manual_seed(0)
    y = targets(train)
    model = surrogate.fit(train, y)
    x = surrogate.featurize(train)
    assert acquisition_names(1) == ("qlognei", "qlogei", "ucb")
    expected = {"qlognei": (qLogNoisyExpectedImprovement, LogExpectedImprovement),
                "qlogei": (qLogExpectedImprovement, LogExpectedImprovement),
                "ucb": (qUpperConfidenceBound, UpperConfidenceBound)}
    choices = surrogate.featurize(test[:10])
    for name, (batch, analytic) in expected.items():
        acq = make_acquisition(name, model, x, y)
        assert type(acq) is batch
        assert acq(choices.reshape(5, 2, -1)).shape == (5,)  # five batches of q = 2
        prefilter = make_prefilter(name, model, x, y)
        assert type(prefilter) is analytic and prefilter(choices.unsqueeze(1)).shape == (10,)
    gp = dense_gp(space)
    torch.manual_seed(0)
    gp_model = gp.fit(train, y)
    many = gp.featurize(test[:300]).unsqueeze(1)
    for name, analytic in (("qlogei", LogExpectedImprovement), ("ucb", UpperConfidenceBound)):
        # the prefilter's marginals (one joint posterior in chunks) are the GP's own
        direct = analytic(gp_model, **({"best_f": float(y.max())} if name == "qlogei"
                                       else {"beta": 2.0}))
        with torch.no_grad():
            assert torch.allclose(make_prefilter(name, gp_model, x, y)(many), direct(many),
                                  rtol=1e-6, atol=1e-8)
    with pytest.raises(GraphVAENASError, match="unknown acquisition 'ei'.*qlognei"):
        make_acquisition("ei", model, x, y)
    with pytest.raises(GraphVAENASError, match="unknown acquisition 'qlognei' for 2 objective"):
        make_acquisition("qlognei", model, x, torch.cat([y, y], 1))
    with pytest.raises(GraphVAENASError, match="no acquisition function for 5 objectives"):
        make_acquisition("qlognehvi", model, x, torch.cat([y] * 5, 1))
    assert acquisition_names(2) == ("qlognehvi",) and acquisition_names(5) == ()


# ------------------------------------------------------------------------------ registry
def test_registry_names_and_errors(space) -> None:
    from graphvae_nas.search.configs import BananasConfig, make_config

    assert set(available_strategies()) >= {"random", "evolution", "local", "bo", "bo-pool",
                                           "bananas", "bo-gnn", "bo-structure"}
    with pytest.raises(GraphVAENASError, match="unknown strategy 'nope'.*bananas"):
        make_strategy("nope")
    with pytest.raises(GraphVAENASError, match="unknown option.*size.*'random'.*known: none"):
        make_strategy("random", size=3)
    with pytest.raises(GraphVAENASError, match="'sample_size'.*must be <= population_size"):
        make_strategy("evolution", population_size=4, sample_size=5)
    with pytest.raises(GraphVAENASError, match="'n_init'.*expected int, got '3'"):
        make_strategy("bananas", space=space, n_init="3")
    with pytest.raises(GraphVAENASError, match="'n_init'.*expected int, got True"):
        make_strategy("bananas", space=space, n_init=True)
    with pytest.raises(GraphVAENASError, match=r"'acquisition.name'.*one of qlognei\|qlogei\|ucb"):
        make_strategy("bananas", space=space, acquisition={"name": "ei"})
    with pytest.raises(GraphVAENASError, match="'bananas' needs the search space"):
        make_strategy("bananas")
    config = make_config(BananasConfig, {"gnn": {"lr": 1}})
    assert config.gnn.lr == 1.0 and isinstance(config.gnn.lr, float)
    assert make_strategy("evolution", population_size=8, sample_size=3).spec() == {
        "name": "evolution", "population_size": 8, "sample_size": 3}


def test_bananas_finds_good_architectures_deterministically(space, archs) -> None:
    from graphvae_nas.datasets import ArchitectureDataset

    table = ArchitectureDataset.from_architectures(space, archs, {"score": [toy_score(a) for a in archs]})
    evaluator = TabularEvaluator(table, "score")

    def run():
        strategy = make_strategy("bananas", space=space, n_init=6,
                                 gnn={"members": 3, "hidden": 16, "epochs": 30},
                                 mutate={"top": 3, "count": 30})
        study = Study(space, strategy, evaluator, seed=2)
        study.optimize(22, batch_size=4)
        return study, strategy

    study, strategy = run()
    hashes = [t.arch.canonical_hash for t in study.trials]
    assert len(hashes) == len(set(hashes)) == 22
    assert {t.tag for t in study.trials} == {"random-init", "bananas"}
    assert strategy.spec()["name"] == "bananas" and strategy.spec()["gnn"]["members"] == 3
    assert [t.arch for t in run()[0].trials] == [t.arch for t in study.trials]
    best_random = max(toy_score(t.arch) for t in study.trials if t.tag == "random-init")
    assert study.best().objective > best_random  # the mutations improved on the random start


def test_bo_gnn_proposes_valid_unseen_decodes(space, archs, untrained_vae) -> None:
    from graphvae_nas.datasets import ArchitectureDataset

    table = ArchitectureDataset.from_architectures(space, archs, {"score": [toy_score(a) for a in archs]})
    strategy = make_strategy("bo-gnn", model=untrained_vae, candidates=archs, n_init=6,
                             gnn={"members": 2, "hidden": 8, "epochs": 10},
                             decode={"neighbourhood": 100, "explore": 100})
    study = Study(space, strategy, TabularEvaluator(table, "score"), seed=0)
    study.optimize(14, batch_size=4)
    hashes = [t.arch.canonical_hash for t in study.trials]
    assert len(hashes) == len(set(hashes)) == 14
    assert "bo-gnn" in {t.tag for t in study.trials}
    assert strategy.counters["decoded_candidates"] > 0


def test_make_gp_kernels_share_one_fitting_path() -> None:
    from graphvae_nas.surrogates import fit_gp, make_gp

    x = torch.rand(20, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = (x ** 2).sum(-1, keepdim=True)
    bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    model = fit_gp(x, y, kernel="botorch", input_bounds=bounds, standardize=True, max_iter=20)
    assert model.posterior(x[:3]).mean.shape == (3, 1) and not model.training
    with pytest.raises(ValueError, match="kernel must be one of"):
        make_gp(x, y, kernel="matern")
    with pytest.raises(ValueError, match="sparse GP needs kernel='scaled_rbf'"):
        make_gp(x, y, kernel="botorch", inducing_points=10)


def test_fit_hyperparameters_keeps_the_prior_when_botorch_gives_up(monkeypatch) -> None:
    """BoTorch raises ModelFittingError (not a RuntimeError) once every fit attempt failed; a
    search's GP (strict=False) must then carry on with its prior hyper-parameters."""
    import botorch.fit
    from botorch.exceptions.errors import ModelFittingError

    from graphvae_nas.surrogates import fit_hyperparameters, make_gp

    def give_up(*args, **kwargs):
        raise ModelFittingError("All attempts to fit the model have failed.")

    x = torch.rand(12, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    model = make_gp(x, (x ** 2).sum(-1), inducing_points=None)
    before = model.covar_module.base_kernel.lengthscale.detach().clone()
    monkeypatch.setattr(botorch.fit, "fit_gpytorch_mll", give_up)
    assert fit_hyperparameters(model, strict=False) is False
    assert not model.training
    assert torch.equal(model.covar_module.base_kernel.lengthscale, before)
    with pytest.raises(ModelFittingError):
        fit_hyperparameters(model)
