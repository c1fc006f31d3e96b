"""Drawings of architectures, each space in its familiar form, and search curves (needs the
``viz`` extra)."""
from __future__ import annotations

import os
import re
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from graphvae_nas.graph import Architecture
    from graphvae_nas.experiments.curves import Curve
    from graphvae_nas.spaces import SearchSpace

IO_COLOURS = {"input": "#e8e8e8", "output": "#4d4d4d"}
"""Input and output nodes are neutral greys, never a colour an op could also get."""


def op_colours(ops: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """A distinct colour for every op of ``ops`` (e.g. a space's vocabulary, in its order):
    Okabe-Ito and tab10 colours first (10), then tab20's lighter shades; input and output grey."""
    from matplotlib import colormaps
    from matplotlib.colors import to_rgb

    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442",
               "#8c564b", "#7f7f7f", "#bcbd22"]
    palette += [colormaps["tab20"](k) for k in range(1, 20, 2)]
    inner = [op for op in dict.fromkeys(ops) if op not in IO_COLOURS]
    colours = {op: to_rgb(IO_COLOURS[op]) for op in IO_COLOURS}
    for k, op in enumerate(inner):
        colours[op] = to_rgb(palette[k]) if k < len(palette) else _hash_colour(op)
    return colours


def _hash_colour(op: str) -> tuple[float, float, float]:
    """A colour that depends only on the op name (crc32, not the salted built-in ``hash``)."""
    from matplotlib import colormaps

    r, g, b, _ = colormaps["viridis"](zlib.crc32(op.encode("utf-8")) % 256)
    return r, g, b


def _text_colour(rgb: tuple[float, float, float]) -> str:
    r, g, b = rgb
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.55 else "black"


def _wrap_title(title: str, width_in: float, fontsize: float = 10) -> str:
    """``title`` broken into lines that fit ``width_in`` inches (long native strings included:
    they break at their ``|`` and ``+`` separators when they have no spaces)."""
    import textwrap

    chars = max(20, int(width_in * 72 / (0.6 * fontsize)))
    if len(title) <= chars:
        return title
    if " " in title:
        return "\n".join(textwrap.wrap(title, chars))
    tokens = []  # break after "+" or "," (after "|" inside longer pieces), adding nothing
    for piece in re.split(r"(?<=[+,])(?=.)", title):
        tokens += re.split(r"(?<=\|)(?=.)", piece) if len(piece) > chars else [piece]
    lines = [""]
    for token in tokens:
        if lines[-1] and len(lines[-1]) + len(token) > chars:
            lines.append("")
        lines[-1] += token
    return "\n".join(lines)


def _layout(arch: Architecture) -> tuple[list[int], list[float]]:
    """Level (column) and in-column position of every node; columns are centred on 0."""
    levels = arch.levels()
    preds = arch.predecessors()
    columns: dict[int, list[int]] = {}
    for v, lv in enumerate(levels):
        columns.setdefault(lv, []).append(v)
    pos = [0.0] * arch.num_nodes
    for lv in sorted(columns):  # order each column by the mean position of its predecessors
        col = columns[lv]
        col.sort(key=lambda v: (sum(pos[p] for p in preds[v]) / len(preds[v]) if preds[v] else 0.0, v))
        for i, v in enumerate(col):
            pos[v] = i - (len(col) - 1) / 2
    return levels, pos


def _bend(p0: tuple[float, float], p1: tuple[float, float], obstacles: list[tuple[float, float]],
          clearance: float, prefer: int) -> float:
    """Smallest vertical mid-offset ``h`` of a quadratic curve p0->p1 that keeps every obstacle
    point at least ``clearance`` above or below it (0 when nothing lies in between). Ties go
    away from the centre line, or to the ``prefer`` side (+1 up, -1 down) on it."""
    if not obstacles:
        return 0.0
    (x0, y0), (x1, y1) = p0, p1
    pts = [(4 * t * (1 - t), y0 + t * (y1 - y0), y)  # curve y there = base + k * h
           for x, y in obstacles for t in [(x - x0) / (x1 - x0)]]
    best: list[tuple[float, int]] = []
    for sign in (1, -1):
        cands = sorted({0.15} | {sign * (y + sign * clearance - base) / k for k, base, y in pts})
        for m in (c for c in cands if c >= 0.15):
            if all(abs(base + k * sign * m - y) >= clearance - 1e-9 for k, base, y in pts):
                best.append((m, sign))
                break
    outward = prefer if abs(y0 + y1) < 1e-9 else (1 if y0 + y1 > 0 else -1)
    m, sign = min(best, key=lambda ms: (round(ms[0], 6), ms[1] != outward))
    return sign * m


