"""Bad input: every error names the file, the line (or field) and the reason; the command line
exits with status 2 and ``graphvae-nas: error: ...`` on stderr.
"""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from cli_run import run

from graphvae_nas.datasets import (
    ArchitectureDataset,
    load_dataset,
    merge_datasets,
    read_dvae_enas,
    read_table,
    save_dataset,
)
from graphvae_nas.errors import ArchitectureError, DataFormatError, GraphVAENASError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces import get_space


NB201 = get_space("nb201")
ENAS = get_space("enas")
CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
CELL2 = "|none~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"
GOOD_ENAS = [
    "[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 0.7302",
    "[[5], [3, 1], [2, 1, 1], [3, 1, 1, 0], [5, 0, 0, 0, 1], [2, 0, 1, 1, 1, 0]], 0.7234",
    "[[1], [1, 1], [5, 1, 0], [4, 1, 0, 0], [4, 0, 1, 1, 1], [2, 1, 0, 1, 0, 1]], 0.7278",
]
ROWS = "[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]]"


def assert_cli_error(capsys, args, *fragments: str) -> str:
    """Run the CLI, expect exit status 2, one error line naming every fragment; return stderr."""
    rc, out, err = run(capsys, *args)
    assert rc == 2, (rc, out, err)
    assert err.startswith("graphvae-nas: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_dataset(tmp_path: Path, name: str = "d.jsonl", n: int = 4) -> tuple[Path, ArchitectureDataset]:
    cells = list(NB201.enumerate())[100:100 + n]
    ds = ArchitectureDataset.from_architectures(NB201, cells, {"acc": [float(i) for i in range(n)]},
                                                [f"src:{i}" for i in range(n)])
    path = tmp_path / name
    save_dataset(ds, path)
    return path, ds


# ------------------------------------------------------------------------------------ ENAS text
ENAS_BAD_LINES = [
    # (bad third line, field, fragment of the reason)
    (ROWS, None, "expected '[[op0], [op1, b0], ...], score'"),
    (ROWS + ", abc", "score", "'abc' is not a number"),
    (ROWS + ",", "score", "is not a number"),
    ("[[7], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 0.7", "arch",
     "op index 7 outside 0..5"),
    ("[[1], [4, 0, 1], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 0.7", "arch",
     "layer 1 must be [op, 1 skip bits]"),
    ("[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1]], 0.7", "arch", "expected 6 layers, got 5"),
    ("[[1], [4, 2], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 0.7", "arch",
     "skip bit 0 is 2"),
    ("[[1], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1], 0.7", "arch",
     "malformed architecture"),
    ("hello, 0.7", None, "expected '[[op0]"),
]


@pytest.mark.parametrize("bad, field, reason", ENAS_BAD_LINES)
def test_enas_bad_line(capsys, tmp_path: Path, bad: str, field: str | None, reason: str) -> None:
    path = write(tmp_path / "enas.txt", "\n".join(GOOD_ENAS[:2] + [bad] + GOOD_ENAS[2:]) + "\n")
    with pytest.raises(DataFormatError) as info:
        read_dvae_enas(path)
    exc = info.value
    assert (exc.path, exc.line, exc.field) == (str(path), 3, field)
    assert reason in exc.reason
    expected = [f"{path}:3", reason, "--skip-bad"]
    if field:
        expected.append(f"(field {field!r})")
    assert_cli_error(capsys, ["data", "import", "--space", "enas", path, "-o", tmp_path / "o.jsonl"], *expected)
    assert not (tmp_path / "o.jsonl").exists()


def test_enas_skip_bad(capsys, tmp_path: Path) -> None:
    lines = [GOOD_ENAS[0], ROWS + ", abc", GOOD_ENAS[1], "", ROWS, GOOD_ENAS[2],
             "[[9], [4, 0], [5, 0, 0], [0, 1, 1, 1], [2, 1, 1, 1, 1], [3, 0, 0, 0, 0, 1]], 0.7"]
    path = write(tmp_path / "enas.txt", "\n".join(lines) + "\n")
    report = read_dvae_enas(path, skip_bad=True)
    assert len(report.dataset) == 3
    assert [s.line for s in report.skipped] == [2, 5, 7]
    assert report.dataset.sources == ["enas.txt:1", "enas.txt:3", "enas.txt:6"]
    assert "score" in report.skipped[0].reason and "outside 0..5" in report.skipped[2].reason

    out = tmp_path / "o.jsonl"
    rc, _, err = run(capsys, "data", "import", "--space", "enas", path, "-o", out, "--skip-bad")
    assert rc == 0, err
    assert "imported 3 records" in err
    assert "skipped 3" in err
    assert "skipped line 2:" in err and "'abc' is not a number" in err
    assert "skipped line 5:" in err and "expected '[[op0]" in err
    assert "skipped line 7:" in err and "op index 9 outside 0..5" in err
    assert len(load_dataset(out)) == 3


def test_enas_all_lines_bad(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "enas.txt", ROWS + "\n" + ROWS + ", x\n")
    assert_cli_error(capsys, ["data", "import", "--space", "enas", path, "-o", tmp_path / "o.jsonl",
                              "--skip-bad"], str(path), "no architectures")


def test_enas_text_needs_enas_space(tmp_path: Path) -> None:
    path = write(tmp_path / "enas.txt", GOOD_ENAS[0] + "\n")
    with pytest.raises(DataFormatError, match="enas space"):
        read_dvae_enas(path, NB201)
    with pytest.raises(DataFormatError, match="expected 12 layers"):
        read_dvae_enas(path, get_space("enas:num_layers=12"))


# ------------------------------------------------------------------------------------ CSV tables
def test_csv_unknown_op(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", f"arch_str,acc\n{CELL},1.0\n{CELL.replace('nor_conv_1x1', 'conv9x9')},2.0\n")
    with pytest.raises(DataFormatError) as info:
        read_table(path, NB201)
    assert (info.value.line, info.value.field) == (3, "arch_str")
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"],
                     f"{path}:3", "(field 'arch_str')", "unknown op 'conv9x9'")


def test_csv_bad_naslib_tuple(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "hw.csv", 'net,lat\n"(2, 2, 0, 2, 2, 3)",1.5\n"(2, 2, 0, 2, 2, 7)",1.0\n')
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"],
                     f"{path}:3", "(field 'net')", "op index 7")


