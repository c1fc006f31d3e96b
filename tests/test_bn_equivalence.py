"""Markov equivalence classes of bn structures: the class key, covered-arc reversals, the moves
between classes, and the search pieces built on them."""
from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from shared_data import DATA

from graphvae_nas.errors import ArchitectureError, GraphVAENASError
from graphvae_nas.spaces import get_space
from graphvae_nas.spaces.bn import BayesianNetworkSpace
from graphvae_nas.spaces.bn_equivalence import class_members, equivalence_key

ASIA_CSV = DATA / "bn" / "asia.csv"
needs_asia = pytest.mark.skipif(not ASIA_CSV.is_file(), reason="asia.csv not in ../shared/data")
LOCAL_OPTIMUM = "[A][E][T|E][X|E][L|T:E][S|L][B|S][D|B:E]"
"""BIC -11111.3504 on asia.csv: no arc move improves it (bnlearn's hill climbing stops here),
but one move out of its class reaches the global optimum -11107.2933."""


def all_dags(n: int) -> list[tuple[int, ...]]:
    space = BayesianNetworkSpace(variables=[f"V{i}" for i in range(n)])
    out = []
    for masks in itertools.product(range(1 << n), repeat=n):
        if any(m >> v & 1 for v, m in enumerate(masks)):
            continue
        try:
            space.from_masks(masks)
        except ArchitectureError:  # a cycle
            continue
        out.append(masks)
    return out


@pytest.mark.parametrize("n,dags,classes", [(3, 25, 11), (4, 543, 185)])
def test_the_key_counts_the_known_number_of_classes(n, dags, classes) -> None:
    """DAGs and Markov equivalence classes on 3 and 4 labelled nodes (OEIS A003024, A007984)."""
    found = all_dags(n)
    assert len(found) == dags
    sizes = Counter(equivalence_key(m) for m in found)
    assert len(sizes) == classes
    # covered-arc reversals reach every member of a class, and nothing outside it
    for masks in found:
        members = class_members(masks, limit=1000)
        assert members[0] == masks and len(members) == len(set(members))
        assert {equivalence_key(m) for m in members} == {equivalence_key(masks)}
        assert len(members) == sizes[equivalence_key(masks)]


def test_class_members_respects_its_limit() -> None:
    chain = (0, 1, 2, 4, 8)  # V0 -> V1 -> V2 -> V3 -> V4: a class of 5 members
    assert len(class_members(chain, limit=1000)) == 5
    assert len(class_members(chain, limit=3)) == 3
    with pytest.raises(ValueError, match="limit must be >= 1"):
        class_members(chain, limit=0)


@needs_asia
def test_members_of_a_class_score_alike_and_class_moves_leave_the_local_optimum() -> None:
    from graphvae_nas.evaluation.bic import BNScoreEvaluator

    space = get_space(f"bn:data={ASIA_CSV}")
    evaluator = BNScoreEvaluator(space, score="bic")
    local = space.parse(LOCAL_OPTIMUM)
    members = class_members(space.parent_masks(local), limit=1000)
    assert len(members) == 12
    assert {round(evaluator.score(space.from_masks(m)), 6) for m in members} == {-11111.350371}
    best_arc_move = max(evaluator.score(a) for a in space.neighbours(local))
    assert best_arc_move <= evaluator.score(local)  # a local optimum of the arc moves
    moves = space.class_neighbours(local)
    keys = [space.equivalence_key(a) for a in moves]
    assert len(keys) == len(set(keys)) and space.equivalence_key(local) not in keys
    assert max(evaluator.score(a) for a in moves) == pytest.approx(-11107.2933094, abs=1e-6)
    for seed in range(5):  # random DAGs of one class score alike
        arch = space.sample(random.Random(seed))
        scores = {round(evaluator.score(space.from_masks(m)), 6)
                  for m in class_members(space.parent_masks(arch), limit=50)}
        assert len(scores) == 1


def test_search_pieces_refuse_spaces_without_classes() -> None:
    from graphvae_nas.search.generators import DistinctClasses, MutationGenerator, PoolGenerator

    space = get_space("nb201")
    with pytest.raises(GraphVAENASError, match="no equivalence classes.*class_neighbours"):
        MutationGenerator(space, between_classes=True)
    with pytest.raises(GraphVAENASError, match="no equivalence classes.*equivalence_key"):
        DistinctClasses(PoolGenerator([space.sample(0)]), space)


def test_distinct_classes_keeps_one_per_class_and_none_evaluated() -> None:
    import torch

    from graphvae_nas.search import History
    from graphvae_nas.search.generators import DistinctClasses, PoolGenerator, Round

    space = BayesianNetworkSpace(variables=["A", "B", "C"])
    ab, ba = space.parse("[A][B|A][C]"), space.parse("[B][A|B][C]")  # one class
    abc, cba = space.parse("[A][B|A][C|B]"), space.parse("[C][B|C][A|B]")  # another
    collider = space.parse("[A][C][B|A:C]")
    history = History(space)
    history.add(ab, 1.0, "")
    generator = DistinctClasses(PoolGenerator([ba, abc, cba, collider]), space)
    state = Round(history, 2, 0, [ab], torch.ones(1, 1), torch.zeros(1, 1), None, None,
                  torch.Generator())
    assert generator.candidates(state) == [abc, collider]
    assert generator.counters["equivalent_dropped"] == 2


@pytest.mark.slow
def test_every_search_module_imports_first() -> None:
    """Each module of the search layer imports in a fresh interpreter, whatever is imported
    before it (``graphvae_nas.search.generators`` first used to fail on a circular import)."""
    import subprocess
    import sys
    from pathlib import Path

    import graphvae_nas.search as search

    root = Path(search.__file__).parent
    modules = sorted("graphvae_nas.search." + ".".join(p.relative_to(root).with_suffix("").parts)
                     for p in root.rglob("*.py") if p.name != "__init__.py")
    assert "graphvae_nas.search.generators" in modules
    failed = [m for m in modules if subprocess.run([sys.executable, "-c", f"import {m}"],
                                                   capture_output=True).returncode]
    assert failed == []