def _check_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("drawing needs matplotlib: pip install 'graphvae_nas[viz]'") from None


def _check_path(path: str | os.PathLike[str] | None) -> None:
    if path is not None:
        parent = os.path.dirname(os.path.abspath(os.fspath(path)))
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"cannot save drawing to {os.fspath(path)!r}: "
                                    f"directory {parent!r} does not exist")


def _new_figure(width: float, height: float, title: str | None, fontsize: float = 11):
    """A figure of ``width`` x ``height`` inches of drawing plus room for the wrapped title;
    returns (figure, axes, wrapped title)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    wrapped = _wrap_title(title, max(width, 4.0), fontsize) if title else None
    title_h = 0.1 + 0.24 * (wrapped.count("\n") + 1) if wrapped else 0.0
    fig = Figure(figsize=(max(width, 4.0 if title else width), height + title_h))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, height / (height + title_h)))
    return fig, ax, wrapped


def _finish(fig: Figure, ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float],
            title: str | None, path: str | os.PathLike[str] | None) -> Figure:
    """A drawing's last steps: its limits at equal aspect, no axes, the title, and the PNG
    (150 dpi) saved to ``path`` when given; returns the figure."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    if path is not None:
        fig.savefig(path, format="png", dpi=150, bbox_inches="tight")
    return fig


def draw(space: SearchSpace, arch: Architecture, path: str | os.PathLike[str] | None = None, *,
         title: str | None = None, ax: Axes | None = None) -> Figure:
    """Draw ``arch`` in its space's familiar form: an NAS-Bench-201 cell as its 4 feature nodes
    with op-labelled edges (:func:`draw_nb201_cell`), any other space as a layered DAG of op
    nodes (:func:`draw_architecture`) coloured by the space's vocabulary."""
    if space.name == "nb201":
        return draw_nb201_cell(space.edge_ops(arch), path, title=title, ax=ax)
    return draw_architecture(arch, path, title=title, ax=ax, vocabulary=space.vocabulary)


def draw_nb201_cell(edge_ops: Sequence[str], path: str | os.PathLike[str] | None = None, *,
                    title: str | None = None, ax: Axes | None = None) -> Figure:
    """An NAS-Bench-201 cell as researchers draw it: feature nodes 0 (input) to 3 (output) left
    to right, one arrow per edge ``i -> j`` labelled and coloured by its op, ``none`` edges left
    out. ``edge_ops``: the 6 ops in official string order (0->1, 0->2, 1->2, 0->3, 1->3, 2->3).
    Saved as PNG (150 dpi) when ``path`` is given; returns the figure."""
    _check_matplotlib()
    from matplotlib.patches import Circle, FancyArrowPatch

    from graphvae_nas.spaces.nb201 import CELL_EDGES, NB201_OPS

    if len(edge_ops) != len(CELL_EDGES):
        raise ValueError(f"an NB201 cell has {len(CELL_EDGES)} edge ops, got {len(edge_ops)}")
    _check_path(path)
    colours = op_colours([op for op in NB201_OPS if op != "none"])
    gap, radius = 2.3, 0.28
    xs = [k * gap for k in range(4)]
    rads = {1: 0.0, 2: -0.32, 3: -0.42}  # by span; arcs of span 2 alternate above and below
    below = {(1, 3)}
    arcs = []  # (i, j, op, rad, label height at the arc's apex: quadratic Bezier at t = 1/2)
    for (i, j), op in zip(CELL_EDGES, edge_ops):
        if op != "none":
            rad = rads[j - i] * (-1 if (i, j) in below else 1)
            arcs.append((i, j, op, rad, -0.5 * rad * (xs[j] - xs[i])))
    xlo, xhi = -radius - 0.3, xs[-1] + radius + 0.3
    ylo = min([-radius - 0.45] + [h - 0.3 for *_, h in arcs])
    yhi = max([radius + 0.2] + [h + 0.3 for *_, h in arcs])
    if ax is None:
        fig, ax, title = _new_figure(xhi - xlo, yhi - ylo, title)
    else:
        fig = ax.figure
    nodes = []
    for k, x in enumerate(xs):
        fill = colours["input"] if k == 0 else colours["output"] if k == 3 else (1.0, 1.0, 1.0)
        node = Circle((x, 0.0), radius, facecolor=fill, edgecolor="#222222", linewidth=1.2, zorder=3)
        ax.add_patch(node)
        nodes.append(node)
        ax.text(x, 0.0, str(k), ha="center", va="center", fontsize=12, zorder=4,
                color=_text_colour(fill), fontweight="bold")
    ax.text(xs[0], -radius - 0.12, "input", ha="center", va="top", fontsize=8, color="#555555")
    ax.text(xs[3], -radius - 0.12, "output", ha="center", va="top", fontsize=8, color="#555555")
    for i, j, op, rad, label_y in arcs:
        colour = colours[op]
        ax.add_patch(FancyArrowPatch((xs[i], 0.0), (xs[j], 0.0), patchA=nodes[i], patchB=nodes[j],
                                     connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                     mutation_scale=14, linewidth=2.0, color=colour, zorder=2))
        ax.text((xs[i] + xs[j]) / 2, label_y, op, ha="center", va="center", fontsize=8, zorder=5,
                color=_text_colour(colour), bbox={"boxstyle": "round,pad=0.25", "facecolor": colour,
                                                  "edgecolor": "none"})
    return _finish(fig, ax, (xlo, xhi), (ylo, yhi), title, path)


