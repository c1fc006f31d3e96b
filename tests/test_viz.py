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


NB201_BEST = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
              "+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")


def test_nb201_cell_is_drawn_as_four_nodes_with_labelled_edges(tmp_path) -> None:
    from matplotlib.patches import Circle, FancyArrowPatch

    from graphvae_nas.spaces import get_space
    from graphvae_nas.viz import draw

    space = get_space("nb201")
    cell = space.parse("|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|")
    fig = draw(space, cell, tmp_path / "cell.png", title="cell")
    ax = fig.axes[0]
    assert sum(isinstance(p, Circle) for p in ax.patches) == 4
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 4  # two of the six edges are none: absent
    labels = sorted(t.get_text() for t in ax.texts if t.get_text() in space.ops)
    assert labels == ["avg_pool_3x3", "avg_pool_3x3", "nor_conv_1x1", "skip_connect"]
    assert (tmp_path / "cell.png").read_bytes()[:8] == PNG_MAGIC


def test_colours_are_distinct_per_op_and_for_input_output() -> None:
    from graphvae_nas.spaces import get_space
    from graphvae_nas.viz import op_colours

    for name in ("nb201", "nb101", "enas"):
        vocabulary = get_space(name).vocabulary
        colours = op_colours(vocabulary)
        assert len(set(colours.values())) == len(colours) and set(vocabulary) <= set(colours)
    assert len(set(op_colours([f"op{k}" for k in range(30)]).values())) == 32


def test_long_titles_are_wrapped_not_dropped(tmp_path) -> None:
    from graphvae_nas.spaces import get_space
    from graphvae_nas.viz import draw

    enas = get_space("enas:num_layers=12")
    arch = enas.sample(seed=0)
    title = enas.format(arch)
    assert len(title) > 90
    for space, a, text in ((enas, arch, title), (get_space("nb201"), get_space("nb201").parse(NB201_BEST),
                                                 NB201_BEST)):
        shown = draw(space, a, tmp_path / "a.png", title=text).axes[0].get_title()
        assert shown.replace("\n", "" if space.name == "nb201" else " ") == text  # all of it
        assert ("\n" in shown) == (space.name == "nb201")  # wrapped where the drawing is narrow


def test_data_show_draws_the_nb201_cell_with_its_title(tmp_path, capsys) -> None:
    from graphvae_nas.cli import main

    assert main(["data", "show", "--space", "nb201", "--arch", NB201_BEST,
                 "--png", str(tmp_path / "best.png")]) == 0
    assert (tmp_path / "best.png").read_bytes()[:8] == PNG_MAGIC
