"""Decomposable scores of Bayesian-network structures on discrete data (BIC, BDeu, log-likelihood).

The score of a DAG is the sum over variables of a *family score* of the variable and its
parent set, so family scores are computed once (vectorised counting with numpy) and cached;
scoring a structure is then ``n`` dictionary look-ups. Definitions follow bnlearn:

* ``loglik``: maximum-likelihood log-likelihood, natural log,
  ``sum_jk N_ijk ln(N_ijk / N_ij)``.
* ``bic``: ``loglik - 0.5 ln(N) (r_i - 1) q_i`` with ``r_i`` the variable's levels and ``q_i``
  the number of parent configurations (the product of the parents' levels, observed or not).
  Larger is better (bnlearn's sign).
* ``bdeu``: the log BDeu marginal likelihood with imaginary (equivalent) sample size ``iss``
  (bnlearn's ``bde`` score; default ``iss = 1`` as in bnlearn 5, whose 3.x versions used 10).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from graphvae_nas.errors import ArchitectureError, DataFormatError
from graphvae_nas.evaluation.base import Evaluation
from graphvae_nas.evaluation.discrete_data import DiscreteData, read_discrete_csv
from graphvae_nas.graph import Architecture
from graphvae_nas.spaces.bn import BayesianNetworkSpace

SCORES = ("bic", "bdeu", "loglik")
_BINCOUNT_LIMIT = 1 << 22


class FamilyScores:
    """Cached family scores of one data set: ``family(v, parent_mask)``."""

    def __init__(self, data: DiscreteData, score: str = "bic", iss: float = 1.0) -> None:
        if score not in SCORES:
            raise DataFormatError(f"unknown score {score!r} (known: {list(SCORES)})", field="score")
        if score == "bdeu" and not (isinstance(iss, (int, float)) and iss > 0 and math.isfinite(iss)):
            raise DataFormatError(f"iss must be a positive number, got {iss!r}", field="iss")
        self.data = data
        self.score = score
        self.iss = float(iss)
        self.num_variables = len(data.names)
        self._codes = [np.ascontiguousarray(data.codes[:, j]) for j in range(self.num_variables)]
        self._card = data.cardinalities
        self._log_n = math.log(data.num_rows)
        self._cache: list[dict[int, float]] = [{} for _ in range(self.num_variables)]

    def family(self, child: int, parent_mask: int) -> float:
        """Score of ``child`` with the parents in ``parent_mask`` (bit ``p`` = variable ``p``)."""
        cache = self._cache[child]
        value = cache.get(parent_mask)
        if value is None:
            value = cache[parent_mask] = self._compute(child, parent_mask)
        return value

    def total(self, masks: Sequence[int]) -> float:
        """Score of the DAG with parent ``masks`` (one per variable)."""
        return sum(self.family(v, m) for v, m in enumerate(masks))

    def counts(self, child: int, parents: Sequence[int]) -> np.ndarray:
        """``N_ijk`` of the observed parent configurations ``j`` (rows) and child levels ``k``."""
        r = self._card[child]
        config = np.zeros(self.data.num_rows, dtype=np.int64)
        q = 1
        for p in parents:
            config = config * self._card[p] + self._codes[p]
            q *= self._card[p]
        joint = config * r + self._codes[child]
        if q * r <= _BINCOUNT_LIMIT:
            table = np.bincount(joint, minlength=q * r).reshape(q, r)
            return table[table.sum(axis=1) > 0]
        keys, counts = np.unique(joint, return_counts=True)
        rows, row_of = np.unique(keys // r, return_inverse=True)
        table = np.zeros((len(rows), r), dtype=np.int64)
        table[row_of, keys % r] = counts
        return table

    def _compute(self, child: int, mask: int) -> float:
        parents = [p for p in range(self.num_variables) if mask >> p & 1]
        table = self.counts(child, parents).astype(np.float64)
        r = self._card[child]
        q = math.prod(self._card[p] for p in parents)
        if self.score == "bdeu":
            from scipy.special import gammaln  # imported here: BIC alone does not need scipy

            a_j = self.iss / q
            a_jk = a_j / r
            n_j = table.sum(axis=1)
            return float(np.sum(gammaln(a_j) - gammaln(a_j + n_j))
                         + np.sum(gammaln(a_jk + table) - gammaln(a_jk)))
        n_j = table.sum(axis=1, keepdims=True)
        nz = table > 0
        loglik = float(np.sum(table[nz] * np.log((table / n_j)[nz])))
        if self.score == "loglik":
            return loglik
        return loglik - 0.5 * self._log_n * (r - 1) * q

    def local_scores(self, child: int, max_parents: int | None = None) -> np.ndarray:
        """Family scores of ``child`` for every mask ``0 .. 2^n - 1`` (``-inf`` where the mask
        holds ``child`` itself or more than ``max_parents`` parents)."""
        n = self.num_variables
        out = np.full(1 << n, -np.inf)
        for mask in range(1 << n):
            if mask >> child & 1 or (max_parents is not None and mask.bit_count() > max_parents):
                continue
            out[mask] = self.family(child, mask)
        return out


def load_bn_data(space: BayesianNetworkSpace, data: DiscreteData | str | Path | None = None,
                 *, max_levels: int | None = None) -> DiscreteData:
    """The columns of ``space``'s variables from ``data`` (default: the space's ``data=`` file)."""
    if data is None:
        if space.data_path is None:
            raise DataFormatError("no data to score on: give a CSV file (or build the space with "
                                  "bn:data=FILE.csv)", field="data")
        data = space.data_path
    if not isinstance(data, DiscreteData):
        data = read_discrete_csv(data, **({"max_levels": max_levels} if max_levels else {}))
    return data.select(space.variables)


class BNScoreEvaluator:
    """Scores BN structures of ``space`` on discrete data (an :class:`Evaluator`).

    The objective is the score itself (larger is better for all three), named after the score
    (``bic``, ``bdeu`` or ``loglik``: :attr:`objective`) and also recorded as that metric.
    """

    def __init__(self, space: BayesianNetworkSpace, data: DiscreteData | str | Path | None = None,
                 score: str = "bic", iss: float = 1.0) -> None:
        self.space = space
        self.data = load_bn_data(space, data)
        self.scores = FamilyScores(self.data, score, iss)
        self.score_name = score
        self.objective = score

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": "bn-score", "score": self.score_name, "data": self.data.path,
                                "sha256": self.data.sha256, "rows": self.data.num_rows,
                                "variables": list(self.data.names)}
        if self.score_name == "bdeu":
            spec["iss"] = self.scores.iss
        return spec

    def score(self, arch: Architecture) -> float:
        """The score of a valid structure (raises :class:`ArchitectureError` otherwise)."""
        return self.scores.total(self.space.parent_masks(arch))

    def score_many(self, archs: Iterable[Architecture]) -> np.ndarray:
        """Scores of many structures (family scores shared through the cache)."""
        return np.fromiter((self.score(a) for a in archs), dtype=np.float64)

    def evaluate(self, arch: Architecture) -> Evaluation:
        try:
            value = self.score(arch)
        except ArchitectureError as exc:
            return Evaluation(None, failure=str(exc))
        return Evaluation(value, {self.score_name: value}, values={self.score_name: value})
