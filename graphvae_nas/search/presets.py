"""Named presets: option values that replace a strategy's generic defaults for one kind of
search, owned by the search layer and checked against the configs when the package loads.

A preset is chosen with ``preset=NAME`` (``--preset NAME`` on the command line); ``"auto"``
chooses by the documented rule of :func:`automatic_preset`; ``None`` (``--preset none``) uses
the configs' defaults. Every run echoes the preset it uses and its values, and the study
header and summary store them (the strategy's ``spec()``).
"""
from __future__ import annotations

from typing import Any

from graphvae_nas.errors import GraphVAENASError

_FAST_GP = {"acquisition": {"name": "qlogei", "shortlist": 30},
            "gp": {"kernel": "isotropic", "fit_points": 200}}
_NEAR_DECODES = {"decode": {"scale": 0.02, "explore": 0}}
_TRAINING = {"n_init": 8}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "bn": {
        "bo": {**_NEAR_DECODES, **_FAST_GP, "retrain": {"every": 50, "k": 0.001, "epochs": 2}},
        "bo-structure": {**_NEAR_DECODES, **_FAST_GP, "mutate": {"top": 10},
                         "equivalence": True},
    },
    "training": {name: dict(_TRAINING) for name in ("bo", "bo-pool", "bo-gnn", "bo-structure")},
}
"""Per preset, per strategy: the options that replace the config's defaults.

* ``bn`` (chosen automatically for Bayesian-network spaces): the options of the best
  decode-mode ``bo`` row and of the best ``bo-structure`` row on the Asia BIC at 30 seeds
  (docs/results/asia-bic.md): decodes near their centre (0.02 of the box, where the bn VAE's
  decodes stay close), no uniform decodes, a GP fitted cheaply, for ``bo`` weighted retraining
  of the VAE (a fine-tuning every 50 evaluations), for ``bo-structure`` mutations of the 10
  best over Markov equivalence classes. Tuned on one data set (Asia).
* ``training`` (chosen automatically when every proposal is trained for real): 8 random
  architectures instead of 10 before the latent strategies take over, since each costs a
  training.
"""

PRESET_HELP = {
    "bn": "automatic for bn spaces: the best Asia-BIC settings of bo and bo-structure",
    "training": "automatic for real training: latent strategies start from 8 random "
                "architectures",
}


def preset_names() -> tuple[str, ...]:
    return tuple(PRESETS)


def automatic_preset(space_name: str | None, *, training: bool = False) -> str | None:
    """The documented automatic choice: ``bn`` for a Bayesian-network space, ``training``
    when proposals are trained for real, else none."""
    if space_name == "bn":
        return "bn"
    return "training" if training else None


def preset_options(preset: str | None, strategy: str) -> dict[str, Any]:
    """The options preset ``preset`` sets for ``strategy`` (none for ``None``)."""
    if preset is None:
        return {}
    if preset not in PRESETS:
        raise GraphVAENASError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)}, none)")
    return PRESETS[preset].get(strategy, {})


def check_presets() -> None:
    """Build every preset's config; a preset naming a missing or invalid option fails here,
    at import of :mod:`graphvae_nas.search.factory`."""
    from graphvae_nas.search.configs import make_config
    from graphvae_nas.search.factory import strategy_entry

    for preset, per_strategy in PRESETS.items():
        for strategy, options in per_strategy.items():
            make_config(strategy_entry(strategy).config, options,
                        strategy=f"{strategy} (preset {preset})")
