"""Bayesian-network structures: any DAG over a fixed set of named variables, each used once.

A BN structure is a DAG over the variables (no input or output node of its own). As an
:class:`~graphvae_nas.graph.Architecture` it is written the way D-VAE writes BNs
(``decode_BN_to_igraph``): node 0 is ``input``, nodes ``1..n`` are the variables in a
topological order (each variable's name is its node label, each used exactly once), node
``n + 1`` is ``output``; ``input`` feeds every variable without parents, every variable
without children feeds ``output``, and the other edges are the BN's arcs. This is a bijection
between BNs (with a listing order) and such architectures, so the generic canonical hash
(labels are unique, which takes its fast path) is equal exactly for equal BNs, whatever the
listing order.

Native formats (all parsed and printed exactly; :meth:`BayesianNetworkSpace.parse` tells them
apart by their first characters):

* ``bnlearn``: bnlearn's model string ``[A][S][T|A][L|S][B|S][E|T:L][X|E][D|B:E]``. Printed the
  way bnlearn's ``modelstring()`` prints it: nodes sorted by depth (roots 1, else one more than
  the deepest parent), ties in variable order (R's stable sort over the network's node order,
  here the space's variable order); each node's parents in variable order. Parsing accepts the
  nodes and parents in any order. This is :meth:`~BayesianNetworkSpace.format`'s format.
* ``dvae``: D-VAE's BN line ``[[t0], [t1, b0], [t2, b0, b1], ...]`` (Python list spacing): row
  ``i`` is the ``i``-th listed node, ``t`` its variable index, ``b_j = 1`` an arc from the
  ``j``-th listed node. The listing order is kept, so printing gives back the parsed text;
  architectures built any other way list nodes in the bnlearn order above.
* ``matrix``: the 0/1 adjacency matrix in variable order, row = parent, column = child, written
  as D-VAE's flat string (``n * n`` digits, row-major, single spaces).

A VAE of this space decodes valid BNs by construction: :meth:`BayesianNetworkSpace.decoding_rules`
are :class:`~graphvae_nas.spaces.rules.LabelsOnceRules` (each variable once, ``max_parents``).

Sampling (the documented generator): a uniformly random variable order, then every pair
``(earlier, later)`` of that order is an arc with probability ``arc_prob``; with
``max_parents = k`` each node's parent set is drawn from that distribution conditioned on at
most ``k`` parents (truncated binomial size, then a uniform subset). With the default
``arc_prob = 0.5`` every (order, DAG compatible with the order) pair is equally likely.
"""
from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphvae_nas.errors import ArchitectureError, DataFormatError
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces.base import (
    INPUT,
    OUTPUT,
    Seed,
    SpaceBase,
    as_rng,
    register_space,
)
from graphvae_nas.spaces.bn_equivalence import class_members, equivalence_key
from graphvae_nas.spaces.constraints import GenerationConstraints

if TYPE_CHECKING:
    from graphvae_nas.spaces.rules import LabelsOnceRules

FORMATS = ("bnlearn", "dvae", "matrix")
"""The native formats, for :meth:`BayesianNetworkSpace.parse_as` and ``format_as``."""

_BAD_NAME_CHARS = set("[]|:,;")
_BLOCK = re.compile(r"\[([^\[\]]*)\]")

Masks = tuple[int, ...]
"""Parent sets as bit masks: ``masks[v]`` has bit ``p`` set when variable ``p`` is a parent of ``v``."""


