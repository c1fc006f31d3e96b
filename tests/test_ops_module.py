"""Custom ``dag`` spaces: ops without a network module are refused before anything is
evaluated or written; ``--ops-module`` loads the user's op definitions on the command line."""
from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import run

from graphvae_nas.errors import GraphVAENASError
from graphvae_nas.networks import registered_ops, unregister_op
from graphvae_nas.spaces import get_space


OPS = ("i15conv", "i15pool")
SPACE = "dag:ops=i15conv,i15pool;max_nodes=4"
OPS_FILE = '''
from torch import nn
from graphvae_nas.networks import register_op

register_op("i15conv", lambda c: nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False),
                                               nn.BatchNorm2d(c), nn.ReLU()))
register_op("i15pool", lambda c: nn.MaxPool2d(3, stride=1, padding=1))
'''


@pytest.fixture(autouse=True)
def clean_registry():
    for op in OPS:
        unregister_op(op)
    yield
    for op in OPS:
        unregister_op(op)


def test_missing_ops_are_reported_by_the_space() -> None:
    space = get_space(SPACE)
    assert space.missing_network_ops() == list(OPS)
    assert get_space("dag:ops=conv3x3-bn-relu,identity;max_nodes=4").missing_network_ops() == []


def test_training_evaluator_refuses_unbuildable_space_at_construction() -> None:
    from graphvae_nas.evaluation.images import load_image_data
    from graphvae_nas.evaluation.training import TrainingEvaluator

    with pytest.raises(GraphVAENASError, match=r"i15conv.*i15pool.*register_op"):
        TrainingEvaluator(get_space(SPACE), load_image_data("digits"))


def test_cli_refuses_before_writing_and_ops_module_fixes_it(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    common = ["search", "--space", SPACE, "--strategy", "random", "--budget", "1",
              "--epochs", "1", "--threads", "1", "--out", out]
    rc, _, err = run(capsys, *common)
    assert rc == 2 and "--ops-module" in err and "i15conv" in err
    assert not out.exists()  # nothing evaluated, no store left behind

    ops = tmp_path / "my_ops.py"
    ops.write_text(OPS_FILE)
    rc, stdout, err = run(capsys, *common, "--ops-module", ops)
    assert rc == 0, err
    assert set(OPS) <= set(registered_ops()) and "best after 1 queries" in stdout


def test_ops_module_by_dotted_name_and_errors(tmp_path: Path, monkeypatch) -> None:
    from graphvae_nas.cli.ops_modules import import_ops_modules

    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "ops.py").write_text(OPS_FILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import_ops_modules(["mypkg.ops"])
    assert set(OPS) <= set(registered_ops())
    with pytest.raises(GraphVAENASError, match="--ops-module mypkg.nothing: cannot import"):
        import_ops_modules(["mypkg.nothing"])
    with pytest.raises(GraphVAENASError, match="no such file"):
        import_ops_modules([str(tmp_path / "missing.py")])
