"""``graphvae-nas data ...``: import, merge, dedupe, stats, split, sample, show, pareto, fetch."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from graphvae_nas.cli.paths import declare_paths
from graphvae_nas.cli.numbers import nonnegative_int, open_fraction, positive_float, positive_int
from graphvae_nas.datasets import (
    ArchitectureDataset,
    dvae_bn_split,
    dvae_enas_split,
    load_dataset,
    merge_datasets,
    random_split,
    read_dvae_enas,
    read_table,
    save_dataset,
)
from graphvae_nas.datasets.importers import ImportReport
from graphvae_nas.errors import DataFormatError
from graphvae_nas.spaces import available_spaces, get_space, sample_distinct
from graphvae_nas.spaces.base import as_rng

MAX_ENUMERATE = 1_000_000
SPACE_HELP = (f"search space: one of {available_spaces()}, optionally with parameters, e.g. "
              "'enas:num_layers=12' or 'dag:ops=conv,pool;max_nodes=8'")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="architecture-dataset tooling")
    sub = data.add_subparsers(dest="data_command", required=True, metavar="COMMAND")

    p = sub.add_parser("import", help="import a benchmark file (CSV table or D-VAE ENAS text)")
    p.add_argument("file", help="the benchmark file")
    p.add_argument("--space", required=True, help=SPACE_HELP)
    p.add_argument("-o", "--out", required=True, help="output dataset (.jsonl or .jsonl.gz)")
    p.add_argument("--format", choices=["auto", "table", "dvae-enas"], default="auto",
                   help="auto: .csv/.tsv are tables; other files of the enas space are D-VAE text")
    p.add_argument("--arch-column", help="table column holding architectures (default: guessed)")
    p.add_argument("--metrics", help="comma-separated metric columns (default: all others)")
    p.add_argument("--prefix", default="", help="prefix added to every metric name")
    p.add_argument("--metric-name", default="valid_acc", help="D-VAE text: name of the score")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip malformed lines (reported with reasons) instead of stopping")
    p.add_argument("--missing-value", action="append", default=[], metavar="[COLUMN=]VALUE",
                   help="tables: VALUE in COLUMN (in every metric column without COLUMN=) means "
                        "missing, e.g. edgetpu_latency=-1; repeatable")
    p.add_argument("--dedupe", action="store_true",
                   help="keep the first of isomorphic duplicates (without it, a table holding one "
                        "architecture twice with different metrics is refused)")
    p.set_defaults(func=cmd_import)
    declare_paths(p, inputs=("file",), outputs=("out",))

    p = sub.add_parser("merge", help="merge datasets of one space by canonical hash")
    p.add_argument("files", nargs="+", help="datasets of one space to merge")
    p.add_argument("-o", "--out", required=True, help="output dataset (.jsonl or .jsonl.gz)")
    p.add_argument("--how", choices=["outer", "inner"], default="outer",
                   help="outer: every architecture of any file; inner: only those in all files")
    p.set_defaults(func=cmd_merge)
    declare_paths(p, inputs=("files",), outputs=("out",))

    p = sub.add_parser("dedupe", help="drop architectures isomorphic to an earlier one")
    p.add_argument("file", help="the dataset")
    p.add_argument("-o", "--out", required=True, help="output dataset (.jsonl or .jsonl.gz)")
    p.set_defaults(func=cmd_dedupe)
    declare_paths(p, inputs=("file",), outputs=("out",))

    p = sub.add_parser("stats", help="count, unique and per-metric min/max/mean")
    p.add_argument("file", help="the dataset")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("split", help="deterministic train/test split")
    p.add_argument("file", help="the dataset")
    p.add_argument("--protocol", choices=["random", "dvae-enas", "dvae-bn"], default="random",
                   help="dvae-enas: skip 1,000 lines, shuffle with Random(0), 90/10; "
                        "dvae-bn: shuffle every line with Random(0), 90/10")
    p.add_argument("--test-fraction", type=open_fraction, default=0.1,
                   help="share of the records in the test set (random protocol)")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="seed of the shuffle (random protocol)")
    p.add_argument("--skip-first", type=nonnegative_int, default=0,
                   help="records dropped from the start before splitting (random protocol)")
    p.add_argument("--train-out", required=True, help="training dataset to write")
    p.add_argument("--test-out", required=True, help="test dataset to write")
    p.set_defaults(func=cmd_split)
    declare_paths(p, inputs=("file",), outputs=("train_out", "test_out"))

    p = sub.add_parser("sample", help="sample architectures of a space, or records of a dataset")
    p.add_argument("file", nargs="?", help="dataset to sample from (else --space)")
    p.add_argument("--space", help=SPACE_HELP)
    p.add_argument("-n", "--num", type=positive_int, default=100, help="how many (distinct)")
    p.add_argument("--all", action="store_true", help="every architecture of a finite space")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the sample")
    p.add_argument("--score", choices=["bic", "bdeu", "loglik"],
                   help="bn spaces: score every sampled structure on the space's data (bn:data=FILE)")
    p.add_argument("--score-data", help="with --score: CSV to score on instead of the space's data=")
    p.add_argument("--iss", type=positive_float, default=1.0,
                   help="with --score bdeu: imaginary sample size")
    p.add_argument("-o", "--out", required=True, help="output dataset (.jsonl or .jsonl.gz)")
    p.set_defaults(func=cmd_sample)
    declare_paths(p, inputs=("file", "score_data"), outputs=("out",))

    p = sub.add_parser("show", help="print an architecture (and draw it with --png)")
    p.add_argument("file", nargs="?", help="dataset to show a record of")
    p.add_argument("--index", type=int, help="row number (default 0; negative counts from the end)")
    p.add_argument("--hash", help="canonical hash of the record")
    p.add_argument("--best", metavar="METRIC", help="the record with the highest METRIC")
    p.add_argument("--space", help=SPACE_HELP + " (with --arch)")
    p.add_argument("--arch", help="a native architecture string of --space")
    p.add_argument("--png", help="draw the architecture to this PNG (needs the viz extra)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_show)
    declare_paths(p, inputs=("file",), outputs=("png",))

    p = sub.add_parser("pareto", help="the exact Pareto front of a table over several objectives")
    p.add_argument("file", help="dataset (.jsonl or .jsonl.gz)")
    p.add_argument("--objective", action="append", required=True, metavar="NAME[:max|min]",
                   help="a metric column, maximised unless ':min' is added; repeat (at least two), "
                        "e.g. --objective cifar10_valid:max --objective hw_edgegpu_latency:min")
    p.add_argument("--json", action="store_true",
                   help="print JSON (front, hypervolume, reference point)")
    p.add_argument("--png", help="draw the front to this PNG (two objectives; needs the viz extra)")
    p.set_defaults(func=cmd_pareto)
    declare_paths(p, inputs=("file",), outputs=("png",))

    p = sub.add_parser("fetch", help="download an image dataset (CIFAR) and check its md5")
    p.add_argument("name", help="cifar10 or cifar100 (digits ships with scikit-learn)")
    p.add_argument("--data-dir", help="folder to put the archive in (made if missing)")
    p.add_argument("--base-url", help="mirror to download from (default: the official site)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_fetch)


def _check_outputs(*paths: str | None) -> None:
    """Fail before any work when an output's folder does not exist."""
    for path in paths:
        if path is not None and not Path(path).resolve().parent.is_dir():
            raise DataFormatError(
                f"cannot write: folder {str(Path(path).parent)!r} does not exist", path=path)
        if path is not None and Path(path).is_dir():
            raise DataFormatError("cannot write: this is a folder; give a file name", path=path)


