"""The Python API docs' example runs as printed (a custom dag space, trained on digits)."""
from __future__ import annotations

import re
from pathlib import Path

from graphvae_nas.networks import unregister_op
from graphvae_nas.threads import cpu_threads

README = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def _python_blocks(section: str) -> list[str]:
    text = README.read_text()
    start = text.index(f"## {section}")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


def test_readme_python_api_example_runs(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    try:
        with cpu_threads(1):
            exec(compile(_python_blocks("Search your own space")[0], "docs/python-api.md", "exec"), namespace)
    finally:
        unregister_op("conv")
        unregister_op("pool")
    study = namespace["study"]
    assert len(study.trials) == 6 and study.best().objective is not None
    assert (tmp_path / "dag_study.jsonl").exists()
    assert namespace["space"].format(study.best().arch) in capsys.readouterr().out


def test_readme_latent_bo_snippet_runs(tmp_path, monkeypatch) -> None:
    """The second block, with a tiny default VAE (200 architectures, 1 epoch) in a temporary cache."""
    from graphvae_nas.spaces import get_space
    from graphvae_nas.vae import default_model

    monkeypatch.setenv("GRAPHVAE_NAS_CACHE", str(tmp_path))
    monkeypatch.setattr(default_model, "SAMPLE_SIZE", 200)
    monkeypatch.setitem(default_model.DEFAULT_TRAINING, "epochs", 1)
    namespace: dict = {"space": get_space("dag", ops=("conv", "pool"), max_nodes=6)}
    exec(compile(_python_blocks("Search your own space")[1], "docs/python-api.md", "exec"), namespace)
    from graphvae_nas.search import SurrogateStrategy

    strategy = namespace["strategy"]
    assert isinstance(strategy, SurrogateStrategy) and strategy.spec()["name"] == "bo"
    assert len(namespace["archs"]) == 200