def test_csv_skip_bad(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv",
                 f"arch_str,acc\n{CELL},1.0\n|bogus~0|,2.0\n{CELL2},x\n{CELL2},3.0,4.0\n{CELL2},5.0\n")
    report = read_table(path, NB201, skip_bad=True)
    assert len(report.dataset) == 2
    assert [s.line for s in report.skipped] == [3, 4, 5]
    out = tmp_path / "o.jsonl"
    rc, _, err = run(capsys, "data", "import", "--space", "nb201", path, "-o", out, "--skip-bad")
    assert rc == 0
    assert "skipped 3" in err
    assert "skipped line 3: field 'arch_str'" in err
    assert "skipped line 4: field 'acc': value 'x' is not a number" in err
    assert "skipped line 5: expected 2 columns, got 3" in err
    assert load_dataset(out).metric("acc").tolist() == [1.0, 5.0]


def test_csv_without_architecture_column(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", f"cell,acc\n{CELL},1.0\n")
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"],
                     f"{path}:1", "no architecture column", "'cell'", "'acc'", "--arch-column")
    # naming the column works; naming a missing one is an error naming it
    out = tmp_path / "o.jsonl"
    assert run(capsys, "data", "import", "--space", "nb201", path, "-o", out, "--arch-column", "cell")[0] == 0
    assert load_dataset(out).native(0) == CELL
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", out, "--arch-column", "arch"],
                     f"{path}:1", "(field 'arch')", "not found", "'cell'")


def test_csv_missing_metric_column(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", f"arch_str,acc,loss\n{CELL},1.0,0.5\n")
    with pytest.raises(DataFormatError) as info:
        read_table(path, NB201, metrics=["acc", "nope"])
    assert info.value.field == "nope"
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl",
                              "--metrics", "acc,nope"], f"{path}:1", "'nope'", "not found", "'loss'")
    out = tmp_path / "ok.jsonl"
    assert run(capsys, "data", "import", "--space", "nb201", path, "-o", out, "--metrics", "loss")[0] == 0
    assert load_dataset(out).metric_names == ["loss"]


