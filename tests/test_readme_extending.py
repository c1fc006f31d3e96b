"""The extending docs' example runs as printed."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def extending_example() -> str:
    text = README.read_text()
    section = text.split("## A new strategy", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section holds exactly one Python example"
    return blocks[0]


@pytest.mark.slow
def test_extending_example_runs_and_finds_the_optimum(capsys) -> None:
    pytest.importorskip("botorch")
    from graphvae_nas.search import factory

    namespace: dict = {"__name__": "readme_example"}
    try:
        exec(compile(extending_example(), str(README), "exec"), namespace)
    finally:
        factory._REGISTRY.pop("op-count-bo", None)  # leave the registry as other tests expect
    study = namespace["study"]
    assert len(study.trials) == 26
    assert {t.tag for t in study.trials} == {"random-init", "op-count-bo"}
    assert study.best().objective == max(namespace["scores"])
    best, of = capsys.readouterr().out.split()[::2]
    assert float(best) == float(of)