def draw_architecture(arch: Architecture, path: str | os.PathLike[str] | None = None, *,
                      title: str | None = None, ax: Axes | None = None,
                      vocabulary: Sequence[str] | None = None) -> Figure:
    """Draw ``arch`` left to right with one column per :meth:`Architecture.levels` value.

    Nodes are rounded boxes labelled with their op name and index, one distinct colour per op
    of ``vocabulary`` (pass the space's so colours agree across drawings; default: the ops of
    ``arch``), input and output grey. Draws into ``ax`` when given (else a new figure). If
    ``path`` is given the figure is saved there as PNG (150 dpi); its directory must exist.
    Long titles are wrapped. Returns the figure.
    """
    _check_matplotlib()
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    _check_path(path)
    levels, pos = _layout(arch)
    n_levels = max(levels) + 1
    box_w = max(1.1, 0.085 * max(len(op) for op in arch.ops) + 0.35)  # inches == data units
    box_h, dx, dy = 0.5, box_w + 0.7, 0.95
    xy = [(lv * dx, -p * dy) for lv, p in zip(levels, pos)]
    bends: dict[tuple[int, int], float] = {}  # skip edges bend around the boxes in between
    prefer = 1
    for s, d in arch.edges:
        between = [(xy[v][0] + off, xy[v][1]) for v in range(arch.num_nodes)
                   if levels[s] < levels[v] < levels[d] for off in (-box_w / 2, 0, box_w / 2)]
        span = levels[d] - levels[s]  # longer skips keep further away: fewer overlapping curves
        bends[s, d] = _bend(xy[s], xy[d], between, box_h / 2 + 0.02 + 0.07 * span, prefer)
        prefer = -prefer if between else prefer
    mids = [(xy[s][1] + xy[d][1]) / 2 + h for (s, d), h in bends.items()]
    ylo = min([y - box_h / 2 for _, y in xy] + mids) - 0.25
    yhi = max([y + box_h / 2 for _, y in xy] + mids) + 0.25
    xlo, xhi = -box_w / 2 - 0.25, (n_levels - 1) * dx + box_w / 2 + 0.25

    if ax is None:
        fig, ax, title = _new_figure(xhi - xlo, yhi - ylo, title)
        scale = 1.0
    else:  # shrink text and lines to fit the axes given
        fig = ax.figure
        w_in, h_in = ax.get_position().size * fig.get_size_inches()
        scale = min(1.0, w_in / (xhi - xlo), h_in / (yhi - ylo))
    colours = op_colours(list(vocabulary) + sorted(set(arch.ops)) if vocabulary else sorted(set(arch.ops)))
    boxes = []
    for v, (op, (x, y)) in enumerate(zip(arch.ops, xy)):
        box = FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                             boxstyle="round,pad=0,rounding_size=0.12", facecolor=colours[op],
                             edgecolor="#333333", linewidth=scale, zorder=3)
        ax.add_patch(box)
        boxes.append(box)
        text_colour = _text_colour(colours[op])
        ax.text(x, y - 0.03, op, ha="center", va="center", fontsize=9 * scale, color=text_colour, zorder=4)
        ax.text(x - box_w / 2 + 0.07, y + box_h / 2 - 0.05, str(v), ha="left", va="top",
                fontsize=6 * scale, color=text_colour, alpha=0.8, zorder=4)
    for (s, d), h in bends.items():
        ax.add_patch(FancyArrowPatch(xy[s], xy[d], patchA=boxes[s], patchB=boxes[d],
                                     connectionstyle=f"arc3,rad={-2 * h / (xy[d][0] - xy[s][0]):.4f}",
                                     arrowstyle="-|>", mutation_scale=12 * scale, linewidth=1.1 * scale,
                                     color="#444444", shrinkA=1, shrinkB=1, zorder=2))
    return _finish(fig, ax, (xlo, xhi), (ylo, yhi), title, path)


