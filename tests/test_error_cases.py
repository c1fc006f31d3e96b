"""Bad input that used to end in a traceback: each now names the file, line and field, exits 2
and leaves the data as it was."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_run import run
from test_search import synthetic_table

from graphvae_nas.datasets import read_table, save_dataset
from graphvae_nas.spaces import get_space

CELL = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.fixture(scope="module")
def table_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "table.jsonl"
    save_dataset(synthetic_table(), path)
    return path


@pytest.fixture()
def study(table_file: Path, tmp_path: Path, capsys) -> tuple[list[object], Path]:
    """A finished 6-trial study and the command line that resumes it."""
    out = tmp_path / "run"
    args = ["search", "--dataset", table_file, "--objective", "score", "--strategy", "random",
            "--budget", "6", "--out", out]
    assert run(capsys, *args)[0] == 0
    return [*args[:-3], "10", "--out", out, "--resume"], out / "study.jsonl"


def test_import_to_a_folder(tmp_path: Path, capsys) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text(f"arch_str,cifar10_test\n{CELL},91.5\n")
    folder = tmp_path / "outdir"
    folder.mkdir()
    rc, _, err = run(capsys, "data", "import", csv, "--space", "nb201", "-o", folder)
    assert rc == 2 and f"{folder}: cannot write: this is a folder" in err
    assert folder.is_dir() and not any(folder.iterdir())


def test_vae_train_to_a_folder_fails_before_training(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "outdir"
    folder.mkdir()
    rc, _, err = run(capsys, "vae", "train", "--dataset", tmp_path / "missing.jsonl", "--out", folder)
    assert rc == 2 and "this is a folder" in err


def test_store_that_is_a_folder(table_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    (out / "study.jsonl").mkdir(parents=True)
    rc, _, err = run(capsys, "search", "--dataset", table_file, "--objective", "score",
                     "--strategy", "random", "--budget", "3", "--out", out, "--resume")
    assert rc == 2 and f"{out / 'study.jsonl'}: is a folder, not a study store" in err
    assert (out / "study.jsonl").is_dir()


def test_read_only_store_is_refused_on_resume(study, capsys, monkeypatch) -> None:
    args, store = study
    before = store.read_bytes()
    if os.geteuid() == 0:   # root writes read-only files anyway: simulate the permission check
        import graphvae_nas.search.store as store_module

        real_access = os.access
        monkeypatch.setattr(store_module.os, "access", lambda path, mode, **k: (
            False if Path(path) == store else real_access(path, mode, **k)))
    else:
        store.chmod(0o444)
    rc, _, err = run(capsys, *args)
    assert rc == 2 and f"{store}: the study store is not readable and writable" in err
    assert store.read_bytes() == before


def rewrite_trial(store: Path, number: int, change) -> bytes:
    lines = store.read_text().splitlines()
    for i, line in enumerate(lines):
        record = json.loads(line)
        if record.get("trial") == number:
            change(record)
            lines[i] = json.dumps(record)
            store.write_text("\n".join(lines) + "\n")
            return store.read_bytes()
    raise AssertionError("no such trial")


def line_of_trial(store: Path, number: int) -> int:
    for i, line in enumerate(store.read_text().splitlines(), start=1):
        if json.loads(line).get("trial") == number:
            return i
    raise AssertionError("no such trial")


def test_store_record_without_arch(study, capsys) -> None:
    args, store = study
    before = rewrite_trial(store, 2, lambda r: r.pop("arch"))
    rc, _, err = run(capsys, *args)
    assert rc == 2 and f"{store}:{line_of_trial(store, 2)} (field 'arch'): record lacks" in err
    assert store.read_bytes() == before


def test_store_record_with_an_invalid_architecture(study, capsys) -> None:
    args, store = study
    before = rewrite_trial(store, 3, lambda r: r.update(arch="not an architecture"))
    rc, _, err = run(capsys, *args)
    assert rc == 2 and f"{store}:{line_of_trial(store, 3)} (field 'arch'): " in err
    assert store.read_bytes() == before


def test_skip_bad_summary_keeps_digits_in_names(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    bad_op = CELL.replace("none~0|+", "max_pool_3x3~0|+", 1)
    csv.write_text(f"arch_str,cifar10_test\n{CELL},91.5\n{bad_op},1\n{bad_op},2\n"
                   f"{CELL.replace('none~2', 'skip_connect~2')},abc\n")
    summary = read_table(csv, get_space("nb201"), skip_bad=True).summary()
    assert "skipped 3 bad lines" in summary
    assert "2 x" in summary and "'max_pool_3x3'" in summary and "'cifar10_test'" in summary, summary
    assert "#" not in summary.replace("edge #->#", ""), summary   # only standalone numbers grouped
