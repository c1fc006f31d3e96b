"""A search stopped and resumed repeats the uninterrupted one exactly, for the latent strategies
too: an architecture's latent mean does not depend on the batch it was encoded in."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from shared_data import DATA, needs_data

from graphvae_nas.search import Study, StudyStore, make_strategy
from graphvae_nas.search.latent import LatentSpace
from graphvae_nas.spaces import get_space, sample_distinct
from graphvae_nas.vae import GraphVAE, VAEConfig

ASIA = DATA / "bn" / "asia.csv"
SMALL = {"bo": {"decode": {"neighbourhood": 100, "explore": 100},
                "optimise": {"restarts": 1, "raw_samples": 16, "decodes": 2}},
         "bo-structure": {"decode": {"neighbourhood": 100, "explore": 100},
                          "mutate": {"count": 40}},
         "bananas": {"gnn": {"members": 2, "epochs": 10}, "mutate": {"count": 40}}}


def _vae(space, hidden: int = 128) -> GraphVAE:
    torch.manual_seed(0)
    return GraphVAE(space, VAEConfig(hidden_size=hidden, latent_size=8,
                                     decoder_positions=True)).eval()


@pytest.mark.parametrize("space_name", ["nb201", "nb101", "bn:variables=a,b,c,d,e,f,g,h"])
def test_latent_means_do_not_depend_on_the_batch(space_name) -> None:
    """Encoded alone, in halves, or among others at another position: the same bits (matrix
    products of another row count once rounded differently, by about 1e-8)."""
    space = get_space(space_name)
    model = _vae(space)
    archs = sample_distinct(space, 400, 1)
    together = LatentSpace(model, archs[:300]).means(archs[300:320])
    halves = LatentSpace(model, archs[:300])
    second, first = halves.means(archs[310:320]), halves.means(archs[300:310])
    among = LatentSpace(model, archs[50:400]).means(archs[300:320])
    assert torch.equal(together, torch.cat([first, second])) and torch.equal(together, among)


def _setup(case: str):
    if case == "nb201":
        from graphvae_nas.datasets import ArchitectureDataset
        from graphvae_nas.evaluation import TabularEvaluator

        space = get_space("nb201")
        cells = list(space.enumerate())
        scores = [float(sum(op == "nor_conv_3x3" for op in a.ops)) + 0.01 * (i % 7)
                  for i, a in enumerate(cells)]
        table = ArchitectureDataset.from_architectures(space, cells, {"score": scores})
        return space, TabularEvaluator(table, "score"), cells[::10]
    from graphvae_nas.evaluation.bic import BNScoreEvaluator

    space = get_space(f"bn:data={ASIA}")
    return space, BNScoreEvaluator(space, score="bic"), sample_distinct(space, 1000, 0)


@pytest.mark.slow
@needs_data
@pytest.mark.parametrize("case", ["nb201", "asia"])
@pytest.mark.parametrize("name", ["bo", "bo-structure", "bananas"])
def test_a_stopped_and_resumed_search_repeats_the_uninterrupted_one(case, name,
                                                                     tmp_path: Path) -> None:
    space, evaluator, box = _setup(case)
    model = _vae(space, hidden=64)

    def strategy():     # a new one each time: nothing cached survives the stop, as in a new process
        extra = {"model": model, "candidates": box} if name != "bananas" else {}
        return make_strategy(name, space=space, options=SMALL[name], **extra)

    straight = Study(space, strategy(), evaluator, seed=3)
    straight.optimize(30, batch_size=5)
    path = tmp_path / "study.jsonl"
    header = Study.store_header(space, strategy(), evaluator, 3, straight.objectives)
    with StudyStore(path, header) as store:
        Study(space, strategy(), evaluator, seed=3, store=store).optimize(20, batch_size=5)
    with StudyStore(path, header, resume=True) as store:
        resumed = Study(space, strategy(), evaluator, seed=3, store=store)
        resumed.optimize(30, batch_size=5)
    assert [t.arch.canonical_hash for t in resumed.trials] == \
        [t.arch.canonical_hash for t in straight.trials]


KILLED_CHILD = """
import sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
from test_resume_exact import SMALL, _setup, _vae
from graphvae_nas.search import Study, StudyStore, make_strategy

space, evaluator, box = _setup(CASE)
model = _vae(space, hidden=64)
slow = evaluator.evaluate
evaluator.evaluate = lambda arch: (time.sleep(0.05), slow(arch))[1]
strategy = make_strategy(NAME, space=space, model=model, candidates=box, options=SMALL[NAME])
store = StudyStore({path!r}, Study.store_header(space, strategy, evaluator, 3), resume=True)
Study(space, strategy, evaluator, seed=3, store=store).optimize(40, batch_size=5)
print("done")
"""


@pytest.mark.slow
@needs_data
@pytest.mark.parametrize("case", ["nb201", "asia"])
def test_bo_killed_with_sigkill_and_resumed_repeats_the_uninterrupted_run(case, tmp_path) -> None:
    """The case the adversarial pass found: decode-mode bo on the Asia BIC (and on NB201),
    SIGKILLed after at least 12 of 40 evaluations and run again to the end."""
    from test_search import kill_then_resume

    child = KILLED_CHILD.replace("CASE", repr(case)).replace("NAME", repr("bo"))
    path = tmp_path / "study.jsonl"
    trials = kill_then_resume(child, path, tmp_path, trials=40)
    space, evaluator, box = _setup(case)
    straight = Study(space, make_strategy("bo", space=space, model=_vae(space, hidden=64),
                                          candidates=box, options=SMALL["bo"]),
                     evaluator, seed=3)
    straight.optimize(40, batch_size=5)
    assert [r["hash"] for r in trials] == [t.arch.canonical_hash for t in straight.trials]