def test_csv_non_numeric_metric(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", f"arch_str,acc,loss\n{CELL},1.0,0.5\n{CELL2},high,0.1\n")
    with pytest.raises(DataFormatError) as info:
        read_table(path, NB201)
    assert (info.value.line, info.value.field) == (3, "acc")
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"],
                     f"{path}:3", "(field 'acc')", "'high' is not a number")


def test_csv_empty_cell_is_missing(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", f"arch_str,acc\n{CELL},\n{CELL2},2.0\n")
    ds = read_table(path, NB201).dataset
    assert math.isnan(ds.metric("acc")[0]) and ds.metric("acc")[1] == 2.0


def test_csv_wrong_column_count_and_duplicates(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", f"arch_str,acc\n{CELL},1.0,7\n")
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"],
                     f"{path}:2", "expected 2 columns, got 3")
    path = write(tmp_path / "d.csv", f"arch_str,acc,acc\n{CELL},1.0,2.0\n")
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"],
                     f"{path}:1", "duplicate column names", "'acc'")


def test_csv_header_only(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "arch_str,acc\n")
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"],
                     str(path), "no data rows")


@pytest.mark.parametrize("space, name", [("nb201", "empty.csv"), ("enas", "empty.txt")])
def test_empty_file(capsys, tmp_path: Path, space: str, name: str) -> None:
    path = write(tmp_path / name, "")
    assert_cli_error(capsys, ["data", "import", "--space", space, path, "-o", tmp_path / "o.jsonl"],
                     str(path), "empty")
    assert_cli_error(capsys, ["data", "stats", path], str(path), "empty")


def test_missing_file(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataFormatError, match="no such file"):
        read_table(missing, NB201)
    with pytest.raises(DataFormatError, match="no such file"):
        read_dvae_enas(tmp_path / "nope.txt")
    with pytest.raises(DataFormatError, match="no such file"):
        load_dataset(tmp_path / "nope.jsonl")
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", missing, "-o", tmp_path / "o.jsonl"],
                     str(missing), "no such file")
    assert_cli_error(capsys, ["data", "stats", tmp_path / "nope.jsonl"], "nope.jsonl", "no such file")
    assert_cli_error(capsys, ["data", "merge", tmp_path / "nope.jsonl", "-o", tmp_path / "m.jsonl"],
                     "nope.jsonl", "no such file")


def test_unknown_format_and_space(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "cells.txt", CELL + "\n")
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"],
                     str(path), "--format")
    assert_cli_error(capsys, ["data", "import", "--space", "nb999", path, "-o", tmp_path / "o.jsonl"],
                     "unknown search space 'nb999'")


# ------------------------------------------------------------------------------------ architectures
def test_cyclic_graph_in_generic_space() -> None:
    space = get_space("dag:ops=a,b;max_nodes=6")
    ops = ["input", "a", "b", "output"]
    edges = [[0, 1], [1, 2], [2, 1], [2, 3]]
    with pytest.raises(ArchitectureError, match="cycle"):
        Architecture.from_edges(ops, edges)
    text = json.dumps({"ops": ops, "edges": edges})
    with pytest.raises(ArchitectureError, match="cycle"):
        Architecture.from_json(text)
    with pytest.raises(ArchitectureError, match="cycle"):
        space.parse(text)
    with pytest.raises(ArchitectureError, match="cycle"):
        Architecture.from_edges(ops, [[0, 1], [1, 1], [1, 3]])  # self-loop


def test_oversized_graph_in_generic_space(capsys) -> None:
    space = get_space("dag:ops=a;max_nodes=4")
    big = Architecture(["input", "a", "a", "a", "output"], [(0, 1), (1, 2), (2, 3), (3, 4)])
    with pytest.raises(ArchitectureError, match="too many nodes"):
        space.validate(big)
    assert not space.is_valid(big)
    with pytest.raises(ArchitectureError, match="too many nodes"):
        space.parse(big.to_json())
    with pytest.raises(ArchitectureError, match="too many nodes"):
        ArchitectureDataset.from_architectures(space, [big])
    assert_cli_error(capsys, ["data", "show", "--space", "dag:ops=a;max_nodes=4", "--arch", big.to_json()],
                     "too many nodes")
    ok = Architecture(["input", "a", "a", "output"], [(0, 1), (1, 2), (2, 3)])
    space.validate(ok)
    with pytest.raises(ArchitectureError, match="unknown op 'z'"):
        space.validate(Architecture(["input", "z", "output"], [(0, 1), (1, 2)]))


