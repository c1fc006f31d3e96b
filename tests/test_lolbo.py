"""``lolbo``: the trust region, the joint fine-tuning of the VAE with the GP, and the strategy."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.evaluation import TabularEvaluator
from graphvae_nas.search import Study, StudyStore, make_strategy
from graphvae_nas.search.configs import JointConfig, TrustRegionConfig, make_config
from graphvae_nas.search.trust_region import TrustRegion, improves, perturbed_points

from test_search import small_vae, stopped_and_resumed, table  # noqa: F401 (fixtures)


def column(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64).reshape(-1, 1)


def test_improvement_is_a_new_best_or_a_new_point_on_the_front() -> None:
    assert improves(column(1, 3), column(2, 4)) and not improves(column(1, 3), column(3, 2))
    before = torch.tensor([[1.0, 3.0], [3.0, 1.0]], dtype=torch.float64)
    assert improves(before, torch.tensor([[2.0, 2.0]], dtype=torch.float64))   # off the front
    assert not improves(before, torch.tensor([[1.0, 2.0], [3.0, 1.0]], dtype=torch.float64))
    assert improves(column(), column(0)) and not improves(column(1), column())


def test_the_region_doubles_after_successes_halves_after_failures_and_restarts() -> None:
    region = TrustRegion(TrustRegionConfig(length=0.4, min_length=0.1, max_length=0.8,
                                           success_tolerance=2, failure_tolerance=3), dim=4)
    best = column(0)
    for value in (1, 2):                                     # two improving rounds
        region.update(best, column(value))
        best = torch.cat([best, column(value)])
    assert region.length == 0.8
    for value in (1, 2):                                     # capped at max_length
        region.update(best, column(10 + value))
        best = torch.cat([best, column(10 + value)])
    assert region.length == 0.8
    for _ in range(3):                                       # three rounds without a new best
        region.update(best, column(-1))
    assert region.length == 0.4 and region.failures == 0
    for _ in range(6):                                       # 0.2, then 0.1 ...
        region.update(best, column(-1))
    assert region.length == 0.1 and region.restarts == 0
    for _ in range(3):                                       # ... then below min_length: restart
        region.update(best, column(-1))
    assert region.length == 0.4 and region.restarts == 1 and region.rounds == 16


def test_turbo_failure_tolerance_follows_the_dimension_and_batch() -> None:
    region = TrustRegion(TrustRegionConfig(), dim=16)
    assert region.failure_tolerance(5) == 4 and region.failure_tolerance(1) == 16
    assert TrustRegion(TrustRegionConfig(), dim=2).failure_tolerance(1) == 4


def test_the_region_is_cut_to_the_box_but_always_holds_its_centre() -> None:
    box = torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    region = TrustRegion(TrustRegionConfig(length=0.5), dim=2)
    inside = region.bounds(torch.tensor([0.9, 1.0], dtype=torch.float64), box)
    assert torch.allclose(inside, torch.tensor([[0.65, 0.5], [1.0, 1.5]], dtype=torch.float64))
    weighted = region.bounds(torch.tensor([0.5, 1.0], dtype=torch.float64), box,
                             torch.tensor([2.0, 0.5], dtype=torch.float64))
    assert torch.allclose(weighted, torch.tensor([[0.0, 0.75], [1.0, 1.25]], dtype=torch.float64))
    outside = region.bounds(torch.tensor([1.5, -1.0], dtype=torch.float64), box, length=0.2)
    assert (outside[0] <= torch.tensor([1.5, -1.0])).all()
    assert (outside[1] >= torch.tensor([1.5, -1.0])).all()


def test_turbo_candidates_perturb_a_subset_of_the_centre_inside_the_region() -> None:
    d = 40
    centre = torch.zeros(d, dtype=torch.float64)
    region = torch.stack([-torch.ones(d), torch.ones(d)]).double()
    points = perturbed_points(centre, region, 500, seed=3)
    assert points.shape == (500, d)
    assert ((points >= -1) & (points <= 1)).all()
    changed = (points != 0).sum(-1).double()
    assert changed.min() >= 1 and abs(changed.mean().item() - 20) < 2   # min(1, 20/d) of d
    assert torch.equal(points, perturbed_points(centre, region, 500, seed=3))


def test_region_options_are_checked_against_each_other() -> None:
    from graphvae_nas.search.configs import ConfigError, LOLBOConfig

    with pytest.raises(ConfigError, match=r"'region.min_length'.*must be < length"):
        make_config(LOLBOConfig, {"region": {"length": 0.1, "min_length": 0.2}}, strategy="lolbo")
    with pytest.raises(ConfigError, match=r"'region.max_length'.*must be >= length"):
        make_config(LOLBOConfig, {"region": {"max_length": 0.5}}, strategy="lolbo")


def _gp_fit_quality(model, archs, y) -> float:
    """The marginal log-likelihood per point of an exact GP fitted to ``y`` at the encoder's
    means of ``archs`` (the same GP settings before and after fine-tuning)."""
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from graphvae_nas.surrogates.base import gaussian_copula
    from graphvae_nas.surrogates.gp import fit_hyperparameters, make_gp

    with torch.no_grad():
        x = model.encode(archs)[0].double()
    targets = gaussian_copula(y)
    gp = make_gp(x, targets, kernel="botorch", inducing_points=None,
                 input_bounds=torch.stack([x.min(0).values, x.max(0).values]))
    fit_hyperparameters(gp, max_iter=100)
    gp.train()
    mll = ExactMarginalLogLikelihood(gp.likelihood, gp)
    with torch.no_grad():
        return float(mll(gp(*gp.train_inputs), gp.train_targets))


def test_joint_fine_tuning_makes_the_latent_space_follow_the_objective(table, small_vae) -> None:
    """On 80 scored architectures, a GP on the jointly fine-tuned encoder's means explains the
    objective better (a higher marginal likelihood) than on the pretrained one, and better than
    after fine-tuning on the VAE's loss alone; the caller's VAE is unchanged."""
    pytest.importorskip("botorch")
    from graphvae_nas.search.strategies.joint import fine_tune_jointly

    picks = random.Random(0).sample(range(len(table)), 80)
    archs = [table.archs[i] for i in picks]
    y = torch.tensor([table.metric("score")[i] for i in picks], dtype=torch.float64).reshape(-1, 1)
    box = torch.stack([-3 * torch.ones(6), 3 * torch.ones(6)]).double()
    before = {k: v.clone() for k, v in small_vae.state_dict().items()}
    settings = dict(epochs=15, lr=3e-3, batch_size=16)
    joint = fine_tune_jointly(small_vae, archs, y, box, JointConfig(weight=10.0, **settings), seed=0)
    alone = fine_tune_jointly(small_vae, archs, y, box, JointConfig(weight=0.0, **settings), seed=0)
    assert all(torch.equal(before[k], v) for k, v in small_vae.state_dict().items())
    pretrained = _gp_fit_quality(small_vae, archs, y)
    assert _gp_fit_quality(joint, archs, y) > max(pretrained, _gp_fit_quality(alone, archs, y)) + 0.1
    assert torch.equal(joint.encode(archs)[0], joint.encode(archs)[0])     # eval mode


LOLBO_SMALL = {"n_init": 6, "region": {"points": 60},
               "optimise": {"decodes": 2, "restarts": 1, "raw_samples": 16, "maxiter": 5},
               "joint": {"every": 6, "epochs": 1}}


def test_lolbo_fine_tunes_a_copy_counts_its_rounds_and_a_resumed_study_replays_them(
        tmp_path: Path, table, small_vae) -> None:
    """Batches of 3 from 6 random architectures: 3 rounds counted by 15 evaluations, 2
    fine-tunings (after 6 and 12), on a copy; a study stopped after 9 evaluations and resumed
    replays the region and the fine-tuning and continues the uninterrupted run exactly."""
    pytest.importorskip("botorch")
    evaluator = TabularEvaluator(table, "score")
    before = {k: v.clone() for k, v in small_vae.state_dict().items()}

    def make():
        return make_strategy("lolbo", model=small_vae, candidates=table.archs,
                             options=LOLBO_SMALL)

    strategy = make()
    assert strategy.spec()["name"] == "lolbo" and strategy.spec()["joint"]["every"] == 6
    straight = Study(table.space, strategy, evaluator, seed=1)
    straight.optimize(15, batch_size=3)
    counters = strategy.counters
    assert counters["joint_updates"] == 2 and counters["region_rounds"] == 2
    assert counters["decoded_candidates"] > 0
    tags = [t.tag for t in straight.trials]
    assert tags[:6] == ["random-init"] * 6 and tags[6:].count("lolbo") >= 6
    assert all(torch.equal(before[k], v) for k, v in small_vae.state_dict().items())
    assert not all(torch.equal(before[k], v) for k, v in strategy.model.state_dict().items())

    resumed = stopped_and_resumed(tmp_path / "study.jsonl", table, make, evaluator, seed=1,
                                  stop=9, total=15, batch_size=3)
    assert [t.arch for t in resumed.trials] == [t.arch for t in straight.trials]
    assert resumed.strategy.counters["joint_updates"] == 2
    assert resumed.strategy.region.length == strategy.region.length


class GridLatent:
    """A stand-in latent space on the unit square: a point decodes to the architecture of its
    cell of a 10 x 10 grid (no decoder noise), an architecture encodes to its cell's centre."""

    dim = 2

    def __init__(self, archs) -> None:
        self.archs = list(archs)[:100]
        self.bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)

    def cell(self, point: torch.Tensor) -> int:
        i, j = (point.clamp(0, 0.999) * 10).long().tolist()
        return 10 * i + j

    def means(self, archs) -> torch.Tensor:
        where = {a: k for k, a in enumerate(self.archs)}
        return torch.tensor([[(where[a] // 10 + 0.5) / 10, (where[a] % 10 + 0.5) / 10]
                             for a in archs], dtype=torch.float64)

    def decode(self, points: torch.Tensor, generator) -> list:
        return [self.archs[self.cell(p)] for p in points]


def test_a_region_below_the_decoders_resolution_widens_until_it_offers_a_batch(table) -> None:
    """Side 1e-6 of the box: every decode is the evaluated centre, so the round doubles the
    side until the decodes offer 4 unevaluated architectures; the region's state keeps its
    side."""
    from graphvae_nas.search.generators import Round, TrustRegionGenerator
    from graphvae_nas.search.strategies.base import History

    latent = GridLatent(table.archs)
    centre = latent.archs[55]
    history = History(table.space)
    history.add(centre, 1.0, "random-init")
    region = TrustRegion(TrustRegionConfig(length=1e-6, min_length=1e-7), dim=2)
    generator = TrustRegionGenerator(latent, region, points=50)
    state = Round(history, 4, 7, [centre], column(1.0), latent.means([centre]), None, None,
                  torch.Generator().manual_seed(0))
    found = generator.candidates(state)
    assert len(found) >= 4 and centre not in found
    assert generator.counters["region_widenings"] >= 15 and region.length == 1e-6
    neighbours = {latent.archs[k].canonical_hash for k in (44, 45, 46, 54, 56, 64, 65, 66)}
    assert {a.canonical_hash for a in found} <= neighbours      # the nearest cells first


def test_lolbo_searches_two_objectives(small_vae) -> None:
    pytest.importorskip("botorch")
    from test_objectives import OBJECTIVES, two_objective_table

    two = two_objective_table()
    strategy = make_strategy("lolbo", model=small_vae, candidates=two.archs,
                             options={**LOLBO_SMALL, "joint": {"every": 6, "epochs": 1}})
    study = Study(two.space, strategy, TabularEvaluator(two, ["score", "latency"]), seed=2,
                  objectives=OBJECTIVES)
    study.optimize(15, batch_size=3)
    assert strategy.counters["joint_updates"] == 2 and strategy.counters["region_rounds"] == 2
    assert len({t.arch.canonical_hash for t in study.trials}) == 15


def test_lolbo_needs_a_vae(table) -> None:
    with pytest.raises(GraphVAENASError, match="'lolbo' needs a trained VAE"):
        make_strategy("lolbo", candidates=table.archs)


def test_a_comparison_refuses_options_for_a_strategy_it_does_not_run() -> None:
    """Options are keyed by strategy: {"joint": ...} (an option group given bare) named no
    strategy and was silently ignored."""
    from graphvae_nas.experiments.compare import ComparisonSpec

    with pytest.raises(GraphVAENASError, match=r"'joint' is not one of the compared strategies "
                                               r"\(lolbo\)"):
        ComparisonSpec("table.jsonl", ["lolbo"], ["score"], options={"joint": {"every": 0}})
    spec = ComparisonSpec("table.jsonl", ["lolbo"], ["score"],
                          options={"lolbo": {"joint": {"every": 0}}})
    assert spec.options["lolbo"] == {"joint": {"every": 0}}


@pytest.mark.slow
def test_lolbo_under_successive_halving_resumes_exactly(tmp_path: Path, table, small_vae) -> None:
    """lolbo proposing the low fidelity of successive halving: the promotions take some slots
    of each round, and a study stopped and resumed still continues the uninterrupted run."""
    pytest.importorskip("botorch")
    from graphvae_nas.datasets import ArchitectureDataset
    from graphvae_nas.search import SuccessiveHalving

    graded = ArchitectureDataset.from_architectures(
        table.space, table.archs,
        {**table.metrics, "low": [s // 2 for s in table.metrics["score"]]})
    evaluator = TabularEvaluator(graded, "score", fidelities={1: "low", 4: "score"})

    def make():
        return SuccessiveHalving(make_strategy("lolbo", model=small_vae, candidates=table.archs,
                                               options=LOLBO_SMALL), [1, 4], eta=3)

    straight = Study(graded.space, make(), evaluator, seed=1)
    straight.optimize(21, batch_size=3)
    assert any(t.fidelity == 4 for t in straight.trials)
    path = tmp_path / "study.jsonl"
    header = Study.store_header(graded.space, make(), evaluator, 1)

    class Interrupted(Exception):
        pass

    def stop(trial) -> None:
        if trial.number == 13:   # inside a round, after lolbo has counted rounds and fine-tuned
            raise Interrupted
    first = Study(graded.space, make(), evaluator, seed=1, store=StudyStore(path, header))
    with pytest.raises(Interrupted):
        first.optimize(21, batch_size=3, callback=stop)
    first.store.close()
    resumed = Study(graded.space, make(), evaluator, seed=1,
                    store=StudyStore(path, header, resume=True))
    resumed.optimize(21, batch_size=3)
    assert [(t.arch, t.fidelity) for t in resumed.trials] == \
        [(t.arch, t.fidelity) for t in straight.trials]


def test_a_gradient_step_that_pushes_the_gp_noise_below_its_bound_is_clamped_back() -> None:
    # lolbo seed 22 on the Asia BIC (2026-12-07) stopped here: Adam in the joint fine-tuning
    # moved BoTorch's noise, whose bound no transform enforces, to -0.0002, and the noise prior
    # then refused it
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from graphvae_nas.surrogates.gp import clamp_to_bounds, make_gp

    x = torch.rand(12, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = x.sum(-1, keepdim=True)
    gp = make_gp(x, y, inducing_points=None)
    noise = gp.likelihood.noise_covar
    noise.raw_noise.data.fill_(-2e-4)
    mll = ExactMarginalLogLikelihood(gp.likelihood, gp)
    gp.train()
    with pytest.raises(ValueError, match="support"):
        mll(gp(x), y[:, 0])
    clamp_to_bounds(gp)
    assert noise.noise.item() == pytest.approx(noise.raw_noise_constraint.lower_bound.item())
    assert torch.isfinite(mll(gp(x), y[:, 0]))
