"""Tests for graphvae_nas.viz (skipped when matplotlib is not installed)."""
from __future__ import annotations

import sys

import pytest

pytest.importorskip("matplotlib")

from graphvae_nas.graph import Architecture
from graphvae_nas.viz import draw_architecture

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def arch() -> Architecture:
    """8 nodes: input, six ops, output, with skip edges across several levels."""
    ops = ["input", "conv3x3", "conv1x1", "maxpool3x3", "conv3x3", "conv1x1", "maxpool3x3", "output"]
    edges = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (4, 5), (4, 6), (5, 7), (6, 7),
             (0, 4), (2, 5), (1, 7), (3, 6)]
    return Architecture(ops, edges)


def test_draw_to_png(arch: Architecture, tmp_path) -> None:
    from matplotlib.image import imread

    path = tmp_path / "arch.png"
    fig = draw_architecture(arch, path, title="example")
    assert fig is not None
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_MAGIC
    image = imread(path)
    assert image.ndim == 3 and image.std() > 0


def test_draw_into_given_axes(arch: Architecture) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 2))
    ax = fig.add_subplot()
    assert draw_architecture(arch, ax=ax) is fig
    assert len(ax.patches) == arch.num_nodes + arch.num_edges


def test_missing_directory_raises(arch: Architecture, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        draw_architecture(arch, tmp_path / "no_such_dir" / "arch.png")


def test_missing_matplotlib_message(arch: Architecture, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"graphvae_nas\[viz\]"):
        draw_architecture(arch)