def plot_curves(panels: Mapping[str, Mapping[str, Curve]], path: str | os.PathLike[str], *,
                title: str, xlabel: str = "queries (architectures evaluated)") -> Figure:
    """Search curves, one panel per key of ``panels`` (its y-axis label, units included), one line
    per strategy in a panel (the mean over runs, with a band of one standard deviation when
    there are several runs), a dotted vertical line where random initialisation ends. The values
    are plotted as given: see :mod:`graphvae_nas.experiments.curves` for what a table reports.
    Saved as PNG (150 dpi); returns the figure."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'graphvae_nas[viz]'") from exc
    import numpy as np

    fig = Figure(figsize=(6.4, 1.0 + 3.0 * len(panels)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (ylabel, curves) in zip(axes, panels.items()):
        for i, (name, curve) in enumerate(curves.items()):
            colour = f"C{i}"
            steps, mean, std = (np.asarray(a, dtype=float) for a in (curve.steps, curve.mean, curve.std))
            label = name + (f" ({curve.runs} runs)" if curve.runs > 1 else "")
            ax.plot(steps, mean, color=colour, drawstyle="steps-post", label=label)
            if curve.runs > 1:
                ax.fill_between(steps, mean - std, mean + std, color=colour, alpha=0.15, linewidth=0,
                                step="post")
            if curve.init_end is not None:
                ax.axvline(curve.init_end + 0.5, color=colour, linestyle=":", linewidth=1.2,
                           label=f"{name}: end of random initialisation")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[-1].set_xlabel(xlabel)
    axes[0].set_title(_wrap_title(title, 6.4, 10), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=150, bbox_inches="tight")
    return fig


def plotted_lines(fig: Figure) -> dict[tuple[int, str], tuple[list[float], list[float]]]:
    """The (x, y) data of every labelled curve line of a :func:`plot_curves` figure, keyed by
    (panel index, label): what the PNG shows, for checking against the table."""
    out = {}
    for k, ax in enumerate(fig.axes):
        for line in ax.get_lines():
            label = line.get_label()
            if not label.startswith("_") and "random initialisation" not in label:
                x, y = line.get_data()
                out[k, label] = ([float(v) for v in x], [float(v) for v in y])
    return out


def plot_fronts(objectives, true_front: list[dict[str, float]] | None,
                found: dict[str, list[dict[str, float]]], path: str, *, title: str | None = None):
    """Two-objective Pareto fronts as step lines of raw values (first objective on the y axis,
    second on the x axis): the exact front of a table (``true_front``, may be None) and each
    named found front; saved as PNG. ``objectives`` are the two
    :class:`~graphvae_nas.search.objectives.Objective` s (only their names and directions are
    read)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'graphvae_nas[viz]'") from exc
    if len(objectives) != 2:
        raise ValueError(f"a front plot needs exactly two objectives, got {len(objectives)}")
    y_name, x_name = objectives[0].name, objectives[1].name

    def points(rows):
        pairs = sorted((r[x_name], r[y_name]) for r in rows)
        return [p[0] for p in pairs], [p[1] for p in pairs]

    fig = Figure(figsize=(6.4, 4.4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    if true_front:
        xs, ys = points(true_front)
        ax.step(xs, ys, where="post", color="black", lw=1.2, label=f"true front ({len(xs)})")
    for name, rows in found.items():
        if rows:
            xs, ys = points(rows)
            ax.step(xs, ys, where="post", alpha=0.8, lw=1.0)
            ax.scatter(xs, ys, s=14, label=f"{name} ({len(xs)})")
    ax.set_xlabel(f"{x_name} ({objectives[1].direction})")
    ax.set_ylabel(f"{y_name} ({objectives[0].direction})")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig
