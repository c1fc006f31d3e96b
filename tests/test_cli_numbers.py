"""Numeric command-line options: 0 and negative values are honoured where meaningful, else
refused by argparse (exit 2, naming the option), never replaced by a default."""
from __future__ import annotations

import argparse

import pytest

from graphvae_nas.cli import build_parser, main
from graphvae_nas.cli.numbers import (
    nonnegative_float,
    nonnegative_int,
    open_fraction,
    positive_float,
    positive_int,
)

# A valid command line for each sub-command; the option under test is appended.
BASE = {
    "search": ["search"],
    "train": ["train", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"],
    "vae train": ["vae", "train", "--dataset", "d.jsonl", "--out", "m.pt"],
    "vae eval": ["vae", "eval", "m.pt", "--dataset", "d.jsonl"],
    "vae sample": ["vae", "sample", "m.pt", "-o", "s.jsonl"],
    "data split": ["data", "split", "d.jsonl", "--train-out", "a.jsonl", "--test-out", "b.jsonl"],
    "data sample": ["data", "sample", "--space", "nb201", "-o", "s.jsonl"],
    "data show": ["data", "show", "d.jsonl"],
}

REFUSED = [  # (command, option, values that must be refused)
    ("search", "--budget", ["0", "-1"]),
    ("search", "--batch-size", ["0", "-3"]),
    ("search", "--threads", ["0", "-1"]),
    ("search", "--seed", ["-1"]),
    ("search", "--gpus-per-trial", ["-0.5"]),
    ("search", "--trial-timeout", ["0", "-1"]),
    ("search", "--epochs", ["0", "-2"]),
    ("search", "--train-batch-size", ["0"]),
    ("search", "--lr", ["0", "-0.1", "nan", "inf"]),
    ("search", "--width", ["0"]),
    ("search", "--cells", ["0", "-1"]),
    ("train", "--epochs", ["0"]),
    ("train", "--train-batch-size", ["0"]),
    ("train", "--lr", ["0"]),
    ("train", "--width", ["0"]),
    ("train", "--cells", ["0"]),
    ("train", "--threads", ["0"]),
    ("train", "--seed", ["-1"]),
    ("vae train", "--epochs", ["-1"]),
    ("vae train", "--batch-size", ["0"]),
    ("vae train", "--lr", ["0", "-1e-4"]),
    ("vae train", "--hidden", ["0"]),
    ("vae train", "--latent", ["0"]),
    ("vae train", "--beta", ["-0.1"]),
    ("vae train", "--eps-scale", ["-1"]),
    ("vae train", "--threads", ["0"]),
    ("vae train", "--time-budget", ["0", "-5"]),
    ("vae train", "--seed", ["-1"]),
    ("vae eval", "--encode-times", ["0"]),
    ("vae eval", "--decode-times", ["0"]),
    ("vae eval", "--prior-samples", ["0"]),
    ("vae eval", "--threads", ["0"]),
    ("vae sample", "-n", ["0", "-4"]),
    ("vae sample", "--samples", ["0"]),
    ("data split", "--test-fraction", ["0", "1", "-0.1", "1.5"]),
    ("data split", "--skip-first", ["-1"]),
    ("data split", "--seed", ["-1"]),
    ("data sample", "-n", ["0"]),
]


@pytest.mark.parametrize("command, option, value",
                         [(c, o, v) for c, o, values in REFUSED for v in values])
def test_out_of_range_values_are_refused(command: str, option: str, value: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([*BASE[command], f"{option}={value}"])
    assert exc.value.code == 2
    assert f"argument {option}" in capsys.readouterr().err


HONOURED = [  # (command, option, value, attribute, parsed value)
    ("vae train", "--epochs", "0", "epochs", 0),
    ("vae train", "--beta", "0", "beta", 0.0),
    ("vae train", "--eps-scale", "0", "eps_scale", 0.0),
    ("search", "--gpus-per-trial", "0", "gpus_per_trial", 0.0),
    ("search", "--seed", "0", "seed", 0),
    ("data split", "--skip-first", "0", "skip_first", 0),
    ("data show", "--index", "0", "index", 0),
    ("data show", "--index", "-1", "index", -1),   # the last row
    ("search", "--budget", "1", "budget", 1),
    ("search", "--epochs", "1", "epochs", 1),
]


@pytest.mark.parametrize("command, option, value, attribute, expected", HONOURED)
def test_meaningful_zero_and_small_values_are_kept(command, option, value, attribute, expected) -> None:
    args = build_parser().parse_args([*BASE[command], option, value])
    assert getattr(args, attribute) == expected


def test_given_training_values_reach_the_training_config() -> None:
    from graphvae_nas.cli.training_args import training_evaluator
    from graphvae_nas.spaces import get_space

    args = build_parser().parse_args([*BASE["train"], "--epochs", "1", "--train-batch-size", "3",
                                      "--lr", "0.5", "--width", "2", "--cells", "2"])
    evaluator = training_evaluator(args, get_space("nb201"))
    assert (evaluator.config.epochs, evaluator.config.batch_size, evaluator.config.lr) == (1, 3, 0.5)
    assert evaluator.network == {"C": 2, "N": 2}
    args = build_parser().parse_args(BASE["train"])   # nothing given: the recipe
    evaluator = training_evaluator(args, get_space("nb201"))
    assert (evaluator.config.epochs, evaluator.config.batch_size) == (8, 64)


def test_vae_train_with_zero_epochs_needs_weights_to_start_from(tmp_path, capsys) -> None:
    data = tmp_path / "d.jsonl"
    assert main(["data", "sample", "--space", "nb201", "-n", "8", "-o", str(data)]) == 0
    out = tmp_path / "m.pt"
    capsys.readouterr()
    rc = main(["vae", "train", "--dataset", str(data), "--out", str(out), "--epochs", "0"])
    assert rc == 2 and "untrained model" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("parse, good, bad", [
    (positive_int, {"1": 1, "7": 7}, ["0", "-1", "1.5", "x"]),
    (nonnegative_int, {"0": 0, "3": 3}, ["-1", "x"]),
    (positive_float, {"0.5": 0.5, "2": 2.0}, ["0", "-1", "nan", "inf", "x"]),
    (nonnegative_float, {"0": 0.0, "1e-3": 1e-3}, ["-1e-9", "nan", "-inf"]),
    (open_fraction, {"0.1": 0.1, "0.9": 0.9}, ["0", "1", "nan"]),
])
def test_number_types(parse, good, bad) -> None:
    for text, value in good.items():
        assert parse(text) == value
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)
