"""Command line: ``python -m cnnbench {models,train,run,report,bench} ...``."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from cnnbench.bench import PARTS, BenchSettings
from cnnbench.checks import TTA_MODES, check_tta
from cnnbench.config import AUGMENT_POLICIES, PROFILES
from cnnbench.errors import CnnbenchError, TrainingWarning
from cnnbench.plan import STUDIES

DATASET_NAMES = ("mnist", "cifar10", "fashion_mnist", "cifar100")
SOURCES = ("auto", "keras", "data_dir", "sample")


def _add_data_args(p: argparse.ArgumentParser, fraction_default: float = 0.25) -> None:
    p.add_argument("--dataset", default="cifar10", choices=DATASET_NAMES)
    p.add_argument(
        "--data-dir",
        default=None,
        help="folder holding <dataset>.npz (keys x_train, y_train, x_test, y_test); "
        "default: $CNNBENCH_DATA_DIR, else the Keras download",
    )
    p.add_argument(
        "--source",
        default="auto",
        choices=SOURCES,
        help="'sample' uses the small real sample shipped with cnnbench (works offline)",
    )
    p.add_argument("--sample-fraction", type=float, default=fraction_default)
    p.add_argument("--seed", type=int, default=42)


def _cmd_models(args) -> int:
    from cnnbench.data import DATASETS
    from cnnbench.models import describe_models

    shape = {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1)}.get(args.dataset, (32, 32, 3))
    classes = len(DATASETS[args.dataset]["class_names"])
    print(f"models for {args.dataset} (input {shape}, {classes} classes):")
    for row in describe_models(shape, classes):
        print(f"  {row['name']:<16} {row['params']:>12,} params  {row['description']}")
    return 0


def _cmd_train(args) -> int:
    from cnnbench.artifacts import write_json
    from cnnbench.data import load_dataset
    from cnnbench.evaluation import evaluate
    from cnnbench.hardware import environment_info
    from cnnbench.models import build_model
    from cnnbench.training import configure_precision, set_seed, train

    ds = load_dataset(
        args.dataset,
        sample_fraction=args.sample_fraction,
        seed=args.seed,
        data_dir=args.data_dir,
        source=args.source,
    )
    tta = check_tta(ds, args.tta)  # before training, so a bad flag costs no training time
    print(
        f"{ds.name}: {len(ds.x_train)} train / {len(ds.x_val)} val / {len(ds.x_test)} test "
        f"images, source {ds.source} ({ds.variant})"
    )
    precision = configure_precision(args.precision)
    set_seed(args.seed)
    model = build_model(args.model, ds.input_shape, ds.num_classes)
    with warnings.catch_warnings():  # the summary below states it without a traceback line
        warnings.simplefilter("ignore", TrainingWarning)
        run = train(
            model,
            ds,
            epochs=args.epochs,
            batch_size=args.batch_size,
            augment=args.augment,
            augment_policy=args.augment_policy,
            seed=args.seed,
            recipe=args.recipe,
            early_stopping=args.early_stopping,
            verbose=args.verbose,
        )
    ev = evaluate(model, ds, tta=tta)
    env = environment_info()
    name = f"{ds.name}_{args.model}{'_aug' if args.augment else ''}"
    if args.augment and args.augment_policy != "original":  # keep each policy's JSON apart
        name += f"_{args.augment_policy}"
    out = Path(args.output or Path("artifacts") / "train" / f"{name}.json")
    write_json(
        out,
        {
            "environment": env,
            "precision": precision,
            "dataset": ds.describe(),
            "train": run.to_dict(),
            "evaluation": ev.to_dict(),
        },
    )
    augmentation = f"with {args.augment_policy} augmentation" if args.augment else "no augmentation"
    print(
        f"\n{args.model} on {ds.name} ({augmentation}), "
        f"{env['hardware']}, data: {ds.variant}\n"
        f"  test accuracy {ev.accuracy:.2%}{f' ({tta} TTA)' if tta else ''}  loss {ev.loss:.4f}  "
        f"(best val {run.best_val_accuracy:.2%} at epoch {run.best_epoch}/{run.epochs_run})\n"
        f"  recipe: {run.config['recipe']['reason']}\n"
        f"  params {ev.params:,}  FLOPs/image {ev.flops / 1e6:.1f} M\n"
        f"  training {run.train_time_s:.1f} s ({run.images_per_second:.0f} img/s)  "
        f"latency {ev.latency_ms:.2f} ms/img  throughput {ev.throughput_ips:.0f} img/s\n"
        f"  written to {out}" + (f"\n  warning: {run.warning}" if run.warning else "")
    )
    return 0


def _epoch_table(values: list[int] | None, datasets: list[str], default: dict) -> dict:
    if values is None:
        return default
    if len(values) != len(datasets):
        raise CnnbenchError(f"give one epoch count per dataset {datasets}, got {values}")
    return dict(zip(datasets, values, strict=True))


def _cmd_bench(args) -> int:
    from cnnbench.artifacts import replace_block
    from cnnbench.bench import markdown_report, parse_seeds, report_files, run_benchmark

    settings = BenchSettings(
        datasets=tuple(args.datasets),
        source=args.source,
        data_dir=args.data_dir,
        seeds=parse_seeds(args.seeds),  # a ConfigError before any work starts
        throughput_images=args.throughput_images,
        ours_epochs=_epoch_table(args.ours_epochs, args.datasets, BenchSettings().ours_epochs),
        original_epochs=_epoch_table(
            args.original_epochs, args.datasets, BenchSettings().original_epochs
        ),
        parts=tuple(args.parts),
    )
    report = run_benchmark(settings, args.output)
    for stem, part in report_files(report).items():
        text = markdown_report(part)
        print(text)
        if args.readme:  # README blocks "bench" and "small_data", one per report file
            replace_block(args.readme, stem, text)
            print(f"{stem} block of {args.readme} rewritten")
    return 0


def _profile_overrides(args) -> dict:
    names = ("epochs", "sample_fraction", "val_fraction", "test_fraction", "batch_size")
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _cmd_run(args) -> int:
    from cnnbench.config import get_profile
    from cnnbench.discussion import summary_markdown
    from cnnbench.report import comparison_markdown, write_report
    from cnnbench.runner import resolve_profile, run_study

    profile = get_profile(resolve_profile(args.profile), **_profile_overrides(args))
    study = run_study(
        profile,
        study=args.study,
        models=args.models,
        images=args.images,
        data_dir=args.data_dir,
        seed=args.seed,
        artifacts=args.artifacts,
        study_name=args.study_name,
        datasets=args.datasets,
        seeds=args.seeds,
        epochs_scale=args.epochs_scale,
        precision=args.precision,
        force=args.force,
        verbose=args.verbose,
        estimate=args.estimate,
    )
    paths = write_report(study)
    print(f"\n{comparison_markdown(study)}\n{summary_markdown(study)}")
    print(f"report written to {study.path}: {', '.join(paths)}")
    return 0


def _cmd_report(args) -> int:
    from cnnbench.artifacts import replace_block
    from cnnbench.report import (
        comparison_markdown,
        find_studies,
        headline_markdown,
        readme_markdown,
        write_report,
    )
    from cnnbench.store import load_study

    studies = find_studies(args.artifacts_dir)
    for option in ("readme", "headline"):
        if getattr(args, option) and len(studies) != 1:
            raise CnnbenchError(
                f"--{option} needs one study folder, found {len(studies)}: {studies}"
            )
    for path in studies:
        study = load_study(path)
        paths = write_report(study, k=args.k)
        print(f"{path}\n\n{comparison_markdown(study)}")
        if args.readme:  # one block per study, named after its folder: results:quick, ...
            block = f"results:{Path(path).name}"
            replace_block(args.readme, block, readme_markdown(study, args.k))
            print(f"{block} block of {args.readme} rewritten")
        if args.headline:  # the README's one results table
            replace_block(args.headline, "headline", headline_markdown(study))
            print(f"headline block of {args.headline} rewritten")
        if study.missing():
            print(f"incomplete: {len(study.missing())} experiment(s) not finished\n")
        print(f"written: {', '.join(str(p) for p in paths.values())}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cnnbench",
        description="Lightweight CNNs vs. an AlexNet-style network on MNIST and CIFAR-10.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list the models with their parameter counts")
    p.add_argument("--dataset", default="cifar10", choices=DATASET_NAMES)
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("train", help="train and evaluate one model, write a JSON summary")
    _add_data_args(p)
    p.add_argument("--model", default="custom")
    p.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    p.add_argument("--batch-size", type=int, default=None, help="default: the recipe's")
    p.add_argument("--augment", action="store_true", help="augment the training data")
    p.add_argument(
        "--augment-policy",
        default="original",
        choices=AUGMENT_POLICIES,
        help="with --augment: the original study's rotation/shift/zoom/flip (default), "
        "random crop + flip + Cutout, or flip + shift by up to 2 pixels (airbench94's)",
    )
    p.add_argument(
        "--recipe",
        default="auto",
        help="auto (fast for BatchNorm models, else fast_plain), fast, fast_plain, plain_long "
        "(fast_plain for 50-epoch runs: batch 64, weight decay 0.1) or original",
    )
    p.add_argument(
        "--early-stopping",
        type=int,
        default=None,
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without validation improvement",
    )
    p.add_argument("--precision", default="auto", help="auto, float32, mixed_float16, ...")
    p.add_argument(
        "--tta",
        nargs="?",
        const="flip",
        default=None,
        choices=list(TTA_MODES),
        help="test-time augmentation: average test predictions over mirrored images (flip, "
        "the default when given bare), shifted ones (translate), or both (flip_translate)",
    )
    p.add_argument("--output", default=None, help="JSON path (default artifacts/train/...)")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "bench", help="time cnnbench against the original pipeline and recipe, side by side"
    )
    p.add_argument(
        "--datasets", nargs="+", default=["cifar10", "mnist"], choices=("cifar10", "mnist")
    )
    p.add_argument("--data-dir", default=None, help="folder holding <dataset>.npz")
    p.add_argument("--source", default="auto", choices=SOURCES)
    p.add_argument(
        "--seeds",
        default=",".join(map(str, BenchSettings().seeds)),
        metavar="S1,S2,...",
        help="training seeds, comma-separated, distinct, non-negative (default 42,43,44): every "
        "time-to-accuracy run is made once per seed on each side and the speed-ups are paired "
        "by seed; the throughput and small-data parts use the first; the data sample stays "
        f"seed {BenchSettings().data_seed}'s",
    )
    p.add_argument(
        "--throughput-images",
        type=int,
        default=6400,
        help="images pushed through each pipeline for the img/s figures",
    )
    p.add_argument(
        "--ours-epochs",
        type=int,
        nargs="+",
        default=None,
        help="cnnbench's epoch budget per dataset (default: train()'s own default)",
    )
    p.add_argument(
        "--original-epochs",
        type=int,
        nargs="+",
        default=None,
        help="the original recipe's epoch budget per dataset (default: 30 / 6)",
    )
    p.add_argument(
        "--parts",
        nargs="+",
        default=list(PARTS),
        choices=PARTS,
        help="which measurements to run (default: all; small_data takes ~30 min on 2 cores)",
    )
    p.add_argument("--output", default="benchmarks/results", help="folder for bench.json/.md")
    p.add_argument("--readme", default=None, help="also rewrite this file's bench block")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser(
        "run",
        help="run (or resume) the whole study, then write its report",
        description="Profiles: "
        + "; ".join(f"{name}: {prof.description}" for name, prof in PROFILES.items())
        + ". Studies: "
        + "; ".join(f"{name}: {spec.description}" for name, spec in STUDIES.items())
        + ". Finished experiments are skipped on a rerun unless their config changed.",
    )
    p.add_argument(
        "--study", default="original", choices=tuple(STUDIES), help="which grid (default original)"
    )
    p.add_argument(
        "--models",
        default=None,
        metavar="A,B,...",
        help="replace the study's models (registered names; chosen_variant for the variant "
        "chosen on validation)",
    )
    p.add_argument(
        "--images",
        default=None,
        metavar="DIR",
        help="image folder for the classic_alexnet study: DIR/<class>/* (a stratified test split "
        "is carved from it) or DIR/train/<class>/* + DIR/test/<class>/*",
    )
    p.add_argument(
        "--profile",
        default="auto",
        choices=("auto", *PROFILES),
        help="'auto' (default): 'standard' with a GPU, 'quick' without",
    )
    p.add_argument(
        "--datasets", nargs="+", default=None, metavar="DATASET", help="default: the study's"
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="folder holding <dataset>.npz, for profiles reading real data (not 'demo')",
    )
    p.add_argument("--artifacts", default="artifacts", help="artifacts root (default artifacts)")
    p.add_argument(
        "--study-name",
        default=None,
        help="subfolder name (default: the profile's for original, else <study>_<profile>)",
    )
    p.add_argument("--seed", type=int, default=42, help="data sample seed and first train seed")
    p.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="train every experiment with N seeds (seed, seed+1, ...; default: the profile's)",
    )
    p.add_argument("--epochs-scale", type=float, default=None, help="multiply every epoch budget")
    p.add_argument("--epochs", type=int, default=None, help="set every epoch budget to N")
    p.add_argument("--sample-fraction", type=float, default=None, help="override the profile's")
    p.add_argument("--val-fraction", type=float, default=None, help="override the profile's")
    p.add_argument("--test-fraction", type=float, default=None, help="override the profile's")
    p.add_argument("--batch-size", type=int, default=None, help="override the profile's")
    p.add_argument("--precision", default="auto", help="auto, float32, mixed_float16, ...")
    p.add_argument("--force", action="store_true", help="recompute finished experiments too")
    p.add_argument(
        "--verbose",
        type=int,
        default=0,
        choices=(0, 1, 2),
        help="Keras' output inside each training (the study's progress bar shows regardless)",
    )
    p.add_argument(
        "--no-estimate",
        dest="estimate",
        action="store_false",
        help="skip timing the models before training (the plan's estimated duration)",
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("report", help="rebuild a study's tables from its artifacts alone")
    p.add_argument("artifacts_dir", help="a study folder (artifacts/<study>) or the artifacts root")
    p.add_argument("--k", type=int, default=3, help="how many weakest classes to name")
    p.add_argument(
        "--readme",
        default=None,
        help="also rewrite this file's block <!-- cnnbench:results:STUDY:start/end --> (STUDY: "
        "the study folder's name)",
    )
    p.add_argument(
        "--headline",
        default=None,
        help="also rewrite this file's block <!-- cnnbench:headline:start/end --> with the "
        "study's test accuracy per model, without and with augmentation (the README's table)",
    )
    p.set_defaults(func=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CnnbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
