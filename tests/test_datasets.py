"""Tests for graphvae_nas.datasets: importers, the dataset type, merging, splits and the file format.

Tests on the real benchmark tables skip when ../shared/data is absent; each table is imported
once per session (fixtures in conftest.py).
"""
from __future__ import annotations

import ast
import csv
import gzip
import hashlib
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
from shared_data import BEST_CELL, BEST_INDEX, DATA, ENAS_FILE, NB201_DIR, needs_data

from graphvae_nas.datasets import (
    ArchitectureDataset,
    dvae_enas_split,
    load_dataset,
    merge_datasets,
    random_split,
    read_table,
    save_dataset,
)
from graphvae_nas.errors import ArchitectureError, DataFormatError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import get_space

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None



NB201 = get_space("nb201")
ENAS = get_space("enas")


# ------------------------------------------------------------------------------------ helpers
def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _naslib_tuple_of(cell: str) -> tuple[int, ...]:
    """The NASLib op-index tuple of an NB201 cell string, derived from data/README.md alone:
    edges in the order (0->1), (0->2), (0->3), (1->2), (1->3), (2->3); ops 0 skip_connect,
    1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3."""
    codes = {"skip_connect": 0, "none": 1, "nor_conv_3x3": 2, "nor_conv_1x1": 3, "avg_pool_3x3": 4}
    op_of = {}
    for target, group in enumerate(cell.split("+"), start=1):
        for token in group.strip("|").split("|"):
            op, source = token.split("~")
            op_of[(int(source), target)] = op
    order = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
    return tuple(codes[op_of[e]] for e in order)


def _enas_arch_part(line: str) -> str:
    """The architecture text of a D-VAE ENAS line (everything up to the last ']')."""
    text = line.strip()
    return text[:text.rfind("]") + 1]


def _small_enas_dataset(n: int = 12, seed: int = 3) -> ArchitectureDataset:
    rng = random.Random(seed)
    archs = [ENAS.sample(rng) for _ in range(n)]
    acc = [0.7 + 0.001 * i for i in range(n)]
    acc[2] = math.nan
    other = [float(i) if i % 3 else math.nan for i in range(n)]
    return ArchitectureDataset.from_architectures(
        ENAS, archs, {"acc": acc, "other": other}, [f"made.txt:{i + 1}" for i in range(n)],
        [{"file": "made.txt", "note": "hand-made"}])


def _assert_same_dataset(a: ArchitectureDataset, b: ArchitectureDataset) -> None:
    assert a.space.spec() == b.space.spec()
    assert len(a) == len(b)
    assert [a.native(i) for i in range(len(a))] == [b.native(i) for i in range(len(b))]
    assert a.hashes == b.hashes
    assert a.metric_names == b.metric_names
    for name in a.metric_names:
        np.testing.assert_array_equal(a.metric(name), b.metric(name))  # NaN == NaN here
        assert np.array_equal(np.isnan(a.metric(name)), np.isnan(b.metric(name)))
    assert a.sources == b.sources
    assert a.provenance == b.provenance


# ------------------------------------------------------------------------------------ NB201 tables
@needs_data
def test_nb201_200ep_table(nb201_200ep_report) -> None:
    report = nb201_200ep_report
    ds = report.dataset
    assert len(ds) == 15_625
    assert ds.num_unique() == 15_625
    assert report.ignored_columns == ["index"]
    assert report.skipped == []
    assert ds.metric_names == ["params_m", "cifar10_valid", "cifar10_test"]

    stats = ds.stats()
    assert stats["count"] == 15_625 and stats["unique"] == 15_625
    assert stats["space"] == {"name": "nb201"}
    test_acc = stats["metrics"]["cifar10_test"]
    assert test_acc["count"] == 15_625
    assert test_acc["max"] == pytest.approx(94.3733, abs=1e-9)
    assert test_acc["argmax"] == BEST_CELL
    valid_acc = stats["metrics"]["cifar10_valid"]
    assert valid_acc["max"] == pytest.approx(91.6067, abs=1e-9)
    assert valid_acc["argmax"] == BEST_CELL
    assert test_acc["min"] < test_acc["mean"] < test_acc["max"]

    # row order, sources and the best row are those of the file
    assert ds.native(BEST_INDEX) == BEST_CELL
    assert ds.sources[BEST_INDEX] == f"nb201_cifar10_200ep.csv:{BEST_INDEX + 2}"
    assert ds[BEST_INDEX].metrics["cifar10_test"] == pytest.approx(94.3733)


