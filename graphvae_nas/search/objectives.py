"""Named objectives of a study, each maximised or minimised.

A study has one or more objectives. Evaluations carry the raw value of each (``Evaluation.values``);
wherever a search compares values (the strategies, ``Study.best``, the Pareto front) they are first
*oriented* so that larger is better: a ``min`` objective's values are negated. Raw values are what
the store and the summaries keep.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphvae_nas.errors import GraphVAENASError

DIRECTIONS = ("max", "min")


@dataclass(frozen=True)
class Objective:
    """A metric name and whether the search maximises (``"max"``) or minimises (``"min"``) it."""

    name: str
    direction: str = "max"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise GraphVAENASError(f"an objective needs a non-empty name, got {self.name!r}")
        if self.name != self.name.strip() or ":" in self.name:
            raise GraphVAENASError(f"objective name {self.name!r} may not contain ':' or "
                                   "surrounding spaces")
        if self.direction not in DIRECTIONS:
            raise GraphVAENASError(f"objective {self.name!r}: direction must be 'max' or 'min', "
                                   f"got {self.direction!r}")

    def orient(self, value: float) -> float:
        """``value`` turned larger-is-better: unchanged for ``max``, negated for ``min``."""
        return value if self.direction == "max" else -value

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "direction": self.direction}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Objective:
        if not isinstance(data, Mapping) or set(data) != {"name", "direction"}:
            raise GraphVAENASError(f"an objective is {{'name': ..., 'direction': 'max'|'min'}}, "
                                   f"got {data!r}")
        return cls(data["name"], data["direction"])

    def __str__(self) -> str:
        return f"{self.name}:{self.direction}"


def parse_objective(text: str) -> Objective:
    """``"name"`` or ``"name:max"`` or ``"name:min"`` (default direction: max)."""
    if not isinstance(text, str):
        raise GraphVAENASError(f"an objective is written 'name[:max|min]', got {text!r}")
    name, sep, direction = text.strip().rpartition(":")
    if not sep:
        name, direction = direction, "max"
    if not name:
        raise GraphVAENASError(f"objective {text!r} has no name (write 'name[:max|min]')")
    if direction not in DIRECTIONS:
        raise GraphVAENASError(f"objective {text!r}: direction must be 'max' or 'min', "
                               f"got {direction!r} (write 'name[:max|min]')")
    return Objective(name, direction)


def as_objectives(objectives: Iterable[Objective | str] | Objective | str) -> tuple[Objective, ...]:
    """Objectives from :class:`Objective` objects or ``"name[:max|min]"`` strings; at least one,
    names distinct."""
    if isinstance(objectives, (Objective, str)):
        objectives = [objectives]
    out = tuple(o if isinstance(o, Objective) else parse_objective(o) for o in objectives)
    if not out:
        raise GraphVAENASError("a study needs at least one objective")
    names = [o.name for o in out]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise GraphVAENASError(f"objective(s) {', '.join(repeated)} declared more than once")
    return out


def oriented_row(objectives: Sequence[Objective], values: Mapping[str, float]) -> list[float] | None:
    """The values of ``objectives`` in order, each larger-is-better; None when one is missing."""
    if any(o.name not in values for o in objectives):
        return None
    return [o.orient(float(values[o.name])) for o in objectives]