def _report(report: ImportReport) -> None:
    print(report.summary(), file=sys.stderr)
    for skipped in report.skipped[:20]:
        print(f"  skipped line {skipped.line}: {skipped.reason}", file=sys.stderr)
    if len(report.skipped) > 20:
        print(f"  ... and {len(report.skipped) - 20} more", file=sys.stderr)


def _save(dataset: ArchitectureDataset, out: str) -> None:
    save_dataset(dataset, out)
    print(f"wrote {len(dataset)} records to {out}", file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> None:
    _check_outputs(args.out)
    space = get_space(args.space)
    fmt = args.format
    if fmt == "auto":
        name = args.file.lower().removesuffix(".gz")
        if name.endswith((".csv", ".tsv")):
            fmt = "table"
        elif space.spec()["name"] == "enas":
            fmt = "dvae-enas"
        else:
            raise DataFormatError("cannot tell the file format; pass --format", path=args.file)
    if fmt == "dvae-enas":
        report = read_dvae_enas(args.file, space, metric=args.prefix + args.metric_name,
                                skip_bad=args.skip_bad)
    else:
        metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
        report = read_table(args.file, space, arch_column=args.arch_column, metrics=metrics,
                            prefix=args.prefix, skip_bad=args.skip_bad,
                            missing_values=_missing_values(args.missing_value),
                            conflicts="keep" if args.dedupe else "error")
    _report(report)
    dataset = report.dataset
    if args.dedupe:
        dataset, dropped = dataset.dedupe()
        print(f"dropped {len(dropped)} duplicates", file=sys.stderr)
    _save(dataset, args.out)


def _missing_values(items: list[str]) -> dict[str, list[str]]:
    """``--missing-value [COLUMN=]VALUE`` options as read_table's ``missing_values``."""
    out: dict[str, list[str]] = {}
    for item in items:
        column, sep, value = item.rpartition("=")
        out.setdefault(column.strip() if sep else "*", []).append(value.strip())
    return out


def cmd_merge(args: argparse.Namespace) -> None:
    _check_outputs(args.out)
    datasets = [load_dataset(f) for f in args.files]
    merged = merge_datasets(datasets, how=args.how, names=args.files)
    _save(merged, args.out)


def cmd_dedupe(args: argparse.Namespace) -> None:
    _check_outputs(args.out)
    dataset, dropped = load_dataset(args.file).dedupe()
    for row, kept in dropped:
        print(f"  row {row} duplicates row {kept}", file=sys.stderr)
    print(f"dropped {len(dropped)} duplicates", file=sys.stderr)
    _save(dataset, args.out)


def cmd_stats(args: argparse.Namespace) -> None:
    stats = load_dataset(args.file).stats()
    if args.json:
        print(json.dumps(stats, indent=2))
        return
    print(f"space: {stats['space']}")
    print(f"count: {stats['count']}  unique: {stats['unique']}")
    for name, entry in stats["metrics"].items():
        if entry["count"]:
            print(f"  {name}: n={entry['count']} min={entry['min']:.6g} max={entry['max']:.6g} "
                  f"mean={entry['mean']:.6g}")
        else:
            print(f"  {name}: no values")


def cmd_pareto(args: argparse.Namespace) -> None:
    from graphvae_nas.search.objectives import as_objectives
    from graphvae_nas.experiments.nb201 import REFERENCE_POINTS
    from graphvae_nas.search.pareto import front_hypervolume, reference_point, table_front

    objectives = as_objectives(args.objective)
    if len(objectives) < 2:
        raise DataFormatError("a Pareto front needs at least two --objective options",
                              field="objective")
    if args.png and len(objectives) != 2:
        raise DataFormatError("--png draws two objectives only", field="png")
    _check_outputs(args.png)
    dataset = load_dataset(args.file)
    front = table_front(dataset, objectives)
    ref = reference_point(objectives, [v for _, v in front], known=REFERENCE_POINTS)
    volume = front_hypervolume(objectives, [v for _, v in front], ref)
    if args.png:
        from graphvae_nas.viz import plot_fronts

        plot_fronts(objectives, [v for _, v in front], {}, args.png,
                    title=f"{Path(args.file).name}: exact front")
        print(f"drew the front to {args.png}", file=sys.stderr)
    if args.json:
        print(json.dumps({"objectives": [o.to_dict() for o in objectives],
                          "reference_point": ref.to_dict(), "hypervolume": volume,
                          "front": [{"arch": dataset.space.format(a), "hash": a.canonical_hash,
                                     "values": v} for a, v in front]}, indent=2))
        return
    names = ", ".join(map(str, objectives))
    print(f"exact Pareto front of {args.file} ({names}): {len(front)} architectures; "
          f"hypervolume {volume:.6g} from {ref.source} reference point {ref.values}")
    for arch, values in front:
        shown = "  ".join(f"{o.name} {values[o.name]:.6g}" for o in objectives)
        print(f"  {shown}  {dataset.space.format(arch)}")


def cmd_split(args: argparse.Namespace) -> None:
    _check_outputs(args.train_out, args.test_out)
    dataset = load_dataset(args.file)
    if args.protocol == "dvae-enas":
        train, test = dvae_enas_split(dataset)
    elif args.protocol == "dvae-bn":
        train, test = dvae_bn_split(dataset)
    else:
        train, test = random_split(dataset, args.test_fraction, args.seed, args.skip_first)
    _save(train, args.train_out)
    _save(test, args.test_out)


def cmd_sample(args: argparse.Namespace) -> None:
    _check_outputs(args.out)
    rng = as_rng(args.seed)
    if args.file:
        if args.score:
            raise DataFormatError("--score scores structures sampled from --space, not a dataset file",
                                  field="score")
        dataset = load_dataset(args.file)
        if args.all or args.num >= len(dataset):
            _save(dataset, args.out)
            return
        _save(dataset.subset(sorted(rng.sample(range(len(dataset)), args.num))), args.out)
        return
    if not args.space:
        raise DataFormatError("give a dataset file or --space", field="space")
    space = get_space(args.space)
    if args.all:
        enumerate_all = getattr(space, "enumerate", None)
        size = getattr(space, "size", lambda: None)()
        if enumerate_all is None or size is None or size > MAX_ENUMERATE:
            count = "an unknown number of" if size is None else f"{size:,}"
            raise DataFormatError(
                f"--all lists at most {MAX_ENUMERATE:,} architectures; space {space.spec()} has "
                f"{count}; use -n to sample instead", field="all")
        archs = list(enumerate_all())
    else:
        archs = sample_distinct(space, args.num, rng)
    provenance = [{"sampled_from": space.spec(), "seed": args.seed, "all": bool(args.all)}]
    metrics = _bn_scores(space, archs, args, provenance) if args.score else None
    _save(ArchitectureDataset.from_architectures(space, archs, metrics, provenance=provenance),
          args.out)


def _bn_scores(space: object, archs: list, args: argparse.Namespace,
               provenance: list[dict]) -> dict[str, object]:
    """``--score``: the score column of Bayesian-network structures (records the data used)."""
    from graphvae_nas.evaluation.bic import BNScoreEvaluator
    from graphvae_nas.spaces.bn import BayesianNetworkSpace

    if not isinstance(space, BayesianNetworkSpace):
        raise DataFormatError("--score applies to Bayesian-network spaces (--space bn:data=FILE.csv)",
                              field="score")
    evaluator = BNScoreEvaluator(space, args.score_data, score=args.score, iss=args.iss)
    provenance.append({"scored_on": evaluator.spec()})
    return {args.score: evaluator.score_many(archs)}


def cmd_show(args: argparse.Namespace) -> None:
    if args.arch is not None:
        if not args.space:
            raise DataFormatError("--arch needs --space", field="space")
        space = get_space(args.space)
        arch = space.parse(args.arch)
        record = {"arch": space.format(arch), "hash": arch.canonical_hash, "metrics": {},
                  "source": "command line"}
    elif args.file:
        dataset = load_dataset(args.file)
        row = _select_row(dataset, args)
        rec = dataset[row]
        space, arch = dataset.space, rec.arch
        record = {"row": row, "arch": rec.native, "hash": rec.hash, "metrics": rec.metrics,
                  "source": rec.source}
    else:
        raise DataFormatError("give a dataset file, or --space with --arch")
    record["space"] = space.spec()
    record["ops"] = list(arch.ops)
    record["edges"] = [list(e) for e in arch.edges]
    if args.png:
        from graphvae_nas.viz import draw

        draw(space, arch, args.png, title=record["arch"])
        record["png"] = str(Path(args.png))
    if args.json:
        print(json.dumps(record, indent=2))
        return
    for key in ("row", "space", "arch", "hash", "source"):
        if key in record:
            print(f"{key}: {record[key]}")
    print("nodes:")
    preds = arch.predecessors()
    for i, op in enumerate(arch.ops):
        print(f"  {i}: {op}" + (f"  <- {preds[i]}" if preds[i] else ""))
    for name, value in record["metrics"].items():
        print(f"  {name} = {value:g}")
    if args.png:
        print(f"drawing: {args.png}")


def _select_row(dataset: ArchitectureDataset, args: argparse.Namespace) -> int:
    if args.hash is not None:
        index = dataset.index_by_hash()
        if args.hash not in index:
            raise DataFormatError(f"no record with hash {args.hash!r}", path=args.file, field="hash")
        return index[args.hash]
    if args.best is not None:
        import numpy as np

        values = dataset.metric(args.best)
        if np.isnan(values).all():
            raise DataFormatError(f"metric {args.best!r} has no values", path=args.file, field=args.best)
        return int(np.nanargmax(values))
    row = args.index or 0
    if not -len(dataset) <= row < len(dataset):
        raise DataFormatError(f"row {row} outside 0..{len(dataset) - 1}", path=args.file, field="index")
    return row % len(dataset)


def cmd_fetch(args: argparse.Namespace) -> None:
    from graphvae_nas.evaluation.images import ARCHIVE_MD5, fetch_dataset

    key = args.name.strip().lower()
    if key == "digits":
        print("digits is bundled with scikit-learn: nothing to fetch")
        return
    if args.data_dir is None and key in ARCHIVE_MD5:
        raise DataFormatError(f"fetching {key} needs --data-dir", field="data_dir")
    path = fetch_dataset(args.name, args.data_dir or ".", base_url=args.base_url,
                         progress=not args.no_progress)
    print(f"archive: {path}")
    print(f"md5: {ARCHIVE_MD5[key]} (verified)")