@needs_data
def test_nb201_200ep_rows_match_the_csv(nb201_200ep_report) -> None:
    ds = nb201_200ep_report.dataset
    rows = _csv_rows(NB201_DIR / "nb201_cifar10_200ep.csv")
    assert len(rows) == len(ds)
    assert [ds.native(i) for i in range(len(ds))] == [r["arch_str"] for r in rows]
    for col in ("params_m", "cifar10_valid", "cifar10_test"):
        np.testing.assert_array_equal(ds.metric(col), np.array([float(r[col]) for r in rows]))


@needs_data
def test_provenance_records_file_and_sha256(nb201_200ep_report, enas_report) -> None:
    sums = {}
    for line in (DATA / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    (prov,) = nb201_200ep_report.dataset.provenance
    assert prov["file"] == "nb201_cifar10_200ep.csv"
    assert prov["sha256"] == sums["nasbench201/nb201_cifar10_200ep.csv"]
    assert prov["sha256"] == hashlib.sha256((NB201_DIR / "nb201_cifar10_200ep.csv").read_bytes()).hexdigest()
    assert prov["arch_column"] == "arch_str"
    (prov,) = enas_report.dataset.provenance
    assert prov["file"] == "final_structures6.txt"
    assert prov["sha256"] == sums["enas/final_structures6.txt"]


@needs_data
def test_merge_200ep_12ep_and_hardware(nb201_200ep_report, nb201_12ep_report, nb201_hw_report) -> None:
    t200, t12, thw = nb201_200ep_report.dataset, nb201_12ep_report.dataset, nb201_hw_report.dataset
    assert len(t12) == len(thw) == 15_625
    assert nb201_hw_report.ignored_columns == []
    merged = merge_datasets([t200, t12, thw])
    assert len(merged) == 15_625
    assert merged.num_unique() == 15_625
    assert merged.metric_names == t200.metric_names + t12.metric_names + thw.metric_names
    assert all(name.startswith("12ep_") for name in t12.metric_names)
    assert all(name.startswith("hw_") for name in thw.metric_names)
    for name in merged.metric_names:
        assert not np.isnan(merged.metric(name)).any(), name
    # outer merge keeps the order of the first input
    assert [merged.native(i) for i in range(0, 15_625, 97)] == [t200.native(i) for i in range(0, 15_625, 97)]

    cell = NB201.parse(BEST_CELL)
    row = merged.index_by_hash()[cell.canonical_hash]
    assert merged.native(row) == BEST_CELL
    assert merged.metric("cifar10_test")[row] == pytest.approx(94.3733)

    raw12 = _csv_rows(NB201_DIR / "nb201_all_12ep.csv")[BEST_INDEX]
    assert raw12["index"] == str(BEST_INDEX) and raw12["arch_str"] == BEST_CELL
    for col, text in raw12.items():
        if col in ("index", "arch_str"):
            continue
        assert merged.metric("12ep_" + col)[row] == float(text), col

    net = NB201.to_naslib(cell)
    assert net == _naslib_tuple_of(BEST_CELL) == (2, 2, 0, 2, 2, 3)
    hw_rows = [r for r in _csv_rows(NB201_DIR / "hw_cifar10.csv") if ast.literal_eval(r["net"]) == net]
    assert len(hw_rows) == 1
    for col, text in hw_rows[0].items():
        if col == "net":
            continue
        assert merged.metric("hw_" + col)[row] == float(text), col

    # the merged row cites all three source lines
    sources = merged.sources[row].split(";")
    assert len(sources) == 3
    assert sources[0] == f"nb201_cifar10_200ep.csv:{BEST_INDEX + 2}"
    assert sources[1] == f"nb201_all_12ep.csv:{BEST_INDEX + 2}"
    assert sources[2].startswith("hw_cifar10.csv:")
    assert len(merged.provenance) == 3


@needs_data
def test_naslib_tuples_agree_with_cell_strings(nb201_zc_report) -> None:
    """nb201_zc_proxies.csv holds both the NASLib tuple and the cell string of each row."""
    rows = _csv_rows(NB201_DIR / "nb201_zc_proxies.csv")
    assert len(rows) == 9_445
    for r in rows[:: 7]:
        net = ast.literal_eval(r["net"])
        assert _naslib_tuple_of(r["net_str"]) == net
        cell = NB201.parse_naslib(r["net"])
        assert NB201.format(cell) == r["net_str"]
        assert NB201.to_naslib(NB201.parse(r["net_str"])) == net
    ds = nb201_zc_report.dataset
    assert nb201_zc_report.ignored_columns == ["net"]
    assert [ds.native(i) for i in range(len(ds))] == [r["net_str"] for r in rows]


@needs_data
def test_merge_zero_cost_outer_and_inner(nb201_200ep_report, nb201_zc_report) -> None:
    t200, zc = nb201_200ep_report.dataset, nb201_zc_report.dataset
    assert len(zc) == zc.num_unique() == 9_445
    zc_names = zc.metric_names
    with open(NB201_DIR / "nb201_zc_proxies.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert zc_names == ["zc_" + h for h in header if h not in ("net", "net_str")]
    assert "zc_synflow" in zc_names and "zc_flops" in zc_names and "zc_params" in zc_names

    outer = merge_datasets([t200, zc], how="outer")
    assert len(outer) == 15_625
    for name in zc_names:
        assert int((~np.isnan(outer.metric(name))).sum()) == 9_445, name
    for name in t200.metric_names:
        assert not np.isnan(outer.metric(name)).any()
    assert outer.stats()["metrics"]["zc_synflow"]["count"] == 9_445

    inner = merge_datasets([t200, zc], how="inner")
    assert len(inner) == 9_445
    for name in inner.metric_names:
        assert not np.isnan(inner.metric(name)).any(), name
    assert set(inner.hashes) == set(zc.hashes)

    # a zc value lands on the right cell
    r0 = _csv_rows(NB201_DIR / "nb201_zc_proxies.csv")[0]
    row = outer.index_by_hash()[NB201.parse(r0["net_str"]).canonical_hash]
    assert outer.metric("zc_synflow")[row] == float(r0["synflow"])


@needs_data
def test_merge_without_prefix_names_the_clashing_metric(nb201_200ep_report, benchmark_data_dir) -> None:
    plain_12ep = read_table(NB201_DIR / "nb201_all_12ep.csv", NB201).dataset
    with pytest.raises(DataFormatError) as info:
        merge_datasets([nb201_200ep_report.dataset, plain_12ep], names=["a200.jsonl", "b12.jsonl"])
    exc = info.value
    assert exc.field in ("cifar10_valid", "cifar10_test")
    message = str(exc)
    assert repr(exc.field) in message
    assert "a200.jsonl" in message and "b12.jsonl" in message
    assert "prefix" in message


@needs_data
def test_merge_with_itself_is_consistent(nb201_200ep_report) -> None:
    ds = nb201_200ep_report.dataset
    merged = merge_datasets([ds, ds.subset(range(100, 200))])
    assert len(merged) == len(ds)
    np.testing.assert_array_equal(merged.metric("cifar10_test"), ds.metric("cifar10_test"))


# ------------------------------------------------------------------------------------ ENAS
@needs_data
def test_read_dvae_enas(enas_report) -> None:
    ds = enas_report.dataset
    assert enas_report.skipped == []
    assert len(ds) == 20_020
    assert ds.num_unique() == 20_015
    assert ds.metric_names == ["valid_acc"]
    acc = ds.metric("valid_acc")
    assert acc.min() == pytest.approx(0.702) and acc.max() == pytest.approx(0.7502)
    lines = ENAS_FILE.read_text().splitlines()
    assert len(lines) == 20_020
    arch_parts = [_enas_arch_part(line) for line in lines]
    assert len(set(arch_parts)) == 20_015
    assert [ds.native(i) for i in range(len(ds))] == arch_parts
    assert ds.sources[0] == "final_structures6.txt:1" and ds.sources[-1] == "final_structures6.txt:20020"
    assert acc[0] == float(lines[0].rsplit(",", 1)[1])


@needs_data
def test_enas_dedupe(enas_report) -> None:
    ds = enas_report.dataset
    deduped, dropped = ds.dedupe()
    assert len(dropped) == 5
    assert len(deduped) == deduped.num_unique() == 20_015
    hashes = ds.hashes
    for row, kept in dropped:
        assert kept < row
        assert hashes[row] == hashes[kept]
        assert hashes[kept] not in {hashes[i] for i in range(kept)}  # kept is the first occurrence
    assert len(ds) == 20_020  # dedupe does not change the input


@needs_data
def test_dvae_enas_split_reproduces_dvae(enas_report) -> None:
    ds = enas_report.dataset
    train, test = dvae_enas_split(ds)
    assert (len(train), len(test)) == (17_118, 1_902)

    # D-VAE's protocol, computed here independently of the library
    lines = ENAS_FILE.read_text().splitlines()[1000:]
    random.Random(0).shuffle(lines)
    cut = int(len(lines) * 0.9)
    assert [train.native(i) for i in range(len(train))] == [_enas_arch_part(x) for x in lines[:cut]]
    assert [test.native(i) for i in range(len(test))] == [_enas_arch_part(x) for x in lines[cut:]]
    np.testing.assert_array_equal(train.metric("valid_acc"),
                                  [float(x.rsplit(",", 1)[1]) for x in lines[:cut]])

    # deterministic, disjoint, and the burn-in lines are in neither part
    train2, test2 = dvae_enas_split(ds)
    assert train2.sources == train.sources and test2.sources == test.sources
    used = set(train.sources) | set(test.sources)
    assert len(used) == 19_020 and not set(train.sources) & set(test.sources)
    assert "final_structures6.txt:1000" not in used and "final_structures6.txt:1001" in used


def test_dvae_enas_split_rejects_other_spaces() -> None:
    ds = ArchitectureDataset.from_architectures(NB201, list(NB201.enumerate())[:1200])
    with pytest.raises(DataFormatError, match="enas"):
        dvae_enas_split(ds)


# ------------------------------------------------------------------------------------ file format
@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_save_load_round_trip_small(tmp_path: Path, suffix: str) -> None:
    ds = _small_enas_dataset()
    path = tmp_path / ("small" + suffix)
    save_dataset(ds, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left
    raw = path.read_bytes()
    if suffix.endswith(".gz"):
        assert raw[:2] == b"\x1f\x8b"
        raw = gzip.decompress(raw)
    lines = raw.decode("utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "graphvae_nas.dataset" and header["version"] == 1
    assert header["count"] == len(ds) == len(lines) - 1
    assert header["space"] == {"name": "enas", "num_layers": 6}
    assert header["metrics"] == ["acc", "other"]
    record2 = json.loads(lines[3])  # row 2: acc is NaN -> absent
    assert "acc" not in record2["metrics"] and record2["source"] == "made.txt:3"
    assert record2["arch"] == ds.native(2) and record2["hash"] == ds.hashes[2]

    loaded = load_dataset(path)
    _assert_same_dataset(ds, loaded)
    assert np.isnan(loaded.metric("acc")[2])
    assert "acc" not in loaded[2].metrics
    _assert_same_dataset(ds, load_dataset(path, space=get_space("enas:num_layers=6")))
    _assert_same_dataset(ds, load_dataset(str(path), verify=False))


@needs_data
@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_save_load_round_trip_real_merge(tmp_path: Path, suffix: str, nb201_200ep_report,
                                         nb201_zc_report) -> None:
    merged = merge_datasets([nb201_200ep_report.dataset, nb201_zc_report.dataset])
    part = merged.subset(range(0, len(merged), 5))  # keeps NaN zc values
    assert np.isnan(part.metric("zc_synflow")).any()
    path = tmp_path / ("nb201" + suffix)
    save_dataset(part, path)
    loaded = load_dataset(path)
    _assert_same_dataset(part, loaded)
    unverified = load_dataset(path, verify=False)
    _assert_same_dataset(part, unverified)


def test_save_overwrites_atomically(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    save_dataset(_small_enas_dataset(5), path)
    save_dataset(_small_enas_dataset(7, seed=9), path)
    assert len(load_dataset(path)) == 7
    assert [p.name for p in tmp_path.iterdir()] == ["d.jsonl"]


def test_generic_space_round_trip(tmp_path: Path) -> None:
    space = get_space("dag:ops=conv,pool;max_nodes=6")
    archs = []
    rng = random.Random(1)
    while len(archs) < 10:
        a = space.sample(rng)
        if a.canonical_hash not in {x.canonical_hash for x in archs}:
            archs.append(a)
    ds = ArchitectureDataset.from_architectures(space, archs, {"score": list(range(10))})
    path = tmp_path / "dag.jsonl"
    save_dataset(ds, path)
    loaded = load_dataset(path)
    assert loaded.space.spec() == space.spec()
    _assert_same_dataset(ds, loaded)


# ------------------------------------------------------------------------------------ splits, views
def test_random_split_deterministic_and_disjoint() -> None:
    ds = ArchitectureDataset.from_architectures(NB201, list(NB201.enumerate())[:500],
                                                {"v": np.arange(500, dtype=float)})
    train, test = random_split(ds, test_fraction=0.2, seed=5)
    assert (len(train), len(test)) == (400, 100)
    train2, test2 = random_split(ds, test_fraction=0.2, seed=5)
    assert train.hashes == train2.hashes and test.hashes == test2.hashes
    assert not set(train.hashes) & set(test.hashes)
    assert set(train.hashes) | set(test.hashes) == set(ds.hashes)
    # metrics follow their rows
    index = ds.index_by_hash()
    assert [index[h] for h in test.hashes] == test.metric("v").astype(int).tolist()
    other, _ = random_split(ds, test_fraction=0.2, seed=6)
    assert other.hashes != train.hashes
    # the order is Random(seed).shuffle of the row numbers
    order = list(range(500))
    random.Random(5).shuffle(order)
    assert train.metric("v").astype(int).tolist() == order[:400]

    skipped_train, skipped_test = random_split(ds, test_fraction=0.1, seed=0, skip_first=100)
    assert len(skipped_train) + len(skipped_test) == 400
    assert min(skipped_train.metric("v").min(), skipped_test.metric("v").min()) >= 100

    with pytest.raises(ValueError):
        random_split(ds, test_fraction=1.0)
    with pytest.raises(DataFormatError):
        random_split(ds, skip_first=499)


def test_subset_and_with_prefix() -> None:
    ds = _small_enas_dataset()
    sub = ds.subset([5, 1, 3])
    assert len(sub) == 3
    assert [sub.native(i) for i in range(3)] == [ds.native(5), ds.native(1), ds.native(3)]
    np.testing.assert_array_equal(sub.metric("acc"), ds.metric("acc")[[5, 1, 3]])
    assert sub.sources == ["made.txt:6", "made.txt:2", "made.txt:4"]
    assert sub.provenance == ds.provenance

    pre = ds.with_prefix("x_")
    assert pre.metric_names == ["x_acc", "x_other"]
    np.testing.assert_array_equal(pre.metric("x_acc"), ds.metric("acc"))
    assert ds.metric_names == ["acc", "other"]  # original unchanged
    assert pre.hashes == ds.hashes
    with pytest.raises(DataFormatError, match="acc"):
        pre.metric("acc")


def test_stats_on_hand_made_dataset() -> None:
    cells = list(NB201.enumerate())[:3]
    archs = [cells[0], cells[1], cells[2], cells[1]]  # one duplicate
    ds = ArchitectureDataset.from_architectures(
        NB201, archs, {"a": [1.0, 5.0, 3.0, math.nan], "b": [math.nan] * 4, "c": [-2.0, -1.0, -4.0, -3.0]})
    stats = ds.stats()
    assert stats["count"] == 4
    assert stats["unique"] == 3
    a = stats["metrics"]["a"]
    assert a["count"] == 3
    assert a["min"] == 1.0 and a["max"] == 5.0 and a["mean"] == pytest.approx(3.0)
    assert a["std"] == pytest.approx(np.std([1.0, 5.0, 3.0]))
    assert a["argmax"] == NB201.format(cells[1])
    assert stats["metrics"]["b"] == {"count": 0}
    c = stats["metrics"]["c"]
    assert c["count"] == 4 and c["max"] == -1.0 and c["min"] == -4.0
    assert c["mean"] == pytest.approx(-2.5)
    assert c["argmax"] == NB201.format(cells[1])
    json.dumps(stats)  # JSON-serialisable

    deduped, dropped = ds.dedupe()
    assert dropped == [(3, 1)]
    assert len(deduped) == 3


def test_records_and_index_by_hash() -> None:
    ds = _small_enas_dataset()
    rec = ds[2]
    assert rec.native == ds.native(2)
    assert rec.hash == rec.arch.canonical_hash == ds.hashes[2]
    assert "acc" not in rec.metrics and "other" in rec.metrics
    assert rec.source == "made.txt:3"
    assert len(list(ds)) == len(ds)
    index = ds.index_by_hash()
    assert all(index[h] == i for i, h in enumerate(ds.hashes))


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_to_pyg_matches_vocabulary() -> None:
    for space, archs in ((NB201, list(NB201.enumerate())[::301]),
                         (ENAS, [ENAS.sample(random.Random(i)) for i in range(40)])):
        ds = ArchitectureDataset.from_architectures(space, archs)
        data = ds.to_pyg()
        assert len(data) == len(ds)
        vocab = list(space.vocabulary)
        for arch, d in zip(ds.archs, data):
            assert tuple(d.x.shape) == (arch.num_nodes, len(vocab))
            assert d.x.argmax(-1).tolist() == [vocab.index(op) for op in arch.ops]
            assert sorted(map(tuple, d.edge_index.t().tolist())) == list(arch.edges)
            assert d.level.tolist() == arch.levels()


# ------------------------------------------------------------------------------------ construction
def test_from_architectures_validates() -> None:
    good = NB201.parse(BEST_CELL)
    ds = ArchitectureDataset.from_architectures(NB201, [good], {"m": [1.0]}, ["x:1"])
    assert ds.native(0) == BEST_CELL and ds.sources == ["x:1"]

    enas_arch = ENAS.sample(0)
    with pytest.raises(ArchitectureError, match="architecture 1"):
        ArchitectureDataset.from_architectures(NB201, [good, enas_arch])
    # a 8-node DAG of the right size but the wrong ops/shape
    bogus = Architecture(["input", "none", "none", "none", "none", "none", "none", "output"],
                         [(i, i + 1) for i in range(7)])
    with pytest.raises(ArchitectureError, match="nb201"):
        ArchitectureDataset.from_architectures(NB201, [bogus])
    with pytest.raises(ValueError):
        ArchitectureDataset.from_architectures(NB201, [good], {"m": [1.0, 2.0]})
    with pytest.raises(ValueError):
        ArchitectureDataset.from_architectures(NB201, [good], sources=["a", "b"])
