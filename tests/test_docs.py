"""The generated docs are current: a stale options reference fails here."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_options_reference_in_docs_is_generated_from_the_configs() -> None:
    """docs/strategies.md is exactly what `graphvae-nas search --list-options --markdown`
    prints; regenerate it after changing an option, a preset or a strategy."""
    from graphvae_nas.search.options_reference import markdown

    assert (ROOT / "docs" / "strategies.md").read_text() == markdown(), (
        "docs/strategies.md is stale: graphvae-nas search --list-options --markdown "
        "> docs/strategies.md")


def test_every_option_has_a_line_saying_what_it_does() -> None:
    from graphvae_nas.search.factory import available_strategies, strategy_entry
    from graphvae_nas.search.options_reference import WHEN_TO_PICK, rows

    assert all(row.help.strip() for row in rows())
    assert set(WHEN_TO_PICK) == set(available_strategies())
    assert all(strategy_entry(name).description for name in available_strategies())
