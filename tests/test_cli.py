"""Tests for the ``graphvae-nas data`` command line.

Most run ``graphvae_nas.cli.main`` in-process; one runs the README's pipeline through the
installed console script. Tests on the real benchmark files skip when ../shared/data is absent.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import run
from shared_data import BEST_CELL, ENAS_FILE, NB201_DIR, needs_data

from graphvae_nas.cli import main
from graphvae_nas.datasets import load_dataset
from graphvae_nas.spaces import get_space



ENAS_ARCH = "[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]]"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _console_script() -> str | None:
    candidate = Path(sys.executable).parent / "graphvae-nas"
    if candidate.exists():
        return str(candidate)
    return shutil.which("graphvae-nas")


# ------------------------------------------------------------------------------------ shared files
@pytest.fixture(scope="session")
def cli_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="session")
def nb201_jsonl(cli_dir: Path, benchmark_data_dir) -> Path:
    out = cli_dir / "nb201_200ep.jsonl"
    assert main(["data", "import", "--space", "nb201", str(NB201_DIR / "nb201_cifar10_200ep.csv"),
                 "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def enas_jsonl(cli_dir: Path, benchmark_data_dir) -> Path:
    out = cli_dir / "enas.jsonl"
    assert main(["data", "import", "--space", "enas", str(ENAS_FILE), "-o", str(out)]) == 0
    return out


# ------------------------------------------------------------------------------------ import, stats
@needs_data
def test_import_reports_to_stderr(capsys, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl.gz"
    rc, stdout, err = run(capsys, "data", "import", "--space", "nb201",
                          NB201_DIR / "nb201_cifar10_200ep.csv", "-o", out)
    assert rc == 0
    assert stdout == ""
    assert "imported 15625 records (15625 unique)" in err
    assert "columns not imported: index" in err
    assert f"wrote 15625 records to {out}" in err
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    assert len(load_dataset(out)) == 15_625


@needs_data
def test_stats_json(capsys, nb201_jsonl: Path) -> None:
    rc, out, err = run(capsys, "data", "stats", nb201_jsonl, "--json")
    assert rc == 0, err
    stats = json.loads(out)
    assert stats["count"] == 15_625 and stats["unique"] == 15_625
    assert stats["space"] == {"name": "nb201"}
    test_acc = stats["metrics"]["cifar10_test"]
    assert test_acc["max"] == pytest.approx(94.3733, abs=1e-9)
    assert test_acc["argmax"] == BEST_CELL
    assert test_acc["count"] == 15_625
    for key in ("min", "mean"):
        assert isinstance(test_acc[key], float)
    assert test_acc["min"] < test_acc["mean"] < test_acc["max"]
    assert set(stats["metrics"]) == {"params_m", "cifar10_valid", "cifar10_test"}


@needs_data
def test_stats_text(capsys, nb201_jsonl: Path) -> None:
    rc, out, _ = run(capsys, "data", "stats", nb201_jsonl)
    assert rc == 0
    assert "count: 15625  unique: 15625" in out
    assert "cifar10_test: n=15625" in out and "max=94.3733" in out


# ------------------------------------------------------------------------------------ enas, split, dedupe
@needs_data
def test_split_dvae_enas(capsys, tmp_path: Path, enas_jsonl: Path) -> None:
    train, test = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    rc, _, err = run(capsys, "data", "split", enas_jsonl, "--protocol", "dvae-enas",
                     "--train-out", train, "--test-out", test)
    assert rc == 0, err
    train_lines, test_lines = _lines(train), _lines(test)
    assert len(train_lines) == 17_118 + 1 and len(test_lines) == 1_902 + 1
    assert json.loads(train_lines[0])["count"] == 17_118
    assert json.loads(test_lines[0])["count"] == 1_902
    # D-VAE's order: lines[1000:] shuffled by Random(0), first 90% to train
    raw = ENAS_FILE.read_text().splitlines()[1000:]
    random.Random(0).shuffle(raw)
    first = json.loads(train_lines[1])
    assert first["arch"] == raw[0][:raw[0].rfind("]") + 1]
    last = json.loads(test_lines[-1])
    assert last["arch"] == raw[-1][:raw[-1].rfind("]") + 1]
    # deterministic: a second run writes the same files
    train2, test2 = tmp_path / "train2.jsonl", tmp_path / "test2.jsonl"
    assert main(["data", "split", str(enas_jsonl), "--protocol", "dvae-enas",
                 "--train-out", str(train2), "--test-out", str(test2)]) == 0
    assert train2.read_bytes() == train.read_bytes() and test2.read_bytes() == test.read_bytes()


@needs_data
def test_split_random(capsys, tmp_path: Path, nb201_jsonl: Path) -> None:
    train, test = tmp_path / "tr.jsonl", tmp_path / "te.jsonl"
    rc, _, _ = run(capsys, "data", "split", nb201_jsonl, "--test-fraction", "0.2", "--seed", "3",
                   "--train-out", train, "--test-out", test)
    assert rc == 0
    a, b = load_dataset(train), load_dataset(test)
    assert (len(a), len(b)) == (12_500, 3_125)
    assert not set(a.hashes) & set(b.hashes)


@needs_data
def test_dedupe(capsys, tmp_path: Path, enas_jsonl: Path) -> None:
    out = tmp_path / "dedup.jsonl"
    rc, _, err = run(capsys, "data", "dedupe", enas_jsonl, "-o", out)
    assert rc == 0
    assert "dropped 5 duplicates" in err
    assert err.count("duplicates row") == 5
    ds = load_dataset(out)
    assert len(ds) == ds.num_unique() == 20_015
    assert json.loads(_lines(out)[0])["count"] == 20_015


def test_import_dedupe_flag(capsys, tmp_path: Path) -> None:
    src = tmp_path / "dup.txt"
    src.write_text(f"{ENAS_ARCH}, 0.71\n{ENAS_ARCH}, 0.72\n")
    out = tmp_path / "dup.jsonl"
    rc, _, err = run(capsys, "data", "import", "--space", "enas", src, "-o", out, "--dedupe")
    assert rc == 0
    assert "imported 2 records (1 unique)" in err and "dropped 1 duplicates" in err
    ds = load_dataset(out)
    assert len(ds) == 1 and ds[0].metrics == {"valid_acc": 0.71}


# ------------------------------------------------------------------------------------ merge
@needs_data
def test_merge(capsys, tmp_path: Path, nb201_jsonl: Path) -> None:
    low = tmp_path / "12ep.jsonl"
    hw = tmp_path / "hw.jsonl"
    assert run(capsys, "data", "import", "--space", "nb201", "--prefix", "12ep_",
               NB201_DIR / "nb201_all_12ep.csv", "-o", low)[0] == 0
    assert run(capsys, "data", "import", "--space", "nb201", "--prefix", "hw_",
               NB201_DIR / "hw_cifar10.csv", "-o", hw)[0] == 0
    out = tmp_path / "merged.jsonl"
    rc, _, err = run(capsys, "data", "merge", nb201_jsonl, low, hw, "-o", out)
    assert rc == 0, err
    merged = load_dataset(out)
    assert len(merged) == 15_625
    assert "12ep_cifar10_test" in merged.metric_names and "hw_fpga_latency" in merged.metric_names
    stats = merged.stats()["metrics"]
    assert all(entry["count"] == 15_625 for entry in stats.values())
    assert len(merged.provenance) == 3

    inner = tmp_path / "inner.jsonl"
    small = tmp_path / "small.jsonl"
    assert run(capsys, "data", "sample", hw, "-n", "50", "--seed", "1", "-o", small)[0] == 0
    assert run(capsys, "data", "merge", nb201_jsonl, small, "--how", "inner", "-o", inner)[0] == 0
    assert len(load_dataset(inner)) == 50


@needs_data
def test_merge_clash_without_prefix(capsys, tmp_path: Path, nb201_jsonl: Path) -> None:
    low = tmp_path / "12ep_plain.jsonl"
    assert run(capsys, "data", "import", "--space", "nb201", NB201_DIR / "nb201_all_12ep.csv",
               "-o", low)[0] == 0
    out = tmp_path / "m.jsonl"
    rc, _, err = run(capsys, "data", "merge", nb201_jsonl, low, "-o", out)
    assert rc == 2
    assert err.startswith("graphvae-nas: error:")
    assert "cifar10_valid" in err or "cifar10_test" in err
    assert str(low) in err
    assert not out.exists()


# ------------------------------------------------------------------------------------ sample
def test_sample_distinct_and_deterministic(capsys, tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    for path, seed in ((a, 0), (b, 0), (c, 1)):
        rc, _, err = run(capsys, "data", "sample", "--space", "nb201", "-n", "10", "--seed", seed,
                         "-o", path)
        assert rc == 0, err
    ds = load_dataset(a)
    assert len(ds) == 10 and ds.num_unique() == 10
    assert a.read_bytes() == b.read_bytes()
    assert load_dataset(c).hashes != ds.hashes
    assert ds.metric_names == []
    assert ds.provenance == [{"sampled_from": {"name": "nb201"}, "seed": 0, "all": False}]


def test_sample_all_nb201(capsys, tmp_path: Path) -> None:
    out = tmp_path / "all.jsonl"
    rc, _, err = run(capsys, "data", "sample", "--space", "nb201", "--all", "-o", out)
    assert rc == 0, err
    assert "wrote 15625 records" in err
    lines = _lines(out)
    assert len(lines) == 15_626
    hashes = {json.loads(line)["hash"] for line in lines[1:]}
    assert len(hashes) == 15_625


def test_sample_other_spaces(capsys, tmp_path: Path) -> None:
    out = tmp_path / "enas.jsonl"
    assert run(capsys, "data", "sample", "--space", "enas", "-n", "5", "-o", out)[0] == 0
    assert len(load_dataset(out, space=get_space("enas"))) == 5
    out = tmp_path / "dag.jsonl"
    assert run(capsys, "data", "sample", "--space", "dag:ops=conv,pool;max_nodes=5", "-n", "7",
               "--seed", "2", "-o", out)[0] == 0
    ds = load_dataset(out)
    assert len(ds) == ds.num_unique() == 7
    assert ds.space.spec()["ops"] == ["conv", "pool"]
    rc, _, err = run(capsys, "data", "sample", "--space", "nb201", "-n", "20000", "-o", out)
    assert rc == 2 and "15625" in err


def test_sample_from_dataset(capsys, tmp_path: Path) -> None:
    full = tmp_path / "full.jsonl"
    assert run(capsys, "data", "sample", "--space", "enas", "-n", "30", "-o", full)[0] == 0
    part = tmp_path / "part.jsonl"
    assert run(capsys, "data", "sample", full, "-n", "12", "--seed", "4", "-o", part)[0] == 0
    sub = load_dataset(part)
    assert len(sub) == sub.num_unique() == 12
    assert set(sub.hashes) <= set(load_dataset(full).hashes)


# ------------------------------------------------------------------------------------ show
@needs_data
def test_show_best(capsys, nb201_jsonl: Path) -> None:
    rc, out, err = run(capsys, "data", "show", nb201_jsonl, "--best", "cifar10_test")
    assert rc == 0, err
    assert BEST_CELL in out
    assert "row: 6111" in out
    assert "cifar10_test = 94.3733" in out
    rc, out, _ = run(capsys, "data", "show", nb201_jsonl, "--best", "cifar10_valid", "--json")
    assert rc == 0
    record = json.loads(out)
    assert record["row"] == 6111 and record["arch"] == BEST_CELL
    assert record["metrics"]["cifar10_test"] == pytest.approx(94.3733)
    assert record["source"] == "nb201_cifar10_200ep.csv:6113"


@needs_data
def test_show_by_index_and_hash(capsys, nb201_jsonl: Path) -> None:
    rc, out, _ = run(capsys, "data", "show", nb201_jsonl, "--index", "6111", "--json")
    assert rc == 0
    record = json.loads(out)
    rc, out, _ = run(capsys, "data", "show", nb201_jsonl, "--hash", record["hash"], "--json")
    assert rc == 0 and json.loads(out)["row"] == 6111
    rc, out, _ = run(capsys, "data", "show", nb201_jsonl, "--index", "-1", "--json")
    assert rc == 0 and json.loads(out)["row"] == 15_624
    rc, _, err = run(capsys, "data", "show", nb201_jsonl, "--index", "15625")
    assert rc == 2 and "index" in err


def test_show_arch(capsys) -> None:
    rc, out, err = run(capsys, "data", "show", "--space", "enas", "--arch", ENAS_ARCH)
    assert rc == 0, err
    assert f"arch: {ENAS_ARCH}" in out
    arch = get_space("enas").parse(ENAS_ARCH)
    assert f"hash: {arch.canonical_hash}" in out
    rc, out, _ = run(capsys, "data", "show", "--space", "enas", "--arch", ENAS_ARCH, "--json")
    record = json.loads(out)
    assert record["ops"] == ["input", "sep_conv3x3", "avg_pool3x3", "max_pool3x3", "conv3x3",
                             "conv5x5", "sep_conv5x5", "output"]
    assert [tuple(e) for e in record["edges"]] == list(arch.edges)
    assert record["space"] == {"name": "enas", "num_layers": 6}


def test_show_png(capsys, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "arch.png"
    rc, out, err = run(capsys, "data", "show", "--space", "nb201", "--arch", BEST_CELL, "--png", png)
    assert rc == 0, err
    assert f"drawing: {png}" in out
    assert png.read_bytes()[:8] == PNG_MAGIC


def test_errors_exit_2(capsys, tmp_path: Path) -> None:
    rc, out, err = run(capsys, "data", "show", "--arch", ENAS_ARCH)
    assert rc == 2 and out == ""
    assert err.startswith("graphvae-nas: error:") and "--space" in err
    rc, _, err = run(capsys, "data", "show", "--space", "nb201", "--arch", "|bogus~0|")
    assert rc == 2 and err.startswith("graphvae-nas: error:")
    rc, _, err = run(capsys, "data", "sample", "--space", "nosuchspace", "-o", tmp_path / "x.jsonl")
    assert rc == 2 and "unknown search space 'nosuchspace'" in err
    rc, _, err = run(capsys, "data", "sample", "-o", tmp_path / "x.jsonl")
    assert rc == 2 and "--space" in err
    assert not (tmp_path / "x.jsonl").exists()


# ------------------------------------------------------------------------------------ console script
@pytest.mark.slow
@needs_data
def test_readme_pipeline_console_script(tmp_path: Path) -> None:
    """The README's quick tour, through the installed ``graphvae-nas`` console script."""
    exe = _console_script()
    if exe is None:
        pytest.skip("graphvae-nas console script not installed")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def cli(*args: object) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *map(str, args)], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)

    steps = [
        ("data", "import", "--space", "nb201", NB201_DIR / "nb201_cifar10_200ep.csv", "-o", "nb201_200ep.jsonl"),
        ("data", "import", "--space", "nb201", "--prefix", "12ep_", NB201_DIR / "nb201_all_12ep.csv",
         "-o", "nb201_12ep.jsonl"),
        ("data", "import", "--space", "nb201", "--prefix", "hw_", "--missing-value",
         "edgetpu_latency=-1", NB201_DIR / "hw_cifar10.csv", "-o", "nb201_hw.jsonl"),
        ("data", "merge", "nb201_200ep.jsonl", "nb201_12ep.jsonl", "nb201_hw.jsonl", "-o", "nb201.jsonl"),
        ("data", "import", "--space", "enas", ENAS_FILE, "-o", "enas.jsonl"),
        ("data", "split", "enas.jsonl", "--protocol", "dvae-enas", "--train-out", "train.jsonl",
         "--test-out", "test.jsonl"),
        ("data", "sample", "--space", "nb201", "--all", "-o", "nb201_all_cells.jsonl"),
    ]
    for step in steps:
        proc = cli(*step)
        assert proc.returncode == 0, (step, proc.stderr)

    proc = cli("data", "stats", "nb201.jsonl", "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["count"] == 15_625 and stats["unique"] == 15_625
    assert stats["metrics"]["cifar10_test"]["max"] == pytest.approx(94.3733, abs=1e-9)
    assert {"min", "mean"} <= set(stats["metrics"]["cifar10_test"])
    assert all(entry["count"] == 15_625 for name, entry in stats["metrics"].items()
               if name != "hw_edgetpu_latency")
    tpu = stats["metrics"]["hw_edgetpu_latency"]  # -1 means "not measured" in that table
    assert tpu["count"] == 15_625 - 4_699 and tpu["min"] > 0
    assert len(stats["metrics"]) == 3 + 6 + 10

    show = ["data", "show", "nb201.jsonl", "--best", "cifar10_test"]
    try:
        import matplotlib  # noqa: F401

        show += ["--png", "best.png"]
    except ImportError:
        pass
    proc = cli(*show)
    assert proc.returncode == 0, proc.stderr
    assert BEST_CELL in proc.stdout
    if "--png" in show:
        assert (tmp_path / "best.png").read_bytes()[:8] == PNG_MAGIC

    assert len(_lines(tmp_path / "train.jsonl")) == 17_119
    assert len(_lines(tmp_path / "test.jsonl")) == 1_903
    assert len(_lines(tmp_path / "nb201_all_cells.jsonl")) == 15_626

    proc = cli("data", "stats", "does_not_exist.jsonl")
    assert proc.returncode == 2
    assert proc.stderr.startswith("graphvae-nas: error:")
    assert "does_not_exist.jsonl" in proc.stderr and "Traceback" not in proc.stderr