def read_csv_header(path: str | Path) -> tuple[str, ...]:
    """The column names of a CSV file (its first line)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except FileNotFoundError:
        raise DataFormatError("no such file", path=str(path)) from None
    except IsADirectoryError:
        raise DataFormatError("is a directory, not a file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"cannot read the header: {exc}", path=str(path)) from None
    except csv.Error as exc:
        raise DataFormatError(f"malformed CSV header: {exc}", path=str(path), line=1) from None
    if not header:
        raise DataFormatError("empty file (expected a header line of variable names)",
                              path=str(path), line=1)
    return tuple(name.strip() for name in header)


def count_dags(n: int) -> int:
    """Number of labelled DAGs on ``n`` nodes (Robinson's recurrence; 783,702,329,343 for 8)."""
    a = [1]
    for m in range(1, n + 1):
        a.append(sum((-1) ** (k + 1) * math.comb(m, k) * 2 ** (k * (m - k)) * a[m - k]
                     for k in range(1, m + 1)))
    return a[n]


class BayesianNetworkSpace(SpaceBase):
    """DAGs over ``variables`` (names, each used exactly once), at most ``max_parents``
    parents per variable (unbounded when ``None``).

    Give ``variables`` or ``data`` (a CSV file whose header names them; the file is kept as
    :attr:`data_path` for scoring but is not part of :meth:`spec`, which identifies the set of
    structures only).
    """

    name = "bn"

    def __init__(self, variables: Sequence[str] | str | None = None, data: str | Path | None = None,
                 max_parents: int | None = None, arc_prob: float = 0.5) -> None:
        if (variables is None) == (data is None):
            raise ArchitectureError("bn: give exactly one of variables=A,B,... or data=FILE.csv")
        self.data_path: str | None = None
        if data is not None:
            self.data_path = str(data)
            variables = read_csv_header(self.data_path)
        names = (variables,) if isinstance(variables, str) else tuple(variables)  # type: ignore[arg-type]
        _check_names(names, self.data_path)
        if max_parents is not None and (isinstance(max_parents, bool) or not isinstance(max_parents, int)
                                        or max_parents < 0):
            raise ArchitectureError(f"bn: max_parents must be a non-negative integer, got {max_parents!r}")
        if isinstance(arc_prob, bool) or not isinstance(arc_prob, (int, float)) or not 0.0 <= arc_prob <= 1.0:
            raise ArchitectureError(f"bn: arc_prob must lie in [0, 1], got {arc_prob!r}")
        self.variables = names
        self.ops = names
        self.num_variables = len(names)
        self.max_nodes = len(names) + 2
        self.max_parents = max_parents
        self.arc_prob = float(arc_prob)
        self._index = {name: i for i, name in enumerate(names)}
        self._ops_sorted = tuple(sorted(names))

    sampler_fields = frozenset({"arc_prob"})
    """Spec fields that only shape :meth:`sample` (see :func:`~graphvae_nas.spaces.same_architectures`)."""
    label_fields = frozenset({"variables"})
    """Spec fields that only name things: a VAE of 8 variables serves any 8 (see
    :func:`~graphvae_nas.spaces.shape_spec`)."""

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "variables": list(self.variables),
                "max_parents": self.max_parents, "arc_prob": self.arc_prob}

    # ------------------------------------------------------------------ parent masks <-> DAG
    def parent_masks(self, arch: Architecture) -> Masks:
        """Parent sets of ``arch`` as bit masks over the variable indices (validates ``arch``)."""
        self.validate(arch)
        return self._masks(arch)

    def _masks(self, arch: Architecture) -> Masks:
        """Parent masks of an architecture already known to be valid."""
        n = self.num_variables
        index = self._index
        var_of = [-1] + [index[name] for name in arch.ops[1:-1]] + [-1]
        masks = [0] * n
        for s, d in arch.edges:
            if s and d <= n:
                masks[var_of[d]] |= 1 << var_of[s]
        return tuple(masks)

    def distance(self, a: Architecture, b: Architecture) -> int:
        """The number of arcs in one structure and not the other (a reversed arc counts 2)."""
        return sum(bin(x ^ y).count("1") for x, y in zip(self.parent_masks(a), self.parent_masks(b)))

    def parents(self, arch: Architecture) -> dict[str, tuple[str, ...]]:
        """``{variable: its parents in variable order}``."""
        masks = self.parent_masks(arch)
        return {name: self._names(masks[v]) for v, name in enumerate(self.variables)}

    def _names(self, mask: int) -> tuple[str, ...]:
        return tuple(self.variables[p] for p in range(self.num_variables) if mask >> p & 1)

    def from_masks(self, masks: Sequence[int], order: Sequence[int] | None = None) -> Architecture:
        """The architecture of parent ``masks``, nodes listed in ``order`` (variable indices, a
        topological order) or, by default, in bnlearn's order. Raises on a cycle."""
        n = self.num_variables
        masks = tuple(int(m) for m in masks)
        if len(masks) != n:
            raise ArchitectureError(f"bn: expected {n} parent sets, got {len(masks)}")
        full = (1 << n) - 1
        for v, m in enumerate(masks):
            if m < 0 or m & ~full or m >> v & 1:
                raise ArchitectureError(f"bn: bad parent set for {self.variables[v]!r}")
        self._check_max_parents(masks)
        if order is None:
            order = self._bnlearn_order(masks)
        else:
            self._check_order(masks, order)
        return self._build(masks, order)

    def from_parents(self, parents: Mapping[str, Iterable[str]]) -> Architecture:
        """The architecture of ``{variable: parent names}`` (variables left out have none)."""
        masks = [0] * self.num_variables
        for child, names in parents.items():
            v = self._var(child)
            for p in names:
                masks[v] |= 1 << self._var(p)
        return self.from_masks(masks)

    def _build(self, masks: Masks, order: Sequence[int]) -> Architecture:
        """Architecture of valid masks listed in a valid topological ``order`` (no checks)."""
        n = self.num_variables
        pos = [0] * n
        for i, v in enumerate(order):
            pos[v] = i + 1
        has_child = 0
        for m in masks:
            has_child |= m
        edges = []
        for v in order:
            m = masks[v]
            if not m:
                edges.append((0, pos[v]))
            else:
                p = 0
                while m:
                    if m & 1:
                        edges.append((pos[p], pos[v]))
                    m >>= 1
                    p += 1
            if not has_child >> v & 1:
                edges.append((pos[v], n + 1))
        edges.sort()
        ops = (INPUT, *(self.variables[v] for v in order), OUTPUT)
        return Architecture._trusted(ops, tuple(edges))

    def _bnlearn_order(self, masks: Masks) -> list[int]:
        """Nodes by depth (roots 1, else 1 + deepest parent), ties by variable index; raises on a cycle."""
        order: list[int] = []
        placed = 0
        remaining = list(range(self.num_variables))
        while remaining:
            ready = [v for v in remaining if not masks[v] & ~placed]
            if not ready:
                names = [self.variables[v] for v in remaining]
                raise ArchitectureError(f"bn: the arcs form a cycle among {names}")
            order.extend(ready)
            for v in ready:
                placed |= 1 << v
            remaining = [v for v in remaining if not placed >> v & 1]
        return order

    def _check_order(self, masks: Masks, order: Sequence[int]) -> None:
        if sorted(order) != list(range(self.num_variables)):
            raise ArchitectureError(f"bn: order {list(order)} is not a permutation of the variables")
        seen = 0
        for v in order:
            if masks[v] & ~seen:
                raise ArchitectureError(
                    f"bn: {self.variables[v]!r} is listed before its parents "
                    f"{list(self._names(masks[v] & ~seen))}")
            seen |= 1 << v

    def _check_max_parents(self, masks: Masks) -> None:
        if self.max_parents is None:
            return
        for v, m in enumerate(masks):
            if m.bit_count() > self.max_parents:
                raise ArchitectureError(
                    f"bn: {self.variables[v]!r} has {m.bit_count()} parents > max_parents={self.max_parents}")

    def _var(self, name: str) -> int:
        try:
            return self._index[name]
        except (KeyError, TypeError):
            raise ArchitectureError(
                f"bn: unknown variable {name!r} (variables: {list(self.variables)})") from None

    # ------------------------------------------------------------------ validity
    def validate(self, arch: Architecture) -> None:
        n = self.num_variables
        if arch.num_nodes != n + 2:
            raise ArchitectureError(
                f"bn: expected {n + 2} nodes (input, {n} variables, output), got {arch.num_nodes}")
        ops = arch.ops
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise ArchitectureError(f"bn: first node must be {INPUT!r} and last {OUTPUT!r}")
        if tuple(sorted(ops[1:-1])) != self._ops_sorted:
            counts: dict[str, int] = {}
            for op in ops[1:-1]:
                counts[op] = counts.get(op, 0) + 1
            repeated = sorted(k for k, c in counts.items() if c > 1)
            unknown = sorted(k for k in counts if k not in self._index)
            missing = [v for v in self.variables if v not in counts]
            raise ArchitectureError(
                f"bn: every variable must appear exactly once (repeated: {repeated}, "
                f"unknown: {unknown}, missing: {missing})")
        from_input = [False] * (n + 2)
        to_output = [False] * (n + 2)
        has_parent = [False] * (n + 2)
        has_child = [False] * (n + 2)
        parents = [0] * (n + 2)
        for s, d in arch.edges:
            if s == 0:
                if d == n + 1:
                    raise ArchitectureError("bn: input may not feed output directly")
                from_input[d] = True
            elif d == n + 1:
                to_output[s] = True
            else:
                has_parent[d] = has_child[s] = True
                parents[d] += 1
        for v in range(1, n + 1):
            name = ops[v]
            if has_parent[v] == from_input[v]:
                raise ArchitectureError(
                    f"bn: input must feed exactly the variables without parents; {name!r} "
                    + ("has parents and an input edge" if has_parent[v] else "has neither"))
            if has_child[v] == to_output[v]:
                raise ArchitectureError(
                    f"bn: exactly the variables without children must feed output; {name!r} "
                    + ("has children and an output edge" if has_child[v] else "has neither"))
            if self.max_parents is not None and parents[v] > self.max_parents:
                raise ArchitectureError(
                    f"bn: {name!r} has {parents[v]} parents > max_parents={self.max_parents}")

    def generation_constraints(self) -> GenerationConstraints:
        """The static node layout: input, ``n`` variable positions (any variable), output;
        arcs between variables and input edges free, output joined to the loose ends. It cannot
        say "each variable exactly once", "an input edge exactly when a node has no parents" or
        ``max_parents``; decoders use :meth:`decoding_rules`, which do, so this layout is only
        a description (e.g. for tools that want per-position masks)."""
        n = self.num_variables
        types = [[INPUT]] + [list(self.variables)] * n + [[OUTPUT]]
        return GenerationConstraints.fixed(
            self.vocabulary, types, free_edges=[(s, d) for d in range(1, n + 1) for s in range(d)])

    def decoding_rules(self) -> LabelsOnceRules:
        """Each variable exactly once, any DAG over them, at most ``max_parents`` parents
        (:class:`~graphvae_nas.spaces.rules.LabelsOnceRules`): every decode is a valid BN."""
        from graphvae_nas.spaces.rules import LabelsOnceRules

        return LabelsOnceRules(self.vocabulary, self.variables, self.max_parents)

    # ------------------------------------------------------------------ formats
    def parse(self, text: str) -> Architecture:
        """Any of the native formats: ``[[...`` D-VAE rows, ``[...`` a bnlearn model string,
        otherwise an adjacency matrix."""
        return self.parse_as(text, _detect_format(text))

    def format(self, arch: Architecture) -> str:
        """bnlearn's model string (see the module docstring for the node order)."""
        return self.to_modelstring(arch)

    def parse_as(self, text: str, fmt: str) -> Architecture:
        """Read ``text`` in format ``fmt`` (one of :data:`FORMATS`)."""
        if fmt == "bnlearn":
            return self.from_modelstring(text)
        if fmt == "dvae":
            return self.from_dvae(text)
        if fmt == "matrix":
            return self.from_matrix_text(text)
        raise ArchitectureError(f"bn: unknown format {fmt!r} (known: {list(FORMATS)})")

    def format_as(self, arch: Architecture, fmt: str) -> str:
        """Write ``arch`` in format ``fmt`` (one of :data:`FORMATS`)."""
        if fmt == "bnlearn":
            return self.to_modelstring(arch)
        if fmt == "dvae":
            return str(self.to_rows(arch))
        if fmt == "matrix":
            return " ".join(str(int(x)) for x in self.to_matrix(arch).reshape(-1))
        raise ArchitectureError(f"bn: unknown format {fmt!r} (known: {list(FORMATS)})")

    # bnlearn model string
    def to_modelstring(self, arch: Architecture) -> str:
        masks = self.parent_masks(arch)
        parts = []
        for v in self._bnlearn_order(masks):
            if masks[v]:
                parts.append(f"[{self.variables[v]}|{':'.join(self._names(masks[v]))}]")
            else:
                parts.append(f"[{self.variables[v]}]")
        return "".join(parts)

    def from_modelstring(self, text: str) -> Architecture:
        if not isinstance(text, str):
            raise ArchitectureError(f"bn: a model string must be text, got {text!r}")
        body = text.strip()
        blocks = _BLOCK.findall(body)
        if not blocks or "".join(f"[{b}]" for b in blocks) != body:
            raise ArchitectureError(
                f"bn: not a bnlearn model string such as '[A][B|A]': {text!r}")
        masks = [0] * self.num_variables
        seen: set[int] = set()
        for block in blocks:
            node, bar, rest = block.partition("|")
            v = self._var(node)
            if v in seen:
                raise ArchitectureError(f"bn: variable {node!r} appears twice in {text!r}")
            seen.add(v)
            if bar:
                if not rest:
                    raise ArchitectureError(f"bn: empty parent list in [{block}]")
                for name in rest.split(":"):
                    p = self._var(name)
                    if p == v:
                        raise ArchitectureError(f"bn: {node!r} cannot be its own parent")
                    if masks[v] >> p & 1:
                        raise ArchitectureError(f"bn: parent {name!r} repeated in [{block}]")
                    masks[v] |= 1 << p
        missing = [name for i, name in enumerate(self.variables) if i not in seen]
        if missing:
            raise ArchitectureError(f"bn: the model string lacks variables {missing}")
        return self.from_masks(masks)

    # D-VAE rows
    def to_rows(self, arch: Architecture) -> list[list[int]]:
        """D-VAE rows in ``arch``'s listing order."""
        self.validate(arch)
        n = self.num_variables
        rows = [[self._index[name]] + [0] * i for i, name in enumerate(arch.ops[1:-1])]
        for s, d in arch.edges:
            if s and d <= n:
                rows[d - 1][s] = 1
        return rows

    def from_rows(self, rows: Sequence[Sequence[int]]) -> Architecture:
        """The DAG of D-VAE rows, listed in their order."""
        n = self.num_variables
        if not isinstance(rows, (list, tuple)) or len(rows) != n:
            raise ArchitectureError(f"bn: expected {n} D-VAE rows (one per variable), got {rows!r}")
        order: list[int] = []
        masks = [0] * n
        for i, row in enumerate(rows):
            if not isinstance(row, (list, tuple)) or len(row) != i + 1:
                raise ArchitectureError(f"bn: row {i} must be [type, {i} arc bits], got {row!r}")
            t = row[0]
            if type(t) is not int or not 0 <= t < n:
                raise ArchitectureError(f"bn: row {i}: type {t!r} is not a variable index 0..{n - 1}")
            if t in order:
                raise ArchitectureError(
                    f"bn: row {i}: variable {self.variables[t]!r} (type {t}) listed twice")
            for j, bit in enumerate(row[1:]):
                if type(bit) is not int or bit not in (0, 1):
                    raise ArchitectureError(f"bn: row {i}: arc bit {j} is {bit!r}, not 0 or 1")
                if bit:
                    masks[t] |= 1 << order[j]
            order.append(t)
        masks_t = tuple(masks)
        self._check_max_parents(masks_t)
        return self._build(masks_t, order)

    def from_dvae(self, text: str) -> Architecture:
        try:
            rows = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            raise ArchitectureError(f"bn: not a D-VAE row list ({exc}): {text!r}") from None
        return self.from_rows(rows)

    # adjacency matrix
    def to_matrix(self, arch: Architecture) -> np.ndarray:
        """``uint8 [n, n]`` with ``[p, c] = 1`` for an arc from variable ``p`` to ``c``."""
        masks = self.parent_masks(arch)
        n = self.num_variables
        mat = np.zeros((n, n), dtype=np.uint8)
        for c, m in enumerate(masks):
            for p in range(n):
                if m >> p & 1:
                    mat[p, c] = 1
        return mat

    def from_matrix(self, matrix: Any) -> Architecture:
        mat = np.asarray(matrix)
        n = self.num_variables
        if mat.shape != (n, n):
            raise ArchitectureError(f"bn: expected a {n} x {n} adjacency matrix, got shape {mat.shape}")
        if not np.isin(mat, (0, 1)).all():
            raise ArchitectureError("bn: adjacency matrix entries must be 0 or 1")
        if mat.diagonal().any():
            raise ArchitectureError("bn: adjacency matrix has a self-loop on the diagonal")
        masks = [sum(1 << p for p in range(n) if mat[p, c]) for c in range(n)]
        return self.from_masks(masks)

    def from_matrix_text(self, text: str) -> Architecture:
        tokens = text.split() if isinstance(text, str) else None
        n = self.num_variables
        if tokens is None or len(tokens) != n * n or any(t not in ("0", "1") for t in tokens):
            raise ArchitectureError(
                f"bn: an adjacency matrix is {n * n} digits 0/1 separated by spaces, got {text!r}")
        return self.from_matrix(np.array([int(t) for t in tokens]).reshape(n, n))

    # ------------------------------------------------------------------ sampling and moves
    def sample(self, seed: Seed = None) -> Architecture:
        """A random DAG from the generator in the module docstring."""
        rng = as_rng(seed)
        n = self.num_variables
        order = list(range(n))
        rng.shuffle(order)
        p = self.arc_prob
        k = self.max_parents
        masks = [0] * n
        for i, v in enumerate(order):
            if k is not None and i > k:
                weights = [math.comb(i, m) * p ** m * (1 - p) ** (i - m) for m in range(k + 1)]
                size = rng.choices(range(k + 1), weights)[0] if sum(weights) > 0 else k
                chosen = rng.sample(order[:i], size)
            else:
                chosen = [u for u in order[:i] if rng.random() < p]
            for u in chosen:
                masks[v] |= 1 << u
        masks_t = tuple(masks)
        return self._build(masks_t, self._bnlearn_order(masks_t))

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every DAG one arc addition, removal or reversal away (bnlearn's hill-climbing moves),
        keeping acyclicity and ``max_parents``."""
        return [self._build(m, self._bnlearn_order(m)) for m in self.neighbour_masks(self.parent_masks(arch))]

    def mutate(self, arch: Architecture, seed: Seed = None) -> Architecture:
        """A uniformly random neighbour (the same choice as the base class's for the same
        seed), building only the chosen one."""
        options = self.neighbour_masks(self.parent_masks(arch))
        if not options:
            raise ArchitectureError(f"{self.name}: architecture has no neighbours to mutate to")
        masks = as_rng(seed).choice(options)
        return self._build(masks, self._bnlearn_order(masks))

    def equivalence_key(self, arch: Architecture) -> str:
        """Equal exactly for Markov-equivalent structures (same skeleton and v-structures;
        :mod:`graphvae_nas.spaces.bn_equivalence`), which BIC and BDeu score alike."""
        skeleton, colliders = equivalence_key(self.parent_masks(arch))
        return repr((skeleton, colliders))

    def class_neighbours(self, arch: Architecture, members: int = 64) -> list[Architecture]:
        """The one-arc moves (:meth:`neighbours`) of every member of ``arch``'s equivalence
        class (at most ``members`` of them), one structure per class, none in ``arch``'s class:
        the moves between classes that a greedy equivalence search takes."""
        own = self.parent_masks(arch)
        seen = {equivalence_key(own)}
        found = []
        for member in class_members(own, members):
            for masks in self.neighbour_masks(member):
                key = equivalence_key(masks)
                if key not in seen:
                    seen.add(key)
                    found.append(self._build(masks, self._bnlearn_order(masks)))
        return found

    def neighbour_masks(self, masks: Masks) -> list[Masks]:
        """Parent masks of every neighbour of ``masks`` (see :meth:`neighbours`)."""
        n = self.num_variables
        k = self.max_parents
        anc = [0] * n
        for v in self._bnlearn_order(masks):
            a, m, p = 0, masks[v], 0
            while m:
                if m & 1:
                    a |= (1 << p) | anc[p]
                m >>= 1
                p += 1
            anc[v] = a
        result: list[Masks] = []
        for j in range(n):
            for i in range(n):
                if i == j:
                    continue
                bit_i, bit_j = 1 << i, 1 << j
                if masks[j] & bit_i:  # arc i -> j: remove it, or reverse it
                    removed = list(masks)
                    removed[j] &= ~bit_i
                    result.append(tuple(removed))
                    if k is not None and masks[i].bit_count() >= k:
                        continue
                    others, p, via = removed[j], 0, 0
                    while others:
                        if others & 1:
                            via |= (1 << p) | anc[p]
                        others >>= 1
                        p += 1
                    if not via & bit_i:  # no other path i ~> j
                        removed[i] |= bit_j
                        result.append(tuple(removed))
                elif not anc[i] & bit_j and (k is None or masks[j].bit_count() < k):
                    added = list(masks)
                    added[j] |= bit_i
                    result.append(tuple(added))
        return result


def _detect_format(text: str) -> str:
    if not isinstance(text, str):
        raise ArchitectureError(f"bn: expected text, got {text!r}")
    body = text.lstrip()
    if body.startswith("["):
        return "dvae" if body[1:].lstrip().startswith("[") else "bnlearn"
    return "matrix"


def _check_names(names: tuple[str, ...], path: str | None) -> None:
    where = f" (header of {path})" if path else ""
    if not names:
        raise ArchitectureError(f"bn: no variables{where}")
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not name or name != name.strip():
            raise ArchitectureError(f"bn: variable name {name!r} is empty or has surrounding spaces{where}")
        bad = sorted(_BAD_NAME_CHARS & set(name))
        if bad:
            raise ArchitectureError(f"bn: variable name {name!r} contains {bad}{where}")
        if name in (INPUT, OUTPUT):
            raise ArchitectureError(f"bn: {name!r} is a reserved node label{where}")
        if name in seen:
            raise ArchitectureError(f"bn: variable {name!r} listed twice{where}")
        seen.add(name)


register_space("bn", BayesianNetworkSpace)
