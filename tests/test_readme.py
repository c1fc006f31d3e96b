"""The README: short, its links resolve, its strategy table is complete, its Python tour runs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from shared_data import NB201_DIR, needs_data

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _markdown_files() -> list[Path]:
    return [README, *sorted((ROOT / "docs").rglob("*.md"))]


def test_readme_is_at_most_250_lines() -> None:
    assert len(README.read_text().splitlines()) <= 250


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    broken = []
    for page in _markdown_files():
        for target in re.findall(r"\]\(([^)]+)\)", page.read_text()):
            if "://" in target or target.startswith("#"):
                continue
            path = (page.parent / target.split("#", 1)[0]).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_the_readme_strategy_table_names_every_strategy() -> None:
    from graphvae_nas.search.factory import available_strategies

    table = README.read_text().split("## Strategies", 1)[1].split("\n## ", 1)[0]
    assert {m for m in re.findall(r"^\| `([a-z0-9-]+)` \|", table, flags=re.M)} == \
        set(available_strategies())


@pytest.mark.slow
@needs_data
def test_the_readme_python_tour_runs(tmp_path, monkeypatch, capsys) -> None:
    """The Python tour, on the nb201.jsonl its command-line tour's first command makes."""
    pytest.importorskip("botorch")
    from graphvae_nas.cli import main
    from graphvae_nas.threads import cpu_threads

    monkeypatch.chdir(tmp_path)
    assert main(["data", "import", "--space", "nb201", str(NB201_DIR / "nb201_cifar10_200ep.csv"),
                 "-o", "nb201.jsonl"]) == 0
    [code] = re.findall(r"```python\n(.*?)```",
                        README.read_text().split("## A tour in Python", 1)[1], flags=re.S)[:1]
    namespace: dict = {}
    with cpu_threads(1):
        exec(compile(code, "README.md", "exec"), namespace)
    study = namespace["study"]
    assert len(study.trials) == 40 and study.best().objective > 90
    assert "|" in capsys.readouterr().out      # the best cell was printed


def test_the_results_pages_state_their_commands() -> None:
    """Every results page says when and how it was measured (date and command)."""
    for page in sorted((ROOT / "docs" / "results").glob("*.md")):
        if page.name == "README.md":     # the index
            continue
        text = page.read_text()
        assert re.search(r"20\d\d-\d\d-\d\d", text), page.name
        assert "python " in text, page.name