# ------------------------------------------------------------------------------------ dataset files
def _rewrite_line(path: Path, line_no: int, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line_no - 1] = edit(lines[line_no - 1])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_tampered_hash(capsys, tmp_path: Path) -> None:
    path, ds = write_dataset(tmp_path)

    def tamper(line: str) -> str:
        record = json.loads(line)
        record["hash"] = "0" * 32
        return json.dumps(record)

    _rewrite_line(path, 3, tamper)
    with pytest.raises(DataFormatError) as info:
        load_dataset(path)
    assert (info.value.path, info.value.line, info.value.field) == (str(path), 3, "hash")
    assert ds.hashes[1] in str(info.value)
    assert_cli_error(capsys, ["data", "stats", path], f"{path}:3", "(field 'hash')", "does not match")
    # verify=False trusts the stored hash
    assert load_dataset(path, verify=False).hashes[1] == "0" * 32


def test_edited_architecture_no_longer_matches_hash(capsys, tmp_path: Path) -> None:
    path, _ = write_dataset(tmp_path)

    def edit(line: str) -> str:
        record = json.loads(line)
        record["arch"] = CELL
        return json.dumps(record)

    _rewrite_line(path, 2, edit)
    assert_cli_error(capsys, ["data", "stats", path], f"{path}:2", "(field 'hash')")


