"""Facts of the NAS-Bench-201 benchmark that its experiments use: the fixed hypervolume
reference points of the objective pairs the benchmarks measure (raw units).

* accuracy (``cifar10_valid``, ``cifar10_test``, in %): **10.0**, chance level on CIFAR-10's
  ten classes. A cell that learns nothing adds no volume, and every cell that learns
  something does (the tables' minimum is 9.7 valid / 10.0 test: a handful of chance-level
  cells lie on or outside the box and count for nothing);
* ``hw_edgegpu_latency``: **12.0 ms**, just above the table's slowest cell (11.69 ms);
* ``hw_pixel3_latency``: **37.0 ms**, just above the table's slowest cell (36.77 ms);
* ``hw_edgegpu_energy``: **49.0 mJ** (slowest 48.78).

So every measured cell but the chance-level ones is inside the box and the true front's
hypervolume is the volume of the whole attainable region.
"""
from __future__ import annotations

REFERENCE_VALUES: dict[str, float] = {
    "cifar10_valid": 10.0,
    "cifar10_test": 10.0,
    "hw_edgegpu_latency": 12.0,
    "hw_pixel3_latency": 37.0,
    "hw_edgegpu_energy": 49.0,
}
"""Raw reference value of each objective that has a fixed one (see the module docstring)."""

REFERENCE_POINTS: dict[frozenset[str], dict[str, float]] = {
    frozenset(pair): {name: REFERENCE_VALUES[name] for name in pair}
    for pair in [(acc, cost) for acc in ("cifar10_valid", "cifar10_test")
                 for cost in ("hw_edgegpu_latency", "hw_pixel3_latency", "hw_edgegpu_energy")]
}
"""The fixed reference point (raw units, by objective name) of each documented objective pair;
pass it to :func:`graphvae_nas.search.pareto.reference_point` as ``known``."""
