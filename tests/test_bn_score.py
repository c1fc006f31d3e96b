"""Tests for BN scores (evaluation.bic), discrete data checks and the exact DP (evaluation.bn_exact)."""
from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from shared_data import DATA

from graphvae_nas.errors import DataFormatError
from graphvae_nas.evaluation import Evaluator
from graphvae_nas.evaluation.bic import BNScoreEvaluator, FamilyScores
from graphvae_nas.evaluation.bn_exact import MAX_EXACT_VARIABLES, exact_optimum
from graphvae_nas.evaluation.discrete_data import DiscreteData, read_discrete_csv
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces.bn import BayesianNetworkSpace

ASIA_FILE = DATA / "bn" / "asia.csv"
needs_asia = pytest.mark.skipif(not ASIA_FILE.is_file(), reason=f"{ASIA_FILE} not found (../shared/data)")
ASIA_TRUE = "[A][S][T|A][L|S][B|S][E|T:L][X|E][D|B:E]"
ASIA_EMPTY = "[A][S][T][L][B][E][X][D]"
# README references (bnlearn::score(net, asia), type "bic"), printed to 4 decimals there
EMPTY_BIC, TRUE_BIC, OPTIMUM_BIC = -15222.9373, -11109.7419, -11107.2933


@pytest.fixture(scope="module")
def asia():
    if not ASIA_FILE.is_file():
        pytest.skip(f"{ASIA_FILE} not found (../shared/data)")
    space = BayesianNetworkSpace(data=ASIA_FILE)
    return space, BNScoreEvaluator(space)


def synthetic_csv(tmp_path: Path, rows: int = 300, seed: int = 0) -> Path:
    """Four dependent discrete variables (levels 2, 3, 2, 3) with a few unobserved combinations."""
    rng = random.Random(seed)
    lines = ["a,b,c,d"]
    for _ in range(rows):
        a = rng.random() < 0.3
        b = rng.choice("xyz") if a else rng.choice("xy")
        c = int(b == "x" or rng.random() < 0.2)
        d = rng.choice(["1", "2", "3"]) if c else "1"
        lines.append(f"{'yes' if a else 'no'},{b},{c},{d}")
    path = tmp_path / "synthetic.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def naive_family(rows: list[dict], child: str, parents: list[str], levels: dict, score: str,
                 iss: float = 1.0) -> float:
    """Family score straight from the definitions, with dictionaries and math only."""
    joint = Counter((tuple(r[p] for p in parents), r[child]) for r in rows)
    config = Counter(tuple(r[p] for p in parents) for r in rows)
    q = math.prod(len(levels[p]) for p in parents)
    r_child = len(levels[child])
    if score == "bdeu":
        a_j, a_jk = iss / q, iss / (q * r_child)
        total = sum(math.lgamma(a_j) - math.lgamma(a_j + n) for n in config.values())
        return total + sum(math.lgamma(a_jk + n) - math.lgamma(a_jk) for n in joint.values())
    loglik = sum(n * math.log(n / config[j]) for (j, _), n in joint.items())
    return loglik - 0.5 * math.log(len(rows)) * (r_child - 1) * q


# ------------------------------------------------------------------------ references on asia
@needs_asia
def test_bic_equals_the_bnlearn_references(asia) -> None:
    space, evaluator = asia
    for text, reference in ((ASIA_EMPTY, EMPTY_BIC), (ASIA_TRUE, TRUE_BIC)):
        assert round(evaluator.score(space.parse(text)), 4) == reference
    assert evaluator.score(space.parse(ASIA_TRUE)) == pytest.approx(-11109.741872, abs=1e-6)


@needs_asia
def test_bic_is_score_equivalent_and_the_optimum_class_scores_equal(asia) -> None:
    space, evaluator = asia
    # the true DAG without A -> T; its class: S -> L (as in the true DAG), or B or L as the root
    class_members = ["[A][S][T][L|S][B|S][E|T:L][X|E][D|B:E]",
                     "[A][B][T][S|B][L|S][E|T:L][X|E][D|B:E]",
                     "[A][L][T][S|L][B|S][E|T:L][X|E][D|B:E]"]
    scores = [evaluator.score(space.parse(t)) for t in class_members]
    assert scores == pytest.approx([OPTIMUM_BIC] * 3, abs=5e-5)
    bdeu = BNScoreEvaluator(space, score="bdeu")
    values = [bdeu.score(space.parse(t)) for t in class_members]
    assert max(values) - min(values) < 1e-6  # BDeu is score-equivalent too


@needs_asia
def test_evaluator_protocol_and_failures(asia) -> None:
    space, evaluator = asia
    assert isinstance(evaluator, Evaluator)
    result = evaluator.evaluate(space.parse(ASIA_TRUE))
    assert result.objective == pytest.approx(TRUE_BIC, abs=5e-5) and "bic" in result.metrics
    bad = Architecture(["input", "A", "output"], [(0, 1), (1, 2)])
    failed = evaluator.evaluate(bad)
    assert failed.objective is None and "expected 10 nodes" in failed.failure
    spec = evaluator.spec()
    assert spec["score"] == "bic" and spec["rows"] == 5000 and spec["sha256"].startswith("95339f7c")


@needs_asia
def test_family_scores_are_cached(asia) -> None:
    space, _ = asia
    evaluator = BNScoreEvaluator(space)
    rng = random.Random(0)
    archs = [space.sample(rng) for _ in range(300)]
    first = evaluator.score_many(archs)
    cached = sum(len(c) for c in evaluator.scores._cache)
    assert cached <= 8 * 128
    assert np.array_equal(evaluator.score_many(archs), first)
    assert sum(len(c) for c in evaluator.scores._cache) == cached


@needs_asia
def test_exact_optimum_on_asia(asia) -> None:
    space, evaluator = asia
    result = exact_optimum(space, evaluator.scores)
    assert round(result.score, 4) == OPTIMUM_BIC
    assert evaluator.score(result.arch) == pytest.approx(result.score, abs=1e-9)
    assert space.parent_masks(result.arch) == result.masks
    arcs = {(p, c) for c, ps in space.parents(result.arch).items() for p in ps}
    skeleton = {frozenset(a) for a in arcs}
    true_skeleton = {frozenset(a) for a in [("T", "E"), ("S", "L"), ("S", "B"), ("L", "E"),
                                            ("E", "X"), ("E", "D"), ("B", "D")]}
    assert skeleton == true_skeleton  # the true DAG without A -> T, up to equivalence
    rng = random.Random(1)
    best_random = max(evaluator.score_many(space.sample(rng) for _ in range(500)))
    assert best_random < result.score


# ------------------------------------------------------------------------ definitions, DP by brute force
@pytest.mark.parametrize("score", ["bic", "bdeu"])
def test_family_scores_match_the_definitions(tmp_path: Path, score: str) -> None:
    path = synthetic_csv(tmp_path)
    data = read_discrete_csv(path)
    assert data.cardinalities == (2, 3, 2, 3)
    text_rows = [dict(zip("abcd", line.split(","))) for line in path.read_text().split()[1:]]
    levels = {name: set(r[name] for r in text_rows) for name in "abcd"}
    scores = FamilyScores(data, score, iss=2.5)
    for child in range(4):
        for size in range(4):
            for parents in itertools.combinations([p for p in range(4) if p != child], size):
                mask = sum(1 << p for p in parents)
                expected = naive_family(text_rows, "abcd"[child], ["abcd"[p] for p in parents],
                                        levels, score, iss=2.5)
                assert scores.family(child, mask) == pytest.approx(expected, rel=1e-12, abs=1e-9)


def all_dags(n: int):
    """Every DAG on ``n`` labelled nodes as parent masks."""
    pairs = list(itertools.permutations(range(n), 2))
    for keep in itertools.product((0, 1), repeat=len(pairs)):
        masks = [0] * n
        for (p, c), k in zip(pairs, keep):
            if k:
                masks[c] |= 1 << p
        yield masks


@pytest.mark.parametrize("score, max_parents", [("bic", None), ("bdeu", None), ("bic", 1)])
def test_exact_optimum_equals_brute_force(tmp_path: Path, score: str, max_parents: int | None) -> None:
    space = BayesianNetworkSpace(data=synthetic_csv(tmp_path, rows=200, seed=3), max_parents=max_parents)
    scores = BNScoreEvaluator(space, score=score).scores
    best = -math.inf
    count = 0
    for masks in all_dags(4):
        try:
            space.from_masks(masks)
        except Exception:  # cyclic or too many parents
            continue
        count += 1
        best = max(best, scores.total(masks))
    if max_parents is None:
        assert count == 543
    result = exact_optimum(space, scores)
    assert result.score == pytest.approx(best, abs=1e-9)


def test_exact_refuses_too_many_variables() -> None:
    n = MAX_EXACT_VARIABLES + 1
    names = tuple(f"v{i}" for i in range(n))
    codes = np.tile(np.array([[0], [1]]), (1, n))
    data = DiscreteData(names, codes, tuple(("0", "1") for _ in names), "wide.csv")
    space = BayesianNetworkSpace(variables=names)
    with pytest.raises(DataFormatError, match=rf"limited to {MAX_EXACT_VARIABLES} variables.*has {n}"):
        exact_optimum(space, FamilyScores(data))


def test_a_short_search_beats_the_empty_graph(tmp_path: Path) -> None:
    from graphvae_nas.search.strategies.baselines import LocalSearch
    from graphvae_nas.search.study import Study

    space = BayesianNetworkSpace(data=synthetic_csv(tmp_path))
    evaluator = BNScoreEvaluator(space)
    empty = evaluator.score(space.from_masks([0, 0, 0, 0]))
    study = Study(space, LocalSearch(), evaluator, seed=0)
    study.optimize(40)
    assert study.best().objective > empty


# ------------------------------------------------------------------------ bad data
@pytest.mark.parametrize("text, message, field", [
    ("a,b\nyes,1\n,2\n", r":3 \(field 'a'\): missing value ''", "a"),
    ("a,b\nyes,1\nno,NA\n", r":3 \(field 'b'\): missing value 'NA'", "b"),
    ("a,b\nyes,1\nyes,2\n", r"field 'a'\): constant column", "a"),
    ("a,b\nyes,0.5\nno,1.25\n", r"field 'b'\): non-discrete column: numeric values with fractions", "b"),
    ("a,b\n" + "".join(f"{'yes' if i % 2 else 'no'},{i}\n" for i in range(30)),
     r"field 'b'\): non-discrete column: 30 distinct values", "b"),
    ("a,b\nyes,1\nno\n", r":3: 1 fields, the header has 2", None),
    ("", "empty file", None),
    ("a,b\n", "no data rows", None),
    ("a,a\n1,2\n2,1\n", "repeated", "a"),
])
def test_bad_data_is_refused_naming_file_and_column(tmp_path: Path, text, message, field) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=message) as info:
        read_discrete_csv(path)
    assert str(path) in str(info.value) and info.value.field == field


def test_integer_levels_are_discrete_and_sorted_numerically(tmp_path: Path) -> None:
    path = tmp_path / "ints.csv"
    path.write_text("a,b\n10,x\n2,y\n10,y\n2.0,x\n")
    data = read_discrete_csv(path)
    assert data.levels == (("2", "10"), ("x", "y"))
    assert data.codes.tolist() == [[1, 0], [0, 1], [1, 1], [0, 0]]


def test_unknown_variables_are_named_with_the_file(tmp_path: Path) -> None:
    path = synthetic_csv(tmp_path)
    space = BayesianNetworkSpace(variables=("a", "b", "q"))
    with pytest.raises(DataFormatError, match=r"synthetic.csv.*unknown variables \['q'\]"):
        BNScoreEvaluator(space, path)
    with pytest.raises(DataFormatError, match="no data to score on"):
        BNScoreEvaluator(BayesianNetworkSpace(variables=("a", "b")))
    with pytest.raises(DataFormatError, match="unknown score"):
        BNScoreEvaluator(BayesianNetworkSpace(data=path), score="aic")
    with pytest.raises(DataFormatError, match="iss must be a positive"):
        BNScoreEvaluator(BayesianNetworkSpace(data=path), score="bdeu", iss=0)


def test_a_subset_of_columns_can_be_scored(tmp_path: Path) -> None:
    path = synthetic_csv(tmp_path)
    space = BayesianNetworkSpace(variables=("d", "a"))
    evaluator = BNScoreEvaluator(space, path)
    full = BNScoreEvaluator(BayesianNetworkSpace(data=path))
    # d alone plus a alone = the same families in the four-variable data
    assert evaluator.score(space.from_masks([0, 0])) == pytest.approx(
        full.scores.family(3, 0) + full.scores.family(0, 0))
