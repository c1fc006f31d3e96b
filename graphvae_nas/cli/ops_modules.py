"""``--ops-module``: import the user's modules that register network ops for custom spaces."""
from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from graphvae_nas.errors import GraphVAENASError


def import_ops_modules(names: Sequence[str]) -> list[ModuleType]:
    """Import each of ``names``: a dotted module name on ``sys.path`` (the current folder
    included, as for ``python -m``) or the path of a ``.py`` file. Errors name the module."""
    modules = []
    for name in names:
        try:
            if name.endswith(".py"):
                path = Path(name)
                if not path.is_file():
                    raise FileNotFoundError(f"no such file {name!r}")
                spec = importlib.util.spec_from_file_location(f"_graphvae_nas_ops_{path.stem}", path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
            else:
                if "" not in sys.path and "." not in sys.path:
                    sys.path.insert(0, "")
                module = importlib.import_module(name)
        except Exception as exc:  # any error while importing user code
            raise GraphVAENASError(f"--ops-module {name}: cannot import it "
                                   f"({type(exc).__name__}: {exc})") from None
        modules.append(module)
    return modules