def test_truncated_dataset(capsys, tmp_path: Path) -> None:
    path, _ = write_dataset(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="truncated"):
        load_dataset(path)
    assert_cli_error(capsys, ["data", "stats", path], str(path), "header says 4 records", "3")

    gz_path, _ = write_dataset(tmp_path, "d.jsonl.gz", n=300)
    data = gz_path.read_bytes()
    gz_path.write_bytes(data[: len(data) // 2])
    assert_cli_error(capsys, ["data", "stats", gz_path], str(gz_path), "cannot read")


def test_truncated_record_line(capsys, tmp_path: Path) -> None:
    path, _ = write_dataset(tmp_path)
    _rewrite_line(path, 4, lambda line: line[: len(line) // 2])
    assert_cli_error(capsys, ["data", "stats", path], f"{path}:4", "invalid JSON")


def test_non_dataset_json(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "config.json", json.dumps({"lr": 0.1, "epochs": 3}) + "\n")
    with pytest.raises(DataFormatError, match="not a graphvae_nas dataset"):
        load_dataset(path)
    assert_cli_error(capsys, ["data", "stats", path], f"{path}:1", "not a graphvae_nas dataset",
                     "data import")
    listing = write(tmp_path / "list.json", "[1, 2, 3]\n")
    assert_cli_error(capsys, ["data", "stats", listing], f"{listing}:1", "not a graphvae_nas dataset")
    pretty = write(tmp_path / "pretty.json", json.dumps({"a": 1}, indent=2) + "\n")
    assert_cli_error(capsys, ["data", "stats", pretty], f"{pretty}:1")
    csv_file = write(tmp_path / "t.csv", f"arch_str,acc\n{CELL},1\n")
    assert_cli_error(capsys, ["data", "stats", csv_file], f"{csv_file}:1", "invalid JSON")


def test_bad_header_fields(capsys, tmp_path: Path) -> None:
    path, _ = write_dataset(tmp_path)

    def header_edit(**changes):
        def edit(line: str) -> str:
            header = json.loads(line)
            header.update(changes)
            return json.dumps(header)
        return edit

    _rewrite_line(path, 1, header_edit(version=99))
    assert_cli_error(capsys, ["data", "stats", path], f"{path}:1", "(field 'version')", "99")
    path, _ = write_dataset(tmp_path)
    _rewrite_line(path, 1, header_edit(space={"name": "nb999"}))
    assert_cli_error(capsys, ["data", "stats", path], f"{path}:1", "(field 'space')", "nb999")


def test_bad_record_fields(capsys, tmp_path: Path) -> None:
    def record_edit(**changes):
        def edit(line: str) -> str:
            record = json.loads(line)
            record.update(changes)
            return json.dumps(record)
        return edit

    path, _ = write_dataset(tmp_path)
    _rewrite_line(path, 3, record_edit(metrics={"acc": "high"}))
    assert_cli_error(capsys, ["data", "stats", path], f"{path}:3", "(field 'acc')", "not a number")
    path, _ = write_dataset(tmp_path)
    _rewrite_line(path, 3, record_edit(metrics={"undeclared": 1.0}))
    assert_cli_error(capsys, ["data", "stats", path], f"{path}:3", "(field 'undeclared')", "not declared")
    path, _ = write_dataset(tmp_path)
    _rewrite_line(path, 2, record_edit(arch="|bogus~0|"))
    assert_cli_error(capsys, ["data", "stats", path], f"{path}:2", "(field 'arch')")
    path, _ = write_dataset(tmp_path)
    _rewrite_line(path, 2, lambda line: json.dumps({"metrics": {}}))
    assert_cli_error(capsys, ["data", "stats", path], f"{path}:2", "'arch' and 'hash'")


def test_load_with_other_space(capsys, tmp_path: Path) -> None:
    path, _ = write_dataset(tmp_path)
    with pytest.raises(DataFormatError) as info:
        load_dataset(path, space=ENAS)
    exc = info.value
    assert exc.field == "space" and exc.line == 1
    assert "nb201" in str(exc) and "enas" in str(exc)
    enas_path = tmp_path / "e.jsonl"
    save_dataset(ArchitectureDataset.from_architectures(ENAS, [ENAS.sample(0)]), enas_path)
    with pytest.raises(DataFormatError, match="num_layers"):
        load_dataset(enas_path, space=get_space("enas:num_layers=12"))


def test_merge_across_spaces(capsys, tmp_path: Path) -> None:
    nb_path, nb = write_dataset(tmp_path)
    enas = ArchitectureDataset.from_architectures(ENAS, [ENAS.sample(random.Random(i)) for i in range(3)])
    enas_path = tmp_path / "enas.jsonl"
    save_dataset(enas, enas_path)
    with pytest.raises(DataFormatError, match="differs"):
        merge_datasets([nb, enas])
    out = tmp_path / "m.jsonl"
    assert_cli_error(capsys, ["data", "merge", nb_path, enas_path, "-o", out], str(enas_path), "enas", "nb201")
    assert not out.exists()


def test_merge_needs_unique_inputs(capsys, tmp_path: Path) -> None:
    cells = list(NB201.enumerate())[:3]
    dup = ArchitectureDataset.from_architectures(NB201, [cells[0], cells[1], cells[0]])
    path = tmp_path / "dup.jsonl"
    save_dataset(dup, path)
    other, _ = write_dataset(tmp_path)
    assert_cli_error(capsys, ["data", "merge", path, other, "-o", tmp_path / "m.jsonl"],
                     str(path), "1 duplicate", "dedupe")


def test_show_missing_metric_and_hash(capsys, tmp_path: Path) -> None:
    path, _ = write_dataset(tmp_path)
    assert_cli_error(capsys, ["data", "show", path, "--best", "nope"], "'nope'", "acc")
    assert_cli_error(capsys, ["data", "show", path, "--hash", "f" * 32], str(path), "(field 'hash')")


def test_all_errors_share_a_base_class() -> None:
    assert issubclass(DataFormatError, GraphVAENASError) and issubclass(DataFormatError, ValueError)
    assert issubclass(ArchitectureError, GraphVAENASError) and issubclass(ArchitectureError, ValueError)
    exc = DataFormatError("bad", path="f.csv", line=3, field="acc")
    assert str(exc) == "f.csv:3 (field 'acc'): bad"
    assert str(DataFormatError("bad", field="acc")) == "field 'acc': bad"
    assert str(DataFormatError("bad")) == "bad"


# ------------------------------------------------------------------------------ I/O and typing
# The behaviour the README promises ("Bad input stops with an error that names the file ...;
# exit status 2") for unreadable, mis-encoded or wrongly typed input.

@pytest.mark.parametrize("space, name", [("nb201", "latin1.csv"), ("enas", "latin1.txt")])
def test_non_utf8_import(capsys, tmp_path: Path, space: str, name: str) -> None:
    path = tmp_path / name
    path.write_bytes("arch_str,acc\n|caf\u00e9~0|,1\n".encode("latin-1"))
    assert_cli_error(capsys, ["data", "import", "--space", space, path, "-o", tmp_path / "o.jsonl"], str(path))


def test_corrupt_gzip_import(capsys, tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv.gz", f"arch_str,acc\n{CELL},1\n")  # not actually gzipped
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"], str(path))


def test_directory_import(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    assert_cli_error(capsys, ["data", "import", "--space", "enas", folder, "-o", tmp_path / "o.jsonl"],
                     str(folder))


def test_output_in_missing_folder(capsys, tmp_path: Path) -> None:
    src = write(tmp_path / "t.csv", f"arch_str,acc\n{CELL},1\n")
    out = tmp_path / "no_such_folder" / "o.jsonl"
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", src, "-o", out], "no_such_folder")


@pytest.mark.parametrize("where, value", [("metrics", None), ("arch", 5), ("arch", ["x"]), ("space", "nb201")])
def test_wrongly_typed_dataset_values(tmp_path: Path, where: str, value) -> None:
    path, _ = write_dataset(tmp_path)
    line_no = 1 if where == "space" else 2

    def edit(line: str) -> str:
        obj = json.loads(line)
        obj[where] = value
        return json.dumps(obj)

    _rewrite_line(path, line_no, edit)
    with pytest.raises(DataFormatError) as info:
        load_dataset(path)
    assert info.value.line == line_no


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_metric_in_a_dataset_is_refused(capsys, tmp_path: Path, token: str) -> None:
    """JSON has no NaN or Infinity (Python's json writes and reads them anyway): a dataset
    record holding one is refused with its line and field, as the CSV importer refuses inf; a
    missing value is left out of the record."""
    path, _ = write_dataset(tmp_path)
    lines = path.read_text().splitlines()
    record = json.loads(lines[2])
    lines[2] = json.dumps(record).replace(json.dumps(record["metrics"]), f'{{"acc": {token}}}')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match="not a finite number") as caught:
        load_dataset(path)
    assert caught.value.line == 3 and caught.value.field == "acc"
    assert_cli_error(capsys, ["data", "stats", str(path), "--json"], f"{path.name}:3",
                     "not a finite number")


def test_csv_with_one_architecture_twice_and_other_metrics(capsys, tmp_path: Path) -> None:
    """Refused, naming both lines (an isomorphic spelling counts as the same architecture);
    with the same values the rows import; --dedupe keeps the first of each."""
    path = write(tmp_path / "t.csv", f"arch_str,acc\n{CELL},1.0\n{CELL2},2.0\n{CELL},1.5\n")
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"],
                     f"{path}:4", "the architecture of line 2 again", "acc 1 then 1.5", "--dedupe")
    assert not (tmp_path / "o.jsonl").exists()
    same = write(tmp_path / "s.csv", f"arch_str,acc\n{CELL},1.0\n{CELL},1.0\n")
    assert len(read_table(same, NB201).dataset) == 2
    rc, _, err = run(capsys, "data", "import", "--space", "nb201", path, "--dedupe",
                     "-o", tmp_path / "o.jsonl")
    assert rc == 0, err
    assert [r.metrics["acc"] for r in load_dataset(tmp_path / "o.jsonl")] == [1.0, 2.0]


def test_a_text_column_points_to_metrics_not_only_to_skip_bad(capsys, tmp_path: Path) -> None:
    """--skip-bad would drop every row of a table with a text column; --metrics is the way."""
    path = write(tmp_path / "t.csv", f"arch_str,acc,note\n{CELL},1.0,hello\n")
    assert_cli_error(capsys, ["data", "import", "--space", "nb201", path, "-o", tmp_path / "o.jsonl"],
                     f"{path}:2", "'note'", "--metrics")
    rc, _, err = run(capsys, "data", "import", "--space", "nb201", path, "--metrics", "acc",
                     "-o", tmp_path / "o.jsonl")
    assert rc == 0, err
