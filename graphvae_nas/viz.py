"""Layered drawings of :class:`~graphvae_nas.graph.Architecture` DAGs (needs the ``viz`` extra)."""
from __future__ import annotations

import os
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

    from graphvae_nas.graph import Architecture

def _op_colour(op: str, cmap: Colormap) -> tuple[float, float, float, float]:
    """A colour that depends only on the op name (crc32, not the salted built-in ``hash``)."""
    return cmap(zlib.crc32(op.encode("utf-8")) % cmap.N)


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


def draw_architecture(arch: Architecture, path: str | os.PathLike[str] | None = None, *,
                      title: str | None = None, ax: Axes | None = None) -> Figure:
    """Draw ``arch`` left to right with one column per :meth:`Architecture.levels` value.

    Nodes are rounded boxes labelled with their op name and index, coloured per op name.
    Draws into ``ax`` when given (else a new figure). If ``path`` is given the figure is saved
    there as PNG (150 dpi); its directory must exist. Returns the figure.
    """
    try:
        from matplotlib import colormaps
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    except ImportError:
        raise ImportError("drawing needs matplotlib: pip install 'graphvae_nas[viz]'") from None

    if path is not None:
        parent = os.path.dirname(os.path.abspath(os.fspath(path)))
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"cannot save drawing to {os.fspath(path)!r}: "
                                    f"directory {parent!r} does not exist")
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
        title_h = 0.4 if title else 0.0
        fig = Figure(figsize=(xhi - xlo, yhi - ylo + title_h))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, (yhi - ylo) / (yhi - ylo + title_h)))
        scale = 1.0
    else:  # shrink text and lines to fit the axes given
        fig = ax.figure
        w_in, h_in = ax.get_position().size * fig.get_size_inches()
        scale = min(1.0, w_in / (xhi - xlo), h_in / (yhi - ylo))
    cmap = colormaps["tab20"]
    boxes = []
    for v, (op, (x, y)) in enumerate(zip(arch.ops, xy)):
        r, g, b, _ = _op_colour(op, cmap)
        box = FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                             boxstyle="round,pad=0,rounding_size=0.12", facecolor=(r, g, b),
                             edgecolor="#333333", linewidth=scale, zorder=3)
        ax.add_patch(box)
        boxes.append(box)
        text_colour = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
        ax.text(x, y - 0.03, op, ha="center", va="center", fontsize=9 * scale, color=text_colour, zorder=4)
        ax.text(x - box_w / 2 + 0.07, y + box_h / 2 - 0.05, str(v), ha="left", va="top",
                fontsize=6 * scale, color=text_colour, alpha=0.8, zorder=4)
    for (s, d), h in bends.items():
        ax.add_patch(FancyArrowPatch(xy[s], xy[d], patchA=boxes[s], patchB=boxes[d],
                                     connectionstyle=f"arc3,rad={-2 * h / (xy[d][0] - xy[s][0]):.4f}",
                                     arrowstyle="-|>", mutation_scale=12 * scale, linewidth=1.1 * scale,
                                     color="#444444", shrinkA=1, shrinkB=1, zorder=2))
    ax.set_xlim(xlo, xhi)
    ax.set_ylim(ylo, yhi)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    if path is not None:
        fig.savefig(path, format="png", dpi=150, bbox_inches="tight")
    return fig


def plot_best_so_far(curves: dict[str, list[list[float]]], path: str, *, ylabel: str = "objective",
                     title: str | None = None):
    """Best-so-far against number of queries, one line per strategy (mean over runs, with a
    band of one standard deviation when there are several runs); saved as PNG."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'graphvae_nas[viz]'") from exc
    import numpy as np

    fig = Figure(figsize=(6.4, 4.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    for name, runs in curves.items():
        length = min(len(r) for r in runs)
        data = np.maximum.accumulate(np.asarray([r[:length] for r in runs], dtype=float), axis=1)
        mean, std = data.mean(0), data.std(0)
        steps = np.arange(1, length + 1)
        ax.plot(steps, mean, label=name)
        if len(runs) > 1:
            ax.fill_between(steps, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("queries")
    ax.set_ylabel(f"best {ylabel} so far")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


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
