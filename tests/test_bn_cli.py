"""Tests for ``graphvae-nas bn ...`` and the BN parts of ``graphvae-nas data`` (sample --score, split)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run
from shared_data import DATA

from graphvae_nas.datasets import load_dataset
from graphvae_nas.evaluation.bic import BNScoreEvaluator
from graphvae_nas.spaces import get_space

ASIA_FILE = DATA / "bn" / "asia.csv"
needs_asia = pytest.mark.skipif(not ASIA_FILE.is_file(), reason=f"{ASIA_FILE} not found (../shared/data)")


def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    rows = ["x,y,z"] + [f"{'ab'[i % 2]},{'ab'[i % 3 == 0]},{'abc'[(i // 2) % 3]}" for i in range(60)]
    path.write_text("\n".join(rows) + "\n")
    return path


@needs_asia
def test_bn_exact_on_asia(capsys) -> None:
    rc, out, err = run(capsys, "bn", "exact", ASIA_FILE, "--score", "bic")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "bic: -11107.2933"
    assert lines[1].startswith("structure: [A]") and "[E|T:L]" in lines[1] and "[D|B:E]" in lines[1]
    assert "exact optimum over 8 variables" in err
    rc, out, _ = run(capsys, "bn", "exact", ASIA_FILE, "--json", "--max-parents", "1")
    record = json.loads(out)
    assert rc == 0 and record["value"] < -11107.2933 and record["score"] == "bic"


@needs_asia
def test_bn_score_every_format(capsys) -> None:
    rc, out, _ = run(capsys, "bn", "score", ASIA_FILE, "[A][S][T|A][L|S][B|S][E|T:L][X|E][D|B:E]", "--json")
    record = json.loads(out)
    assert rc == 0 and round(record["value"], 4) == -11109.7419
    rc, again, _ = run(capsys, "bn", "score", ASIA_FILE, record["matrix"])
    assert rc == 0 and again.splitlines()[0] == "bic: -11109.7419"


def test_bn_commands_on_a_small_file(capsys, tmp_path: Path) -> None:
    path = small_csv(tmp_path)
    rc, out, _ = run(capsys, "bn", "exact", path, "--score", "bdeu", "--iss", "2", "--variables", "z,x")
    assert rc == 0 and out.startswith("bdeu: ") and "[z" in out and "[y" not in out


def test_bn_errors_exit_2(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\nyes,1\nno,\n")
    rc, _, err = run(capsys, "bn", "exact", bad)
    assert rc == 2 and "bad.csv:3" in err and "'b'" in err and "missing value" in err
    wide = tmp_path / "wide.csv"
    names = [f"v{i}" for i in range(21)]
    wide.write_text(",".join(names) + "\n" + ",".join("0" * 21) + "\n" + ",".join("1" * 21) + "\n")
    rc, _, err = run(capsys, "bn", "exact", wide)
    assert rc == 2 and "limited to 20 variables" in err
    rc, _, err = run(capsys, "bn", "score", small_csv(tmp_path), "[x][y|x][x]")
    assert rc == 2 and "twice" in err


def test_data_sample_with_scores_and_the_dvae_split(capsys, tmp_path: Path) -> None:
    path = small_csv(tmp_path)
    out = tmp_path / "bn.jsonl"
    rc, _, err = run(capsys, "data", "sample", "--space", f"bn:data={path}", "-n", "20",
                     "--score", "bic", "--seed", "3", "-o", out)
    assert rc == 0, err
    dataset = load_dataset(out)
    assert len(dataset) == dataset.num_unique() == 20 and dataset.metric_names == ["bic"]
    evaluator = BNScoreEvaluator(dataset.space, path)
    assert dataset.metrics["bic"].tolist() == evaluator.score_many(dataset.archs).tolist()
    assert dataset.provenance[1]["scored_on"]["score"] == "bic"
    rc, _, _ = run(capsys, "data", "split", out, "--protocol", "dvae-bn",
                   "--train-out", tmp_path / "train.jsonl", "--test-out", tmp_path / "test.jsonl")
    train, test = load_dataset(tmp_path / "train.jsonl"), load_dataset(tmp_path / "test.jsonl")
    assert rc == 0 and (len(train), len(test)) == (18, 2)
    assert {a.canonical_hash for a in train.archs + test.archs} == set(dataset.hashes)


def test_data_sample_score_needs_a_bn_space(capsys, tmp_path: Path) -> None:
    rc, _, err = run(capsys, "data", "sample", "--space", "nb201", "-n", "3", "--score", "bic",
                     "-o", tmp_path / "x.jsonl")
    assert rc == 2 and "Bayesian-network spaces" in err
    rc, _, err = run(capsys, "data", "sample", "--space", "bn:variables=x,y", "-n", "3", "--score", "bic",
                     "-o", tmp_path / "x.jsonl")
    assert rc == 2 and "no data to score on" in err
    rc, _, err = run(capsys, "data", "sample", tmp_path / "some.jsonl", "-n", "3", "--score", "bic",
                     "-o", tmp_path / "x.jsonl")
    assert rc == 2 and "not a dataset file" in err
    rc, _, err = run(capsys, "data", "split", tmp_path / "none.jsonl", "--protocol", "dvae-bn",
                     "--train-out", tmp_path / "a.jsonl", "--test-out", tmp_path / "b.jsonl")
    assert rc == 2


def test_dvae_bn_lines_import_through_the_dvae_reader(capsys, tmp_path: Path) -> None:
    """D-VAE's BN files (``asia_200k.txt``: ``[[t0], [t1, b0], ...], score`` per line) read with
    the D-VAE row reader, which takes any space with ``from_rows``."""
    lines = ["[[0], [1, 1], [2, 0, 0], [3, 0, 0, 0], [4, 0, 1, 0, 0], [5, 1, 1, 0, 0, 0], "
             "[6, 0, 1, 0, 0, 1, 0], [7, 0, 0, 0, 1, 1, 1, 0]], -12000.5",
             "[[1], [0, 0], [2, 0, 1], [3, 1, 0, 0], [4, 1, 0, 0, 0], [5, 0, 0, 1, 1, 0], "
             "[6, 0, 0, 0, 0, 0, 1], [7, 0, 0, 0, 0, 1, 1, 0]], -11109.7419",
             "[[0], [0, 1], [2, 0, 0], [3, 0, 0, 0], [4, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0], "
             "[6, 0, 0, 0, 0, 0, 0], [7, 0, 0, 0, 0, 0, 0, 0]], -1.0"]
    source = tmp_path / "asia_3.txt"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "asia_3.jsonl"
    rc, _, err = run(capsys, "data", "import", source, "--space", "bn:variables=A,S,T,L,B,E,X,D",
                     "--format", "dvae-enas", "--metric-name", "bic", "--skip-bad", "-o", out)
    assert rc == 0 and "skipped line 3" in err and "listed twice" in err
    dataset = load_dataset(out)
    assert [dataset.native(i) for i in range(2)][1] == "[A][S][T|A][L|S][B|S][E|T:L][X|E][D|B:E]"
    assert dataset.metrics["bic"].tolist() == [-12000.5, -11109.7419]


# ------------------------------------------------------------------------ search scored on data
@pytest.fixture()
def private_vae_cache(tmp_path, monkeypatch) -> Path:
    """A bn search that falls back to the default VAE writes to a private cache."""
    cache = tmp_path / "vae-cache"
    monkeypatch.setenv("GRAPHVAE_NAS_CACHE", str(cache))
    return cache


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


@needs_asia
@pytest.mark.parametrize("strategy", ["local", "evolution"])
def test_search_scores_each_bn_on_the_data(strategy, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    rc, stdout, err = run(capsys, "search", "--space", f"bn:data={ASIA_FILE}", "--score", "bic",
                          "--strategy", strategy, "--budget", "60", "--seed", "3", "--out", out)
    assert rc == 0, err
    summary = _summary(out)
    assert summary["objective"] == "bic" and summary["objectives"] == [{"name": "bic", "direction": "max"}]
    assert summary["evaluator"]["kind"] == "bn-score" and summary["trials"] == 60
    assert summary["empty_graph_score"] == pytest.approx(-15222.9373, abs=1e-4)
    best = summary["best"]
    assert best["objective"] > summary["empty_graph_score"] + 1000   # learned real dependencies
    # the recorded best is the BIC of the printed structure, recomputed independently
    evaluator = BNScoreEvaluator(get_space(f"bn:data={ASIA_FILE}"))
    assert evaluator.score(evaluator.space.parse(best["arch"])) == pytest.approx(best["objective"])
    assert best["arch"] in stdout and "bic" in stdout


@needs_asia
@pytest.mark.slow
def test_search_bo_trains_and_caches_the_bn_default_vae(tmp_path, capsys, monkeypatch,
                                                       private_vae_cache) -> None:
    """No --model: bo trains the bn space's default VAE (here tiny: 300 graphs, 1 epoch), caches it
    and decodes every proposal, each scored on the data; a second search reuses the file."""
    pytest.importorskip("botorch")
    from graphvae_nas.vae import default_model

    monkeypatch.setitem(default_model.SPACE_TRAINING, "bn",
                        {"epochs": 1, "sample_size": 300, "sampler": {"arc_prob": 0.25}})
    options = ('{"n_init": 6, "decode": {"explore": 40, "neighbourhood": 40}, '
               '"optimise": {"raw_samples": 16, "restarts": 1}}')
    args = ["search", "--space", f"bn:data={ASIA_FILE}", "--score", "bdeu", "--strategy", "bo",
            "--budget", "10", "--batch-size", "4", "--options", options]
    rc, _, err = run(capsys, *args, "--out", tmp_path / "a")
    assert rc == 0, err
    [model] = private_vae_cache.glob("vae-bn-*.pt")
    summary = _summary(tmp_path / "a")
    assert summary["model"] == str(model) and summary["trials"] == 10
    assert summary["objective"] == "bdeu" and summary["evaluator"]["score"] == "bdeu"
    records = [json.loads(line) for line in (tmp_path / "a" / "study.jsonl").read_text().splitlines()[1:]]
    trials = [r for r in records if "trial" in r]
    assert len(trials) == 10 and all(r["failure"] is None for r in trials)   # every decode a valid BN
    assert sum(r["tag"] != "random-init" for r in trials) == 4
    header = json.loads((tmp_path / "a" / "study.jsonl").read_text().splitlines()[0])
    assert header["strategy"]["decode"]["explore"] == 40               # as given
    assert header["strategy"]["decode"]["scale"] == 0.02               # the bn preset's
    assert header["strategy"]["retrain"]["every"] == 50 and header["strategy"]["preset"] == "bn"
    assert summary["preset"] == "bn"
    assert "options of bo: preset bn; " in err and "retrain.every=50" in err   # echoed at start
    assert "training the default VAE of bn" in err
    rc, _, err = run(capsys, *args, "--out", tmp_path / "b")
    assert rc == 0 and "training the default VAE" not in err
    assert list(private_vae_cache.glob("vae-bn-*.pt")) == [model]


def test_search_score_needs_a_bn_space_with_data(tmp_path, capsys) -> None:
    csv_file = small_csv(tmp_path)
    rc, _, err = run(capsys, "search", "--space", "nb201", "--score", "bic", "--out", tmp_path / "x")
    assert rc == 2 and "--space bn:data=FILE.csv" in err
    rc, _, err = run(capsys, "search", "--space", "bn:variables=x,y,z", "--strategy", "random",
                     "--out", tmp_path / "y")
    assert rc == 2 and "bn:data=FILE.csv" in err
    rc, _, err = run(capsys, "search", "--space", f"bn:data={csv_file}", "--objective", "acc",
                     "--strategy", "random", "--out", tmp_path / "z")
    assert rc == 2 and "the score 'bic'" in err
    rc, _, err = run(capsys, "search", "--space", f"bn:data={csv_file}", "--strategy", "random",
                     "--budget", "12", "--out", tmp_path / "w")
    assert rc == 0, err     # --score defaults to bic
    assert _summary(tmp_path / "w")["objective"] == "bic"


def test_local_search_climbs_and_restarts_on_bns(tmp_path) -> None:
    """Hill climbing over bnlearn's arc moves restarts from a random DAG at each local optimum."""
    from graphvae_nas.search import Study, make_strategy

    csv_file = small_csv(tmp_path)
    space = get_space(f"bn:data={csv_file}")       # 3 variables: 25 DAGs
    study = Study(space, make_strategy("local", space=space), BNScoreEvaluator(space), seed=0)
    study.optimize(25, batch_size=2)
    tags = [t.tag for t in study.trials]
    assert tags[0] == "restart" and tags.count("restart") >= 2 and "neighbour" in tags
    for i, trial in enumerate(study.trials):     # each neighbour is one arc move from an earlier DAG
        if trial.tag == "neighbour":
            assert any(trial.arch in space.neighbours(t.arch) for t in study.trials[:i])
    assert len({t.arch.canonical_hash for t in study.trials}) == 25
