"""Start-up time of the ``graphvae-nas`` command's help screens; prints JSON.

Each command runs ``--repeat`` times in a fresh interpreter (``python -m graphvae_nas ...``);
we report the median and the minimum wall time, and whether building the parser imported torch
(it must not: torch alone takes seconds to import). Target: ``graphvae-nas --help`` under 1 s.
Usage: ``python benchmarks/bench_cli_startup.py [--repeat 5]``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (["--help"], ["search", "--help"], ["vae", "train", "--help"], ["data", "import", "--help"])
PROBE = ("import json, sys; from graphvae_nas.cli import build_parser; build_parser(); "
         "print(json.dumps(sorted(m for m in ('torch', 'torch_geometric', 'botorch', 'matplotlib') "
         "if m in sys.modules)))")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def time_command(args: list[str], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "graphvae_nas", *args], check=True, env=_env(),
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (default: 5)")
    args = parser.parse_args()
    heavy = json.loads(subprocess.run([sys.executable, "-c", PROBE], check=True, env=_env(),
                                      capture_output=True, text=True).stdout)
    result = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "repeat": args.repeat,
              "heavy_modules_imported_by_build_parser": heavy,
              "commands": {"graphvae-nas " + " ".join(c): time_command(c, args.repeat) for c in COMMANDS},
              "target_s": {"graphvae-nas --help": 1.0}}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
